#!/usr/bin/env python3
"""Check a capture written by spamhints-gen against tshark, an independent sFlow decoder.

Usage:
    check_with_tshark.py CAPTURE.pcap ROWS.tsv TRUTH.txt [--networks NETWORKS.tsv]
                         [--oracle tshark_sflow_oracle.py] [--tshark tshark] [-v]

Runs the reference command of shared/data/tshark-oracle.md,

    tshark -r CAPTURE.pcap -T json --no-duplicate-keys -J "frame sflow" | tshark_sflow_oracle.py

and checks, for the datagrams the generator says are valid:
  * tshark decodes every one of them without flagging it malformed;
  * tshark's sampled TCP packets with port 25 at either end (frame, agent, sampling_rate, src,
    dst, sport, dport, tcp_flags, vlan) equal the --rows file as a multiset, and the rows' ts_usec
    equal the frames' timestamps;
  * the counts of the truth file, recomputed from tshark's view (samples, flags, agents and their
    sequence gaps, address census, hours, SMTP verbs and codes; with --networks also the census
    per AS).
and, for each `malformed_frame N reason` line of the truth, that tshark flags frame N as malformed
or does not take it for sFlow at all.

Only the Python 3 standard library is used.  Exit status 0 when everything matches, 1 otherwise.
"""
import argparse
import collections
import importlib.util
import ipaddress
import json
import os
import subprocess
import sys

FLAGS = ("_ws.malformed", "_ws.unreassembled", "_ws.short")
SMTP_VERBS = {"AUTH", "DATA", "EHLO", "HELO", "MAIL", "NOOP", "QUIT", "RCPT", "RSET", "STARTTLS"}


def find_oracle(explicit):
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [explicit, os.environ.get("TSHARK_SFLOW_ORACLE"),
                  os.path.join(here, "tshark_sflow_oracle.py"),
                  os.path.join(here, "..", "..", "..", "shared", "data", "tshark_sflow_oracle.py")]
    for c in candidates:
        if c and os.path.isfile(c):
            return c
    sys.exit("check_with_tshark: cannot find tshark_sflow_oracle.py (use --oracle)")


def first(v):
    if isinstance(v, list):
        return v[0] if v else None
    return v


def items(d):
    for k, v in d.items():
        if isinstance(v, list):
            for e in v:
                yield k, e
        else:
            yield k, v


