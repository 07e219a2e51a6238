-- sql/parts/17_collector_views.sql: the two views of live collection an
-- operator alerts on, one per collector and one per sFlow agent. After
-- 16_exactly_once.sql: collector_agent counts each datagram once from the
-- datagrams the loads took (spamhints.load_seqs), so that two collectors on
-- one stream, a spool file loaded again or a capture of the same traffic
-- double nothing and make up no gap or restart.

-- One row per collector: is it loading, and what did it lose?
CREATE VIEW spamhints.collector_status AS
SELECT l.collector,
       count(*) AS files,
       count(*) FILTER (WHERE l.recovered) AS recovered_files,
       min(l.spool_opened_at) AS first_opened,
       max(l.spool_closed_at) AS last_closed,
       max(l.finished_at) AS last_loaded,
       pg_catalog.clock_timestamp() - max(l.finished_at) AS since_last_load,
       sum(l.received) AS received,
       sum(l.refused) AS refused,
       sum(l.kernel_dropped) AS kernel_dropped,
       sum(l.datagrams) AS datagrams,
       sum(l.malformed) AS malformed,
       sum(l.smtp_rows) AS smtp_rows,
       sum(l.lost_datagrams) AS lost_in_files,
       sum(l.known_datagrams) AS known_datagrams
  FROM spamhints.load l
 WHERE l.collector IS NOT NULL AND l.finished_at IS NOT NULL
 GROUP BY l.collector;

COMMENT ON VIEW spamhints.collector_status IS
'Live collection, one row per collector (host and listen addresses): its spool files loaded, when the last one was, and the datagrams it received, refused (--agents), lost to the kernel (kernel_dropped) and found lost in transit within files; spamhints.collector_agent has the loss per agent across files and collectors, each datagram counted once. Alert on since_last_load above two rotations, or kernel_dropped growing.';
COMMENT ON COLUMN spamhints.collector_status.collector IS 'host name and --listen addresses of the collector';
COMMENT ON COLUMN spamhints.collector_status.files IS 'spool files loaded';
COMMENT ON COLUMN spamhints.collector_status.recovered_files IS 'of those, closed after a crash (their counts are not known)';
COMMENT ON COLUMN spamhints.collector_status.first_opened IS 'when its first spool file was opened';
COMMENT ON COLUMN spamhints.collector_status.last_closed IS 'when its last spool file was closed';
COMMENT ON COLUMN spamhints.collector_status.last_loaded IS 'when the load of its last spool file committed';
COMMENT ON COLUMN spamhints.collector_status.since_last_load IS 'time since then: more than two rotations means the collector stopped, no sFlow arrives or loads fail';
COMMENT ON COLUMN spamhints.collector_status.received IS 'datagrams read from its sockets (files not recovered)';
COMMENT ON COLUMN spamhints.collector_status.refused IS 'datagrams from senders not in --agents';
COMMENT ON COLUMN spamhints.collector_status.kernel_dropped IS 'datagrams the kernel dropped at its sockets (receive buffer full)';
COMMENT ON COLUMN spamhints.collector_status.datagrams IS 'sFlow datagrams decoded whole (received + refused = frames = datagrams + malformed + frame reasons); known_datagrams of them were loaded already and not again';
COMMENT ON COLUMN spamhints.collector_status.malformed IS 'datagrams skipped as malformed';
COMMENT ON COLUMN spamhints.collector_status.smtp_rows IS 'SMTP sample rows loaded';
COMMENT ON COLUMN spamhints.collector_status.lost_in_files IS 'datagrams lost in transit, from sequence gaps within each file (spamhints.collector_agent adds the gaps between files)';
COMMENT ON COLUMN spamhints.collector_status.known_datagrams IS 'of its datagrams, those loaded already (by another collector receiving the same stream, a spool file loaded again, a capture of the same traffic): not loaded again; datagrams - known_datagrams is what this collector added';

