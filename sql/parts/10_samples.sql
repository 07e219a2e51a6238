-- sql/parts/10_samples.sql: the loads of sFlow captures (spamhints-load) and
-- their samples, one row per sampled SMTP packet, with the packet statistics.

------------------------------------------------------------------------------
-- Loads: one row per capture file loaded by spamhints-load.
------------------------------------------------------------------------------

CREATE TABLE spamhints.load (
    load_id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_name        text NOT NULL,
    sha256           text UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    file_bytes       bigint,
    started_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at      timestamptz,
    first_ts         timestamptz,
    last_ts          timestamptz,
    frames           bigint NOT NULL DEFAULT 0,
    datagrams        bigint NOT NULL DEFAULT 0,
    flow_samples     bigint NOT NULL DEFAULT 0,
    counter_samples  bigint NOT NULL DEFAULT 0,
    sampled_packets  bigint NOT NULL DEFAULT 0,
    smtp_rows        bigint NOT NULL DEFAULT 0,
    malformed        bigint NOT NULL DEFAULT 0,
    skipped          jsonb NOT NULL DEFAULT '{}',
    lost_datagrams   bigint NOT NULL DEFAULT 0,
    smtp_ports       integer[] NOT NULL DEFAULT '{25}',
    filter           text,
    loader_version   text,
    enrichment       jsonb,
    -- a load is committed only once it is complete: then it has its hash
    CHECK (finished_at IS NULL OR sha256 IS NOT NULL)
);

COMMENT ON TABLE spamhints.load IS
'One row per capture loaded by spamhints-load. sha256 is the content hash of the file: the same capture is never loaded twice. A load is one transaction, so a row here means every sample of it is in spamhints.smtp_sample. Deleting or truncating loads deletes their samples and agents; truncating spamhints.smtp_sample deletes every load (and its agents) too, so that the same captures can be loaded again. spamhints.purge() deletes old samples but keeps the loads, so that a purged capture is not loaded again. TRUNCATE spamhints.load without CASCADE is refused (load_agent refers to it).';
COMMENT ON COLUMN spamhints.load.frames IS 'packets read from the capture, every one of them: frames = datagrams + malformed + the frame_filtered, frame_link_type, frame_not_udp and agent_limit counts of skipped';
COMMENT ON COLUMN spamhints.load.datagrams IS 'sFlow datagrams decoded whole';
COMMENT ON COLUMN spamhints.load.sampled_packets IS 'sampled packet records (raw headers, or IPv4/IPv6 data records) in flow samples';
COMMENT ON COLUMN spamhints.load.malformed IS 'datagrams skipped as malformed or not sFlow; nothing of them is loaded';
COMMENT ON COLUMN spamhints.load.skipped IS 'why datagrams and sampled packets were skipped: reason -> count';
COMMENT ON COLUMN spamhints.load.lost_datagrams IS 'datagrams lost in transit, from gaps in each agent''s sequence numbers';
COMMENT ON COLUMN spamhints.load.enrichment IS
'The enrichment databases of the load''s src_asn/dst_asn/src_cc/dst_cc: {"asn": {...}, "country": {...}} with each file''s path, database_type, ip_version, record_size, node_count, binary_format, build_epoch, built, languages and description, "by" (spamhints-load, or spamhints.reenrich with "at"), and the loader''s lookup counts; NULL when loaded without enrichment';

CREATE TABLE spamhints.load_agent (
    load_id     integer NOT NULL REFERENCES spamhints.load ON DELETE CASCADE,
    agent       inet NOT NULL,
    sub_agent   bigint NOT NULL,
    version     integer NOT NULL,
    datagrams   bigint NOT NULL,
    malformed   bigint NOT NULL DEFAULT 0,
    first_seq   bigint NOT NULL,
    last_seq    bigint NOT NULL,
    lost        bigint NOT NULL,
    resets      bigint NOT NULL,
    PRIMARY KEY (load_id, agent, sub_agent),
    -- 0.2: the rate its flow samples say they were drawn at, and the rate
    -- their sample pools show (columns at the end: ALTER TABLE adds them so)
    configured_rate  float8 CHECK (configured_rate > 0),
    effective_rate   float8 CHECK (effective_rate >= 0),
    rate_samples     bigint NOT NULL DEFAULT 0 CHECK (rate_samples >= 0),
    sample_drops     bigint NOT NULL DEFAULT 0 CHECK (sample_drops >= 0)
);

