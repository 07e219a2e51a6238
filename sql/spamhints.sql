-- sql/spamhints.sql: the source of the extension's install script.
-- The Makefile turns it into spamhints--VERSION.sql.

\echo Use "CREATE EXTENSION spamhints" to load this file. \quit

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
    -- a load is committed only once it is complete: then it has its hash
    CHECK (finished_at IS NULL OR sha256 IS NOT NULL)
);

COMMENT ON TABLE spamhints.load IS
'One row per capture loaded by spamhints-load. sha256 is the content hash of the file: the same capture is never loaded twice. A load is one transaction, so a row here means every sample of it is in spamhints.smtp_sample.';
COMMENT ON COLUMN spamhints.load.frames IS 'packets read from the capture that matched the filter';
COMMENT ON COLUMN spamhints.load.datagrams IS 'sFlow datagrams decoded whole';
COMMENT ON COLUMN spamhints.load.sampled_packets IS 'sampled packet records (raw headers, or IPv4/IPv6 data records) in flow samples';
COMMENT ON COLUMN spamhints.load.malformed IS 'datagrams skipped as malformed or not sFlow; nothing of them is loaded';
COMMENT ON COLUMN spamhints.load.skipped IS 'why datagrams and sampled packets were skipped: reason -> count';
COMMENT ON COLUMN spamhints.load.lost_datagrams IS 'datagrams lost in transit, from gaps in each agent''s sequence numbers';

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
    PRIMARY KEY (load_id, agent, sub_agent)
);

COMMENT ON TABLE spamhints.load_agent IS
'Per sFlow agent (and sub-agent) of each load: datagrams decoded whole, malformed datagrams it sent, sequence numbers, and datagrams lost in transit (gaps in the sequence). A sequence number that goes back (an agent restart) counts as a reset, not as loss.';

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
);

COMMENT ON TABLE spamhints.smtp_sample IS
'One row per sampled SMTP packet (TCP with an SMTP port at either end) found in the flow samples of a load. Each row stands for sampling_rate real packets.';
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
COMMENT ON COLUMN spamhints.smtp_sample.src_asn IS 'AS of src_ip, from the enrichment database';
COMMENT ON COLUMN spamhints.smtp_sample.src_cc IS 'ISO country code of src_ip, from the enrichment database';

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
'true when the load exists (and locks it FOR KEY SHARE until the end of the transaction), else error 23503: the check behind "every sample belongs to a load", cached per transaction so that a COPY of millions of rows looks its load up once';

ALTER TABLE spamhints.smtp_sample
    ADD CONSTRAINT smtp_sample_load_exists CHECK (spamhints.load_exists(load_id)) NOT VALID;

CREATE FUNCTION spamhints.load_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'spamhints_load_changed'
LANGUAGE C;

COMMENT ON FUNCTION spamhints.load_changed() IS
'trigger on spamhints.load: deleting or truncating loads deletes their samples; a load_id cannot change';

CREATE TRIGGER load_delete_samples AFTER DELETE ON spamhints.load
    REFERENCING OLD TABLE AS old_loads
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_changed();
CREATE TRIGGER load_truncate_samples BEFORE TRUNCATE ON spamhints.load
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_changed();
CREATE TRIGGER load_keep_id BEFORE UPDATE OF load_id ON spamhints.load
    FOR EACH ROW EXECUTE FUNCTION spamhints.load_changed();

-- Samples arrive in load and time order, so block-range indexes find a load's
-- rows (deleting it) and a time window's rows for almost nothing.
CREATE INDEX smtp_sample_load_brin ON spamhints.smtp_sample USING brin (load_id);
CREATE INDEX smtp_sample_ts_brin ON spamhints.smtp_sample USING brin (ts);

