-- sql/parts/51_customers.sql: the ISP's customers, time-aware: who held which
-- address when.

CREATE TABLE spamhints.ip_assignment (
    customer_id  text NOT NULL CHECK (spamhints.plain_text(customer_id)),
    network      cidr NOT NULL,
    during       tstzrange NOT NULL DEFAULT tstzrange(NULL, NULL),
    CONSTRAINT ip_assignment_not_empty CHECK (NOT isempty(during)),
    -- an address belongs to one customer at a time; the GiST index behind
    -- the constraint also finds the holder of an address at a time
    CONSTRAINT ip_assignment_no_overlap
        EXCLUDE USING gist (network inet_ops WITH &&, during WITH &&)
);

COMMENT ON TABLE spamhints.ip_assignment IS
'The ISP''s own customers'' addresses over time: customer_id held network (an address or a prefix) during a time range. Dynamic addresses change hands, so a sample or mail event belongs to whoever held its address at its time; a static customer has an unbounded range (the default). Overlapping assignments of an address are refused (exclusion constraint on network && and during &&, GiST). Fill it with COPY, INSERT ... SELECT from your own table, or spamhints.replace_assignments(''your_view'') over a view or a postgres_fdw foreign table (README: "Customers").';
COMMENT ON COLUMN spamhints.ip_assignment.customer_id IS 'your customer reference (account number, contract): no names needed';
COMMENT ON COLUMN spamhints.ip_assignment.network IS 'the address (/32, /128) or prefix assigned';
COMMENT ON COLUMN spamhints.ip_assignment.during IS 'when it was assigned, [lease start, lease end); unbounded for a static assignment; times with their zone';

SELECT pg_catalog.pg_extension_config_dump('spamhints.ip_assignment', '');

CREATE FUNCTION spamhints.customer_at(ip inet, at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT a.customer_id FROM spamhints.ip_assignment a
    WHERE a.network >>= ip AND a.during @> at
$$;

COMMENT ON FUNCTION spamhints.customer_at(inet, timestamptz) IS
'The customer who held address ip at time at, or NULL: SELECT spamhints.customer_at(''192.0.2.7'', ''2007-03-14 10:15+00'').';

CREATE FUNCTION spamhints.replace_assignments(source regclass) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
DECLARE
    n bigint;
BEGIN
    -- readers see the old assignments until this transaction commits
    LOCK TABLE spamhints.ip_assignment IN EXCLUSIVE MODE;
    DELETE FROM spamhints.ip_assignment;
    EXECUTE format('INSERT INTO spamhints.ip_assignment (customer_id, network, during)
                    SELECT customer_id::text, network::cidr, coalesce(during::tstzrange, tstzrange(NULL, NULL))
                    FROM %s', source);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION spamhints.replace_assignments(regclass) IS
'Replaces every row of spamhints.ip_assignment with the rows of source, a table, view or foreign table (postgres_fdw) with columns customer_id, network and during (NULL during: static), in one transaction; returns the number of assignments. E.g. over your own lease table: CREATE VIEW crm_leases AS SELECT account AS customer_id, ip AS network, tstzrange(start, stop) AS during FROM crm.lease; SELECT spamhints.replace_assignments(''crm_leases'').';
