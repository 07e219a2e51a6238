-- sql/parts/80_column_comments.sql: what each column of the tables, views and
-- materialized views means, for those not said where they are created
-- (\d+ shows them; the regression test 12_comments checks that none is missing).

COMMENT ON COLUMN spamhints.load.load_id IS 'the load''s number, from 1; smtp_sample.load_id and load_agent.load_id refer to it';
COMMENT ON COLUMN spamhints.load.file_name IS 'the capture file as given to spamhints-load (- for standard input)';
COMMENT ON COLUMN spamhints.load.sha256 IS 'SHA-256 of the capture''s bytes, lower-case hex: the same capture is never loaded twice';
COMMENT ON COLUMN spamhints.load.file_bytes IS 'size of the capture in bytes';
COMMENT ON COLUMN spamhints.load.started_at IS 'when the load started';
COMMENT ON COLUMN spamhints.load.finished_at IS 'when the load was complete (NULL only inside the loading transaction)';
COMMENT ON COLUMN spamhints.load.first_ts IS 'capture time of the first datagram';
COMMENT ON COLUMN spamhints.load.last_ts IS 'capture time of the last datagram';
COMMENT ON COLUMN spamhints.load.flow_samples IS 'sFlow flow samples decoded';
COMMENT ON COLUMN spamhints.load.counter_samples IS 'sFlow counter samples seen (not loaded)';
COMMENT ON COLUMN spamhints.load.smtp_rows IS 'rows added to spamhints.smtp_sample';
COMMENT ON COLUMN spamhints.load.smtp_ports IS 'the SMTP ports of the load (--ports; default {25}): a sample was kept when either port is one of them, and the views give roles by them';
COMMENT ON COLUMN spamhints.load.filter IS 'the filter the capture was read with: --filter''s BPF expression, or the default (udp port 6343, VLAN-tagged or not, "or UDP starting as sFlow, any port": a UDP payload that starts as an sFlow datagram); frames it did not take are counted in skipped as frame_filtered';
COMMENT ON COLUMN spamhints.load.loader_version IS 'version of spamhints-load that made the load';

COMMENT ON COLUMN spamhints.load_agent.configured_rate IS 'the sampling rate its flow samples say (sampling_rate), averaged over their sequence steps; NULL without two flow samples of one source';
COMMENT ON COLUMN spamhints.load_agent.effective_rate IS 'the rate it really sampled at: the steps of the sample pool (packets that could have been sampled) over the steps of the sample sequence number (samples made), per source (ifIndex), summed; flow samples lost in transit are in both steps; NULL without two flow samples of one source';
COMMENT ON COLUMN spamhints.load_agent.rate_samples IS 'the samples made over those steps (sum of sequence steps)';
COMMENT ON COLUMN spamhints.load_agent.sample_drops IS 'samples the agent dropped for want of resources over those steps (the drops counter''s steps)';
COMMENT ON COLUMN spamhints.agent_rate.load_id IS 'the load (spamhints.load)';
COMMENT ON COLUMN spamhints.agent_rate.agent IS 'the sFlow agent address, its sub-agents pooled';
COMMENT ON COLUMN spamhints.agent_rate.configured_rate IS 'the rate its flow samples say, the mean over its sample steps';
COMMENT ON COLUMN spamhints.agent_rate.effective_rate IS 'the rate it really sampled at: its sample pools'' steps over its sample steps';
COMMENT ON COLUMN spamhints.agent_rate.rate_samples IS 'the sample steps both rates were measured over';
COMMENT ON COLUMN spamhints.agent_rate.sample_drops IS 'samples it dropped for want of resources over those steps';
COMMENT ON COLUMN spamhints.agent_rate.factor IS 'what its samples'' sampling_rate is multiplied by in every estimate: spamhints.rate_factor(configured_rate, effective_rate, rate_samples)';
COMMENT ON COLUMN spamhints.load_agent.load_id IS 'the load (spamhints.load)';
COMMENT ON COLUMN spamhints.load_agent.agent IS 'the sFlow agent address (switch or router) of the datagrams';
COMMENT ON COLUMN spamhints.load_agent.sub_agent IS 'the sFlow sub-agent id (sFlow v5; 0 for v2 and v4, which have none)';
COMMENT ON COLUMN spamhints.load_agent.version IS 'sFlow version of its datagrams (2, 4 or 5)';
COMMENT ON COLUMN spamhints.load_agent.datagrams IS 'datagrams of this agent decoded whole';
COMMENT ON COLUMN spamhints.load_agent.malformed IS 'datagrams of this agent skipped as malformed';
COMMENT ON COLUMN spamhints.load_agent.first_seq IS 'the first datagram sequence number seen';
COMMENT ON COLUMN spamhints.load_agent.last_seq IS 'the last datagram sequence number seen';
COMMENT ON COLUMN spamhints.load_agent.lost IS 'datagrams lost in transit: the gaps where the datagram sequence number jumps forward; after a reset counting goes on from the new number, and nothing lost across a reset is counted';
COMMENT ON COLUMN spamhints.load_agent.resets IS 'times the datagram sequence number went back (an agent restart) by more than 64, or by less with the agent''s uptime back by more than 10 s: counted here, never as loss; a repeated number (a duplicate) is neither';

