-- tests/lib/extension_objects.sql: every object of the installed spamhints
-- extension with its definition, one sorted line each, so that two
-- databases can be compared with diff (tests/e2e/upgrade.sh: an updated
-- install against a fresh one). Names, not OIDs; privileges sorted.
\pset format unaligned
\pset tuples_only on
WITH ext AS (
    SELECT oid FROM pg_extension WHERE extname = 'spamhints'
), member AS (
    SELECT d.classid, d.objid
    FROM pg_depend d, ext
    WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), acl(kind, oid, text) AS (
    SELECT 'rel', c.oid, string_agg(a.grantee::regrole || ':' || a.privilege_type || ':' || a.is_grantable, ' '
                                   ORDER BY a.grantee::regrole::text, a.privilege_type)
    FROM pg_class c, aclexplode(c.relacl) a GROUP BY c.oid
    UNION ALL
    SELECT 'proc', p.oid, string_agg(a.grantee::regrole || ':' || a.privilege_type, ' '
                                    ORDER BY a.grantee::regrole::text, a.privilege_type)
    FROM pg_proc p, aclexplode(p.proacl) a GROUP BY p.oid
), line AS (
    -- functions and procedures: their whole definition; aggregates: their parts
    SELECT 'function ' || p.oid::regprocedure::text || E'\n' ||
           CASE WHEN p.prokind = 'a' THEN
                (SELECT format('aggregate kind=%s trans=%s final=%s combine=%s serial=%s deserial=%s stype=%s init=%s parallel=%s',
                               a.aggkind, a.aggtransfn::regprocedure, a.aggfinalfn, a.aggcombinefn, a.aggserialfn,
                               a.aggdeserialfn, a.aggtranstype::regtype, a.agginitval, p.proparallel)
                 FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
                ELSE pg_get_functiondef(p.oid) END ||
           E'\n  acl ' || coalesce((SELECT text FROM acl WHERE kind = 'proc' AND oid = p.oid), '-') ||
           E'\n  comment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
    FROM member m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
    UNION ALL
    -- relations: kind, columns in order, constraints, indexes, triggers, policies, options, privileges, comments
    SELECT format('relation %s kind=%s persistence=%s rls=%s/%s options=%s', c.oid::regclass, c.relkind, c.relpersistence,
                  c.relrowsecurity, c.relforcerowsecurity, c.reloptions) ||
           coalesce(E'\n  partition key ' || pg_get_partkeydef(c.oid), '') ||
           coalesce(E'\n  view ' || CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, '') ||
           coalesce((SELECT string_agg(format(E'\n  column %s %s%s%s%s comment %s', a.attname, format_type(a.atttypid, a.atttypmod),
                                              CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                                              CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END,
                                              coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), ''),
                                              coalesce(col_description(c.oid, a.attnum), '-')), '' ORDER BY a.attnum)
                     FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') ||
           coalesce((SELECT string_agg(E'\n  constraint ' || co.conname || ' ' || pg_get_constraintdef(co.oid), '' ORDER BY co.conname)
                     FROM pg_constraint co WHERE co.conrelid = c.oid), '') ||
           coalesce((SELECT string_agg(E'\n  index ' || pg_get_indexdef(i.indexrelid), '' ORDER BY 1)
                     FROM pg_index i WHERE i.indrelid = c.oid), '') ||
           coalesce((SELECT string_agg(E'\n  trigger ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text, '' ORDER BY t.tgname)
                     FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal), '') ||
           coalesce((SELECT string_agg(format(E'\n  policy %s %s %s to %s using %s check %s', po.polname, po.polcmd, po.polpermissive,
                                              po.polroles::regrole[], pg_get_expr(po.polqual, po.polrelid),
                                              pg_get_expr(po.polwithcheck, po.polrelid)), '' ORDER BY po.polname)
                     FROM pg_policy po WHERE po.polrelid = c.oid), '') ||
           coalesce((SELECT string_agg(format(E'\n  column acl %s %s', a.attname, a.attacl), '' ORDER BY a.attnum)
                     FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL), '') ||
           E'\n  acl ' || coalesce((SELECT text FROM acl WHERE kind = 'rel' AND oid = c.oid), '-') ||
           E'\n  comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-') ||
           coalesce(E'\n  config dump ' || (SELECT coalesce(e.extcondition[array_position(e.extconfig, c.oid)], '')
                                             FROM pg_extension e WHERE e.extname = 'spamhints' AND c.oid = ANY (e.extconfig)), '')
    FROM member m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
    UNION ALL
    -- types: their kind, I/O, storage; composite types' columns come with their relation
    SELECT format('type %s type=%s len=%s byval=%s align=%s storage=%s in=%s out=%s recv=%s send=%s category=%s comment %s',
                  t.oid::regtype, t.typtype, t.typlen, t.typbyval, t.typalign, t.typstorage, t.typinput, t.typoutput,
                  t.typreceive, t.typsend, t.typcategory, coalesce(obj_description(t.oid, 'pg_type'), '-')) ||
           coalesce((SELECT E'\n  enum ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '') ||
           coalesce(E'\n  domain ' || (SELECT string_agg(pg_get_constraintdef(co.oid), ' ' ORDER BY co.conname)
                                        FROM pg_constraint co WHERE co.contypid = t.oid), '')
    FROM member m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
    UNION ALL
    SELECT format('operator %s code=%s commutator=%s negator=%s restrict=%s join=%s hashes=%s merges=%s comment %s',
                  o.oid::regoperator, o.oprcode, o.oprcom::regoperator, o.oprnegate::regoperator, o.oprrest, o.oprjoin,
                  o.oprcanhash, o.oprcanmerge, coalesce(obj_description(o.oid, 'pg_operator'), '-'))
    FROM member m JOIN pg_operator o ON m.classid = 'pg_operator'::regclass AND o.oid = m.objid
    UNION ALL
    SELECT format('operator class %s for %s using %s default=%s', oc.opcname, oc.opcintype::regtype, am.amname, oc.opcdefault) ||
           coalesce((SELECT string_agg(format(E'\n  operator %s %s', ao.amopstrategy, ao.amopopr::regoperator), '' ORDER BY ao.amopstrategy)
                     FROM pg_amop ao WHERE ao.amopfamily = oc.opcfamily), '') ||
           coalesce((SELECT string_agg(format(E'\n  function %s %s', ap.amprocnum, ap.amproc::regprocedure), '' ORDER BY ap.amprocnum)
                     FROM pg_amproc ap WHERE ap.amprocfamily = oc.opcfamily), '')
    FROM member m JOIN pg_opclass oc ON m.classid = 'pg_opclass'::regclass AND oc.oid = m.objid
    JOIN pg_am am ON am.oid = oc.opcmethod
    UNION ALL
    SELECT format('operator family %s using %s', f.opfname, am.amname)
    FROM member m JOIN pg_opfamily f ON m.classid = 'pg_opfamily'::regclass AND f.oid = m.objid
    JOIN pg_am am ON am.oid = f.opfmethod
    UNION ALL
    SELECT format('cast %s -> %s function %s context %s method %s', ca.castsource::regtype, ca.casttarget::regtype,
                  ca.castfunc::regprocedure, ca.castcontext, ca.castmethod)
    FROM member m JOIN pg_cast ca ON m.classid = 'pg_cast'::regclass AND ca.oid = m.objid
    UNION ALL
    -- anything else: at least its identity, so an object missing on one side shows
    SELECT 'other ' || (pg_identify_object(m.classid, m.objid, 0)).type || ' ' || (pg_identify_object(m.classid, m.objid, 0)).identity
    FROM member m
    WHERE m.classid NOT IN ('pg_proc'::regclass, 'pg_class'::regclass, 'pg_type'::regclass, 'pg_operator'::regclass,
                            'pg_opclass'::regclass, 'pg_opfamily'::regclass, 'pg_cast'::regclass)
)
SELECT l FROM line AS t(l) ORDER BY l COLLATE "C";
