/*
 * loader/capture/known.h: which sFlow datagrams are known already, so that
 * each is loaded once whatever file carries it.
 *
 * A datagram is identified by its agent, sub-agent, sequence number and
 * uptime (ms): the same sequence number is the same datagram when its uptime
 * fits (within SH_BOOT_SLACK_MS of the uptimes of the range it falls in) and
 * it belongs to the same run of the agent (a boot: its sequence numbers and
 * uptime counting on together).
 *
 * Runs. Within one load, the datagrams of a sub-agent are split into runs by
 * their own numbers, not by the capture time: a datagram continues a run when
 * its sequence number is at most SH_REORDER_SEQS behind the run's last and its
 * uptime at most SH_BOOT_SLACK_MS behind and SH_RUN_GAP_MS ahead (modulo
 * 2^32: a sequence number or an uptime that wraps goes on counting). Anything else (an agent restart: both
 * start again; the same datagrams again later in the file) begins another
 * run; runs of the same boot know each other's datagrams. A run's
 * boot is estimated from the capture times less the uptimes of its
 * datagrams (lowest to highest), so a fast replay of a long capture (capture
 * times hours apart squeezed into seconds) is one run, not a run per
 * datagram, whose boot spans what the squeeze made of it. At most SH_RUNS_MAX runs per
 * sub-agent and load: more is made up (a sender of random numbers), and the
 * datagrams past it are refused (sh_known_take returns 2), counted.
 *
 * What earlier loads took (spamhints.known_datagrams()) is kept per
 * sub-agent as ranges with the uptimes of their first and last datagrams and
 * the boot of their load. A datagram is known when a range holds its sequence
 * number, its uptime fits the range's, and the range's boot is its run's
 * (within SH_BOOT_SLACK_MS), or the range's boot was found to be its run's:
 * a datagram with exactly the sequence number, uptime and digest (of its
 * bytes: sh_datagram_digest) of a range's first or last datagram ties the
 * two boots (a replay: the same datagrams, received at other times; two
 * datagrams that only share their numbers, a restart's or a test fixture's,
 * do not).
 */
#ifndef SPAMHINTS_KNOWN_H
#define SPAMHINTS_KNOWN_H

#include <stddef.h>
#include <stdint.h>

/* Two boot estimates this close (ms) are the same boot; uptimes this far out of order still fit. */
#define SH_BOOT_SLACK_MS	10000
/* A sequence number this far behind a run's last still continues it (datagrams out of order). */
#define SH_REORDER_SEQS		4096
/* An uptime this far past a run's last begins another run (of the same boot, when it is). */
#define SH_RUN_GAP_MS		86400000
/* Runs (boots) of one sub-agent in one load. */
#define SH_RUNS_MAX			64
/*
 * The history is asked for by hours of uptime (a bucket: uptime / this),
 * the hours a datagram's uptime is in, within the slack: what earlier loads
 * took of those hours, not of an agent's whole life.
 */
#define SH_UPTIME_BUCKET_MS	3600000
#define SH_UPTIME_BUCKETS	((int) ((UINT64_C(1) << 32) / SH_UPTIME_BUCKET_MS + 1))
/* An uptime not known (ranges of loads that did not record them). */
#define SH_UP_NONE			INT64_C(-1)

/* Sequence numbers lo..hi (inclusive), and the uptimes and digests of the datagrams at lo and at hi. */
typedef struct sh_seq_range
{
	int64_t		lo;
	int64_t		hi;
	int64_t		up_lo;
	int64_t		up_hi;
	uint64_t	d_lo;			/* 0: not known */
	uint64_t	d_hi;
} sh_seq_range;

/* The digest of a datagram's bytes (XXH3, never 0). */
uint64_t	sh_datagram_digest(const void *bytes, size_t len);

/* Sequence numbers as sorted, disjoint, non-adjacent ranges. */
typedef struct sh_seqset
{
	sh_seq_range *v;
	size_t		n;
	size_t		cap;
} sh_seqset;

/* 1 when seq is in the set, else 0. */
int			sh_seqset_has(const sh_seqset *s, int64_t seq);

