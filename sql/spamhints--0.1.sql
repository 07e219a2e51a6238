-- sql/spamhints--0.1.sql: the install script of release 0.1 (git tag v0.1), frozen: never edit it.
-- It was built from sql/parts/ as they were then. sql/parts/ now builds the newest version's
-- script; sql/spamhints--0.1--0.2.sql and later scripts take an installed 0.1 there.

-- sql/parts/00_guard.sql: the install script runs only in CREATE EXTENSION,
-- and only in a UTF8 database.
\echo Use "CREATE EXTENSION spamhints" to load this file. \quit

-- Mail logs, AS names and reports carry text in any script (a HELO in
-- Cyrillic, an AS name in Chinese): in a database of another encoding one
-- such line would make a whole mail log fail to load.
DO $$
DECLARE
    enc text := pg_catalog.getdatabaseencoding();
BEGIN
    IF enc <> 'UTF8' THEN
        RAISE EXCEPTION 'spamhints needs a UTF8 database: database "%" has encoding %',
                        pg_catalog.current_database(), enc
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Create a UTF8 database and install the extension there: createdb -E UTF8 -T template0 --locale=C.UTF-8 NAME, or CREATE DATABASE name ENCODING ''UTF8'' TEMPLATE template0 LOCALE ''C.UTF-8''.';
    END IF;
END
$$;

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
COMMENT ON COLUMN spamhints.load.frames IS 'packets read from the capture that matched the filter';
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
'true when the load exists (and locks it FOR KEY SHARE until the end of the transaction), else error 23503: the check behind "every sample belongs to a load", cached per transaction so that a COPY of millions of rows looks its load up once';

ALTER TABLE spamhints.smtp_sample
    ADD CONSTRAINT smtp_sample_load_exists CHECK (spamhints.load_exists(load_id)) NOT VALID;

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
-- Packet statistics: how many sampled SMTP packets, and how many of them
-- opened (SYN), accepted (SYN/ACK), reset (RST) or closed (FIN) a connection.
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
'The raw packet statistics of all loads: sampled SMTP packets, SYN (SYN set, ACK clear), SYN/ACK, RST and FIN counts with their shares in percent, and est_packets, the estimated real packet count (sum of sampling rates).';

-- sql/parts/20_smtp_role.sql: the SMTP role of an address (client, server or
-- both; one byte), its operators and the role each side of a sample plays.
--
-- This part and the next ones (census, hour of day, the views) answer the
-- analytics questions: SMTP roles, the census of addresses, hour-of-day
-- profiles and AS/country rollups.  Every aggregate in them is PARALLEL SAFE
-- with a combine function; the single-argument ones over plain state types
-- (role_or, hourly(ts), hist24_union, census_union) can be computed in
-- parts by Citus as well.

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

-- sql/parts/21_census.sql: the census, how many addresses were clients only,
-- servers only, both: aggregates that count it, and the type census, which
-- stores it to merge it later.

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

-- sql/parts/22_hist24.sql: the hour of day of samples, hist24, the hourly
-- aggregates and chart(), which draws them.

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
'An hour-of-day bar chart as plain text (80 columns): one column of X per hour, height rows (default 10) scaled to the busiest hour, hour labels 0 3am 6am 9am N 3pm 6pm 9pm, each hour''s count in two digits of a stated unit, and the exact total and peak. In psql: \pset format unaligned, or \pset tuples_only.';

-- sql/parts/30_views.sql: the samples seen per address (endpoint), the census
-- of all samples, activity over time, and the rollups by AS and country.

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

-- The roles of a sample come from the SMTP ports its load was made with
-- (spamhints.load.smtp_ports, spamhints-load --ports): the same rows that
-- packet_stats counts. A load is one small row; the join costs nothing.
CREATE VIEW spamhints.endpoint AS
SELECT s.src_ip AS ip, s.dst_ip AS peer, spamhints.src_role(s.src_port, s.dst_port, l.smtp_ports) AS role,
       'src'::text AS side, s.src_port AS port, s.dst_port AS peer_port,
       s.src_asn AS asn, s.src_cc AS cc, s.dst_asn AS peer_asn, s.dst_cc AS peer_cc,
       s.ts, s.sampling_rate, s.tcp_flags, s.ip_len, s.ttl, s.smtp, s.agent, s.load_id, s.frame,
       s.gw_src_as AS gw_as
FROM spamhints.smtp_sample s
JOIN spamhints.load l ON l.load_id = s.load_id
WHERE spamhints.src_role(s.src_port, s.dst_port, l.smtp_ports) IS NOT NULL
UNION ALL
SELECT s.dst_ip, s.src_ip, spamhints.dst_role(s.src_port, s.dst_port, l.smtp_ports),
       'dst'::text, s.dst_port, s.src_port,
       s.dst_asn, s.dst_cc, s.src_asn, s.src_cc,
       s.ts, s.sampling_rate, s.tcp_flags, s.ip_len, s.ttl, s.smtp, s.agent, s.load_id, s.frame,
       s.gw_dst_as
FROM spamhints.smtp_sample s
JOIN spamhints.load l ON l.load_id = s.load_id
WHERE spamhints.dst_role(s.src_port, s.dst_port, l.smtp_ports) IS NOT NULL;

COMMENT ON VIEW spamhints.endpoint IS
'Every sample seen from each of its two addresses, with the SMTP ports of its load (spamhints.load.smtp_ports; spamhints.endpoints(ports) for one set for all): ip, the address; peer, the other end; role, what this sample makes ip (client, server or both); side, ''src'' or ''dst''; port and peer_port; asn and cc of ip, peer_asn and peer_cc; and the sample''s ts, sampling_rate, tcp_flags, ip_len, ttl, smtp, agent, load_id, frame. A side that plays no SMTP role is left out. Per-address questions become plain SQL: SELECT ip, role_or(role), count(*) FROM spamhints.endpoint GROUP BY ip.';

CREATE VIEW spamhints.ip_census AS
SELECT (c).ips, (c).client_only, (c).server_only, (c).both
FROM (SELECT spamhints.smtp_census(s.src_ip, s.dst_ip, s.src_port, s.dst_port, l.smtp_ports) AS c
      FROM spamhints.smtp_sample s
      JOIN spamhints.load l ON l.load_id = s.load_id) AS t;

COMMENT ON VIEW spamhints.ip_census IS
'The census of addresses by SMTP role over all samples (each with the SMTP ports of its load, spamhints.load.smtp_ports), one row: ips, the distinct addresses seen in an SMTP role, and client_only, server_only and both.';

-- Activity over the capture: a series over a window.

CREATE FUNCTION spamhints.activity_stride(window_start timestamptz, window_end timestamptz, bin interval)
RETURNS interval
AS 'MODULE_PATHNAME', 'spamhints_activity_stride'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.activity_stride(timestamptz, timestamptz, interval) IS
'The bin of activity() as a span of time (a day is 24 hours, as date_bin counts it), checked before any work: error 54000 when [window_start, window_end) holds more than 1,000,000 bins; 22023 for a bin not longer than zero or with months, or an infinite window.';

CREATE FUNCTION spamhints.activity(
    window_start timestamptz, window_end timestamptz,
    bin interval DEFAULT '1 hour', ports integer[] DEFAULT NULL)
