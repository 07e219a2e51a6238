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
'The role a sample gives its source address with SMTP port 25: client when dst_port is 25, server when src_port is 25, both when both are, NULL when neither is. A port outside 0..65535 is an error (22023).';
COMMENT ON FUNCTION spamhints.src_role(integer, integer, integer[]) IS
'The role a sample gives its source address for the SMTP port set ports (e.g. ''{25,465,587}''; NULL elements ignored): client when dst_port is in it, server when src_port is, both when both are, NULL when neither is. A port outside 0..65535 is an error (22023).';
COMMENT ON FUNCTION spamhints.dst_role(integer, integer) IS
'The role a sample gives its destination address with SMTP port 25: server when dst_port is 25, client when src_port is 25, both when both are, NULL when neither is. A port outside 0..65535 is an error (22023).';
COMMENT ON FUNCTION spamhints.dst_role(integer, integer, integer[]) IS
'The role a sample gives its destination address for the SMTP port set ports: server when dst_port is in it, client when src_port is, both when both are, NULL when neither is. A port outside 0..65535 is an error (22023).';
