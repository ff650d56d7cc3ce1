# SPDX-License-Identifier: GPL-2.0
"""A nonblocking Fast Open client, as event loops write one.

    tfo_nonblock.py PORT [COUNT]

COUNT times (default 2): a nonblocking TCP socket, sendto(data,
MSG_FASTOPEN, ("127.0.0.1", PORT)). Without a cookie the kernel sends a SYN
with a cookie request and the call fails with EINPROGRESS (nothing sent):
wait until the socket is writable and send the data again. With a cookie the
call returns the bytes it put in the SYN. Then read the reply and close.
Prints "tfo_nonblock.py pid=N", then one line per sendto:
"sendto ret=N errno=NAME".
"""
import errno
import os
import select
import socket
import sys

REQUEST = b"GET / HTTP/1.0\r\n\r\n"


def one(to):
    s = socket.socket()
    s.setblocking(False)
    try:
        ret, err = s.sendto(REQUEST, socket.MSG_FASTOPEN, to), "none"
    except OSError as e:
        ret, err = -1, errno.errorcode.get(e.errno, str(e.errno))
    print(f"sendto ret={ret} errno={err}", flush=True)
    select.select([], [s], [], 5)
    if ret < 0:
        s.send(REQUEST)
    select.select([s], [], [], 5)
    s.recv(4096)
    s.close()


def main(argv):
    to = ("127.0.0.1", int(argv[1]))
    print(f"tfo_nonblock.py pid={os.getpid()}", flush=True)
    for _ in range(int(argv[2]) if len(argv) > 2 else 2):
        one(to)


if __name__ == "__main__":
    main(sys.argv)