COMMENT ON COLUMN spamhints.smtp_sample.load_id IS 'the load (spamhints.load) that added the row';
COMMENT ON COLUMN spamhints.smtp_sample.dst_mac IS 'destination MAC of the sampled frame';
COMMENT ON COLUMN spamhints.smtp_sample.src_ip IS 'source address of the sampled packet';
COMMENT ON COLUMN spamhints.smtp_sample.dst_ip IS 'destination address of the sampled packet';
COMMENT ON COLUMN spamhints.smtp_sample.src_port IS 'TCP source port';
COMMENT ON COLUMN spamhints.smtp_sample.dst_port IS 'TCP destination port';

COMMENT ON COLUMN spamhints.mail_event.maillog_load_id IS 'the mail log load (spamhints.maillog_load) that added the row';
COMMENT ON COLUMN spamhints.mail_event.client_ip IS 'the address of the client that sent the message to our mail server';
COMMENT ON COLUMN spamhints.mail_event.client_port IS 'its TCP source port, when logged';

COMMENT ON COLUMN spamhints.maillog_load.maillog_load_id IS 'the mail log load''s number, from 1; mail_event.maillog_load_id refers to it';
COMMENT ON COLUMN spamhints.maillog_load.file_name IS 'the log file as given to spamhints-load (- for standard input)';
COMMENT ON COLUMN spamhints.maillog_load.sha256 IS 'SHA-256 of the log''s bytes, lower-case hex: unique with format, so the same log is never loaded twice as the same format';
COMMENT ON COLUMN spamhints.maillog_load.format IS 'exim or postfix (--maillog)';
COMMENT ON COLUMN spamhints.maillog_load.file_bytes IS 'size of the log file in bytes';
COMMENT ON COLUMN spamhints.maillog_load.file_mtime IS 'modification time of the log file';
COMMENT ON COLUMN spamhints.maillog_load.started_at IS 'when the load started';
COMMENT ON COLUMN spamhints.maillog_load.finished_at IS 'when the load was complete';
COMMENT ON COLUMN spamhints.maillog_load.first_ts IS 'time of the first event';
COMMENT ON COLUMN spamhints.maillog_load.last_ts IS 'time of the last event';
COMMENT ON COLUMN spamhints.maillog_load.loader_version IS 'version of spamhints-load that made the load';

COMMENT ON COLUMN spamhints.asn.asn IS 'AS number';
COMMENT ON COLUMN spamhints.asn.org IS 'the AS''s organisation name from the ASN database (NULL when it gave none)';