-- One row per agent and sub-agent: the union of the sequence numbers the loads
-- took, per run of the agent; gaps in it are loss, runs after the first restarts.
CREATE VIEW spamhints.collector_agent AS
WITH seen AS (
    -- what the collectors' spool files say of each agent
    SELECT a.agent, a.sub_agent, a.version, a.malformed, a.load_id, l.collector, l.first_ts, l.last_ts
      FROM spamhints.load_agent a
      JOIN spamhints.load l USING (load_id)
     WHERE l.collector IS NOT NULL
), taken AS (
    -- the datagrams any load took of those agents: each datagram once
    SELECT s.agent, s.sub_agent, s.boot, s.seqs, l.first_ts AS arrived,
           pg_catalog.tstzrange(l.first_ts, l.last_ts, '[]') AS arrival
      FROM spamhints.load_seqs s
      JOIN spamhints.load l USING (load_id)
     WHERE (s.agent, s.sub_agent) IN (SELECT agent, sub_agent FROM seen)
), boot_edges AS (
    -- boots within 10 s of one before them are one boot, as spamhints.known_datagrams() tells them
    SELECT t.*,
           coalesce(pg_catalog.lower(t.boot) > pg_catalog.max(pg_catalog.upper(t.boot)) OVER (
                        PARTITION BY t.agent, t.sub_agent ORDER BY pg_catalog.lower(t.boot), pg_catalog.upper(t.boot)
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) + interval '10 s', true) AS new_boot
      FROM taken t
), boot_numbered AS (
    SELECT b.*,
           pg_catalog.count(*) FILTER (WHERE b.new_boot) OVER (
               PARTITION BY b.agent, b.sub_agent ORDER BY pg_catalog.lower(b.boot), pg_catalog.upper(b.boot)
               ROWS UNBOUNDED PRECEDING) AS boot_no
      FROM boot_edges b
), boots AS (
    SELECT agent, sub_agent, boot_no,
           pg_catalog.min(pg_catalog.lower(boot)) AS booted,
           pg_catalog.min(arrived) AS arrived,
           pg_catalog.range_agg(seqs) AS seqs,
           pg_catalog.range_agg(arrival) AS arrival
      FROM boot_numbered
     GROUP BY agent, sub_agent, boot_no
), run_edges AS (
    -- a later boot is a restart only when datagrams of the boot before it arrived before it;
    -- when every one of them arrived after it, it is the same run told apart by a drifting
    -- uptime estimate (a fast replay of a long capture makes one boot of nearly every datagram)
    SELECT b.*,
           coalesce(b.booted > pg_catalog.lag(b.arrived) OVER (
                        PARTITION BY b.agent, b.sub_agent ORDER BY b.boot_no), true) AS new_run
      FROM boots b
), run_numbered AS (
    SELECT r.*,
           pg_catalog.count(*) FILTER (WHERE r.new_run) OVER (
               PARTITION BY r.agent, r.sub_agent ORDER BY r.boot_no ROWS UNBOUNDED PRECEDING) AS run_no
      FROM run_edges r
), runs AS (
    -- the union of the sequence numbers every load took in the run, and when they arrived
    SELECT agent, sub_agent, run_no, pg_catalog.range_agg(seqs) AS seqs,
           pg_catalog.range_agg(arrival) AS arrival
      FROM run_numbered
     GROUP BY agent, sub_agent, run_no
), collected AS (
    -- the runs whose datagrams arrived while a collector's spool file of the agent was open
    SELECT r.*
      FROM runs r
     WHERE EXISTS (SELECT FROM seen w
                    WHERE w.agent = r.agent AND w.sub_agent = r.sub_agent
                      AND r.arrival && pg_catalog.tstzrange(w.first_ts, w.last_ts, '[]'))
), run_counts AS (
    SELECT r.agent, r.sub_agent, r.run_no,
           (SELECT pg_catalog.sum(pg_catalog.upper(x) - pg_catalog.lower(x))
              FROM pg_catalog.unnest(r.seqs) x) AS datagrams,
           pg_catalog.upper(r.seqs) - pg_catalog.lower(r.seqs) AS span,
           pg_catalog.upper(r.seqs) - 1 AS last_seq
      FROM collected r
), seq_counts AS (
    SELECT agent, sub_agent,
           pg_catalog.sum(datagrams) AS datagrams,
           pg_catalog.sum(span - datagrams) AS missing,
           (pg_catalog.count(*) - 1)::numeric AS resets,
           (pg_catalog.array_agg(last_seq ORDER BY run_no DESC))[1] AS last_seq
      FROM run_counts
     GROUP BY agent, sub_agent
), per_collector AS (
    SELECT agent, sub_agent, collector,
           pg_catalog.count(DISTINCT load_id) AS files,
           pg_catalog.sum(malformed) AS malformed
      FROM seen
     GROUP BY agent, sub_agent, collector
), per_agent AS (
    SELECT agent, sub_agent,
           (pg_catalog.array_agg(version ORDER BY first_ts DESC, load_id DESC))[1] AS version,
           pg_catalog.min(first_ts) AS first_seen,
           pg_catalog.max(last_ts) AS last_seen
      FROM seen
     GROUP BY agent, sub_agent
), per_agent_collectors AS (
    SELECT agent, sub_agent, pg_catalog.max(files) AS files, pg_catalog.max(malformed) AS malformed
      FROM per_collector
     GROUP BY agent, sub_agent
)
SELECT a.agent, a.sub_agent, a.version, c.files,
       coalesce(s.datagrams, 0) AS datagrams,
       c.malformed,
       coalesce(s.missing, 0) AS lost,
       coalesce(s.resets, 0) AS resets,
       s.last_seq,
       a.first_seen, a.last_seen
  FROM per_agent a
  JOIN per_agent_collectors c USING (agent, sub_agent)
  LEFT JOIN seq_counts s USING (agent, sub_agent);

