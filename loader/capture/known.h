/*
 * loader/capture/known.h: which sFlow datagrams are known already, so that
 * each is loaded once whatever file carries it.
 *
 * A datagram is identified by its agent, sub-agent, sequence number and the
 * agent's boot: its capture time less its uptime (ms), the same boot within
 * SH_BOOT_SLACK_MS (clocks drift, datagrams wait in queues). Per agent (the
 * caller keeps one sh_known per agent of a load), the boots seen: for each,
 * the sequence numbers that earlier loads took (from the database:
 * spamhints.known_datagrams()) and those this load took, as sorted ranges
 * (consecutive numbers collapse: a capture without loss is one range per
 * boot). A datagram whose number is in either is known: skipped, counted.
 */
#ifndef SPAMHINTS_KNOWN_H
#define SPAMHINTS_KNOWN_H

#include <stddef.h>
#include <stdint.h>

/* Two boot estimates this close (ms) are the same boot. */
#define SH_BOOT_SLACK_MS	10000

/* Sequence numbers as sorted, disjoint, non-adjacent inclusive ranges. */
typedef struct sh_seq_range
{
	int64_t		lo;
	int64_t		hi;
} sh_seq_range;

typedef struct sh_seqset
{
	sh_seq_range *v;
	size_t		n;
	size_t		cap;
} sh_seqset;

/* 1 when seq is in the set, else 0. */
int			sh_seqset_has(const sh_seqset *s, int64_t seq);

/* Add lo..hi (inclusive): 0, or -1 out of memory. */
int			sh_seqset_add_range(sh_seqset *s, int64_t lo, int64_t hi);

void		sh_seqset_free(sh_seqset *s);

/* One boot of an agent. */
typedef struct sh_boot
{
	int64_t		lo_ms;			/* the boot estimates seen, earlier loads' and this one's */
	int64_t		hi_ms;
	int64_t		own_lo_ms;		/* this load's estimates (when taken.n > 0) */
	int64_t		own_hi_ms;
	sh_seqset	known;			/* taken by earlier loads */
	sh_seqset	taken;			/* taken by this load */
} sh_boot;

/* One agent (and sub-agent) of a load. Zeroed: nothing known, not asked yet. */
typedef struct sh_known
{
	sh_boot    *boots;
	size_t		n;
	size_t		cap;
	int			asked;			/* the database was asked (or there is none to ask) */
} sh_known;

/* What earlier loads took: seq_lo..seq_hi at a boot estimated boot_lo..boot_hi. 0, or -1. */
int			sh_known_add(sh_known *k, int64_t boot_lo_ms, int64_t boot_hi_ms,
						 int64_t seq_lo, int64_t seq_hi);

/*
 * A datagram of the agent, its boot estimate boot_ms and sequence number:
 * 1 when it is known (an earlier load, or this one, took it), 0 when it is
 * new and now taken by this load, -1 out of memory.
 */
int			sh_known_take(sh_known *k, int64_t boot_ms, int64_t seq);

void		sh_known_free(sh_known *k);

#endif							/* SPAMHINTS_KNOWN_H */