COMMENT ON COLUMN spamhints.agreement.agreement_id IS 'the agreement''s number; report_log.agreement_id refers to it';
COMMENT ON COLUMN spamhints.agreement.isp IS 'the ISP we report to';
COMMENT ON COLUMN spamhints.agreement.abuse_address IS 'where its reports go (its abuse mailbox)';
COMMENT ON COLUMN spamhints.agreement.asns IS 'its AS numbers: an address whose AS is one of them is its';
COMMENT ON COLUMN spamhints.agreement.networks IS 'its networks: an address in one of them is its';
COMMENT ON COLUMN spamhints.agreement.exclude IS 'networks left out of its reports, although in its ASes or networks';
COMMENT ON COLUMN spamhints.agreement.agreed_at IS 'from when it wants reports';
COMMENT ON COLUMN spamhints.agreement.withdrawn_at IS 'from when it no longer wants reports (NULL: still agreed)';

COMMENT ON COLUMN spamhints.report_log.report_log_id IS 'the report''s number';
COMMENT ON COLUMN spamhints.report_log.agreement_id IS 'the agreement (spamhints.agreement) it was made under';
COMMENT ON COLUMN spamhints.report_log.abuse_address IS 'the address it was made for';
COMMENT ON COLUMN spamhints.report_log.source_ip IS 'the address it reports';
COMMENT ON COLUMN spamhints.report_log.period IS 'the time range its evidence is from';
COMMENT ON COLUMN spamhints.report_log.diagnosis IS 'what the evidence says the address is doing (the report''s diagnosis lines)';
COMMENT ON COLUMN spamhints.report_log.items IS 'items of evidence it lists';
COMMENT ON COLUMN spamhints.report_log.reported_at IS 'when it was made';
COMMENT ON COLUMN spamhints.report_log.message_id IS 'the Message-ID of its message';

COMMENT ON COLUMN spamhints.incoming_report.incoming_report_id IS 'the received report''s number';
COMMENT ON COLUMN spamhints.incoming_report.feedback_type IS 'ARF Feedback-Type (abuse, fraud, virus, ...)';
COMMENT ON COLUMN spamhints.incoming_report.user_agent IS 'ARF User-Agent: the reporters software';
COMMENT ON COLUMN spamhints.incoming_report.source_port IS 'the reported connections source port, when given';
COMMENT ON COLUMN spamhints.incoming_report.arrival_date IS 'ARF Arrival-Date: when the reported mail arrived';
COMMENT ON COLUMN spamhints.incoming_report.incidents IS 'ARF Incidents: how many such messages the report stands for';
COMMENT ON COLUMN spamhints.incoming_report.original_mail_from IS 'ARF Original-Mail-From: the reported mails envelope sender; personal data';
COMMENT ON COLUMN spamhints.incoming_report.original_rcpt_to IS 'ARF Original-Rcpt-To: its envelope recipients; personal data';
COMMENT ON COLUMN spamhints.incoming_report.reported_domain IS 'ARF Reported-Domain: the domains the report names';

COMMENT ON COLUMN spamhints.packet_stats.smtp_packets IS 'sampled SMTP packets of all loads (rows of smtp_sample)';
COMMENT ON COLUMN spamhints.packet_stats.syn IS 'of them, SYN set and ACK clear (connection attempts)';
COMMENT ON COLUMN spamhints.packet_stats.syn_ack IS 'SYN and ACK set (accepted connections)';
COMMENT ON COLUMN spamhints.packet_stats.rst IS 'RST set (reset connections)';
COMMENT ON COLUMN spamhints.packet_stats.fin IS 'FIN set (closed connections)';
COMMENT ON COLUMN spamhints.packet_stats.syn_pct IS 'syn in percent of smtp_packets (NULL with no packet)';
COMMENT ON COLUMN spamhints.packet_stats.syn_ack_pct IS 'syn_ack in percent of smtp_packets';
COMMENT ON COLUMN spamhints.packet_stats.rst_pct IS 'rst in percent of smtp_packets';
COMMENT ON COLUMN spamhints.packet_stats.fin_pct IS 'fin in percent of smtp_packets';
COMMENT ON COLUMN spamhints.packet_stats.est_packets IS 'estimated real packets: the sum of the sampling rates, each times its agent''s factor (spamhints.agent_rate)';
COMMENT ON COLUMN spamhints.packet_stats.est_packets_low IS 'lower 95% bound of est_packets: spamhints.est_low(smtp_packets, est_packets)';
COMMENT ON COLUMN spamhints.packet_stats.est_packets_high IS 'upper 95% bound of est_packets: spamhints.est_high(smtp_packets, est_packets) (NULL with no packet)';
COMMENT ON COLUMN spamhints.packet_stats.syn_pct_low IS 'lower bound of Wilson''s 95% interval of syn_pct, in percent';
COMMENT ON COLUMN spamhints.packet_stats.syn_pct_high IS 'upper bound of Wilson''s 95% interval of syn_pct, in percent';
COMMENT ON COLUMN spamhints.packet_stats.syn_ack_pct_low IS 'lower bound of Wilson''s 95% interval of syn_ack_pct';
COMMENT ON COLUMN spamhints.packet_stats.syn_ack_pct_high IS 'upper bound of Wilson''s 95% interval of syn_ack_pct';
COMMENT ON COLUMN spamhints.packet_stats.rst_pct_low IS 'lower bound of Wilson''s 95% interval of rst_pct';
COMMENT ON COLUMN spamhints.packet_stats.rst_pct_high IS 'upper bound of Wilson''s 95% interval of rst_pct';
COMMENT ON COLUMN spamhints.packet_stats.fin_pct_low IS 'lower bound of Wilson''s 95% interval of fin_pct';
COMMENT ON COLUMN spamhints.packet_stats.fin_pct_high IS 'upper bound of Wilson''s 95% interval of fin_pct';