def read_truth(path):
    scalars, agents, per_as, hours, words, malformed = {}, {}, {}, {}, {}, {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            key = parts[0]
            if key == "agent":
                agents[parts[1]] = {"version": parts[3], "datagrams": int(parts[5]),
                                    "lost": int(parts[7])}
            elif key == "as":
                per_as[int(parts[1])] = tuple(int(x) for x in parts[2:5])
            elif key == "hour":
                hours[int(parts[1])] = int(parts[2])
            elif key == "smtp_verb":
                words[parts[1]] = int(parts[2])
            elif key == "malformed_frame":
                malformed[int(parts[1])] = parts[2]
            else:
                scalars[key] = int(parts[1])
    return scalars, agents, per_as, hours, words, malformed


def outer_vlan(tree):
    """The outermost tag of a sampled Ethernet header: an 802.1ad S-tag or an 802.1Q tag."""
    for k, v in items(tree):
        if not isinstance(v, dict):
            continue
        if k == "ieee8021ad":
            return first(v.get("ieee8021ad.id"))
        if k == "vlan":
            return first(v.get("vlan.id"))
        if k in ("ip", "ipv6", "arp"):
            return None
    return None


def payload_word(header, sport, dport):
    """Parse a sampled Ethernet header; return the SMTP verb or reply code its TCP payload
    starts with, counted as the truth counts it (verbs to port 25, codes from port 25)."""
    i = 12
    etype = int.from_bytes(header[i:i + 2], "big")
    while etype in (0x8100, 0x88a8):
        i += 4
        etype = int.from_bytes(header[i:i + 2], "big")
    i += 2
    if etype == 0x0800:
        ihl = (header[i] & 15) * 4
        proto = header[i + 9]
        i += ihl
    elif etype == 0x86dd:
        proto = header[i + 6]
        i += 40
        while proto == 0:
            proto = header[i]
            i += (header[i + 1] + 1) * 8
    else:
        return None
    if proto != 6:
        return None
    i += (header[i + 12] >> 4) * 4
    text = header[i:i + 12].decode("latin-1")
    token = text.split(" ")[0].split("\r")[0]
    if token in SMTP_VERBS and dport == 25:
        return token
    code = text[:3]
    if code.isdigit() and text[3:4] in (" ", "-") and sport == 25:
        return code
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pcap")
    ap.add_argument("rows")
    ap.add_argument("truth")
    ap.add_argument("--networks")
    ap.add_argument("--oracle")
    ap.add_argument("--tshark", default="tshark")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    errors = []

    def check(what, got, want):
        if got != want:
            errors.append("%s: tshark %r, truth %r" % (what, got, want))
        elif args.verbose:
            print("ok %s = %r" % (what, got))

    truth, t_agents, t_as, t_hours, t_words, t_malformed = read_truth(args.truth)

    js = subprocess.run([args.tshark, "-r", args.pcap, "-T", "json", "--no-duplicate-keys",
                         "-J", "frame sflow"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                        check=True).stdout
    oracle_path = find_oracle(args.oracle)
    oracle_out = subprocess.run([sys.executable, oracle_path], input=js,
                                stdout=subprocess.PIPE, check=True).stdout.decode()
    spec = importlib.util.spec_from_file_location("tshark_sflow_oracle", oracle_path)
    oracle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(oracle)
    ports = subprocess.run([args.tshark, "-r", args.pcap, "-T", "fields", "-E", "occurrence=f",
                            "-e", "frame.number", "-e", "udp.dstport"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, check=True).stdout.decode()
    packets = json.loads(js)

    # Frame-level view.
    frames = {}
    for p in packets:
        layers = p["_source"]["layers"]
        num = int(first(layers["frame"]["frame.number"]))
        epoch = first(layers["frame"]["frame.time_epoch"])
        sec, frac = epoch.split(".")
        frames[num] = {
            "ts": int(sec) * 1000000 + int(frac[:6]),
            "sflow": layers.get("sflow"),
            # an exception ended tshark's dissection: _ws.malformed, or _ws.unreassembled
            # when an inner dissector left the packet marked as a fragment
            "flagged": [k for k in layers if k in FLAGS],
        }
    check("frames", len(frames), truth.get("frames"))
    to_6343 = sum(1 for line in ports.splitlines()
                  if line.split("\t")[1:2] == ["6343"])
    check("datagrams (frames to UDP port 6343)", to_6343, truth["datagrams"])

    # Malformed datagrams: flagged by tshark, or not sFlow to it.
    how = collections.Counter()
    for num, reason in sorted(t_malformed.items()):
        fr = frames.get(num)
        if fr is None:
            errors.append("malformed frame %d missing" % num)
        elif fr["sflow"] is None:
            how[(reason, "not sFlow")] += 1
        elif fr["flagged"]:
            how[(reason, "flagged " + "+".join(fr["flagged"]))] += 1
        else:
            errors.append("frame %d (%s) decoded by tshark without complaint" % (num, reason))
    for (reason, verdict), n in sorted(how.items()):
        print("malformed %-12s %3d x %s" % (reason, n, verdict))
    check("malformed_datagrams", len(t_malformed), truth["malformed_datagrams"])

    # Valid datagrams: decoded cleanly; per agent datagrams, versions, sequence gaps; samples.
    valid = [n for n, fr in sorted(frames.items()) if fr["sflow"] is not None
             and n not in t_malformed]
    check("valid_datagrams", len(valid), truth["valid_datagrams"])
    flagged = [n for n in valid if frames[n]["flagged"]]
    if flagged:
        errors.append("tshark flags valid frames: %s" % flagged[:20])
    per_agent = collections.defaultdict(lambda: {"datagrams": 0, "versions": set(), "seqs": []})
    n_flow = n_counter = 0
    words = collections.Counter()
    packets_seen = []     # one dict per raw header record, as the oracle would list it
    for n in valid:
        sf = frames[n]["sflow"]
        agent = first(sf.get("sflow_245.agent") or sf.get("sflow_245.agent.v6"))
        version = first(sf.get("sflow_245.version"))
        pa = per_agent[agent]
        pa["datagrams"] += 1
        pa["versions"].add(version)
        pa["seqs"].append(int(first(sf.get("sflow_245.sequence_number"))))
        sample_no = 0
        for _, s in items(sf):
            if not (isinstance(s, dict) and "sflow_245.sampletype" in s):
                continue
            sample_no += 1
            st = first(s["sflow_245.sampletype"])
            if st in ("2", "4"):
                n_counter += 1
                continue
            if st not in ("1", "3"):
                continue
            n_flow += 1
            # v5 keeps the raw header in a record; v2/v4 put its fields in the sample itself
            records = [s] if "sflow_245.header" in s else \
                [r for _, r in items(s) if isinstance(r, dict) and "sflow_245.header" in r]
            for r in records:
                tree = r.get("sflow_245.header_tree") or {}
                row = oracle.walk_header(tree)
                row.update(frame=str(n), sample_no=str(sample_no), agent=agent,
                           version=version,
                           sampling_rate=first(s.get("sflow.flow_sample.sampling_rate")))
                row["outer_vlan"] = outer_vlan(tree)
                hlen = int(first(r["sflow_245.header.sampled_header_length"]))
                row["raw"] = bytes.fromhex(first(r["sflow_245.header"]).replace(":", ""))[:hlen]
                packets_seen.append(row)
    check("flow_samples", n_flow, truth["flow_samples"])
    check("counter_samples", n_counter, truth["counter_samples"])
    lost_total = 0
    for agent, want in t_agents.items():
        pa = per_agent.get(agent, {"datagrams": 0, "versions": set(), "seqs": []})
        lost = sum(b - a - 1 for a, b in zip(pa["seqs"], pa["seqs"][1:]) if b > a)
        lost_total += lost
        check("agent %s datagrams" % agent, pa["datagrams"], want["datagrams"])
        if want["datagrams"]:
            check("agent %s version" % agent, pa["versions"], {want["version"]})
        check("agent %s lost" % agent, lost, want["lost"])
    check("agents", sorted(per_agent), sorted(a for a, w in t_agents.items() if w["datagrams"]))
    check("lost_datagrams", lost_total, truth["lost_datagrams"])

    # The oracle's own listing must agree with the walk above wherever it understands the
    # datagram: it reads v5 only (v2/v4 keep the header fields in the sample, not in a record),
    # and its vlan column is the first 802.1Q tag, the inner one behind an 802.1ad S-tag.
    cols = oracle.COLS
    by_key = {(p["frame"], p["sample_no"]): p for p in packets_seen}
    compared = 0
    valid_set = set(str(n) for n in valid)
    for line in oracle_out.splitlines():
        r = dict(zip(cols, line.split("\t")))
        if r["frame"] not in valid_set:
            continue
        p = by_key.get((r["frame"], r["sample_no"]))
        if p is None:
            errors.append("oracle row for frame %s sample %s not found" % (r["frame"],
                                                                           r["sample_no"]))
            continue
        compared += 1
        for c in ("agent", "sampling_rate", "src", "dst", "sport", "dport", "tcp_flags", "l3"):
            if (p.get(c) or "-") != r[c]:
                errors.append("frame %s sample %s: %s oracle %s, walk %s" % (
                    r["frame"], r["sample_no"], c, r[c], p.get(c)))
        if (p.get("vlan") or "-") != r["vlan"]:
            errors.append("frame %s sample %s: vlan oracle %s, walk %s" % (
                r["frame"], r["sample_no"], r["vlan"], p.get("vlan")))
    v5_packets = sum(1 for p in packets_seen if p["version"] == "5")
    check("oracle rows (v5 datagrams)", compared, v5_packets)
    print("oracle rows compared: %d (of %d sampled packets; v2/v4 ones are walked here only)"
          % (compared, len(packets_seen)))

    tshark_rows = collections.Counter()
    n_packets = n_smtp_any = 0
    flags = collections.Counter()
    est = ipv6 = vlan_rows = 0
    hours = collections.Counter()
    roles = collections.defaultdict(int)
    for r in packets_seen:
        n_packets += 1
        if not r.get("tcp_flags"):
            continue
        sp, dp = int(r["sport"]), int(r["dport"])
        if sp in (25, 465, 587) or dp in (25, 465, 587):
            n_smtp_any += 1
        if 25 not in (sp, dp):
            continue
        frame = int(r["frame"])
        fl = int(r["tcp_flags"], 16)
        flags["syn"] += bool(fl & 2 and not fl & 16)
        flags["syn_ack"] += bool(fl & 2 and fl & 16)
        flags["rst"] += bool(fl & 4)
        flags["fin"] += bool(fl & 1)
        est += int(r["sampling_rate"])
        ipv6 += r["l3"] == "6"
        vlan_rows += r["outer_vlan"] is not None
        hours[frames[frame]["ts"] // 1000000 % 86400 // 3600] += 1
        if dp == 25:
            roles[r["src"]] |= 1
            roles[r["dst"]] |= 2
        if sp == 25:
            roles[r["src"]] |= 2
            roles[r["dst"]] |= 1
        w = payload_word(r["raw"], sp, dp)
        if w:
            words[w] += 1
        tshark_rows[(frame, r["agent"], int(r["sampling_rate"]), r["src"], r["dst"], sp, dp, fl,
                     r["outer_vlan"] or "\\N")] += 1
    check("sampled_packets", n_packets, truth["sampled_packets"])
    check("smtp_rows", sum(tshark_rows.values()), truth["smtp_rows"])
    check("smtp_rows_25_465_587", n_smtp_any, truth["smtp_rows_25_465_587"])
    for k in ("syn", "syn_ack", "rst", "fin"):
        check(k, flags[k], truth[k])
    check("est_packets", est, truth["est_packets"])
    check("ipv6_rows", ipv6, truth["ipv6_rows"])
    check("vlan_rows", vlan_rows, truth["vlan_rows"])
    check("hours", {h: hours[h] for h in range(24)}, {h: t_hours.get(h, 0) for h in range(24)})
    check("smtp_verb", dict(words), t_words)
    census = collections.Counter(roles.values())
    check("ips", len(roles), truth["ips"])
    check("client_only", census[1], truth["client_only"])
    check("server_only", census[2], truth["server_only"])
    check("both", census[3], truth["both"])

    # The rows file, row by row.
    gen_rows = collections.Counter()
    bad_ts = 0
    with open(args.rows) as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            frame = int(c[0])
            if frame in frames and frames[frame]["ts"] != int(c[1]):
                bad_ts += 1
            gen_rows[(frame, c[2], int(c[3]), c[4], c[5], int(c[6]), int(c[7]), int(c[8]),
                      c[9])] += 1
    check("rows whose ts_usec differs from the frame time", bad_ts, 0)
    only_tshark = tshark_rows - gen_rows
    only_gen = gen_rows - tshark_rows
    check("rows only in tshark", sum(only_tshark.values()), 0)
    check("rows only in the rows file", sum(only_gen.values()), 0)
    for row in list(only_tshark)[:5]:
        print("  only tshark:", row)
    for row in list(only_gen)[:5]:
        print("  only rows file:", row)

    # Census per AS, through the networks file (longest prefix match).
    if args.networks:
        nets = []
        with open(args.networks) as f:
            for line in f:
                c = line.rstrip("\n").split("\t")
                nets.append((ipaddress.ip_network(c[0]), int(c[1])))
        nets.sort(key=lambda x: -x[0].prefixlen)
        per_as = collections.defaultdict(lambda: [0, 0, 0])
        for addr, role in roles.items():
            ip = ipaddress.ip_address(addr)
            asn = next((a for n, a in nets if ip.version == n.version and ip in n), None)
            if asn is None:
                errors.append("address %s in no network" % addr)
                continue
            per_as[asn][role - 1] += 1
        check("census per AS", {a: tuple(v) for a, v in per_as.items()}, t_as)

    print("%s: %d valid datagrams, %d sampled packets, %d port-25 rows, %d malformed" % (
        os.path.basename(args.pcap), len(valid), n_packets, sum(tshark_rows.values()),
        len(t_malformed)))
    if errors:
        for e in errors:
            print("MISMATCH", e)
        return 1
    print("OK: tshark agrees with the truth")
    return 0


if __name__ == "__main__":
    sys.exit(main())
