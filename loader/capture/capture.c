/*
 * loader/capture/capture.c: captures in, sFlow datagrams out.
 *
 * libpcap reads the file through a stdio stream of our own (fopencookie)
 * that takes its bytes from input.h, which hashes every byte on its way to
 * libpcap (the content hash comes for free, whether the capture is a file
 * or a pipe) and decompresses a gzip'd capture: libpcap sees the capture's
 * own bytes. The BPF filter is applied
 * with pcap_offline_filter() rather than pcap_setfilter() so that every packet
 * is still counted and frame numbers stay those Wireshark shows.
 *
 * A pcapng file may hold several sections (cat a.pcapng b.pcapng makes
 * one), each with its own byte order and interfaces; libpcap stops at a
 * section in the other byte order or with another link type. So the stream
 * follows the block framing (type, total length, the section header's
 * byte-order magic; nothing else of a block is read here) and ends at each
 * new section header: every section is opened with libpcap on its own,
 * frame numbers counting on across them as Wireshark counts. It also
 * passes each interface's snapshot length as 0 (none): libpcap refuses a
 * packet longer than its interface's, which Wireshark reads (and a pcap
 * file's, which libpcap would cut a longer record to). Blocks Wireshark
 * numbers as frames and libpcap skips (custom blocks, systemd journal
 * entries, sysdig events) count in the frame numbers.
 *
 * Interfaces of several link types in one section (mergecap of a raw-IP
 * spool file and an Ethernet capture) libpcap refuses too: the stream gives
 * it every interface of a section with the link type of the first, keeps
 * each interface's own, and notes for every packet block passed on the link
 * type of its interface, in the order libpcap returns the packets; each
 * frame is then read (and filtered) by its own link type, and a frame of a
 * link type the loader cannot read is counted (frame_link_type).
 */
#include "capture.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "input.h"
#include "packet.h"

/* The filter compiled for one link type (DLT_ value). */
typedef struct link_filter
{
	int			dlt;
	pcap_t	   *dead;			/* pcap_open_dead() of the link type, to compile with */
	struct bpf_program prog;
} link_filter;

#define MAX_LINK_FILTERS 16

struct sh_capture
{
	sh_input   *in;				/* the file itself, or stdin; gzip'd or not */
	FILE	   *hashing;		/* stdio stream libpcap reads; hashes as it goes */
	pcap_t	   *pcap;
	link_filter filters[MAX_LINK_FILTERS];
	int			nfilters;
	int			linktype;		/* pcap: the file's; pcapng: the section's first interface's */
	/* pcapng: the link type (DLT_) of each interface of the current section */
	int		   *if_dlt;
	size_t		nif;
	size_t		capif;
	/* pcapng: the link types of the packet blocks passed on, not yet returned (a ring) */
	int		   *pending;
	size_t		pending_head;
	size_t		npending;
	size_t		cappending;
	int			oom;
	int			pcapng;			/* 1: pcapng (64-bit times), 0: pcap (unsigned 32-bit seconds) */
	char		filter_text[1024];
	char		where[96];		/* the current section, for messages: "" for the first */
	char	   *user_filter;	/* --filter, or NULL: the link type's default */
	uint64_t	bytes_read;		/* of the capture (decompressed) */
	uint64_t	frames;			/* packets read */
	uint64_t	other_frames;	/* pcapng blocks before them Wireshark numbers as frames */
	uint64_t	matched;		/* of them, those the filter took */
	uint64_t	sniffed;		/* of those, taken as sFlow on another port (no --filter) */
	int			read_error;
	int			at_eof;			/* the file has no more bytes */

	/* pcapng framing (pcapng set): where the stream stands in the blocks */
	int			framing;		/* 0: a block's length made no sense; bytes pass as they are */
	int			big_endian;		/* the current section's byte order */
	int			section_end;	/* the next section's header is read: the stream ends here */
	int			sections;		/* sections opened so far */
	uint64_t	section_offset; /* where the current section starts in the file */
	uint64_t	blocks;			/* blocks begun in the current section */
	uint8_t		head[24];		/* the start of the current block (pcap: the file header), as libpcap gets it */
	size_t		head_len;
	size_t		head_pos;
	uint64_t	block_left;		/* the current block's bytes after head */
	int			cut_in_block;	/* the file ended inside a block */
};

