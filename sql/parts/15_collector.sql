-- sql/parts/15_collector.sql: live collection (spamhints-load --listen): what
-- the collector counted for each spool file it loaded, and two views an
-- operator alerts on, one per collector and one per sFlow agent.

-- What the collector counted while a spool file was open, on the load of the
-- file (columns of spamhints.load, so that a load and its counts are one row:
-- deleted, truncated, dumped and restored together). NULL for captures.
ALTER TABLE spamhints.load
    ADD COLUMN collector        text,
    ADD COLUMN spool_opened_at  timestamptz,
    ADD COLUMN spool_closed_at  timestamptz,
    ADD COLUMN received         bigint CHECK (received >= 0),
    ADD COLUMN refused          bigint CHECK (refused >= 0),
    ADD COLUMN kernel_dropped   bigint CHECK (kernel_dropped >= 0),
    ADD COLUMN recovered        boolean,
    ADD CONSTRAINT load_refused_of_received CHECK (refused <= received),
    ADD CONSTRAINT load_counts_of_collector CHECK (collector IS NOT NULL OR (received IS NULL AND refused IS NULL AND kernel_dropped IS NULL
                                         AND recovered IS NULL));

COMMENT ON COLUMN spamhints.load.collector IS 'spamhints-load --listen: the collector that loaded this spool file (host name and the addresses it listened on); NULL for a capture loaded as a file';
COMMENT ON COLUMN spamhints.load.spool_opened_at IS 'spamhints-load --listen: when the spool file was opened; NULL when recovered';
COMMENT ON COLUMN spamhints.load.spool_closed_at IS 'spamhints-load --listen: when the spool file was closed (its last datagram arrived before); NULL when recovered';
COMMENT ON COLUMN spamhints.load.received IS 'spamhints-load --listen: UDP datagrams read from the sockets while the spool file was open, from any sender; received - refused = frames; NULL when recovered';
COMMENT ON COLUMN spamhints.load.refused IS 'spamhints-load --listen: of those, from senders not in --agents: counted, not spooled, not loaded; NULL when recovered';
COMMENT ON COLUMN spamhints.load.kernel_dropped IS 'spamhints-load --listen: datagrams the kernel dropped at the sockets for want of receive buffer (SO_RXQ_OVFL, /proc/net/udp) while the spool file was open, never received; NULL when recovered or not known';
COMMENT ON COLUMN spamhints.load.recovered IS 'spamhints-load --listen: true when the spool file was left open by a collector that stopped (a crash) and closed at the next start: it holds every datagram written whole, and what was only counted in memory is NULL';

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
       sum(l.lost_datagrams) AS lost_in_files
  FROM spamhints.load l
 WHERE l.collector IS NOT NULL AND l.finished_at IS NOT NULL
 GROUP BY l.collector;

COMMENT ON VIEW spamhints.collector_status IS
'Live collection, one row per collector (host and listen addresses): its spool files loaded, when the last one was, and the datagrams it received, refused (--agents), lost to the kernel (kernel_dropped) and found lost in transit within files; spamhints.collector_agent has the loss per agent across files. Alert on since_last_load above two rotations, or kernel_dropped growing.';
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
COMMENT ON COLUMN spamhints.collector_status.datagrams IS 'sFlow datagrams decoded whole and loaded';
COMMENT ON COLUMN spamhints.collector_status.malformed IS 'datagrams skipped as malformed';
COMMENT ON COLUMN spamhints.collector_status.smtp_rows IS 'SMTP sample rows loaded';
COMMENT ON COLUMN spamhints.collector_status.lost_in_files IS 'datagrams lost in transit, from sequence gaps within each file (spamhints.collector_agent adds the gaps between files)';

-- One row per agent and sub-agent: its files in order of their first datagram,
-- the gap (or the step back: a restart) from each file's first sequence number
-- to the previous file's last one added to the counts within the files.
CREATE VIEW spamhints.collector_agent AS
WITH per_file AS (
    SELECT a.agent, a.sub_agent, a.version, a.datagrams, a.malformed, a.first_seq, a.last_seq,
           a.lost, a.resets, l.first_ts, l.last_ts,
           pg_catalog.lag(a.last_seq) OVER w AS prev_last_seq,
           pg_catalog.row_number() OVER w AS n
      FROM spamhints.load_agent a
      JOIN spamhints.load l USING (load_id)
     WHERE l.collector IS NOT NULL
    WINDOW w AS (PARTITION BY a.agent, a.sub_agent ORDER BY l.first_ts, a.load_id)
)
SELECT agent, sub_agent,
       (pg_catalog.array_agg(version ORDER BY n DESC))[1] AS version,
       count(*) AS files,
       sum(datagrams) AS datagrams,
       sum(malformed) AS malformed,
       sum(lost) + coalesce(sum(first_seq - prev_last_seq - 1)
                            FILTER (WHERE first_seq > prev_last_seq), 0) AS lost,
       sum(resets) + count(*) FILTER (WHERE first_seq + 64 < prev_last_seq) AS resets,
       (pg_catalog.array_agg(last_seq ORDER BY n DESC))[1] AS last_seq,
       min(first_ts) AS first_seen,
       max(last_ts) AS last_seen
  FROM per_file
 GROUP BY agent, sub_agent;

COMMENT ON VIEW spamhints.collector_agent IS
'Live collection, one row per sFlow agent and sub-agent over every spool file loaded: datagrams received (datagrams + malformed), lost in transit (gaps within files, and between one file''s last sequence number and the next file''s first, across collector restarts too) and agent restarts (a sequence number going back more than 64, within or between files). Datagrams up to 64 numbers late are not loss within a file; between files they are neither loss nor a restart. Alert on lost or resets growing, or last_seen getting old.';
COMMENT ON COLUMN spamhints.collector_agent.agent IS 'the sFlow agent address';
COMMENT ON COLUMN spamhints.collector_agent.sub_agent IS 'the sFlow sub-agent id (0 for v2 and v4)';
COMMENT ON COLUMN spamhints.collector_agent.version IS 'sFlow version of its latest datagrams';
COMMENT ON COLUMN spamhints.collector_agent.files IS 'spool files that hold datagrams of it';
COMMENT ON COLUMN spamhints.collector_agent.datagrams IS 'its datagrams decoded whole';
COMMENT ON COLUMN spamhints.collector_agent.malformed IS 'its datagrams skipped as malformed (received, not lost)';
COMMENT ON COLUMN spamhints.collector_agent.lost IS 'its datagrams lost in transit: sequence gaps within files and between consecutive files';
COMMENT ON COLUMN spamhints.collector_agent.resets IS 'its restarts: the sequence number going back, within or between files';
COMMENT ON COLUMN spamhints.collector_agent.last_seq IS 'the last sequence number of its latest file';
COMMENT ON COLUMN spamhints.collector_agent.first_seen IS 'capture time of the first file that holds it';
COMMENT ON COLUMN spamhints.collector_agent.last_seen IS 'capture time of the end of the latest file that holds it';
