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
