# SPDX-License-Identifier: GPL-2.0
"""A small HTTP server for the Fast Open tests.

    tfo_server.py READY_FILE [--no-fastopen] [--port N] [--hold]

Listens on 127.0.0.1 (port N, or one the kernel picks), with the
TCP_FASTOPEN socket option (queue length 16) unless --no-fastopen, writes
its port to READY_FILE, then answers every connection with a short HTTP/1.0
reply until killed. --hold: a backlog of 0 (the kernel queues one
connection and drops the SYNs of the next ones), and no accept() until,
after the first connection was queued, the namespace's TcpExt
ListenOverflows counter shows a SYN dropped (or 10 s passed). Each accepted connection prints one line on stdout:
"accepted bytes=N" (what the first read returned).
"""
import os
import select
import socket
import sys
import time


def say(line):
    """One line in one write(2): tracer's JSON lines share this stdout, and
    print() writes the text and its newline separately."""
    os.write(1, (line + "\n").encode())

TCP_FASTOPEN = 23


def listen_overflows():
    with open("/proc/self/net/netstat") as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            return dict(zip(names.split(), values.split()))["ListenOverflows"]
    return None


def wait_for_drop(before):
    deadline = time.monotonic() + 10
    while listen_overflows() == before and time.monotonic() < deadline:
        time.sleep(0.02)


def main():
    args = sys.argv[1:]
    ready = args[0]
    fastopen = "--no-fastopen" not in args
    port = int(args[args.index("--port") + 1]) if "--port" in args else 0
    hold = "--hold" in args
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fastopen:
        srv.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 16)
    srv.bind(("127.0.0.1", port))
    srv.listen(0 if hold else 16)
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(tmp, ready)
    if hold:
        select.select([srv], [], [])
        wait_for_drop(listen_overflows())
    while True:
        conn, _ = srv.accept()
        with conn:
            data = conn.recv(4096)
            say(f"accepted bytes={len(data)}")
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n"
                         b"Connection: close\r\n\r\nok\n")


if __name__ == "__main__":
    main()