COMMENT ON TABLE spamhints.load_agent IS
'Per sFlow agent (and sub-agent) of each load: datagrams decoded whole, malformed datagrams it sent, sequence numbers, and datagrams lost in transit (gaps in the sequence). A sequence number that goes back (an agent restart) counts as a reset, not as loss. Its sampling (0.2): configured_rate, the sampling rate its flow samples give, and effective_rate, the packets its sources really drew each sample from (the steps of the sample pools over the steps of the sample sequence numbers, per source, summed), over rate_samples samples, with sample_drops, the samples the agent dropped for want of resources. The estimates (est_packets and their bounds, in every view) sum each sample''s sampling_rate times its agent''s factor (spamhints.agent_rate): effective_rate / configured_rate where the two differ beyond the effective rate''s own 95% uncertainty, 1.96 / sqrt(rate_samples), and by more than 5%, else 1.';

------------------------------------------------------------------------------
-- Samples: one row per sampled SMTP packet.
------------------------------------------------------------------------------

CREATE TABLE spamhints.smtp_sample (
    load_id        integer NOT NULL,
    frame          bigint NOT NULL,
    ts             timestamptz NOT NULL,
    agent          inet NOT NULL,
    sample_seq     bigint NOT NULL,
    sampling_rate  integer NOT NULL,
    input_if       bigint,
    output_if      bigint,
    src_mac        macaddr,
    dst_mac        macaddr,
    vlan           integer,
    src_ip         inet NOT NULL,
    dst_ip         inet NOT NULL,
    src_port       integer NOT NULL,
    dst_port       integer NOT NULL,
    tcp_flags      integer,
    ip_len         integer,
    ttl            integer,
    smtp           text,
    gw_src_as      bigint,
    gw_dst_as      bigint,
    src_asn        bigint,
    dst_asn        bigint,
    src_cc         text,
    dst_cc         text
) PARTITION BY RANGE (ts);

COMMENT ON TABLE spamhints.smtp_sample IS
'One row per sampled SMTP packet (TCP with an SMTP port at either end) found in the flow samples of a load. Each row stands for sampling_rate real packets. Partitioned by UTC day of ts: spamhints-load creates the partition of a day (smtp_sample_YYYYMMDD, spamhints.ensure_partitions()) before it sends that day''s rows; rows of a day without its partition (an INSERT not made by the loader) wait in smtp_sample_default until spamhints.maintain_partitions() moves them; spamhints.purge() drops whole partitions past the retention.';

-- Rows of a day that has no partition of its own yet (an INSERT or a COPY
-- not made by spamhints-load, a restored 0.1 dump): moved out by
-- maintain_partitions(), which the loader runs after each load.
CREATE TABLE spamhints.smtp_sample_default PARTITION OF spamhints.smtp_sample DEFAULT;

