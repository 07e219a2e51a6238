-- sql/parts/15_collector.sql: live collection (spamhints-load --listen): what
-- the collector counted for each spool file it loaded.

-- What the collector counted while a spool file was open, on the load of the
-- file (columns of spamhints.load, so that a load and its counts are one row:
-- deleted, truncated, dumped and restored together). NULL for captures.
ALTER TABLE spamhints.load
    ADD COLUMN collector        text,
    ADD COLUMN spool_opened_at  timestamptz,
    ADD COLUMN spool_closed_at  timestamptz,
    ADD COLUMN received         bigint CHECK (received >= 0),
    ADD COLUMN refused          bigint CHECK (refused >= 0),
    ADD COLUMN kernel_dropped   bigint CHECK (kernel_dropped >= 0),
    ADD COLUMN recovered        boolean,
    ADD CONSTRAINT load_refused_of_received CHECK (refused <= received),
    ADD CONSTRAINT load_counts_of_collector CHECK (collector IS NOT NULL OR (received IS NULL AND refused IS NULL AND kernel_dropped IS NULL
                                         AND recovered IS NULL));

COMMENT ON COLUMN spamhints.load.collector IS 'spamhints-load --listen: the collector that loaded this spool file (host name and the addresses it listened on); NULL for a capture loaded as a file';
COMMENT ON COLUMN spamhints.load.spool_opened_at IS 'spamhints-load --listen: when the spool file was opened; NULL when recovered';
COMMENT ON COLUMN spamhints.load.spool_closed_at IS 'spamhints-load --listen: when the spool file was closed (its last datagram arrived before); NULL when recovered';
COMMENT ON COLUMN spamhints.load.received IS 'spamhints-load --listen: UDP datagrams read from the sockets while the spool file was open, from any sender; received - refused = frames; NULL when recovered';
COMMENT ON COLUMN spamhints.load.refused IS 'spamhints-load --listen: of those, from senders not in --agents: counted, not spooled, not loaded; NULL when recovered';
COMMENT ON COLUMN spamhints.load.kernel_dropped IS 'spamhints-load --listen: datagrams the kernel dropped at the sockets for want of receive buffer (SO_RXQ_OVFL, /proc/net/udp) while the spool file was open, never received; NULL when recovered or not known';
COMMENT ON COLUMN spamhints.load.recovered IS 'spamhints-load --listen: true when the spool file was left open by a collector that stopped (a crash) and closed at the next start: it holds every datagram written whole, and what was only counted in memory is NULL';

-- The views an operator alerts on, collector_status and collector_agent, are
-- in 17_collector_views.sql: they count each datagram once (16_exactly_once.sql).