SELECT pg_catalog.pg_extension_config_dump('spamhints.load', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.load_agent', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.smtp_sample', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.load_load_id_seq', '');

------------------------------------------------------------------------------
-- The slide's raw statistics.
------------------------------------------------------------------------------

CREATE FUNCTION spamhints.tcp_flags_text(flags integer)
RETURNS text
AS 'MODULE_PATHNAME', 'spamhints_tcp_flags_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.tcp_flags_text(integer) IS
'TCP flags byte as text, e.g. 18 -> ''SYN,ACK''; 0 -> ''''';

CREATE VIEW spamhints.packet_stats AS
SELECT s.smtp_packets,
       s.syn, s.syn_ack, s.rst, s.fin,
       round(100.0 * s.syn     / nullif(s.smtp_packets, 0), 2) AS syn_pct,
       round(100.0 * s.syn_ack / nullif(s.smtp_packets, 0), 2) AS syn_ack_pct,
       round(100.0 * s.rst     / nullif(s.smtp_packets, 0), 2) AS rst_pct,
       round(100.0 * s.fin     / nullif(s.smtp_packets, 0), 2) AS fin_pct,
       s.est_packets
FROM (SELECT count(*) AS smtp_packets,
             count(*) FILTER (WHERE tcp_flags & 18 = 2)  AS syn,
             count(*) FILTER (WHERE tcp_flags & 18 = 18) AS syn_ack,
             count(*) FILTER (WHERE tcp_flags & 4 <> 0)  AS rst,
             count(*) FILTER (WHERE tcp_flags & 1 <> 0)  AS fin,
             coalesce(sum(sampling_rate), 0)::bigint     AS est_packets
      FROM spamhints.smtp_sample) AS s;

COMMENT ON VIEW spamhints.packet_stats IS
'The slide''s raw statistics over all loads: sampled SMTP packets, SYN (SYN set, ACK clear), SYN/ACK, RST and FIN counts with their shares in percent, and est_packets, the estimated real packet count (sum of sampling rates).';

------------------------------------------------------------------------------
-- Analytics (issue 3): SMTP roles, the census of addresses, hour-of-day
-- profiles and AS/country rollups.  Every aggregate here is PARALLEL SAFE
-- with a combine function; the single-argument ones over plain state types
-- (role_or, hourly(ts), hist24_union, census_union) can be computed in
-- parts by Citus as well.
------------------------------------------------------------------------------

-- The SMTP role of an address: client, server or both (one byte).

CREATE TYPE spamhints.smtp_role;

CREATE FUNCTION spamhints.smtp_role_in(cstring) RETURNS spamhints.smtp_role
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.smtp_role_out(spamhints.smtp_role) RETURNS cstring
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.smtp_role_recv(internal) RETURNS spamhints.smtp_role
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.smtp_role_send(spamhints.smtp_role) RETURNS bytea
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.smtp_role_in(cstring) IS 'text input of an smtp_role; bad text is an error with SQLSTATE 22P02';
COMMENT ON FUNCTION spamhints.smtp_role_out(spamhints.smtp_role) IS 'text output of an smtp_role';
COMMENT ON FUNCTION spamhints.smtp_role_recv(internal) IS 'binary input of an smtp_role; checks every length and value (SQLSTATE 22P03)';
COMMENT ON FUNCTION spamhints.smtp_role_send(spamhints.smtp_role) IS 'binary output of an smtp_role';

CREATE TYPE spamhints.smtp_role (
    INPUT = spamhints.smtp_role_in,
    OUTPUT = spamhints.smtp_role_out,
    RECEIVE = spamhints.smtp_role_recv,
    SEND = spamhints.smtp_role_send,
    INTERNALLENGTH = 1,
    PASSEDBYVALUE,
    ALIGNMENT = char,
    STORAGE = plain
);

COMMENT ON TYPE spamhints.smtp_role IS
'The SMTP role of an address: client, server or both (one byte). A sample makes its source a client and its destination a server when the destination port is an SMTP port, and the reverse when the source port is one. ''|'' is the union of roles (client | server = both); role_or(role) aggregates it. Ordered client < server < both; hash and btree opclasses, so GROUP BY, DISTINCT, ORDER BY and hash joins work.';

CREATE FUNCTION spamhints.smtp_role_eq(spamhints.smtp_role, spamhints.smtp_role) RETURNS boolean
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION spamhints.smtp_role_ne(spamhints.smtp_role, spamhints.smtp_role) RETURNS boolean
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION spamhints.smtp_role_lt(spamhints.smtp_role, spamhints.smtp_role) RETURNS boolean
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION spamhints.smtp_role_le(spamhints.smtp_role, spamhints.smtp_role) RETURNS boolean
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION spamhints.smtp_role_gt(spamhints.smtp_role, spamhints.smtp_role) RETURNS boolean
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION spamhints.smtp_role_ge(spamhints.smtp_role, spamhints.smtp_role) RETURNS boolean
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION spamhints.smtp_role_cmp(spamhints.smtp_role, spamhints.smtp_role) RETURNS integer
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION spamhints.smtp_role_hash(spamhints.smtp_role) RETURNS integer
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION spamhints.smtp_role_hash_extended(spamhints.smtp_role, bigint) RETURNS bigint
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION spamhints.smtp_role_or(spamhints.smtp_role, spamhints.smtp_role) RETURNS spamhints.smtp_role
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.smtp_role_eq(spamhints.smtp_role, spamhints.smtp_role) IS 'implements = for smtp_role';
COMMENT ON FUNCTION spamhints.smtp_role_ne(spamhints.smtp_role, spamhints.smtp_role) IS 'implements <> for smtp_role';
COMMENT ON FUNCTION spamhints.smtp_role_lt(spamhints.smtp_role, spamhints.smtp_role) IS 'implements < for smtp_role';
COMMENT ON FUNCTION spamhints.smtp_role_le(spamhints.smtp_role, spamhints.smtp_role) IS 'implements <= for smtp_role';
COMMENT ON FUNCTION spamhints.smtp_role_gt(spamhints.smtp_role, spamhints.smtp_role) IS 'implements > for smtp_role';
COMMENT ON FUNCTION spamhints.smtp_role_ge(spamhints.smtp_role, spamhints.smtp_role) IS 'implements >= for smtp_role';
COMMENT ON FUNCTION spamhints.smtp_role_cmp(spamhints.smtp_role, spamhints.smtp_role) IS 'btree comparison for smtp_role: client < server < both';
COMMENT ON FUNCTION spamhints.smtp_role_hash(spamhints.smtp_role) IS 'hash of an smtp_role';
COMMENT ON FUNCTION spamhints.smtp_role_hash_extended(spamhints.smtp_role, bigint) IS 'seeded 64-bit hash of an smtp_role';
COMMENT ON FUNCTION spamhints.smtp_role_or(spamhints.smtp_role, spamhints.smtp_role) IS 'implements | for smtp_role: the union of two roles';

CREATE OPERATOR spamhints.= (
    LEFTARG = spamhints.smtp_role, RIGHTARG = spamhints.smtp_role,
    FUNCTION = spamhints.smtp_role_eq, COMMUTATOR = OPERATOR(spamhints.=),
    NEGATOR = OPERATOR(spamhints.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
    HASHES, MERGES);
CREATE OPERATOR spamhints.<> (
    LEFTARG = spamhints.smtp_role, RIGHTARG = spamhints.smtp_role,
    FUNCTION = spamhints.smtp_role_ne, COMMUTATOR = OPERATOR(spamhints.<>),
    NEGATOR = OPERATOR(spamhints.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR spamhints.< (
    LEFTARG = spamhints.smtp_role, RIGHTARG = spamhints.smtp_role,
    FUNCTION = spamhints.smtp_role_lt, COMMUTATOR = OPERATOR(spamhints.>),
    NEGATOR = OPERATOR(spamhints.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR spamhints.<= (
    LEFTARG = spamhints.smtp_role, RIGHTARG = spamhints.smtp_role,
    FUNCTION = spamhints.smtp_role_le, COMMUTATOR = OPERATOR(spamhints.>=),
    NEGATOR = OPERATOR(spamhints.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR spamhints.> (
    LEFTARG = spamhints.smtp_role, RIGHTARG = spamhints.smtp_role,
    FUNCTION = spamhints.smtp_role_gt, COMMUTATOR = OPERATOR(spamhints.<),
    NEGATOR = OPERATOR(spamhints.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR spamhints.>= (
    LEFTARG = spamhints.smtp_role, RIGHTARG = spamhints.smtp_role,
    FUNCTION = spamhints.smtp_role_ge, COMMUTATOR = OPERATOR(spamhints.<=),
    NEGATOR = OPERATOR(spamhints.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR spamhints.| (
    LEFTARG = spamhints.smtp_role, RIGHTARG = spamhints.smtp_role,
    FUNCTION = spamhints.smtp_role_or, COMMUTATOR = OPERATOR(spamhints.|));

COMMENT ON OPERATOR spamhints.= (spamhints.smtp_role, spamhints.smtp_role) IS 'equal';
COMMENT ON OPERATOR spamhints.<> (spamhints.smtp_role, spamhints.smtp_role) IS 'not equal';
COMMENT ON OPERATOR spamhints.< (spamhints.smtp_role, spamhints.smtp_role) IS 'less than (client < server < both)';
COMMENT ON OPERATOR spamhints.<= (spamhints.smtp_role, spamhints.smtp_role) IS 'less than or equal';
COMMENT ON OPERATOR spamhints.> (spamhints.smtp_role, spamhints.smtp_role) IS 'greater than';
COMMENT ON OPERATOR spamhints.>= (spamhints.smtp_role, spamhints.smtp_role) IS 'greater than or equal';
COMMENT ON OPERATOR spamhints.| (spamhints.smtp_role, spamhints.smtp_role) IS 'union of roles: client | server = both, x | x = x';

CREATE OPERATOR CLASS spamhints.smtp_role_ops
DEFAULT FOR TYPE spamhints.smtp_role USING btree AS
    OPERATOR 1 spamhints.<,
    OPERATOR 2 spamhints.<=,
    OPERATOR 3 spamhints.=,
    OPERATOR 4 spamhints.>=,
    OPERATOR 5 spamhints.>,
    FUNCTION 1 spamhints.smtp_role_cmp(spamhints.smtp_role, spamhints.smtp_role);

CREATE OPERATOR CLASS spamhints.smtp_role_hash_ops
DEFAULT FOR TYPE spamhints.smtp_role USING hash AS
    OPERATOR 1 spamhints.=,
    FUNCTION 1 spamhints.smtp_role_hash(spamhints.smtp_role),
    FUNCTION 2 spamhints.smtp_role_hash_extended(spamhints.smtp_role, bigint);

CREATE AGGREGATE spamhints.role_or(spamhints.smtp_role) (
    SFUNC = spamhints.smtp_role_or,
    STYPE = spamhints.smtp_role,
    COMBINEFUNC = spamhints.smtp_role_or,
    PARALLEL = SAFE
);

COMMENT ON AGGREGATE spamhints.role_or(spamhints.smtp_role) IS
'The OR of roles: an address''s role over many samples, e.g. SELECT ip, role_or(role) FROM spamhints.endpoint GROUP BY ip. NULL over no rows.';

CREATE FUNCTION spamhints.src_role(src_port integer, dst_port integer)
RETURNS spamhints.smtp_role
AS 'MODULE_PATHNAME', 'smtp_role_src' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.src_role(src_port integer, dst_port integer, ports integer[])
RETURNS spamhints.smtp_role
AS 'MODULE_PATHNAME', 'smtp_role_src' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.dst_role(src_port integer, dst_port integer)
RETURNS spamhints.smtp_role
AS 'MODULE_PATHNAME', 'smtp_role_dst' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.dst_role(src_port integer, dst_port integer, ports integer[])
RETURNS spamhints.smtp_role
AS 'MODULE_PATHNAME', 'smtp_role_dst' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.src_role(integer, integer) IS
'The role a sample gives its source address with SMTP port 25: client when dst_port is 25, server when src_port is 25, both when both are, NULL when neither is.';
COMMENT ON FUNCTION spamhints.src_role(integer, integer, integer[]) IS
'The role a sample gives its source address for the SMTP port set ports (e.g. ''{25,465,587}''; NULL elements ignored): client when dst_port is in it, server when src_port is, both when both are, NULL when neither is.';
COMMENT ON FUNCTION spamhints.dst_role(integer, integer) IS
'The role a sample gives its destination address with SMTP port 25: server when dst_port is 25, client when src_port is 25, both when both are, NULL when neither is.';
COMMENT ON FUNCTION spamhints.dst_role(integer, integer, integer[]) IS
'The role a sample gives its destination address for the SMTP port set ports: server when dst_port is in it, client when src_port is, both when both are, NULL when neither is.';

-- Endpoints: each sample seen from each of its two addresses.

-- SQL-standard bodies (BEGIN ATOMIC) are parsed once, when the extension is
-- created: a caller's search_path cannot change what they call, and they are
-- still inlined into the calling query (SET search_path would prevent that).
CREATE FUNCTION spamhints.endpoints(ports integer[])
RETURNS TABLE (ip inet, peer inet, role spamhints.smtp_role, side text,
               port integer, peer_port integer, asn bigint, cc text,
               peer_asn bigint, peer_cc text, ts timestamptz,
               sampling_rate integer, tcp_flags integer, ip_len integer,
               ttl integer, smtp text, agent inet, load_id integer, frame bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.src_ip, s.dst_ip, spamhints.src_role(s.src_port, s.dst_port, ports), 'src',
           s.src_port, s.dst_port, s.src_asn, s.src_cc, s.dst_asn, s.dst_cc, s.ts,
           s.sampling_rate, s.tcp_flags, s.ip_len, s.ttl, s.smtp, s.agent, s.load_id, s.frame
    FROM spamhints.smtp_sample s
    WHERE spamhints.src_role(s.src_port, s.dst_port, ports) IS NOT NULL
    UNION ALL
    SELECT s.dst_ip, s.src_ip, spamhints.dst_role(s.src_port, s.dst_port, ports), 'dst',
           s.dst_port, s.src_port, s.dst_asn, s.dst_cc, s.src_asn, s.src_cc, s.ts,
           s.sampling_rate, s.tcp_flags, s.ip_len, s.ttl, s.smtp, s.agent, s.load_id, s.frame
    FROM spamhints.smtp_sample s
    WHERE spamhints.dst_role(s.src_port, s.dst_port, ports) IS NOT NULL;
END;

COMMENT ON FUNCTION spamhints.endpoints(integer[]) IS
'spamhints.endpoint for another SMTP port set, e.g. SELECT * FROM spamhints.endpoints(''{25,587}''): every sample twice, once from each address that plays an SMTP role in it. Inlined into the calling query.';

CREATE VIEW spamhints.endpoint AS
SELECT s.src_ip AS ip, s.dst_ip AS peer, spamhints.src_role(s.src_port, s.dst_port) AS role,
       'src'::text AS side, s.src_port AS port, s.dst_port AS peer_port,
       s.src_asn AS asn, s.src_cc AS cc, s.dst_asn AS peer_asn, s.dst_cc AS peer_cc,
       s.ts, s.sampling_rate, s.tcp_flags, s.ip_len, s.ttl, s.smtp, s.agent, s.load_id, s.frame
FROM spamhints.smtp_sample s
WHERE spamhints.src_role(s.src_port, s.dst_port) IS NOT NULL
UNION ALL
SELECT s.dst_ip, s.src_ip, spamhints.dst_role(s.src_port, s.dst_port),
       'dst'::text, s.dst_port, s.src_port,
       s.dst_asn, s.dst_cc, s.src_asn, s.src_cc,
       s.ts, s.sampling_rate, s.tcp_flags, s.ip_len, s.ttl, s.smtp, s.agent, s.load_id, s.frame
FROM spamhints.smtp_sample s
WHERE spamhints.dst_role(s.src_port, s.dst_port) IS NOT NULL;

COMMENT ON VIEW spamhints.endpoint IS
'Every sample seen from each of its two addresses (SMTP port 25; spamhints.endpoints(ports) for another set): ip, the address; peer, the other end; role, what this sample makes ip (client, server or both); side, ''src'' or ''dst''; port and peer_port; asn and cc of ip, peer_asn and peer_cc; and the sample''s ts, sampling_rate, tcp_flags, ip_len, ttl, smtp, agent, load_id, frame. A side that plays no SMTP role is left out. Per-address questions become plain SQL: SELECT ip, role_or(role), count(*) FROM spamhints.endpoint GROUP BY ip.';

-- The census: how many addresses were clients only, servers only, both.

CREATE TYPE spamhints.census_counts AS (
    ips          bigint,
    client_only  bigint,
    server_only  bigint,
    "both"       bigint
);

COMMENT ON TYPE spamhints.census_counts IS
'What a census counts: ips, the distinct addresses; client_only, server_only and both, the addresses by their role over all samples (ips = client_only + server_only + both).';

CREATE FUNCTION spamhints.census_trans(internal, inet, spamhints.smtp_role) RETURNS internal
AS 'MODULE_PATHNAME', 'census_trans_role' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION spamhints.census_trans(internal, inet, inet, integer, integer) RETURNS internal
AS 'MODULE_PATHNAME', 'census_trans_pair' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION spamhints.census_trans(internal, inet, inet, integer, integer, integer[]) RETURNS internal
AS 'MODULE_PATHNAME', 'census_trans_pair' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION spamhints.census_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION spamhints.census_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.census_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.census_final_counts(internal) RETURNS spamhints.census_counts
AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.census_trans(internal, inet, spamhints.smtp_role) IS 'transition function of smtp_census(inet, smtp_role) and census_agg(inet, smtp_role)';
COMMENT ON FUNCTION spamhints.census_trans(internal, inet, inet, integer, integer) IS 'transition function of smtp_census and census_agg over a sample''s two sides, SMTP port 25';
COMMENT ON FUNCTION spamhints.census_trans(internal, inet, inet, integer, integer, integer[]) IS 'transition function of smtp_census and census_agg over a sample''s two sides and an SMTP port set';
COMMENT ON FUNCTION spamhints.census_combine(internal, internal) IS 'combine function of the census aggregates: merges two address tables';
COMMENT ON FUNCTION spamhints.census_serialize(internal) IS 'serialize function of the census aggregates: the census binary layout, unsorted';
COMMENT ON FUNCTION spamhints.census_deserialize(bytea, internal) IS 'deserialize function of the census aggregates: checks every length; corrupt input is an error';
COMMENT ON FUNCTION spamhints.census_final_counts(internal) IS 'final function of smtp_census: the four counts';

CREATE AGGREGATE spamhints.smtp_census(inet, spamhints.smtp_role) (
    SFUNC = spamhints.census_trans, STYPE = internal,
    FINALFUNC = spamhints.census_final_counts,
    COMBINEFUNC = spamhints.census_combine,
    SERIALFUNC = spamhints.census_serialize, DESERIALFUNC = spamhints.census_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE spamhints.smtp_census(src_ip inet, dst_ip inet, src_port integer, dst_port integer) (
    SFUNC = spamhints.census_trans, STYPE = internal,
    FINALFUNC = spamhints.census_final_counts,
    COMBINEFUNC = spamhints.census_combine,
    SERIALFUNC = spamhints.census_serialize, DESERIALFUNC = spamhints.census_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE spamhints.smtp_census(src_ip inet, dst_ip inet, src_port integer, dst_port integer, ports integer[]) (
    SFUNC = spamhints.census_trans, STYPE = internal,
    FINALFUNC = spamhints.census_final_counts,
    COMBINEFUNC = spamhints.census_combine,
    SERIALFUNC = spamhints.census_serialize, DESERIALFUNC = spamhints.census_deserialize,
    PARALLEL = SAFE
);

COMMENT ON AGGREGATE spamhints.smtp_census(inet, spamhints.smtp_role) IS
'The census of addresses in one pass, without GROUP BY ip: (ips, client_only, server_only, both), each address counted once with the OR of its roles. E.g. SELECT (smtp_census(ip, role)).* FROM spamhints.endpoint. Addresses are compared by family and bits (the netmask is ignored); rows with a NULL are skipped; (0,0,0,0) over no rows. Parallel safe; memory grows with the distinct addresses (about 16 bytes an IPv4 address, 48 an IPv6 one), not bounded by work_mem.';
COMMENT ON AGGREGATE spamhints.smtp_census(inet, inet, integer, integer) IS
'The census over samples directly, both sides at once (half the rows of spamhints.endpoint): SELECT (smtp_census(src_ip, dst_ip, src_port, dst_port)).* FROM spamhints.smtp_sample. SMTP port 25; samples with no SMTP port or a NULL are skipped.';
COMMENT ON AGGREGATE spamhints.smtp_census(inet, inet, integer, integer, integer[]) IS
'The census over samples, both sides at once, for the SMTP port set ports, e.g. smtp_census(src_ip, dst_ip, src_port, dst_port, ''{25,465,587}'').';

-- The census as a value: store it, merge it later.

CREATE TYPE spamhints.census;

CREATE FUNCTION spamhints.census_in(cstring) RETURNS spamhints.census
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.census_out(spamhints.census) RETURNS cstring
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.census_recv(internal) RETURNS spamhints.census
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.census_send(spamhints.census) RETURNS bytea
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.census_in(cstring) IS 'text input of a census; bad text is an error with SQLSTATE 22P02';
COMMENT ON FUNCTION spamhints.census_out(spamhints.census) IS 'text output of a census';
COMMENT ON FUNCTION spamhints.census_recv(internal) IS 'binary input of a census; checks every length and value (SQLSTATE 22P03)';
COMMENT ON FUNCTION spamhints.census_send(spamhints.census) IS 'binary output of a census';

CREATE TYPE spamhints.census (
    INPUT = spamhints.census_in,
    OUTPUT = spamhints.census_out,
    RECEIVE = spamhints.census_recv,
    SEND = spamhints.census_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);

COMMENT ON TYPE spamhints.census IS
'A census as a value: a set of addresses, each with its SMTP role, stored compactly (4 bytes an IPv4 address, 16 an IPv6 one, sorted lists by role). Text form {192.0.2.1=client,2001:db8::25=both}. Build it with census_agg(...), merge with census_union(census) or |, count with counts(census), list with members(census). Rollups: keep one census per day, e.g. CREATE TABLE daily AS SELECT ts::date AS day, census_agg(src_ip, dst_ip, src_port, dst_port) AS c FROM spamhints.smtp_sample GROUP BY 1; then SELECT (counts(census_union(c))).* FROM daily WHERE day >= ... gives the census of any range of days with each address counted once.';

CREATE FUNCTION spamhints.census_final_census(internal) RETURNS spamhints.census
AS 'MODULE_PATHNAME' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION spamhints.census_final_census(internal) IS 'final function of census_agg: the canonical census value';

CREATE AGGREGATE spamhints.census_agg(inet, spamhints.smtp_role) (
    SFUNC = spamhints.census_trans, STYPE = internal,
    FINALFUNC = spamhints.census_final_census,
    COMBINEFUNC = spamhints.census_combine,
    SERIALFUNC = spamhints.census_serialize, DESERIALFUNC = spamhints.census_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE spamhints.census_agg(src_ip inet, dst_ip inet, src_port integer, dst_port integer) (
    SFUNC = spamhints.census_trans, STYPE = internal,
    FINALFUNC = spamhints.census_final_census,
    COMBINEFUNC = spamhints.census_combine,
    SERIALFUNC = spamhints.census_serialize, DESERIALFUNC = spamhints.census_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE spamhints.census_agg(src_ip inet, dst_ip inet, src_port integer, dst_port integer, ports integer[]) (
    SFUNC = spamhints.census_trans, STYPE = internal,
    FINALFUNC = spamhints.census_final_census,
    COMBINEFUNC = spamhints.census_combine,
    SERIALFUNC = spamhints.census_serialize, DESERIALFUNC = spamhints.census_deserialize,
    PARALLEL = SAFE
);

COMMENT ON AGGREGATE spamhints.census_agg(inet, spamhints.smtp_role) IS
'Builds a census value (address -> role set) from (ip, role) rows, e.g. of spamhints.endpoint; {} over no rows. Store it per day or per load and merge later with census_union(census).';
COMMENT ON AGGREGATE spamhints.census_agg(inet, inet, integer, integer) IS
'Builds a census value from samples, both sides at once, SMTP port 25: census_agg(src_ip, dst_ip, src_port, dst_port).';
COMMENT ON AGGREGATE spamhints.census_agg(inet, inet, integer, integer, integer[]) IS
'Builds a census value from samples, both sides at once, for the SMTP port set ports.';

CREATE FUNCTION spamhints.census_merge(spamhints.census, spamhints.census) RETURNS spamhints.census
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.census_eq(spamhints.census, spamhints.census) RETURNS boolean
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.counts(spamhints.census) RETURNS spamhints.census_counts
AS 'MODULE_PATHNAME', 'census_counts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.members(spamhints.census)
RETURNS TABLE (ip inet, role spamhints.smtp_role)
AS 'MODULE_PATHNAME', 'census_members' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION spamhints.census_merge(spamhints.census, spamhints.census) IS
'implements | for census: the union, each address with the OR of its roles (a merge of sorted lists, linear in both sizes)';
COMMENT ON FUNCTION spamhints.census_eq(spamhints.census, spamhints.census) IS 'implements = for census: the same addresses with the same roles';
COMMENT ON FUNCTION spamhints.counts(spamhints.census) IS
'The counts of a census: (ips, client_only, server_only, both); SELECT (counts(c)).* for columns. Constant time: a census keeps its counts.';
COMMENT ON FUNCTION spamhints.members(spamhints.census) IS
'The addresses of a census and their roles, IPv4 then IPv6, each in address order: which were the "both" addresses? SELECT ip FROM members(c) WHERE role = ''both''.';

CREATE OPERATOR spamhints.| (
    LEFTARG = spamhints.census, RIGHTARG = spamhints.census,
    FUNCTION = spamhints.census_merge, COMMUTATOR = OPERATOR(spamhints.|));
CREATE OPERATOR spamhints.= (
    LEFTARG = spamhints.census, RIGHTARG = spamhints.census,
    FUNCTION = spamhints.census_eq, COMMUTATOR = OPERATOR(spamhints.=),
    RESTRICT = eqsel, JOIN = eqjoinsel);
COMMENT ON OPERATOR spamhints.| (spamhints.census, spamhints.census) IS 'union of censuses: each address with the OR of its roles';
COMMENT ON OPERATOR spamhints.= (spamhints.census, spamhints.census) IS 'the same addresses with the same roles';

CREATE AGGREGATE spamhints.census_union(spamhints.census) (
    SFUNC = spamhints.census_merge,
    STYPE = spamhints.census,
    COMBINEFUNC = spamhints.census_merge,
    PARALLEL = SAFE
);

COMMENT ON AGGREGATE spamhints.census_union(spamhints.census) IS
'The union of stored censuses (each address once, with the OR of its roles): the rollup of per-day or per-load census values, e.g. SELECT (counts(census_union(c))).* FROM daily. One argument, a plain state type and a combine function: PostgreSQL''s parallel workers and Citus workers can each compute a part. While it runs the state is a hash table that each row is added to (time linear in the input, however many rows), flattened to a census value when it is returned.';

CREATE VIEW spamhints.ip_census AS
SELECT (c).ips, (c).client_only, (c).server_only, (c).both
FROM (SELECT spamhints.smtp_census(s.src_ip, s.dst_ip, s.src_port, s.dst_port) AS c
      FROM spamhints.smtp_sample s) AS t;

COMMENT ON VIEW spamhints.ip_census IS
'The slide''s census over all samples (SMTP port 25), one row: ips, the distinct addresses seen in an SMTP role, and client_only, server_only and both.';

-- Hour of day: hist24 and the hourly aggregates.

CREATE TYPE spamhints.hist24;

CREATE FUNCTION spamhints.hist24_in(cstring) RETURNS spamhints.hist24
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.hist24_out(spamhints.hist24) RETURNS cstring
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.hist24_recv(internal) RETURNS spamhints.hist24
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.hist24_send(spamhints.hist24) RETURNS bytea
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.hist24_in(cstring) IS 'text input of a hist24; bad text is an error with SQLSTATE 22P02';
COMMENT ON FUNCTION spamhints.hist24_out(spamhints.hist24) IS 'text output of a hist24';
COMMENT ON FUNCTION spamhints.hist24_recv(internal) IS 'binary input of a hist24; checks every length and value (SQLSTATE 22P03)';
COMMENT ON FUNCTION spamhints.hist24_send(spamhints.hist24) IS 'binary output of a hist24';

CREATE TYPE spamhints.hist24 (
    INPUT = spamhints.hist24_in,
    OUTPUT = spamhints.hist24_out,
    RECEIVE = spamhints.hist24_recv,
    SEND = spamhints.hist24_send,
    INTERNALLENGTH = 192,
    ALIGNMENT = double,
    STORAGE = plain
);

COMMENT ON TYPE spamhints.hist24 IS
'24 counts by hour of day (bigint each): text {0:12,1:0,...,23:5} (input also takes {hour:count,...} with missing hours 0, or 24 plain counts {12,0,...}). Made by hourly(ts [, weight]); + adds two; ::bigint[] gives the counts (hour 0 at subscript 1); chart(h) draws it. Rollups: store one per day and add them up with hist24_union(h).';

CREATE FUNCTION spamhints.hist24_to_array(spamhints.hist24) RETURNS bigint[]
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.hist24_from_array(bigint[]) RETURNS spamhints.hist24
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.hist24_add(spamhints.hist24, spamhints.hist24) RETURNS spamhints.hist24
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.hist24_eq(spamhints.hist24, spamhints.hist24) RETURNS boolean
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.hist24_to_array(spamhints.hist24) IS 'the cast hist24 -> bigint[]: 24 counts, hour 0 first';
COMMENT ON FUNCTION spamhints.hist24_from_array(bigint[]) IS 'the cast bigint[] -> hist24: exactly 24 counts, none NULL';
COMMENT ON FUNCTION spamhints.hist24_add(spamhints.hist24, spamhints.hist24) IS 'implements + for hist24: hour by hour';
COMMENT ON FUNCTION spamhints.hist24_eq(spamhints.hist24, spamhints.hist24) IS 'implements = for hist24';

CREATE CAST (spamhints.hist24 AS bigint[]) WITH FUNCTION spamhints.hist24_to_array(spamhints.hist24);
CREATE CAST (bigint[] AS spamhints.hist24) WITH FUNCTION spamhints.hist24_from_array(bigint[]);

CREATE OPERATOR spamhints.+ (
    LEFTARG = spamhints.hist24, RIGHTARG = spamhints.hist24,
    FUNCTION = spamhints.hist24_add, COMMUTATOR = OPERATOR(spamhints.+));
CREATE OPERATOR spamhints.= (
    LEFTARG = spamhints.hist24, RIGHTARG = spamhints.hist24,
    FUNCTION = spamhints.hist24_eq, COMMUTATOR = OPERATOR(spamhints.=),
    RESTRICT = eqsel, JOIN = eqjoinsel);
COMMENT ON OPERATOR spamhints.+ (spamhints.hist24, spamhints.hist24) IS 'adds two hour-of-day histograms';
COMMENT ON OPERATOR spamhints.= (spamhints.hist24, spamhints.hist24) IS 'the same 24 counts';

CREATE FUNCTION spamhints.hist24_accum(spamhints.hist24, timestamptz) RETURNS spamhints.hist24
AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.hist24_accum(spamhints.hist24, timestamptz, bigint) RETURNS spamhints.hist24
AS 'MODULE_PATHNAME', 'hist24_accum_weighted' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.hist24_union_accum(spamhints.hist24, spamhints.hist24) RETURNS spamhints.hist24
AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.hist24_accum(spamhints.hist24, timestamptz) IS 'transition function of hourly(ts): adds one at the hour of ts in the session''s TimeZone';
COMMENT ON FUNCTION spamhints.hist24_accum(spamhints.hist24, timestamptz, bigint) IS 'transition function of hourly(ts, weight): adds weight at the hour of ts in the session''s TimeZone';
COMMENT ON FUNCTION spamhints.hist24_union_accum(spamhints.hist24, spamhints.hist24) IS 'transition function of hist24_union and combine function of the hourly aggregates: adds hour by hour';

CREATE AGGREGATE spamhints.hourly(timestamptz) (
    SFUNC = spamhints.hist24_accum, STYPE = spamhints.hist24, INITCOND = '{}',
    COMBINEFUNC = spamhints.hist24_union_accum,
    PARALLEL = SAFE
);
CREATE AGGREGATE spamhints.hourly(timestamptz, bigint) (
    SFUNC = spamhints.hist24_accum, STYPE = spamhints.hist24, INITCOND = '{}',
    COMBINEFUNC = spamhints.hist24_union_accum,
    PARALLEL = SAFE
);
CREATE AGGREGATE spamhints.hist24_union(spamhints.hist24) (
    SFUNC = spamhints.hist24_union_accum, STYPE = spamhints.hist24, INITCOND = '{}',
    COMBINEFUNC = spamhints.hist24_union_accum,
    PARALLEL = SAFE
);

COMMENT ON AGGREGATE spamhints.hourly(timestamptz) IS
'Samples by hour of day in the session''s TimeZone (SET TimeZone first), as a hist24: SELECT chart(hourly(ts)) FROM spamhints.smtp_sample. NULL and infinite timestamps are skipped; all zeros over no rows. Its state is the hist24 itself: parallel workers and Citus workers compute parts that add up.';
COMMENT ON AGGREGATE spamhints.hourly(timestamptz, bigint) IS
'Weighted counts by hour of day, e.g. hourly(ts, sampling_rate) estimates real packets per hour. Rows with a NULL are skipped.';
COMMENT ON AGGREGATE spamhints.hist24_union(spamhints.hist24) IS
'The sum of stored hist24 values: the rollup of per-day profiles, e.g. SELECT chart(hist24_union(h)) FROM daily_profile WHERE day >= ''2024-01-01''. One argument and a plain state: Citus can compute it in parts.';

CREATE FUNCTION spamhints.chart(h spamhints.hist24, height integer DEFAULT 10) RETURNS text
AS 'MODULE_PATHNAME', 'hist24_chart' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.chart(spamhints.hist24, integer) IS
'The slide''s hour-of-day bar chart as plain text (80 columns): one column of X per hour, height rows (default 10) scaled to the busiest hour, hour labels 0 3am 6am 9am N 3pm 6pm 9pm, each hour''s count in two digits of a stated unit, and the exact total and peak. In psql: \pset format unaligned, or \pset tuples_only.';

-- Activity over the capture: a series over a window.

CREATE FUNCTION spamhints.activity(
    window_start timestamptz, window_end timestamptz,
    bin interval DEFAULT '1 hour', ports integer[] DEFAULT '{25}')
RETURNS TABLE (bin_start timestamptz, samples bigint, est_packets bigint,
               syn bigint, clients bigint, servers bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT b.bin_start,
           coalesce(a.samples, 0), coalesce(a.est_packets, 0), coalesce(a.syn, 0),
           coalesce((a.c).client_only + (a.c).both, 0),
           coalesce((a.c).server_only + (a.c).both, 0)
    FROM generate_series(date_bin(bin, window_start, window_start),
                         window_end - '1 microsecond'::interval, bin) AS b(bin_start)
    LEFT JOIN (SELECT date_bin(bin, s.ts, window_start) AS bin_start,
                      count(*) AS samples,
                      sum(s.sampling_rate)::bigint AS est_packets,
                      count(*) FILTER (WHERE s.tcp_flags & 18 = 2) AS syn,
                      spamhints.smtp_census(s.src_ip, s.dst_ip, s.src_port, s.dst_port, ports) AS c
               FROM spamhints.smtp_sample s
               WHERE s.ts >= window_start AND s.ts < window_end
               GROUP BY 1) AS a USING (bin_start)
    ORDER BY b.bin_start;
END;

COMMENT ON FUNCTION spamhints.activity(timestamptz, timestamptz, interval, integer[]) IS
'Activity over the capture: one row per bin (default an hour) of [window_start, window_end), empty bins included: samples, est_packets (sum of sampling rates), SYN samples, and the distinct client and server addresses of the bin (an address that is both counts in each). E.g. SELECT * FROM activity(''2024-03-01'', ''2024-03-02'').';

-- AS and country rollups.

CREATE TABLE spamhints.asn (
    asn  bigint PRIMARY KEY,
    org  text
);

COMMENT ON TABLE spamhints.asn IS
'AS numbers and their organisations, filled by enrichment; client_as_top shows org as as_org (NULL for an AS not here).';

SELECT pg_catalog.pg_extension_config_dump('spamhints.asn', '');

CREATE VIEW spamhints.client_as_top AS
WITH by_cc AS (
    SELECT e.asn, e.cc, spamhints.census_agg(e.ip, e.role) AS c
    FROM spamhints.endpoint e
    WHERE e.asn IS NOT NULL
    GROUP BY e.asn, e.cc
), by_as AS (
    SELECT b.asn,
           spamhints.counts(spamhints.census_union(b.c)) AS n,
           (array_agg(b.cc ORDER BY (spamhints.counts(b.c)).ips DESC, b.cc)
               FILTER (WHERE b.cc IS NOT NULL))[1] AS country
    FROM by_cc b
    GROUP BY b.asn
)
SELECT rank() OVER (ORDER BY (a.n).client_only DESC) AS rank,
       a.asn, o.org AS as_org, a.country,
       (a.n).client_only AS clients,
       (a.n).server_only AS servers,
       (a.n).both AS both,
       (a.n).ips AS ips
FROM by_as a
LEFT JOIN spamhints.asn o ON o.asn = a.asn
ORDER BY rank, a.asn;

COMMENT ON VIEW spamhints.client_as_top IS
'The slide''s "Client AS top": per AS (src_asn/dst_asn of the address; addresses with no known AS left out), its addresses by their role over all samples (SMTP port 25): clients (client only), servers (server only), both, and ips (all three); as_org from spamhints.asn (NULL when absent); country, the country (src_cc/dst_cc) of most of that AS''s addresses; rank by clients (ties share a rank). An address seen under two ASes counts in each. Top 30: WHERE rank <= 30; the 100th place: WHERE rank = 100 (or ORDER BY rank OFFSET 99 LIMIT 1).';

CREATE VIEW spamhints.client_cc_top AS
SELECT rank() OVER (ORDER BY (t.n).client_only DESC) AS rank,
       t.cc AS country,
       (t.n).client_only AS clients,
       (t.n).server_only AS servers,
       (t.n).both AS both,
       (t.n).ips AS ips
FROM (SELECT e.cc, spamhints.smtp_census(e.ip, e.role) AS n
      FROM spamhints.endpoint e
      WHERE e.cc IS NOT NULL
      GROUP BY e.cc) AS t
ORDER BY rank, t.cc;

COMMENT ON VIEW spamhints.client_cc_top IS
'client_as_top by country (src_cc/dst_cc of the address; unknown left out): clients (client only), servers (server only), both, ips, and rank by clients.';

------------------------------------------------------------------------------
-- Enrichment (issue 4): AS numbers, AS names and countries from MaxMind DB
-- files (GeoLite2-ASN and -Country, DB-IP's and IPinfo's files in the same
-- format), filled by spamhints-load --asn-db/--country-db and looked up in
-- SQL through the settings spamhints.asn_db and spamhints.country_db.
------------------------------------------------------------------------------

ALTER TABLE spamhints.load ADD COLUMN enrichment jsonb;

COMMENT ON COLUMN spamhints.load.enrichment IS
'The enrichment databases of the load''s src_asn/dst_asn/src_cc/dst_cc: {"asn": {...}, "country": {...}} with each file''s path, database_type, ip_version, record_size, node_count, binary_format, build_epoch, built, languages and description, "by" (spamhints-load, or spamhints.reenrich with "at"), and the loader''s lookup counts; NULL when loaded without enrichment';
COMMENT ON COLUMN spamhints.smtp_sample.src_asn IS 'AS number of src_ip from the ASN database (spamhints-load --asn-db, or spamhints.reenrich); NULL when the address is in none';
COMMENT ON COLUMN spamhints.smtp_sample.dst_asn IS 'AS number of dst_ip from the ASN database; NULL when the address is in none';
COMMENT ON COLUMN spamhints.smtp_sample.src_cc IS 'ISO 3166 country code of src_ip from the country database (spamhints-load --country-db, or spamhints.reenrich); NULL when unknown';
COMMENT ON COLUMN spamhints.smtp_sample.dst_cc IS 'ISO 3166 country code of dst_ip from the country database; NULL when unknown';

CREATE FUNCTION spamhints.asn(ip inet) RETURNS bigint
AS 'MODULE_PATHNAME', 'spamhints_asn' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.as_org(ip inet) RETURNS text
AS 'MODULE_PATHNAME', 'spamhints_as_org' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION spamhints.country(ip inet) RETURNS text
AS 'MODULE_PATHNAME', 'spamhints_country' LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.asn(inet) IS
'The AS number of an address in the ASN database named by the setting spamhints.asn_db (autonomous_system_number, or IPinfo''s asn); NULL when the address is in no network of it. The netmask of ip is ignored. STABLE: the answer depends on the setting and the file, which each backend opens once and reopens when the file is replaced (checked once per statement).';
COMMENT ON FUNCTION spamhints.as_org(inet) IS
'The name of the AS of an address in the ASN database named by spamhints.asn_db (autonomous_system_organization, or IPinfo''s as_name); NULL when the address is in no network of it, or its record has no name.';
COMMENT ON FUNCTION spamhints.country(inet) IS
'The ISO 3166 country code of an address in the country (or city) database named by the setting spamhints.country_db (country.iso_code, the country where the address is, not registered_country; IPinfo''s country_code); NULL when unknown.';

CREATE FUNCTION spamhints.enrichment_databases(
    OUT setting text, OUT file text, OUT database_type text, OUT ip_version integer,
    OUT record_size integer, OUT node_count bigint, OUT binary_format text,
    OUT build_epoch bigint, OUT built timestamptz, OUT languages text[], OUT description text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'spamhints_enrichment_databases' LANGUAGE C STABLE PARALLEL SAFE ROWS 2;

COMMENT ON FUNCTION spamhints.enrichment_databases() IS
'The two enrichment settings (spamhints.asn_db, spamhints.country_db) and the metadata of the files they name: type, IP version, size of the tree, build time, languages, description. A setting that is empty gives a row with NULLs; a file that cannot be opened is an error. E.g. SELECT setting, database_type, built FROM spamhints.enrichment_databases().';

CREATE FUNCTION spamhints.reenrich(load_id integer DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    use_asn     boolean := false;
    use_country boolean := false;
    info        jsonb := '{}';
    db          record;
    changed     bigint;
BEGIN
    -- open (and check) both files before touching any row: one clear error
    FOR db IN SELECT * FROM spamhints.enrichment_databases() AS d WHERE d.file IS NOT NULL LOOP
        use_asn := use_asn OR db.setting = 'spamhints.asn_db';
        use_country := use_country OR db.setting = 'spamhints.country_db';
        info := info || jsonb_build_object(CASE db.setting WHEN 'spamhints.asn_db' THEN 'asn' ELSE 'country' END,
                                           jsonb_build_object('file', db.file, 'database_type', db.database_type,
                                               'ip_version', db.ip_version, 'record_size', db.record_size,
                                               'node_count', db.node_count, 'binary_format', db.binary_format,
                                               'build_epoch', db.build_epoch,
                                               'built', to_char(db.built AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                               'languages', to_jsonb(db.languages), 'description', db.description));
    END LOOP;
    IF NOT use_asn AND NOT use_country THEN
        RAISE EXCEPTION 'neither spamhints.asn_db nor spamhints.country_db is set'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'A superuser sets them to MaxMind DB files, e.g. ALTER SYSTEM SET spamhints.asn_db = ''/var/lib/GeoIP/GeoLite2-ASN.mmdb''; SELECT pg_reload_conf();';
    END IF;

    -- each address is looked up twice (SET and WHERE): the second time from
    -- the backend's cache
    UPDATE spamhints.smtp_sample s
    SET src_asn = CASE WHEN use_asn THEN spamhints.asn(s.src_ip) ELSE s.src_asn END,
        dst_asn = CASE WHEN use_asn THEN spamhints.asn(s.dst_ip) ELSE s.dst_asn END,
        src_cc = CASE WHEN use_country THEN spamhints.country(s.src_ip) ELSE s.src_cc END,
        dst_cc = CASE WHEN use_country THEN spamhints.country(s.dst_ip) ELSE s.dst_cc END
    WHERE (reenrich.load_id IS NULL OR s.load_id = reenrich.load_id)
      AND (s.src_asn, s.dst_asn, s.src_cc, s.dst_cc) IS DISTINCT FROM
          (CASE WHEN use_asn THEN spamhints.asn(s.src_ip) ELSE s.src_asn END,
           CASE WHEN use_asn THEN spamhints.asn(s.dst_ip) ELSE s.dst_asn END,
           CASE WHEN use_country THEN spamhints.country(s.src_ip) ELSE s.src_cc END,
           CASE WHEN use_country THEN spamhints.country(s.dst_ip) ELSE s.dst_cc END);
    GET DIAGNOSTICS changed = ROW_COUNT;

    IF use_asn THEN
        -- the names of the ASes of these rows; of several names, the
        -- greatest in byte order, as spamhints-load keeps
        INSERT INTO spamhints.asn AS a (asn, org)
        SELECT e.asn, max(spamhints.as_org(e.ip) COLLATE "C")
        FROM (SELECT s.src_asn AS asn, s.src_ip AS ip FROM spamhints.smtp_sample s
              WHERE reenrich.load_id IS NULL OR s.load_id = reenrich.load_id
              UNION ALL
              SELECT s.dst_asn, s.dst_ip FROM spamhints.smtp_sample s
              WHERE reenrich.load_id IS NULL OR s.load_id = reenrich.load_id) AS e
        WHERE e.asn IS NOT NULL
        GROUP BY e.asn
        ORDER BY e.asn
        ON CONFLICT (asn) DO UPDATE SET org = EXCLUDED.org
        WHERE EXCLUDED.org IS NOT NULL AND a.org IS DISTINCT FROM EXCLUDED.org;
    END IF;

    UPDATE spamhints.load l
    SET enrichment = coalesce(l.enrichment, '{}') || info
                     || jsonb_build_object('by', 'spamhints.reenrich', 'at', now())
    WHERE reenrich.load_id IS NULL OR l.load_id = reenrich.load_id;
    RETURN changed;
END
$$;

COMMENT ON FUNCTION spamhints.reenrich(integer) IS
'After an update of the enrichment databases: looks src_asn, dst_asn, src_cc and dst_cc up again in the files named by spamhints.asn_db and spamhints.country_db for the samples of one load (or of all loads, the default), updates the rows whose answer changed and returns how many; upserts the AS names into spamhints.asn and records the files in spamhints.load.enrichment. A setting that is empty leaves its columns alone. E.g. SELECT spamhints.reenrich(); or SELECT spamhints.reenrich(7);';
-- Abuse desk workflow (issue 7): the ISP's own customers, its mail servers'
-- logs, and reports to other ISPs that follow the Best Practice for
-- reporting abuse based on traffic data (prior agreement, not unduly
-- repetitive, evidence clearly given and accurately timed, a warning about
-- personal data, personal data kept no longer than needed).
--
-- Every function here runs with search_path = pg_catalog, spamhints, so a
-- caller's search_path cannot change what it does. All times in reports and
-- in the daily figures are UTC; days are UTC days.
------------------------------------------------------------------------------

-- Settings: custom parameters (SET, ALTER DATABASE ... SET, postgresql.conf)
-- with defaults, so that nothing needs the C module to be loaded.

CREATE FUNCTION spamhints.setting_default(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT d.value
    FROM (VALUES ('report_suppression', '7 days'),
                 ('retention',          '90 days'),
                 ('report_from',        'abuse@localhost'),
                 ('reporting_mta',      'localhost'),
                 ('report_max_items',   '100')) AS d(name, value)
    WHERE d.name = setting_default.name
$$;

COMMENT ON FUNCTION spamhints.setting_default(text) IS
'The default of a workflow setting (NULL for an unknown name); spamhints.settings lists them all.';

CREATE FUNCTION spamhints.setting(name text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    v text := nullif(current_setting('spamhints.' || name, true), '');
BEGIN
    IF spamhints.setting_default(name) IS NULL THEN
        RAISE EXCEPTION 'unknown spamhints setting "%"', name
            USING ERRCODE = '42704', HINT = 'SELECT * FROM spamhints.settings lists them.';
    END IF;
    RETURN coalesce(v, spamhints.setting_default(name));
END
$$;

COMMENT ON FUNCTION spamhints.setting(text) IS
'The value of workflow setting spamhints.NAME: the parameter when it is set (SET spamhints.retention = ''30 days'', or ALTER DATABASE abuse SET ...), otherwise its default.';

CREATE VIEW spamhints.settings AS
SELECT s.name, spamhints.setting(s.name) AS value, spamhints.setting_default(s.name) AS "default", s.description
FROM (VALUES
  ('report_suppression', 'an address reported to an ISP is not reported to it again within this interval, unless there is a new kind of evidence (agreement.suppression overrides it per ISP)'),
  ('retention', 'personal data older than this is deleted by spamhints.purge(): samples, mail events, reports sent and received, ended address assignments'),
  ('report_from', 'the From address of the reports, where ISPs reply'),
  ('reporting_mta', 'the host name that reports name as their Reporting-MTA and in their Message-ID'),
  ('report_max_items', 'evidence items listed per kind and address in a report; the rest are counted')) AS s(name, description);

COMMENT ON VIEW spamhints.settings IS
'The workflow''s settings (custom parameters spamhints.NAME): name, value in this session, default, and what it does. Change one for a database with ALTER DATABASE db SET spamhints.retention = ''30 days''.';

-- Times as reports write them.

CREATE FUNCTION spamhints.utc_text(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
           || CASE WHEN extract(microseconds FROM ts)::bigint % 1000000 <> 0
                   THEN to_char(ts AT TIME ZONE 'UTC', '.US') ELSE '' END
$$;

COMMENT ON FUNCTION spamhints.utc_text(timestamptz) IS
'A time in UTC as reports write it, whatever the session''s TimeZone: 2007-03-14 10:15:01, with .microseconds when it has them (sampled packets do).';

CREATE FUNCTION spamhints.rfc5322_date(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'Dy, DD Mon YYYY HH24:MI:SS') || ' +0000'
$$;

COMMENT ON FUNCTION spamhints.rfc5322_date(timestamptz) IS
'A time as an RFC 5322 date-time in UTC (Wed, 14 Mar 2007 10:15:01 +0000), for the Date and Arrival-Date fields of reports.';

CREATE FUNCTION spamhints.yesterday(at timestamptz DEFAULT now()) RETURNS tstzrange
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT tstzrange((((at AT TIME ZONE 'UTC')::date - 1)::timestamp AT TIME ZONE 'UTC'),
                     (((at AT TIME ZONE 'UTC')::date)::timestamp AT TIME ZONE 'UTC'))
$$;

COMMENT ON FUNCTION spamhints.yesterday(timestamptz) IS
'The UTC day before at (default now) as a range [00:00, 24:00) UTC: the default period of spamhints.report().';

------------------------------------------------------------------------------
-- Customers, time-aware: who held which address when.
------------------------------------------------------------------------------

CREATE TABLE spamhints.ip_assignment (
    customer_id  text NOT NULL,
    network      cidr NOT NULL,
    during       tstzrange NOT NULL DEFAULT tstzrange(NULL, NULL),
    CONSTRAINT ip_assignment_not_empty CHECK (NOT isempty(during)),
    -- an address belongs to one customer at a time; the GiST index behind
    -- the constraint also finds the holder of an address at a time
    CONSTRAINT ip_assignment_no_overlap
        EXCLUDE USING gist (network inet_ops WITH &&, during WITH &&)
);

COMMENT ON TABLE spamhints.ip_assignment IS
'The ISP''s own customers'' addresses over time: customer_id held network (an address or a prefix) during a time range. Dynamic addresses change hands, so a sample or mail event belongs to whoever held its address at its time; a static customer has an unbounded range (the default). Overlapping assignments of an address are refused (exclusion constraint on network && and during &&, GiST). Fill it with COPY, INSERT ... SELECT from your own table, or spamhints.replace_assignments(''your_view'') over a view or a postgres_fdw foreign table (README: "Customers").';
COMMENT ON COLUMN spamhints.ip_assignment.customer_id IS 'your customer reference (account number, contract): no names needed';
COMMENT ON COLUMN spamhints.ip_assignment.network IS 'the address (/32, /128) or prefix assigned';
COMMENT ON COLUMN spamhints.ip_assignment.during IS 'when it was assigned, [lease start, lease end); unbounded for a static assignment; times with their zone';

SELECT pg_catalog.pg_extension_config_dump('spamhints.ip_assignment', '');

CREATE FUNCTION spamhints.customer_at(ip inet, at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT a.customer_id FROM spamhints.ip_assignment a
    WHERE a.network >>= ip AND a.during @> at
$$;

COMMENT ON FUNCTION spamhints.customer_at(inet, timestamptz) IS
'The customer who held address ip at time at, or NULL: SELECT spamhints.customer_at(''192.0.2.7'', ''2007-03-14 10:15+00'').';

CREATE FUNCTION spamhints.replace_assignments(source regclass) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    n bigint;
BEGIN
    -- readers see the old assignments until this transaction commits
    LOCK TABLE spamhints.ip_assignment IN EXCLUSIVE MODE;
    DELETE FROM spamhints.ip_assignment;
    EXECUTE format('INSERT INTO spamhints.ip_assignment (customer_id, network, during)
                    SELECT customer_id::text, network::cidr, coalesce(during::tstzrange, tstzrange(NULL, NULL))
                    FROM %s', source);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION spamhints.replace_assignments(regclass) IS
'Replaces every row of spamhints.ip_assignment with the rows of source, a table, view or foreign table (postgres_fdw) with columns customer_id, network and during (NULL during: static), in one transaction; returns the number of assignments. E.g. over your own lease table: CREATE VIEW crm_leases AS SELECT account AS customer_id, ip AS network, tstzrange(start, stop) AS during FROM crm.lease; SELECT spamhints.replace_assignments(''crm_leases'').';

------------------------------------------------------------------------------
-- Mail logs: what the ISP's own mail servers saw (spamhints-load --maillog).
------------------------------------------------------------------------------

-- A mail log is not a capture: it has a format, a time zone and a year to
-- tell, lines rather than datagrams. Its loads have a table of their own,
-- with the same content-hash idempotence as spamhints.load.
CREATE TABLE spamhints.maillog_load (
    maillog_load_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_name        text NOT NULL,
    sha256           text UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    format           text NOT NULL CHECK (format IN ('exim', 'postfix')),
    file_bytes       bigint,
    file_mtime       timestamptz,
    timezone         text NOT NULL,
    year_source      text CHECK (year_source IN ('option', 'mtime')),
    started_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at      timestamptz,
    first_ts         timestamptz,
    last_ts          timestamptz,
    lines            bigint NOT NULL DEFAULT 0,
    events           bigint NOT NULL DEFAULT 0,
    malformed        bigint NOT NULL DEFAULT 0,
    skipped          jsonb NOT NULL DEFAULT '{}',
    loader_version   text,
    CHECK (finished_at IS NULL OR sha256 IS NOT NULL)
);

COMMENT ON TABLE spamhints.maillog_load IS
'One row per mail log file loaded by spamhints-load --maillog: file, SHA-256 of its bytes (the same log is never loaded twice), format (exim or postfix), the time zone its times were read in, where the year of syslog lines came from, line counts. A load is one transaction: a row here means all of its events are in spamhints.mail_event.';
COMMENT ON COLUMN spamhints.maillog_load.timezone IS 'the time zone of log times that carry no offset (--timezone; an offset in the line wins)';
COMMENT ON COLUMN spamhints.maillog_load.year_source IS 'where syslog lines (which have no year) got theirs: option (--year) or mtime (the file''s modification time); NULL when every line carries its year';
COMMENT ON COLUMN spamhints.maillog_load.lines IS 'lines read';
COMMENT ON COLUMN spamhints.maillog_load.events IS 'rows added to spamhints.mail_event';
COMMENT ON COLUMN spamhints.maillog_load.malformed IS 'lines that could not be read (no valid time, a broken MTA line, a bad address): counted, never loaded';
COMMENT ON COLUMN spamhints.maillog_load.skipped IS 'lines and messages not loaded, by reason -> count (other_program, other_line, malformed_*, local_submission, loopback_client...)';

CREATE TABLE spamhints.mail_event (
    maillog_load_id  integer NOT NULL REFERENCES spamhints.maillog_load ON DELETE CASCADE,
    line             bigint NOT NULL,
    ts               timestamptz NOT NULL,
    host             text,
    queue_id         text,
    client_ip        inet NOT NULL,
    client_port      integer CHECK (client_port BETWEEN 0 AND 65535),
    client_name      text,
    helo             text,
    size             bigint,
    sender           text,
    recipients       text[],
    verdict          text NOT NULL CHECK (verdict IN ('clean', 'spam', 'virus', 'rejected')),
    virus            text,
    spam_score       numeric,
    reason           text,
    client_asn       bigint,
    client_cc        text
);

COMMENT ON TABLE spamhints.mail_event IS
'One row per message (or refused attempt) that an outside client sent to the ISP''s mail servers, from their logs: when, from which address and port, HELO, size, envelope sender and recipients (personal data: see spamhints.purge), and the verdict: clean, spam (with the SpamAssassin score), virus (with its name), or rejected (and why). maillog_load_id and line lead back to the log line.';
COMMENT ON COLUMN spamhints.mail_event.line IS 'line number (from 1) in the log file of the line that gave the event its client';
COMMENT ON COLUMN spamhints.mail_event.ts IS 'the time of that line, converted from the log''s time zone (maillog_load.timezone)';
COMMENT ON COLUMN spamhints.mail_event.host IS 'the mail server that logged it (syslog host name; NULL for Exim''s own log)';
COMMENT ON COLUMN spamhints.mail_event.queue_id IS 'the MTA''s queue or message id (NULL for a refusal before one was given)';
COMMENT ON COLUMN spamhints.mail_event.client_name IS 'the client''s reverse DNS name as the MTA logged it (NULL or unknown when it had none)';
COMMENT ON COLUMN spamhints.mail_event.helo IS 'the name the client gave in HELO/EHLO, when the log has it';
COMMENT ON COLUMN spamhints.mail_event.size IS 'message size in bytes, when known';
COMMENT ON COLUMN spamhints.mail_event.sender IS 'envelope sender (MAIL FROM), '''' for the null sender <>; personal data, maybe forged';
COMMENT ON COLUMN spamhints.mail_event.recipients IS 'envelope recipients (RCPT TO); personal data';
COMMENT ON COLUMN spamhints.mail_event.verdict IS 'clean, spam, virus, or rejected (refused for another reason: see reason)';
COMMENT ON COLUMN spamhints.mail_event.virus IS 'the virus name the scanner gave (ClamAV, amavisd-new, Exim malware ACL)';
COMMENT ON COLUMN spamhints.mail_event.spam_score IS 'SpamAssassin score (amavisd-new Hits, Exim spam ACL), when logged';
COMMENT ON COLUMN spamhints.mail_event.reason IS 'what the MTA or filter said: the rejection text, or the amavisd-new action';
COMMENT ON COLUMN spamhints.mail_event.client_asn IS 'AS of client_ip, when enrichment fills it (reports also take it from samples of the same address)';
COMMENT ON COLUMN spamhints.mail_event.client_cc IS 'country of client_ip, when enrichment fills it';

CREATE INDEX mail_event_client_ts ON spamhints.mail_event (client_ip, ts);
CREATE INDEX mail_event_ts ON spamhints.mail_event (ts);
CREATE INDEX mail_event_load ON spamhints.mail_event (maillog_load_id);

SELECT pg_catalog.pg_extension_config_dump('spamhints.maillog_load', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.maillog_load_maillog_load_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.mail_event', '');

-- Reports other people send us (the slides' "incoming reports").

CREATE TABLE spamhints.incoming_report (
    incoming_report_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at         timestamptz NOT NULL DEFAULT now(),
    reporter            text,
    feedback_type       text,
    user_agent          text,
    source_ip           inet,
    source_port         integer,
    arrival_date        timestamptz,
    incidents           integer,
    original_mail_from  text,
    original_rcpt_to    text[],
    reported_domain     text[],
    message             text
);

COMMENT ON TABLE spamhints.incoming_report IS
'Abuse reports received about the ISP''s own addresses, from any source: fill it yourself, or with spamhints.receive_arf(message) for ARF (RFC 5965) reports. The slides'' "incoming reports" per day are spamhints.incoming_reports_per_day. Personal data: purged with the rest (spamhints.purge).';
COMMENT ON COLUMN spamhints.incoming_report.received_at IS 'when we received it';
COMMENT ON COLUMN spamhints.incoming_report.reporter IS 'who sent it (the From of the report)';
COMMENT ON COLUMN spamhints.incoming_report.source_ip IS 'the address reported (ARF Source-IP): one of ours';
COMMENT ON COLUMN spamhints.incoming_report.message IS 'the report as received, when kept';

CREATE INDEX incoming_report_received ON spamhints.incoming_report (received_at);
SELECT pg_catalog.pg_extension_config_dump('spamhints.incoming_report', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.incoming_report_incoming_report_id_seq', '');

CREATE FUNCTION spamhints.parse_arf(message text)
RETURNS TABLE (reporter text, feedback_type text, user_agent text, source_ip inet,
               source_port integer, arrival_date timestamptz, incidents integer,
               original_mail_from text, original_rcpt_to text[], reported_domain text[])
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    msg    text := replace(message, E'\r\n', E'\n');
    head   text;
    part   text;
    p      integer;
    l      text;
    name   text;
    val    text;
BEGIN
    original_rcpt_to := '{}';
    reported_domain := '{}';
    -- the report's own header: From is the reporter
    head := regexp_replace(split_part(msg, E'\n\n', 1), E'\n[ \t]+', ' ', 'g');
    reporter := substring(head from '(?:^|\n)[Ff][Rr][Oo][Mm]:[ \t]*([^\n]*)');
    reporter := coalesce(substring(reporter from '<([^>]*)>'), btrim(reporter));

    -- the machine-readable part, message/feedback-report: its fields follow
    -- the part's own header and end at a blank line or the next boundary
    p := regexp_instr(msg, '(^|\n)content-type:[ \t]*message/feedback-report', 1, 1, 0, 'i');
    IF p = 0 THEN
        RAISE EXCEPTION 'not an ARF report: no message/feedback-report part'
            USING ERRCODE = '22P02';
    END IF;
    part := substr(msg, p + 1);
    p := strpos(part, E'\n\n');
    IF p = 0 THEN
        RAISE EXCEPTION 'not an ARF report: the message/feedback-report part is empty'
            USING ERRCODE = '22P02';
    END IF;
    part := substr(part, p + 2);
    p := strpos(part, E'\n\n');
    IF p > 0 THEN part := left(part, p - 1); END IF;
    p := strpos(part, E'\n--');
    IF p > 0 THEN part := left(part, p - 1); END IF;
    part := regexp_replace(part, E'\n[ \t]+', ' ', 'g');

    FOREACH l IN ARRAY string_to_array(part, E'\n') LOOP
        CONTINUE WHEN strpos(l, ':') = 0;
        name := lower(btrim(split_part(l, ':', 1)));
        val := btrim(regexp_replace(substr(l, strpos(l, ':') + 1), '\([^()]*\)', '', 'g'));
        BEGIN
            CASE name
                WHEN 'feedback-type' THEN feedback_type := lower(val);
                WHEN 'user-agent' THEN user_agent := val;
                WHEN 'source-ip' THEN source_ip := val::inet;
                WHEN 'source-port' THEN source_port := val::integer;
                WHEN 'arrival-date' THEN arrival_date := val::timestamptz;
                WHEN 'incidents' THEN incidents := val::integer;
                WHEN 'original-mail-from' THEN original_mail_from := coalesce(substring(val from '<([^>]*)>'), val);
                WHEN 'original-rcpt-to' THEN original_rcpt_to := original_rcpt_to || coalesce(substring(val from '<([^>]*)>'), val);
                WHEN 'reported-domain' THEN reported_domain := reported_domain || val;
                ELSE NULL;
            END CASE;
        EXCEPTION WHEN data_exception THEN
            NULL;   -- a field we cannot read is left out, the rest is kept
        END;
    END LOOP;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION spamhints.parse_arf(text) IS
'Reads an ARF abuse report (RFC 5965, with RFC 6692''s Source-Port): the From of the message and the fields of its message/feedback-report part. A field with a value that cannot be read is left NULL; a message without a feedback-report part is an error (22P02).';

CREATE FUNCTION spamhints.receive_arf(message text, received_at timestamptz DEFAULT now(),
                                      keep_message boolean DEFAULT true)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, spamhints
AS $$
    INSERT INTO spamhints.incoming_report
        (received_at, reporter, feedback_type, user_agent, source_ip, source_port, arrival_date,
         incidents, original_mail_from, original_rcpt_to, reported_domain, message)
    SELECT received_at, a.reporter, a.feedback_type, a.user_agent, a.source_ip, a.source_port,
           a.arrival_date, a.incidents, a.original_mail_from, a.original_rcpt_to,
           a.reported_domain, CASE WHEN keep_message THEN message END
    FROM spamhints.parse_arf(message) AS a
    RETURNING incoming_report_id
$$;

COMMENT ON FUNCTION spamhints.receive_arf(text, timestamptz, boolean) IS
'Files an ARF report received (the whole message, as text) into spamhints.incoming_report and returns its id; keep_message => false keeps only the fields.';

-- The slides' charts: detections per day, incoming reports per day.

CREATE VIEW spamhints.detections_per_day AS
SELECT (e.ts AT TIME ZONE 'UTC')::date AS day,
       count(*) FILTER (WHERE e.verdict = 'spam') AS spam,
       count(*) FILTER (WHERE e.verdict = 'virus') AS virus,
       count(*) FILTER (WHERE e.verdict = 'rejected') AS rejected,
       count(*) FILTER (WHERE e.verdict = 'clean') AS clean,
       count(DISTINCT e.client_ip) FILTER (WHERE e.verdict = 'spam') AS spam_sources,
       count(DISTINCT e.client_ip) FILTER (WHERE e.verdict = 'virus') AS virus_sources
FROM spamhints.mail_event e
GROUP BY 1
ORDER BY 1;

COMMENT ON VIEW spamhints.detections_per_day IS
'The slide "Detection of spam (black) and viruses (red)": per UTC day, the mail events by verdict (spam, virus, rejected, clean) and the distinct client addresses that sent spam and viruses.';

CREATE VIEW spamhints.incoming_reports_per_day AS
SELECT (r.received_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS reports,
       count(DISTINCT r.source_ip) AS addresses,
       count(DISTINCT r.reporter) AS reporters
FROM spamhints.incoming_report r
GROUP BY 1
ORDER BY 1;

COMMENT ON VIEW spamhints.incoming_reports_per_day IS
'The slide "Incoming reports (all sources)": per UTC day of receipt, the reports received, the distinct addresses they were about, and the distinct reporters.';

CREATE VIEW spamhints.customers_caught_per_day AS
SELECT d.day,
       count(DISTINCT d.customer_id) AS customers,
       count(DISTINCT d.customer_id) FILTER (WHERE d.verdict = 'spam') AS spam_customers,
       count(DISTINCT d.customer_id) FILTER (WHERE d.verdict = 'virus') AS virus_customers,
       count(DISTINCT d.customer_id) FILTER (WHERE d.first_day = d.day) AS new_customers
FROM (SELECT (e.ts AT TIME ZONE 'UTC')::date AS day, a.customer_id, e.verdict,
             min((e.ts AT TIME ZONE 'UTC')::date) OVER (PARTITION BY a.customer_id) AS first_day
      FROM spamhints.mail_event e
      JOIN spamhints.ip_assignment a ON a.network >>= e.client_ip AND a.during @> e.ts
      WHERE e.verdict IN ('spam', 'virus')) AS d
GROUP BY d.day
ORDER BY d.day;

COMMENT ON VIEW spamhints.customers_caught_per_day IS
'"Email log processing picks up 10 customers per day": per UTC day, the distinct customers (spamhints.ip_assignment, at the time of each event) whose addresses sent spam or viruses to our mail servers, by verdict, and new_customers, those caught for the first time that day.';

-- Which customers send mail directly (sFlow), and whether the mail logs
-- already caught them.

CREATE VIEW spamhints.customer_sender AS
WITH sent AS (
    SELECT a.customer_id, s.src_ip, s.dst_ip, s.ts, s.sampling_rate
    FROM spamhints.smtp_sample s
    JOIN spamhints.ip_assignment a ON a.network >>= s.src_ip AND a.during @> s.ts
    WHERE s.dst_port = 25
), caught AS (
    SELECT a.customer_id,
           count(*) FILTER (WHERE e.verdict = 'spam') AS spam,
           count(*) FILTER (WHERE e.verdict = 'virus') AS virus,
           max(e.ts) AS last_caught
    FROM spamhints.mail_event e
    JOIN spamhints.ip_assignment a ON a.network >>= e.client_ip AND a.during @> e.ts
    WHERE e.verdict IN ('spam', 'virus')
    GROUP BY a.customer_id
)
SELECT t.customer_id, t.addresses, t.first_seen, t.last_seen, t.samples, t.est_packets,
       t.servers, t.hourly,
       c.customer_id IS NOT NULL AS caught,
       coalesce(c.spam, 0) AS caught_spam,
       coalesce(c.virus, 0) AS caught_virus,
       c.last_caught
FROM (SELECT s.customer_id,
             array_agg(DISTINCT s.src_ip) AS addresses,
             min(s.ts) AS first_seen,
             max(s.ts) AS last_seen,
             count(*) AS samples,
             sum(s.sampling_rate)::bigint AS est_packets,
             count(DISTINCT s.dst_ip) AS servers,
             spamhints.hourly(s.ts) AS hourly
      FROM sent s
      GROUP BY s.customer_id) AS t
LEFT JOIN caught c USING (customer_id)
ORDER BY t.samples DESC, t.customer_id;

COMMENT ON VIEW spamhints.customer_sender IS
'The slide "sFlow results: Demon customers": our customers whose addresses acted as SMTP clients (sampled packets to port 25), each sample matched to the customer who held its address at its time (spamhints.ip_assignment): addresses, first_seen and last_seen, samples, est_packets (sum of sampling rates), servers (distinct destinations), hourly (hist24 in the session''s TimeZone; chart(hourly) draws it), and whether our mail logs already caught them: caught, caught_spam and caught_virus events, last_caught. Busiest first. Not caught: WHERE NOT caught.';

------------------------------------------------------------------------------
-- Reports to other ISPs.
------------------------------------------------------------------------------

CREATE TABLE spamhints.agreement (
    agreement_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    isp              text NOT NULL UNIQUE,
    abuse_address    text NOT NULL CHECK (abuse_address ~ '^[^@[:space:]<>",]+@[^@[:space:]<>",]+$'),
    asns             bigint[] NOT NULL DEFAULT '{}',
    networks         cidr[] NOT NULL DEFAULT '{}',
    exclude          cidr[] NOT NULL DEFAULT '{}',
    agreed_at        timestamptz NOT NULL DEFAULT now(),
    withdrawn_at     timestamptz,
    reference        text,
    suppression      interval,
    min_samples      integer NOT NULL DEFAULT 1 CHECK (min_samples >= 1),
    include_mail_addresses boolean NOT NULL DEFAULT true,
    CHECK (cardinality(asns) > 0 OR cardinality(networks) > 0),
    CHECK (withdrawn_at IS NULL OR withdrawn_at >= agreed_at)
);

COMMENT ON TABLE spamhints.agreement IS
'The ISPs that have agreed to receive reports based on traffic data, and where: reports are only ever produced for them (spamhints.report() reads nothing else, and every row of spamhints.report_log references one). isp names it; abuse_address receives the reports; an address is theirs when it is in one of networks, or its AS (enrichment, or the sFlow gateway record) is in asns; exclude lists their own mail servers, never reported. In force from agreed_at until withdrawn_at.';
COMMENT ON COLUMN spamhints.agreement.reference IS 'where the agreement is recorded (a contract, a letter, a ticket)';
COMMENT ON COLUMN spamhints.agreement.suppression IS 'this ISP''s suppression window; NULL: the setting spamhints.report_suppression';
COMMENT ON COLUMN spamhints.agreement.min_samples IS 'an address with traffic evidence only (no mail-log verdict) is reported when it has at least this many sampled SMTP client packets in the period';
COMMENT ON COLUMN spamhints.agreement.include_mail_addresses IS 'whether reports show envelope senders and recipients (personal data); false leaves them out';

SELECT pg_catalog.pg_extension_config_dump('spamhints.agreement', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.agreement_agreement_id_seq', '');

CREATE SEQUENCE spamhints.report_id_seq;
COMMENT ON SEQUENCE spamhints.report_id_seq IS 'one number per spamhints.report() run: report_log.report_id';
SELECT pg_catalog.pg_extension_config_dump('spamhints.report_id_seq', '');

CREATE TABLE spamhints.report_log (
    report_log_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id       bigint NOT NULL,
    agreement_id    integer NOT NULL REFERENCES spamhints.agreement,
    abuse_address   text NOT NULL,
    source_ip       inet NOT NULL,
    period          tstzrange NOT NULL,
    evidence        text[] NOT NULL,
    new_evidence    text[] NOT NULL,
    diagnosis       text[] NOT NULL,
    items           bigint NOT NULL,
    reported_at     timestamptz NOT NULL,
    message_id      text NOT NULL UNIQUE,
    message         text NOT NULL,
    sent_at         timestamptz
);

COMMENT ON TABLE spamhints.report_log IS
'Every report spamhints.report() produced: one ARF message per source address, to the abuse address of an agreed ISP. It is what keeps reports from being unduly repetitive: an address reported to an ISP is not reported to it again within the suppression window unless a new kind of evidence appears. Mark sent_at when your mailer has sent message.';
COMMENT ON COLUMN spamhints.report_log.report_id IS 'the run of spamhints.report() that produced it (spamhints.report_id_seq)';
COMMENT ON COLUMN spamhints.report_log.evidence IS 'the kinds of evidence reported: traffic, server, spam, virus, rejected';
COMMENT ON COLUMN spamhints.report_log.new_evidence IS 'the kinds not reported to this ISP for this address within the suppression window before';
COMMENT ON COLUMN spamhints.report_log.message IS 'the ARF message (RFC 5965, RFC 6692), ready for sendmail -t';
COMMENT ON COLUMN spamhints.report_log.sent_at IS 'when it was sent, set by you or your mailer';

CREATE INDEX report_log_source ON spamhints.report_log (agreement_id, source_ip, reported_at);
CREATE INDEX report_log_reported ON spamhints.report_log (reported_at);
SELECT pg_catalog.pg_extension_config_dump('spamhints.report_log', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.report_log_report_log_id_seq', '');

CREATE FUNCTION spamhints.endpoint_text(ip inet, port integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT CASE WHEN family(ip) = 6 THEN '[' || host(ip) || ']' ELSE host(ip) END
           || coalesce(':' || port, '')
$$;

COMMENT ON FUNCTION spamhints.endpoint_text(inet, integer) IS
'An address and port as reports write them: 192.0.2.7:40123, [2001:db8::7]:40123; without the port when it is NULL.';

CREATE VIEW spamhints.evidence AS
SELECT s.src_ip AS source_ip,
       CASE WHEN s.dst_port = 25 THEN 'traffic' ELSE 'server' END AS kind,
       s.ts, s.src_port AS source_port, s.dst_ip AS peer, s.dst_port AS peer_port,
       coalesce(s.src_asn, s.gw_src_as) AS asn,
       s.sampling_rate, s.tcp_flags, s.smtp,
       NULL::text AS mail_host, NULL::text AS client_name, NULL::text AS helo, NULL::bigint AS size,
       NULL::text AS sender, NULL::text[] AS recipients, NULL::text AS verdict, NULL::text AS virus,
       NULL::numeric AS spam_score, NULL::text AS reason, NULL::text AS log_timezone,
       'load ' || s.load_id || ' frame ' || s.frame AS ref
FROM spamhints.smtp_sample s
WHERE s.dst_port = 25 OR s.src_port = 25
UNION ALL
SELECT e.client_ip, e.verdict, e.ts, e.client_port, NULL::inet, NULL::integer,
       e.client_asn, NULL::integer, NULL::integer, NULL::text,
       e.host, e.client_name, e.helo, e.size, e.sender, e.recipients, e.verdict, e.virus,
       e.spam_score, e.reason, l.timezone,
       'mail log ' || e.maillog_load_id || ' line ' || e.line
FROM spamhints.mail_event e
JOIN spamhints.maillog_load l ON l.maillog_load_id = e.maillog_load_id
WHERE e.verdict <> 'clean';

COMMENT ON VIEW spamhints.evidence IS
'Every item of evidence about a source address, as reports list it. kind: traffic (a sampled packet it sent to port 25: it acts as a mail client), server (a sampled packet from its port 25: it answers as a mail server), spam, virus, rejected (mail our mail servers received from it, with that verdict; clean mail is no evidence). With the time, the source port, the peer (traffic, server), asn (enrichment, else the sFlow gateway''s source AS), the sampling rate, TCP flags and SMTP verb of samples, the mail log fields of events, and ref: where it comes from (load and frame, mail log load and line).';

CREATE FUNCTION spamhints.report_candidates(period tstzrange, at timestamptz DEFAULT now())
RETURNS TABLE (agreement_id integer, isp text, abuse_address text, source_ip inet, asn bigint,
               evidence text[], new_evidence text[], diagnosis text[],
               first_ts timestamptz, last_ts timestamptz, samples bigint, est_packets bigint,
               events bigint, items bigint, suppressed boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, spamhints
AS $$
    WITH src AS (
        SELECT e.source_ip,
               array_agg(DISTINCT e.kind ORDER BY e.kind) AS kinds,
               (array_agg(e.asn ORDER BY e.ts) FILTER (WHERE e.asn IS NOT NULL))[1] AS asn,
               min(e.ts) AS first_ts,
               max(e.ts) AS last_ts,
               count(*) FILTER (WHERE e.kind = 'traffic') AS samples,
               coalesce(sum(e.sampling_rate) FILTER (WHERE e.kind = 'traffic'), 0)::bigint AS est_packets,
               count(*) FILTER (WHERE e.kind IN ('spam', 'virus', 'rejected')) AS events,
               count(*) AS items
        FROM spamhints.evidence e
        WHERE e.ts <@ period
        GROUP BY e.source_ip
    ), scoped AS (
        -- only addresses of ISPs that agreed, and in force at the time of the report
        SELECT g.agreement_id, g.isp, g.abuse_address,
               coalesce(g.suppression, spamhints.setting('report_suppression')::interval) AS suppression,
               s.*
        FROM src s
        JOIN spamhints.agreement g
          ON (s.source_ip <<= ANY (g.networks) OR s.asn = ANY (g.asns))
         AND NOT (s.source_ip <<= ANY (g.exclude))
         AND g.agreed_at <= at
         AND (g.withdrawn_at IS NULL OR g.withdrawn_at > at)
        WHERE s.events > 0 OR s.samples >= g.min_samples
    )
    SELECT c.agreement_id, c.isp, c.abuse_address, c.source_ip, c.asn, c.kinds,
           ARRAY(SELECT k FROM unnest(c.kinds) AS k
                 WHERE k <> ALL (coalesce(r.kinds, '{}')) ORDER BY k),
           ARRAY(SELECT d.name FROM (VALUES
                   (1, 'virus', 'virus' = ANY (c.kinds)),
                   (2, 'spam sender', 'spam' = ANY (c.kinds) OR 'rejected' = ANY (c.kinds)
                                      OR ('traffic' = ANY (c.kinds) AND NOT 'server' = ANY (c.kinds)
                                          AND NOT 'virus' = ANY (c.kinds))),
                   (3, 'open server', 'server' = ANY (c.kinds) AND 'traffic' = ANY (c.kinds))
                 ) AS d(n, name, holds) WHERE d.holds ORDER BY d.n),
           c.first_ts, c.last_ts, c.samples, c.est_packets, c.events, c.items,
           c.kinds <@ coalesce(r.kinds, '{}')
    FROM scoped c
    LEFT JOIN LATERAL (
        SELECT array_agg(DISTINCT k) AS kinds
        FROM spamhints.report_log l, unnest(l.evidence) AS k
        WHERE l.agreement_id = c.agreement_id AND l.source_ip = c.source_ip
          AND l.reported_at > at - c.suppression AND l.reported_at <= at
    ) AS r ON true
    ORDER BY c.isp, c.source_ip
$$;

COMMENT ON FUNCTION spamhints.report_candidates(tstzrange, timestamptz) IS
'What spamhints.report(period) would report at time at, without producing anything: per agreed ISP (in force at at) and source address of theirs with evidence in period (a mail-log verdict, or at least agreement.min_samples sampled client packets): the kinds of evidence (traffic, server, spam, virus, rejected), new_evidence (kinds not reported to that ISP for that address within its suppression window before at), the diagnosis (virus, spam sender, open server), first and last evidence time, samples, est_packets, mail events, items; suppressed when there is nothing new. Addresses of ISPs without an agreement never appear.';

CREATE FUNCTION spamhints.report(period tstzrange DEFAULT spamhints.yesterday(),
                                 for_isp text DEFAULT NULL,
                                 at timestamptz DEFAULT now(),
                                 dry_run boolean DEFAULT false)
RETURNS TABLE (report_id bigint, isp text, abuse_address text, source_ip inet,
               diagnosis text[], evidence text[], new_evidence text[], items bigint,
               message_id text, message text)
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
-- a report reads the same whatever the session's styles (intervals in it)
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
#variable_conflict use_column
DECLARE
    max_items  integer := spamhints.setting('report_max_items')::integer;
    sender     text := spamhints.setting('report_from');
    mta        text := spamhints.setting('reporting_mta');
    retention  text := spamhints.setting('retention');
    run_id     bigint;
    n          integer := 0;
    c          record;
    boundary   text;
    human      text;
    machine    text;
    headers    text;
    period_txt text;
BEGIN
    IF period IS NULL OR isempty(period) OR lower_inf(period) OR upper_inf(period) THEN
        RAISE EXCEPTION 'the report period must be a bounded, non-empty range of times'
            USING ERRCODE = '22023', HINT = 'e.g. tstzrange(''2007-03-14 00:00+00'', ''2007-03-15 00:00+00'')';
    END IF;
    IF for_isp IS NOT NULL AND NOT EXISTS (SELECT FROM spamhints.agreement g WHERE g.isp = for_isp) THEN
        RAISE NOTICE 'no agreement with "%": no report is produced for it', for_isp;
        RETURN;
    END IF;
    IF NOT dry_run THEN
        -- two runs at once must not both report the same address
        LOCK TABLE spamhints.report_log IN SHARE ROW EXCLUSIVE MODE;
        run_id := nextval('spamhints.report_id_seq');
    END IF;
    period_txt := spamhints.utc_text(lower(period)) || ' UTC to ' || spamhints.utc_text(upper(period)) || ' UTC';

    FOR c IN
        WITH cand AS (
            SELECT k.*, g.reference, g.agreed_at, g.include_mail_addresses,
                   coalesce(g.suppression, spamhints.setting('report_suppression')::interval) AS suppression
            FROM spamhints.report_candidates(period, at) AS k
            JOIN spamhints.agreement g ON g.agreement_id = k.agreement_id
            WHERE NOT k.suppressed AND (for_isp IS NULL OR k.isp = for_isp)
        ), ev AS (
            SELECT e.*,
                   CASE WHEN e.kind IN ('traffic', 'server') THEN e.kind ELSE 'mail' END AS grp,
                   row_number() OVER (PARTITION BY e.source_ip,
                                          CASE WHEN e.kind IN ('traffic', 'server') THEN e.kind ELSE 'mail' END
                                      ORDER BY e.ts, e.ref) AS rn
            FROM spamhints.evidence e
            WHERE e.ts <@ period AND e.source_ip IN (SELECT k.source_ip FROM cand k)
        ), lined AS (
            SELECT ev.*,
                   '  ' || spamhints.utc_text(ev.ts) || ' UTC  '
                   || CASE WHEN ev.grp = 'mail' THEN
                          'from ' || spamhints.endpoint_text(ev.source_ip, ev.source_port)
                          || coalesce(' (' || ev.client_name || ')', '')
                          || coalesce(' HELO "' || ev.helo || '"', '')
                          || coalesce(' to ' || ev.mail_host, '')
                          || coalesce(', ' || ev.size || ' bytes', '')
                      ELSE
                          spamhints.endpoint_text(ev.source_ip, ev.source_port) || ' -> '
                          || spamhints.endpoint_text(ev.peer, ev.peer_port)
                          || '  ' || coalesce(nullif(spamhints.tcp_flags_text(ev.tcp_flags), ''), 'no flags')
                          || coalesce('  ' || ev.smtp, '')
                          || '  sampled 1 in ' || ev.sampling_rate
                      END
                   || '  [' || ev.ref || ']' AS line,
                   CASE WHEN ev.grp = 'mail' THEN
                       E'\n      '
                       || coalesce('<' || ev.sender || '>', '(no sender)') || ' -> '
                       || coalesce((SELECT string_agg('<' || r || '>', ', ') FROM unnest(ev.recipients) AS r), '(no recipients)')
                   END AS addresses,
                   CASE WHEN ev.grp = 'mail' THEN
                       E'\n      '
                       || CASE ev.verdict
                              WHEN 'virus' THEN 'virus ' || coalesce(ev.virus, '(no name given)')
                              WHEN 'spam' THEN 'spam' || coalesce(', SpamAssassin score ' || ev.spam_score, '')
                              ELSE 'rejected' END
                       || coalesce(': ' || ev.reason, '')
                   END AS verdict_line
            FROM ev
        ), agg AS (
            SELECT l.source_ip,
                   string_agg(l.line, E'\n' ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic' AND l.rn <= max_items) AS traffic_lines,
                   count(*) FILTER (WHERE l.grp = 'traffic') AS traffic_n,
                   count(DISTINCT l.peer) FILTER (WHERE l.grp = 'traffic') AS servers,
                   min(l.ts) FILTER (WHERE l.grp = 'traffic') AS traffic_first,
                   max(l.ts) FILTER (WHERE l.grp = 'traffic') AS traffic_last,
                   string_agg(l.line, E'\n' ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'server' AND l.rn <= max_items) AS server_lines,
                   count(*) FILTER (WHERE l.grp = 'server') AS server_n,
                   count(DISTINCT l.peer) FILTER (WHERE l.grp = 'server') AS clients,
                   coalesce(sum(l.sampling_rate) FILTER (WHERE l.grp = 'server'), 0) AS server_est,
                   string_agg(l.line || l.addresses || l.verdict_line, E'\n' ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'mail' AND l.rn <= max_items) AS mail_lines_full,
                   string_agg(l.line || l.verdict_line, E'\n' ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'mail' AND l.rn <= max_items) AS mail_lines_bare,
                   count(*) FILTER (WHERE l.grp = 'mail') AS mail_n,
                   string_agg(DISTINCT l.virus, ', ') AS viruses,
                   string_agg(DISTINCT l.log_timezone, ', ') AS zones,
                   -- Source-Port and Arrival-Date: the first item where the address is the client
                   (array_agg(l.source_port ORDER BY l.grp = 'server', l.ts, l.ref))[1] AS first_port,
                   (array_agg(l.ts ORDER BY l.grp = 'server', l.ts, l.ref))[1] AS arrival,
                   (array_agg(l.ref ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'mail'))[1] AS first_mail_ref
            FROM lined l
            GROUP BY l.source_ip
        )
        SELECT k.*, a.*, m.*
        FROM cand k
        JOIN agg a ON a.source_ip = k.source_ip
        LEFT JOIN LATERAL (
            SELECT e.ts AS m_ts, e.host AS m_host, e.client_name AS m_name, e.helo AS m_helo,
                   e.client_port AS m_port, e.sender AS m_sender, e.recipients AS m_recipients
            FROM spamhints.mail_event e
            WHERE 'mail log ' || e.maillog_load_id || ' line ' || e.line = a.first_mail_ref
              AND e.client_ip = k.source_ip AND e.ts <@ period
            ORDER BY e.ts LIMIT 1
        ) AS m ON true
        ORDER BY k.isp, k.source_ip
    LOOP
        n := n + 1;
        report_id := run_id;
        isp := c.isp;
        abuse_address := c.abuse_address;
        source_ip := c.source_ip;
        diagnosis := c.diagnosis;
        evidence := c.evidence;
        new_evidence := c.new_evidence;
        items := c.items;
        message_id := format('<spamhints.%s.%s@%s>', coalesce(run_id::text, 'preview'), n, mta);
        boundary := '=_spamhints_' || md5(message_id);

        -- the human-readable part
        human := format(E'Abuse report about %s%s\n\n', host(c.source_ip), coalesce(' (AS' || c.asn || ')', ''))
          || format(E'This report is about %s, an address in your network.\n', host(c.source_ip))
          || format(E'You agreed to receive reports based on traffic data on %s%s.\n',
                    to_char(c.agreed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                    coalesce(' (' || c.reference || ')', ''))
          || E'We send them to no one who has not agreed. This report follows the Best\n' ||
             E'Practice for reporting abuse issues based on traffic data.\n\n'
          || 'Diagnosis: ' || array_to_string(c.diagnosis, ', ') || E'\n'
          || CASE WHEN 'virus' = ANY (c.diagnosis) THEN format(E'- virus: our mail servers received mail from this address that carried a\n  virus (%s): the computer is probably infected.\n', c.viruses) ELSE '' END
          || CASE WHEN 'spam sender' = ANY (c.diagnosis) THEN
                 CASE WHEN c.events > 0
                      THEN E'- spam sender: our mail servers received spam from this address, or\n  refused its mail.\n'
                      ELSE E'- spam sender: this address sends mail directly to mail servers (port 25)\n  instead of through its provider''s mail servers, as a computer infected\n  with spam-sending malware does.\n' END
             ELSE '' END
          || CASE WHEN 'open server' = ANY (c.diagnosis) THEN E'- open server: this address answers SMTP connections as a mail server and\n  also sends mail out: it may be an open relay or open proxy that others\n  abuse to send spam.\n' ELSE '' END
          || format(E'\nPeriod covered: %s.\n', period_txt)
          || E'Every time below is UTC (time zone +00:00).\n'
          || format(E'Evidence: %s items (%s).\n%s\n',
                    c.items, array_to_string(c.evidence, ', '),
                    CASE WHEN c.new_evidence = c.evidence
                         THEN format('We have not reported this address to you in the last %s.', c.suppression)
                         ELSE format('New since our last report to you about it (within %s): %s.', c.suppression, array_to_string(c.new_evidence, ', ')) END)
          || CASE WHEN c.traffic_n > 0 THEN
                 format(E'\nSampled SMTP packets from %s to mail servers (port 25)\n', host(c.source_ip))
                 || E'Switches in our network sample one packet in N ("sampled 1 in N" below)\n' ||
                    E'and send its headers to our collector, which timed it on arrival; each\n' ||
                    E'sampled packet stands for about N packets.\n\n'
                 || c.traffic_lines || E'\n'
                 || CASE WHEN c.traffic_n > max_items THEN format(E'  ... and %s more sampled packets, not listed\n', c.traffic_n - max_items) ELSE '' END
                 || format(E'  In all: %s sampled (about %s packets) to %s mail servers,\n  from %s UTC to %s UTC.\n',
                           c.traffic_n, c.est_packets, c.servers,
                           spamhints.utc_text(c.traffic_first), spamhints.utc_text(c.traffic_last))
             ELSE '' END
          || CASE WHEN c.server_n > 0 THEN
                 format(E'\nSampled SMTP packets from port 25 of %s (it answers as a mail server)\n\n', host(c.source_ip))
                 || c.server_lines || E'\n'
                 || CASE WHEN c.server_n > max_items THEN format(E'  ... and %s more sampled packets, not listed\n', c.server_n - max_items) ELSE '' END
                 || format(E'  In all: %s sampled (about %s packets) to %s clients.\n', c.server_n, c.server_est, c.clients)
             ELSE '' END
          || CASE WHEN c.mail_n > 0 THEN
                 format(E'\nMail from %s to our mail servers\n', host(c.source_ip))
                 || format(E'From our mail servers'' logs; their times were converted to UTC from the\nservers'' time zone (%s). Sizes in bytes.', c.zones)
                 || CASE WHEN c.include_mail_addresses
                         THEN E'\nEnvelope sender and recipient addresses are as the client gave them: the\nsender is often forged.\n\n'
                         ELSE E'\nSender and recipient addresses are left out, as agreed.\n\n' END
                 || CASE WHEN c.include_mail_addresses THEN c.mail_lines_full
                         ELSE regexp_replace(c.mail_lines_bare, '[^[:space:]<>"(),;:]+@[^[:space:]<>"(),;:]+', '(address removed)', 'g') END
                 || E'\n'
                 || CASE WHEN c.mail_n > max_items THEN format(E'  ... and %s more messages, not listed\n', c.mail_n - max_items) ELSE '' END
             ELSE '' END
          || E'\nWARNING: PERSONAL DATA\n'
          || E'This report contains personal data: IP addresses with the times they were\n' ||
             E'used, and the email addresses of senders and recipients (many forged, but\n' ||
             E'some may be real people''s). You receive it only so that you can stop\n' ||
             E'abuse from your network, under our agreement. Use it for that alone; keep\n' ||
             E'it confidential and secure; do not pass it on (tell your customer what\n' ||
             E'they need to know, without other people''s addresses); and delete it when\n'
          || format(E'the problem is dealt with, within %s at the latest, as we do.\n', retention)
          || format(E'\nReplies to %s. Reference: %s.\n', sender, message_id);

        -- the machine-readable part (RFC 5965 section 3, RFC 6692)
        machine := E'Feedback-Type: ' || CASE WHEN 'virus' = ANY (c.evidence) THEN 'virus' ELSE 'abuse' END || E'\n'
          || E'User-Agent: spamhints/0.1\n'
          || E'Version: 1\n'
          || 'Source-IP: ' || host(c.source_ip) || E'\n'
          || coalesce('Source-Port: ' || c.first_port || E'\n', '')
          || 'Arrival-Date: ' || spamhints.rfc5322_date(c.arrival) || E'\n'
          || 'Incidents: ' || c.items || E'\n'
          || CASE WHEN c.m_ts IS NOT NULL THEN 'Reporting-MTA: dns; ' || coalesce(c.m_host, mta) || E'\n' ELSE '' END
          || CASE WHEN c.m_ts IS NOT NULL AND c.include_mail_addresses THEN
                 coalesce('Original-Mail-From: <' || c.m_sender || E'>\n', '')
                 || coalesce((SELECT string_agg('Original-Rcpt-To: <' || r || E'>\n', '') FROM unnest(c.m_recipients) AS r), '')
             ELSE '' END;

        -- the third part: no message is kept, so the header section is the
        -- trace field our server would have added, rebuilt from its log
        headers := CASE WHEN c.m_ts IS NOT NULL THEN
                       'Received: from ' || coalesce(c.m_helo, 'unknown')
                       || ' (' || coalesce(c.m_name || ' ', '') || '[' || CASE WHEN family(c.source_ip) = 6 THEN 'IPv6:' ELSE '' END || host(c.source_ip) || ']'
                       || coalesce(':' || c.m_port, '') || ')'
                       || E'\n\tby ' || coalesce(c.m_host, mta) || '; ' || spamhints.rfc5322_date(c.m_ts) || E'\n'
                   ELSE '' END;

        message := format(E'From: %s\nTo: %s\nDate: %s\nSubject: Abuse report: %s (%s), %s\nMessage-ID: %s\n',
                          sender, c.abuse_address, spamhints.rfc5322_date(at), host(c.source_ip),
                          array_to_string(c.diagnosis, ', '), period_txt, message_id)
          || E'MIME-Version: 1.0\n'
          || format(E'Content-Type: multipart/report; report-type=feedback-report;\n\tboundary="%s"\n\n', boundary)
          || E'This is an abuse report in the Abuse Reporting Format (ARF, RFC 5965).\n\n'
          || format(E'--%s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\n', boundary, human)
          || format(E'--%s\nContent-Type: message/feedback-report\n\n%s\n', boundary, machine)
          || format(E'--%s\nContent-Type: text/rfc822-headers\n\n%s\n', boundary, headers)
          || format(E'--%s--\n', boundary);

        IF NOT dry_run THEN
            INSERT INTO spamhints.report_log (report_id, agreement_id, abuse_address, source_ip, period,
                                              evidence, new_evidence, diagnosis, items, reported_at,
                                              message_id, message)
            VALUES (run_id, c.agreement_id, c.abuse_address, c.source_ip, period,
                    c.evidence, c.new_evidence, c.diagnosis, c.items, at, message_id, message);
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION spamhints.report(tstzrange, text, timestamptz, boolean) IS
'Produces the reports for period (default: yesterday, UTC) to every agreed ISP, or only for_isp: one ARF message (RFC 5965 multipart/report with RFC 6692 Source-Port) per source address, with a human-readable part that gives the diagnosis (virus, spam sender, open server), every item of evidence timed in UTC (sampled packets with their sampling rate, mail events with size, HELO and verdict; up to the setting report_max_items per kind) and the warning about personal data. ISPs without an agreement get nothing. Each report is logged in spamhints.report_log; an address reported to an ISP within its suppression window is not reported again unless there is a new kind of evidence. at is the time of reporting (default now); dry_run => true shows the reports without logging them.';

------------------------------------------------------------------------------
-- Personal data: kept only as long as the retention setting says.
------------------------------------------------------------------------------

CREATE FUNCTION spamhints.purge(retention interval DEFAULT NULL, at timestamptz DEFAULT now())
RETURNS TABLE (table_name text, deleted bigint, cutoff timestamptz)
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
#variable_conflict use_column
DECLARE
    cut timestamptz := at - coalesce(retention, spamhints.setting('retention')::interval);
    n   bigint;
BEGIN
    cutoff := cut;
    DELETE FROM spamhints.smtp_sample s WHERE s.ts < cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'smtp_sample'; deleted := n; RETURN NEXT;
    DELETE FROM spamhints.mail_event e WHERE e.ts < cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'mail_event'; deleted := n; RETURN NEXT;
    DELETE FROM spamhints.report_log r WHERE r.reported_at < cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'report_log'; deleted := n; RETURN NEXT;
    DELETE FROM spamhints.incoming_report r WHERE r.received_at < cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'incoming_report'; deleted := n; RETURN NEXT;
    DELETE FROM spamhints.ip_assignment a WHERE upper(a.during) <= cut;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'ip_assignment'; deleted := n; RETURN NEXT;
END
$$;

COMMENT ON FUNCTION spamhints.purge(interval, timestamptz) IS
'Deletes the personal data older than retention (default: the setting spamhints.retention) before at (default now): sampled packets (smtp_sample.ts), mail events (ts), reports sent (report_log.reported_at) and received (incoming_report.received_at), and address assignments that ended before the cutoff. Returns the rows deleted per table and the cutoff. The load records (spamhints.load, maillog_load) stay, without personal data, so that a purged file is not loaded again. Scheduled daily by spamhints.cron_jobs().';

------------------------------------------------------------------------------
-- Scheduled: the daily figures and the report queue, refreshed by pg_cron.
------------------------------------------------------------------------------

CREATE MATERIALIZED VIEW spamhints.daily_figures AS
WITH samples AS (
    SELECT (s.ts AT TIME ZONE 'UTC')::date AS day,
           count(*) AS samples,
           sum(s.sampling_rate)::bigint AS est_packets,
           count(DISTINCT s.src_ip) FILTER (WHERE s.dst_port = 25) AS client_addresses
    FROM spamhints.smtp_sample s
    GROUP BY 1
), senders AS (
    SELECT (s.ts AT TIME ZONE 'UTC')::date AS day, count(DISTINCT a.customer_id) AS customer_senders
    FROM spamhints.smtp_sample s
    JOIN spamhints.ip_assignment a ON a.network >>= s.src_ip AND a.during @> s.ts
    WHERE s.dst_port = 25
    GROUP BY 1
), sent AS (
    SELECT (r.reported_at AT TIME ZONE 'UTC')::date AS day, count(*) AS reports_sent
    FROM spamhints.report_log r
    GROUP BY 1
), days AS (
    SELECT day FROM samples
    UNION SELECT day FROM spamhints.detections_per_day
    UNION SELECT day FROM spamhints.incoming_reports_per_day
    UNION SELECT day FROM sent
)
SELECT d.day,
       coalesce(s.samples, 0) AS samples,
       coalesce(s.est_packets, 0) AS est_packets,
       coalesce(s.client_addresses, 0) AS client_addresses,
       coalesce(cs.customer_senders, 0) AS customer_senders,
       coalesce(m.spam, 0) AS spam,
       coalesce(m.virus, 0) AS virus,
       coalesce(m.rejected, 0) AS rejected,
       coalesce(cc.customers, 0) AS customers_caught,
       coalesce(cc.new_customers, 0) AS new_customers_caught,
       coalesce(i.reports, 0) AS incoming_reports,
       coalesce(r.reports_sent, 0) AS reports_sent
FROM days d
LEFT JOIN samples s ON s.day = d.day
LEFT JOIN senders cs ON cs.day = d.day
LEFT JOIN spamhints.detections_per_day m ON m.day = d.day
LEFT JOIN spamhints.customers_caught_per_day cc ON cc.day = d.day
LEFT JOIN spamhints.incoming_reports_per_day i ON i.day = d.day
LEFT JOIN sent r ON r.day = d.day
ORDER BY d.day;

CREATE UNIQUE INDEX daily_figures_day ON spamhints.daily_figures (day);

COMMENT ON MATERIALIZED VIEW spamhints.daily_figures IS
'The figures of the slides per UTC day, as of the last spamhints.refresh(): sampled SMTP packets and their estimate, client addresses, customer_senders (our customers seen sending mail directly), spam, virus and rejected mail events, customers_caught by the mail logs (and new ones), incoming_reports, reports_sent.';

CREATE MATERIALIZED VIEW spamhints.report_queue AS
SELECT spamhints.yesterday(now()) AS period, now() AS as_of, c.*
FROM spamhints.report_candidates(spamhints.yesterday(now()), now()) AS c;

CREATE UNIQUE INDEX report_queue_key ON spamhints.report_queue (agreement_id, source_ip);

COMMENT ON MATERIALIZED VIEW spamhints.report_queue IS
'Per agreed ISP, the addresses of theirs with evidence yesterday (UTC) as of the last spamhints.refresh() (as_of): spamhints.report_candidates() for that day; suppressed ones are already reported and have nothing new. What the daily spamhints.report() run turns into reports.';

CREATE FUNCTION spamhints.refresh() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    mv text;
BEGIN
    FOREACH mv IN ARRAY ARRAY['daily_figures', 'report_queue'] LOOP
        IF (SELECT c.relispopulated FROM pg_class c
            WHERE c.oid = ('spamhints.' || mv)::regclass) THEN
            -- readers are not blocked while it runs
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY spamhints.%I', mv);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW spamhints.%I', mv);
        END IF;
    END LOOP;
END
$$;

COMMENT ON FUNCTION spamhints.refresh() IS
'Refreshes the materialized views spamhints.daily_figures and spamhints.report_queue (concurrently: readers are not blocked). Scheduled by spamhints.cron_jobs().';

CREATE FUNCTION spamhints.cron_jobs()
RETURNS TABLE (jobname text, schedule text, command text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    VALUES ('spamhints-refresh', '5 * * * *',  'SELECT spamhints.refresh()'),
           ('spamhints-report',  '30 0 * * *', 'SELECT count(*) FROM spamhints.report()'),
           ('spamhints-purge',   '0 3 * * *',  'SELECT * FROM spamhints.purge()')
$$;

COMMENT ON FUNCTION spamhints.cron_jobs() IS
'The pg_cron schedule (times in GMT, as pg_cron keeps them): refresh the daily figures and the report queue every hour at :05; produce yesterday''s reports into spamhints.report_log at 00:30; purge personal data past the retention at 03:00. In the database where pg_cron is installed (cron.database_name): SELECT cron.schedule(jobname, schedule, command) FROM spamhints.cron_jobs(); for spamhints in another database, cron.schedule_in_database(jobname, schedule, command, ''abuse'').';

-- Privileges: two group roles, least privilege each.
--
--   spamhints_loader   what spamhints-load does: adds loads (a row of
--                      spamhints.load, then its counts), their samples and
--                      agents, and AS names (enrichment); reads only the
--                      columns of spamhints.load that the duplicate check
--                      needs, and the AS names it upserts. Reads no sample,
--                      no view, changes no sample.
--   spamhints_analyst  reads the loads, the samples, the views and the AS
--                      names, and runs every function and aggregate; changes
--                      nothing; never reads the raw SMTP payload field
--                      (smtp_sample.smtp, the command verb or reply code)
--                      nor a view column that shows it (endpoint.smtp).
--
-- Roles belong to the cluster, not to a database: they are created here only
-- when missing, NOLOGIN. An administrator grants them to login roles:
--   GRANT spamhints_loader TO abuse_loader;  GRANT spamhints_analyst TO alice;
-- DROP EXTENSION leaves them (other databases may use them).
------------------------------------------------------------------------------

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'spamhints_loader')
       OR NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'spamhints_analyst') THEN
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles
                       WHERE rolname = CURRENT_USER AND (rolsuper OR rolcreaterole)) THEN
            RAISE EXCEPTION 'the roles spamhints_loader and spamhints_analyst do not exist, and % may not create roles', CURRENT_USER
                USING HINT = 'A superuser or a role with CREATEROLE creates them first: CREATE ROLE spamhints_loader NOLOGIN; CREATE ROLE spamhints_analyst NOLOGIN;';
        END IF;
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'spamhints_loader') THEN
            CREATE ROLE spamhints_loader NOLOGIN;
            COMMENT ON ROLE spamhints_loader IS 'spamhints: adds loads and samples (spamhints-load); reads nothing else';
        END IF;
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'spamhints_analyst') THEN
            CREATE ROLE spamhints_analyst NOLOGIN;
            COMMENT ON ROLE spamhints_analyst IS 'spamhints: reads samples, views and aggregates, never the SMTP payload column; changes nothing';
        END IF;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA spamhints TO spamhints_loader, spamhints_analyst;

-- the loader: INSERT ... RETURNING load_id, COPY of samples and agents, the
-- UPDATE that finishes the load (WHERE load_id = ...), and the duplicate
-- check (SELECT load_id, file_name, finished_at ... WHERE sha256 = ...)
GRANT INSERT, UPDATE ON spamhints.load TO spamhints_loader;
GRANT SELECT (load_id, file_name, sha256, finished_at) ON spamhints.load TO spamhints_loader;
GRANT INSERT ON spamhints.smtp_sample, spamhints.load_agent TO spamhints_loader;
-- enrichment: INSERT INTO spamhints.asn ... ON CONFLICT (asn) DO UPDATE SET
-- org = EXCLUDED.org, which reads both columns (public AS names, no personal data)
GRANT INSERT, UPDATE (org) ON spamhints.asn TO spamhints_loader;
GRANT SELECT (asn, org) ON spamhints.asn TO spamhints_loader;

-- the loader reading mail logs (spamhints-load --maillog): the same steps
GRANT INSERT, UPDATE ON spamhints.maillog_load TO spamhints_loader;
GRANT SELECT (maillog_load_id, file_name, sha256, finished_at) ON spamhints.maillog_load TO spamhints_loader;
GRANT INSERT ON spamhints.mail_event TO spamhints_loader;
-- the finishing UPDATE takes the log's first and last time from its events
GRANT SELECT (maillog_load_id, ts) ON spamhints.mail_event TO spamhints_loader;

-- the analyst: everything to read, but the SMTP payload column and the mail
-- addresses of the mail logs (personal data: reports are made by the
-- extension's owner or a role it trusts with them)
GRANT SELECT ON spamhints.load, spamhints.load_agent, spamhints.asn,
                spamhints.packet_stats, spamhints.ip_census,
                spamhints.client_as_top, spamhints.client_cc_top,
                spamhints.maillog_load, spamhints.ip_assignment, spamhints.incoming_report,
                spamhints.agreement, spamhints.settings,
                spamhints.detections_per_day, spamhints.incoming_reports_per_day,
                spamhints.customers_caught_per_day, spamhints.customer_sender,
                spamhints.daily_figures, spamhints.report_queue
    TO spamhints_analyst;
DO $$
DECLARE
    rel text;
    cols text;
BEGIN
    -- every column but the SMTP payload and the mail addresses of mail logs
    -- (envelope sender and recipients, and the reports that quote them),
    -- whatever columns the tables and views have by now
    FOREACH rel IN ARRAY ARRAY['spamhints.smtp_sample', 'spamhints.endpoint', 'spamhints.evidence',
                               'spamhints.mail_event', 'spamhints.report_log'] LOOP
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
          INTO cols
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = rel::pg_catalog.regclass AND a.attnum > 0
           AND NOT a.attisdropped
           AND a.attname <> ALL (ARRAY['smtp', 'sender', 'recipients', 'message']);
        EXECUTE pg_catalog.format('GRANT SELECT (%s) ON %s TO spamhints_analyst', cols, rel);
    END LOOP;
END
$$;
