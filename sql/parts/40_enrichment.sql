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
