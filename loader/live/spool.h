/*
 * loader/live/spool.h: the spool files of spamhints-load --listen, pcapng
 * written by hand.
 *
 * A spool file is a capture like any other: a Section Header Block, one
 * Interface Description Block (LINKTYPE_RAW, nanosecond times), an Enhanced
 * Packet Block per datagram received, and at its close an Interface
 * Statistics Block with what the collector counted while it was open.
 * Each datagram is framed as the IPv4 or IPv6 packet that carried it: the
 * sender's address and port as source, the collector's address and port as
 * destination, correct lengths and checksums (IPv4 header and UDP), so that
 * the capture reader and tshark decode it as they would a real capture.
 *
 * Nothing here does I/O but spool_recover() and spool_read_stats(): the
 * blocks are built into memory the caller provides (and the unit tests
 * check byte for byte).
 */
#ifndef SPAMHINTS_SPOOL_H
#define SPAMHINTS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* pcapng's link type of a frame that starts with the IP header. */
#define SPOOL_LINKTYPE_RAW	101

/* Bytes before a datagram's payload in its Enhanced Packet Block: block header, IPv6 + UDP header. */
#define SPOOL_HEADROOM		(28 + 40 + 8)
/* Bytes after it: padding to 32 bits and the block's trailing length. */
#define SPOOL_TAILROOM		(3 + 4)
/* The largest UDP payload a frame holds. */
#define SPOOL_MAX_PAYLOAD	65535

/* One datagram as received. */
typedef struct spool_dgram
{
	sh_addr		src;			/* the sender */
	uint16_t	src_port;
	sh_addr		dst;			/* the collector's address it was sent to */
	uint16_t	dst_port;
	int64_t		ts_ns;			/* kernel receive time, ns since 1970 */
} spool_dgram;

/* What the collector counted while a file was open (its Interface Statistics Block). */
typedef struct spool_stats
{
	int64_t		opened_ns;
	int64_t		closed_ns;
	uint64_t	received;		/* datagrams read from the sockets */
	uint64_t	accepted;		/* of those, from senders --agents allows: spooled */
	uint64_t	kernel_dropped; /* dropped at the sockets for want of buffer (SO_RXQ_OVFL) */
	int			have_dropped;	/* 0: the kernel gave no drop counter */
} spool_stats;

/*
 * The Section Header Block and the Interface Description Block that open a
 * spool file, with comment (the collector, its process, the time) in the
 * section header: it makes every file's bytes, and so its SHA-256, its own.
 * Returns the length written into out, or 0 when outlen is too small.
 */
size_t		spool_file_header(uint8_t *out, size_t outlen, const char *comment);

/*
 * The Enhanced Packet Block of one datagram, built around its payload in
 * place: buf holds the payload of len bytes at buf + SPOOL_HEADROOM and has
 * SPOOL_TAILROOM bytes after it. Returns where the block starts (inside
 * buf) and sets *blocklen; NULL when len is more than one UDP datagram of
 * the family holds (65,507 bytes over IPv4, 65,527 over IPv6: the 16-bit
 * lengths of the headers) or the two addresses are not of one family.
 */
uint8_t    *spool_frame(uint8_t *buf, size_t len, const spool_dgram *d, size_t *blocklen);

/* The Interface Statistics Block that closes a file. Returns its length, or 0. */
size_t		spool_file_trailer(uint8_t *out, size_t outlen, const spool_stats *st);

/* The ones' complement sum of RFC 1071 over data, added to sum (not folded). */
uint32_t	spool_csum_add(uint32_t sum, const uint8_t *data, size_t len);
/* Fold and complement. */
uint16_t	spool_csum_end(uint32_t sum);

/*
 * Close a spool file a collector left open (a crash, kill -9): cut it after
 * its last whole block, so that it reads as a capture with every datagram
 * that was written whole. Returns the number of Enhanced Packet Blocks it
 * holds, -1 when it is not a spool file that can be read (err says why), or
 * -2 when it holds no interface at all (nothing was received: it can go).
 * *cut is set to the bytes cut off.
 */
long		spool_recover(int fd, uint64_t *cut, char *err, size_t errlen);

/*
 * The statistics of a closed spool file, from its last block: 1 and *st
 * set, 0 when it has none (a file recovered after a crash), -1 on a read
 * error.
 */
int			spool_read_stats(int fd, spool_stats *st);

#endif							/* SPAMHINTS_SPOOL_H */