COMMENT ON COLUMN spamhints.ip_census.ips IS 'distinct addresses seen in an SMTP role';
COMMENT ON COLUMN spamhints.ip_census.client_only IS 'of them, only ever a client';
COMMENT ON COLUMN spamhints.ip_census.server_only IS 'only ever a server';
COMMENT ON COLUMN spamhints.ip_census."both" IS 'both a client and a server';

COMMENT ON COLUMN spamhints.endpoint.ip IS 'the address this row looks from';
COMMENT ON COLUMN spamhints.endpoint.peer IS 'the other end of the sample';
COMMENT ON COLUMN spamhints.endpoint.role IS 'what this sample makes ip: client, server or both (compares with text: role = server)';
COMMENT ON COLUMN spamhints.endpoint.side IS 'src when ip is the samples source, dst when its destination';
COMMENT ON COLUMN spamhints.endpoint.port IS 'ip''s port';
COMMENT ON COLUMN spamhints.endpoint.peer_port IS 'peer''s port';
COMMENT ON COLUMN spamhints.endpoint.asn IS 'AS of ip (enrichment)';
COMMENT ON COLUMN spamhints.endpoint.cc IS 'country of ip (enrichment)';
COMMENT ON COLUMN spamhints.endpoint.peer_asn IS 'AS of peer (enrichment)';
COMMENT ON COLUMN spamhints.endpoint.gw_as IS 'AS of ip from the sFlow extended gateway record, as the router saw it (gw_src_as or gw_dst_as of the sample)';
COMMENT ON COLUMN spamhints.endpoint.peer_cc IS 'country of peer (enrichment)';
COMMENT ON COLUMN spamhints.endpoint.ts IS 'capture time of the sample';
COMMENT ON COLUMN spamhints.endpoint.sampling_rate IS 'one packet in sampling_rate was sampled';
COMMENT ON COLUMN spamhints.endpoint.tcp_flags IS 'raw TCP flags byte of the sample';
COMMENT ON COLUMN spamhints.endpoint.ip_len IS 'IP packet length';
COMMENT ON COLUMN spamhints.endpoint.ttl IS 'IPv4 TTL or IPv6 hop limit';
COMMENT ON COLUMN spamhints.endpoint.smtp IS 'SMTP command verb or reply code at the start of the payload (analysts may not read it)';
COMMENT ON COLUMN spamhints.endpoint.agent IS 'the sFlow agent that sampled it';
COMMENT ON COLUMN spamhints.endpoint.load_id IS 'the load of the sample';
COMMENT ON COLUMN spamhints.endpoint.frame IS 'position of its datagram in the capture: with load_id, the evidence';

