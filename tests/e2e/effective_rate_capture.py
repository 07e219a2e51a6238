#!/usr/bin/env python3
"""tests/e2e/effective_rate_capture.py: write a capture whose agents sample otherwise than they say.

    effective_rate_capture.py OUT.pcap

Three sFlow v5 agents, each one flow sample of one SMTP packet per datagram, every sample
saying its sampling rate; what differs is the step of the sample pool per sample:

    agent     client        samples  rate  pool step  effective/configured  switch?
    10.0.0.1  192.0.2.10    200      1000  2000       2                     yes: |2-1| > 1.96/sqrt(199)
    10.0.0.2  192.0.2.20    100      500   525        1.05                  no:  0.05 < 1.96/sqrt(99)
    10.0.0.3  192.0.2.30    4        100   200        2                     no:  1 < 1.96/sqrt(3)

all to 198.51.100.25 port 25. Hand-computed estimates: 400,000 (200 x 1000 x 2), 50,000 and
400. Built by hand, big-endian, with the standard library only.
"""
import struct
import sys

SERVER = (198, 51, 100, 25)
COLLECTOR = (192, 0, 2, 200)
AGENTS = [((10, 0, 0, 1), (192, 0, 2, 10), 200, 1000, 2000),
          ((10, 0, 0, 2), (192, 0, 2, 20), 100, 500, 525),
          ((10, 0, 0, 3), (192, 0, 2, 30), 4, 100, 200)]


def ipv4(src, dst, proto, payload):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, 0, 64, proto, 0,
                       bytes(src), bytes(dst)) + payload


def ethernet(payload):
    return b"\x00\x11\x22\x33\x44\x55\x00\x66\x77\x88\x99\xaa\x08\x00" + payload


def smtp_packet(client, sport):
    tcp = struct.pack(">HHIIBBHHH", sport, 25, 1, 1, 5 << 4, 0x18, 65535, 0, 0) + b"EHLO x\r\n"
    return ethernet(ipv4(client, SERVER, 6, tcp))


def raw_header_record(packet):
    body = struct.pack(">IIII", 1, len(packet) + 4, 0, len(packet)) + packet
    body += b"\x00" * (-len(body) % 4)
    return struct.pack(">II", 1, len(body)) + body


def flow_sample(record, seq, rate, pool):
    body = struct.pack(">IIIIIIII", seq, 3, rate, pool & 0xffffffff, 0, 3, 4, 1) + record
    return struct.pack(">II", 1, len(body)) + body


def datagram(agent, seq, sample):
    return (struct.pack(">II", 5, 1) + bytes(agent) + struct.pack(">III", 0, seq, 1000 * seq)
            + struct.pack(">I", 1) + sample)


def udp_frame(agent, payload):
    udp = struct.pack(">HHHH", 50000, 6343, 8 + len(payload), 0) + payload
    return ethernet(ipv4(agent, COLLECTOR, 17, udp))


def main():
    frames = []
    for agent, client, n, rate, step in AGENTS:
        for i in range(n):
            seq = i + 1
            sample = flow_sample(raw_header_record(smtp_packet(client, 40000 + i)), seq, rate, 7 + seq * step)
            frames.append(udp_frame(agent, datagram(agent, seq, sample)))
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
    for i, data in enumerate(frames):
        out.append(struct.pack("<IIII", 1700000000 + i, 0, len(data), len(data)) + data)
    with open(sys.argv[1], "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    main()
