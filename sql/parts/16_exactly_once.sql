-- sql/parts/16_exactly_once.sql: every sFlow datagram loaded once, whatever
-- file carries it (a pcapng copy, an overlapping capture, a datagram repeated
-- in one file, a spool file loaded again, a second collector).
--
-- A datagram is identified by its agent, sub-agent, sequence number, uptime
-- and the agent's run (boot): the loader tells runs apart by the datagrams'
-- own sequence numbers and uptimes, and places each run's boot at the
-- capture time less the uptime, the same boot within 10 seconds (clocks
-- drift, datagrams queue). Each load keeps, per agent run, the sequence
-- numbers it took, as ranges, with the uptimes at their ends; the loader
-- asks for them at the first datagram of each agent in a file (under one
-- advisory lock per load transaction, spamhints.lock_datagrams()) and skips
-- the datagrams it finds there, counting them in load.known_datagrams.

ALTER TABLE spamhints.load
    ADD COLUMN known_datagrams bigint NOT NULL DEFAULT 0 CHECK (known_datagrams >= 0);

COMMENT ON COLUMN spamhints.load.known_datagrams IS
'of the datagrams decoded whole, those already loaded (the same agent, sub-agent, sequence number and agent boot: by an earlier load, or earlier in this file): skipped, nothing of them added again (spamhints.load_seqs); 0 for loads made before 0.2';

-- The span of the uptimes of a load_seqs row (its edges): what the row is
-- asked for by.
CREATE FUNCTION spamhints.edges_span(edges bigint[])
RETURNS int8range
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN cardinality(edges) > 0
                THEN (SELECT int8range(min(e), max(e), '[]') FROM unnest(edges) AS e) END;
END;

COMMENT ON FUNCTION spamhints.edges_span(bigint[]) IS
'The lowest to the highest of the uptimes in edges (ms), inclusive; NULL for none: spamhints.load_seqs.uptimes, made from its edges.';

CREATE TABLE spamhints.load_seqs (
    load_id    integer NOT NULL,
    agent      inet NOT NULL,
    sub_agent  bigint NOT NULL,
    boot       tstzrange NOT NULL CHECK (NOT isempty(boot)),
    seqs       int8multirange NOT NULL CHECK (NOT isempty(seqs)),
    edges      bigint[] NOT NULL DEFAULT '{}' CHECK (cardinality(edges) % 2 = 0),
    uptimes    int8range GENERATED ALWAYS AS (spamhints.edges_span(edges)) STORED,
    digests    bigint[] NOT NULL DEFAULT '{}' CHECK (cardinality(digests) % 2 = 0)
);

COMMENT ON TABLE spamhints.load_seqs IS
'The sFlow datagrams each load took, per agent, sub-agent and run of the agent (a boot): the sequence numbers as ranges (consecutive numbers collapse) and the uptimes of each range''s first and last datagram (edges). A datagram is known when an earlier row of its agent and sub-agent has its sequence number in a range whose uptimes fit its own (within 10 s), and that row''s boot is its run''s: within 10 seconds of its own boot estimate (capture time less uptime), or tied to its run because a datagram of the run has exactly the sequence number, uptime and bytes (digests) of one of the row''s range ends (the same datagrams received at other times: a replay of a capture, then the capture; not two datagrams that only share their numbers). spamhints-load skips it and counts it in spamhints.load.known_datagrams. The loader finds an agent''s runs from the datagrams'' own numbers (a run goes on while its sequence numbers and uptimes count on, modulo 2^32, so a sequence number or uptime that wraps goes on the same run; both starting again is a restart), so a replay that squeezes hours of capture into seconds is one run; a load keeps at most 64 runs of a sub-agent, datagrams past them are skipped and counted as packet_agent_runs. Rows go with their load (deleting or truncating a load, or truncating spamhints.smtp_sample, deletes them, so that the same datagrams can be loaded again); spamhints.purge() keeps them, as it keeps the loads.';
COMMENT ON COLUMN spamhints.load_seqs.load_id IS 'the load that took these datagrams';
COMMENT ON COLUMN spamhints.load_seqs.agent IS 'the sFlow agent address';
COMMENT ON COLUMN spamhints.load_seqs.sub_agent IS 'the sFlow sub-agent id (0 for v2 and v4)';
COMMENT ON COLUMN spamhints.load_seqs.boot IS 'the agent''s boot as the datagrams of this run place it (capture time less uptime, ms): the lowest and highest estimate within 10 s of its first datagram''s';
COMMENT ON COLUMN spamhints.load_seqs.seqs IS 'the datagram sequence numbers taken';
COMMENT ON COLUMN spamhints.load_seqs.edges IS 'the uptimes (ms) of the first and the last datagram of each range of seqs, in order: two per range; empty when not known (then any uptime fits)';
COMMENT ON COLUMN spamhints.load_seqs.digests IS 'the digests (XXH3 of the datagram''s bytes, as a signed bigint) of the same datagrams as edges, two per range: a datagram ties a replay''s boot to its run only when its digest is that of the range end too; empty when not known';
COMMENT ON COLUMN spamhints.load_seqs.uptimes IS 'the lowest to the highest of edges (ms; NULL when edges is empty), made from them (spamhints.edges_span): the hours of uptime the row is asked for by (spamhints.known_datagrams)';

