/*
 * loader/main.c: spamhints-load, sFlow captures into PostgreSQL.
 *
 * Data flows one way: capture (capture.c, libpcap) -> sFlow decode (sflow.c)
 * -> packet header parse (packet.c) -> SMTP filter (smtp.c) -> enrichment
 * (enrich.c, with --asn-db/--country-db) -> binary COPY rows (pgcopy.h) ->
 * libpq. Each capture is loaded in one transaction: a row in spamhints.load,
 * its samples, its agents. A load that fails leaves nothing behind; a
 * capture already loaded (same SHA-256) adds nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "agents.h"
#include "capture.h"
#include "db.h"
#include "enrich.h"
#include "maillog.h"
#include "pgcopy.h"
#include "sender.h"
#include "sflow.h"
#include "smtp.h"

#define SH_LOADER_VERSION "0.1.0"

/* Exit codes, as --help documents them. */
#define EXIT_USAGE		1
#define EXIT_INPUT		2
#define EXIT_DATABASE	3

/* Send the COPY buffer to the server once it holds this much. */
#define SH_FLUSH_BYTES	(1u << 20)

static const char *progname = "spamhints-load";

/* Summary lines go here: standard output, unless the COPY stream does. */
static FILE *report;

/* The columns the loader fills, in the order rows are written. */
static const char *const copy_columns =
"load_id, frame, ts, agent, sample_seq, sampling_rate, input_if, output_if, "
"src_mac, dst_mac, vlan, src_ip, dst_ip, src_port, dst_port, tcp_flags, "
"ip_len, ttl, smtp, gw_src_as, gw_dst_as";
#define SH_COPY_NFIELDS 21

typedef struct options
{
	const char *conninfo;
	const char *filter;
	const char *ports_spec;
	const char *output;			/* write the COPY stream here instead of a database */
	int			dry_run;
	int			quiet;
	int			progress;		/* -1: when stderr is a terminal */
	int			retry;			/* reconnect and load a file again this many times */
	double		retry_wait;		/* seconds before the first retry; doubled each time */
	sh_ports	ports;
	const char *asn_db;			/* --asn-db, or SPAMHINTS_ASN_DB */
	const char *country_db;		/* --country-db, or SPAMHINTS_COUNTRY_DB */
	sh_enrich  *enrich;			/* the open databases; NULL without enrichment */
} options;

/* Reasons a datagram, frame or sampled packet was skipped, with their counts. */
enum
{
	SKIP_CAPTURE_TRUNCATED = SH_ERR_COUNT_ + SH_FRAME_COUNT_,
	SKIP_CAPTURE_UNREADABLE,
	SKIP_PACKET_TRUNCATED,
	SKIP_PACKET_BAD_IP,
	SKIP_PACKET_UNSUPPORTED,
	SKIP_PACKET_FRAGMENT,
	SKIP_TCP_CUT,
	SKIP_RATE_RANGE,
	SKIP_PACKET_NOT_IP,
	SKIP_PACKET_TOO_DEEP,
	SKIP_PACKET_NOT_SMTP,
	SKIP_AGENT_LIMIT,
	SKIP_COUNT_
};

/* Per-datagram counts, kept apart until the datagram is known to be whole. */
typedef struct pending
{
	uint64_t	rows;
	uint64_t	skip[SKIP_COUNT_];
} pending;

/* Everything about the capture being loaded. */
typedef struct load
{
	const options *opt;
	const char *path;
	const char *filter;			/* the BPF filter in use */
	int32_t		load_id;
	sh_copy		copy;
	const sh_frame *frame;		/* the frame being decoded, for the callback */
	pending		dg;				/* the datagram being decoded */
	int			oom;

	/* totals */
	uint64_t	datagrams;
	uint64_t	malformed;
	uint64_t	smtp_rows;
	uint64_t	skip[SKIP_COUNT_];
	sh_counts	counts;
	sh_agents	agents;
	int64_t		first_ts;
	int64_t		last_ts;
	int			have_ts;
	char		sha256[65];
	uint64_t	bytes;
	double		started;
} load;

static const char *
skip_name(int reason)
{
	if (reason < SH_ERR_COUNT_)
		return sh_status_name((sh_status) reason);
	if (reason < SH_ERR_COUNT_ + SH_FRAME_COUNT_)
		return sh_frame_status_name((sh_frame_status) (reason - SH_ERR_COUNT_));
	switch (reason)
	{
		case SKIP_CAPTURE_TRUNCATED:
			return "capture_truncated";
		case SKIP_CAPTURE_UNREADABLE:
			return "capture_unreadable";
		case SKIP_PACKET_TRUNCATED:
			return "packet_header_truncated";
		case SKIP_PACKET_BAD_IP:
			return "packet_bad_ip_header";
		case SKIP_PACKET_UNSUPPORTED:
			return "packet_header_protocol_unknown";
		case SKIP_PACKET_FRAGMENT:
			return "packet_ip_fragment";
		case SKIP_TCP_CUT:
			return "packet_tcp_ports_cut";
		case SKIP_RATE_RANGE:
			return "sampling_rate_out_of_range";
		case SKIP_PACKET_NOT_IP:
			return "packet_not_ip";
		case SKIP_PACKET_TOO_DEEP:
			return "packet_encapsulation_too_deep";
		case SKIP_PACKET_NOT_SMTP:
			return "packet_not_smtp";
		case SKIP_AGENT_LIMIT:
			return "agent_limit";
	}
	return "unknown";
}

