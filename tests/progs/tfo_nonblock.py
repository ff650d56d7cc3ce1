# SPDX-License-Identifier: GPL-2.0
"""A nonblocking Fast Open client, as event loops write one.

    tfo_nonblock.py PORT [COUNT] [--keep-open]

COUNT times (default 2): a nonblocking TCP socket, sendto(data,
MSG_FASTOPEN, ("127.0.0.1", PORT)). Without a cookie the kernel sends a SYN
with a cookie request and the call fails with EINPROGRESS (nothing sent):
wait until the socket is writable and send the data again. With a cookie the
call returns the bytes it put in the SYN. Then read the reply and close.
Prints "tfo_nonblock.py pid=N", then one line per sendto:
"sendto ret=N errno=NAME". --keep-open: read no reply between the
connections; at the end wait (up to 5 s) for the last one's reply, then close
them all.
"""
import errno
import os
import select
import socket
import sys


def say(line):
    """One line in one write(2): tracer's JSON lines share this stdout, and
    print() writes the text and its newline separately."""
    os.write(1, (line + "\n").encode())

REQUEST = b"GET / HTTP/1.0\r\n\r\n"


def one(to, keep_open):
    s = socket.socket()
    s.setblocking(False)
    try:
        ret, err = s.sendto(REQUEST, socket.MSG_FASTOPEN, to), "none"
    except OSError as e:
        ret, err = -1, errno.errorcode.get(e.errno, str(e.errno))
    say(f"sendto ret={ret} errno={err}")
    if ret < 0:
        select.select([], [s], [], 5)
        s.send(REQUEST)
    if keep_open:
        return s
    select.select([s], [], [], 5)
    s.recv(4096)
    s.close()
    return None


def main(argv):
    keep_open = "--keep-open" in argv
    argv = [a for a in argv if a != "--keep-open"]
    to = ("127.0.0.1", int(argv[1]))
    say(f"tfo_nonblock.py pid={os.getpid()}")
    kept = [one(to, keep_open) for _ in range(int(argv[2]) if len(argv) > 2
                                              else 2)]
    if keep_open:
        select.select([kept[-1]], [], [], 5)
        for s in kept:
            s.close()


if __name__ == "__main__":
    main(sys.argv)