COMMENT ON TABLE spamhints.smtp_sample_default IS
'The default partition of spamhints.smtp_sample: rows of a day without a partition of its own, until spamhints.maintain_partitions() (run by spamhints-load after each load) moves them to their day''s partition. Normally empty.';
COMMENT ON COLUMN spamhints.smtp_sample.frame IS 'position of the sFlow datagram in the capture file, from 1: with load_id, the evidence can be found again';
COMMENT ON COLUMN spamhints.smtp_sample.ts IS 'capture time of the sFlow datagram';
COMMENT ON COLUMN spamhints.smtp_sample.agent IS 'the sFlow agent (switch or router) that sampled the packet';
COMMENT ON COLUMN spamhints.smtp_sample.sample_seq IS 'the flow sample''s sequence number at its agent';
COMMENT ON COLUMN spamhints.smtp_sample.sampling_rate IS 'one packet in sampling_rate was sampled: each row estimates sampling_rate packets';
COMMENT ON COLUMN spamhints.smtp_sample.input_if IS 'input ifIndex (NULL when the agent did not give a single interface)';
COMMENT ON COLUMN spamhints.smtp_sample.output_if IS 'output ifIndex (NULL when discarded, multiple or unknown)';
COMMENT ON COLUMN spamhints.smtp_sample.src_mac IS 'source MAC of the sampled frame: at an exchange, the member router that sent it';
COMMENT ON COLUMN spamhints.smtp_sample.vlan IS 'outermost 802.1Q/802.1ad VLAN tag of the sampled frame';
COMMENT ON COLUMN spamhints.smtp_sample.tcp_flags IS 'raw TCP flags byte (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128); NULL when the sampled header stops before it';
COMMENT ON COLUMN spamhints.smtp_sample.ip_len IS 'IP packet length from the IP header (IPv6: payload length + 40)';
COMMENT ON COLUMN spamhints.smtp_sample.ttl IS 'IPv4 TTL or IPv6 hop limit';
COMMENT ON COLUMN spamhints.smtp_sample.smtp IS 'the SMTP command verb (EHLO, MAIL, ...) or reply code (220, 550, ...) at the start of the sampled payload; never anything else of the payload';
COMMENT ON COLUMN spamhints.smtp_sample.gw_src_as IS 'source AS from the sFlow extended gateway record, as the router saw it';
COMMENT ON COLUMN spamhints.smtp_sample.gw_dst_as IS 'destination (origin) AS from the sFlow extended gateway record: last AS of the path';
COMMENT ON COLUMN spamhints.smtp_sample.src_asn IS 'AS number of src_ip from the ASN database (spamhints-load --asn-db, or spamhints.reenrich); NULL when the address is in none';
COMMENT ON COLUMN spamhints.smtp_sample.dst_asn IS 'AS number of dst_ip from the ASN database; NULL when the address is in none';
COMMENT ON COLUMN spamhints.smtp_sample.src_cc IS 'ISO 3166 country code of src_ip from the country database (spamhints-load --country-db, or spamhints.reenrich); NULL when unknown';
COMMENT ON COLUMN spamhints.smtp_sample.dst_cc IS 'ISO 3166 country code of dst_ip from the country database; NULL when unknown';

-- Every sample belongs to a load. Not a foreign key: its check per row made the
-- loader's COPY several times slower. load_exists() looks a load up (and locks
-- it FOR KEY SHARE, as a foreign key does) once per load and transaction, and
-- the trigger below deletes the samples of deleted loads. NOT VALID: it checks
-- every new row, while pg_dump restores the data before adding it.
CREATE FUNCTION spamhints.load_exists(load_id integer)
RETURNS boolean
AS 'MODULE_PATHNAME', 'spamhints_load_exists'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

COMMENT ON FUNCTION spamhints.load_exists(integer) IS
'true when the load exists (and locks it FOR KEY SHARE until the end of the transaction), else error 23503: the check behind "every sample (and agent) belongs to a load", cached per transaction so that a COPY of millions of rows looks its load up once. For a role that does not own spamhints.load (spamhints_loader), also error 42501 unless the load is one its own transaction inserted and has not finished: rows are never added to a committed load';

ALTER TABLE spamhints.smtp_sample
    ADD CONSTRAINT smtp_sample_load_exists CHECK (spamhints.load_exists(load_id)) NOT VALID;
ALTER TABLE spamhints.load_agent
    ADD CONSTRAINT load_agent_load_exists CHECK (spamhints.load_exists(load_id)) NOT VALID;

-- The fence: a role that does not own these tables (spamhints_loader) may
-- create and finish its own unfinished loads and nothing else. A committed
-- load, its samples and agents are kept as they are: load_exists() refuses
-- rows for any other load, and load_guard() refuses a load row inserted
-- finished or with a hash, a change or deletion of any load row but the
-- unfinished one of the same transaction, a load committed unfinished, and
-- any UPDATE, DELETE or TRUNCATE of the rows. Row triggers on the load table
-- (a few rows per load), statement triggers on the rows: nothing per sample.
CREATE FUNCTION spamhints.load_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'spamhints_load_guard'
LANGUAGE C;

