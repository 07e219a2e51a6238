#!/usr/bin/env python3
"""tests/e2e/boots_captures.py: captures for the runs (boots) of exactly_once.sh.

    boots_captures.py make OUTDIR              the hand-made captures below
    boots_captures.py retime IN OUT START STEP_US
        IN's frames, stamped START (s since 1970) + i * STEP_US: a replay's
        spool, received at other times, squeezed or stretched
    boots_captures.py uptime IN OUT ADD_MS
        IN with ADD_MS added to every sFlow datagram's uptime (frames and
        their times as they were)

make writes, all from one agent (hostile_captures.good_datagram: 2 SMTP and
1 web sample each):
  fast.pcap      3000 datagrams of one run, 1 ms apart, uptime a minute apart
                 (two days squeezed: boot estimates hours apart): one run
  restarts.pcap  100 datagrams each behind the last in sequence number and
                 uptime, 100 s apart: a restart each, 100 runs
  randup.pcap    2000 datagrams in sequence, each with a random uptime (a sender
                 that makes them up: a boot estimate each, far apart)
  other1.pcap    seq 1-5 at uptime 1-5 s (2 SMTP samples each)
  other2.pcap    the same sequence numbers and uptimes a year later, other bytes (one SMTP
                 sample each: a restart that happened to count the same, or a test fixture)
  wrap1.pcap     seq 1-5 at uptime 1-5 s
  wrap2.pcap     the same boot 2^32 datagrams later: seq 1-5 again, uptime
                 11.6 days on (capture time as much later)
Standard library only; the bytes are built here, not by the loader's code.
"""
import random
import struct
import sys

sys.path.insert(0, "tests/e2e")
import hostile_captures as h  # noqa: E402

T0 = 1700000000


def dgram(seq, uptime):
    d = bytearray(h.good_datagram(seq % (1 << 32)))
    struct.pack_into(">II", d, 16, seq % (1 << 32), uptime % (1 << 32))
    return bytes(d)


def other(seq, uptime):
    d = bytearray(h.one_sample(h.smtp_v4(41000 + seq), seq))
    struct.pack_into(">II", d, 16, seq, uptime)
    return bytes(d)


def write(path, items):
    """items: (ts_us, payload)"""
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
    for ts_us, payload in items:
        f = h.udp_frame(payload)
        out.append(struct.pack("<IIII", ts_us // 1000000, ts_us % 1000000, len(f), len(f)) + f)
    with open(path, "wb") as fh:
        fh.write(b"".join(out))


def make(d):
    write(d + "/fast.pcap", [((T0 + 1000) * 1000000 + 1000 * i, dgram(1 + i, 5000000 + 60000 * i))
                             for i in range(3000)])
    write(d + "/restarts.pcap", [((T0 + 100 * i) * 1000000, dgram(1000000 - 5000 * i, 900000000 - 20000 * i))
                                 for i in range(100)])
    rnd = random.Random(5)
    write(d + "/randup.pcap", [((T0 + 1) * 1000000 + 100 * i, dgram(1 + i, rnd.getrandbits(32))) for i in range(2000)])
    write(d + "/other1.pcap", [((T0 + 50 + s) * 1000000, dgram(s, 1000 * s)) for s in range(1, 6)])
    write(d + "/other2.pcap", [((T0 + 31536000 + s) * 1000000, other(s, 1000 * s)) for s in range(1, 6)])
    write(d + "/wrap1.pcap", [((T0 + s) * 1000000, dgram(s, 1000 * s)) for s in range(1, 6)])
    write(d + "/wrap2.pcap", [((T0 + 1000000 + s) * 1000000, dgram(s, 1000000000 + 1000 * s)) for s in range(1, 6)])


def frames(data):
    """(header offset, frame offset, caplen) of each record of a classic little-endian pcap."""
    at = 24
    while at + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, at + 8)[0]
        yield at, at + 16, caplen
        at += 16 + caplen


def sflow_at(data, off, caplen):
    """The offset of the sFlow datagram in the frame, or None (Ethernet, VLAN, IPv4 or IPv6, UDP)."""
    end = off + caplen
    p = off + 12
    et = struct.unpack_from(">H", data, p)[0]
    while et in (0x8100, 0x88a8, 0x9100) and p + 6 <= end:
        p += 4
        et = struct.unpack_from(">H", data, p)[0]
    p += 2
    if et == 0x0800 and p + 20 <= end:
        if data[p + 9] != 17 or struct.unpack_from(">H", data, p + 6)[0] & 0x1fff:
            return None
        p += (data[p] & 15) * 4
    elif et == 0x86dd and p + 40 <= end:
        if data[p + 6] != 17:
            return None
        p += 40
    else:
        return None
    return p + 8 if p + 8 + 24 <= end else None


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2])
        return
    data = bytearray(open(sys.argv[2], "rb").read())
    if struct.unpack_from("<I", data, 0)[0] != 0xa1b2c3d4:
        sys.exit("a little-endian microsecond pcap only: " + sys.argv[2])
    if sys.argv[1] == "retime":
        start, step = int(sys.argv[4]), int(sys.argv[5])
        for i, (hdr, _, _) in enumerate(frames(data)):
            us = start * 1000000 + i * step
            struct.pack_into("<II", data, hdr, us // 1000000, us % 1000000)
    elif sys.argv[1] == "uptime":
        add = int(sys.argv[4])
        for _, off, caplen in frames(data):
            s = sflow_at(data, off, caplen)
            if s is None:
                continue
            version, atype = struct.unpack_from(">II", data, s)
            alen = 16 if atype == 2 else 4
            # v5: version, type, address, sub-agent, seq, uptime; v2/v4: no sub-agent
            up_at = s + 8 + alen + (8 if version == 5 else 4)
            if up_at + 4 <= off + caplen:
                up = struct.unpack_from(">I", data, up_at)[0]
                struct.pack_into(">I", data, up_at, (up + add) % (1 << 32))
    else:
        sys.exit("make, retime or uptime")
    open(sys.argv[3], "wb").write(data)


if __name__ == "__main__":
    main()