COMMENT ON VIEW spamhints.collector_agent IS
'Live collection, one row per sFlow agent and sub-agent that a collector''s spool file holds, each datagram counted once however many collectors received it or loads read it (spamhints.load_seqs: the datagrams loads took). The sequence numbers every load took of the agent (collectors'' spool files and captures loaded as files alike) are put together per agent run: the boots of spamhints.load_seqs, a later boot being a restart only when datagrams of the boot before it arrived before it (otherwise it is a drifting uptime estimate of the same run, as a fast replay makes). Counted are the runs whose datagrams arrived while a collector''s spool file holding the agent was open (a capture of the same traffic loaded first fills them in; an older capture of the agent does not count). datagrams = the datagrams taken in those runs; lost = the numbers missing between the first and last taken of each run (a malformed datagram is not taken: if no other datagram has its number, the number counts as lost here, while spamhints.load_agent.lost counts it received); resets = runs - 1. malformed and files are not told apart across collectors: the most any one collector counted. Gaps before a run''s first or after its last datagram taken are not known. Alert on lost or resets growing, or last_seen getting old.';
COMMENT ON COLUMN spamhints.collector_agent.agent IS 'the sFlow agent address';
COMMENT ON COLUMN spamhints.collector_agent.sub_agent IS 'the sFlow sub-agent id (0 for v2 and v4)';
COMMENT ON COLUMN spamhints.collector_agent.version IS 'sFlow version of its latest datagrams';
COMMENT ON COLUMN spamhints.collector_agent.files IS 'spool files that hold datagrams of it: the most of any one collector';
COMMENT ON COLUMN spamhints.collector_agent.datagrams IS 'its datagrams decoded whole and loaded, each once (by any collector or load), in the runs a collector received';
COMMENT ON COLUMN spamhints.collector_agent.malformed IS 'its datagrams skipped as malformed (received, not lost): the most any one collector counted';
COMMENT ON COLUMN spamhints.collector_agent.lost IS 'its datagrams lost in transit: sequence numbers no load took between the first and last taken of each run (reordering, files, collector restarts and duplicates do not count)';
COMMENT ON COLUMN spamhints.collector_agent.resets IS 'its restarts: runs (agent boots) after the first';
COMMENT ON COLUMN spamhints.collector_agent.last_seq IS 'the highest sequence number taken in its latest run';
COMMENT ON COLUMN spamhints.collector_agent.first_seen IS 'capture time of the first spool file that holds it';
COMMENT ON COLUMN spamhints.collector_agent.last_seen IS 'capture time of the end of the latest spool file that holds it';
