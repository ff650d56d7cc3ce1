#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fast Open's blackhole detection, set off and then met:

    tfo_blackhole.py ADDR PORT

ADDR must swallow every frame (a route through a dummy device does). Send 1
is a blocking sendto(MSG_FASTOPEN) with TCP_SYNCNT 1: its SYN (with a cookie
request) times out after about 3 s, and tcp_fastopen_active_detect_blackhole()
pauses active Fast Open in the namespace (if
net.ipv4.tcp_fastopen_blackhole_timeout_sec is not 0). Send 2 is a
nonblocking sendto(MSG_FASTOPEN) to the same place while the pause lasts:
tcp_fastopen_active_should_disable() makes its SYN a plain one.

Prints one JSON line per send, {"pid":N,"send":I,"errno":"NAME"} ("" when
the call succeeded), each in one write(2), and exits 0.
"""
import errno
import json
import os
import socket
import sys

MSG_FASTOPEN = 0x20000000


def report(i, err):
    line = json.dumps({"pid": os.getpid(), "send": i,
                       "errno": errno.errorcode.get(err, "") if err else ""})
    os.write(1, (line + "\n").encode())


def send(i, dest, blocking):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
    s.setblocking(blocking)
    try:
        s.sendto(b"blackhole", MSG_FASTOPEN, dest)
        report(i, 0)
    except OSError as e:
        report(i, e.errno)
    s.close()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: tfo_blackhole.py ADDR PORT")
    dest = (sys.argv[1], int(sys.argv[2]))
    send(1, dest, True)
    send(2, dest, False)


if __name__ == "__main__":
    main()
