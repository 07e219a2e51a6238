/*
 * loader/capture/capture_pipeline.c: the capture pipeline (capture_pipeline.h).
 * A capture already loaded (same SHA-256) adds nothing; a load that fails
 * leaves nothing behind (load.c sees to both).
 */
#include "capture_pipeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "agents.h"
#include "capture.h"
#include "db.h"
#include "enrich_db.h"
#include "input.h"
#include "known.h"
#include "sample_rows.h"
#include "sflow.h"

/* Reasons a datagram, frame or sampled packet was skipped, with their counts. */
enum
{
	SKIP_CAPTURE_TRUNCATED = SH_ERR_COUNT_ + SH_FRAME_COUNT_,
	SKIP_AGENT_LIMIT,			/* datagrams of agents past SH_AGENTS_MAX */
	SKIP_DATAGRAM_KNOWN,		/* sampled packets of datagrams loaded already */
	SKIP_AGENT_RUNS,			/* sampled packets of datagrams past SH_RUNS_MAX runs of their sub-agent */
	SKIP_SMTP_FIRST,			/* then the SMTP stage's, from SH_SMTP_FIRST_SKIP on */
	SKIP_COUNT_ = SKIP_SMTP_FIRST + SH_SMTP_COUNT_ - SH_SMTP_FIRST_SKIP
};

/* Per-datagram counts, kept apart until the datagram is known to be whole. */
typedef struct pending
{
	uint64_t	rows;
	uint64_t	skip[SKIP_COUNT_];
} pending;

/* A flow sample of the datagram being decoded, for its agent's sampling. */
typedef struct flow_sample
{
	uint64_t	source;
	uint32_t	seq;
	uint32_t	rate;
	uint32_t	pool;
	uint32_t	drops;
} flow_sample;

/* Everything about the capture being loaded. */
typedef struct cload
{
	const sh_capture_options *opt;
	sh_load    *ld;
	sh_capture *cap;
	const char *filter;			/* the BPF filter in use */
	const sh_frame *frame;		/* the frame being decoded, for the callback */
	pending		dg;				/* the datagram being decoded */
	flow_sample *fs;			/* its flow samples, once each */
	size_t		nfs;
	size_t		capfs;
	int			oom;

	/* totals */
	uint64_t	frames;
	uint64_t	datagrams;
	uint64_t	malformed;
	uint64_t	smtp_rows;
	uint64_t	skip[SKIP_COUNT_];
	sh_counts	counts;
	sh_agents	agents;
	uint64_t	known_datagrams;	/* decoded whole, but loaded already: skipped */

	/* per agent (the index of agents.v): the datagrams known already */
	sh_known   *known;
	size_t		nknown;
	int			db_known;		/* 0: not asked yet, 1: ask per agent, 2: nothing to ask */
	/*
	 * the answers for the last agent addresses and hours of uptime asked
	 * (hour -1: every hour), every sub-agent, sorted by sub-agent; the
	 * oldest is replaced
	 */
	struct
	{
		sh_addr		addr;
		int			lo;			/* its hours of uptime (lo -1: every hour) */
		int			hi;
		PGresult   *res;
	}			asked[4];
	int			nasked;
	int			next_asked;
	int			window_asks;	/* questions by the hour so far */
	int64_t		first_ts;
	int64_t		last_ts;
	int			have_ts;

	/* UTC days (since 1970) whose partition this load has made sure of */
	int64_t		days[8];
	int			ndays;

	/* the SQL values, kept until they are sent */
	char		ports[512];
	char		v[11][72];
	char		skipped[2048];
} cload;

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
		case SKIP_AGENT_LIMIT:
			return "agent_limit";
		case SKIP_DATAGRAM_KNOWN:
			return "packet_datagram_known";
		case SKIP_AGENT_RUNS:
			return "packet_agent_runs";
	}
	return sh_smtp_skip_name((sh_smtp_verdict) (reason - SKIP_SMTP_FIRST + SH_SMTP_FIRST_SKIP));
}

