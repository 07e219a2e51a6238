#!/usr/bin/env python3
"""tests/e2e/tshark_inner.py: the sampled TCP packets of one frame as tshark dissects them, with
the addresses of the innermost IP header before the TCP header (tunnels, MPLS, PPPoE, ...).

    tshark -r FILE -T json --no-duplicate-keys -J "frame sflow" | tshark_inner.py FRAME

Prints one line per sampled TCP packet of frame FRAME: src dst sport dport (sorted).
Only the Python 3 standard library is used.
"""
import ipaddress
import json
import sys


def items(d):
    for k, v in d.items():
        for e in (v if isinstance(v, list) else [v]):
            yield k, e


def trees(node):
    if isinstance(node, list):
        for e in node:
            yield from trees(e)
    elif isinstance(node, dict):
        for k, v in items(node):
            if k == "sflow_245.header_tree":
                yield v
            elif isinstance(v, (dict, list)):
                yield from trees(v)


def first(v):
    return v[0] if isinstance(v, list) else v


def main():
    frame = sys.argv[1]
    out = []
    for p in json.load(sys.stdin):
        layers = p["_source"]["layers"]
        if first(layers["frame"]["frame.number"]) != frame:
            continue
        for tree in trees(layers.get("sflow")):
            ip = None
            for k, v in items(tree):
                if k == "ip" and isinstance(v, dict):
                    ip = (first(v["ip.src"]), first(v["ip.dst"]))
                elif k == "ipv6" and isinstance(v, dict):
                    ip = (first(v["ipv6.src"]), first(v["ipv6.dst"]))
                elif k == "tcp" and isinstance(v, dict) and ip:
                    out.append("%s %s %s %s" % (ipaddress.ip_address(ip[0]).compressed,
                                                ipaddress.ip_address(ip[1]).compressed,
                                                first(v["tcp.srcport"]), first(v["tcp.dstport"])))
                    break
    print("\n".join(sorted(out)))


if __name__ == "__main__":
    main()
