/*
 * loader/capture/capture.h: reading captures with libpcap, first stage of the loader.
 *
 * A capture (pcap or pcapng, a file or standard input, plain or gzip'd:
 * input.h) is read once, front to back; its SHA-256 is computed from the
 * bytes as libpcap reads them (a gzip'd capture's decompressed bytes), so
 * the content hash costs no second pass. Each packet that matches the BPF
 * filter is unwrapped down to its UDP payload: the sFlow datagram.
 */
#ifndef SPAMHINTS_CAPTURE_H
#define SPAMHINTS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

typedef struct sh_capture sh_capture;

/*
 * Why a captured packet held no datagram: every frame of a capture is
 * handed over, those the filter did not take as SH_FRAME_FILTERED, so that
 * each one is decoded or counted under a reason.
 */
typedef enum sh_frame_status
{
	SH_FRAME_OK = 0,
	SH_FRAME_NOT_UDP,			/* not IPv4/IPv6 UDP (the filter let it through) */
	SH_FRAME_TRUNCATED,			/* cut by the snapshot length (a UDP length past the bytes captured) */
	SH_FRAME_FRAGMENT,			/* an IP fragment: the datagram is not whole */
	SH_FRAME_BAD_TIME,			/* a capture time PostgreSQL cannot hold (pcapng allows any) */
	SH_FRAME_EMPTY,				/* a UDP datagram with no payload at all */
	SH_FRAME_NO_TIME,			/* pcapng without a time (simple packet block, or time 0) */
	SH_FRAME_FILTERED,			/* the filter did not take it (counted, not malformed) */
	SH_FRAME_LINK_TYPE,			/* a pcapng interface of a link type not read (802.11, USB...) */
	SH_FRAME_BAD_UDP_LENGTH,	/* a UDP length below 8, or past its whole, unfragmented IP packet */
	SH_FRAME_COUNT_
} sh_frame_status;

typedef struct sh_frame
{
	uint64_t	number;			/* position in the capture, from 1, as Wireshark counts */
	int64_t		ts_sec;
	int32_t		ts_usec;
	sh_addr		sender;			/* outer source address (the agent's, usually) */
	const uint8_t *payload;		/* the UDP payload, valid until the next call */
	size_t		len;
	sh_frame_status status;
} sh_frame;

/* The last second a frame may be stamped with: 9999-12-31 23:59:59 UTC. */
#define SH_CAPTURE_MAX_SEC 253402300799LL

/*
 * The default filters: sFlow's port, and on Ethernet also behind one or two
 * VLAN tags (802.1Q, 802.1ad, 0x9100). Each "vlan" moves the offsets of the
 * rest of the expression by a tag, hence the nesting.
 */
#define SH_DEFAULT_FILTER "udp port 6343"
#define SH_DEFAULT_FILTER_ETHERNET \
	"udp port 6343 or (vlan and (udp port 6343 or (vlan and udp port 6343)))"

/*
 * Without --filter, a UDP datagram to or from another port is sFlow too
 * when its payload starts as one (version 2, 4 or 5, then an agent address
 * of type IPv4 or IPv6): a collector's spool file converted to pcap, or a
 * capture of sFlow sent to 9995, loads as it is. BPF cannot say it for
 * IPv6 (libpcap indexes udp[] of IPv4 only), so the loader checks it; the
 * filter text recorded in spamhints.load.filter says so.
 */
#define SH_DEFAULT_SNIFF_TEXT " (or UDP starting as sFlow, any port)"

/*
 * Open path ("-" is standard input) with filter as a BPF expression (NULL:
 * the default for the capture's link type). On failure returns NULL and
 * writes the reason into err, without the path (input.h: missing, a
 * directory, empty, corrupt gzip; not a capture; an unsupported link type).
 */
sh_capture *sh_capture_open(const char *path, const char *filter, char *err, size_t errlen);

/*
 * The next packet: 1 with *frame filled (status SH_FRAME_FILTERED when the
 * filter did not take it; then only number and times are set), 0 at the end
 * of the capture, -2 when the capture ends inside a record (cut short: a
 * copy interrupted, a full disk), -1 on another read error (an interface of
 * another link type in a pcapng file, a corrupt block, an I/O error). The
 * reason is in err.
 */
int			sh_capture_next(sh_capture *cap, sh_frame *frame, char *err, size_t errlen);

/* The BPF expression in use. */
const char *sh_capture_filter(const sh_capture *cap);

/* Every packet read so far, matching the filter or not. */
uint64_t	sh_capture_frames_read(const sh_capture *cap);
/* Of them, the frames the filter took (by BPF, or as sFlow on another port). */
uint64_t	sh_capture_frames_matched(const sh_capture *cap);
/* Of those, the frames taken only because their UDP payload starts as sFlow. */
uint64_t	sh_capture_frames_sniffed(const sh_capture *cap);

/* Bytes of the capture read so far (decompressed; after sh_capture_finish(), all of them). */
uint64_t	sh_capture_bytes_read(const sh_capture *cap);
/* For progress: bytes of the file itself read so far, and its size (0 when unknown, e.g. a pipe). */
uint64_t	sh_capture_position(const sh_capture *cap);
uint64_t	sh_capture_size(const sh_capture *cap);

/* Read whatever libpcap left unread (so the hash covers the whole file), then the hex SHA-256. */
int			sh_capture_finish(sh_capture *cap, char hex[65], char *err, size_t errlen);

const char *sh_frame_status_name(sh_frame_status status);

void		sh_capture_close(sh_capture *cap);

#endif							/* SPAMHINTS_CAPTURE_H */
