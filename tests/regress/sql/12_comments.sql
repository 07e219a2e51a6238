-- 12_comments: every column of every table, view and materialized view of
-- the extension has a COMMENT (\d+ explains it), from the catalog, so that a
-- new column cannot come without one. Expected: no row. (A partition's
-- columns are its parent's: smtp_sample_default, the day partitions.)
CREATE EXTENSION IF NOT EXISTS spamhints;
SELECT c.relname, a.attname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'spamhints'::regnamespace
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND coalesce(pg_catalog.col_description(c.oid, a.attnum), '') = ''
ORDER BY 1, 2;
-- and every table, view and materialized view itself
SELECT c.relname
FROM pg_catalog.pg_class c
WHERE c.relnamespace = 'spamhints'::regnamespace
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '') = ''
ORDER BY 1;
