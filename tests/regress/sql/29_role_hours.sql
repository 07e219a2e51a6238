-- tests/regress/sql/29_role_hours.sql: roles by UTC hour of day (role_hours,
-- hours_role, day_hours, whole_hours_from/to), against hand-computed bits.
SET search_path = spamhints, public;
SET TimeZone = 'America/New_York';   -- the hours are UTC whatever the session's zone
\set VERBOSITY terse
CREATE TEMP TABLE rh (role smtp_role, ts timestamptz);
INSERT INTO rh VALUES
    ('client', '2024-03-01 00:10+00'), ('client', '2024-03-01 00:50+00'),
    ('server', '2024-03-01 05:00+00'), ('both', '2024-03-01 23:59:59.999999+00'),
    (NULL, '2024-03-01 07:00+00'), ('client', NULL), ('server', 'infinity'),
    ('client', '1999-12-31 22:30+00');   -- before 2000: a negative timestamp inside
BEGIN;
SELECT plan(24);
-- bits: client hours 0, 22, 23; server hours 5, 23 (bit 24 + h)
SELECT is((SELECT role_hours(role, ts) FROM rh),
          (1::bigint << 0) | (1::bigint << 22) | (1::bigint << 23) | (1::bigint << 29) | (1::bigint << 47),
          'role_hours by hand: NULL role, NULL and infinite times skipped, UTC hours in another zone');
SELECT is((SELECT role_hours(role, ts) FROM rh WHERE false), 0::bigint, 'zero over no rows');
SELECT is((SELECT role_hours(role, ts) FROM rh WHERE ts < '2000-01-01+00'), 1::bigint << 22, 'an hour before 2000 (negative time)');
-- hours_role
SELECT is(hours_role((1::bigint << 3) | (1::bigint << 30), 16777215)::text, 'both', 'client at 3, server at 6: both over the day');
SELECT is(hours_role((1::bigint << 3) | (1::bigint << 30), 1 << 3)::text, 'client', '  client in hour 3');
SELECT is(hours_role((1::bigint << 3) | (1::bigint << 30), 1 << 6)::text, 'server', '  server in hour 6');
SELECT is(hours_role((1::bigint << 3) | (1::bigint << 30), 1 << 4), NULL, '  no role in hour 4');
SELECT is(hours_role(1::bigint << 30, -1)::text, 'server', 'a mask with every bit set is the whole day');
SELECT is(hours_role(0, 16777215), NULL, 'no role at all');
-- day_hours
SELECT is(day_hours('2024-03-01', '2024-03-01 06:00+00', '2024-03-01 09:00+00'), (1 << 6) | (1 << 7) | (1 << 8), 'hours 6, 7, 8');
SELECT is(day_hours('2024-03-01', '2024-03-01 06:00:01+00', '2024-03-01 09:00+00'), (1 << 7) | (1 << 8), 'hour 6 not whole in it');
SELECT is(day_hours('2024-03-01', '-infinity', 'infinity'), 16777215, 'infinite both ways: the whole day');
SELECT is(day_hours('2024-03-01', '2024-02-28', '2024-03-01 01:00+00'), 1, 'from the day before');
SELECT is(day_hours('2024-03-01', '2024-03-01 23:00+00', 'infinity'), 1 << 23, 'to infinity');
SELECT is(day_hours('2024-03-01', '2024-03-02', 'infinity'), 0, 'after the day: none');
SELECT is(day_hours('2024-03-01', '2024-03-01 10:00+00', '2024-03-01 10:00+00'), 0, 'an empty span: none');
SELECT is(day_hours('1999-12-31', '1999-12-31 22:00+00', '2000-01-01'), (1 << 22) | (1 << 23), 'a day before 2000');
SELECT throws_ok($$SELECT spamhints.day_hours('infinity', '-infinity', 'infinity')$$, '22008', NULL, 'an infinite day is 22008');
SELECT throws_ok($$SELECT spamhints.day_hours('5874897-12-31', '-infinity', 'infinity')$$, '22008', NULL, 'a day past the timestamps is 22008');
-- whole hours of a period
SELECT is(whole_hours_from('[2024-03-01 06:30+00,2024-03-02 13:15+00)'), '2024-03-01 07:00+00', 'whole hours from the next hour');
SELECT is(whole_hours_to('[2024-03-01 06:30+00,2024-03-02 13:15+00)'), '2024-03-02 13:00+00', '  to the last whole one');
SELECT is(whole_hours_from('(2024-03-01 06:00+00,)'), '2024-03-01 07:00+00', 'an exclusive bound on the hour skips that hour');
SELECT is(whole_hours_to('[2024-03-01 10:20+00,2024-03-01 10:40+00)'), '2024-03-01 11:00+00', 'none in a span within an hour: to is never before from');
SELECT is(ARRAY[whole_hours_from(NULL), whole_hours_to(NULL), whole_hours_from('empty'), whole_hours_to('empty')],
          ARRAY['-infinity', 'infinity', 'infinity', 'infinity']::timestamptz[], 'NULL is all time, empty is none');
SELECT * FROM finish();
ROLLBACK;