COMMENT ON COLUMN spamhints.client_as_top.rank IS 'rank by clients, 1 first; ties share a rank';
COMMENT ON COLUMN spamhints.client_as_top.asn IS 'the AS of the addresses: from the ASN database, else from the sFlow gateway record (as_source)';
COMMENT ON COLUMN spamhints.client_as_top.as_source IS 'where asn comes from: mmdb (the ASN database, enrichment), sflow gateway (gw_src_as/gw_dst_as of loads without enrichment), or mmdb, sflow gateway (some addresses each way)';
COMMENT ON COLUMN spamhints.client_as_top.as_org IS 'its organisation from spamhints.asn (NULL when absent)';
COMMENT ON COLUMN spamhints.client_as_top.country IS 'the country of most of its addresses';
COMMENT ON COLUMN spamhints.client_as_top.clients IS 'its addresses that were only ever clients';
COMMENT ON COLUMN spamhints.client_as_top.servers IS 'only ever servers';
COMMENT ON COLUMN spamhints.client_as_top."both" IS 'both';
COMMENT ON COLUMN spamhints.client_as_top.ips IS 'all its addresses in an SMTP role';

COMMENT ON COLUMN spamhints.client_cc_top.rank IS 'rank by clients, 1 first; ties share a rank';
COMMENT ON COLUMN spamhints.client_cc_top.country IS 'ISO 3166 country code of the addresses';
COMMENT ON COLUMN spamhints.client_cc_top.clients IS 'its addresses that were only ever clients';
COMMENT ON COLUMN spamhints.client_cc_top.servers IS 'only ever servers';
COMMENT ON COLUMN spamhints.client_cc_top."both" IS 'both';
COMMENT ON COLUMN spamhints.client_cc_top.ips IS 'all its addresses in an SMTP role';

COMMENT ON COLUMN spamhints.settings.name IS 'the setting, as spamhints.NAME';
COMMENT ON COLUMN spamhints.settings.value IS 'its value in this session';
COMMENT ON COLUMN spamhints.settings."default" IS 'its value when not set';
COMMENT ON COLUMN spamhints.settings.description IS 'what it does';

COMMENT ON COLUMN spamhints.customer_sender.customer_id IS 'the customer (spamhints.ip_assignment)';
COMMENT ON COLUMN spamhints.customer_sender.addresses IS 'its distinct addresses seen as SMTP clients';
COMMENT ON COLUMN spamhints.customer_sender.first_seen IS 'first such sample';
COMMENT ON COLUMN spamhints.customer_sender.last_seen IS 'last such sample';
COMMENT ON COLUMN spamhints.customer_sender.samples IS 'sampled SMTP client packets';
COMMENT ON COLUMN spamhints.customer_sender.est_packets IS 'their estimated real packets (sum of sampling rates, each times its agent''s factor: spamhints.agent_rate)';
COMMENT ON COLUMN spamhints.customer_sender.est_packets_low IS 'lower 95% bound of est_packets: spamhints.est_low(samples, est_packets)';
COMMENT ON COLUMN spamhints.customer_sender.est_packets_high IS 'upper 95% bound of est_packets: spamhints.est_high(samples, est_packets)';
COMMENT ON COLUMN spamhints.customer_sender.servers IS 'distinct destinations (mail servers) they sent to';
COMMENT ON COLUMN spamhints.customer_sender.hourly IS 'the samples by hour of day (hist24, session TimeZone; chart(hourly) draws it)';
COMMENT ON COLUMN spamhints.customer_sender.caught IS 'whether our mail logs caught it sending spam or viruses';
COMMENT ON COLUMN spamhints.customer_sender.caught_spam IS 'its spam events in our mail logs';
COMMENT ON COLUMN spamhints.customer_sender.caught_virus IS 'its virus events in our mail logs';
COMMENT ON COLUMN spamhints.customer_sender.last_caught IS 'time of its last such event';

COMMENT ON COLUMN spamhints.customers_caught_per_day.day IS 'the UTC day';
COMMENT ON COLUMN spamhints.customers_caught_per_day.customers IS 'distinct customers whose addresses sent spam or viruses to our mail servers';
COMMENT ON COLUMN spamhints.customers_caught_per_day.spam_customers IS 'of them, those that sent spam';
COMMENT ON COLUMN spamhints.customers_caught_per_day.virus_customers IS 'those that sent viruses';
COMMENT ON COLUMN spamhints.customers_caught_per_day.new_customers IS 'those caught for the first time that day';

