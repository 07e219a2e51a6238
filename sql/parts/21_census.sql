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
