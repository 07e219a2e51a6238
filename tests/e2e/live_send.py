#!/usr/bin/env python3
"""tests/e2e/live_send.py: replay the sFlow datagrams of a pcap capture over UDP.

  live_send.py CAPTURE HOST PORT [--from ADDR] [--every N --from2 ADDR]
               [--pause-every N] [--pause SECS]

Reads the classic pcap file (Ethernet, VLAN tags, IPv4 or IPv6), takes every
whole UDP datagram to port 6343 (not a fragment, not cut by the snapshot
length) and sends its payload to HOST:PORT, from ADDR when given (with
--every N and --from2, every Nth from the second address instead). Prints
how many datagrams were sent from each source address, one "ADDR COUNT"
line each.
"""
import argparse
import socket
import struct
import sys
import time


def datagrams(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack_from('<I', data, 0)[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = '<'
    elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
        e = '>'
    else:
        sys.exit('not a pcap file: %s' % path)
    linktype = struct.unpack_from(e + 'I', data, 20)[0]
    if linktype != 1:
        sys.exit('only Ethernet captures (link type 1), not %d' % linktype)
    at = 24
    while at + 16 <= len(data):
        _, _, caplen, origlen = struct.unpack_from(e + 'IIII', data, at)
        frame = data[at + 16:at + 16 + caplen]
        at += 16 + caplen
        if caplen != origlen or len(frame) < 14:
            continue
        off = 12
        ethertype = struct.unpack_from('>H', frame, off)[0]
        while ethertype in (0x8100, 0x88a8, 0x9100) and off + 6 <= len(frame):
            off += 4
            ethertype = struct.unpack_from('>H', frame, off)[0]
        off += 2
        if ethertype == 0x0800 and off + 20 <= len(frame):
            ihl = (frame[off] & 15) * 4
            flags_frag = struct.unpack_from('>H', frame, off + 6)[0]
            if frame[off + 9] != 17 or flags_frag & 0x3fff:
                continue
            total = struct.unpack_from('>H', frame, off + 2)[0]
            udp = off + ihl
            end = off + total
        elif ethertype == 0x86dd and off + 40 <= len(frame):
            if frame[off + 6] != 17:
                continue
            udp = off + 40
            end = udp + struct.unpack_from('>H', frame, off + 4)[0]
        else:
            continue
        if udp + 8 > len(frame) or end > len(frame):
            continue
        dport = struct.unpack_from('>H', frame, udp + 2)[0]
        ulen = struct.unpack_from('>H', frame, udp + 4)[0]
        if dport != 6343 or ulen < 8 or udp + ulen > end:
            continue
        yield frame[udp + 8:udp + ulen]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('capture')
    ap.add_argument('host')
    ap.add_argument('port', type=int)
    ap.add_argument('--from', dest='src')
    ap.add_argument('--from2')
    ap.add_argument('--every', type=int, default=0)
    ap.add_argument('--pause-every', type=int, default=50)
    ap.add_argument('--pause', type=float, default=0.002)
    a = ap.parse_args()
    family = socket.AF_INET6 if ':' in a.host else socket.AF_INET
    socks = {}

    def sock_for(src):
        if src not in socks:
            s = socket.socket(family, socket.SOCK_DGRAM)
            if src:
                s.bind((src, 0))
            socks[src] = s
        return socks[src]

    counts = {}
    for i, payload in enumerate(datagrams(a.capture), 1):
        src = a.from2 if a.every and i % a.every == 0 else a.src
        sock_for(src).sendto(payload, (a.host, a.port))
        counts[src] = counts.get(src, 0) + 1
        if a.pause_every and i % a.pause_every == 0:
            time.sleep(a.pause)
    for src, n in counts.items():
        print(src or '-', n)


if __name__ == '__main__':
    main()
