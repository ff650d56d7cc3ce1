#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The field report's failing client in Python (same output as tfo_client.c).

    tfo_client.py PORT [--plain]

socket.sendmsg() calls libc sendmsg(), socket.sendto() calls libc sendto():
1. sendmsg([data], [], MSG_FASTOPEN) on a fresh TCP socket: no address, EINVAL.
2. sendto(data, MSG_FASTOPEN, ("127.0.0.1", PORT)) on another TCP socket.
3. With --plain: sendto(data, 0, ("127.0.0.1", PORT)) on a UDP socket.
"""
import errno
import os
import socket
import sys


def say(line):
    """One line in one write(2): tracer's JSON lines share this stdout, and
    print() writes the text and its newline separately."""
    os.write(1, (line + "\n").encode())

PAYLOAD = b"tfo_client.py"


def report(call, sock, flags, addrlen, send):
    try:
        ret, err = send(), "none"
    except OSError as e:
        ret, err = -1, errno.errorcode.get(e.errno, str(e.errno))
    print(f"{call} sock={sock} flags={flags:#x} addrlen={addrlen} "
          f"ret={ret} errno={err}", flush=True)


def main(argv):
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "--plain"):
        sys.exit("usage: tfo_client.py PORT [--plain]")
    to = ("127.0.0.1", int(argv[1]))
    fastopen = socket.MSG_FASTOPEN
    say(f"tfo_client.py pid={os.getpid()}")

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        report("sendmsg", "tcp", fastopen, 0,
               lambda: s.sendmsg([PAYLOAD], [], fastopen))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        report("sendto", "tcp", fastopen, 16,
               lambda: s.sendto(PAYLOAD, fastopen, to))
    if len(argv) == 3:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            report("sendto", "udp", 0, 16, lambda: s.sendto(PAYLOAD, 0, to))


if __name__ == "__main__":
    main(sys.argv)