RETURNS TABLE (bin_start timestamptz, samples bigint, est_packets bigint,
               syn bigint, clients bigint, servers bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT b.bin_start,
           coalesce(a.samples, 0), coalesce(a.est_packets, 0), coalesce(a.syn, 0),
           coalesce((a.c).client_only + (a.c).both, 0),
           coalesce((a.c).server_only + (a.c).both, 0)
    FROM generate_series(window_start, window_end - '1 microsecond'::interval,
                         spamhints.activity_stride(window_start, window_end, bin)) AS b(bin_start)
    LEFT JOIN (SELECT date_bin(bin, s.ts, window_start) AS bin_start,
                      count(*) AS samples,
                      sum(s.sampling_rate)::bigint AS est_packets,
                      count(*) FILTER (WHERE s.tcp_flags & 18 = 2) AS syn,
                      spamhints.smtp_census(s.src_ip, s.dst_ip, s.src_port, s.dst_port,
                                            coalesce(ports, l.smtp_ports)) AS c
               FROM spamhints.smtp_sample s
               JOIN spamhints.load l ON l.load_id = s.load_id
               WHERE s.ts >= window_start AND s.ts < window_end
               GROUP BY 1) AS a USING (bin_start)
    -- a one-time filter: the bins are counted before anything is read
    WHERE spamhints.activity_stride(window_start, window_end, bin) IS NOT NULL
    ORDER BY b.bin_start;
END;

COMMENT ON FUNCTION spamhints.activity(timestamptz, timestamptz, interval, integer[]) IS
'Activity over the capture: one row per bin (default an hour) of [window_start, window_end), empty bins included: samples, est_packets (sum of sampling rates), SYN samples, and the distinct client and server addresses of the bin (an address that is both counts in each), by the SMTP ports ports, or when NULL (the default) by those of each sample''s load (spamhints.load.smtp_ports). Bins are fixed spans from window_start (a day is 24 hours, also across a daylight saving change); at most 1,000,000 bins (error 54000 before any work: use a longer bin or a shorter window). E.g. SELECT * FROM activity(''2024-03-01'', ''2024-03-02'').';

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
    -- the AS of the enrichment (mmdb), else the sFlow gateway record's (0 there is unknown)
    SELECT coalesce(e.asn, nullif(e.gw_as, 0)) AS asn, e.cc, e.asn IS NOT NULL AS mmdb,
           spamhints.census_agg(e.ip, e.role) AS c
    FROM spamhints.endpoint e
    WHERE coalesce(e.asn, nullif(e.gw_as, 0)) IS NOT NULL
    GROUP BY 1, e.cc, 3
), by_as AS (
    SELECT b.asn,
           CASE WHEN bool_and(b.mmdb) THEN 'mmdb' WHEN NOT bool_or(b.mmdb) THEN 'sflow gateway'
                ELSE 'mmdb, sflow gateway' END AS as_source,
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
       (a.n).ips AS ips,
       a.as_source
FROM by_as a
LEFT JOIN spamhints.asn o ON o.asn = a.asn
ORDER BY rank, a.asn;

COMMENT ON VIEW spamhints.client_as_top IS
'The ASes ranked by their client addresses ("Client AS top"): per AS (src_asn/dst_asn of the address from the ASN database, else, for a load without enrichment, the AS of the sFlow extended gateway record, gw_src_as/gw_dst_as; as_source says which: mmdb, sflow gateway, or both; addresses with neither left out), its addresses by their role over all samples (each with the SMTP ports of its load): clients (client only), servers (server only), both, and ips (all three); as_org from spamhints.asn (NULL when absent); country, the country (src_cc/dst_cc) of most of that AS''s addresses; rank by clients (ties share a rank). An address seen under two ASes counts in each. Top 30: WHERE rank <= 30; the 100th place: WHERE rank = 100 (or ORDER BY rank OFFSET 99 LIMIT 1).';

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
'client_as_top by country (src_cc/dst_cc of the address, from the country database only: sFlow has no country, so a load without --country-db has no row here): clients (client only), servers (server only), both, ips, and rank by clients.';

-- sql/parts/40_enrichment.sql: AS numbers, AS names and countries of
-- addresses from MaxMind DB files (GeoLite2-ASN and -Country, DB-IP's and
-- IPinfo's files in the same format). spamhints-load --asn-db/--country-db
-- fills the samples' src_asn, dst_asn, src_cc, dst_cc and spamhints.asn; in
-- SQL the files are named by the settings spamhints.asn_db and
-- spamhints.country_db.

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

-- sql/parts/50_settings.sql: the settings of the abuse desk workflow, and
-- times as its reports write them.
--
-- The workflow (this part and the next ones: customers, mail logs, reports,
-- retention and schedules) is the ISP's own customers, its mail servers'
-- logs, and reports to other ISPs that follow the Best Practice for
-- reporting abuse based on traffic data (prior agreement, not unduly
-- repetitive, evidence clearly given and accurately timed, a warning about
-- personal data, personal data kept no longer than needed).
--
-- Every function of the workflow runs with search_path = pg_catalog,
-- spamhints, so a caller's search_path cannot change what it does. All times
-- in reports and in the daily figures are UTC; days are UTC days.

-- Settings: custom parameters (SET, ALTER DATABASE ... SET, postgresql.conf)
-- with defaults, so that nothing needs the C module to be loaded.

CREATE FUNCTION spamhints.setting_default(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT d.value
    FROM (VALUES ('report_suppression', '7 days'),
                 ('retention',          '90 days'),
                 ('report_from',        ''),
                 ('reporting_mta',      ''),
                 ('report_max_items',   '100'),
                 ('report_min_samples', '3'),
                 ('report_min_minutes', '2')) AS d(name, value)
    WHERE d.name = setting_default.name
$$;

COMMENT ON FUNCTION spamhints.setting_default(text) IS
'The default of a workflow setting (NULL for an unknown name); spamhints.settings lists them all. report_from and reporting_mta have none (the empty value): spamhints.report() refuses to run until they are set.';

-- Each value is checked when it is set (the module's check hooks: a
-- positive interval, a plain mail address, a host name, a number from 1 to
-- 100000), and again when it is used: a value set before the module was
-- loaded in the session was not checked then.
CREATE FUNCTION spamhints.setting_check(name text, value text) RETURNS text
AS 'MODULE_PATHNAME', 'spamhints_setting_check'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION spamhints.setting_check(text, text) IS
'value when it is fit for the workflow setting spamhints.NAME (as SET checks it), else an error (22023) that says why: report_suppression and retention an interval greater than zero, at most 100 years; report_from a bare mail address (abuse@isp.example); reporting_mta a host name; report_max_items, report_min_samples and report_min_minutes a number from 1 to 100000. The empty value, the default, is always fit.';

CREATE FUNCTION spamhints.setting(name text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    v text := current_setting('spamhints.' || name, true);
BEGIN
    IF spamhints.setting_default(name) IS NULL THEN
        RAISE EXCEPTION 'unknown spamhints setting "%"', name
            USING ERRCODE = '42704', HINT = 'SELECT * FROM spamhints.settings lists them.';
    END IF;
    -- read before the check loads the module, which drops (with a warning) a
    -- value it cannot take: then it is an error here, not the default
    RETURN coalesce(nullif(spamhints.setting_check(name, coalesce(v, '')), ''), spamhints.setting_default(name));
END
$$;

COMMENT ON FUNCTION spamhints.setting(text) IS
'The value of workflow setting spamhints.NAME: the parameter when it is set (SET spamhints.retention = ''30 days'', or ALTER DATABASE abuse SET ...), otherwise its default. A value the setting cannot take (spamhints.setting_check) is an error (22023), never used.';

CREATE VIEW spamhints.settings AS
SELECT s.name, spamhints.setting(s.name) AS value, spamhints.setting_default(s.name) AS "default", s.description
FROM (VALUES
  ('report_suppression', 'an address reported to an ISP is not reported to it again within this interval, unless there is a new kind of evidence (agreement.suppression overrides it per ISP)'),
  ('retention', 'personal data older than this is deleted by spamhints.purge(): samples, mail events, reports sent and received, ended address assignments'),
  ('report_from', 'the From address of the reports, where ISPs reply; no default: reports are not made until it is set'),
  ('reporting_mta', 'the host name that reports name in their Message-ID, and as Reporting-MTA when no mail server of ours is named; no default: reports are not made until it is set'),
  ('report_max_items', 'evidence items listed per kind and address in a report; the rest are counted'),
  ('report_min_samples', 'an address with sampled packets only (no mail-log verdict) is reported when it has at least this many sampled client packets in the period (agreement.min_samples overrides it per ISP)'),
  ('report_min_minutes', 'and when they fall in at least this many different minutes: one burst is no pattern')) AS s(name, description);

COMMENT ON VIEW spamhints.settings IS
'The workflow''s settings (custom parameters spamhints.NAME): name, value in this session, default, and what it does. Change one for a database with ALTER DATABASE db SET spamhints.retention = ''30 days''.';

-- Text as reports show it.

CREATE FUNCTION spamhints.plain_text(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
-- a SQL-standard body, bound when it is created (no search_path needed),
-- that CHECK constraints inline: loads check every row
RETURN s !~ '[\x01-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]';

COMMENT ON FUNCTION spamhints.plain_text(text) IS
'Whether s holds no control or format character: no C0 control (tab and line breaks included), DEL or C1 control (NEL included), no line or paragraph separator (U+2028, U+2029), no bidirectional mark, embedding, override or isolate (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069). Every text column that reaches a report has it as a CHECK constraint: a report shows its text on lines of its own making, and reads the same in every direction.';

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

-- sql/parts/51_customers.sql: the ISP's customers, time-aware: who held which
-- address when.

CREATE TABLE spamhints.ip_assignment (
    customer_id  text NOT NULL CHECK (spamhints.plain_text(customer_id)),
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

-- sql/parts/52_maillogs.sql: the mail logs, what the ISP's own mail servers saw
-- (spamhints-load --maillog); the abuse reports others send about the ISP's
-- addresses; what both count per day; and which customers send mail
-- directly.

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
    timezone         text NOT NULL CHECK (spamhints.plain_text(timezone)),
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
'One row per mail log file loaded by spamhints-load --maillog: file, SHA-256 of its bytes (the same log is never loaded twice), format (exim or postfix), the time zone its times were read in, where the year of syslog lines came from, line counts. A load is one transaction: a row here means all of its events are in spamhints.mail_event. Deleting or truncating (with CASCADE) a load deletes its events; truncating spamhints.mail_event deletes every mail log load too, so that the same logs can be loaded again; spamhints.purge() keeps the loads.';
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
    host             text CHECK (spamhints.plain_text(host)),
    queue_id         text CHECK (spamhints.plain_text(queue_id)),
    client_ip        inet NOT NULL,
    client_port      integer CHECK (client_port BETWEEN 0 AND 65535),
    client_name      text CHECK (spamhints.plain_text(client_name)),
    helo             text CHECK (spamhints.plain_text(helo)),
    size             bigint,
    sender           text CHECK (spamhints.plain_text(sender)),
    recipients       text[] CHECK (spamhints.plain_text(array_to_string(recipients, ''))),
    verdict          text NOT NULL CHECK (verdict IN ('clean', 'spam', 'virus', 'rejected')),
    virus            text CHECK (spamhints.plain_text(virus)),
    spam_score       numeric,
    reason           text CHECK (spamhints.plain_text(reason)),
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

-- TRUNCATE of the events deletes their loads too (spamhints.rows_truncated).
CREATE TRIGGER mail_event_truncate_loads AFTER TRUNCATE ON spamhints.mail_event
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.rows_truncated();

CREATE INDEX mail_event_client_ts ON spamhints.mail_event (client_ip, ts);
CREATE INDEX mail_event_ts ON spamhints.mail_event (ts);
CREATE INDEX mail_event_load ON spamhints.mail_event (maillog_load_id);

SELECT pg_catalog.pg_extension_config_dump('spamhints.maillog_load', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.maillog_load_maillog_load_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('spamhints.mail_event', '');

-- Incoming reports: the abuse reports other people send us.

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
'Abuse reports received about the ISP''s own addresses, from any source: fill it yourself, or with spamhints.receive_arf(message) for ARF (RFC 5965) reports. Their count per day is spamhints.incoming_reports_per_day. Personal data: purged with the rest (spamhints.purge).';
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

-- Per UTC day: what the mail logs detected, the reports received, the
-- customers caught.

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
'What our mail servers detected: per UTC day, the mail events by verdict (spam, virus, rejected, clean) and the distinct client addresses that sent spam and viruses.';

CREATE VIEW spamhints.incoming_reports_per_day AS
SELECT (r.received_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS reports,
       count(DISTINCT r.source_ip) AS addresses,
       count(DISTINCT r.reporter) AS reporters
FROM spamhints.incoming_report r
GROUP BY 1
ORDER BY 1;

COMMENT ON VIEW spamhints.incoming_reports_per_day IS
'The abuse reports received from all sources: per UTC day of receipt, the reports received, the distinct addresses they were about, and the distinct reporters.';

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
'Which of our customers send mail directly (sFlow): our customers whose addresses acted as SMTP clients (sampled packets to port 25), each sample matched to the customer who held its address at its time (spamhints.ip_assignment): addresses, first_seen and last_seen, samples, est_packets (sum of sampling rates), servers (distinct destinations), hourly (hist24 in the session''s TimeZone; chart(hourly) draws it), and whether our mail logs already caught them: caught, caught_spam and caught_virus events, last_caught. Busiest first. Not caught: WHERE NOT caught.';

-- sql/parts/60_reports.sql: abuse reports to other ISPs: who agreed to receive
-- them, the evidence, which addresses to report, and the report itself, an
-- ARF message built from its parts.

CREATE TABLE spamhints.agreement (
    agreement_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    isp              text NOT NULL UNIQUE CHECK (spamhints.plain_text(isp)),
    abuse_address    text NOT NULL CHECK (abuse_address ~ '^[^@[:space:]<>",]+@[^@[:space:]<>",]+$'
                                          AND spamhints.plain_text(abuse_address)),
    asns             bigint[] NOT NULL DEFAULT '{}',
    networks         cidr[] NOT NULL DEFAULT '{}',
    exclude          cidr[] NOT NULL DEFAULT '{}',
    agreed_at        timestamptz NOT NULL DEFAULT now(),
    withdrawn_at     timestamptz,
    reference        text CHECK (spamhints.plain_text(reference)),
    suppression      interval,
    min_samples      integer CHECK (min_samples >= 1),
    include_mail_addresses boolean NOT NULL DEFAULT false,
    CHECK (cardinality(asns) > 0 OR cardinality(networks) > 0),
    CHECK (withdrawn_at IS NULL OR withdrawn_at >= agreed_at)
);

COMMENT ON TABLE spamhints.agreement IS
'The ISPs that have agreed to receive reports based on traffic data, and where: reports are only ever produced for them (spamhints.report() reads nothing else, and every row of spamhints.report_log references one). isp names it; abuse_address receives the reports; an address is theirs when it is in one of networks, or its AS (enrichment, or the sFlow gateway record) is in asns; exclude lists their own mail servers, never reported. In force from agreed_at until withdrawn_at.';
COMMENT ON COLUMN spamhints.agreement.reference IS 'where the agreement is recorded (a contract, a letter, a ticket)';
COMMENT ON COLUMN spamhints.agreement.suppression IS 'this ISP''s suppression window; NULL: the setting spamhints.report_suppression';
COMMENT ON COLUMN spamhints.agreement.min_samples IS 'an address with traffic evidence only (no mail-log verdict) is reported when it has at least this many sampled SMTP client packets in the period (and they fall in at least the setting report_min_minutes different minutes); NULL: the setting report_min_samples (3)';
COMMENT ON COLUMN spamhints.agreement.include_mail_addresses IS 'whether reports show envelope senders and recipients (personal data: often our own users'' addresses); false, the default, leaves them out: set it only when the agreement says so';

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

-- the SMTP token of samples reaches reports too (the loader writes a verb or
-- a reply code): like every text that does, no control or format character
ALTER TABLE spamhints.smtp_sample
    ADD CONSTRAINT smtp_sample_smtp_check CHECK (spamhints.plain_text(smtp));

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

-- How sure a count of sampled packets is: n sampled packets at 1 in N stand
-- for about n * N packets, but n is a Poisson count, and for small n its
-- exact 95% bounds are wide (3 samples: 0.619 to 8.767).
CREATE FUNCTION spamhints.poisson_bounds(n bigint, OUT lower float8, OUT upper float8)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    z   CONSTANT float8 := 1.959963984540054;   -- the 97.5% normal quantile
    k   float8;
    lo  float8;
    hi  float8;
    mid float8;
BEGIN
    IF n < 0 THEN
        RAISE EXCEPTION 'a count of sampled packets cannot be negative: %', n
            USING ERRCODE = '22023';
    END IF;
    IF n > 100 THEN
        -- Wilson-Hilferty's cube-root approximation of the chi-square
        -- quantiles (lower: 2n degrees of freedom, upper: 2n + 2), halved:
        -- within 0.01% of the exact bounds here
        k := 2 * n;
        lower := k * power(1 - 2 / (9 * k) - z * sqrt(2 / (9 * k)), 3) / 2;
        k := 2 * n + 2;
        upper := k * power(1 - 2 / (9 * k) + z * sqrt(2 / (9 * k)), 3) / 2;
        RETURN;
    END IF;
    -- exact: lower is the mean at which P(X >= n) = 2.5%, upper the mean at
    -- which P(X <= n) = 2.5%, found by bisection (P(X <= c) falls as the mean grows)
    IF n = 0 THEN
        lower := 0;
    ELSE
        lo := 0;
        hi := n;
        FOR i IN 1..60 LOOP
            mid := (lo + hi) / 2;
            IF spamhints.poisson_cdf(n - 1, mid) > 0.975 THEN lo := mid; ELSE hi := mid; END IF;
        END LOOP;
        lower := (lo + hi) / 2;
    END IF;
    lo := n;
    hi := n + 10 + 10 * sqrt(n);
    FOR i IN 1..60 LOOP
        mid := (lo + hi) / 2;
        IF spamhints.poisson_cdf(n, mid) > 0.025 THEN lo := mid; ELSE hi := mid; END IF;
    END LOOP;
    upper := (lo + hi) / 2;
END
$$;

COMMENT ON FUNCTION spamhints.poisson_bounds(bigint) IS
'The 95% confidence bounds of the mean of a Poisson count n (two-sided, 2.5% each side): exact (by bisection on spamhints.poisson_cdf) up to n = 100, Wilson-Hilferty''s approximation above, within 0.1%. n sampled packets at 1 in N: between lower * N and upper * N packets. E.g. poisson_bounds(3) = (0.619, 8.767).';

CREATE FUNCTION spamhints.poisson_cdf(c bigint, mean float8) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    term float8 := exp(-mean);
    total float8 := term;
BEGIN
    FOR k IN 1..c LOOP
        term := term * mean / k;
        total := total + term;
    END LOOP;
    RETURN least(total, 1);
END
$$;

COMMENT ON FUNCTION spamhints.poisson_cdf(bigint, float8) IS
'P(X <= c) for a Poisson count X of that mean: the sum of its first c + 1 terms (for the small counts spamhints.poisson_bounds uses it for; exp(-mean) underflows above a mean of about 700).';

CREATE FUNCTION spamhints.counted(n bigint, one text, many text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT n || ' ' || CASE WHEN n = 1 THEN one ELSE many END
$$;

COMMENT ON FUNCTION spamhints.counted(bigint, text, text) IS
'A count as reports write it: counted(1, ''item'', ''items'') = 1 item, counted(3, ''item'', ''items'') = 3 items.';

CREATE FUNCTION spamhints.report_candidates(period tstzrange, at timestamptz DEFAULT now())
RETURNS TABLE (agreement_id integer, isp text, abuse_address text, source_ip inet, asn bigint,
               evidence text[], new_evidence text[], diagnosis text[],
               first_ts timestamptz, last_ts timestamptz, samples bigint, est_packets bigint,
               events bigint, items bigint, suppressed boolean, minutes bigint, min_samples integer,
               min_minutes integer)
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
               count(DISTINCT date_trunc('minute', e.ts)) FILTER (WHERE e.kind = 'traffic') AS minutes,
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
               coalesce(g.min_samples, spamhints.setting('report_min_samples')::integer) AS min_samples,
               spamhints.setting('report_min_minutes')::integer AS min_minutes,
               s.*
        FROM src s
        JOIN spamhints.agreement g
          ON (s.source_ip <<= ANY (g.networks) OR s.asn = ANY (g.asns))
         AND NOT (s.source_ip <<= ANY (g.exclude))
         AND g.agreed_at <= at
         AND (g.withdrawn_at IS NULL OR g.withdrawn_at > at)
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
           c.kinds <@ coalesce(r.kinds, '{}'), c.minutes, c.min_samples, c.min_minutes
    FROM scoped c
    LEFT JOIN LATERAL (
        SELECT array_agg(DISTINCT k) AS kinds
        FROM spamhints.report_log l, unnest(l.evidence) AS k
        WHERE l.agreement_id = c.agreement_id AND l.source_ip = c.source_ip
          AND l.reported_at > at - c.suppression AND l.reported_at <= at
    ) AS r ON true
    -- a mail-log verdict, or enough sampled packets over more than a moment
    WHERE c.events > 0 OR (c.samples >= c.min_samples AND c.minutes >= c.min_minutes)
    ORDER BY c.isp, c.source_ip
$$;

COMMENT ON FUNCTION spamhints.report_candidates(tstzrange, timestamptz) IS
'What spamhints.report(period) would report at time at, without producing anything: per agreed ISP (in force at at) and source address of theirs with evidence in period (a mail-log verdict, or at least min_samples sampled client packets, agreement.min_samples or the setting report_min_samples, in at least min_minutes different minutes, the setting report_min_minutes): the kinds of evidence (traffic, server, spam, virus, rejected), new_evidence (kinds not reported to that ISP for that address within its suppression window before at), the diagnosis (virus, spam sender, open server), first and last evidence time, samples, est_packets, mail events, items; suppressed when there is nothing new; minutes (the different minutes of its samples) and the thresholds it met. Addresses of ISPs without an agreement never appear.';

-- A report is built in parts that can each be called alone: report_items()
-- gathers, per address to report, what the report says; report_human(),
-- report_machine() and report_headers() write the three parts of the ARF
-- message, and report_message() puts them together. Each of them sets the
-- styles its text depends on: a report reads the same whatever the session's
-- styles (intervals in it).

CREATE TYPE spamhints.report_item AS (
    agreement_id            integer,
    isp                     text,
    abuse_address           text,
    source_ip               inet,
    asn                     bigint,
    evidence                text[],
    new_evidence            text[],
    diagnosis               text[],
    est_packets             bigint,
    events                  bigint,
    items                   bigint,
    reference               text,
    agreed_at               timestamptz,
    include_mail_addresses  boolean,
    suppression             interval,
    traffic_lines           text,
    traffic_n               bigint,
    servers                 bigint,
    traffic_first           timestamptz,
    traffic_last            timestamptz,
    server_lines            text,
    server_n                bigint,
    clients                 bigint,
    server_est              bigint,
    mail_lines_full         text,
    mail_lines_bare         text,
    mail_n                  bigint,
    viruses                 text,
    zones                   text,
    first_port              integer,
    arrival                 timestamptz,
    m_ts                    timestamptz,
    m_host                  text,
    m_name                  text,
    m_helo                  text,
    m_port                  integer,
    m_sender                text,
    m_recipients            text[],
    samples                 bigint,
    traffic_minutes         bigint,
    min_samples             integer,
    min_minutes             integer,
    rate_min                integer,
    rate_max                integer,
    client_networks         bigint,
    incident_ref            text,
    incident_peer           inet,
    incident_peer_port      integer,
    incident_flags          integer,
    incident_smtp           text,
    incident_rate           integer
);

COMMENT ON TYPE spamhints.report_item IS
'What a report says about one source address, as spamhints.report_items() gathers it: the agreed ISP (agreement_id, isp, abuse_address, reference, agreed_at, include_mail_addresses, suppression), the candidate''s evidence, new_evidence, diagnosis, est_packets, events and items (spamhints.report_candidates), the listed evidence lines per kind (traffic_lines, server_lines, mail_lines_full with the mail addresses, mail_lines_bare without them; up to the setting report_max_items each) with their counts (traffic_n, server_n, mail_n), the servers and clients it talked to, server_est, the viruses and the mail logs'' time zones; m_*: the first mail event of its (time, host, client name, HELO, port, sender, recipients); the incident the machine-readable and headers parts describe, its first mail event or else its first sampled client packet: first_port and arrival (its port and time), incident_ref (where it is from) and, for a packet, incident_peer, incident_peer_port, incident_flags, incident_smtp, incident_rate; samples and traffic_minutes (its sampled client packets and the different minutes they fall in), the thresholds min_samples and min_minutes it was judged by, rate_min and rate_max (the sampling rates of its client packets), client_networks (the networks, /24 or /48, of the clients it answered as a server).';

CREATE FUNCTION spamhints.report_period_text(period tstzrange) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT spamhints.utc_text(lower(period)) || ' UTC to ' || spamhints.utc_text(upper(period)) || ' UTC'
$$;

COMMENT ON FUNCTION spamhints.report_period_text(tstzrange) IS
'A report period as reports write it: 2007-03-14 00:00:00 UTC to 2007-03-15 00:00:00 UTC.';

CREATE FUNCTION spamhints.report_items(period tstzrange, for_isp text DEFAULT NULL,
                                       at timestamptz DEFAULT now())
RETURNS SETOF spamhints.report_item
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
#variable_conflict use_column
DECLARE
    max_items  integer := spamhints.setting('report_max_items')::integer;
BEGIN
    RETURN QUERY
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
                   count(DISTINCT date_trunc('minute', l.ts)) FILTER (WHERE l.grp = 'traffic') AS traffic_minutes,
                   min(l.sampling_rate) FILTER (WHERE l.grp = 'traffic') AS rate_min,
                   max(l.sampling_rate) FILTER (WHERE l.grp = 'traffic') AS rate_max,
                   count(DISTINCT network(set_masklen(l.peer::cidr, CASE WHEN family(l.peer) = 4 THEN 24 ELSE 48 END)))
                       FILTER (WHERE l.grp = 'server') AS client_networks,
                   -- the first sampled client packet: the incident when no mail event is
                   (array_agg(l.source_port ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_port,
                   (array_agg(l.ts ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_ts,
                   (array_agg(l.ref ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_ref,
                   (array_agg(l.peer ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_peer,
                   (array_agg(l.peer_port ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_peer_port,
                   (array_agg(l.tcp_flags ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_flags,
                   (array_agg(l.smtp ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_smtp,
                   (array_agg(l.sampling_rate ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'traffic'))[1] AS p_rate,
                   (array_agg(l.ref ORDER BY l.ts, l.ref) FILTER (WHERE l.grp = 'mail'))[1] AS first_mail_ref
            FROM lined l
            GROUP BY l.source_ip
        )
        SELECT k.agreement_id, k.isp, k.abuse_address, k.source_ip, k.asn,
               k.evidence, k.new_evidence, k.diagnosis, k.est_packets, k.events, k.items,
               k.reference, k.agreed_at, k.include_mail_addresses, k.suppression,
               a.traffic_lines, a.traffic_n, a.servers, a.traffic_first, a.traffic_last,
               a.server_lines, a.server_n, a.clients, a.server_est,
               a.mail_lines_full, a.mail_lines_bare, a.mail_n, a.viruses, a.zones,
               CASE WHEN m.m_ts IS NOT NULL THEN m.m_port ELSE a.p_port END,
               coalesce(m.m_ts, a.p_ts),
               m.m_ts, m.m_host, m.m_name, m.m_helo, m.m_port, m.m_sender, m.m_recipients,
               k.samples, a.traffic_minutes, k.min_samples, k.min_minutes, a.rate_min, a.rate_max, a.client_networks,
               CASE WHEN m.m_ts IS NOT NULL THEN a.first_mail_ref ELSE a.p_ref END,
               CASE WHEN m.m_ts IS NULL THEN a.p_peer END,
               CASE WHEN m.m_ts IS NULL THEN a.p_peer_port END,
               CASE WHEN m.m_ts IS NULL THEN a.p_flags END,
               CASE WHEN m.m_ts IS NULL THEN a.p_smtp END,
               CASE WHEN m.m_ts IS NULL THEN a.p_rate END
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
        ORDER BY k.isp, k.source_ip;
END
$$;

-- it reads the mail addresses of mail logs (personal data): like report(), for
-- the extension's owner or a role it trusts with them
REVOKE EXECUTE ON FUNCTION spamhints.report_items(tstzrange, text, timestamptz) FROM PUBLIC;

COMMENT ON FUNCTION spamhints.report_items(tstzrange, text, timestamptz) IS
'What spamhints.report(period, for_isp, at) reports, one spamhints.report_item per agreed ISP and source address with something new to report (spamhints.report_candidates, not suppressed), ordered by isp and source address: the evidence listed per kind, up to the setting report_max_items each, and the one incident the machine-readable and headers parts describe (its first mail event, else its first sampled client packet). Reads the mail addresses (personal data): not executable by PUBLIC. E.g. SELECT * FROM spamhints.report_items(spamhints.yesterday());';

CREATE FUNCTION spamhints.report_human(item spamhints.report_item, period tstzrange, message_id text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
    max_items  integer := spamhints.setting('report_max_items')::integer;
    sender     text := spamhints.setting('report_from');
    retention  text := spamhints.setting('retention')::interval::text;
    missing    text;
    human      text;
    b          record;
BEGIN
    SELECT * INTO b FROM spamhints.poisson_bounds(greatest(coalesce(item.traffic_n, 0), 0));
    -- a report gives its evidence: an item that does not list what it counts
    -- makes none
    missing := CASE WHEN item.items IS NULL OR item.items < 1 THEN 'evidence'
                    WHEN coalesce(cardinality(item.diagnosis), 0) = 0 THEN 'diagnosis'
                    WHEN coalesce(item.traffic_n, 0) + coalesce(item.server_n, 0) + coalesce(item.mail_n, 0) = 0 THEN 'evidence'
                    WHEN item.traffic_n > 0 AND item.traffic_lines IS NULL THEN 'sampled packets'
                    WHEN item.server_n > 0 AND item.server_lines IS NULL THEN 'sampled packets from its port 25'
                    WHEN item.mail_n > 0 AND item.include_mail_addresses AND item.mail_lines_full IS NULL THEN 'mail events'
                    WHEN item.mail_n > 0 AND NOT item.include_mail_addresses AND item.mail_lines_bare IS NULL THEN 'mail events'
               END;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'the report about % would not list its %: no report is made', host(item.source_ip), missing
            USING ERRCODE = '22023', HINT = 'An item from spamhints.report_items() lists its evidence; check the setting report_max_items.';
    END IF;
    human := format(E'Abuse report about %s%s\n\n', host(item.source_ip), coalesce(' (AS' || item.asn || ')', ''))
          || format(E'This report is about %s, an address in your network.\n', host(item.source_ip))
          || format(E'You agreed to receive reports based on traffic data on %s%s.\n',
                    to_char(item.agreed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                    coalesce(' (' || item.reference || ')', ''))
          || E'We send them to no one who has not agreed. This report follows the Best\n' ||
             E'Practice document on reporting abuse from traffic data.\n\n'
          || 'Diagnosis: ' || array_to_string(item.diagnosis, ', ') || E'\n'
          || CASE WHEN 'virus' = ANY (item.diagnosis) THEN format(E'- virus: our mail servers received mail from this address that carried a\n  virus (%s): the computer is probably infected.\n', item.viruses) ELSE '' END
          || CASE WHEN 'spam sender' = ANY (item.diagnosis) THEN
                 CASE WHEN item.events > 0
                      THEN E'- spam sender: our mail servers received spam from this address, or\n  refused its mail.\n'
                      ELSE E'- spam sender: this address sends mail directly to mail servers (port 25)\n  instead of through its provider''s mail servers, as a computer infected\n  with spam-sending malware does.\n' END
             ELSE '' END
          || CASE WHEN 'open server' = ANY (item.diagnosis) THEN
                 format(E'- open server: this address answers SMTP as a mail server (sampled packets\n  from its port 25 to %s in %s) and also connects to port 25\n  of %s. A mail server that sends its users'' mail does\n  both; so does an open relay or proxy. These packets do not show which.\n',
                        spamhints.counted(item.clients, 'client', 'clients'),
                        spamhints.counted(item.client_networks, 'network', 'networks'),
                        spamhints.counted(item.servers, 'other mail server', 'other mail servers'))
             ELSE '' END
          || format(E'\nPeriod covered: %s.\n', spamhints.report_period_text(period))
          || E'Every time below is UTC (time zone +00:00).\n'
          || format(E'Evidence: %s items (%s).\n%s\n',
                    item.items, array_to_string(item.evidence, ', '),
                    CASE WHEN item.new_evidence = item.evidence
                         THEN format('We have not reported this address to you in the last %s.', item.suppression)
                         ELSE format('New since our last report to you about it (within %s): %s.', item.suppression, array_to_string(item.new_evidence, ', ')) END)
          || format(E'The machine-readable part and the headers part describe one incident: the\nfirst %s from this address, at %s UTC [%s].\n%s\n',
                    CASE WHEN item.m_ts IS NOT NULL THEN 'mail' ELSE 'sampled packet' END,
                    spamhints.utc_text(item.arrival), item.incident_ref,
                    CASE WHEN item.items > 1 THEN format('The other %s of evidence %s listed here (Incidents: %s).',
                                                         spamhints.counted(item.items - 1, 'item', 'items'),
                                                         CASE WHEN item.items = 2 THEN 'is' ELSE 'are' END, item.items)
                         ELSE 'It is the only item of evidence (Incidents: 1).' END)
          || CASE WHEN item.traffic_n > 0 THEN
                 format(E'\nSampled SMTP packets from %s to mail servers (port 25)\n', host(item.source_ip))
                 || E'Switches in our network sample one packet in N ("sampled 1 in N" below)\n' ||
                    E'and send its headers to our collector, which timed it on arrival; each\n' ||
                    E'sampled packet stands for about N packets.\n\n'
                 || item.traffic_lines || E'\n'
                 || CASE WHEN item.traffic_n > max_items THEN format(E'  ... and %s more sampled packets, not listed\n', item.traffic_n - max_items) ELSE '' END
                 || format(E'  In all: %s at %s to %s, in %s,\n  from %s UTC to %s UTC.\n  About %s packets (95%% bounds %s to %s: %s Poisson bounds on the\n  count of samples, scaled by the %ssampling rate).\n',
                           spamhints.counted(item.traffic_n, 'sampled packet', 'sampled packets'),
                           CASE WHEN item.rate_min = item.rate_max THEN '1 in ' || item.rate_min
                                ELSE format('1 in %s to 1 in %s', item.rate_min, item.rate_max) END,
                           spamhints.counted(item.servers, 'mail server', 'mail servers'),
                           spamhints.counted(item.traffic_minutes, 'minute', 'different minutes'),
                           spamhints.utc_text(item.traffic_first), spamhints.utc_text(item.traffic_last),
                           to_char(item.est_packets, 'FM999,999,999,999,999,990'),
                           to_char(round(b.lower * item.est_packets / item.traffic_n), 'FM999,999,999,999,999,990'),
                           to_char(round(b.upper * item.est_packets / item.traffic_n), 'FM999,999,999,999,999,990'),
                           CASE WHEN item.traffic_n <= 100 THEN 'exact' ELSE 'approximate (Wilson-Hilferty)' END,
                           CASE WHEN item.rate_min = item.rate_max THEN '' ELSE 'average ' END)
                 || format(E'We report an address when our mail servers caught its mail, or on sampled\npackets alone when it has at least %s of them in at least %s\nof the period. This one has %s in %s%s.\n',
                           item.min_samples, spamhints.counted(item.min_minutes, 'minute', 'different minutes'),
                           spamhints.counted(item.traffic_n, 'sampled packet', 'sampled packets'),
                           spamhints.counted(item.traffic_minutes, 'minute', 'minutes'),
                           CASE WHEN item.events > 0 THEN ' and ' || spamhints.counted(item.events, 'mail event', 'mail events') ELSE '' END)
             ELSE '' END
          || CASE WHEN item.server_n > 0 THEN
                 format(E'\nSampled SMTP packets from port 25 of %s (it answers as a mail server)\n\n', host(item.source_ip))
                 || item.server_lines || E'\n'
                 || CASE WHEN item.server_n > max_items THEN format(E'  ... and %s more sampled packets, not listed\n', item.server_n - max_items) ELSE '' END
                 || format(E'  In all: %s sampled (about %s packets) to %s in %s (/24\n  for IPv4, /48 for IPv6).\n', item.server_n, item.server_est,
                           spamhints.counted(item.clients, 'client', 'clients'), spamhints.counted(item.client_networks, 'network', 'networks'))
             ELSE '' END
          || CASE WHEN item.mail_n > 0 THEN
                 format(E'\nMail from %s to our mail servers\n', host(item.source_ip))
                 || format(E'Taken from our mail servers'' logs; their times were converted to UTC from the\nservers'' time zone (%s). Sizes in bytes.', item.zones)
                 || CASE WHEN item.include_mail_addresses
                         THEN E'\nEnvelope sender and recipient addresses are as the client gave them: the\nsender is often forged.\n\n'
                         ELSE E'\nSender and recipient addresses are left out, as agreed.\n\n' END
                 || CASE WHEN item.include_mail_addresses THEN item.mail_lines_full
                         ELSE regexp_replace(item.mail_lines_bare, '[^[:space:]<>"(),;:]+@[^[:space:]<>"(),;:]+', '(address removed)', 'g') END
                 || E'\n'
                 || CASE WHEN item.mail_n > max_items THEN format(E'  ... and %s more messages, not listed\n', item.mail_n - max_items) ELSE '' END
             ELSE '' END
          || E'\nWARNING: PERSONAL DATA\n'
          -- exactly the personal data it holds
          || 'This report contains personal data: IP addresses and times'
          || CASE WHEN coalesce(item.mail_n, 0) = 0 THEN E'.\n'
                  WHEN item.include_mail_addresses
                  THEN E', host names\nclients gave, and the mail addresses of senders and recipients (many forged,\nbut some may be real people''s).\n'
                  ELSE E', and host names\nclients gave.\n' END
          || E'You receive it only so that you can stop abuse from your network, under\n' ||
             E'our agreement. Use it for that alone; keep it confidential and secure; do\n' ||
             E'not pass it on (tell your customer what they need to know, without other\n' ||
             E'people''s data); and delete it when\n'
          || format(E'the problem is dealt with, within %s at the latest, as we do.\n', retention)
          || format(E'\nReplies to %s. Reference: %s.\n', sender, message_id);
    IF human IS NULL THEN
        RAISE EXCEPTION 'the human-readable part of the report about % would be empty: no report is made', host(item.source_ip)
            USING ERRCODE = '22023', HINT = 'An item from spamhints.report_items() has every field it needs.';
    END IF;
    RETURN human;
END
$$;

COMMENT ON FUNCTION spamhints.report_human(spamhints.report_item, tstzrange, text) IS
'The human-readable part of a report (text/plain): the address, the agreement it is sent under, the diagnosis and what it means (for an open server what was observed, not a verdict), the period, which incident the other parts describe, every item of evidence timed in UTC (up to the setting report_max_items per kind, mail addresses only when the agreement includes them), the counts of sampled packets with their estimate and its 95% Poisson bounds, and the thresholds of evidence (report_min_samples, report_min_minutes), the warning that says which personal data it holds, with the retention, and where replies go (the setting report_from, message_id). An item that does not list its evidence (no lines for a kind it counts, no diagnosis) makes no text: an error (22023).';

CREATE FUNCTION spamhints.report_machine(item spamhints.report_item) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
    mta        text := spamhints.setting('reporting_mta');
    fields     text;
BEGIN
    fields := E'Feedback-Type: ' || CASE WHEN 'virus' = ANY (item.evidence) THEN 'virus' ELSE 'abuse' END || E'\n'
          || E'User-Agent: spamhints/0.1\n'
          || E'Version: 1\n'
          || 'Source-IP: ' || host(item.source_ip) || E'\n'
          || coalesce('Source-Port: ' || item.first_port || E'\n', '')
          || 'Arrival-Date: ' || spamhints.rfc5322_date(item.arrival) || E'\n'
          || 'Incidents: ' || item.items || E'\n'
          || CASE WHEN item.m_ts IS NOT NULL THEN 'Reporting-MTA: dns; ' || coalesce(item.m_host, mta) || E'\n' ELSE '' END
          || CASE WHEN item.m_ts IS NOT NULL AND item.include_mail_addresses THEN
                 coalesce('Original-Mail-From: <' || item.m_sender || E'>\n', '')
                 || coalesce((SELECT string_agg('Original-Rcpt-To: <' || r || E'>\n', '') FROM unnest(item.m_recipients) AS r), '')
             ELSE '' END;
    IF fields IS NULL THEN
        RAISE EXCEPTION 'the machine-readable part of the report about % would be empty: no report is made', host(item.source_ip)
            USING ERRCODE = '22023', HINT = 'An item from spamhints.report_items() has its source address, arrival and incidents.';
    END IF;
    RETURN fields;
END
$$;

COMMENT ON FUNCTION spamhints.report_machine(spamhints.report_item) IS
'The machine-readable part of a report (message/feedback-report, RFC 5965 section 3 with RFC 6692''s Source-Port): Feedback-Type (virus or abuse), User-Agent, Version, Source-IP, then the fields of the one incident the headers part shows (its first mail event, else its first sampled client packet): Source-Port, Arrival-Date; for a mail event Reporting-MTA (the mail server of ours that logged it) and, when the agreement includes mail addresses, Original-Mail-From and Original-Rcpt-To; Incidents counts every item of evidence (the human-readable part lists the others).';

CREATE FUNCTION spamhints.report_headers(item spamhints.report_item) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
    mta        text := spamhints.setting('reporting_mta');
BEGIN
    -- no message is kept, so the header section is the trace field our
    -- server would have added, rebuilt from its log
    RETURN CASE WHEN item.m_ts IS NOT NULL THEN
                       'Received: from ' || coalesce(item.m_helo, 'unknown')
                       || ' (' || coalesce(item.m_name || ' ', '') || '[' || CASE WHEN family(item.source_ip) = 6 THEN 'IPv6:' ELSE '' END || host(item.source_ip) || ']'
                       || coalesce(':' || item.m_port, '') || ')'
                       || E'\n\tby ' || coalesce(item.m_host, mta) || '; ' || spamhints.rfc5322_date(item.m_ts) || E'\n'
                   -- no mail: a header block of our own making, labelled as such,
                   -- with what the sampled packet shows
                   ELSE 'X-Spamhints-Synthetic: no message was kept; these fields describe the sampled'
                        || E'\n\tpacket of ' || item.incident_ref || E', not a message\n'
                        || 'X-Spamhints-Client: ' || spamhints.endpoint_text(item.source_ip, item.first_port) || E'\n'
                        || 'X-Spamhints-Server: ' || spamhints.endpoint_text(item.incident_peer, item.incident_peer_port) || E'\n'
                        || 'X-Spamhints-Packet: ' || coalesce(nullif(spamhints.tcp_flags_text(item.incident_flags), ''), 'no flags')
                        || coalesce(', SMTP ' || item.incident_smtp, '') || ', sampled 1 in ' || item.incident_rate || E'\n'
                        || 'X-Spamhints-Observed: ' || spamhints.rfc5322_date(item.arrival) || E'\n'
                   END;
END
$$;

COMMENT ON FUNCTION spamhints.report_headers(spamhints.report_item) IS
'The headers part of a report (text/rfc822-headers): no message is kept, so it is the Received trace field our mail server would have added to the first mail from the address, rebuilt from its log. Without a mail event, a synthetic header block that says so (X-Spamhints-Synthetic) and gives the first sampled client packet: client and server endpoints, TCP flags, SMTP token and sampling rate, the time it was observed. Never empty: RFC 5965 requires the part.';

CREATE FUNCTION spamhints.report_message(item spamhints.report_item, period tstzrange,
                                         at timestamptz, message_id text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
    sender     text := spamhints.setting('report_from');
    human      text := spamhints.report_human(item, period, message_id);
    machine    text := spamhints.report_machine(item);
    headers    text := spamhints.report_headers(item);
    boundary   text;
BEGIN
    IF spamhints.setting('report_from') = '' OR spamhints.setting('reporting_mta') = '' THEN
        RAISE EXCEPTION 'the settings spamhints.report_from and spamhints.reporting_mta must be set before reports are made'
            USING ERRCODE = '55000',
                  HINT = 'Where replies go and the host that makes the reports, e.g. ALTER DATABASE abuse SET spamhints.report_from = ''abuse@isp.example''; ALTER DATABASE abuse SET spamhints.reporting_mta = ''mx.isp.example''.';
    END IF;
    IF headers IS NULL THEN
        RAISE EXCEPTION 'the headers part of the report about % would be missing: no report is made', host(item.source_ip)
            USING ERRCODE = '22023';
    END IF;
    -- a boundary nobody can guess (122 random bits from pg_strong_random),
    -- so that no text in the parts can end one; and none that they hold
    LOOP
        boundary := '=_spamhints_' || replace(gen_random_uuid()::text, '-', '');
        EXIT WHEN strpos(human || machine || headers, boundary) = 0;
    END LOOP;
    RETURN format(E'From: %s\nTo: %s\nDate: %s\nSubject: Abuse report: %s (%s), %s\nMessage-ID: %s\n',
                  sender, item.abuse_address, spamhints.rfc5322_date(at), host(item.source_ip),
                  array_to_string(item.diagnosis, ', '), spamhints.report_period_text(period), message_id)
          || E'MIME-Version: 1.0\n'
          || format(E'Content-Type: multipart/report; report-type=feedback-report;\n\tboundary="%s"\n\n', boundary)
          || E'This is an abuse report in the Abuse Reporting Format (ARF, RFC 5965).\n\n'
          || format(E'--%s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\n',
                    boundary, human)
          || format(E'--%s\nContent-Type: message/feedback-report\n\n%s\n', boundary, machine)
          || format(E'--%s\nContent-Type: text/rfc822-headers\n\n%s\n', boundary, headers)
          || format(E'--%s--\n', boundary);
END
$$;

COMMENT ON FUNCTION spamhints.report_message(spamhints.report_item, tstzrange, timestamptz, text) IS
'The report about one address as an ARF message (RFC 5965 multipart/report, report-type=feedback-report), ready for sendmail -t: From (the setting report_from), To (the abuse address), Date (at), Subject, Message-ID, and the three parts report_human(), report_machine() and report_headers() between MIME boundaries: a new random one for every message (so the same report made twice differs in it), found nowhere in the parts. An item whose evidence or fields are missing makes no message: an error (22023); so does an unset report_from or reporting_mta (55000).';

CREATE FUNCTION spamhints.report(period tstzrange DEFAULT spamhints.yesterday(),
                                 for_isp text DEFAULT NULL,
                                 at timestamptz DEFAULT now(),
                                 dry_run boolean DEFAULT false)
RETURNS TABLE (report_id bigint, isp text, abuse_address text, source_ip inet,
               diagnosis text[], evidence text[], new_evidence text[], items bigint,
               message_id text, message text)
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
SET IntervalStyle = 'postgres'
SET DateStyle = 'ISO, YMD'
AS $$
#variable_conflict use_column
DECLARE
    mta        text := spamhints.setting('reporting_mta');
    run_id     bigint;
    n          integer := 0;
    c          spamhints.report_item;
BEGIN
    IF spamhints.setting('report_from') = '' OR spamhints.setting('reporting_mta') = '' THEN
        RAISE EXCEPTION 'the settings spamhints.report_from and spamhints.reporting_mta must be set before reports are made'
            USING ERRCODE = '55000',
                  HINT = 'Where replies go and the host that makes the reports, e.g. ALTER DATABASE abuse SET spamhints.report_from = ''abuse@isp.example''; ALTER DATABASE abuse SET spamhints.reporting_mta = ''mx.isp.example''.';
    END IF;
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

    FOR c IN
        SELECT * FROM spamhints.report_items(period, for_isp, at) AS i ORDER BY i.isp, i.source_ip
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
        message := spamhints.report_message(c, period, at, message_id);

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
'Produces the reports for period (default: yesterday, UTC) to every agreed ISP, or only for_isp: one ARF message (RFC 5965 multipart/report with RFC 6692 Source-Port) per source address, with a human-readable part that gives the diagnosis (virus, spam sender, open server), every item of evidence timed in UTC (sampled packets with their sampling rate, mail events with size, HELO and verdict; up to the setting report_max_items per kind) and the warning about personal data. ISPs without an agreement get nothing. Each report is logged in spamhints.report_log; an address reported to an ISP within its suppression window is not reported again unless there is a new kind of evidence. at is the time of reporting (default now); dry_run => true shows the reports without logging them. Refuses to run (55000) while the settings report_from and reporting_mta are unset.';

-- sql/parts/70_retention.sql: personal data is kept only as long as the
-- retention setting says.

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
    -- checked before anything is deleted: a negative retention or an infinite
    -- time would delete what is not old (everything, the future)
    IF at IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'purge() at must be finite' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(retention, spamhints.setting('retention')::interval) < interval '0' THEN
        RAISE EXCEPTION 'purge() retention must not be negative, not %',
                        coalesce(retention, spamhints.setting('retention')::interval)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
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
'Deletes the personal data older than retention (default: the setting spamhints.retention) before at (default now): sampled packets (smtp_sample.ts), mail events (ts), reports sent (report_log.reported_at) and received (incoming_report.received_at), and address assignments that ended before the cutoff. Returns the rows deleted per table and the cutoff. A negative retention or an infinite at is an error (22023) before anything is deleted. The load records (spamhints.load, maillog_load) stay, without personal data, so that a purged file is not loaded again. Scheduled daily by spamhints.cron_jobs().';

-- sql/parts/71_schedules.sql: the daily figures and the report queue, and the
-- pg_cron schedule that refreshes them, reports and purges.

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
), produced AS (
    SELECT (r.reported_at AT TIME ZONE 'UTC')::date AS day, count(*) AS reports_produced
    FROM spamhints.report_log r
    GROUP BY 1
), sent AS (
    -- a report is sent when the mailer marks it so, on the day it does
    SELECT (r.sent_at AT TIME ZONE 'UTC')::date AS day, count(*) AS reports_sent
    FROM spamhints.report_log r
    WHERE r.sent_at IS NOT NULL
    GROUP BY 1
), days AS (
    SELECT day FROM samples
    UNION SELECT day FROM spamhints.detections_per_day
    UNION SELECT day FROM spamhints.incoming_reports_per_day
    UNION SELECT day FROM produced
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
       coalesce(p.reports_produced, 0) AS reports_produced,
       coalesce(r.reports_sent, 0) AS reports_sent
FROM days d
LEFT JOIN samples s ON s.day = d.day
LEFT JOIN senders cs ON cs.day = d.day
LEFT JOIN spamhints.detections_per_day m ON m.day = d.day
LEFT JOIN spamhints.customers_caught_per_day cc ON cc.day = d.day
LEFT JOIN spamhints.incoming_reports_per_day i ON i.day = d.day
LEFT JOIN produced p ON p.day = d.day
LEFT JOIN sent r ON r.day = d.day
ORDER BY d.day;

CREATE UNIQUE INDEX daily_figures_day ON spamhints.daily_figures (day);

COMMENT ON MATERIALIZED VIEW spamhints.daily_figures IS
'The abuse desk''s figures per UTC day, as of the last spamhints.refresh(): sampled SMTP packets and their estimate, client addresses, customer_senders (our customers seen sending mail directly), spam, virus and rejected mail events, customers_caught by the mail logs (and new ones), incoming_reports, reports_produced (by spamhints.report(), on the day it made them) and reports_sent (report_log.sent_at set by the mailer, on that day).';

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

-- sql/parts/80_column_comments.sql: what each column of the tables, views and
-- materialized views means, for those not said where they are created
-- (\d+ shows them; the regression test 12_comments checks that none is missing).

COMMENT ON COLUMN spamhints.load.load_id IS 'the load''s number, from 1; smtp_sample.load_id and load_agent.load_id refer to it';
COMMENT ON COLUMN spamhints.load.file_name IS 'the capture file as given to spamhints-load (- for standard input)';
COMMENT ON COLUMN spamhints.load.sha256 IS 'SHA-256 of the capture''s bytes, lower-case hex: the same capture is never loaded twice';
COMMENT ON COLUMN spamhints.load.file_bytes IS 'size of the capture in bytes';
COMMENT ON COLUMN spamhints.load.started_at IS 'when the load started';
COMMENT ON COLUMN spamhints.load.finished_at IS 'when the load was complete (NULL only inside the loading transaction)';
COMMENT ON COLUMN spamhints.load.first_ts IS 'capture time of the first datagram';
COMMENT ON COLUMN spamhints.load.last_ts IS 'capture time of the last datagram';
COMMENT ON COLUMN spamhints.load.flow_samples IS 'sFlow flow samples decoded';
COMMENT ON COLUMN spamhints.load.counter_samples IS 'sFlow counter samples seen (not loaded)';
COMMENT ON COLUMN spamhints.load.smtp_rows IS 'rows added to spamhints.smtp_sample';
COMMENT ON COLUMN spamhints.load.smtp_ports IS 'the SMTP ports of the load (--ports; default {25}): a sample was kept when either port is one of them, and the views give roles by them';
COMMENT ON COLUMN spamhints.load.filter IS 'the BPF filter the capture was read with (--filter)';
COMMENT ON COLUMN spamhints.load.loader_version IS 'version of spamhints-load that made the load';

COMMENT ON COLUMN spamhints.load_agent.load_id IS 'the load (spamhints.load)';
COMMENT ON COLUMN spamhints.load_agent.agent IS 'the sFlow agent address (switch or router) of the datagrams';
COMMENT ON COLUMN spamhints.load_agent.sub_agent IS 'the sFlow sub-agent id (sFlow v5; 0 for v2 and v4, which have none)';
COMMENT ON COLUMN spamhints.load_agent.version IS 'sFlow version of its datagrams (2, 4 or 5)';
COMMENT ON COLUMN spamhints.load_agent.datagrams IS 'datagrams of this agent decoded whole';
COMMENT ON COLUMN spamhints.load_agent.malformed IS 'datagrams of this agent skipped as malformed';
COMMENT ON COLUMN spamhints.load_agent.first_seq IS 'the first datagram sequence number seen';
COMMENT ON COLUMN spamhints.load_agent.last_seq IS 'the last datagram sequence number seen';
COMMENT ON COLUMN spamhints.load_agent.lost IS 'datagrams lost in transit: the gaps where the datagram sequence number jumps forward; after a reset counting goes on from the new number, and nothing lost across a reset is counted';
COMMENT ON COLUMN spamhints.load_agent.resets IS 'times the datagram sequence number went back (an agent restart): counted here, never as loss; a repeated number (a duplicate) is neither';

COMMENT ON COLUMN spamhints.smtp_sample.load_id IS 'the load (spamhints.load) that added the row';
COMMENT ON COLUMN spamhints.smtp_sample.dst_mac IS 'destination MAC of the sampled frame';
COMMENT ON COLUMN spamhints.smtp_sample.src_ip IS 'source address of the sampled packet';
COMMENT ON COLUMN spamhints.smtp_sample.dst_ip IS 'destination address of the sampled packet';
COMMENT ON COLUMN spamhints.smtp_sample.src_port IS 'TCP source port';
COMMENT ON COLUMN spamhints.smtp_sample.dst_port IS 'TCP destination port';

COMMENT ON COLUMN spamhints.mail_event.maillog_load_id IS 'the mail log load (spamhints.maillog_load) that added the row';
COMMENT ON COLUMN spamhints.mail_event.client_ip IS 'the address of the client that sent the message to our mail server';
COMMENT ON COLUMN spamhints.mail_event.client_port IS 'its TCP source port, when logged';

COMMENT ON COLUMN spamhints.maillog_load.maillog_load_id IS 'the mail log load''s number, from 1; mail_event.maillog_load_id refers to it';
COMMENT ON COLUMN spamhints.maillog_load.file_name IS 'the log file as given to spamhints-load (- for standard input)';
COMMENT ON COLUMN spamhints.maillog_load.sha256 IS 'SHA-256 of the log''s bytes, lower-case hex: the same log is never loaded twice';
COMMENT ON COLUMN spamhints.maillog_load.format IS 'exim or postfix (--maillog)';
COMMENT ON COLUMN spamhints.maillog_load.file_bytes IS 'size of the log file in bytes';
COMMENT ON COLUMN spamhints.maillog_load.file_mtime IS 'modification time of the log file';
COMMENT ON COLUMN spamhints.maillog_load.started_at IS 'when the load started';
COMMENT ON COLUMN spamhints.maillog_load.finished_at IS 'when the load was complete';
COMMENT ON COLUMN spamhints.maillog_load.first_ts IS 'time of the first event';
COMMENT ON COLUMN spamhints.maillog_load.last_ts IS 'time of the last event';
COMMENT ON COLUMN spamhints.maillog_load.loader_version IS 'version of spamhints-load that made the load';

COMMENT ON COLUMN spamhints.asn.asn IS 'AS number';
COMMENT ON COLUMN spamhints.asn.org IS 'the AS''s organisation name from the ASN database (NULL when it gave none)';

COMMENT ON COLUMN spamhints.agreement.agreement_id IS 'the agreement''s number; report_log.agreement_id refers to it';
COMMENT ON COLUMN spamhints.agreement.isp IS 'the ISP we report to';
COMMENT ON COLUMN spamhints.agreement.abuse_address IS 'where its reports go (its abuse mailbox)';
COMMENT ON COLUMN spamhints.agreement.asns IS 'its AS numbers: an address whose AS is one of them is its';
COMMENT ON COLUMN spamhints.agreement.networks IS 'its networks: an address in one of them is its';
COMMENT ON COLUMN spamhints.agreement.exclude IS 'networks left out of its reports, although in its ASes or networks';
COMMENT ON COLUMN spamhints.agreement.agreed_at IS 'from when it wants reports';
COMMENT ON COLUMN spamhints.agreement.withdrawn_at IS 'from when it no longer wants reports (NULL: still agreed)';

COMMENT ON COLUMN spamhints.report_log.report_log_id IS 'the report''s number';
COMMENT ON COLUMN spamhints.report_log.agreement_id IS 'the agreement (spamhints.agreement) it was made under';
COMMENT ON COLUMN spamhints.report_log.abuse_address IS 'the address it was made for';
COMMENT ON COLUMN spamhints.report_log.source_ip IS 'the address it reports';
COMMENT ON COLUMN spamhints.report_log.period IS 'the time range its evidence is from';
COMMENT ON COLUMN spamhints.report_log.diagnosis IS 'what the evidence says the address is doing (the report''s diagnosis lines)';
COMMENT ON COLUMN spamhints.report_log.items IS 'items of evidence it lists';
COMMENT ON COLUMN spamhints.report_log.reported_at IS 'when it was made';
COMMENT ON COLUMN spamhints.report_log.message_id IS 'the Message-ID of its message';

COMMENT ON COLUMN spamhints.incoming_report.incoming_report_id IS 'the received report''s number';
COMMENT ON COLUMN spamhints.incoming_report.feedback_type IS 'ARF Feedback-Type (abuse, fraud, virus, ...)';
COMMENT ON COLUMN spamhints.incoming_report.user_agent IS 'ARF User-Agent: the reporters software';
COMMENT ON COLUMN spamhints.incoming_report.source_port IS 'the reported connections source port, when given';
COMMENT ON COLUMN spamhints.incoming_report.arrival_date IS 'ARF Arrival-Date: when the reported mail arrived';
COMMENT ON COLUMN spamhints.incoming_report.incidents IS 'ARF Incidents: how many such messages the report stands for';
COMMENT ON COLUMN spamhints.incoming_report.original_mail_from IS 'ARF Original-Mail-From: the reported mails envelope sender; personal data';
COMMENT ON COLUMN spamhints.incoming_report.original_rcpt_to IS 'ARF Original-Rcpt-To: its envelope recipients; personal data';
COMMENT ON COLUMN spamhints.incoming_report.reported_domain IS 'ARF Reported-Domain: the domains the report names';

COMMENT ON COLUMN spamhints.packet_stats.smtp_packets IS 'sampled SMTP packets of all loads (rows of smtp_sample)';
COMMENT ON COLUMN spamhints.packet_stats.syn IS 'of them, SYN set and ACK clear (connection attempts)';
COMMENT ON COLUMN spamhints.packet_stats.syn_ack IS 'SYN and ACK set (accepted connections)';
COMMENT ON COLUMN spamhints.packet_stats.rst IS 'RST set (reset connections)';
COMMENT ON COLUMN spamhints.packet_stats.fin IS 'FIN set (closed connections)';
COMMENT ON COLUMN spamhints.packet_stats.syn_pct IS 'syn in percent of smtp_packets (NULL with no packet)';
COMMENT ON COLUMN spamhints.packet_stats.syn_ack_pct IS 'syn_ack in percent of smtp_packets';
COMMENT ON COLUMN spamhints.packet_stats.rst_pct IS 'rst in percent of smtp_packets';
COMMENT ON COLUMN spamhints.packet_stats.fin_pct IS 'fin in percent of smtp_packets';
COMMENT ON COLUMN spamhints.packet_stats.est_packets IS 'estimated real packets: the sum of the sampling rates';

COMMENT ON COLUMN spamhints.ip_census.ips IS 'distinct addresses seen in an SMTP role';
COMMENT ON COLUMN spamhints.ip_census.client_only IS 'of them, only ever a client';
COMMENT ON COLUMN spamhints.ip_census.server_only IS 'only ever a server';
COMMENT ON COLUMN spamhints.ip_census."both" IS 'both a client and a server';

COMMENT ON COLUMN spamhints.endpoint.ip IS 'the address this row looks from';
COMMENT ON COLUMN spamhints.endpoint.peer IS 'the other end of the sample';
COMMENT ON COLUMN spamhints.endpoint.role IS 'what this sample makes ip: client, server or both (compares with text: role = server)';
COMMENT ON COLUMN spamhints.endpoint.side IS 'src when ip is the samples source, dst when its destination';
COMMENT ON COLUMN spamhints.endpoint.port IS 'ip''s port';
COMMENT ON COLUMN spamhints.endpoint.peer_port IS 'peer''s port';
COMMENT ON COLUMN spamhints.endpoint.asn IS 'AS of ip (enrichment)';
COMMENT ON COLUMN spamhints.endpoint.cc IS 'country of ip (enrichment)';
COMMENT ON COLUMN spamhints.endpoint.peer_asn IS 'AS of peer (enrichment)';
COMMENT ON COLUMN spamhints.endpoint.gw_as IS 'AS of ip from the sFlow extended gateway record, as the router saw it (gw_src_as or gw_dst_as of the sample)';
COMMENT ON COLUMN spamhints.endpoint.peer_cc IS 'country of peer (enrichment)';
COMMENT ON COLUMN spamhints.endpoint.ts IS 'capture time of the sample';
COMMENT ON COLUMN spamhints.endpoint.sampling_rate IS 'one packet in sampling_rate was sampled';
COMMENT ON COLUMN spamhints.endpoint.tcp_flags IS 'raw TCP flags byte of the sample';
COMMENT ON COLUMN spamhints.endpoint.ip_len IS 'IP packet length';
COMMENT ON COLUMN spamhints.endpoint.ttl IS 'IPv4 TTL or IPv6 hop limit';
COMMENT ON COLUMN spamhints.endpoint.smtp IS 'SMTP command verb or reply code at the start of the payload (analysts may not read it)';
COMMENT ON COLUMN spamhints.endpoint.agent IS 'the sFlow agent that sampled it';
COMMENT ON COLUMN spamhints.endpoint.load_id IS 'the load of the sample';
COMMENT ON COLUMN spamhints.endpoint.frame IS 'position of its datagram in the capture: with load_id, the evidence';

COMMENT ON COLUMN spamhints.client_as_top.rank IS 'rank by clients, 1 first; ties share a rank';
COMMENT ON COLUMN spamhints.client_as_top.asn IS 'the AS of the addresses: from the ASN database, else from the sFlow gateway record (as_source)';
COMMENT ON COLUMN spamhints.client_as_top.as_source IS 'where asn comes from: mmdb (the ASN database, enrichment), sflow gateway (gw_src_as/gw_dst_as of loads without enrichment), or mmdb, sflow gateway (some addresses each way)';
COMMENT ON COLUMN spamhints.client_as_top.as_org IS 'its organisation from spamhints.asn (NULL when absent)';
COMMENT ON COLUMN spamhints.client_as_top.country IS 'the country of most of its addresses';
COMMENT ON COLUMN spamhints.client_as_top.clients IS 'its addresses that were only ever clients';
COMMENT ON COLUMN spamhints.client_as_top.servers IS 'only ever servers';
COMMENT ON COLUMN spamhints.client_as_top."both" IS 'both';
COMMENT ON COLUMN spamhints.client_as_top.ips IS 'all its addresses in an SMTP role';

COMMENT ON COLUMN spamhints.client_cc_top.rank IS 'rank by clients, 1 first; ties share a rank';
COMMENT ON COLUMN spamhints.client_cc_top.country IS 'ISO 3166 country code of the addresses';
COMMENT ON COLUMN spamhints.client_cc_top.clients IS 'its addresses that were only ever clients';
COMMENT ON COLUMN spamhints.client_cc_top.servers IS 'only ever servers';
COMMENT ON COLUMN spamhints.client_cc_top."both" IS 'both';
COMMENT ON COLUMN spamhints.client_cc_top.ips IS 'all its addresses in an SMTP role';

COMMENT ON COLUMN spamhints.settings.name IS 'the setting, as spamhints.NAME';
COMMENT ON COLUMN spamhints.settings.value IS 'its value in this session';
COMMENT ON COLUMN spamhints.settings."default" IS 'its value when not set';
COMMENT ON COLUMN spamhints.settings.description IS 'what it does';

COMMENT ON COLUMN spamhints.customer_sender.customer_id IS 'the customer (spamhints.ip_assignment)';
COMMENT ON COLUMN spamhints.customer_sender.addresses IS 'its distinct addresses seen as SMTP clients';
COMMENT ON COLUMN spamhints.customer_sender.first_seen IS 'first such sample';
COMMENT ON COLUMN spamhints.customer_sender.last_seen IS 'last such sample';
COMMENT ON COLUMN spamhints.customer_sender.samples IS 'sampled SMTP client packets';
COMMENT ON COLUMN spamhints.customer_sender.est_packets IS 'their estimated real packets (sum of sampling rates)';
COMMENT ON COLUMN spamhints.customer_sender.servers IS 'distinct destinations (mail servers) they sent to';
COMMENT ON COLUMN spamhints.customer_sender.hourly IS 'the samples by hour of day (hist24, session TimeZone; chart(hourly) draws it)';
COMMENT ON COLUMN spamhints.customer_sender.caught IS 'whether our mail logs caught it sending spam or viruses';
COMMENT ON COLUMN spamhints.customer_sender.caught_spam IS 'its spam events in our mail logs';
COMMENT ON COLUMN spamhints.customer_sender.caught_virus IS 'its virus events in our mail logs';
COMMENT ON COLUMN spamhints.customer_sender.last_caught IS 'time of its last such event';

COMMENT ON COLUMN spamhints.customers_caught_per_day.day IS 'the UTC day';
COMMENT ON COLUMN spamhints.customers_caught_per_day.customers IS 'distinct customers whose addresses sent spam or viruses to our mail servers';
COMMENT ON COLUMN spamhints.customers_caught_per_day.spam_customers IS 'of them, those that sent spam';
COMMENT ON COLUMN spamhints.customers_caught_per_day.virus_customers IS 'those that sent viruses';
COMMENT ON COLUMN spamhints.customers_caught_per_day.new_customers IS 'those caught for the first time that day';

COMMENT ON COLUMN spamhints.detections_per_day.day IS 'the UTC day';
COMMENT ON COLUMN spamhints.detections_per_day.spam IS 'mail events with verdict spam';
COMMENT ON COLUMN spamhints.detections_per_day.virus IS 'with verdict virus';
COMMENT ON COLUMN spamhints.detections_per_day.rejected IS 'with verdict rejected';
COMMENT ON COLUMN spamhints.detections_per_day.clean IS 'with verdict clean';
COMMENT ON COLUMN spamhints.detections_per_day.spam_sources IS 'distinct client addresses that sent spam';
COMMENT ON COLUMN spamhints.detections_per_day.virus_sources IS 'distinct client addresses that sent viruses';

COMMENT ON COLUMN spamhints.incoming_reports_per_day.day IS 'the UTC day of receipt';
COMMENT ON COLUMN spamhints.incoming_reports_per_day.reports IS 'abuse reports received';
COMMENT ON COLUMN spamhints.incoming_reports_per_day.addresses IS 'distinct addresses they were about';
COMMENT ON COLUMN spamhints.incoming_reports_per_day.reporters IS 'distinct reporters';

COMMENT ON COLUMN spamhints.evidence.source_ip IS 'the address the evidence is about';
COMMENT ON COLUMN spamhints.evidence.kind IS 'traffic, server, spam, virus or rejected';
COMMENT ON COLUMN spamhints.evidence.ts IS 'when';
COMMENT ON COLUMN spamhints.evidence.source_port IS 'its port';
COMMENT ON COLUMN spamhints.evidence.peer IS 'the other end (traffic, server)';
COMMENT ON COLUMN spamhints.evidence.peer_port IS 'the other end''s port';
COMMENT ON COLUMN spamhints.evidence.asn IS 'AS of source_ip (enrichment, else the sFlow gateways source AS)';
COMMENT ON COLUMN spamhints.evidence.sampling_rate IS 'the sample''s sampling rate (samples)';
COMMENT ON COLUMN spamhints.evidence.tcp_flags IS 'the sample''s TCP flags byte';
COMMENT ON COLUMN spamhints.evidence.smtp IS 'the sample''s SMTP verb or reply code';
COMMENT ON COLUMN spamhints.evidence.mail_host IS 'our mail server that logged the event (events)';
COMMENT ON COLUMN spamhints.evidence.client_name IS 'the client''s reverse DNS name as logged';
COMMENT ON COLUMN spamhints.evidence.helo IS 'the HELO/EHLO name it gave';
COMMENT ON COLUMN spamhints.evidence.size IS 'message size in bytes';
COMMENT ON COLUMN spamhints.evidence.sender IS 'envelope sender; personal data';
COMMENT ON COLUMN spamhints.evidence.recipients IS 'envelope recipients; personal data';
COMMENT ON COLUMN spamhints.evidence.verdict IS 'the event''s verdict';
COMMENT ON COLUMN spamhints.evidence.virus IS 'the virus name';
COMMENT ON COLUMN spamhints.evidence.spam_score IS 'the SpamAssassin score';
COMMENT ON COLUMN spamhints.evidence.reason IS 'what the MTA or filter said';
COMMENT ON COLUMN spamhints.evidence.log_timezone IS 'the time zone the log''s times were read in';
COMMENT ON COLUMN spamhints.evidence.ref IS 'where the item comes from: load and frame, or mail log load and line';

COMMENT ON COLUMN spamhints.daily_figures.day IS 'the UTC day';
COMMENT ON COLUMN spamhints.daily_figures.samples IS 'sampled SMTP packets';
COMMENT ON COLUMN spamhints.daily_figures.est_packets IS 'their estimated real packets';
COMMENT ON COLUMN spamhints.daily_figures.client_addresses IS 'distinct addresses seen as SMTP clients';
COMMENT ON COLUMN spamhints.daily_figures.customer_senders IS 'our customers seen sending mail directly';
COMMENT ON COLUMN spamhints.daily_figures.spam IS 'spam mail events';
COMMENT ON COLUMN spamhints.daily_figures.virus IS 'virus mail events';
COMMENT ON COLUMN spamhints.daily_figures.rejected IS 'rejected mail events';
COMMENT ON COLUMN spamhints.daily_figures.customers_caught IS 'customers caught by the mail logs';
COMMENT ON COLUMN spamhints.daily_figures.new_customers_caught IS 'of them, caught for the first time';
COMMENT ON COLUMN spamhints.daily_figures.incoming_reports IS 'abuse reports received';
COMMENT ON COLUMN spamhints.daily_figures.reports_sent IS 'reports made (spamhints.report_log)';

COMMENT ON COLUMN spamhints.report_queue.period IS 'the day the evidence is from';
COMMENT ON COLUMN spamhints.report_queue.as_of IS 'when spamhints.refresh() computed the row';
COMMENT ON COLUMN spamhints.report_queue.agreement_id IS 'the agreement (spamhints.agreement)';
COMMENT ON COLUMN spamhints.report_queue.isp IS 'the ISP';
COMMENT ON COLUMN spamhints.report_queue.abuse_address IS 'where the report goes';
COMMENT ON COLUMN spamhints.report_queue.source_ip IS 'the address to report';
COMMENT ON COLUMN spamhints.report_queue.asn IS 'its AS';
COMMENT ON COLUMN spamhints.report_queue.evidence IS 'the kinds of evidence: traffic, server, spam, virus, rejected';
COMMENT ON COLUMN spamhints.report_queue.new_evidence IS 'the kinds not reported to this ISP for this address within the suppression window';
COMMENT ON COLUMN spamhints.report_queue.diagnosis IS 'what the evidence says the address is doing';
COMMENT ON COLUMN spamhints.report_queue.first_ts IS 'its first item';
COMMENT ON COLUMN spamhints.report_queue.last_ts IS 'its last item';
COMMENT ON COLUMN spamhints.report_queue.samples IS 'its sampled packets';
COMMENT ON COLUMN spamhints.report_queue.est_packets IS 'their estimated real packets';
COMMENT ON COLUMN spamhints.report_queue.events IS 'its mail events';
COMMENT ON COLUMN spamhints.report_queue.items IS 'its items of evidence';
COMMENT ON COLUMN spamhints.report_queue.suppressed IS 'true when already reported with nothing new: no report';

COMMENT ON COLUMN spamhints.daily_figures.reports_produced IS 'reports spamhints.report() made that day (report_log.reported_at)';
COMMENT ON COLUMN spamhints.report_queue.minutes IS 'distinct minutes of the address''s sampled SMTP client packets in the period';
COMMENT ON COLUMN spamhints.report_queue.min_samples IS 'the sampled packets an address with traffic evidence only needs to be reported (the agreement''s min_samples, or the setting report_min_samples)';
COMMENT ON COLUMN spamhints.report_queue.min_minutes IS 'the distinct minutes it needs (the setting report_min_minutes)';

-- sql/parts/90_privileges.sql: two group roles, least privilege each.
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
--                      nor a view column that shows it (endpoint.smtp),
--                      nor a mail address or a text quoting one (senders,
--                      recipients, rejection reasons, reporters, reports).
--
-- Roles belong to the cluster, not to a database: they are created here only
-- when missing, NOLOGIN. An administrator grants them to login roles:
--   GRANT spamhints_loader TO abuse_loader;  GRANT spamhints_analyst TO alice;
-- DROP EXTENSION leaves them (other databases may use them).

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
                spamhints.maillog_load, spamhints.ip_assignment,
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
    -- and abuse reports (envelope sender and recipients, the reporter, and the
    -- texts that quote them: rejection reasons, reports sent and received),
    -- whatever columns the tables and views have by now
    FOREACH rel IN ARRAY ARRAY['spamhints.smtp_sample', 'spamhints.endpoint', 'spamhints.evidence',
                               'spamhints.mail_event', 'spamhints.report_log',
                               'spamhints.incoming_report'] LOOP
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
          INTO cols
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = rel::pg_catalog.regclass AND a.attnum > 0
           AND NOT a.attisdropped
           AND a.attname <> ALL (ARRAY['smtp', 'sender', 'recipients', 'message', 'reason',
                                        'reporter', 'original_mail_from', 'original_rcpt_to']);
        EXECUTE pg_catalog.format('GRANT SELECT (%s) ON %s TO spamhints_analyst', cols, rel);
    END LOOP;
END
$$;