/*
 * The decoder's callback: one sampled packet record. Keeps it as a row when
 * it is TCP to or from an SMTP port; counts every other one under a reason,
 * so that SMTP rows plus the packet_* and sampling_rate_out_of_range counts
 * of skipped add up to sampled_packets.
 */
static void
on_record(const sh_record *rec, void *arg)
{
	load	   *ld = arg;
	const sh_packet *pkt = &rec->pkt;
	int			to_server,
				from_server;
	uint8_t    *p;
	char		token[16];
	size_t		ntoken;

	switch (rec->parse_status)
	{
		case SH_PKT_OK:
			break;
		case SH_PKT_NOT_IP:
			ld->dg.skip[SKIP_PACKET_NOT_IP]++;
			return;
		case SH_PKT_TRUNCATED:
			ld->dg.skip[pkt->l4_cut && pkt->ip_proto == 6 ? SKIP_TCP_CUT : SKIP_PACKET_TRUNCATED]++;
			return;
		case SH_PKT_BAD_IP:
			ld->dg.skip[SKIP_PACKET_BAD_IP]++;
			return;
		case SH_PKT_UNSUPPORTED:
			ld->dg.skip[SKIP_PACKET_UNSUPPORTED]++;
			return;
		case SH_PKT_TOO_DEEP:
			ld->dg.skip[SKIP_PACKET_TOO_DEEP]++;
			return;
	}
	if (pkt->ip_version == 0)
	{
		ld->dg.skip[SKIP_PACKET_NOT_IP]++;
		return;
	}
	if (pkt->fragment)
	{
		ld->dg.skip[SKIP_PACKET_FRAGMENT]++;
		return;
	}
	if (pkt->ip_proto != 6)
	{
		ld->dg.skip[SKIP_PACKET_NOT_SMTP]++;
		return;
	}
	if (!pkt->has_ports)
	{
		ld->dg.skip[SKIP_TCP_CUT]++;
		return;
	}
	to_server = sh_ports_has(&ld->opt->ports, pkt->dport);
	from_server = sh_ports_has(&ld->opt->ports, pkt->sport);
	if (!to_server && !from_server)
	{
		ld->dg.skip[SKIP_PACKET_NOT_SMTP]++;
		return;
	}
	if (rec->sampling_rate > INT32_MAX)
	{
		ld->dg.skip[SKIP_RATE_RANGE]++;
		return;
	}
	if (sh_copy_reserve(&ld->copy, SH_COPY_ROW_MAX) != 0)
	{
		ld->oom = 1;
		return;
	}

	p = sh_copy_row(&ld->copy, ld->opt->enrich ? SH_COPY_NFIELDS + SH_ENRICH_NFIELDS : SH_COPY_NFIELDS);
	p = sh_field_int4(p, ld->load_id);
	p = sh_field_int8(p, (int64_t) ld->frame->number);
	p = sh_field_timestamptz(p, ld->frame->ts_sec, ld->frame->ts_usec);
	p = sh_field_inet(p, &rec->agent);
	p = sh_field_int8(p, rec->sample_seq);
	p = sh_field_int4(p, (int32_t) rec->sampling_rate);
	p = rec->input_format == 0 ? sh_field_int8(p, rec->input_if) : sh_field_null(p);
	p = rec->output_format == 0 ? sh_field_int8(p, rec->output_if) : sh_field_null(p);
	if (pkt->has_mac)
	{
		p = sh_field_macaddr(p, pkt->src_mac);
		p = sh_field_macaddr(p, pkt->dst_mac);
	}
	else
	{
		p = sh_field_null(p);
		p = sh_field_null(p);
	}
	p = pkt->vlan >= 0 ? sh_field_int4(p, pkt->vlan) : sh_field_null(p);
	p = sh_field_inet(p, &pkt->src);
	p = sh_field_inet(p, &pkt->dst);
	p = sh_field_int4(p, pkt->sport);
	p = sh_field_int4(p, pkt->dport);
	p = pkt->tcp_flags >= 0 ? sh_field_int4(p, pkt->tcp_flags) : sh_field_null(p);
	p = pkt->ip_len >= 0 ? sh_field_int4(p, pkt->ip_len) : sh_field_null(p);
	p = pkt->ttl >= 0 ? sh_field_int4(p, pkt->ttl) : sh_field_null(p);
	ntoken = sh_smtp_token(pkt->payload, pkt->payload_len, to_server, from_server, token);
	p = ntoken ? sh_field_text(p, token, ntoken) : sh_field_null(p);
	if (rec->has_gateway)
	{
		p = sh_field_int8(p, rec->gw_src_as);
		p = sh_field_int8(p, rec->gw_dst_as);
	}
	else
	{
		p = sh_field_null(p);
		p = sh_field_null(p);
	}
	if (ld->opt->enrich)
		p = sh_enrich_fields(ld->opt->enrich, p, &pkt->src, &pkt->dst);
	sh_copy_end(&ld->copy, p);
	ld->dg.rows++;
}