-- the question of each file: an agent's rows of some hours of uptime
CREATE INDEX load_seqs_agent ON spamhints.load_seqs USING gist (agent inet_ops, uptimes);
CREATE INDEX load_seqs_load ON spamhints.load_seqs (load_id);

-- As for the samples (10_samples.sql): rows only for the caller's own
-- unfinished load, and none changed or deleted by the loader role.
ALTER TABLE spamhints.load_seqs
    ADD CONSTRAINT load_seqs_load_exists CHECK (spamhints.load_exists(load_id)) NOT VALID;
CREATE TRIGGER load_seqs_fence BEFORE UPDATE OR DELETE OR TRUNCATE ON spamhints.load_seqs
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_guard();

-- The rows go with their loads, by triggers rather than a foreign key, so
-- that TRUNCATE spamhints.load CASCADE and TRUNCATE spamhints.smtp_sample
-- work as before without naming them.
CREATE FUNCTION spamhints.load_seqs_gone()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, spamhints
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM spamhints.load_seqs;
    ELSE
        DELETE FROM spamhints.load_seqs s USING old_loads o WHERE s.load_id = o.load_id;
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION spamhints.load_seqs_gone() IS
'trigger AFTER DELETE and AFTER TRUNCATE on spamhints.load: deletes the datagram sequence numbers (spamhints.load_seqs) of the loads deleted, or all of them, so that the same datagrams can be loaded again';

CREATE TRIGGER load_delete_seqs AFTER DELETE ON spamhints.load
    REFERENCING OLD TABLE AS old_loads
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_seqs_gone();
CREATE TRIGGER load_truncated_seqs AFTER TRUNCATE ON spamhints.load
    FOR EACH STATEMENT EXECUTE FUNCTION spamhints.load_seqs_gone();

-- One advisory lock per load transaction, the same for every capture load:
-- two loads of overlapping datagrams cannot both take them, and no load
-- waits for another while holding part of what it needs (no deadlock; one
-- lock per agent exhausted the lock table with 65,536 agents in a file).
CREATE FUNCTION spamhints.lock_datagrams()
RETURNS boolean
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('spamhints.load_seqs'));
    SELECT EXISTS (SELECT FROM spamhints.load_seqs);
$$;

COMMENT ON FUNCTION spamhints.lock_datagrams() IS
'Takes the transaction-level advisory lock of datagram identities (hashtext(''spamhints.load_seqs''): held until the end of the transaction, one at a time) and says whether any load took datagrams yet (false: none can be known). spamhints-load calls it before its first spamhints.known_datagrams() of a load, and keeps the lock until its load_seqs rows are written and committed.';

CREATE FUNCTION spamhints.known_datagrams(agent inet, uptimes int8range)
RETURNS TABLE (sub_agent bigint, boot_low_ms bigint, boot_high_ms bigint, seq_low bigint, seq_high bigint,
               uptime_low_ms bigint, uptime_high_ms bigint, row_uptime_low_ms bigint, row_uptime_high_ms bigint,
               digest_low bigint, digest_high bigint)
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, spamhints
AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('spamhints.load_seqs'));
    SELECT s.sub_agent,
           (extract(epoch FROM lower(s.boot)) * 1000)::bigint,
           (extract(epoch FROM upper(s.boot)) * 1000)::bigint,
           lower(r.r), upper(r.r) - 1,
           CASE WHEN cardinality(s.edges) = 2 * n.ranges THEN s.edges[2 * r.i - 1] END,
           CASE WHEN cardinality(s.edges) = 2 * n.ranges THEN s.edges[2 * r.i] END,
           lower(s.uptimes), upper(s.uptimes) - 1,
           CASE WHEN cardinality(s.digests) = 2 * n.ranges THEN s.digests[2 * r.i - 1] END,
           CASE WHEN cardinality(s.digests) = 2 * n.ranges THEN s.digests[2 * r.i] END
      FROM spamhints.load_seqs s
     CROSS JOIN LATERAL (SELECT count(*) AS ranges FROM unnest(s.seqs)) n
     CROSS JOIN LATERAL unnest(s.seqs) WITH ORDINALITY AS r(r, i)
     WHERE s.agent = known_datagrams.agent
       AND (known_datagrams.uptimes IS NULL OR s.uptimes IS NULL OR s.uptimes && known_datagrams.uptimes)
     ORDER BY 1, 2, 3, 4;
$$;

COMMENT ON FUNCTION spamhints.known_datagrams(inet, int8range) IS
'The datagrams of an sFlow agent address, every sub-agent, that loads took (spamhints.load_seqs) in the uptimes given (ms; NULL: all): the rows whose uptimes overlap them (and those that recorded none). One row per sub-agent and range of sequence numbers, seq_low to seq_high inclusive, with the boot estimates of its run in ms since 1970 (boot_low_ms, boot_high_ms), the uptimes of the range''s first and last datagram (uptime_low_ms, uptime_high_ms; NULL when not known) the lowest and highest uptime of its load_seqs row (row_uptime_low_ms, row_uptime_high_ms), and the digests of the range''s first and last datagram (digest_low, digest_high; NULL when not known). spamhints-load asks by the hour of uptime its datagrams are in, so a file''s question costs the same after months of loads; by address rather than by sub-agent: one question for all the sub-agents of an agent (a sender that makes up sub-agents costs one). Takes the lock of spamhints.lock_datagrams() first.';

SELECT pg_catalog.pg_extension_config_dump('spamhints.load_seqs', '');