COMMENT ON COLUMN spamhints.detections_per_day.day IS 'the UTC day';
COMMENT ON COLUMN spamhints.detections_per_day.spam IS 'mail events with verdict spam';
COMMENT ON COLUMN spamhints.detections_per_day.virus IS 'with verdict virus';
COMMENT ON COLUMN spamhints.detections_per_day.rejected IS 'with verdict rejected';
COMMENT ON COLUMN spamhints.detections_per_day.clean IS 'with verdict clean';
COMMENT ON COLUMN spamhints.detections_per_day.spam_sources IS 'distinct client addresses that sent spam';
COMMENT ON COLUMN spamhints.detections_per_day.virus_sources IS 'distinct client addresses that sent viruses';

COMMENT ON COLUMN spamhints.incoming_reports_per_day.day IS 'the UTC day of receipt';
COMMENT ON COLUMN spamhints.incoming_reports_per_day.reports IS 'abuse reports received';
COMMENT ON COLUMN spamhints.incoming_reports_per_day.addresses IS 'distinct addresses they were about';
COMMENT ON COLUMN spamhints.incoming_reports_per_day.reporters IS 'distinct reporters';

COMMENT ON COLUMN spamhints.evidence.source_ip IS 'the address the evidence is about';
COMMENT ON COLUMN spamhints.evidence.kind IS 'traffic, server, spam, virus or rejected';
COMMENT ON COLUMN spamhints.evidence.ts IS 'when';
COMMENT ON COLUMN spamhints.evidence.source_port IS 'its port';
COMMENT ON COLUMN spamhints.evidence.peer IS 'the other end (traffic, server)';
COMMENT ON COLUMN spamhints.evidence.peer_port IS 'the other end''s port';
COMMENT ON COLUMN spamhints.evidence.asn IS 'AS of source_ip (enrichment, else the sFlow gateways source AS)';
COMMENT ON COLUMN spamhints.evidence.sampling_rate IS 'the sample''s sampling rate (samples)';
COMMENT ON COLUMN spamhints.evidence.tcp_flags IS 'the sample''s TCP flags byte';
COMMENT ON COLUMN spamhints.evidence.smtp IS 'the sample''s SMTP verb or reply code';
COMMENT ON COLUMN spamhints.evidence.mail_host IS 'our mail server that logged the event (events)';
COMMENT ON COLUMN spamhints.evidence.client_name IS 'the client''s reverse DNS name as logged';
COMMENT ON COLUMN spamhints.evidence.helo IS 'the HELO/EHLO name it gave';
COMMENT ON COLUMN spamhints.evidence.size IS 'message size in bytes';
COMMENT ON COLUMN spamhints.evidence.sender IS 'envelope sender; personal data';
COMMENT ON COLUMN spamhints.evidence.recipients IS 'envelope recipients; personal data';
COMMENT ON COLUMN spamhints.evidence.verdict IS 'the event''s verdict';
COMMENT ON COLUMN spamhints.evidence.virus IS 'the virus name';
COMMENT ON COLUMN spamhints.evidence.spam_score IS 'the SpamAssassin score';
COMMENT ON COLUMN spamhints.evidence.reason IS 'what the MTA or filter said';
COMMENT ON COLUMN spamhints.evidence.log_timezone IS 'the time zone the log''s times were read in';
COMMENT ON COLUMN spamhints.evidence.ref IS 'where the item comes from: load and frame, or mail log load and line';
COMMENT ON COLUMN spamhints.evidence.est_rate IS 'the packets the sample stands for: sampling_rate times its agent''s factor (spamhints.agent_rate); NULL for mail events';

