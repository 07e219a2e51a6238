-- tests/regress/sql/00_setup.sql: the extension, for the tests after it.
CREATE EXTENSION spamhints;
SELECT extname, extversion = a.default_version AS default_version, nspname
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
JOIN pg_available_extensions a ON a.name = e.extname
WHERE extname = 'spamhints';

-- \dx+ and \df+ are the manual: every type, function, aggregate, operator,
-- table and view of the extension has a comment
SELECT pg_describe_object(d.classid, d.objid, 0) AS without_comment
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'spamhints')
  AND d.deptype = 'e'
  AND d.classid IN ('pg_proc'::regclass, 'pg_type'::regclass, 'pg_operator'::regclass, 'pg_class'::regclass)
  AND (d.classid <> 'pg_class'::regclass
       OR (SELECT relkind FROM pg_class WHERE oid = d.objid) IN ('r', 'v', 'm'))
  AND obj_description(d.objid, (SELECT relname FROM pg_class WHERE oid = d.classid)) IS NULL
ORDER BY 1;
