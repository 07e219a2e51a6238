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

-- Charts as SVG, for a browser, a report page or a mail: bars with their
-- counts as tooltips, an axis scaled to the tallest bar, the exact total.

CREATE FUNCTION spamhints.svg_text(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN replace(replace(replace(replace(replace(
           regexp_replace(t, '[\x01-\x08\x0B\x0C\x0E-\x1F\x7F\uFFFE\uFFFF]', '', 'g'),
           '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');

COMMENT ON FUNCTION spamhints.svg_text(text) IS
'Text made safe inside an SVG (XML) element or attribute: & < > " '' escaped, and the characters XML 1.0 does not allow (C0 controls but tab and line ends, DEL, U+FFFE, U+FFFF) removed.';

CREATE FUNCTION spamhints.bars_svg(labels text[], counts bigint[], title text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n      integer := coalesce(cardinality(counts), 0);
    peak   bigint;
    total  numeric;
    bar    integer;                  -- width of a bar and its gap
    left_  constant integer := 64;   -- room for the axis labels
    top_   constant integer := 40;   -- room for the title
    plot_h constant integer := 180;  -- the height of the tallest bar
    width  integer;
    height constant integer := top_ + plot_h + 44;
    every  integer;                  -- a label every so many bars, so that they do not overlap
    out    text;
BEGIN
    IF labels IS NULL OR counts IS NULL THEN
        RETURN NULL;
    END IF;
    IF cardinality(labels) <> n THEN
        RAISE EXCEPTION 'bars_svg() needs as many labels as counts, not % and %', cardinality(labels), n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF n = 0 OR n > 2000 THEN
        RAISE EXCEPTION 'bars_svg() draws 1 to 2000 bars, not %', n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM unnest(counts) c WHERE c IS NULL OR c < 0) THEN
        RAISE EXCEPTION 'bars_svg() counts must be zero or more, not NULL or negative'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT max(c), sum(c) INTO peak, total FROM unnest(counts) c;
    bar := greatest(2, least(28, 720 / n));
    -- wide enough for the bars, the title (about 8 px a character) and the total
    width := greatest(left_ + n * bar + 16, left_ + 8 * length(coalesce(title, '')) + 16, 360);
    every := greatest(1, ceil((6 * (SELECT max(length(l)) FROM unnest(labels) l) + 6)::numeric / bar)::integer);

    out := format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-labelledby="t">',
                  width, height, width, height)
        || format('<title id="t">%s</title>', spamhints.svg_text(coalesce(title, 'counts')))
        || format('<rect width="%s" height="%s" fill="#ffffff"/>', width, height)
        || format('<text x="%s" y="24" font-family="sans-serif" font-size="15" fill="#000000">%s</text>',
                  left_, spamhints.svg_text(coalesce(title, '')))
        || format('<text x="%s" y="%s" font-family="sans-serif" font-size="11" fill="#444444">total %s, peak %s</text>',
                  left_, height - 6, total, peak)
        -- the axis: 0 and the peak
        || format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000"/>', left_ - 4, top_, left_ - 4, top_ + plot_h)
        || format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000"/>', left_ - 4, top_ + plot_h, left_ + n * bar, top_ + plot_h)
        || format('<text x="%s" y="%s" font-family="sans-serif" font-size="11" text-anchor="end">%s</text>', left_ - 8, top_ + 4, peak)
        || format('<text x="%s" y="%s" font-family="sans-serif" font-size="11" text-anchor="end">0</text>', left_ - 8, top_ + plot_h);
    -- a bar's height is its share of the peak (no bar at all for 0)
    out := out || coalesce((
        SELECT string_agg(
                   format('<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="#3366aa"><title>%s: %s</title></rect>',
                          left_ + (i - 1) * bar, top_ + plot_h - h, greatest(1, bar - 1), h,
                          spamhints.svg_text(coalesce(labels[i], '')), counts[i])
                   || CASE WHEN (i - 1) % every = 0 THEN
                          format('<text x="%s" y="%s" font-family="sans-serif" font-size="10" text-anchor="middle">%s</text>',
                                 left_ + (i - 1) * bar + bar / 2.0, top_ + plot_h + 14,
                                 spamhints.svg_text(coalesce(labels[i], '')))
                      ELSE '' END,
                   '' ORDER BY i)
        FROM (SELECT i, CASE WHEN peak = 0 THEN 0 ELSE round(counts[i] * plot_h::numeric / peak)::integer END AS h
              FROM generate_subscripts(counts, 1) i) b), '');
    RETURN out || '</svg>';
END
$$;

COMMENT ON FUNCTION spamhints.bars_svg(text[], bigint[], text) IS
'A bar chart as an SVG document: one bar per count (1 to 2000, zero or more each), labelled below (thinned when crowded), scaled to the tallest, its label and count as the bar''s tooltip, the total and the peak written out, title above. Text is escaped (svg_text). E.g. detections per day: SELECT bars_svg(array_agg(day::text ORDER BY day), array_agg(spam ORDER BY day), ''spam per day'') FROM spamhints.detections_per_day.';

-- not STRICT: a NULL title is the default one (a NULL h gives NULL)
CREATE FUNCTION spamhints.chart_svg(h spamhints.hist24, title text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN spamhints.bars_svg(ARRAY['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11',
                                '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23'],
                          spamhints.hist24_to_array(h), coalesce(title, 'samples by hour of day'));

COMMENT ON FUNCTION spamhints.chart_svg(spamhints.hist24, text) IS
'An hour-of-day chart as SVG (bars_svg with the hours 0 to 23): SELECT chart_svg(hourly(ts), ''192.0.2.1 by hour'') FROM spamhints.endpoint WHERE ip = ''192.0.2.1''. The SVG twin of chart().';
