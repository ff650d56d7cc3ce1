#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A Python capture with the field report's bug, for `tracer pktleak` tests.

    pkt_capture.py BIND_IF GAP_MS [RCVBUF_BYTES]

socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), sleep GAP_MS, bind to BIND_IF,
then read what is queued without waiting. recvfrom()'s address carries the
frame's sll_ifindex (Python gives it as the interface's name): frames of
other interfaces are counted as read_other. RCVBUF_BYTES: SO_RCVBUFFORCE
first (root), room for the frames of a long gap. Prints
{"fd":..,"read_total":..,"read_other":..,"by_ifname":{...},"drops":..},
drops from PACKET_STATISTICS (tp_drops: no room in the queue).
"""
import json
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33


def main():
    ifname, gap_ms = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    if len(sys.argv) > 3:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, int(sys.argv[3]))
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
    # struct tpacket_stats: tp_packets, tp_drops
    _, drops = struct.unpack("II", s.getsockopt(SOL_PACKET,
                                                PACKET_STATISTICS, 8))
    print(json.dumps({"fd": s.fileno(), "read_total": total,
                      "read_other": other, "by_ifname": by_ifname,
                      "drops": drops}),
          flush=True)
    s.close()


if __name__ == "__main__":
    main()