COMMENT ON FUNCTION spamhints.load_guard() IS
'trigger on spamhints.load, maillog_load and the tables of their rows (smtp_sample, load_agent, mail_event): for a role that does not own the table (spamhints_loader), error 42501 for a load inserted finished or with a hash, an UPDATE or DELETE of a load row but the unfinished one its own transaction inserted, a load left unfinished at COMMIT, and any UPDATE, DELETE or TRUNCATE of the rows; nothing for the owner';

CREATE FUNCTION spamhints.owns_table(rel regclass)
RETURNS boolean
AS 'MODULE_PATHNAME', 'spamhints_owns_table'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.owns_table(regclass) IS
'true when the current user owns the table, is a member of its owner, or is a superuser: whom spamhints.load_guard() lets through';

CREATE TRIGGER load_fence BEFORE INSERT OR UPDATE OR DELETE ON spamhints.load
    FOR EACH ROW EXECUTE FUNCTION spamhints.load_guard();
CREATE CONSTRAINT TRIGGER load_fence_commit AFTER INSERT ON spamhints.load
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NOT spamhints.owns_table('spamhints.load'))
    EXECUTE FUNCTION spamhints.load_guard();
CREATE TRIGGER load_fence_truncate BEFORE TRUNCATE ON spamhints.load
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();
CREATE TRIGGER load_agent_fence BEFORE UPDATE OR DELETE OR TRUNCATE ON spamhints.load_agent
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();

CREATE FUNCTION spamhints.load_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'spamhints_load_changed'
LANGUAGE C;

COMMENT ON FUNCTION spamhints.load_changed() IS
'trigger on spamhints.load: deleting or truncating loads deletes their samples (TRUNCATE in one statement with the samples, or while a cursor reads them, works too); a load_id cannot change';

CREATE TRIGGER load_delete_samples AFTER DELETE ON spamhints.load
    REFERENCING OLD TABLE AS old_loads
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_changed();
CREATE TRIGGER load_truncate_samples BEFORE TRUNCATE ON spamhints.load
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_changed();
CREATE TRIGGER load_truncated_samples AFTER TRUNCATE ON spamhints.load
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_changed();

-- The other way round: truncating the samples (or the mail events) says
-- "start over", so their loads go too, and the same files can be loaded
-- again. (spamhints.purge() deletes old rows instead and keeps the loads on
-- purpose.) A DELETE, not a TRUNCATE: the loads may be in the same TRUNCATE.
CREATE FUNCTION spamhints.rows_truncated()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
BEGIN
    IF TG_TABLE_NAME = 'smtp_sample' THEN
        DELETE FROM spamhints.load;
    ELSIF TG_TABLE_NAME = 'mail_event' THEN
        DELETE FROM spamhints.maillog_load;
    ELSE
        RAISE EXCEPTION 'rows_truncated() is not a trigger on %', TG_TABLE_NAME
            USING ERRCODE = 'triggered_action_exception';
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION spamhints.rows_truncated() IS
'trigger AFTER TRUNCATE on spamhints.smtp_sample and spamhints.mail_event: deletes their loads (spamhints.load with its load_agent rows, spamhints.maillog_load), so that no load is left whose rows are gone and the same files can be loaded again';

CREATE TRIGGER sample_truncate_loads AFTER TRUNCATE ON spamhints.smtp_sample
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.rows_truncated();
CREATE TRIGGER smtp_sample_fence BEFORE UPDATE OR DELETE OR TRUNCATE ON spamhints.smtp_sample
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();
CREATE TRIGGER load_keep_id BEFORE UPDATE OF load_id ON spamhints.load
    FOR EACH ROW EXECUTE FUNCTION spamhints.load_changed();

-- Samples arrive in load and time order, so block-range indexes find a load's
-- rows (deleting it) and a time window's rows for almost nothing. The
-- B-trees on src_ip and dst_ip (questions about one address):
-- maintain_partitions() builds them once a day's partition is complete, in
-- one sort each, which costs a fraction of keeping them row by row while a
-- load COPYs (bench/months.sh). All of them are indexes of each partition,
-- none of the parent: a partition that pg_dump restores and attaches gets
-- no index of the parent's under a name its own dumped indexes then take.
CREATE INDEX smtp_sample_default_load_brin ON spamhints.smtp_sample_default USING brin (load_id);
CREATE INDEX smtp_sample_default_ts_brin ON spamhints.smtp_sample_default USING brin (ts);
CREATE INDEX smtp_sample_default_src_ip ON spamhints.smtp_sample_default (src_ip);
CREATE INDEX smtp_sample_default_dst_ip ON spamhints.smtp_sample_default (dst_ip);