COMMENT ON COLUMN spamhints.daily_figures.day IS 'the UTC day';
COMMENT ON COLUMN spamhints.daily_figures.samples IS 'sampled SMTP packets';
COMMENT ON COLUMN spamhints.daily_figures.est_packets IS 'their estimated real packets';
COMMENT ON COLUMN spamhints.daily_figures.client_addresses IS 'distinct addresses seen as SMTP clients';
COMMENT ON COLUMN spamhints.daily_figures.customer_senders IS 'our customers seen sending mail directly';
COMMENT ON COLUMN spamhints.daily_figures.spam IS 'spam mail events';
COMMENT ON COLUMN spamhints.daily_figures.virus IS 'virus mail events';
COMMENT ON COLUMN spamhints.daily_figures.rejected IS 'rejected mail events';
COMMENT ON COLUMN spamhints.daily_figures.customers_caught IS 'customers caught by the mail logs';
COMMENT ON COLUMN spamhints.daily_figures.new_customers_caught IS 'of them, caught for the first time';
COMMENT ON COLUMN spamhints.daily_figures.incoming_reports IS 'abuse reports received';
COMMENT ON COLUMN spamhints.daily_figures.reports_sent IS 'reports made (spamhints.report_log)';

COMMENT ON COLUMN spamhints.report_queue.period IS 'the day the evidence is from';
COMMENT ON COLUMN spamhints.report_queue.as_of IS 'when spamhints.refresh() computed the row';
COMMENT ON COLUMN spamhints.report_queue.agreement_id IS 'the agreement (spamhints.agreement)';
COMMENT ON COLUMN spamhints.report_queue.isp IS 'the ISP';
COMMENT ON COLUMN spamhints.report_queue.abuse_address IS 'where the report goes';
COMMENT ON COLUMN spamhints.report_queue.source_ip IS 'the address to report';
COMMENT ON COLUMN spamhints.report_queue.asn IS 'its AS';
COMMENT ON COLUMN spamhints.report_queue.evidence IS 'the kinds of evidence: traffic, server, spam, virus, rejected';
COMMENT ON COLUMN spamhints.report_queue.new_evidence IS 'the kinds not reported to this ISP for this address within the suppression window';
COMMENT ON COLUMN spamhints.report_queue.diagnosis IS 'what the evidence says the address is doing';
COMMENT ON COLUMN spamhints.report_queue.first_ts IS 'its first item';
COMMENT ON COLUMN spamhints.report_queue.last_ts IS 'its last item';
COMMENT ON COLUMN spamhints.report_queue.samples IS 'its sampled packets';
COMMENT ON COLUMN spamhints.report_queue.est_packets IS 'their estimated real packets (sum of sampling rates, each times its agent''s factor: spamhints.agent_rate)';
COMMENT ON COLUMN spamhints.report_queue.events IS 'its mail events';
COMMENT ON COLUMN spamhints.report_queue.items IS 'its items of evidence';
COMMENT ON COLUMN spamhints.report_queue.suppressed IS 'true when already reported with nothing new: no report';

COMMENT ON COLUMN spamhints.daily_figures.reports_produced IS 'reports spamhints.report() made that day (report_log.reported_at)';
COMMENT ON COLUMN spamhints.report_queue.minutes IS 'distinct minutes of the address''s sampled SMTP client packets in the period';
COMMENT ON COLUMN spamhints.report_queue.min_samples IS 'the sampled packets an address with traffic evidence only needs to be reported (the agreement''s min_samples, or the setting report_min_samples)';
COMMENT ON COLUMN spamhints.report_queue.min_minutes IS 'the distinct minutes it needs (the setting report_min_minutes)';

COMMENT ON COLUMN spamhints.daily_figures.est_packets_low IS 'lower 95% bound of est_packets: spamhints.est_low(samples, est_packets)';
COMMENT ON COLUMN spamhints.daily_figures.est_packets_high IS 'upper 95% bound of est_packets: spamhints.est_high(samples, est_packets) (NULL on a day without samples)';
COMMENT ON COLUMN spamhints.report_queue.est_packets_low IS 'lower 95% bound of est_packets: spamhints.est_low(samples, est_packets)';
COMMENT ON COLUMN spamhints.report_queue.est_packets_high IS 'upper 95% bound of est_packets: spamhints.est_high(samples, est_packets) (NULL without sampled packets)';