/* The range holding seq, or NULL. */
const sh_seq_range *sh_seqset_find(const sh_seqset *s, int64_t seq);

/* Add lo..hi (inclusive), uptimes not known: 0, or -1 out of memory. */
int			sh_seqset_add_range(sh_seqset *s, int64_t lo, int64_t hi);

/* Add one datagram, its sequence number, uptime and digest: 0, or -1 out of memory. */
int			sh_seqset_add(sh_seqset *s, int64_t seq, int64_t up, uint64_t digest);

void		sh_seqset_free(sh_seqset *s);

/* One run of a sub-agent in this load. */
typedef struct sh_run
{
	int64_t		boot_lo;		/* its boot estimates (capture time less uptime, ms): lowest, highest */
	int64_t		boot_hi;
	uint32_t	last_seq;		/* the highest sequence number and uptime it went to */
	uint32_t	last_up;
	sh_seqset	taken;			/* the datagrams this load took */
	uint64_t	tied;			/* the other runs found to be the same datagrams (bit per run) */
} sh_run;

/* A range an earlier load took, with the boot of that load (history). */
typedef struct sh_past
{
	sh_seq_range r;
	int64_t		boot_lo;
	int64_t		boot_hi;
	uint32_t	boot_no;		/* its boot's index in sh_known.tied */
} sh_past;

/* One agent and sub-agent of a load. Zeroed: nothing known, not asked yet. */
typedef struct sh_known
{
	sh_past    *past;			/* sorted by r.lo once ready */
	int64_t    *past_max_hi;	/* past_max_hi[i]: the highest r.hi of past[0..i] */
	size_t		npast;
	size_t		cappast;
	uint64_t   *tied;			/* per boot of the history: the runs tied to it (bit per run) */
	size_t		nboots;
	size_t		ntied;			/* boots tied has room for */
	int64_t		last_boot_lo;	/* the boot of the range added last */
	int64_t		last_boot_hi;
	int			ready;
	uint64_t	asked[(SH_UPTIME_BUCKETS + 63) / 64];	/* the hours of uptime asked for */
	int			asked_all;		/* the whole history was (or there is none) */
	sh_run	   *runs;			/* at most SH_RUNS_MAX */
	size_t		nruns;
	size_t		capruns;
	size_t		cur;			/* the run of the last datagram */
} sh_known;

/*
 * The hour of uptime (bucket) the history of the sub-agent lacks for a
 * datagram of uptime up (its hour, or the one within the slack before or
 * after it), or -1 when it has them.
 */
int			sh_known_lacks(const sh_known *k, uint32_t up);

/*
 * Was a history range of a row whose uptimes span span_lo..span_hi
 * (SH_UP_NONE: not known) in an answer before? 1 when an hour it spans was
 * asked for already (its ranges were added then), else 0.
 */
int			sh_known_had(const sh_known *k, int64_t span_lo, int64_t span_hi);

/* The history of hours lo..hi (lo -1: of every hour) is in now. */
void		sh_known_asked(sh_known *k, int lo, int hi);

/*
 * What earlier loads took: seq_lo..seq_hi with the uptimes of its first and
 * last datagram (SH_UP_NONE when not known) and their digests (0: not
 * known), at a boot estimated
 * boot_lo..boot_hi. Ranges of one boot come one after another. At any time,
 * also after datagrams were taken. 0, or -1.
 */
int			sh_known_add(sh_known *k, int64_t boot_lo_ms, int64_t boot_hi_ms,
						 int64_t seq_lo, int64_t seq_hi, int64_t up_lo, int64_t up_hi,
						 uint64_t d_lo, uint64_t d_hi);

/*
 * A datagram of the sub-agent, its boot estimate boot_ms, sequence number,
 * uptime and digest: 1 when it is known (an earlier load, or this one, took it), 0
 * when it is new and now taken by this load, 2 when it would begin a run past
 * SH_RUNS_MAX (not taken), -1 out of memory.
 */
int			sh_known_take(sh_known *k, int64_t boot_ms, uint32_t seq, uint32_t uptime_ms, uint64_t digest);

void		sh_known_free(sh_known *k);

#endif							/* SPAMHINTS_KNOWN_H */
