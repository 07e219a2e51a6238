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
    load_id        integer NOT NULL REFERENCES spamhints.load ON DELETE CASCADE,
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

CREATE FUNCTION spamhints.endpoints(ports integer[])
RETURNS TABLE (ip inet, peer inet, role spamhints.smtp_role, side text,
               port integer, peer_port integer, asn bigint, cc text,
               peer_asn bigint, peer_cc text, ts timestamptz,
               sampling_rate integer, tcp_flags integer, ip_len integer,
               ttl integer, smtp text, agent inet, load_id integer, frame bigint)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
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
    WHERE spamhints.dst_role(s.src_port, s.dst_port, ports) IS NOT NULL
$$;

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
AS $$
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
    ORDER BY b.bin_start
$$;

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
