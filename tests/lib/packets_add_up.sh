# tests/lib/packets_add_up.sh: the check that every sampled packet of a load is
# accounted for, sourced after tap.sh.
#
#   packets_add_up DB LOAD_ID LABEL
#
# smtp_rows + the packet_* counts of skipped + sampling_rate_out_of_range
# (an SMTP packet whose rate no column holds) = sampled_packets. Datagrams
# skipped whole (malformed, agent_limit) count in neither side.
packets_add_up() {
  local got
  got=$(psql -X -d "$1" -Atc "SELECT smtp_rows || ' + ' || coalesce(sum(value::bigint), 0) || ' = ' || sampled_packets
      FROM spamhints.load LEFT JOIN LATERAL jsonb_each_text(skipped) ON key LIKE 'packet\_%' OR key = 'sampling_rate_out_of_range'
      WHERE load_id = $2 GROUP BY smtp_rows, sampled_packets")
  local a=${got%% + *} rest=${got#* + }
  local b=${rest%% = *} c=${got##* = }
  if [ -n "$got" ] && [ $((a + b)) -eq "$c" ]; then
    ok 0 "$3: SMTP rows and skipped sampled packets add up to sampled_packets ($got)"
  else
    ok 1 "$3: SMTP rows and skipped sampled packets add up to sampled_packets (got $got)"
  fi
}