/* Up to size bytes of the capture, hashed: how many (0 at its end), or -1. */
static ssize_t
read_file(sh_capture *cap, void *buf, size_t size)
{
	ssize_t		n = sh_input_read(cap->in, buf, size);

	if (n < 0)
	{
		cap->read_error = 1;
		return -1;
	}
	if ((size_t) n < size)
		cap->at_eof = 1;
	cap->bytes_read += (uint64_t) n;
	return n;
}

static uint32_t
get32(const sh_capture *cap, const uint8_t *p)
{
	if (cap->big_endian)
		return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
	return (uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 | (uint32_t) p[1] << 8 | p[0];
}

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 1u

/*
 * Read head bytes of the block at the current position until it holds want:
 * 1 when it does, 0 when the file ended first (cut_in_block set when some
 * bytes came), -1 on a read error.
 */
static int
fill_head(sh_capture *cap, size_t want)
{
	while (cap->head_len < want)
	{
		ssize_t		n = read_file(cap, cap->head + cap->head_len, want - cap->head_len);

		if (n < 0)
			return -1;
		if (n == 0)
		{
			if (cap->head_len > 0)
				cap->cut_in_block = 1;
			return 0;
		}
		cap->head_len += (size_t) n;
	}
	return 1;
}

#define PCAPNG_PB	2u				/* the obsolete packet block */
#define PCAPNG_SPB	3u
#define PCAPNG_EPB	6u
#define PCAPNG_JOURNAL 9u			/* systemd journal export block */
#define PCAPNG_CB_COPY 0x00000BADu	/* custom blocks */
#define PCAPNG_CB_NO_COPY 0x40000BADu

/*
 * In the ring of pending link types: not a packet, a block Wireshark numbers
 * as a frame of its own (a custom block, a systemd journal entry, a sysdig
 * event) and libpcap skips, so that frame numbers stay Wireshark's.
 */
#define NOT_A_PACKET (-2)

/* Does Wireshark (tshark 4.0) number a block of this type as a frame? */
static int
numbered_block(uint32_t type, uint32_t length)
{
	switch (type)
	{
		case PCAPNG_CB_COPY:
		case PCAPNG_CB_NO_COPY:
			return length >= 16;	/* its private enterprise number; shorter, Wireshark stops */
		case PCAPNG_JOURNAL:
			return length >= 12 + 23;	/* a shorter entry Wireshark calls corrupt */
		case 0x204:				/* sysdig events, with and without flags, v1, v2, large */
		case 0x208:
		case 0x216:
		case 0x217:
		case 0x221:
		case 0x222:
			return 1;
		default:
			return 0;
	}
}

/*
 * A pcapng LINKTYPE_ value as libpcap's DLT_ value, for the link types read
 * here (the others keep their number: they are counted, not read).
 */
static int
linktype_to_dlt(uint32_t linktype)
{
	switch (linktype)
	{
		case 101:				/* LINKTYPE_RAW */
		case 12:				/* DLT_RAW's number on most systems, found in old files */
		case 14:				/* and on OpenBSD */
			return DLT_RAW;
		case 108:				/* LINKTYPE_LOOP */
			return DLT_LOOP;
		default:
			return (int) linktype;
	}
}

/* Note the link type of a packet block passed on to libpcap. 0, or -1 out of memory. */
static int
pending_push(sh_capture *cap, int dlt)
{
	if (cap->npending == cap->cappending)
	{
		size_t		n = cap->cappending ? 2 * cap->cappending : 1024;
		int		   *v = malloc(n * sizeof(*v));

		if (v == NULL)
		{
			cap->oom = 1;
			return -1;
		}
		for (size_t i = 0; i < cap->npending; i++)
			v[i] = cap->pending[(cap->pending_head + i) % cap->cappending];
		free(cap->pending);
		cap->pending = v;
		cap->pending_head = 0;
		cap->cappending = n;
	}
	cap->pending[(cap->pending_head + cap->npending) % cap->cappending] = dlt;
	cap->npending++;
	return 0;
}

/* The link type of the packet libpcap returned: the oldest noted, or the section's. */
static int
pending_pop(sh_capture *cap)
{
	int			dlt;

	if (cap->npending == 0)
		return cap->linktype;
	dlt = cap->pending[cap->pending_head];
	cap->pending_head = (cap->pending_head + 1) % cap->cappending;
	cap->npending--;
	return dlt;
}

/* The link type of interface i of the current section, -1 when there is none such. */
static int
interface_dlt(const sh_capture *cap, uint32_t i)
{
	return i < cap->nif ? cap->if_dlt[i] : -1;
}

/*
 * An interface description block's head (16 bytes): keep its link type,
 * and give libpcap Ethernet's instead, for every interface alike (libpcap
 * compares a later interface's LINKTYPE_ with the first's DLT_, which
 * differ for raw IP: even two raw-IP interfaces would stop it). libpcap
 * does nothing by link type to an Ethernet frame: the bytes come as they
 * are, to be read by the interface's own link type. 0, or -1.
 */
static int
add_interface(sh_capture *cap)
{
	uint8_t    *lt = cap->head + 8;
	uint32_t	linktype = cap->big_endian ? (uint32_t) (lt[0] << 8 | lt[1]) : (uint32_t) (lt[1] << 8 | lt[0]);

	if (cap->nif == cap->capif)
	{
		size_t		n = cap->capif ? 2 * cap->capif : 8;
		int		   *v = realloc(cap->if_dlt, n * sizeof(*v));

		if (v == NULL)
		{
			cap->oom = 1;
			return -1;
		}
		cap->if_dlt = v;
		cap->capif = n;
	}
	cap->if_dlt[cap->nif++] = linktype_to_dlt(linktype);
	lt[0] = cap->big_endian ? 0 : 1;	/* LINKTYPE_ETHERNET */
	lt[1] = cap->big_endian ? 1 : 0;
	return 0;
}

/*
 * At a block boundary: read the next block's head. Returns 1 when there is
 * a block to pass on, 0 at the end of the stream (of the file, or of the
 * section: section_end), -1 on a read error.
 */
static int
next_block(sh_capture *cap)
{
	uint64_t	start = cap->bytes_read;
	uint32_t	type,
				length;
	int			r,
				new_section = 0;

	cap->block_left = 0;
	if ((r = fill_head(cap, 8)) < 0)
		return -1;
	if (r == 0)
		return cap->head_len > 0;	/* cut in a block header: libpcap gets what there is */
	type = get32(cap, cap->head);	/* the section header's type reads the same in both orders */
	if (type == PCAPNG_SHB)
	{
		if ((r = fill_head(cap, 12)) <= 0)
			return r < 0 ? -1 : 1;	/* cut: libpcap says so */
		if (memcmp(cap->head + 8, "\x1A\x2B\x3C\x4D", 4) == 0)
			cap->big_endian = 1;
		else if (memcmp(cap->head + 8, "\x4D\x3C\x2B\x1A", 4) == 0)
			cap->big_endian = 0;
		else
			cap->framing = 0;	/* not a section header: libpcap refuses it */
		if (cap->blocks > 0)
		{
			new_section = 1;
			cap->blocks = 0;
			cap->section_offset = start;
		}
		cap->nif = 0;			/* a section's interfaces are its own */
	}
	length = get32(cap, cap->head + 4);
	if (length < 12 || length % 4 != 0)
		cap->framing = 0;
	else if (type == PCAPNG_IDB && length >= 20)
	{
		if ((r = fill_head(cap, 16)) < 0)
			return -1;
		/* the snapshot length: 0, none (libpcap then allows its maximum) */
		if (r == 1)
		{
			memset(cap->head + 12, 0, 4);
			if (add_interface(cap) != 0)
				return -1;
		}
	}
	else if (type == PCAPNG_EPB || type == PCAPNG_PB)
	{
		/* the interface: 32 bits in an enhanced packet block, 16 in the obsolete one */
		if ((r = fill_head(cap, 12)) < 0)
			return -1;
		if (r == 1 && pending_push(cap, type == PCAPNG_EPB ? interface_dlt(cap, get32(cap, cap->head + 8)) :
								   interface_dlt(cap, cap->big_endian ? (uint32_t) (cap->head[8] << 8 | cap->head[9]) :
												 (uint32_t) (cap->head[9] << 8 | cap->head[8]))) != 0)
			return -1;
	}
	else if (type == PCAPNG_SPB && pending_push(cap, interface_dlt(cap, 0)) != 0)
		return -1;
	else if (cap->framing && numbered_block(type, length) && pending_push(cap, NOT_A_PACKET) != 0)
		return -1;
	cap->blocks++;
	if (cap->framing && length > cap->head_len)
		cap->block_left = length - cap->head_len;
	if (new_section)
	{
		cap->section_end = 1;	/* its head waits for the next stream */
		return 0;
	}
	return 1;
}

/* The stream libpcap reads: the file's bytes, up to the end of the current section. */
static ssize_t
section_read(void *cookie, char *buf, size_t size)
{
	sh_capture *cap = cookie;
	size_t		done = 0;

	while (done < size && !cap->section_end)
	{
		ssize_t		n;

		if (cap->head_pos < cap->head_len)
		{
			n = (ssize_t) (cap->head_len - cap->head_pos);
			if ((size_t) n > size - done)
				n = (ssize_t) (size - done);
			memcpy(buf + done, cap->head + cap->head_pos, (size_t) n);
			cap->head_pos += (size_t) n;
		}
		else if (!cap->pcapng || !cap->framing)
			n = read_file(cap, buf + done, size - done);
		else if (cap->block_left > 0)
		{
			size_t		want = size - done;

			if (want > cap->block_left)
				want = (size_t) cap->block_left;
			n = read_file(cap, buf + done, want);
			if (n >= 0)
				cap->block_left -= (uint64_t) n;
			if (n == 0)
				cap->cut_in_block = 1;
		}
		else
		{
			int			r;

			cap->head_len = cap->head_pos = 0;
			r = next_block(cap);

			if (r < 0)
				return done > 0 ? (ssize_t) done : -1;
			if (r == 0)
				break;
			continue;
		}
		if (n < 0)
			return done > 0 ? (ssize_t) done : -1;
		if (n == 0)
			break;
		done += (size_t) n;
	}
	return (ssize_t) done;
}

static int
linktype_supported(int linktype)
{
	switch (linktype)
	{
		case DLT_EN10MB:
		case DLT_RAW:
		case DLT_IPV4:
		case DLT_IPV6:
		case DLT_LINUX_SLL:
		case DLT_LINUX_SLL2:
		case DLT_NULL:
		case DLT_LOOP:
			return 1;
		default:
			return 0;
	}
}

/*
 * The BPF expression for frames of link type dlt: --filter, or by default
 * sFlow's port, on Ethernet also behind one or two VLAN tags (a collector
 * listening on a trunk port, or a QinQ one, sees its sFlow tagged, and
 * plain "udp port 6343" misses it).
 */
static const char *
default_filter(const sh_capture *cap, int dlt)
{
	if (cap->user_filter)
		return cap->user_filter;
	return dlt == DLT_EN10MB ? SH_DEFAULT_FILTER_ETHERNET : SH_DEFAULT_FILTER;
}

static const struct bpf_program *link_filter_for(sh_capture *cap, int dlt, char *err, size_t errlen);

/*
 * Open the section that starts at the stream's position with libpcap.
 * 0, or -1 with the reason in err.
 */
static int
open_section(sh_capture *cap, char *err, size_t errlen)
{
	static const cookie_io_functions_t io = {.read = section_read};
	char		pcap_err[PCAP_ERRBUF_SIZE];
	char		where[96] = "";

	cap->sections++;
	cap->section_end = 0;
	if (cap->sections > 1)
		snprintf(where, sizeof(where), " (the section at byte offset %" PRIu64 ", after frame %" PRIu64 ")",
				 cap->section_offset, cap->frames);
	cap->hashing = fopencookie(cap, "r", io);
	if (cap->hashing == NULL)
	{
		snprintf(err, errlen, "fopencookie: %s", strerror(errno));
		return -1;
	}
	setvbuf(cap->hashing, NULL, _IOFBF, 1 << 20);

	cap->pcap = pcap_fopen_offline(cap->hashing, pcap_err);
	if (cap->pcap == NULL)
	{
		if (cap->read_error)
			snprintf(err, errlen, "%s", sh_input_error(cap->in));
		else if (cap->sections > 1)
			snprintf(err, errlen, "%s%s", pcap_err, where);
		else
			snprintf(err, errlen, "is not a pcap or pcapng capture (libpcap: %s)", pcap_err);
		return -1;
	}
	cap->hashing = NULL;		/* pcap_close() closes it now */

	cap->linktype = pcap_datalink(cap->pcap);
	if (cap->pcapng)
		cap->linktype = interface_dlt(cap, 0);	/* libpcap was told Ethernet */
	/*
	 * A pcap file has one link type: one the loader cannot read fails it. A
	 * pcapng section's interfaces each have theirs: the frames of one it
	 * cannot read are counted (frame_link_type), the others read.
	 */
	if (!cap->pcapng && !linktype_supported(cap->linktype))
	{
		const char *name = pcap_datalink_val_to_name(cap->linktype);

		snprintf(err, errlen, "has link type %s (%d): sFlow is read from Ethernet, raw IP, Linux cooked or loopback captures",
				 name ? name : "unknown", cap->linktype);
		return -1;
	}
	if (cap->sections == 1)
		snprintf(cap->filter_text, sizeof(cap->filter_text), "%s%s", default_filter(cap, cap->linktype),
				 cap->user_filter ? "" : SH_DEFAULT_SNIFF_TEXT);
	snprintf(cap->where, sizeof(cap->where), "%s", where);
	/* a filter that does not compile fails the capture before anything is loaded */
	if (linktype_supported(cap->linktype) && link_filter_for(cap, cap->linktype, err, errlen) == NULL)
		return -1;
	return 0;
}

/*
 * The filter for frames of link type dlt, compiled the first time one comes
 * (by default on Ethernet also behind one or two VLAN tags). NULL, with the
 * reason in err, when it does not compile for that link type.
 */
static const struct bpf_program *
link_filter_for(sh_capture *cap, int dlt, char *err, size_t errlen)
{
	link_filter *f;
	const char *text = default_filter(cap, dlt);

	for (int i = 0; i < cap->nfilters; i++)
		if (cap->filters[i].dlt == dlt)
			return &cap->filters[i].prog;
	if (cap->nfilters == MAX_LINK_FILTERS)
	{
		snprintf(err, errlen, "more than %d link types%s", MAX_LINK_FILTERS, cap->where);
		return NULL;
	}
	f = &cap->filters[cap->nfilters];
	f->dlt = dlt;
	if ((f->dead = pcap_open_dead(dlt, 262144)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (pcap_compile(f->dead, &f->prog, text, 1, PCAP_NETMASK_UNKNOWN) != 0)
	{
		snprintf(err, errlen, "bad filter \"%s\"%s: %s", text, cap->where, pcap_geterr(f->dead));
		pcap_close(f->dead);
		return NULL;
	}
	cap->nfilters++;
	return &f->prog;
}

/* The magic of a pcap file (microseconds or nanoseconds, either byte order)? */
static int
is_pcap_magic(const uint8_t *p)
{
	return memcmp(p, "\xD4\xC3\xB2\xA1", 4) == 0 || memcmp(p, "\xA1\xB2\xC3\xD4", 4) == 0 ||
		memcmp(p, "\x4D\x3C\xB2\xA1", 4) == 0 || memcmp(p, "\xA1\xB2\x3C\x4D", 4) == 0;
}

sh_capture *
sh_capture_open(const char *path, const char *filter, char *err, size_t errlen)
{
	sh_capture *cap = calloc(1, sizeof(*cap));

	if (cap == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((cap->in = sh_input_open(path, err, errlen)) == NULL)
	{
		free(cap);
		return NULL;
	}
	if (filter != NULL && (cap->user_filter = strdup(filter)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* pcapng (its first block a section header) is followed block by block */
	cap->framing = 1;
	if (fill_head(cap, 4) < 0)
	{
		snprintf(err, errlen, "%s", sh_input_error(cap->in));
		goto fail;
	}
	cap->cut_in_block = 0;
	if (cap->head_len == 4 && is_pcap_magic(cap->head))
	{
		/*
		 * A pcap file header: its snapshot length passed as 0 (none), for
		 * libpcap cuts a record longer than it to it, which Wireshark reads
		 * whole (a file whose header says less than its records hold).
		 */
		if (fill_head(cap, 24) < 0)
		{
			snprintf(err, errlen, "%s", sh_input_error(cap->in));
			goto fail;
		}
		cap->cut_in_block = 0;
		if (cap->head_len == 24)
			memset(cap->head + 16, 0, 4);
	}
	else if (cap->head_len == 4 && memcmp(cap->head, "\x0A\x0D\x0D\x0A", 4) == 0)
	{
		cap->pcapng = 1;
		if (next_block(cap) < 0)
		{
			snprintf(err, errlen, "%s", sh_input_error(cap->in));
			goto fail;
		}
	}
	if (open_section(cap, err, errlen) != 0)
		goto fail;
	return cap;

fail:
	sh_capture_close(cap);
	return NULL;
}

/*
 * Find the network-layer start of a captured frame and what it is, per link
 * type. Returns the sFlow-style header protocol (1 Ethernet, 11 IPv4,
 * 12 IPv6) and the offset where that header starts, or 0 when unknown.
 */
static uint32_t
frame_start(int linktype, const uint8_t *data, size_t caplen, size_t *offset)
{
	size_t		at = 0;
	uint16_t	proto;

	switch (linktype)
	{
		case DLT_EN10MB:
			*offset = 0;
			return SH_HEADER_ETHERNET;
		case DLT_LINUX_SLL:
			if (caplen < 16)
				return 0;
			proto = (uint16_t) (data[14] << 8 | data[15]);
			at = 16;
			break;
		case DLT_LINUX_SLL2:
			if (caplen < 20)
				return 0;
			proto = (uint16_t) (data[0] << 8 | data[1]);
			at = 20;
			break;
		case DLT_NULL:
		case DLT_LOOP:
			/* the 4-byte address family differs by OS and byte order: look at the IP version instead */
			at = 4;
			proto = 0;
			break;
		default:				/* DLT_RAW, DLT_IPV4, DLT_IPV6 */
			at = 0;
			proto = 0;
			break;
	}
	if (caplen <= at)
		return 0;
	if (proto == 0)
		proto = (data[at] >> 4) == 6 ? 0x86DD : (data[at] >> 4) == 4 ? 0x0800 : 0;
	*offset = at;
	if (proto == 0x0800)
		return SH_HEADER_IPV4;
	if (proto == 0x86DD)
		return SH_HEADER_IPV6;
	return 0;
}

/*
 * Does the frame hold a whole-headed UDP datagram whose payload starts as an
 * sFlow datagram: version 2, 4 or 5, then an agent address type of 1 (IPv4)
 * or 2 (IPv6)? Eight bytes of zeros but two: DNS, QUIC, NTP, syslog,
 * NetFlow and IPFIX never start so. A first fragment counts (it is then
 * skipped as a fragment, as on port 6343); a later one has no UDP header.
 */
static int
starts_as_sflow(int linktype, const uint8_t *data, size_t caplen)
{
	size_t		offset = 0;
	uint32_t	proto = frame_start(linktype, data, caplen, &offset);
	sh_packet	pkt;
	const uint8_t *p;

	if (proto == 0 || sh_parse_packet(proto, data + offset, caplen - offset, &pkt) != SH_PKT_OK ||
		pkt.ip_proto != 17 || !pkt.has_ports || pkt.fragment || pkt.payload == NULL || pkt.payload_len < 8)
		return 0;
	p = pkt.payload;
	return p[0] == 0 && p[1] == 0 && p[2] == 0 && (p[3] == 2 || p[3] == 4 || p[3] == 5) &&
		p[4] == 0 && p[5] == 0 && p[6] == 0 && (p[7] == 1 || p[7] == 2);
}

int
sh_capture_next(sh_capture *cap, sh_frame *frame, char *err, size_t errlen)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;

	for (;;)
	{
		int			r = pcap_next_ex(cap->pcap, &hdr, &data);
		sh_packet	pkt;
		size_t		offset = 0;
		uint32_t	proto;
		uint16_t	udp_len;
		int			taken,
					dlt;
		const struct bpf_program *prog;

		if (r == PCAP_ERROR_BREAK && cap->section_end)
		{
			/* the next section: libpcap opens it as a capture of its own */
			pcap_close(cap->pcap);
			cap->pcap = NULL;
			if (open_section(cap, err, errlen) != 0)
				return -1;
			continue;
		}
		if (r == PCAP_ERROR_BREAK)
			return 0;
		if (r != 1)
		{
			const char *why = pcap_geterr(cap->pcap);

			if (cap->oom)
			{
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			if (cap->read_error)
			{
				snprintf(err, errlen, "%s", sh_input_error(cap->in));
				return -1;
			}
			/*
			 * libpcap ran out of bytes inside the last record: the capture is
			 * cut short, and every byte of it was read. Anything else stops
			 * the read before the end.
			 */
			if (cap->at_eof && (!cap->pcapng || cap->cut_in_block) && strstr(why, "truncated") != NULL)
			{
				snprintf(err, errlen, "%s", why);
				return -2;
			}
			/*
			 * Corrupt gzip data decompresses to garbage before its check
			 * fails: then the gzip is what to name, not libpcap's view.
			 */
			if (sh_input_gzip(cap->in))
			{
				char		hex[65];

				if (sh_input_finish(cap->in, hex) != 0)
				{
					snprintf(err, errlen, "%s", sh_input_error(cap->in));
					return -1;
				}
			}
			snprintf(err, errlen, "cannot read past frame %" PRIu64 " (the section at byte offset %" PRIu64
					 ", %" PRIu64 " bytes read of the file): %s", cap->frames, cap->section_offset,
					 cap->bytes_read, why);
			return -1;
		}
		cap->frames++;
		dlt = cap->pcapng ? pending_pop(cap) : cap->linktype;
		while (dlt == NOT_A_PACKET)
		{
			cap->other_frames++;	/* a frame number Wireshark gave a block before this packet */
			dlt = pending_pop(cap);
		}

		memset(frame, 0, sizeof(*frame));
		frame->number = cap->frames + cap->other_frames;
		frame->ts_sec = hdr->ts.tv_sec;
		frame->ts_usec = (int32_t) hdr->ts.tv_usec;
		frame->status = SH_FRAME_NOT_UDP;

		/* an interface of a link type the loader cannot read: counted, nothing more */
		if (!linktype_supported(dlt))
		{
			frame->status = SH_FRAME_LINK_TYPE;
			return 1;
		}
		if ((prog = link_filter_for(cap, dlt, err, errlen)) == NULL)
			return -1;
		taken = pcap_offline_filter(prog, hdr, data) != 0;

		/*
		 * A frame the filter did not take is handed over all the same, to be
		 * counted: nothing of a capture vanishes uncounted. Without --filter,
		 * one that is UDP starting as an sFlow datagram is taken: sFlow to
		 * another port (a collector's spool file converted to pcap).
		 */
		if (!taken && !(cap->user_filter == NULL && starts_as_sflow(dlt, data, hdr->caplen)))
		{
			frame->status = SH_FRAME_FILTERED;
			return 1;
		}
		if (!taken)
			cap->sniffed++;
		cap->matched++;

		/*
		 * A pcap record's seconds are unsigned 32-bit (up to 2106), which
		 * libpcap hands over sign-extended: from 2038 on they look negative.
		 */
		if (!cap->pcapng && frame->ts_sec < 0 && frame->ts_sec >= INT32_MIN)
			frame->ts_sec = (int64_t) (uint32_t) frame->ts_sec;

		/*
		 * A pcapng simple packet block has no timestamp (libpcap says 0):
		 * evidence must be timed, so such a frame is skipped on its own, as
		 * is one stamped exactly 1970-01-01 00:00:00.
		 */
		if (cap->pcapng && frame->ts_sec == 0 && frame->ts_usec == 0)
		{
			frame->status = SH_FRAME_NO_TIME;
			return 1;
		}

		/*
		 * Rows carry the capture time as a timestamptz: a time before 1970 or
		 * after 9999 (a pcapng timestamp may say anything) would fail the
		 * whole load in the server, so the frame is skipped on its own.
		 */
		if (frame->ts_sec < 0 || frame->ts_sec > SH_CAPTURE_MAX_SEC ||
			hdr->ts.tv_usec < 0 || hdr->ts.tv_usec >= 1000000)
		{
			frame->status = SH_FRAME_BAD_TIME;
			return 1;
		}

		proto = frame_start(dlt, data, hdr->caplen, &offset);
		if (proto == 0 ||
			sh_parse_packet(proto, data + offset, hdr->caplen - offset, &pkt) != SH_PKT_OK ||
			pkt.ip_proto != 17 || !pkt.has_ports)
		{
			if (proto != 0 && hdr->caplen < hdr->len)
				frame->status = SH_FRAME_TRUNCATED;
			return 1;
		}
		frame->sender = pkt.src;
		if (pkt.fragment)
		{
			frame->status = SH_FRAME_FRAGMENT;
			return 1;
		}
		if (pkt.payload == NULL)
		{
			/* nothing after the UDP header: cut there, or sent empty */
			frame->status = hdr->caplen < hdr->len ? SH_FRAME_TRUNCATED : SH_FRAME_EMPTY;
			return 1;
		}
		/* the UDP header stands just before the payload the parser found */
		udp_len = (uint16_t) (pkt.payload[-4] << 8 | pkt.payload[-3]);
		if (udp_len < 8)
		{
			frame->status = SH_FRAME_BAD_UDP_LENGTH;
			return 1;
		}
		/*
		 * A UDP length past the bytes: cut by the snapshot length, the first
		 * fragment of the datagram (its UDP header tells the whole), or else
		 * a UDP header that disagrees with its whole IP packet. One shorter
		 * than the IP packet is taken at its word: the datagram is what UDP
		 * says it is.
		 */
		if ((size_t) (udp_len - 8) > pkt.payload_len)
		{
			frame->status = hdr->caplen < hdr->len ? SH_FRAME_TRUNCATED :
				pkt.first_fragment ? SH_FRAME_FRAGMENT : SH_FRAME_BAD_UDP_LENGTH;
			return 1;
		}
		frame->payload = pkt.payload;
		frame->len = (size_t) udp_len - 8;
		frame->status = SH_FRAME_OK;
		return 1;
	}
}

const char *
sh_capture_filter(const sh_capture *cap)
{
	return cap->filter_text;
}

uint64_t
sh_capture_frames_read(const sh_capture *cap)
{
	return cap->frames;
}

uint64_t
sh_capture_frames_matched(const sh_capture *cap)
{
	return cap->matched;
}

uint64_t
sh_capture_frames_sniffed(const sh_capture *cap)
{
	return cap->sniffed;
}

uint64_t
sh_capture_bytes_read(const sh_capture *cap)
{
	return cap->bytes_read;
}

uint64_t
sh_capture_position(const sh_capture *cap)
{
	return sh_input_position(cap->in);
}

uint64_t
sh_capture_size(const sh_capture *cap)
{
	return sh_input_size(cap->in);
}

int
sh_capture_finish(sh_capture *cap, char hex[65], char *err, size_t errlen)
{
	/* whatever libpcap did not read (after a truncated record, say) still counts */
	if (cap->read_error || sh_input_finish(cap->in, hex) != 0)
	{
		snprintf(err, errlen, "%s", sh_input_error(cap->in));
		return -1;
	}
	cap->bytes_read = sh_input_bytes(cap->in);
	return 0;
}

const char *
sh_frame_status_name(sh_frame_status status)
{
	switch (status)
	{
		case SH_FRAME_OK:
			return "ok";
		case SH_FRAME_NOT_UDP:
			return "frame_not_udp";
		case SH_FRAME_TRUNCATED:
			return "frame_truncated";
		case SH_FRAME_FRAGMENT:
			return "frame_fragment";
		case SH_FRAME_BAD_TIME:
			return "frame_bad_time";
		case SH_FRAME_EMPTY:
			return "frame_empty";
		case SH_FRAME_NO_TIME:
			return "frame_no_time";
		case SH_FRAME_FILTERED:
			return "frame_filtered";
		case SH_FRAME_LINK_TYPE:
			return "frame_link_type";
		case SH_FRAME_BAD_UDP_LENGTH:
			return "frame_bad_udp_length";
		default:
			return "frame_unknown";
	}
}

void
sh_capture_close(sh_capture *cap)
{
	if (cap == NULL)
		return;
	for (int i = 0; i < cap->nfilters; i++)
	{
		pcap_freecode(&cap->filters[i].prog);
		pcap_close(cap->filters[i].dead);
	}
	free(cap->if_dlt);
	free(cap->pending);
	if (cap->pcap)
		pcap_close(cap->pcap);
	else if (cap->hashing)
		fclose(cap->hashing);
	sh_input_close(cap->in);
	free(cap->user_filter);
	free(cap);
}
