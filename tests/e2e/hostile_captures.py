#!/usr/bin/env python3
"""tests/e2e/hostile_captures.py: write hostile captures and what loading each must give.

    hostile_captures.py OUTDIR

Writes OUTDIR/NAME.pcap (or .pcapng) per case and OUTDIR/cases.tsv, one line per case:

    name  files  exit  smtp_rows  malformed  skipped  check  what

files: the capture(s) given to the loader, comma-separated; exit: its exit status; smtp_rows,
malformed: the load's counts; skipped: spamhints.load.skipped, exactly (JSON); check: an SQL
condition over the load's rows (spamhints.smtp_sample s) that must hold, or "-"; what: the case.
Every sampled packet that is not an SMTP row is in skipped: the web sample of each good datagram
under packet_not_smtp, the hostile ones under their reason.

Every capture holds good datagrams (GOOD of them, each with two SMTP samples and one web sample)
around the hostile part, so each case also shows that the rest of the capture is loaded. The
bytes are built here, by hand, big-endian, with the standard library only: the loader's own code
writes none of them (libpcap cannot write pcapng, so neither format goes through it).
"""
import json
import os
import struct
import sys

GOOD = 3
SMTP_PER_GOOD = 2

# ---------------------------------------------------------------------------
# Sampled packets (the bytes inside sFlow raw header records)
# ---------------------------------------------------------------------------


def ipv4_header(src, dst, proto, payload_len, options=b"", frag=0, mf=False, ttl=64):
    ihl = 5 + len(options) // 4
    flags_frag = (0x2000 if mf else 0) | frag
    return struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + payload_len, 0x1234,
                       flags_frag, ttl, proto, 0, bytes(src), bytes(dst)) + options


def ipv6_header(src, dst, next_header, payload_len, hop=64):
    return struct.pack(">IHBB16s16s", 6 << 28, payload_len, next_header, hop, bytes(src), bytes(dst))


def tcp_header(sport, dport, flags=0x18, payload=b""):
    return struct.pack(">HHIIBBHHH", sport, dport, 1, 1, 5 << 4, flags, 65535, 0, 0) + payload


def ethernet(ethertype, payload, vlan=None):
    head = b"\x00\x11\x22\x33\x44\x55" + b"\x00\x66\x77\x88\x99\xaa"
    if vlan is not None:
        head += struct.pack(">HH", 0x8100, vlan)
    return head + struct.pack(">H", ethertype) + payload


V4_CLIENT = (192, 0, 2, 10)
V4_SERVER = (198, 51, 100, 25)
V6_CLIENT = bytes.fromhex("20010db8000000000000000000000010")
V6_SERVER = bytes.fromhex("20010db8000000000000000000000025")


def smtp_v4(sport=40000, dport=25, payload=b"EHLO x\r\n", options=b"", flags=0x18, frag=0, mf=False):
    tcp = tcp_header(sport, dport, flags, payload)
    return ethernet(0x0800, ipv4_header(V4_CLIENT, V4_SERVER, 6, len(tcp), options, frag, mf) + tcp)


def smtp_v6(extensions=(), sport=40001, dport=25, payload=b"MAIL FROM:<a@b>\r\n"):
    """extensions: (type, bytes) pairs in order; each bytes' first byte is replaced by the next header."""
    tcp = tcp_header(sport, dport, 0x18, payload)
    chain = b""
    kinds = [k for k, _ in extensions] + [6]
    for i, (_, body) in enumerate(extensions):
        chain += bytes([kinds[i + 1]]) + body[1:]
    first = kinds[0]
    return ethernet(0x86DD, ipv6_header(V6_CLIENT, V6_SERVER, first, len(chain) + len(tcp)) + chain + tcp)


def web_v4():
    tcp = tcp_header(40002, 80, 0x10, b"GET / HTTP/1.1\r\n")
    return ethernet(0x0800, ipv4_header(V4_CLIENT, V4_SERVER, 6, len(tcp)) + tcp)


# ---------------------------------------------------------------------------
# sFlow
# ---------------------------------------------------------------------------

AGENT = (10, 0, 0, 1)


def raw_header_record(packet, header_protocol=1, header_len=None, record_len=None):
    hl = len(packet) if header_len is None else header_len
    body = struct.pack(">IIII", header_protocol, len(packet) + 4, 0, hl) + packet
    body += b"\x00" * (-len(body) % 4)
    return struct.pack(">II", 1, len(body) if record_len is None else record_len) + body


def flow_sample_v5(records, seq=1, rate=1000, sample_len=None, num_records=None, input_if=3, output_if=4):
    body = struct.pack(">IIIIIIII", seq, 3, rate, (seq * rate) & 0xffffffff, 0, input_if, output_if,
                       len(records) if num_records is None else num_records) + b"".join(records)
    return struct.pack(">II", 1, len(body) if sample_len is None else sample_len) + body


def expanded_flow_sample_v5(records, seq=1, rate=1000, input_if=(0, 3), output_if=(0, 4)):
    """An expanded flow sample (format 3): interfaces as (format, value) pairs."""
    body = struct.pack(">IIIIIIIIIII", seq, 0, 3, rate, seq * rate, 0, input_if[0], input_if[1],
                       output_if[0], output_if[1], len(records)) + b"".join(records)
    return struct.pack(">II", 3, len(body)) + body


def datagram_v5(samples, seq, num_samples=None, agent_type=1):
    head = struct.pack(">II", 5, agent_type) + bytes(AGENT) + struct.pack(
        ">III", 0, seq, 1000 * seq)
    return head + struct.pack(">I", len(samples) if num_samples is None else num_samples) + b"".join(samples)


def datagram_v2v4(version, packet, seq, header_len=None, extended=b"", num_extended=0):
    """One v2/v4 flow sample with a raw packet header and the given extended records."""
    hl = len(packet) if header_len is None else header_len
    body = struct.pack(">IIIIIIII", seq, 3, 1000, seq * 1000, 0, 3, 4, 1)   # ... packet type 1
    body += struct.pack(">III", 1, len(packet) + 4, hl) + packet + b"\x00" * (-len(packet) % 4)
    body += struct.pack(">I", num_extended) + extended
    head = struct.pack(">II", version, 1) + bytes(AGENT) + struct.pack(">III", seq, 1000 * seq, 1)
    return head + struct.pack(">I", 1) + body


def good_datagram(seq):
    return datagram_v5([flow_sample_v5([raw_header_record(smtp_v4())], seq=3 * seq),
                        flow_sample_v5([raw_header_record(smtp_v4(25, 40000, b"220 mx ESMTP\r\n"))], seq=3 * seq + 1),
                        flow_sample_v5([raw_header_record(web_v4())], seq=3 * seq + 2)], seq)


def one_sample(packet, seq, **kw):
    """A datagram with one flow sample holding one raw header record of packet."""
    rate = kw.pop("rate", 1000)
    return datagram_v5([flow_sample_v5([raw_header_record(packet, **kw)], seq=100 + seq, rate=rate)], seq)


# ---------------------------------------------------------------------------
# Captures
# ---------------------------------------------------------------------------