/* ---------------------------------------------------------------------------
 * The database.
 * ------------------------------------------------------------------------- */

static PGresult *
exec_params(PGconn *conn, const char *sql, int n, const char *const *values)
{
	return PQexecParams(conn, sql, n, NULL, values, NULL, NULL, 0);
}

/* The skipped reasons as a JSON object, for spamhints.load.skipped. */
static void
skipped_json(const load *ld, char *buf, size_t len)
{
	size_t		at = 0;

	at += (size_t) snprintf(buf + at, len - at, "{");
	for (int i = 0; i < SKIP_COUNT_ && at < len; i++)
	{
		if (ld->skip[i] == 0)
			continue;
		at += (size_t) snprintf(buf + at, len - at, "%s\"%s\": %" PRIu64,
								at > 1 ? ", " : "", skip_name(i), ld->skip[i]);
	}
	if (at < len)
		snprintf(buf + at, len - at, "}");
}

static void
ts_text(int64_t usec, char *buf, size_t len)
{
	time_t		sec = (time_t) (usec / 1000000);
	struct tm	tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int) (usec % 1000000));
}

/* Start the load: its row in spamhints.load, then COPY of the samples. */
static int
db_begin(PGconn *conn, load *ld)
{
	char		ports[512];
	size_t		at = 0;
	const char *values[4];
	char		sql[512];
	PGresult   *res;

	at += (size_t) snprintf(ports, sizeof(ports), "{");
	for (int i = 0; i < ld->opt->ports.n; i++)
		at += (size_t) snprintf(ports + at, sizeof(ports) - at, "%s%u", i ? "," : "", ld->opt->ports.list[i]);
	snprintf(ports + at, sizeof(ports) - at, "}");

	if (!sh_exec_ok(conn, "BEGIN"))
		return -1;
	values[0] = strcmp(ld->path, "-") == 0 ? "(standard input)" : ld->path;
	values[1] = ports;
	values[2] = ld->filter;
	values[3] = SH_LOADER_VERSION;
	res = exec_params(conn,
					  "INSERT INTO spamhints.load (file_name, smtp_ports, filter, loader_version) "
					  "VALUES ($1, $2, $3, $4) RETURNING load_id", 4, values);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		sh_error("%s", PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	ld->load_id = (int32_t) strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);

	snprintf(sql, sizeof(sql), "COPY spamhints.smtp_sample (%s%s) FROM STDIN (FORMAT binary)", copy_columns,
			 ld->opt->enrich ? ", " SH_ENRICH_COLUMNS : "");
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		sh_error("%s", PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* The per-agent table, by a text-format COPY (a handful of rows). */
static int
db_agents(PGconn *conn, const load *ld)
{
	PGresult   *res = PQexec(conn, "COPY spamhints.load_agent (load_id, agent, sub_agent, version, datagrams, "
							 "malformed, first_seq, last_seq, lost, resets) FROM STDIN");
	char		line[256];

	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		sh_error("%s", PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	for (size_t i = 0; i < ld->agents.n; i++)
	{
		const sh_agent *a = &ld->agents.v[i];
		char		addr[64];
		int			n;

		if (a->addr.family == 6)
		{
			size_t		at = 0;

			for (int k = 0; k < 16; k += 2)
				at += (size_t) snprintf(addr + at, sizeof(addr) - at, "%s%x", k ? ":" : "",
										a->addr.bytes[k] << 8 | a->addr.bytes[k + 1]);
		}
		else
			snprintf(addr, sizeof(addr), "%u.%u.%u.%u", a->addr.bytes[0], a->addr.bytes[1],
					 a->addr.bytes[2], a->addr.bytes[3]);
		n = snprintf(line, sizeof(line), "%d\t%s\t%u\t%u\t%" PRIu64 "\t%" PRIu64 "\t%u\t%u\t%" PRIu64 "\t%" PRIu64 "\n",
					 ld->load_id, addr, a->sub_agent, a->version, a->datagrams, a->malformed,
					 a->first_seq, a->last_seq, a->lost, a->resets);
		if (PQputCopyData(conn, line, n) != 1)
		{
			sh_error("%s", PQerrorMessage(conn));
			return -1;
		}
	}
	return sh_db_copy_end(conn, NULL);
}

/*
 * Finish the load: its counts and hash. Returns 0 when committed, 1 when the
 * capture had been loaded before (then rolled back), -1 on error.
 */
static int
db_finish(PGconn *conn, load *ld, uint64_t frames)
{
	char		v[14][72];
	char		skipped[2048];
	const char *values[14];
	PGresult   *res;
	const char *sqlstate;

	snprintf(v[0], 72, "%d", ld->load_id);
	snprintf(v[1], 72, "%s", ld->sha256);
	snprintf(v[2], 72, "%" PRIu64, ld->bytes);
	ts_text(ld->first_ts, v[3], 72);
	ts_text(ld->last_ts, v[4], 72);
	snprintf(v[5], 72, "%" PRIu64, frames);
	snprintf(v[6], 72, "%" PRIu64, ld->datagrams);
	snprintf(v[7], 72, "%" PRIu64, ld->counts.flow_samples);
	snprintf(v[8], 72, "%" PRIu64, ld->counts.counter_samples);
	snprintf(v[9], 72, "%" PRIu64, ld->counts.packet_records);
	snprintf(v[10], 72, "%" PRIu64, ld->smtp_rows);
	snprintf(v[11], 72, "%" PRIu64, ld->malformed);
	snprintf(v[12], 72, "%" PRIu64, sh_agents_lost(&ld->agents));
	skipped_json(ld, skipped, sizeof(skipped));
	for (int i = 0; i < 13; i++)
		values[i] = v[i];
	if (!ld->have_ts)
		values[3] = values[4] = NULL;
	values[13] = skipped;

	res = exec_params(conn,
					  "UPDATE spamhints.load SET sha256 = $2, file_bytes = $3, first_ts = $4, last_ts = $5, "
					  "frames = $6, datagrams = $7, flow_samples = $8, counter_samples = $9, "
					  "sampled_packets = $10, smtp_rows = $11, malformed = $12, lost_datagrams = $13, "
					  "skipped = $14, finished_at = clock_timestamp() WHERE load_id = $1",
					  14, values);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (sqlstate && strcmp(sqlstate, "23505") == 0)
		{
			PQclear(res);
			return sh_exec_ok(conn, "ROLLBACK") ? 1 : -1;
		}
		sh_error("%s", PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	if (!sh_exec_ok(conn, "COMMIT"))
		return -1;
	return 0;
}

/* Which load holds the capture with this hash (after db_finish said 1). */
static void
report_duplicate(PGconn *conn, const load *ld)
{
	const char *values[1] = {ld->sha256};
	PGresult   *res = exec_params(conn,
								  "SELECT load_id, file_name, finished_at FROM spamhints.load WHERE sha256 = $1",
								  1, values);

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		fprintf(report, "%s: %s: already loaded as load %s (\"%s\", %s): nothing added\n", progname,
			   ld->path, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	else
		fprintf(report, "%s: %s: already loaded: nothing added\n", progname, ld->path);
	PQclear(res);
}

/* ---------------------------------------------------------------------------
 * Progress and summary.
 * ------------------------------------------------------------------------- */

static void
human_bytes(double v, char *buf, size_t len)
{
	const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	int			u = 0;

	while (v >= 1000 && u < 4)
	{
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void
draw_progress(const sh_capture *cap, const load *ld, double elapsed)
{
	uint64_t	size = sh_capture_size(cap);
	uint64_t	done = sh_capture_bytes_read(cap);
	char		bytes[32];

	human_bytes((double) done, bytes, sizeof(bytes));
	if (size > 0)
	{
		int			width = 30;
		int			filled = (int) (width * (double) done / (double) size);

		if (filled > width)
			filled = width;
		fprintf(stderr, "\r%.30s [%.*s%*s] %3d%% %s, %" PRIu64 " SMTP rows, %.0f s",
				ld->path, filled, "##############################", width - filled, "",
				(int) (100.0 * (double) done / (double) size), bytes, ld->smtp_rows, elapsed);
	}
	else
		fprintf(stderr, "\r%.30s %s, %" PRIu64 " SMTP rows, %.0f s", ld->path, bytes, ld->smtp_rows, elapsed);
	fprintf(stderr, "\033[K");
}

static void
print_summary(const load *ld, double seconds)
{
	char		skipped[2048];

	if (ld->opt->quiet)
		return;
	fprintf(report, "%s: %s: ", progname, ld->path);
	if (ld->load_id > 0)
		fprintf(report, "load %d: ", ld->load_id);
	fprintf(report, "%" PRIu64 " datagrams, %" PRIu64 " flow samples, %" PRIu64 " SMTP rows, %" PRIu64
		   " malformed, %" PRIu64 " lost in transit, %.2f s, %.0f rows/s",
		   ld->datagrams, ld->counts.flow_samples, ld->smtp_rows, ld->malformed,
		   sh_agents_lost(&ld->agents), seconds, seconds > 0 ? (double) ld->smtp_rows / seconds : 0.0);
	skipped_json(ld, skipped, sizeof(skipped));
	if (strcmp(skipped, "{}") != 0)
		fprintf(report, ", skipped %s", skipped);
	fprintf(report, "\n");
	fflush(report);
}

/* ---------------------------------------------------------------------------
 * Loading one capture.
 * ------------------------------------------------------------------------- */

/* Returns 0 (loaded or already loaded), EXIT_INPUT or EXIT_DATABASE. */
static int
load_file(const options *opt, PGconn *conn, FILE *outfile, const char *path)
{
	char		err[512];
	sh_capture *cap;
	load		ld;
	sh_sender  *sender = NULL;
	sh_frame	frame;
	int			r,
				rc = 0,
				show = opt->progress;
	double		last_draw = 0;
	uint64_t	frames;

	memset(&ld, 0, sizeof(ld));
	ld.opt = opt;
	ld.path = path;
	ld.started = sh_now();

	cap = sh_capture_open(path, opt->filter, err, sizeof(err));
	if (cap == NULL)
	{
		sh_error("%s", err);
		return EXIT_INPUT;
	}
	ld.filter = sh_capture_filter(cap);
	if (opt->enrich)
		sh_enrich_begin(opt->enrich);
	if (show < 0)
		show = isatty(STDERR_FILENO) && !opt->quiet;
	if (conn && db_begin(conn, &ld) != 0)
	{
		rc = EXIT_DATABASE;
		goto done;
	}
	sender = sh_sender_start(conn, outfile, SH_FLUSH_BYTES + 64 * SH_COPY_ROW_MAX, &ld.copy);
	if (sender == NULL)
	{
		sh_error("out of memory");
		rc = EXIT_INPUT;
		goto done;
	}
	sh_copy_header(&ld.copy);

	while ((r = sh_capture_next(cap, &frame, err, sizeof(err))) == 1)
	{
		size_t		mark = ld.copy.len;
		sh_status	status;
		sh_dgram	dg;
		sh_counts	counts = {0};
		int64_t		ts;
		int			seen;

		if (frame.status != SH_FRAME_BAD_TIME && frame.status != SH_FRAME_NO_TIME)
		{
			ts = frame.ts_sec * 1000000LL + frame.ts_usec;
			if (!ld.have_ts || ts < ld.first_ts)
				ld.first_ts = ts;
			if (!ld.have_ts || ts > ld.last_ts)
				ld.last_ts = ts;
			ld.have_ts = 1;
		}
		if (frame.status != SH_FRAME_OK)
		{
			ld.skip[SH_ERR_COUNT_ + frame.status]++;
			if (frame.status != SH_FRAME_NOT_UDP)
				ld.malformed++;
			continue;
		}

		memset(&ld.dg, 0, sizeof(ld.dg));
		ld.frame = &frame;
		status = sh_decode_datagram(frame.payload, frame.len, &dg, &counts, on_record, &ld);
		if (ld.oom)
		{
			sh_error("out of memory");
			rc = EXIT_INPUT;
			goto done;
		}
		if (opt->enrich && opt->enrich->failed)
		{
			sh_error("%s", opt->enrich->error);
			rc = EXIT_INPUT;
			goto done;
		}
		/* a datagram that arrived was not lost, even if it is malformed */
		seen = dg.version != 0 ?
			sh_agents_see(&ld.agents, &dg.agent, dg.sub_agent, dg.version, dg.seq, status != SH_OK) : 0;
		if (seen < 0)
		{
			sh_error("out of memory");
			rc = EXIT_INPUT;
			goto done;
		}
		if (status == SH_OK && seen == 1)
		{
			/* from an agent past SH_AGENTS_MAX: not loaded, counted */
			ld.copy.len = mark;
			ld.skip[SKIP_AGENT_LIMIT]++;
		}
		else if (status == SH_OK)
		{
			ld.datagrams++;
			ld.smtp_rows += ld.dg.rows;
			for (int i = 0; i < SKIP_COUNT_; i++)
				ld.skip[i] += ld.dg.skip[i];
			ld.counts.flow_samples += counts.flow_samples;
			ld.counts.counter_samples += counts.counter_samples;
			ld.counts.other_samples += counts.other_samples;
			ld.counts.packet_records += counts.packet_records;
			ld.counts.unknown_records += counts.unknown_records;
		}
		else
		{
			ld.copy.len = mark;	/* nothing of a malformed datagram is kept */
			ld.malformed++;
			ld.skip[status]++;
		}

		if (ld.copy.len >= SH_FLUSH_BYTES && sh_sender_swap(sender, &ld.copy) != 0)
		{
			/* writing failed (the server went away, say): finishing the sender says why */
			sh_sender_finish(sender, &ld.copy, err, sizeof(err));
			sender = NULL;
			sh_error("%s", err);
			rc = conn ? EXIT_DATABASE : EXIT_INPUT;
			goto done;
		}
		if (show && (frame.number & 1023) == 0)
		{
			double		t = sh_now();

			if (t - last_draw >= 0.25)
			{
				draw_progress(cap, &ld, t - ld.started);
				last_draw = t;
			}
		}
	}
	if (show)
		fprintf(stderr, "\r\033[K");
	if (r < 0)
	{
		/* a capture cut short (say, by a full disk) still loads what it holds */
		fprintf(stderr, "%s: warning: %s: %s; loading the packets before it\n", progname, path, err);
		ld.skip[r == -2 ? SKIP_CAPTURE_TRUNCATED : SKIP_CAPTURE_UNREADABLE]++;
	}
	frames = sh_capture_frames_read(cap);
	if (sh_capture_finish(cap, ld.sha256, err, sizeof(err)) != 0)
	{
		sh_error("%s: %s", path, err);
		rc = EXIT_INPUT;
		goto done;
	}
	ld.bytes = sh_capture_bytes_read(cap);

	sh_copy_trailer(&ld.copy);
	r = sh_sender_finish(sender, &ld.copy, err, sizeof(err));
	sender = NULL;
	if (r != 0)
	{
		sh_error("%s", err);
		rc = conn ? EXIT_DATABASE : EXIT_INPUT;
		goto done;
	}
	if (conn)
	{
		if (sh_db_copy_end(conn, NULL) != 0 || db_agents(conn, &ld) != 0)
		{
			rc = EXIT_DATABASE;
			goto done;
		}
		if (opt->enrich && sh_enrich_db_finish(conn, opt->enrich, ld.load_id, err, sizeof(err)) != 0)
		{
			sh_error("%s", err);
			rc = EXIT_DATABASE;
			goto done;
		}
		switch (db_finish(conn, &ld, frames))
		{
			case 0:
				break;
			case 1:
				report_duplicate(conn, &ld);
				goto done;
			default:
				rc = EXIT_DATABASE;
				goto done;
		}
	}
	print_summary(&ld, sh_now() - ld.started);
	if (opt->enrich && !opt->quiet)
		sh_enrich_report(opt->enrich, report, progname, path);

done:
	if (sender != NULL)
		sh_sender_finish(sender, &ld.copy, err, sizeof(err));
	if (rc != 0 && conn)
	{
		/* leave nothing behind: end a COPY in progress, then roll back */
		if (PQtransactionStatus(conn) == PQTRANS_ACTIVE)
			sh_db_copy_end(conn, "spamhints-load stopped");
		if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
			sh_exec_ok(conn, "ROLLBACK");
		if (rc == EXIT_DATABASE)
			fprintf(stderr, "%s: hint: nothing of %s was kept; run the same command again to load it\n",
					progname, path);
	}
	sh_agents_free(&ld.agents);
	sh_copy_free(&ld.copy);
	sh_capture_close(cap);
	return rc;
}

/* ---------------------------------------------------------------------------
 * Retrying when the server goes away (--retry).
 * ------------------------------------------------------------------------- */

/* Wait before try number attempt + 1: retry_wait, doubled each time, at most a minute. */
static void
back_off(const options *opt, int attempt, const char *what)
{
	double		wait = opt->retry_wait;
	struct timespec ts;

	for (int i = 0; i < attempt && wait < 60; i++)
		wait *= 2;
	if (wait > 60)
		wait = 60;
	fprintf(stderr, "%s: %s: retrying in %.1f s (retry %d of %d)\n", progname, what, wait,
			attempt + 1, opt->retry);
	ts.tv_sec = (time_t) wait;
	ts.tv_nsec = (long) ((wait - (double) ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Connect, trying again with back-off while the server cannot be reached,
 * using up *retries_left. NULL when it still cannot.
 */
static PGconn *
connect_retrying(const options *opt, int *retries_left)
{
	for (;;)
	{
		int			transient;
		PGconn	   *conn = sh_connect(opt->conninfo, NULL, &transient);

		if (conn != NULL || !transient || *retries_left <= 0)
			return conn;
		back_off(opt, opt->retry - *retries_left, "the server cannot be reached");
		(*retries_left)--;
	}
}

/*
 * Load one file; when the connection to the server is lost on the way (the
 * server restarted, the backend was terminated), the transaction rolled
 * back and nothing of the file was kept: with --retry, reconnect and load
 * the whole file again. *connp may be replaced (NULL when reconnecting
 * failed).
 */
static int
load_file_retrying(const options *opt, PGconn **connp, FILE *outfile, const char *path)
{
	int			retries_left = opt->retry;

	for (;;)
	{
		int			rc = load_file(opt, *connp, outfile, path);

		if (*connp == NULL || rc != EXIT_DATABASE || PQstatus(*connp) == CONNECTION_OK)
			return rc;
		sh_error("the connection to the server was lost while loading %s", path);
		if (retries_left <= 0)
			return rc;
		if (strcmp(path, "-") == 0)
		{
			sh_error("standard input cannot be read a second time: not retrying; save the capture to a file and load that file to have it retried");
			return rc;
		}
		PQfinish(*connp);
		*connp = NULL;
		back_off(opt, opt->retry - retries_left, path);
		retries_left--;
		*connp = connect_retrying(opt, &retries_left);
		if (*connp == NULL)
			return EXIT_DATABASE;
	}
}

/* ---------------------------------------------------------------------------
 * Command line.
 * ------------------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
			"%s loads the sampled SMTP packets of sFlow captures into PostgreSQL.\n"
			"\n"
			"Usage:\n"
			"  %s [OPTION]... FILE...\n"
			"\n"
			"FILE is a pcap or pcapng capture of sFlow datagrams (versions 2, 4 and 5);\n"
			"\"-\" reads one from standard input. Each file is one load, in one transaction:\n"
			"all of its samples or none. A file loaded before (same SHA-256) adds nothing.\n"
			"\n"
			"Options:\n"
			"  -d, --dbname=CONNINFO  database to load into: a name, a conninfo string or a\n"
			"                         URI, as psql takes it; PG* variables and .pgpass apply\n"
			"      --ports=LIST       SMTP ports, comma-separated (default: 25)\n"
			"      --filter=BPF       which captured packets are sFlow (default: udp port 6343,\n"
			"                         tagged or not)\n"
			"      --asn-db=FILE      fill src_asn and dst_asn from FILE, an ASN database in\n"
			"                         MaxMind DB format (GeoLite2-ASN, DB-IP, IPinfo), and\n"
			"                         keep the AS names in spamhints.asn (default:\n"
			"                         $SPAMHINTS_ASN_DB; an empty FILE: none)\n"
			"      --country-db=FILE  fill src_cc and dst_cc from FILE, a country or city\n"
			"                         database in MaxMind DB format (default:\n"
			"                         $SPAMHINTS_COUNTRY_DB; an empty FILE: none)\n"
			"  -o, --output=FILE      write the binary COPY stream to FILE, no database\n"
			"      --dry-run          decode only: no database, no output\n"
			"      --retry=N          when the server goes away during a load (restart,\n"
			"                         crash, terminated backend) or cannot be reached,\n"
			"                         reconnect and load that file again from its start,\n"
			"                         up to N times (default 0); not for standard input,\n"
			"                         which cannot be read twice\n"
			"      --retry-wait=SECS  seconds before the first retry, doubled for each next\n"
			"                         one, at most 60 (default 1)\n"
			"  -q, --quiet            no summary lines and no progress bar\n"
			"      --progress         a progress bar even when standard error is not a terminal\n"
			"      --no-progress      no progress bar\n"
			"  -V, --version          print the version and exit\n"
			"  -?, --help             show this help and exit\n"
			"\n"
			"Mail server logs: %s --maillog=exim|postfix [OPTION]... FILE...\n"
			"(%s --maillog=exim --help says more).\n"
			"\n"
			"Exit status:\n"
			"  0  every file was loaded, or had been loaded before\n"
			"  1  bad command line\n"
			"  2  a file could not be read (missing, not a capture, unsupported link type,\n"
			"     or an enrichment database that is missing, corrupt or of the wrong kind:\n"
			"     then nothing is loaded)\n"
			"  3  a database error (cannot connect, no extension, the load failed and was\n"
			"     rolled back: running the same command again completes it)\n"
			"Malformed datagrams are not an error: they are skipped, counted in the summary\n"
			"and in spamhints.load (malformed, skipped), and the rest is loaded.\n",
			progname, progname, progname, progname);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"ports", required_argument, NULL, 'p'},
		{"filter", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"dry-run", no_argument, NULL, 'n'},
		{"quiet", no_argument, NULL, 'q'},
		{"progress", no_argument, NULL, 'P'},
		{"no-progress", no_argument, NULL, 'N'},
		{"retry", required_argument, NULL, 'r'},
		{"retry-wait", required_argument, NULL, 'w'},
		{"version", no_argument, NULL, 'V'},
		{"asn-db", required_argument, NULL, 'A'},
		{"country-db", required_argument, NULL, 'C'},
		{NULL, 0, NULL, 0}
	};
	options		opt;
	char		err[1024];
	int			c,
				rc = 0;
	PGconn	   *conn = NULL;
	FILE	   *outfile = NULL;
	sh_enrich	enrich;

	memset(&opt, 0, sizeof(opt));
	opt.ports_spec = "25";
	opt.progress = -1;
	opt.asn_db = getenv("SPAMHINTS_ASN_DB");
	opt.country_db = getenv("SPAMHINTS_COUNTRY_DB");
	opt.retry_wait = 1.0;

	report = stdout;
	/* mail logs are another command: spamhints-load --maillog exim|postfix */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
	{
		if (strcmp(argv[i], "--maillog") == 0 || strncmp(argv[i], "--maillog=", 10) == 0)
			return sh_maillog_main(argc, argv);
	}
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
	{
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-?") == 0)
		{
			usage(stdout);
			return 0;
		}
	}
	while ((c = getopt_long(argc, argv, "d:o:qV", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				opt.conninfo = optarg;
				break;
			case 'p':
				opt.ports_spec = optarg;
				break;
			case 'f':
				opt.filter = optarg;
				break;
			case 'o':
				opt.output = optarg;
				break;
			case 'n':
				opt.dry_run = 1;
				break;
			case 'q':
				opt.quiet = 1;
				break;
			case 'P':
				opt.progress = 1;
				break;
			case 'N':
				opt.progress = 0;
				break;
			case 'r':
				{
					char	   *end;
					long		n = strtol(optarg, &end, 10);

					if (end == optarg || *end != '\0' || n < 0 || n > 1000)
					{
						sh_error("bad --retry \"%s\": a number of retries from 0 to 1000", optarg);
						return EXIT_USAGE;
					}
					opt.retry = (int) n;
					break;
				}
			case 'w':
				{
					char	   *end;
					double		w = strtod(optarg, &end);

					if (end == optarg || *end != '\0' || !(w >= 0 && w <= 60))
					{
						sh_error("bad --retry-wait \"%s\": seconds from 0 to 60", optarg);
						return EXIT_USAGE;
					}
					opt.retry_wait = w;
					break;
				}
			case 'V':
				printf("spamhints-load %s\n", SH_LOADER_VERSION);
				return 0;
			case 'A':
				opt.asn_db = optarg;
				break;
			case 'C':
				opt.country_db = optarg;
				break;
			default:
				fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
				return EXIT_USAGE;
		}
	}
	if (optind >= argc)
	{
		sh_error("no capture file given");
		fprintf(stderr, "Try \"%s --help\" for more information.\n", progname);
		return EXIT_USAGE;
	}
	if (sh_ports_parse(&opt.ports, opt.ports_spec, err, sizeof(err)) != 0)
	{
		sh_error("%s", err);
		return EXIT_USAGE;
	}
	if (opt.output && opt.dry_run)
	{
		sh_error("--output and --dry-run cannot be used together");
		return EXIT_USAGE;
	}

	/* the databases are checked before anything is read or connected to */
	if (sh_enrich_open(&enrich, opt.asn_db, opt.country_db, stderr, progname, err, sizeof(err)) != 0)
	{
		sh_error("%s", err);
		if ((opt.asn_db && opt.asn_db == getenv("SPAMHINTS_ASN_DB")) ||
			(opt.country_db && opt.country_db == getenv("SPAMHINTS_COUNTRY_DB")))
			fprintf(stderr, "%s: hint: SPAMHINTS_ASN_DB and SPAMHINTS_COUNTRY_DB name the databases "
					"when --asn-db and --country-db are not given\n", progname);
		return EXIT_INPUT;
	}
	if (sh_enrich_enabled(&enrich))
		opt.enrich = &enrich;

	if (opt.output)
	{
		if (strcmp(opt.output, "-") == 0)
		{
			outfile = stdout;
			report = stderr;
		}
		else
			outfile = fopen(opt.output, "wb");
		if (outfile == NULL)
		{
			sh_error("cannot open \"%s\": %s", opt.output, strerror(errno));
			return EXIT_INPUT;
		}
	}
	else if (!opt.dry_run)
	{
		int			retries_left = opt.retry;

		conn = connect_retrying(&opt, &retries_left);
		if (conn == NULL)
			return EXIT_DATABASE;
	}

	for (int i = optind; i < argc; i++)
	{
		int			r = load_file_retrying(&opt, &conn, outfile, argv[i]);

		if (r > rc)
			rc = r;
		/* a lost connection ends the run: the remaining files are not tried */
		if (!opt.dry_run && !opt.output && (conn == NULL || PQstatus(conn) != CONNECTION_OK))
		{
			if (i + 1 < argc)
				sh_error("the connection to the server was lost: %d file(s) after %s not tried", argc - i - 1, argv[i]);
			rc = EXIT_DATABASE;
			break;
		}
	}
	if (conn)
		PQfinish(conn);
	sh_enrich_close(&enrich);
	if (outfile && outfile != stdout && fclose(outfile) != 0)
	{
		sh_error("cannot write \"%s\": %s", opt.output, strerror(errno));
		rc = EXIT_INPUT;
	}
	return rc;
}
