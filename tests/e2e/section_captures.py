#!/usr/bin/env python3
"""tests/e2e/section_captures.py: pcapng files that libpcap alone stops reading midway.

    section_captures.py OUTDIR

Writes OUTDIR/NAME.pcapng per case and OUTDIR/cases.tsv, one line per case:

    name  exit  smtp_rows  what

Built by hand with the standard library (the datagrams are hostile_captures.py's good ones,
two SMTP samples each): sections in both byte orders, sections of different link types, a
packet longer than its interface's snapshot length, and files no reader can finish.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_captures import good_datagram, udp_frame  # noqa: E402

SMTP_PER_GOOD = 2


def block(order, kind, body):
    body += b"\x00" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(order + "II", kind, length) + body + struct.pack(order + "I", length)


def section(order, frames, linktypes=(1,), snaplen=65535, first=0):
    """frames: (bytes, interface); every IDB at the start of the section."""
    out = block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    for lt in linktypes:
        out += block(order, 1, struct.pack(order + "HHI", lt, 0, snaplen))
    for i, (data, iface) in enumerate(frames):
        ts = (1700000000 + first + i) * 1000000
        out += block(order, 6, struct.pack(order + "IIIII", iface, ts >> 32, ts & 0xffffffff,
                                           len(data), len(data)) + data)
    return out


def eth(seq):
    return udp_frame(good_datagram(seq))


def raw(seq):
    return eth(seq)[14:]		# the IPv4 packet without its Ethernet header


cases = []


def case(name, what, data, exit_status, datagrams, skipped="{}"):
    """skipped: what load.skipped holds besides packet_not_smtp."""
    cases.append((name, what, data, exit_status, datagrams * SMTP_PER_GOOD, skipped))


le = section("<", [(eth(s), 0) for s in (1, 2, 3)])
be = section(">", [(eth(s), 0) for s in (4, 5, 6)], first=3)
case("sections_both_byte_orders", "cat of a little-endian and a big-endian pcapng", le + be, 0, 6)
case("sections_three", "three sections: little, big, little-endian", le + be +
     section("<", [(eth(s), 0) for s in (7, 8)], first=6), 0, 8)
case("sections_other_link_type", "a second section of raw IP after an Ethernet one",
     le + section("<", [(raw(s), 0) for s in (4, 5)], linktypes=(101,), first=3), 0, 5)
case("sections_big_endian_first", "a big-endian section, then a little-endian one of raw IP",
     be + section("<", [(raw(s), 0) for s in (7, 8)], linktypes=(101,), first=6), 0, 5)
case("packet_beyond_snaplen", "an interface whose snaplen (64) is shorter than its packets",
     section("<", [(eth(s), 0) for s in (1, 2, 3)], snaplen=64), 0, 3)
case("sections_snaplen_second", "a second section whose snaplen is shorter than its packets",
     le + section(">", [(eth(s), 0) for s in (4, 5)], snaplen=100, first=3), 0, 5)
# What no reader can finish: the load must fail and keep nothing
bad_len = bytearray(le + be)
bad_len[len(le) + 4:len(le) + 8] = b"\x00\x00\x00\x08"		# the second SHB's length: 8
case("corrupt_block_midway", "a block of length 8 where the second section starts", bytes(bad_len), 2, 0)
# Interfaces of several link types in one section (mergecap of a raw-IP spool file and an
# Ethernet capture): libpcap alone refuses them; each frame is read by its interface's
case("interfaces_two_link_types", "one section, an Ethernet and a raw IP interface",
     section("<", [(eth(1), 0), (eth(2), 0), (raw(3), 1), (eth(4), 0)], linktypes=(1, 101)), 0, 4)
case("interfaces_raw_first", "one section, a raw IP interface, then an Ethernet one, big-endian",
     section(">", [(raw(1), 0), (eth(2), 1), (raw(3), 0)], linktypes=(101, 1)), 0, 3)
case("interfaces_two_raw", "one section, two raw IP interfaces (libpcap alone refuses even those)",
     section("<", [(raw(1), 0), (raw(2), 1)], linktypes=(101, 101)), 0, 2)
# Frames of a link type the loader cannot read: counted, the others loaded
case("unsupported_link_type_section", "a second section of 802.11",
     le + section("<", [(b"\x00" * 40, 0)], linktypes=(105,), first=3), 0, 3, '{"frame_link_type": 1}')
case("unsupported_interface_first", "one section, an 802.11 interface, then an Ethernet one",
     section("<", [(b"\x00" * 40, 0), (eth(1), 1), (b"\x00" * 40, 0), (eth(2), 1)], linktypes=(105, 1)), 0, 2,
     '{"frame_link_type": 2}')

outdir = sys.argv[1]
with open(os.path.join(outdir, "cases.tsv"), "w") as tsv:
    for name, what, data, exit_status, rows, skipped in cases:
        with open(os.path.join(outdir, name + ".pcapng"), "wb") as f:
            f.write(data)
        tsv.write("\t".join([name, str(exit_status), str(rows), skipped, what]) + "\n")