SELECT pg_catalog.pg_extension_config_dump('spamhints.load', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.load_agent', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.smtp_sample', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.smtp_sample_default', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.load_load_id_seq', '');

------------------------------------------------------------------------------
-- Packet statistics: how many sampled SMTP packets, and how many of them
-- opened (SYN), accepted (SYN/ACK), reset (RST) or closed (FIN) a connection.
------------------------------------------------------------------------------

CREATE FUNCTION spamhints.tcp_flags_text(flags integer)
RETURNS text
AS 'MODULE_PATHNAME', 'spamhints_tcp_flags_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.tcp_flags_text(integer) IS
'TCP flags byte as text, e.g. 18 -> ''SYN,ACK''; 0 -> ''''';

CREATE FUNCTION spamhints.rate_factor(configured float8, effective float8, samples float8)
RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN NOT (abs(configured) < 'Infinity' AND abs(effective) < 'Infinity' AND abs(samples) < 'Infinity')
                 THEN NULL
            WHEN configured > 0 AND effective > 0 AND samples > 0
                 AND abs(effective / configured - 1) > greatest(1.96 / sqrt(samples), 0.05)
            THEN effective / configured ELSE 1 END;

COMMENT ON FUNCTION spamhints.rate_factor(float8, float8, float8) IS
'The factor an agent''s estimates are scaled by (0.2): effective / configured when the effective sampling rate differs from the configured one beyond its own 95% uncertainty and by more than 5%, |effective / configured - 1| > greatest(1.96 / sqrt(samples), 0.05) (samples: the sample steps it was measured over), else 1; 1 too when either rate is unknown (NULL) or not positive; NULL (no factor: the estimates then keep factor 1) when an argument is NaN or infinite. Drops alone never switch: the effective rate, the sample pool over the samples delivered, is already the scale of the samples that arrived.';

CREATE VIEW spamhints.agent_rate AS
SELECT a.load_id, a.agent,
       sum(a.configured_rate * a.rate_samples) / sum(a.rate_samples) AS configured_rate,
       sum(a.effective_rate * a.rate_samples) / sum(a.rate_samples) AS effective_rate,
       sum(a.rate_samples)::bigint AS rate_samples,
       sum(a.sample_drops)::bigint AS sample_drops,
       spamhints.rate_factor(sum(a.configured_rate * a.rate_samples), sum(a.effective_rate * a.rate_samples),
                             sum(a.rate_samples)::float8) AS factor
FROM spamhints.load_agent a
WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
GROUP BY a.load_id, a.agent;

COMMENT ON VIEW spamhints.agent_rate IS
'The sampling rate each agent of each load really sampled at, and the factor its estimates are scaled by (0.2): per (load_id, agent), its sub-agents pooled (smtp_sample has no sub-agent): configured_rate and effective_rate, the means over their rate_samples sample steps (the effective one is the sample pools'' steps over the samples delivered), sample_drops, and factor = spamhints.rate_factor(configured, effective, rate_samples): effective / configured where they differ beyond 1.96 / sqrt(rate_samples) and by more than 5%, else 1. Every estimate (est_packets and its bounds in packet_stats, activity(), address(), customer_sender, sender_score(), daily_figures, report_candidates() and so report_queue and the reports, through evidence.est_rate) sums sampling_rate * factor (not the rollups'' address_day, made as the samples arrive: configured rate); an agent without a row here (no two flow samples of one source) keeps factor 1. Why the effective rate: a switch, router or agent that is loaded samples otherwise than its configuration says, and the pool counts what it really drew from; pool / (samples + drops) would undercount the traffic the delivered samples stand for. Why the threshold: the effective rate measured over n samples is itself uncertain by about 1.96 / sqrt(n); within it the configured rate is as good and keeps every estimate stable; and below 5% (the agents of the test generator, whose sample pools step by a uniform draw, measure up to about 1.5% off over tens of thousands of samples) a difference is not worth an estimate that moves with each load.';

CREATE VIEW spamhints.packet_stats AS
SELECT s.smtp_packets,
       s.syn, s.syn_ack, s.rst, s.fin,
       round(100.0 * s.syn     / nullif(s.smtp_packets, 0), 2) AS syn_pct,
       round(100.0 * s.syn_ack / nullif(s.smtp_packets, 0), 2) AS syn_ack_pct,
       round(100.0 * s.rst     / nullif(s.smtp_packets, 0), 2) AS rst_pct,
       round(100.0 * s.fin     / nullif(s.smtp_packets, 0), 2) AS fin_pct,
       s.est_packets,
       spamhints.est_low(s.smtp_packets, s.est_packets) AS est_packets_low,
       spamhints.est_high(s.smtp_packets, s.est_packets) AS est_packets_high,
       round(100 * spamhints.wilson_low(s.syn, s.smtp_packets)::numeric, 2)      AS syn_pct_low,
       round(100 * spamhints.wilson_high(s.syn, s.smtp_packets)::numeric, 2)     AS syn_pct_high,
       round(100 * spamhints.wilson_low(s.syn_ack, s.smtp_packets)::numeric, 2)  AS syn_ack_pct_low,
       round(100 * spamhints.wilson_high(s.syn_ack, s.smtp_packets)::numeric, 2) AS syn_ack_pct_high,
       round(100 * spamhints.wilson_low(s.rst, s.smtp_packets)::numeric, 2)      AS rst_pct_low,
       round(100 * spamhints.wilson_high(s.rst, s.smtp_packets)::numeric, 2)     AS rst_pct_high,
       round(100 * spamhints.wilson_low(s.fin, s.smtp_packets)::numeric, 2)      AS fin_pct_low,
       round(100 * spamhints.wilson_high(s.fin, s.smtp_packets)::numeric, 2)     AS fin_pct_high
FROM (SELECT coalesce(sum(g.n), 0)::bigint AS smtp_packets,
             coalesce(sum(g.syn), 0)::bigint AS syn, coalesce(sum(g.syn_ack), 0)::bigint AS syn_ack,
             coalesce(sum(g.rst), 0)::bigint AS rst, coalesce(sum(g.fin), 0)::bigint AS fin,
             -- 0.2: each agent's samples scaled by its factor (spamhints.agent_rate),
             -- joined per (load, agent), not per sample
             coalesce(round(sum(g.est * coalesce(f.factor, 1))), 0)::bigint AS est_packets
      FROM (SELECT load_id, agent, count(*) AS n,
                   count(*) FILTER (WHERE tcp_flags & 18 = 2)  AS syn,
                   count(*) FILTER (WHERE tcp_flags & 18 = 18) AS syn_ack,
                   count(*) FILTER (WHERE tcp_flags & 4 <> 0)  AS rst,
                   count(*) FILTER (WHERE tcp_flags & 1 <> 0)  AS fin,
                   sum(sampling_rate) AS est
            FROM spamhints.smtp_sample GROUP BY load_id, agent) AS g
      LEFT JOIN (SELECT a.load_id, a.agent,
                        spamhints.rate_factor(sum(a.configured_rate * a.rate_samples),
                                              sum(a.effective_rate * a.rate_samples), sum(a.rate_samples)::float8) AS factor
                 FROM spamhints.load_agent a
                 WHERE a.configured_rate IS NOT NULL AND a.effective_rate IS NOT NULL AND a.rate_samples > 0
                 GROUP BY a.load_id, a.agent) AS f ON f.load_id = g.load_id AND f.agent = g.agent) AS s;

COMMENT ON VIEW spamhints.packet_stats IS
'The raw packet statistics of all loads: sampled SMTP packets, SYN (SYN set, ACK clear), SYN/ACK, RST and FIN counts with their shares in percent, and est_packets, the estimated real packet count (sum of sampling rates); then (0.2) the 95% bounds of each: est_packets_low and est_packets_high (mid-p Poisson bounds of the sample count, scaled: spamhints.est_low/est_high), and the Wilson intervals of the shares, syn_pct_low, syn_pct_high and the same for syn_ack, rst and fin.';
