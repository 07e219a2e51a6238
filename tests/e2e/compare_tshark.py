#!/usr/bin/env python3
"""Compare the loader's rows of one capture with tshark's decoding of it.

Usage:
  compare_tshark.py ORACLE.tsv OURS.tsv LOAD.tsv PORTS [REJECTS]

ORACLE.tsv  tshark -T json ... | tshark_sflow_oracle.py --header --all --ipdata
OURS.tsv    the load's rows: frame agent sampling_rate src dst sport dport
            tcp_flags vlan gw_src_as gw_dst_as (psql COPY ... TO STDOUT)
LOAD.tsv    one line: flow_samples sampled_packets (from spamhints.load)
PORTS       the SMTP ports, comma-separated
REJECTS     datagrams the loader rejects as malformed in this file (default 0);
            when not 0, tshark may have read samples out of them, so counts
            are not compared (rows still are)

Of the extended gateway only src_as is compared: the oracle's gw_dst_as is the
last sflow_245.dstAS, which tshark also uses for communities.
Rules (see shared/data/tshark-oracle.md): frames that tshark flags malformed
are left out on both sides (tshark gives up on some datagrams a correct
decoder reads); an "IPv4/IPv6 data" record stands for a sampled packet only
in a flow sample without a raw header record. Rows are compared as a
multiset, exactly. Counts of flow samples and sampled packets must be equal
when tshark flagged no frame, and at least tshark's otherwise.
Exit status 0 when everything agrees; the reasons otherwise.
"""
import collections
import ipaddress
import sys


def none(v):
    return None if v in ("-", "\\N", "", None) else v


def addr(v):
    return ipaddress.ip_address(v).compressed if none(v) else None


def num(v, mask=None):
    v = none(v)
    if v is None:
        return None
    n = int(v, 0)
    return n & mask if mask is not None else n


def main():
    oracle_path, ours_path, load_path, ports_arg = sys.argv[1:5]
    ports = {int(p) for p in ports_arg.split(",")}
    rejects = int(sys.argv[5]) if len(sys.argv) > 5 else 0

    with open(oracle_path) as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    cols, rows = lines[0], [dict(zip(lines[0], l)) for l in lines[1:]]

    malformed = {r["frame"] for r in rows if r["malformed"] == "1"}
    with_header = {(r["frame"], r["sample_no"]) for r in rows
                   if r["header_protocol"] not in ("-", "ipv4-data", "ipv6-data")}

    flow_samples = set()
    packets = 0
    expected = collections.Counter()
    for r in rows:
        if r["frame"] in malformed or r["sample_type"] not in ("1", "3"):
            continue
        key = (r["frame"], r["sample_no"])
        flow_samples.add(key)
        hp = r["header_protocol"]
        if hp == "-":
            continue
        if hp in ("ipv4-data", "ipv6-data") and key in with_header:
            continue
        packets += 1
        is_tcp = r["ip_proto"] == "6" or (hp not in ("ipv4-data", "ipv6-data") and none(r["tcp_flags"]))
        if not is_tcp or none(r["sport"]) is None or none(r["dport"]) is None:
            continue
        if int(r["sport"]) not in ports and int(r["dport"]) not in ports:
            continue
        expected[(int(r["frame"]), addr(r["agent"]), num(r["sampling_rate"]), addr(r["src"]),
                  addr(r["dst"]), int(r["sport"]), int(r["dport"]), num(r["tcp_flags"], 0xFF),
                  num(r["vlan"]), num(r["gw_src_as"]))] += 1

    got = collections.Counter()
    with open(ours_path) as f:
        for line in f:
            v = line.rstrip("\n").split("\t")
            if v[0] in malformed:
                continue
            got[(int(v[0]), addr(v[1]), num(v[2]), addr(v[3]), addr(v[4]), int(v[5]), int(v[6]),
                 num(v[7]), num(v[8]), num(v[9]))] += 1

    with open(load_path) as f:
        load_flow, load_packets = (int(x) for x in f.read().split())

    problems = []
    if got != expected:
        missing = expected - got
        extra = got - expected
        problems.append("rows differ: %d tshark rows missing, %d rows tshark does not have"
                        % (sum(missing.values()), sum(extra.values())))
        for k in list(missing)[:5]:
            problems.append("  missing: %s" % (k,))
        for k in list(extra)[:5]:
            problems.append("  extra:   %s" % (k,))
    if rejects:
        pass
    elif malformed:
        if load_flow < len(flow_samples) or load_packets < packets:
            problems.append("counts below tshark's: flow samples %d < %d or packets %d < %d"
                            % (load_flow, len(flow_samples), load_packets, packets))
    elif (load_flow, load_packets) != (len(flow_samples), packets):
        problems.append("counts differ: flow samples %d vs tshark %d, sampled packets %d vs tshark %d"
                        % (load_flow, len(flow_samples), load_packets, packets))

    summary = ("%d SMTP rows, %d flow samples, %d sampled packets, %d frames tshark flags malformed"
               % (sum(expected.values()), len(flow_samples), packets, len(malformed)))
    if problems:
        print("# " + summary)
        for p in problems:
            print("# " + p)
        return 1
    print("# " + summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