/* The decoder's callback: one sampled packet record, a row when it is an SMTP sample. */
static void
on_record(const sh_record *rec, void *arg)
{
	cload	   *cl = arg;
	sh_smtp_sample smtp;
	sh_smtp_verdict v = sh_smtp_classify(&cl->opt->ports, rec, &smtp);
	sh_answer	src,
				dst;
	int			r;
	uint64_t	source = (uint64_t) rec->source_id_type << 32 | rec->source_id_index;

	/* every flow sample counts for the sampling, SMTP or not; a sample of several records once */
	if (cl->nfs == 0 || cl->fs[cl->nfs - 1].source != source || cl->fs[cl->nfs - 1].seq != rec->sample_seq)
	{
		if (cl->nfs == cl->capfs)
		{
			size_t		cap = cl->capfs ? cl->capfs * 2 : 64;
			flow_sample *fs = realloc(cl->fs, cap * sizeof(*fs));

			if (fs == NULL)
			{
				cl->oom = 1;
				return;
			}
			cl->fs = fs;
			cl->capfs = cap;
		}
		cl->fs[cl->nfs++] = (flow_sample) {source, rec->sample_seq, rec->sampling_rate,
										   rec->sample_pool, rec->drops};
	}
	if (v != SH_SMTP_SAMPLE)
	{
		cl->dg.skip[SKIP_SMTP_FIRST + v - SH_SMTP_FIRST_SKIP]++;
		return;
	}
	if (cl->opt->enrich)
	{
		sh_enrich_lookup(cl->opt->enrich, &rec->pkt.src, &rec->pkt.dst, &src, &dst);
		r = sh_sample_row(&cl->ld->copy, cl->ld->id, cl->frame, rec, &smtp, &src, &dst);
	}
	else
		r = sh_sample_row(&cl->ld->copy, cl->ld->id, cl->frame, rec, &smtp, NULL, NULL);
	if (r != 0)
	{
		cl->oom = 1;
		return;
	}
	cl->dg.rows++;
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

/* An agent address as text, for COPY and for query parameters. */
static void
addr_text(const sh_addr *a, char *addr, size_t len)
{
	if (a->family == 6)
	{
		size_t		at = 0;

		for (int k = 0; k < 16; k += 2)
			at += (size_t) snprintf(addr + at, len - at, "%s%x", k ? ":" : "",
									a->bytes[k] << 8 | a->bytes[k + 1]);
	}
	else
		snprintf(addr, len, "%u.%u.%u.%u", a->bytes[0], a->bytes[1], a->bytes[2], a->bytes[3]);
}

/* An uptime of known_datagrams()'s answer: SH_UP_NONE when NULL (a range without them). */
static int64_t
up_value(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? SH_UP_NONE : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A digest of known_datagrams()'s answer (a bigint: the 64 bits as signed), 0 when NULL. */
static uint64_t
digest_value(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : (uint64_t) strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/*
 * Ask the database, between two COPYs, what loads took of the agent in an
 * hour of uptime (bucket; -1: every hour) and the SH_ASK_AHEAD after it (a
 * capture of a day is one question per address, a collector's file holds
 * what the hour before it took): first (once per load) for the
 * lock of datagram identities, which says whether any load took any
 * datagram; then, when some did, for the agent address's, every sub-agent
 * (the last four answers kept: a sender making up sub-agents costs a
 * question or two, not one each). Past SH_WINDOW_ASKS
 * questions by the hour in a load, an address is asked for every hour at
 * once (a sender making up uptimes costs a few questions). The rows of the
 * datagram being decoded (from *mark on) are kept: *mark follows them. 0,
 * or an exit code.
 */
#define SH_WINDOW_ASKS 512
#define SH_ASK_AHEAD 26
static int
ask_known(cload *cl, sh_known *k, const sh_dgram *dg, size_t *mark, int bucket)
{
	sh_load    *ld = cl->ld;
	size_t		rows = ld->copy.len - *mark;
	PGresult   *res = NULL;
	char		addr[64],
				window[64];
	const char *params[2] = {addr, window};
	int			rc,
				a;

	if (cl->db_known == 0)
	{
		rc = sh_load_between_copies_res(ld, *mark, "SELECT spamhints.lock_datagrams()", 0, NULL, &res);
		*mark = ld->copy.len - rows;
		if (rc != 0)
			return rc;
		cl->db_known = res != NULL && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? 1 : 2;
		PQclear(res);
		res = NULL;
	}
	if (cl->db_known != 1)
	{
		sh_known_asked(k, -1, -1);	/* no load took any datagram: nothing to ask, ever */
		return 0;
	}
	/* one question per agent address and hours: its sub-agents come in the same answer */
	for (a = 0; a < cl->nasked; a++)
		if ((cl->asked[a].lo < 0 || (cl->asked[a].lo <= bucket && bucket <= cl->asked[a].hi)) &&
			cl->asked[a].addr.family == dg->agent.family &&
			memcmp(cl->asked[a].addr.bytes, dg->agent.bytes, dg->agent.family == 6 ? 16 : 4) == 0)
			break;
	if (a == cl->nasked)
	{
		int			lo = bucket > 0 ? bucket - 1 : 0,
					hi = bucket + SH_ASK_AHEAD < SH_UPTIME_BUCKETS ? bucket + SH_ASK_AHEAD : SH_UPTIME_BUCKETS - 1;

		if (cl->window_asks >= SH_WINDOW_ASKS)
			lo = hi = -1;
		addr_text(&dg->agent, addr, sizeof(addr));
		if (lo < 0)
			params[1] = NULL;
		else
		{
			snprintf(window, sizeof(window), "[%" PRId64 ",%" PRId64 ")", (int64_t) lo * SH_UPTIME_BUCKET_MS,
					 (int64_t) (hi + 1) * SH_UPTIME_BUCKET_MS);
			cl->window_asks++;
		}
		rc = sh_load_between_copies_res(ld, *mark, "SELECT * FROM spamhints.known_datagrams($1::inet, $2::int8range)",
										2, params, &res);
		*mark = ld->copy.len - rows;
		if (rc != 0)
			return rc;
		if (cl->nasked < (int) (sizeof(cl->asked) / sizeof(cl->asked[0])))
			a = cl->nasked++;
		else
		{
			a = cl->next_asked;
			cl->next_asked = (a + 1) % cl->nasked;
			PQclear(cl->asked[a].res);
		}
		cl->asked[a].res = res;
		cl->asked[a].addr = dg->agent;
		cl->asked[a].lo = lo;
		cl->asked[a].hi = hi;
	}
	res = cl->asked[a].res;
	if (res != NULL)
	{
		/* the first row of the sub-agent (rows sorted by sub-agent) */
		int			lo = 0,
					hi = PQntuples(res);

		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (strtoll(PQgetvalue(res, mid, 0), NULL, 10) < (long long) dg->sub_agent)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (int i = lo; i < PQntuples(res) && strtoll(PQgetvalue(res, i, 0), NULL, 10) == (long long) dg->sub_agent; i++)
		{
			/* a row whose uptimes span an hour asked for before came in that answer */
			if (sh_known_had(k, up_value(res, i, 7), up_value(res, i, 8)))
				continue;
			if (sh_known_add(k, strtoll(PQgetvalue(res, i, 1), NULL, 10), strtoll(PQgetvalue(res, i, 2), NULL, 10),
							 strtoll(PQgetvalue(res, i, 3), NULL, 10), strtoll(PQgetvalue(res, i, 4), NULL, 10),
							 up_value(res, i, 5), up_value(res, i, 6), digest_value(res, i, 9),
							 digest_value(res, i, 10)) != 0)
			{
				sh_error("out of memory");
				return EXIT_INPUT;
			}
		}
	}
	sh_known_asked(k, cl->asked[a].lo, cl->asked[a].hi);
	return 0;
}

/*
 * Is the datagram (whole, of agent index agent) known already? *known is
 * set to 1 when an earlier load or this one took it, 2 when it would begin
 * one run (boot) too many of its sub-agent (not taken), else 0 (now taken).
 * 0, or an exit code.
 */
static int
datagram_known(cload *cl, size_t agent, const sh_dgram *dg, const sh_frame *frame, size_t *mark, int *known)
{
	sh_known   *k;
	int64_t		boot;
	int			rc;

	if (agent >= cl->nknown)
	{
		size_t		n = cl->agents.n > agent ? cl->agents.n : agent + 1;
		sh_known   *v;

		n = n < 2 * cl->nknown ? 2 * cl->nknown : n;
		if ((v = realloc(cl->known, n * sizeof(*v))) == NULL)
		{
			sh_error("out of memory");
			return EXIT_INPUT;
		}
		memset(v + cl->nknown, 0, (n - cl->nknown) * sizeof(*v));
		cl->known = v;
		cl->nknown = n;
	}
	k = &cl->known[agent];
	/* the history of the hours of uptime this datagram is in, when not asked for yet */
	for (int b; (b = sh_known_lacks(k, dg->uptime_ms)) >= 0;)
		if ((rc = ask_known(cl, k, dg, mark, b)) != 0)
			return rc;
	boot = frame->ts_sec * 1000 + frame->ts_usec / 1000 - (int64_t) dg->uptime_ms;
	rc = sh_known_take(k, boot, dg->seq, dg->uptime_ms, sh_datagram_digest(frame->payload, frame->len));
	if (rc < 0)
	{
		sh_error("out of memory");
		return EXIT_INPUT;
	}
	*known = rc;
	return 0;
}

/*
 * Before the rows of a datagram (ld->copy from mark on) go out: the
 * partition of their UTC day, made in the load's transaction when missing
 * (spamhints.ensure_partitions()) between two COPYs. The days made sure of
 * are remembered (the last 8), so that a capture crossing midnight, even
 * with agents a little out of step, stops its COPY only a few times.
 */
static int
ensure_day(cload *cl, int64_t ts_sec, size_t mark)
{
	int64_t		day = ts_sec >= 0 ? ts_sec / 86400 : -((-ts_sec + 86399) / 86400);
	char		ts[72];
	int			rc;

	for (int i = 0; i < cl->ndays && i < 8; i++)
		if (cl->days[i] == day)
			return 0;
	ts_text(day * 86400 * 1000000LL, ts, sizeof(ts));
	rc = sh_load_between_copies(cl->ld, mark, "SELECT spamhints.ensure_partitions($1::timestamptz, $1::timestamptz)", ts);
	if (rc != 0)
		return rc;
	cl->days[cl->ndays % 8] = day;
	cl->ndays++;
	return 0;
}

/* ---------------------------------------------------------------------------
 * The pipeline's part of a load (load.h).
 * ------------------------------------------------------------------------- */

static int
capture_open(const void *config, sh_load *ld)
{
	const sh_capture_options *opt = config;
	cload	   *cl = ld->state;
	char		err[512];

	cl->opt = opt;
	cl->ld = ld;
	cl->cap = sh_capture_open(ld->path, opt->filter, err, sizeof(err));
	if (cl->cap == NULL)
	{
		sh_file_error(ld->path, err);
		return EXIT_INPUT;
	}
	cl->filter = sh_capture_filter(cl->cap);
	if (opt->enrich)
		sh_enrich_begin(opt->enrich);
	return 0;
}

static int
capture_insert_values(const sh_load *ld, const char **values)
{
	cload	   *cl = ld->state;
	size_t		at = 0;

	at += (size_t) snprintf(cl->ports, sizeof(cl->ports), "{");
	for (int i = 0; i < cl->opt->ports.n; i++)
		at += (size_t) snprintf(cl->ports + at, sizeof(cl->ports) - at, "%s%u", i ? "," : "",
								cl->opt->ports.list[i]);
	snprintf(cl->ports + at, sizeof(cl->ports) - at, "}");
	values[0] = cl->ports;
	values[1] = cl->filter;
	return 2;
}

static const char *
capture_copy_sql(const sh_load *ld)
{
	cload	   *cl = ld->state;

	return sh_sample_copy_sql(cl->opt->enrich != NULL);
}

/* The datagrams of the capture, as rows. */
static int
capture_read(sh_load *ld)
{
	cload	   *cl = ld->state;
	char		err[512];
	sh_frame	frame;
	int			r,
				rc;

	sh_copy_header(&ld->copy);
	while ((r = sh_capture_next(cl->cap, &frame, err, sizeof(err))) == 1)
	{
		size_t		mark = ld->copy.len;
		sh_status	status;
		sh_dgram	dg;
		sh_counts	counts = {0};
		int64_t		ts;
		int			seen;

		if (frame.status == SH_FRAME_FILTERED || frame.status == SH_FRAME_LINK_TYPE)
		{
			/* not sFlow by the filter, or not readable: counted, and its time is not the load's */
			cl->skip[SH_ERR_COUNT_ + frame.status]++;
			continue;
		}
		if (frame.status != SH_FRAME_BAD_TIME && frame.status != SH_FRAME_NO_TIME)
		{
			ts = frame.ts_sec * 1000000LL + frame.ts_usec;
			if (!cl->have_ts || ts < cl->first_ts)
				cl->first_ts = ts;
			if (!cl->have_ts || ts > cl->last_ts)
				cl->last_ts = ts;
			cl->have_ts = 1;
		}
		if (frame.status != SH_FRAME_OK)
		{
			cl->skip[SH_ERR_COUNT_ + frame.status]++;
			if (frame.status != SH_FRAME_NOT_UDP)
				cl->malformed++;
			continue;
		}

		memset(&cl->dg, 0, sizeof(cl->dg));
		cl->nfs = 0;
		cl->frame = &frame;
		status = sh_decode_datagram(frame.payload, frame.len, &dg, &counts, on_record, cl);
		if (cl->oom)
		{
			sh_error("out of memory");
			return EXIT_INPUT;
		}
		if (cl->opt->enrich && cl->opt->enrich->failed)
		{
			sh_error("%s", cl->opt->enrich->error);
			return EXIT_INPUT;
		}
		/* a datagram that arrived was not lost, even if it is malformed */
		seen = dg.version != 0 ?
			sh_agents_see_uptime(&cl->agents, &dg.agent, dg.sub_agent, dg.version, dg.seq, dg.uptime_ms,
								 status != SH_OK) : 0;
		if (seen < 0)
		{
			sh_error("out of memory");
			return EXIT_INPUT;
		}
		if (status == SH_OK && seen == 1)
		{
			/* from an agent past SH_AGENTS_MAX: not loaded, counted */
			ld->copy.len = mark;
			cl->skip[SKIP_AGENT_LIMIT]++;
		}
		else if (status == SH_OK)
		{
			size_t		ai = cl->agents.last;
			sh_agent   *a = &cl->agents.v[ai];
			int			known;

			if ((rc = datagram_known(cl, ai, &dg, &frame, &mark, &known)) != 0)
				return rc;

			for (size_t i = 0; i < cl->nfs; i++)
				if (sh_agent_flow_sample(a, cl->fs[i].source, cl->fs[i].seq, cl->fs[i].rate,
										 cl->fs[i].pool, cl->fs[i].drops) != 0)
				{
					sh_error("out of memory");
					return EXIT_INPUT;
				}
			cl->datagrams++;
			if (known)
			{
				/*
				 * loaded already: nothing of it again; its sampled packets
				 * skipped as known (or, past the runs of a sub-agent kept,
				 * as such)
				 */
				uint64_t	packets = cl->dg.rows;

				for (int i = 0; i < SKIP_COUNT_; i++)
					packets += cl->dg.skip[i];
				ld->copy.len = mark;
				if (known == 1)
					cl->known_datagrams++;
				cl->skip[known == 1 ? SKIP_DATAGRAM_KNOWN : SKIP_AGENT_RUNS] += packets;
			}
			else
			{
				if (cl->dg.rows > 0 && (rc = ensure_day(cl, frame.ts_sec, mark)) != 0)
					return rc;
				cl->smtp_rows += cl->dg.rows;
				for (int i = 0; i < SKIP_COUNT_; i++)
					cl->skip[i] += cl->dg.skip[i];
			}
			cl->counts.flow_samples += counts.flow_samples;
			cl->counts.counter_samples += counts.counter_samples;
			cl->counts.other_samples += counts.other_samples;
			cl->counts.packet_records += counts.packet_records;
			cl->counts.unknown_records += counts.unknown_records;
		}
		else
		{
			ld->copy.len = mark;	/* nothing of a malformed datagram is kept */
			cl->malformed++;
			cl->skip[status]++;
		}
		if ((rc = sh_load_flush(ld)) != 0)
			return rc;
		if ((frame.number & 1023) == 0)
			sh_load_progress(ld, sh_capture_position(cl->cap), sh_capture_size(cl->cap),
							 cl->smtp_rows);
	}
	sh_load_progress_end(ld);
	if (r == -1)
	{
		/* a capture not read to its end is not loaded, nor is its hash kept */
		sh_error("%s: %s; nothing of it is loaded", ld->path, err);
		return EXIT_INPUT;
	}
	if (r == -2)
	{
		/* a capture cut short (say, by a full disk) still loads what it holds: all of it was read */
		fprintf(stderr, "%s: warning: %s: %s; loading the packets before it\n", SH_PROGNAME,
				ld->path, err);
		cl->skip[SKIP_CAPTURE_TRUNCATED]++;
	}
	cl->frames = sh_capture_frames_read(cl->cap);
	if (sh_capture_finish(cl->cap, ld->sha256, err, sizeof(err)) != 0)
	{
		sh_error("%s: %s", ld->path, err);
		return EXIT_INPUT;
	}
	ld->bytes = sh_capture_bytes_read(cl->cap);
	sh_copy_trailer(&ld->copy);
	return 0;
}

/* The per-agent table, by a text-format COPY (a handful of rows). */
static int
db_agents(PGconn *conn, const cload *cl)
{
	PGresult   *res = PQexec(conn, "COPY spamhints.load_agent (load_id, agent, sub_agent, version, datagrams, "
							 "malformed, first_seq, last_seq, lost, resets, configured_rate, effective_rate, "
							 "rate_samples, sample_drops) FROM STDIN");
	char		line[512];

	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		sh_error("%s", PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	for (size_t i = 0; i < cl->agents.n; i++)
	{
		const sh_agent *a = &cl->agents.v[i];
		char		addr[64];
		int			n;

		addr_text(&a->addr, addr, sizeof(addr));
		n = snprintf(line, sizeof(line), "%d\t%s\t%u\t%u\t%" PRIu64 "\t%" PRIu64 "\t%u\t%u\t%" PRIu64 "\t%" PRIu64 "\t",
					 cl->ld->id, addr, a->sub_agent, a->version, a->datagrams, a->malformed,
					 a->first_seq, a->last_seq, a->lost, a->resets);
		/* the rates over the steps between flow samples: none without two of one source */
		if (a->seq_steps > 0)
			n += snprintf(line + n, sizeof(line) - (size_t) n, "%.17g\t%.17g\t%" PRIu64 "\t%" PRIu64 "\n",
						  (double) a->rate_steps / (double) a->seq_steps,
						  (double) a->pool_steps / (double) a->seq_steps, a->seq_steps, a->drop_steps);
		else
			n += snprintf(line + n, sizeof(line) - (size_t) n, "\\N\t\\N\t0\t0\n");
		if (PQputCopyData(conn, line, n) != 1)
		{
			sh_error("%s", PQerrorMessage(conn));
			return -1;
		}
	}
	return sh_db_copy_end(conn, NULL);
}

/* A time in ms since 1970 as a timestamptz literal. */
static void
ms_text(int64_t ms, char *buf, size_t len)
{
	int64_t		sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	time_t		t = (time_t) sec;
	struct tm	tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (ms - sec * 1000));
}

/* Send n bytes of a COPY row. 0, or -1. */
static int
put_copy(PGconn *conn, const char *buf, int n)
{
	if (PQputCopyData(conn, buf, n) != 1)
	{
		sh_error("%s", PQerrorMessage(conn));
		return -1;
	}
	return 0;
}

/*
 * The datagrams this load took, per agent run (spamhints.load_seqs), by a
 * text-format COPY: the sequence numbers as a multirange, the uptimes of
 * each range's first and last datagram (edges), sent range by range, and
 * the digests of the same datagrams (load_seqs.uptimes is made from edges). Under
 * the lock that spamhints.lock_datagrams() took when the first agent was
 * asked for, so that no other load took them meanwhile.
 */
static int
db_seqs(PGconn *conn, const cload *cl)
{
	PGresult   *res = PQexec(conn, "COPY spamhints.load_seqs (load_id, agent, sub_agent, boot, seqs, edges, digests) FROM STDIN");
	char		line[512];

	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		sh_error("%s", PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	for (size_t i = 0; i < cl->nknown && i < cl->agents.n; i++)
	{
		const sh_agent *a = &cl->agents.v[i];
		const sh_known *k = &cl->known[i];
		char		addr[64],
					lo[96],
					hi[96];

		addr_text(&a->addr, addr, sizeof(addr));
		for (size_t b = 0; b < k->nruns; b++)
		{
			const sh_seqset *t = &k->runs[b].taken;
			int			n;

			if (t->n == 0)
				continue;
			ms_text(k->runs[b].boot_lo, lo, sizeof(lo));
			ms_text(k->runs[b].boot_hi, hi, sizeof(hi));
			n = snprintf(line, sizeof(line), "%d\t%s\t%u\t[\"%s\",\"%s\"]\t", cl->ld->id, addr, a->sub_agent, lo, hi);
			if (put_copy(conn, line, n) != 0)
				return -1;
			for (size_t r = 0; r < t->n; r++)
			{
				n = snprintf(line, sizeof(line), "%s[%" PRId64 ",%" PRId64 "]%s", r ? "," : "{",
							 t->v[r].lo, t->v[r].hi, r + 1 == t->n ? "}\t" : "");
				if (put_copy(conn, line, n) != 0)
					return -1;
			}
			for (size_t r = 0; r < t->n; r++)
			{
				n = snprintf(line, sizeof(line), "%s%" PRId64 ",%" PRId64 "%s", r ? "," : "{",
							 t->v[r].up_lo, t->v[r].up_hi, r + 1 == t->n ? "}\t" : "");
				if (put_copy(conn, line, n) != 0)
					return -1;
			}
			for (size_t r = 0; r < t->n; r++)
			{
				n = snprintf(line, sizeof(line), "%s%" PRId64 ",%" PRId64 "%s", r ? "," : "{",
							 (int64_t) t->v[r].d_lo, (int64_t) t->v[r].d_hi, r + 1 == t->n ? "}\n" : "");
				if (put_copy(conn, line, n) != 0)
					return -1;
			}
		}
	}
	return sh_db_copy_end(conn, NULL);
}

/* After the samples: the agents, and what enrichment keeps. */
static int
capture_after_copy(sh_load *ld)
{
	cload	   *cl = ld->state;
	char		err[512];

	if (db_agents(ld->conn, cl) != 0 || db_seqs(ld->conn, cl) != 0)
		return -1;
	if (cl->opt->enrich &&
		sh_enrich_db_finish(ld->conn, cl->opt->enrich, ld->id, err, sizeof(err)) != 0)
	{
		sh_error("%s", err);
		return -1;
	}
	return 0;
}

static int
capture_update_values(const sh_load *ld, const char **values)
{
	cload	   *cl = ld->state;

	ts_text(cl->first_ts, cl->v[0], 72);
	ts_text(cl->last_ts, cl->v[1], 72);
	snprintf(cl->v[2], 72, "%" PRIu64, cl->frames);
	snprintf(cl->v[3], 72, "%" PRIu64, cl->datagrams);
	snprintf(cl->v[4], 72, "%" PRIu64, cl->counts.flow_samples);
	snprintf(cl->v[5], 72, "%" PRIu64, cl->counts.counter_samples);
	snprintf(cl->v[6], 72, "%" PRIu64, cl->counts.packet_records);
	snprintf(cl->v[7], 72, "%" PRIu64, cl->smtp_rows);
	snprintf(cl->v[8], 72, "%" PRIu64, cl->malformed);
	snprintf(cl->v[9], 72, "%" PRIu64, sh_agents_lost(&cl->agents));
	sh_load_counts_json(cl->skipped, sizeof(cl->skipped), cl->skip, SKIP_COUNT_, skip_name);
	for (int i = 0; i < 10; i++)
		values[i] = cl->v[i];
	if (!cl->have_ts)
		values[0] = values[1] = NULL;
	values[10] = cl->skipped;
	snprintf(cl->v[10], 72, "%" PRIu64, cl->known_datagrams);
	values[11] = cl->v[10];
	return 12;
}

static void
capture_summary(const sh_load *ld, FILE *f, double seconds)
{
	cload	   *cl = ld->state;
	char		skipped[2048];

	fprintf(f, "%" PRIu64 " datagrams, %" PRIu64 " flow samples, %" PRIu64 " SMTP rows, %" PRIu64
			" malformed, %" PRIu64 " lost in transit, %.2f s, %.0f rows/s",
			cl->datagrams, cl->counts.flow_samples, cl->smtp_rows, cl->malformed,
			sh_agents_lost(&cl->agents), seconds, seconds > 0 ? (double) cl->smtp_rows / seconds : 0.0);
	if (cl->known_datagrams > 0)
		fprintf(f, ", %" PRIu64 " datagrams loaded already (not again)", cl->known_datagrams);
	if (cl->cap && sh_capture_frames_sniffed(cl->cap) > 0)
		fprintf(f, ", %" PRIu64 " frames taken as sFlow to a port other than 6343 (by their content)",
				sh_capture_frames_sniffed(cl->cap));
	sh_load_counts_json(skipped, sizeof(skipped), cl->skip, SKIP_COUNT_, skip_name);
	if (strcmp(skipped, "{}") != 0)
		fprintf(f, ", skipped %s", skipped);
	/* enrichment has something to say only when there were addresses to enrich */
	if (cl->opt->enrich && cl->opt->enrich->lookups > 0)
	{
		fprintf(f, "; ");
		sh_enrich_summary(cl->opt->enrich, f);
	}
	/* frames read, no datagram among them: most likely sFlow sent to another port */
	if (cl->frames > 0 && cl->datagrams == 0 && cl->cap)
	{
		fprintf(f, "; no sFlow datagram in its %" PRIu64 " frames (the filter \"%s\" took %" PRIu64
				" of them, the other %" PRIu64 " are skipped as frame_filtered): sFlow sent to another port?",
				cl->frames, sh_capture_filter(cl->cap), sh_capture_frames_matched(cl->cap),
				cl->frames - sh_capture_frames_matched(cl->cap));
		if (ld->id > 0)
			fprintf(f, " Delete this load (DELETE FROM spamhints.load WHERE load_id = %d) and load", (int) ld->id);
		else
			fprintf(f, " Load");
		fprintf(f, " the file with --filter (e.g. --filter 'udp port 9995')");
	}
}

static void
capture_close(sh_load *ld)
{
	cload	   *cl = ld->state;

	for (int a = 0; a < cl->nasked; a++)
		PQclear(cl->asked[a].res);
	for (size_t i = 0; i < cl->nknown; i++)
		sh_known_free(&cl->known[i]);
	free(cl->known);
	sh_agents_free(&cl->agents);
	free(cl->fs);
	sh_capture_close(cl->cap);
}

/* The hooks by phase: the load row, reading, the end of the load, its summary. */
const sh_pipeline sh_capture_pipeline = {
	.input = "capture", .row_noun = "load", .count_label = "SMTP rows", .state_size = sizeof(cload),
	.table = "spamhints.load", .id_column = "load_id",
	.open = capture_open,
	.insert_columns = "smtp_ports, filter",
	.insert_values = capture_insert_values,
	.copy_sql = capture_copy_sql, .read = capture_read, .after_copy = capture_after_copy,
	.update_set = "first_ts = $4, last_ts = $5, frames = $6, datagrams = $7, flow_samples = $8, "
	"counter_samples = $9, sampled_packets = $10, smtp_rows = $11, malformed = $12, "
	"lost_datagrams = $13, skipped = $14, known_datagrams = $15",
	.update_values = capture_update_values,
	.after_commit_sql = "SELECT count(*) FROM spamhints.maintain_partitions()",
	.summary = capture_summary, .close = capture_close,
};
