#!/usr/bin/env bash
# bench/tshark-pipeline.sh: what an analyst without spamhints would type to
# get the sampled SMTP packets of an sFlow capture into PostgreSQL: tshark's
# field output, a small awk that makes one line per sampled packet, psql's
# \copy into the same table the loader fills. bench/run.sh times it.
#
#   bash bench/tshark-pipeline.sh CAPTURE.pcap LOAD_ID     (PG* variables say where)
#
# tshark prints one line per datagram, each field a comma-separated list
# with one entry per occurrence: ip.* and tcp.* are lists over every header
# in the datagram (the outer IPv4 header of the datagram itself first, then
# the sampled ones), sflow.flow_sample.* lists over the flow samples. The
# awk walks the inner IPv4 headers and pairs each TCP one with the next
# tcp.* entry, the way one would by hand. It is the realistic shortcut, not
# a correct decoder: IPv6 samples are not paired (ipv6.* is a separate list
# whose order against ip.* is lost), a datagram whose outer header is IPv6
# is read as if its first inner header were the outer one's, and the sample
# sequence number is the one at the same position, which shifts when a
# datagram holds non-IP samples. bench/run.sh reports how many rows it got.
set -euo pipefail
capture=$1
load_id=$2

tshark -r "$capture" -Y 'tcp.port == 25' -T fields -E separator=/t -E aggregator=, \
  -e frame.number -e frame.time_epoch -e sflow_245.agent -e sflow_245.agent.v6 \
  -e sflow.flow_sample.sequence_number -e sflow.flow_sample.sampling_rate \
  -e ip.proto -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport -e tcp.flags 2>/dev/null |
awk -v load="$load_id" 'BEGIN { FS = OFS = "\t" }
{
  agent = $3 != "" ? $3 : $4
  split($2, t, ".")
  ts = strftime("%Y-%m-%d %H:%M:%S", t[1], 1) "." substr(t[2], 1, 6) "+00"
  ns = split($5, seq, ","); split($6, rate, ",")
  n = split($7, proto, ","); split($8, src, ","); split($9, dst, ",")
  split($10, sport, ","); split($11, dport, ","); split($12, flags, ",")
  k = 0
  for (i = 2; i <= n; i++) {          # 1 is the datagram'"'"'s own IPv4 header
    if (proto[i] != 6) continue
    k++
    j = i - 1 <= ns ? i - 1 : ns
    if (sport[k] == 25 || dport[k] == 25)
      print load, $1, ts, agent, seq[j], rate[1], src[i], dst[i], sport[k], dport[k], flags[k] + 0
  }
}' |
psql -X -q -v ON_ERROR_STOP=1 -c '\copy spamhints.smtp_sample (load_id, frame, ts, agent, sample_seq, sampling_rate, src_ip, dst_ip, src_port, dst_port, tcp_flags) from pstdin'