COLLECTOR = (192, 0, 2, 200)


def udp_frame(payload, dport=6343, frag=None):
    udp = struct.pack(">HHHH", 50000, dport, 8 + len(payload), 0) + payload
    if frag is None:
        ip = ipv4_header(AGENT, COLLECTOR, 17, len(udp)) + udp
    else:
        # first fragment: the UDP header announces the whole datagram, the IP packet holds part
        cut = udp[:frag]
        ip = ipv4_header(AGENT, COLLECTOR, 17, len(cut), mf=True) + cut
    return ethernet(0x0800, ip)


def pcap(frames, linktype=1, snaplen=65535):
    """frames: (bytes, original length or None)."""
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snaplen, linktype)]
    for i, (data, orig) in enumerate(frames):
        out.append(struct.pack("<IIII", 1700000000 + i, 0, len(data), orig or len(data)) + data)
    return b"".join(out)


def pcapng_block(kind, body):
    body += b"\x00" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


def pcapng(frames, linktypes=(1,)):
    """frames: (bytes, interface[, microseconds since 1970]); linktypes: one per interface (IDB)."""
    out = [pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    idbs = [pcapng_block(1, struct.pack("<HHI", lt, 0, 65535)) for lt in linktypes]
    out.append(idbs[0])
    for i, frame in enumerate(frames):
        data, iface = frame[0], frame[1]
        if iface > 0 and idbs[iface] is not None:
            out.append(idbs[iface])
            idbs[iface] = None
        ts = frame[2] if len(frame) > 2 else (1700000000 + i) * 1000000
        out.append(pcapng_block(6, struct.pack("<IIIII", iface, ts >> 32, ts & 0xffffffff, len(data), len(data)) + data))
    return b"".join(out)


def good_frames(first_seq=1, n=GOOD):
    return [(udp_frame(good_datagram(s)), None) for s in range(first_seq, first_seq + n)]


# ---------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------

cases = []


def case(name, what, frames, skipped, malformed=0, extra_rows=0, check="-", exit_status=0, fmt="pcap",
         data=None, files=None, not_smtp=GOOD):
    """not_smtp: the sampled packets loaded that are not SMTP (one web sample per good datagram)."""
    if skipped is not None and not_smtp:
        skipped = dict(skipped, packet_not_smtp=not_smtp)
    cases.append(dict(name=name, what=what, frames=frames, skipped=skipped, malformed=malformed,
                      rows=GOOD * SMTP_PER_GOOD + extra_rows, check=check, exit=exit_status, fmt=fmt,
                      data=data, files=files))


def around(hostile_frames):
    """good datagrams, the hostile frames, good datagrams again (sequence numbers without gaps)."""
    n = len(hostile_frames)
    return good_frames(1, 2) + hostile_frames + good_frames(3 + n, GOOD - 2)


def seq_after_two(i=0):
    return 3 + i


# Capture files themselves
whole = pcap(good_frames(1, GOOD + 1))
last_record = 24 + sum(16 + len(f) for f, _ in good_frames(1, GOOD))
case("pcap_cut_in_record_header", "pcap file cut inside the last record's header",
     None, {"capture_truncated": 1}, data=whole[:last_record + 7])
case("pcap_cut_in_record_data", "pcap file cut inside the last record's packet bytes",
     None, {"capture_truncated": 1}, data=whole[:last_record + 16 + 30])
ng = pcapng([(f, 0) for f, _ in good_frames(1, GOOD + 1)])
ng_good = len(pcapng([(f, 0) for f, _ in good_frames(1, GOOD)]))
case("pcapng_cut_in_block", "pcapng file cut inside the last packet block",
     None, {"capture_truncated": 1}, fmt="pcapng", data=ng[:ng_good + 40])
case("pcapng_cut_in_block_header", "pcapng file cut inside the last block's type/length",
     None, {"capture_truncated": 1}, fmt="pcapng", data=ng[:ng_good + 5])
case("pcapng_ok", "pcapng, whole (control)", None, {}, fmt="pcapng",
     data=pcapng([(f, 0) for f, _ in good_frames(1, GOOD)]))
case("pcapng_second_interface_other_link_type",
     "pcapng whose second interface is 802.11: its frame counted, the others loaded",
     None, {"frame_link_type": 1}, fmt="pcapng", extra_rows=2 * SMTP_PER_GOOD, not_smtp=GOOD + 2,
     data=pcapng([(f, 0) for f, _ in good_frames(1, GOOD)] + [(b"\x00" * 40, 1)] +
                 [(f, 0) for f, _ in good_frames(GOOD + 1, 2)], linktypes=(1, 105)))
case("wrong_link_type", "a pcap of 802.11 frames: not read at all", None, None, exit_status=2,
     data=pcap(good_frames(), linktype=105))
case("wrong_link_type_then_good", "an 802.11 pcap, then a good one in the same command: the good one loads",
     None, {}, exit_status=2, files=["wrong_link_type.pcap", "pcapng_ok.pcapng"])

case("pcapng_frame_time_beyond_9999",
     "a pcapng frame stamped 2^64-1 microseconds (year 586912): a time no timestamptz holds",
     None, {"frame_bad_time": 1}, malformed=1, fmt="pcapng",
     data=pcapng([(f, 0) for f, _ in good_frames(1, 2)] +
                 [(udp_frame(good_datagram(3)), 0, 2**64 - 1)] +
                 [(f, 0) for f, _ in good_frames(4, GOOD - 2)]))

# Frames to port 6343 that hold no whole datagram
case("frame_cut_by_snaplen", "a frame cut by the capture's snapshot length inside the datagram",
     around([(udp_frame(good_datagram(3))[:120], len(udp_frame(good_datagram(3))))]),
     {"frame_truncated": 1}, malformed=1)
case("frame_first_ip_fragment", "the first IP fragment of a datagram, the rest never captured",
     around([(udp_frame(good_datagram(3), frag=200), None)]), {"frame_fragment": 1}, malformed=1)
case("frame_empty_udp", "an empty UDP datagram to 6343",
     around([(udp_frame(b""), None)]), {"frame_empty": 1}, malformed=1)

# Datagrams that are not sFlow, or not whole
case("not_sflow_netflow", "NetFlow v5 sent to 6343",
     around([(udp_frame(struct.pack(">HHIIIIBBH", 5, 1, 1000, 1700000000, 0, 1, 0, 0, 0) + b"\x00" * 48), None)]),
     {"not_sflow": 1}, malformed=1)
case("not_sflow_text", "a line of text sent to 6343",
     around([(udp_frame(b"hello, is this the sFlow collector?\n"), None)]), {"not_sflow": 1}, malformed=1)
case("not_sflow_short", "two bytes sent to 6343",
     around([(udp_frame(b"\x00\x05"), None)]), {"truncated": 1}, malformed=1)
case("sample_count_absurd", "a datagram announcing 4294967295 samples",
     around([(udp_frame(datagram_v5([flow_sample_v5([raw_header_record(smtp_v4())])], 3, num_samples=0xFFFFFFFF)), None)]),
     {"sample_count": 1}, malformed=1)
case("sample_count_too_many", "a datagram announcing 60 samples with room for 12",
     around([(udp_frame(datagram_v5([flow_sample_v5([raw_header_record(smtp_v4())])], 3, num_samples=60)), None)]),
     {"sample_count": 1}, malformed=1)
case("sample_length_absurd", "a sample length of 4294967280 bytes",
     around([(udp_frame(datagram_v5([flow_sample_v5([raw_header_record(smtp_v4())], sample_len=0xFFFFFFF0)], 3)), None)]),
     {"bad_length": 1}, malformed=1)
case("record_length_past_sample", "a record length past the end of its sample",
     around([(udp_frame(datagram_v5([flow_sample_v5([raw_header_record(smtp_v4(), record_len=4000)])], 3)), None)]),
     {"bad_length": 1}, malformed=1)
case("header_length_past_record", "a sampled header length past the end of its record",
     around([(udp_frame(datagram_v5([flow_sample_v5([raw_header_record(smtp_v4(), header_len=100000)])], 3)), None)]),
     {"bad_length": 1}, malformed=1)
case("record_count_absurd", "a flow sample announcing 4294967295 records",
     around([(udp_frame(datagram_v5([flow_sample_v5([raw_header_record(smtp_v4())], num_records=0xFFFFFFFF)], 3)), None)]),
     {"truncated": 1}, malformed=1)
case("sample_cut_inside", "a flow sample whose length stops inside its fixed fields",
     around([(udp_frame(datagram_v5([struct.pack(">II", 1, 20) + b"\x00" * 20], 3)), None)]),
     {"truncated": 1}, malformed=1)
case("agent_address_type_bad", "an agent address of type 7",
     around([(udp_frame(datagram_v5([flow_sample_v5([raw_header_record(smtp_v4())])], 3, agent_type=7)), None)]),
     {"bad_address": 1}, malformed=1)
case("v2_header_length_absurd", "sFlow v2, a sampled header length of 2^31",
     around([(udp_frame(datagram_v2v4(2, smtp_v4(), 1, header_len=0x80000000)), None)]),
     {"bad_length": 1}, malformed=1)
case("v4_extended_type_unknown", "sFlow v4, an extended record type (99) without a length to skip it by",
     around([(udp_frame(datagram_v2v4(4, smtp_v4(), 1, extended=struct.pack(">I", 99), num_extended=1)), None)]),
     {"unknown_v2v4": 1}, malformed=1)
case("v4_whole", "sFlow v4 with one SMTP sample (control: loads)",
     around([(udp_frame(datagram_v2v4(4, smtp_v4(40100), seq_after_two())), None)]), {}, extra_rows=1,
     check="bool_or(s.src_port = 40100)")

# Sampled packet headers: the datagram is whole, one sampled packet cannot be read
full_v4 = smtp_v4(40200)
case("packet_cut_in_ipv4_header", "a sampled header cut inside the IPv4 header",
     around([(udp_frame(one_sample(full_v4[:14 + 12], 3)), None)]), {"packet_header_truncated": 1})
case("packet_cut_in_ipv6_header", "a sampled header cut inside the IPv6 header",
     around([(udp_frame(one_sample(smtp_v6()[:14 + 30], 3)), None)]), {"packet_header_truncated": 1})
case("packet_cut_before_tcp_ports", "a sampled header cut inside the TCP ports",
     around([(udp_frame(one_sample(full_v4[:14 + 20 + 3], 3)), None)]), {"packet_tcp_ports_cut": 1})
case("packet_cut_after_tcp_ports", "a sampled header cut after the TCP ports, before the flags: loaded, flags NULL",
     around([(udp_frame(one_sample(full_v4[:14 + 20 + 8], 3)), None)]), {}, extra_rows=1,
     check="bool_or(s.src_port = 40200 AND s.tcp_flags IS NULL AND s.smtp IS NULL)")
case("packet_ipv4_options", "IPv4 with 12 bytes of options: loaded, ports and verb right",
     around([(udp_frame(one_sample(smtp_v4(40300, options=b"\x01" * 12), 3)), None)]), {}, extra_rows=1,
     check="bool_or(s.src_port = 40300 AND s.dst_port = 25 AND s.smtp = 'EHLO' AND s.ip_len = 32 + 20 + 8)")
case("packet_ipv4_options_cut", "IPv4 announcing 40 bytes of options, cut inside them",
     around([(udp_frame(one_sample(smtp_v4(40301, options=b"\x01" * 40)[:14 + 40], 3)), None)]),
     {"packet_header_truncated": 1})
case("packet_ipv4_header_length_bad", "IPv4 with a header length of 8 bytes",
     around([(udp_frame(one_sample(ethernet(0x0800, b"\x42" + full_v4[15:]), 3)), None)]),
     {"packet_bad_ip_header": 1})
case("packet_ip_version_bad", "an IPv4 ethertype with IP version 7 inside",
     around([(udp_frame(one_sample(ethernet(0x0800, b"\x75" + full_v4[15:]), 3)), None)]),
     {"packet_bad_ip_header": 1})
ext = [(0, b"\x00\x00" + b"\x00" * 6), (60, b"\x00\x01" + b"\x00" * 14), (43, b"\x00\x02\x00\x00" + b"\x00" * 20)]
case("packet_ipv6_extension_headers", "IPv6 with hop-by-hop, destination and routing headers: loaded",
     around([(udp_frame(one_sample(smtp_v6(ext, sport=40400), 3)), None)]), {}, extra_rows=1,
     check="bool_or(s.src_port = 40400 AND s.dst_port = 25 AND s.smtp = 'MAIL')")
case("packet_ipv6_extension_cut", "IPv6 cut inside its routing header",
     around([(udp_frame(one_sample(smtp_v6(ext, sport=40401)[:14 + 40 + 8 + 16 + 10], 3)), None)]),
     {"packet_header_truncated": 1})
case("packet_ipv6_extension_chain_long", "IPv6 with nine destination-options headers",
     around([(udp_frame(one_sample(smtp_v6([(60, b"\x00\x00" + b"\x00" * 6)] * 9, sport=40402), 3)), None)]),
     {"packet_bad_ip_header": 1})
case("packet_ipv4_later_fragment", "an IPv4 fragment at offset 1480: no TCP header in it",
     around([(udp_frame(one_sample(smtp_v4(40500, frag=185), 3)), None)]), {"packet_ip_fragment": 1})
case("packet_ipv6_later_fragment", "an IPv6 fragment at offset 1448: no TCP header in it",
     around([(udp_frame(one_sample(smtp_v6([(44, b"\x00\x00" + struct.pack(">H", 181 << 3) + b"\x00\x00\x00\x01")],
                                            sport=40501), 3)), None)]), {"packet_ip_fragment": 1})
case("packet_ipv4_first_fragment", "the first IPv4 fragment of an SMTP packet: it has the TCP header, loaded",
     around([(udp_frame(one_sample(smtp_v4(40502, mf=True), 3)), None)]), {}, extra_rows=1,
     check="bool_or(s.src_port = 40502)")
case("packet_header_protocol_unknown", "a sampled header of header_protocol 2 (ISO 802.3)",
     around([(udp_frame(one_sample(full_v4, 3, header_protocol=2)), None)]),
     {"packet_header_protocol_unknown": 1})
case("packet_sampling_rate_absurd", "an SMTP sample with sampling rate 2^31 (no integer column holds it)",
     around([(udp_frame(one_sample(full_v4, 3, rate=0x80000000)), None)]),
     {"sampling_rate_out_of_range": 1})


# Sampled packets inside encapsulations: the SMTP packet inside is loaded, its addresses and ports
# those of the innermost IP header (the outer ones are OUTER_A -> OUTER_B). tshark decodes the
# inner TCP ports of each of them (hostile.sh checks that too).
OUTER_A = (10, 9, 9, 1)
OUTER_B = (10, 9, 9, 2)
INNER_CHECK = ("bool_or(s.src_port = %d AND s.dst_port = 25 AND host(s.src_ip) = '%s' AND "
               "host(s.dst_ip) = '%s' AND s.smtp = 'EHLO' AND s.vlan IS NOT DISTINCT FROM %s)")


def inner_tcp(sport):
    return tcp_header(sport, 25, 0x18, b"EHLO x\r\n")


def inner_v4(sport):
    tcp = inner_tcp(sport)
    return ipv4_header(V4_CLIENT, V4_SERVER, 6, len(tcp)) + tcp


def inner_v6(sport):
    tcp = inner_tcp(sport)
    return ipv6_header(V6_CLIENT, V6_SERVER, 6, len(tcp)) + tcp


def outer_v4(proto, inner):
    return ipv4_header(OUTER_A, OUTER_B, proto, len(inner)) + inner


def mpls(inner, labels=1):
    return b"".join(struct.pack(">I", (16 + i) << 12 | (0x100 if i == labels - 1 else 0) | 64)
                    for i in range(labels)) + inner


def tagged(tags, ethertype, payload):
    head = b"\x00\x11\x22\x33\x44\x55" + b"\x00\x66\x77\x88\x99\xaa"
    for tpid, vid in tags:
        head += struct.pack(">HH", tpid, vid)
    return head + struct.pack(">H", ethertype) + payload


def gre(proto, inner, flags=0, extra=b""):
    return struct.pack(">HH", flags, proto) + extra + inner


V4C, V4S = "192.0.2.10", "198.51.100.25"
V6C, V6S = "2001:db8::10", "2001:db8::25"
encapsulated = [
    ("mpls", "MPLS, one label", ethernet(0x8847, mpls(inner_v4(41001))), V4C, V4S, "NULL"),
    ("mpls_after_8021q", "802.1Q VLAN 300, MPLS, two labels, IPv6",
     ethernet(0x8847, mpls(inner_v6(41002), 2), vlan=300), V6C, V6S, "300"),
    ("mpls_after_qinq", "802.1ad VLAN 10 + 802.1Q VLAN 20, MPLS",
     tagged([(0x88A8, 10), (0x8100, 20)], 0x8847, mpls(inner_v4(41003))), V4C, V4S, "10"),
    ("pppoe", "a PPPoE session frame (PPP IPv4)",
     ethernet(0x8864, struct.pack(">BBHHH", 0x11, 0, 0x1234, 2 + len(inner_v4(41004)), 0x0021) + inner_v4(41004)),
     V4C, V4S, "NULL"),
    ("pppoe_ipv6", "a PPPoE session frame (PPP IPv6) behind an 802.1Q tag",
     ethernet(0x8864, struct.pack(">BBHHH", 0x11, 0, 0x1234, 2 + len(inner_v6(41005)), 0x0057) + inner_v6(41005),
              vlan=7), V6C, V6S, "7"),
    ("llc_snap", "an 802.3 frame with an LLC/SNAP header",
     ethernet(8 + len(inner_v4(41006)), b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + inner_v4(41006)), V4C, V4S, "NULL"),
    ("gre", "GRE (key and sequence number) around IPv4",
     ethernet(0x0800, outer_v4(47, gre(0x0800, inner_v4(41007), 0x3000, struct.pack(">II", 99, 1)))),
     V4C, V4S, "NULL"),
    ("gre_ethernet", "GRE around Ethernet (transparent bridging) around IPv6",
     ethernet(0x0800, outer_v4(47, gre(0x6558, ethernet(0x86DD, inner_v6(41008))))), V6C, V6S, "NULL"),
    ("ip_in_ip", "IPv4 in IPv4", ethernet(0x0800, outer_v4(4, inner_v4(41009))), V4C, V4S, "NULL"),
    ("ipv6_in_ipv4", "IPv6 in IPv4 (6in4)", ethernet(0x0800, outer_v4(41, inner_v6(41010))), V6C, V6S, "NULL"),
    ("ipv4_in_ipv6", "IPv4 in IPv6",
     ethernet(0x86DD, ipv6_header(bytes(16), bytes(15) + b"\x01", 4, len(inner_v4(41011))) + inner_v4(41011)),
     V4C, V4S, "NULL"),
]
for name, what, packet, src, dst, vlan in encapsulated:
    sport = 41000 + encapsulated.index((name, what, packet, src, dst, vlan)) + 1
    case("packet_encap_" + name, what + ": the SMTP packet inside is loaded",
         around([(udp_frame(one_sample(packet, 3)), None)]), {}, extra_rows=1,
         check=INNER_CHECK % (sport, src, dst, vlan))

deep = inner_v4(41100)
for _ in range(9):
    deep = outer_v4(4, deep)
case("packet_encapsulation_too_deep", "IPv4 in IPv4 nine times over",
     around([(udp_frame(one_sample(ethernet(0x0800, deep), 3)), None)]), {"packet_encapsulation_too_deep": 1})
case("packet_mpls_labels_too_many", "an MPLS stack of nine labels without a bottom of stack",
     around([(udp_frame(one_sample(ethernet(0x8847, b"\x00\x01\x00\x40" * 9 + inner_v4(41101)), 3)), None)]),
     {"packet_encapsulation_too_deep": 1})
case("packet_not_ip", "an ARP sample and an LLC (spanning tree) sample: not IP, counted",
     around([(udp_frame(datagram_v5([flow_sample_v5([raw_header_record(ethernet(0x0806, b"\x00" * 28))], seq=200),
                                     flow_sample_v5([raw_header_record(ethernet(38, b"\x42\x42\x03" + b"\x00" * 35))],
                                                    seq=201)], 3)), None)]),
     {"packet_not_ip": 2})
case("packet_pppoe_length_short", "a PPPoE length that ends inside the IPv4 header",
     around([(udp_frame(one_sample(ethernet(0x8864, struct.pack(">BBHHH", 0x11, 0, 1, 2 + 10, 0x0021) +
                                            inner_v4(41102)), 3)), None)]),
     {"packet_header_truncated": 1})
case("packet_not_smtp_udp", "a DNS sample and an ICMP sample: decoded, not SMTP, counted",
     around([(udp_frame(datagram_v5([
         flow_sample_v5([raw_header_record(ethernet(0x0800, ipv4_header(V4_CLIENT, V4_SERVER, 17, 12) +
                                                    struct.pack(">HHHH", 5353, 53, 12, 0) + b"abcd"))], seq=200),
         flow_sample_v5([raw_header_record(ethernet(0x0800, ipv4_header(V4_CLIENT, V4_SERVER, 1, 8) + b"\x08" + b"\x00" * 7))],
                        seq=201)], 3)), None)]),
     {}, not_smtp=GOOD + 2)


# Agents: any UDP sender can make up sub-agent ids; a load keeps at most 65536 agents (address +
# sub-agent) and counts the datagrams of the others, not loaded, under agent_limit.
AGENTS_MAX = 65536
MANY_AGENTS = 200000


def empty_datagram(sub_agent, seq=1):
    return struct.pack(">IIBBBBIIII", 5, 1, *AGENT, sub_agent, seq, 1000, 0)


case("agent_limit", "200,000 datagrams from as many sub-agents: 65,536 agents kept, the rest counted",
     good_frames(1, 2) + [(udp_frame(empty_datagram(i)), None) for i in range(1, MANY_AGENTS + 1)] +
     good_frames(3, GOOD - 2),
     {"agent_limit": MANY_AGENTS - (AGENTS_MAX - 1)},
     check="count(*) > 0 AND (SELECT count(*) = %d AND min(sub_agent) = 0 AND max(sub_agent) = %d "
           "AND sum(datagrams) = %d FROM spamhints.load_agent) AND "
           "(SELECT datagrams = %d AND lost_datagrams = 0 FROM spamhints.load)" % (AGENTS_MAX, AGENTS_MAX - 1, GOOD + AGENTS_MAX - 1,
                                                             GOOD + AGENTS_MAX - 1))


# sFlow reaching the collector tagged: the default filter matches 0, 1 and 2 VLAN tags
def tagged_udp_frame(payload, tags):
    udp = struct.pack(">HHHH", 50000, 6343, 8 + len(payload), 0) + payload
    return tagged(tags, 0x0800, ipv4_header(AGENT, COLLECTOR, 17, len(udp)) + udp)


for name, tags in (("8021q", [(0x8100, 5)]), ("qinq", [(0x88A8, 100), (0x8100, 200)]),
                   ("qinq_9100", [(0x9100, 100), (0x8100, 200)])):
    case("frame_" + name, "the collector's frames with tags %s: found by the default filter and loaded"
         % ", ".join("%04x" % t for t, _ in tags),
         around([(tagged_udp_frame(good_datagram(3), tags), None)]), {}, extra_rows=SMTP_PER_GOOD,
         not_smtp=GOOD + 1, check="count(*) FILTER (WHERE s.frame = 3) = 2")


# The interface "internal" (the device itself: 0x3FFFFFFF compact, 0xFFFFFFFF expanded) is no ifIndex
case("interface_internal_compact", "compact interfaces 0x3FFFFFFF (internal, as hsflowd sends) and 7: NULL and 7",
     around([(udp_frame(datagram_v5([flow_sample_v5([raw_header_record(smtp_v4(40600))], seq=300,
                                                    input_if=0x3FFFFFFF, output_if=7)], 3)), None)]),
     {}, extra_rows=1, check="bool_or(s.src_port = 40600 AND s.input_if IS NULL AND s.output_if = 7)")
case("interface_internal_expanded", "expanded interfaces 0xFFFFFFFF (internal) and 0x3FFFFFFF: NULL and 1073741823",
     around([(udp_frame(datagram_v5([expanded_flow_sample_v5([raw_header_record(smtp_v4(40601))], seq=301,
                                                             input_if=(0, 0x3FFFFFFF), output_if=(0, 0xFFFFFFFF))],
                                    3)), None)]),
     {}, extra_rows=1, check="bool_or(s.src_port = 40601 AND s.input_if = 1073741823 AND s.output_if IS NULL)")


# Capture times: pcap seconds are unsigned 32-bit (2038-2106 are valid); a pcapng simple packet
# block has no time at all (nor has a pcapng frame stamped 0): skipped as frame_no_time
def pcap_at(frames, seconds):
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    for (data, _), sec in zip(frames, seconds):
        out += struct.pack("<IIII", sec, 0, len(data), len(data)) + data
    return out


late = good_frames(1, GOOD)
case("pcap_time_after_2038", "pcap frames stamped 2^31 + 5 s (2038) and 2^32 - 16 s (2106): loaded at those times",
     None, {}, data=pcap_at(late, [1700000000, 2**31 + 5, 2**32 - 16]),
     check="bool_or(s.frame = 2 AND s.ts = to_timestamp(2147483653)) AND "
           "bool_or(s.frame = 3 AND s.ts = to_timestamp(4294967280)) AND "
           "(SELECT last_ts = to_timestamp(4294967280) FROM spamhints.load)")
spb = pcapng_block(3, struct.pack("<I", len(late[0][0])) + late[0][0])
ng_spb = pcapng([(f, 0) for f, _ in good_frames(1, 2)])
ng_spb += spb + pcapng([(f, 0) for f, _ in good_frames(4, GOOD - 2)])[len(pcapng([])):]
case("pcapng_simple_packet_block", "a pcapng simple packet block (no time) among enhanced ones: skipped, counted",
     None, {"frame_no_time": 1}, malformed=1, fmt="pcapng", data=ng_spb,
     check="count(*) > 0 AND (SELECT first_ts = to_timestamp(1700000000) FROM spamhints.load)")
case("pcapng_frame_time_zero", "a pcapng frame stamped 0 (1970-01-01 00:00:00): no time, skipped, counted",
     None, {"frame_no_time": 1}, malformed=1, fmt="pcapng",
     data=pcapng([(f, 0) for f, _ in good_frames(1, 2)] + [(udp_frame(good_datagram(3)), 0, 0)] +
                 [(f, 0) for f, _ in good_frames(4, GOOD - 2)]))


# ---------------------------------------------------------------------------
# More hostile and unusual captures (0.2): the collector's frames over IPv6, fragmented, with UDP
# lengths that disagree with IP; pcap byte orders and nanosecond files; pcapng interfaces of other
# link types, time resolutions, options and unknown blocks; sFlow agents over IPv6, samples of
# other enterprises, counter samples, records not padded to 4, wrapping counters; sampled packets
# with a whole IPv6 extension chain and TCP data offsets out of bounds.
# ---------------------------------------------------------------------------

def udp6_frame(payload, dport=6343):
    udp = struct.pack(">HHHH", 50000, dport, 8 + len(payload), 0) + payload
    return ethernet(0x86DD, ipv6_header(bytes.fromhex("20010db8000000000000000000000001"),
                                        bytes.fromhex("20010db80000000000000000000000c8"), 17, len(udp)) + udp)


def ip_packet(payload, udp_len=None, checksum=0):
    """The collector's IPv4 packet (no link layer) of a UDP datagram to 6343."""
    udp = struct.pack(">HHHH", 50000, 6343, 8 + len(payload) if udp_len is None else udp_len, checksum) + payload
    return ipv4_header(AGENT, COLLECTOR, 17, len(udp)) + udp


case("frame_ipv6_collector", "the collector reached over IPv6 (UDP/IPv6 to 6343): loaded",
     around([(udp6_frame(good_datagram(3)), None)]), {}, extra_rows=SMTP_PER_GOOD, not_smtp=GOOD + 1,
     check="count(*) FILTER (WHERE s.frame = 3) = 2")
case("frame_ipv6_collector_8021q", "the collector over IPv6 behind an 802.1Q tag: loaded",
     around([(tagged([(0x8100, 9)], 0x86DD, udp6_frame(good_datagram(3))[14:]), None)]), {},
     extra_rows=SMTP_PER_GOOD, not_smtp=GOOD + 1, check="count(*) FILTER (WHERE s.frame = 3) = 2")

whole_udp = ip_packet(good_datagram(3))
later = ipv4_header(AGENT, COLLECTOR, 17, len(whole_udp) - 20 - 200, frag=25) + whole_udp[20 + 200:]
first = ipv4_header(AGENT, COLLECTOR, 17, 200, mf=True) + whole_udp[20:20 + 200]
case("frame_fragments_out_of_order",
     "the collector's datagram in two IPv4 fragments, the later one first: neither loaded, both counted",
     around([(ethernet(0x0800, later), None), (ethernet(0x0800, first), None)]),
     {"frame_filtered": 1, "frame_fragment": 1}, malformed=1)
case("frame_udp_length_past_ip", "a UDP length 40 bytes past the end of its (unfragmented) IP packet",
     around([(ethernet(0x0800, ip_packet(good_datagram(3), udp_len=8 + len(good_datagram(3)) + 40)), None)]),
     {"frame_bad_udp_length": 1}, malformed=1)
case("frame_udp_length_below_8", "a UDP length of 4 (less than its own header)",
     around([(ethernet(0x0800, ip_packet(good_datagram(3), udp_len=4)), None)]),
     {"frame_bad_udp_length": 1}, malformed=1)
case("frame_udp_length_short_of_ip",
     "a UDP length 40 bytes short of its IP packet: the datagram is what UDP says, its last sample past its end",
     around([(ethernet(0x0800, ip_packet(good_datagram(3), udp_len=8 + len(good_datagram(3)) - 40)), None)]),
     {"bad_length": 1}, malformed=1)
case("frame_udp_checksum_wrong",
     "a UDP checksum that is wrong (as checksum offload leaves it in a capture): not checked, loaded",
     around([(ethernet(0x0800, ip_packet(good_datagram(3), checksum=0xdead)), None)]), {},
     extra_rows=SMTP_PER_GOOD, not_smtp=GOOD + 1, check="count(*) FILTER (WHERE s.frame = 3) = 2")
case("frame_ethernet_padding", "an IPv4 packet followed by 20 bytes of Ethernet trailer: loaded",
     around([(udp_frame(good_datagram(3)) + b"\xff" * 20, None)]), {},
     extra_rows=SMTP_PER_GOOD, not_smtp=GOOD + 1, check="count(*) FILTER (WHERE s.frame = 3) = 2")


def pcap_raw(frames, magic=0xa1b2c3d4, order="<", subsec=None, linktype=1):
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for i, (data, _) in enumerate(frames):
        out += struct.pack(order + "IIII", 1700000000 + i, 0 if subsec is None else subsec, len(data), len(data)) + data
    return out


case("pcap_nanosecond", "a pcap of nanosecond magic, frames at .123456789 s: loaded at .123456 (microseconds)",
     None, {}, data=pcap_raw(good_frames(), magic=0xa1b23c4d, subsec=123456789),
     check="bool_and(s.ts = to_timestamp(1700000000 + s.frame - 1) + interval '123456 microseconds')")
case("pcap_big_endian", "a pcap written big-endian (the other byte order): loaded",
     None, {}, data=pcap_raw(good_frames(), order=">", subsec=5),
     check="bool_and(s.ts = to_timestamp(1700000000 + s.frame - 1) + interval '5 microseconds')")
case("pcap_times_out_of_order", "pcap frames stamped late, early, between: loaded, first_ts/last_ts the extremes",
     None, {}, data=pcap_at(good_frames(), [1700000900, 1700000000, 1700000500]),
     check="bool_or(s.frame = 2 AND s.ts = to_timestamp(1700000000)) AND "
           "(SELECT first_ts = to_timestamp(1700000000) AND last_ts = to_timestamp(1700000900) FROM spamhints.load)")


def sll(ip):
    return struct.pack(">HHH8sH", 0, 1, 6, b"\x00\x11\x22\x33\x44\x55\x00\x00", 0x0800) + ip


def sll2(ip):
    return struct.pack(">HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, b"\x00\x11\x22\x33\x44\x55\x00\x00") + ip


def ng_option(code, value):
    return struct.pack("<HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


def ng_idb(linktype, options=b""):
    return pcapng_block(1, struct.pack("<HHI", linktype, 0, 65535) + options +
                        (struct.pack("<HH", 0, 0) if options else b""))


def ng_epb(iface, ts, data, options=b""):
    return pcapng_block(6, struct.pack("<IIIII", iface, ts >> 32, ts & 0xffffffff, len(data), len(data)) +
                        data + b"\x00" * (-len(data) % 4) + options + (struct.pack("<HH", 0, 0) if options else b""))


NG_SHB = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
ips = [ip_packet(good_datagram(s)) for s in range(1, 7)]
case("pcapng_link_types", "a pcapng with interfaces Ethernet, Linux SLL, SLL2, raw IP, NULL, loopback: all loaded",
     None, {}, fmt="pcapng", extra_rows=3 * SMTP_PER_GOOD, not_smtp=GOOD + 3,
     data=NG_SHB + ng_idb(1) + ng_idb(113) + ng_idb(276) + ng_idb(101) + ng_idb(0) + ng_idb(108) +
     ng_epb(0, 1700000000 * 10**6, ethernet(0x0800, ips[0])) +
     ng_epb(1, 1700000001 * 10**6, sll(ips[1])) +
     ng_epb(2, 1700000002 * 10**6, sll2(ips[2])) +
     ng_epb(3, 1700000003 * 10**6, ips[3]) +
     ng_epb(4, 1700000004 * 10**6, struct.pack("<I", 2) + ips[4]) +
     ng_epb(5, 1700000005 * 10**6, struct.pack(">I", 2) + ips[5]),
     check="count(DISTINCT s.frame) = 6 AND count(*) = 12")
case("pcapng_tsresol", "pcapng interfaces with if_tsresol nanoseconds and 2^-10 s: the times read in those units",
     None, {}, fmt="pcapng",
     data=NG_SHB + ng_idb(1, ng_option(9, b"\x09")) + ng_idb(1, ng_option(9, b"\x8a")) + ng_idb(1) +
     ng_epb(0, 1700000000 * 10**9 + 250000000, udp_frame(good_datagram(1))) +
     ng_epb(1, 1700000001 * 1024 + 512, udp_frame(good_datagram(2))) +
     ng_epb(2, 1700000002 * 10**6 + 7, udp_frame(good_datagram(3))),
     check="bool_and(s.ts = CASE s.frame WHEN 1 THEN to_timestamp(1700000000.25) "
           "WHEN 2 THEN to_timestamp(1700000001.5) ELSE to_timestamp(1700000002.000007) END)")
case("pcapng_options_unknown_blocks",
     "pcapng with options on every block, a comment, a name-resolution, a custom and an unknown block: loaded",
     None, {}, fmt="pcapng",
     data=pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + ng_option(1, b"a comment") +
                       ng_option(2, b"hw") + struct.pack("<HH", 0, 0)) +
     ng_idb(1, ng_option(2, b"eth0") + ng_option(1, b"x")) +
     pcapng_block(0x0BAD, b"\x01\x02\x03") +
     ng_epb(0, 1700000000 * 10**6, udp_frame(good_datagram(1)), ng_option(1, b"frame comment") + ng_option(2, b"\x01\x00\x00\x00")) +
     pcapng_block(4, struct.pack("<HH4s", 1, 4 + 6, bytes(AGENT)) + b"agent\x00" + b"\x00" * 2 + struct.pack("<HH", 0, 0)) +
     pcapng_block(0x00000BAD, struct.pack("<I", 32473) + b"custom data") +
     ng_epb(0, 1700000001 * 10**6, udp_frame(good_datagram(2))) +
     pcapng_block(0x40000BAD, struct.pack("<I", 32473) + b"custom, do not copy") +
     pcapng_block(0x12345678, b"\x00" * 16) +
     ng_epb(0, 1700000002 * 10**6, udp_frame(good_datagram(3))),
     check="array_agg(DISTINCT s.frame ORDER BY s.frame) = '{2,4,6}'")
case("pcapng_numbered_blocks",
     "pcapng with a systemd journal entry, a sysdig event and a custom block between the packets: "
     "loaded, frame numbers Wireshark's (it numbers those blocks as frames; libpcap skips them)",
     None, {}, fmt="pcapng",
     data=NG_SHB + ng_idb(1) +
     pcapng_block(9, b"__CURSOR=s=abc\n__REALTIME_TIMESTAMP=1700000000500000\nMESSAGE=hello\n\n") +
     ng_epb(0, 1700000000 * 10**6, udp_frame(good_datagram(1))) +
     pcapng_block(0x204, b"\x00" * 32) + pcapng_block(0x204, b"\x00" * 32) +
     ng_epb(0, 1700000001 * 10**6, udp_frame(good_datagram(2))) +
     pcapng_block(0x40000BAD, struct.pack("<I", 32473) + b"x") +
     ng_epb(0, 1700000002 * 10**6, udp_frame(good_datagram(3))) +
     pcapng_block(0x0BAD, struct.pack("<I", 32473)),
     check="array_agg(DISTINCT s.frame ORDER BY s.frame) = '{2,5,7}'")


def be_block(kind, body):
    body += b"\x00" * (-len(body) % 4)
    return struct.pack(">II", kind, 12 + len(body)) + body + struct.pack(">I", 12 + len(body))


def be_epb(iface, ts, data):
    return be_block(6, struct.pack(">IIIII", iface, ts >> 32, ts & 0xffffffff, len(data), len(data)) + data)


case("pcapng_section_other_byte_order",
     "a little-endian pcapng section, then mid-file a big-endian one (with a custom block): all loaded, "
     "frame numbers counting on across the sections as Wireshark's",
     None, {}, fmt="pcapng",
     data=NG_SHB + ng_idb(1) + ng_epb(0, 1700000000 * 10**6, udp_frame(good_datagram(1))) +
     be_block(0x0A0D0D0A, struct.pack(">IHHq", 0x1A2B3C4D, 1, 0, -1)) + be_block(1, struct.pack(">HHI", 1, 0, 65535)) +
     be_epb(0, 1700000001 * 10**6, udp_frame(good_datagram(2))) +
     be_block(0x00000BAD, struct.pack(">I", 32473) + b"be") +
     be_epb(0, 1700000002 * 10**6, udp_frame(good_datagram(3))),
     check="array_agg(DISTINCT s.frame ORDER BY s.frame) = '{1,2,4}'")
case("pcap_caplen_past_snaplen",
     "pcap records whose caplen is longer than the file's snaplen of 64 (Wireshark reads them whole): loaded",
     None, {}, data=pcap(good_frames(), snaplen=64))


def datagram_v5_agent6(samples, seq):
    return struct.pack(">II", 5, 2) + bytes.fromhex("20010db8000000000000000000000001") + struct.pack(
        ">IIII", 0, seq, 1000 * seq, len(samples)) + b"".join(samples)


def counter_sample(seq=1):
    generic = struct.pack(">IIQIIIIIIIIIIIIIIIII", 3, 6, 10**9, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    generic = generic[:88]
    body = struct.pack(">III", seq, 3, 1) + struct.pack(">II", 1, len(generic)) + generic
    return struct.pack(">II", 2, len(body)) + body


case("agent_ipv6", "a datagram from an agent with an IPv6 address: loaded under that agent",
     around([(udp_frame(datagram_v5_agent6([flow_sample_v5([raw_header_record(smtp_v4(40700))], seq=400)], 1)), None)]),
     {}, extra_rows=1,
     check="bool_or(s.src_port = 40700 AND host(s.agent) = '2001:db8::1') AND "
           "(SELECT count(*) = 2 AND bool_or(host(agent) = '2001:db8::1') FROM spamhints.load_agent)")
case("sample_other_enterprise", "a sample of enterprise 9 format 1 beside a flow sample: the flow sample loaded",
     around([(udp_frame(datagram_v5([struct.pack(">II", 9 << 12 | 1, 12) + b"\x00\x00\x00\x01" * 3,
                                     flow_sample_v5([raw_header_record(smtp_v4(40701))], seq=401)], 3)), None)]),
     {}, extra_rows=1, check="bool_or(s.src_port = 40701)")
case("record_other_enterprise", "a flow record of enterprise 9 before the raw header: the header loaded",
     around([(udp_frame(datagram_v5([flow_sample_v5([struct.pack(">II", 9 << 12 | 1, 8) + b"\x00" * 8,
                                                     raw_header_record(smtp_v4(40702))], seq=402)], 3)), None)]),
     {}, extra_rows=1, check="bool_or(s.src_port = 40702)")
case("counter_samples_mixed", "counter samples before and after a flow sample: counted, the flow sample loaded",
     around([(udp_frame(datagram_v5([counter_sample(1), flow_sample_v5([raw_header_record(smtp_v4(40703))], seq=403),
                                     counter_sample(2)], 3)), None)]),
     {}, extra_rows=1, check="bool_or(s.src_port = 40703) AND (SELECT counter_samples = 2 FROM spamhints.load)")
odd = struct.pack(">II", 1234, 6) + b"\x00" * 6   # an unknown record, 6 bytes, not padded
case("record_length_not_multiple_of_4",
     "a flow record 6 bytes long, the next right after it (unpadded, as goflow2's drop sample is): skipped by its length, "
     "the raw header after it loaded",
     around([(udp_frame(datagram_v5([flow_sample_v5([odd, raw_header_record(smtp_v4(40704))], seq=404)], 3)), None)]),
     {}, extra_rows=1, check="bool_or(s.src_port = 40704)")

ext_full = [(0, b"\x00\x00" + b"\x00" * 6), (43, b"\x00\x00\x00\x00" + b"\x00" * 4),
            (44, b"\x00\x00\x00\x01\x00\x00\x00\x07"), (60, b"\x00\x00" + b"\x00" * 6)]
case("packet_ipv6_chain_with_first_fragment",
     "IPv6: hop-by-hop, routing, fragment (offset 0, more to come), destination options, then TCP: loaded",
     around([(udp_frame(one_sample(smtp_v6(ext_full, sport=40800), 3)), None)]), {}, extra_rows=1,
     check="bool_or(s.src_port = 40800 AND s.dst_port = 25 AND s.smtp = 'MAIL' AND s.ip_len = 40 + 32 + 20 + 17)")


def smtp_v4_doff(doff, payload=b"EHLO x\r\n", sport=40900):
    tcp = struct.pack(">HHIIBBHHH", sport, 25, 1, 1, doff << 4, 0x18, 65535, 0, 0) + payload
    return ethernet(0x0800, ipv4_header(V4_CLIENT, V4_SERVER, 6, len(tcp)) + tcp)


case("packet_tcp_data_offset_below_5", "TCP data offset 4 (16 bytes, less than a TCP header): ports and flags, no verb",
     around([(udp_frame(one_sample(smtp_v4_doff(4), 3)), None)]), {}, extra_rows=1,
     check="bool_or(s.src_port = 40900 AND s.tcp_flags = 24 AND s.smtp IS NULL)")
case("packet_tcp_data_offset_past_header", "TCP data offset 15 (60 bytes) in a 28-byte TCP segment: no verb",
     around([(udp_frame(one_sample(smtp_v4_doff(15, sport=40901), 3)), None)]), {}, extra_rows=1,
     check="bool_or(s.src_port = 40901 AND s.tcp_flags = 24 AND s.smtp IS NULL)")

WRAP_SEQS = [0xFFFFFFFE, 0xFFFFFFFF, 0, 1]


def wrap_datagram(i):
    """The i-th of four datagrams whose sequence numbers, sample sequence numbers and sample pools wrap."""
    seq = WRAP_SEQS[i]
    body = struct.pack(">IIIIIIII", seq, 3, 1000, (0xFFFFF000 + 1000 * i) & 0xffffffff,
                       (0xFFFFFFFE + i) & 0xffffffff, 3, 4, 1) + raw_header_record(smtp_v4(41200 + i))
    sample = struct.pack(">II", 1, len(body)) + body
    return struct.pack(">II", 5, 1) + bytes(AGENT) + struct.pack(">IIII", 0, seq, 5000000 + 1000 * i, 1) + sample


pool_wrap = [udp_frame(wrap_datagram(i)) for i in range(4)]
case("sequence_wraps", "datagram and sample sequence numbers (and sample pools) wrapping at 2^32: nothing lost",
     None, {}, not_smtp=0, extra_rows=4 - GOOD * SMTP_PER_GOOD,
     data=pcap([(f, None) for f in pool_wrap]),
     check="count(*) = 4 AND (SELECT lost_datagrams = 0 FROM spamhints.load) AND "
           "(SELECT lost = 0 AND resets = 0 FROM spamhints.load_agent)")


def pool_wrap_datagram(i):
    """The i-th of four datagrams of one source whose sample pool (and drops) wrap at 2^32."""
    body = struct.pack(">IIIIIIII", 10 + i, 3, 1000, POOL_WRAP[i], DROPS_WRAP[i], 3, 4, 1) + \
        raw_header_record(smtp_v4(41300 + i))
    sample = struct.pack(">II", 1, len(body)) + body
    return struct.pack(">II", 5, 1) + bytes(AGENT) + struct.pack(">IIII", 0, 1 + i, 6000000 + 1000 * i, 1) + sample


# pool steps of 1100 (2^32-2000, 2^32-900, 200, 1300: it wraps after the second), 3 sample steps:
# effective rate 3300 / 3 = 1100 against 1000 configured; drops 2^32-1, 2^32-1, 1, 4: steps 0 + 2 + 3 = 5
POOL_WRAP = [2**32 - 2000, 2**32 - 900, 200, 1300]
DROPS_WRAP = [2**32 - 1, 2**32 - 1, 1, 4]
case("sample_pool_wraps", "a sample pool and drops counter wrapping at 2^32: the rates and drops across the wrap",
     None, {}, not_smtp=0, extra_rows=4 - GOOD * SMTP_PER_GOOD,
     data=pcap([(udp_frame(pool_wrap_datagram(i)), None) for i in range(4)]),
     check="count(*) = 4 AND (SELECT configured_rate = 1000 AND effective_rate = 1100 AND rate_samples = 3 "
           "AND sample_drops = 5 AND lost = 0 AND resets = 0 FROM spamhints.load_agent)")
case("sampling_rate_zero", "an SMTP sample with sampling rate 0 (no sFlow agent samples 1 in 0)",
     around([(udp_frame(one_sample(full_v4, 3, rate=0)), None)]), {"sampling_rate_out_of_range": 1})


def sub_agent_datagram(sub_agent, seq, samples):
    return struct.pack(">II", 5, 1) + bytes(AGENT) + struct.pack(">IIII", sub_agent, seq, 1000 * seq, len(samples)) + \
        b"".join(samples)


case("sampling_rate_zero_whole_agent",
     "a sub-agent whose every flow sample says sampling rate 0: its SMTP samples counted, its rates NULL, the load done",
     around([(udp_frame(sub_agent_datagram(7, i + 1, [flow_sample_v5([raw_header_record(smtp_v4(41300 + i))],
                                                                     seq=500 + i, rate=0)])), None) for i in range(3)]),
     {"sampling_rate_out_of_range": 3},
     check="count(*) > 0 AND (SELECT configured_rate IS NULL AND effective_rate IS NULL AND rate_samples = 0 "
           "FROM spamhints.load_agent WHERE sub_agent = 7)")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "cases.tsv"), "w") as manifest:
        for c in cases:
            ext = "pcapng" if c["fmt"] == "pcapng" else "pcap"
            if c["files"] is None:
                data = c["data"] if c["data"] is not None else (
                    pcapng([(f, 0) for f, _ in c["frames"]]) if c["fmt"] == "pcapng" else pcap(c["frames"]))
                with open(os.path.join(out, "%s.%s" % (c["name"], ext)), "wb") as f:
                    f.write(data)
                files = ["%s.%s" % (c["name"], ext)]
            else:
                files = c["files"]
            manifest.write("\t".join([c["name"], ",".join(files), str(c["exit"]), str(c["rows"]),
                                      str(c["malformed"]),
                                      "-" if c["skipped"] is None else json.dumps(c["skipped"], sort_keys=True),
                                      c["check"], c["what"]]) + "\n")


if __name__ == "__main__":
    main()
