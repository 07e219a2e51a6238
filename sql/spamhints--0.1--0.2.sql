-- sql/spamhints--0.1--0.2.sql: ALTER EXTENSION spamhints UPDATE from 0.1 to 0.2.
-- After it, an installed 0.1 is what a fresh CREATE EXTENSION of 0.2 makes,
-- object for object (tests/e2e/upgrade.sh compares the two, and their views'
-- answers on the same data). Each change here mirrors one in sql/parts/.
\echo Use "ALTER EXTENSION spamhints UPDATE TO '0.2'" to load this file. \quit
