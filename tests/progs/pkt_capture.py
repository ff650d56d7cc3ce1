#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A Python capture with the field report's bug, for `tracer pktleak` tests.

    pkt_capture.py BIND_IF GAP_MS

socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), sleep GAP_MS, bind to BIND_IF,
then read what is queued without waiting. recvfrom()'s address carries the
frame's sll_ifindex (Python gives it as the interface's name): frames of
other interfaces are counted as read_other. Prints
{"fd":..,"read_total":..,"read_other":..,"by_ifname":{...}}.
"""
import json
import socket
import sys
import time

ETH_P_ALL = 0x0003


def main():
    ifname, gap_ms = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    time.sleep(gap_ms / 1000)
    s.bind((ifname, ETH_P_ALL))
    total, other, by_ifname = 0, 0, {}
    while True:
        try:
            _, addr = s.recvfrom(2048, socket.MSG_DONTWAIT)
        except BlockingIOError:
            break
        total += 1
        other += addr[0] != ifname
        by_ifname[addr[0]] = by_ifname.get(addr[0], 0) + 1
    print(json.dumps({"fd": s.fileno(), "read_total": total,
                      "read_other": other, "by_ifname": by_ifname}),
          flush=True)
    s.close()


if __name__ == "__main__":
    main()
