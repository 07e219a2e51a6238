/*
 * loader/capture/capture.c: captures in, sFlow datagrams out.
 *
 * libpcap reads the file through a stdio stream of our own (fopencookie)
 * that hashes every byte on its way to libpcap: the content hash comes for
 * free, whether the capture is a file or a pipe. The BPF filter is applied
 * with pcap_offline_filter() rather than pcap_setfilter() so that every packet
 * is still counted and frame numbers stay those Wireshark shows.
 */
#include "capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "hash.h"
#include "packet.h"

struct sh_capture
{
	FILE	   *file;			/* the file itself, or stdin */
	FILE	   *hashing;		/* stdio stream libpcap reads; hashes as it goes */
	pcap_t	   *pcap;
	struct bpf_program filter;
	int			have_filter;
	int			linktype;
	int			pcapng;			/* 1: pcapng (64-bit times), 0: pcap (unsigned 32-bit seconds) */
	char		filter_text[1024];
	sh_hash    *sha;
	uint64_t	bytes_read;
	uint64_t	size;
	uint64_t	frames;
	int			read_error;
};

static ssize_t
hashing_read(void *cookie, char *buf, size_t size)
{
	sh_capture *cap = cookie;
	size_t		n = fread(buf, 1, size, cap->file);

	if (n == 0 && ferror(cap->file))
	{
		cap->read_error = errno ? errno : EIO;
		return -1;
	}
	if (n > 0)
	{
		sh_hash_update(cap->sha, buf, n);
		cap->bytes_read += n;
	}
	return (ssize_t) n;
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

sh_capture *
sh_capture_open(const char *path, const char *filter, char *err, size_t errlen)
{
	static const cookie_io_functions_t io = {.read = hashing_read};
	char		pcap_err[PCAP_ERRBUF_SIZE];
	sh_capture *cap = calloc(1, sizeof(*cap));
	struct stat st;

	if (cap == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strcmp(path, "-") == 0)
		cap->file = stdin;
	else if ((cap->file = fopen(path, "rb")) == NULL)
	{
		snprintf(err, errlen, "cannot open \"%s\": %s", path, strerror(errno));
		free(cap);
		return NULL;
	}
	if (fstat(fileno(cap->file), &st) == 0 && S_ISREG(st.st_mode))
		cap->size = (uint64_t) st.st_size;
	setvbuf(cap->file, NULL, _IONBF, 0);	/* the hashing stream buffers */

	cap->sha = sh_hash_start();
	if (cap->sha == NULL)
	{
		snprintf(err, errlen, "cannot start SHA-256");
		goto fail;
	}
	cap->hashing = fopencookie(cap, "r", io);
	if (cap->hashing == NULL)
	{
		snprintf(err, errlen, "fopencookie: %s", strerror(errno));
		goto fail;
	}
	setvbuf(cap->hashing, NULL, _IOFBF, 1 << 20);

	cap->pcap = pcap_fopen_offline(cap->hashing, pcap_err);
	if (cap->pcap == NULL)
	{
		snprintf(err, errlen, "\"%s\" is not a pcap or pcapng capture: %s", path, pcap_err);
		goto fail;
	}
	cap->hashing = NULL;		/* pcap_close() closes it now */

	cap->linktype = pcap_datalink(cap->pcap);
	/* libpcap says version 1.0 for a pcapng file, 2.x for a pcap file */
	cap->pcapng = pcap_major_version(cap->pcap) == 1;
	if (!linktype_supported(cap->linktype))
	{
		const char *name = pcap_datalink_val_to_name(cap->linktype);

		snprintf(err, errlen, "\"%s\" has link type %s (%d): sFlow is read from Ethernet, raw IP, Linux cooked or loopback captures",
				 path, name ? name : "unknown", cap->linktype);
		goto fail;
	}
	/*
	 * By default also match frames with one or two VLAN tags: a collector
	 * listening on a trunk port (or a QinQ one) sees its sFlow tagged, and
	 * plain "udp port 6343" misses it.
	 */
	if (filter == NULL)
		filter = cap->linktype == DLT_EN10MB ? SH_DEFAULT_FILTER_ETHERNET : SH_DEFAULT_FILTER;
	snprintf(cap->filter_text, sizeof(cap->filter_text), "%s", filter);
	if (pcap_compile(cap->pcap, &cap->filter, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
	{
		snprintf(err, errlen, "bad filter \"%s\": %s", filter, pcap_geterr(cap->pcap));
		goto fail;
	}
	cap->have_filter = 1;
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

		if (r == PCAP_ERROR_BREAK)
			return 0;
		if (r != 1)
		{
			if (cap->read_error)
			{
				snprintf(err, errlen, "read error: %s", strerror(cap->read_error));
				return -1;
			}
			snprintf(err, errlen, "%s", pcap_geterr(cap->pcap));
			/* libpcap ran out of bytes inside a record: the capture is cut short */
			return feof(pcap_file(cap->pcap)) ? -2 : -1;
		}
		cap->frames++;
		if (!pcap_offline_filter(&cap->filter, hdr, data))
			continue;

		memset(frame, 0, sizeof(*frame));
		frame->number = cap->frames;
		frame->ts_sec = hdr->ts.tv_sec;
		frame->ts_usec = (int32_t) hdr->ts.tv_usec;
		frame->status = SH_FRAME_NOT_UDP;

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

		proto = frame_start(cap->linktype, data, hdr->caplen, &offset);
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
		if (udp_len < 8 || (size_t) (udp_len - 8) > pkt.payload_len)
		{
			frame->status = hdr->caplen < hdr->len ? SH_FRAME_TRUNCATED : SH_FRAME_FRAGMENT;
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
sh_capture_bytes_read(const sh_capture *cap)
{
	return cap->bytes_read;
}

uint64_t
sh_capture_size(const sh_capture *cap)
{
	return cap->size;
}

int
sh_capture_finish(sh_capture *cap, char hex[65], char *err, size_t errlen)
{
	FILE	   *stream = pcap_file(cap->pcap);
	char		sink[65536];

	/* whatever libpcap did not read (after a truncated record, say) still counts */
	while (stream != NULL && fread(sink, 1, sizeof(sink), stream) > 0)
		;
	if (cap->read_error)
	{
		snprintf(err, errlen, "read error: %s", strerror(cap->read_error));
		return -1;
	}
	if (sh_hash_finish(cap->sha, hex) != 0)
	{
		snprintf(err, errlen, "cannot finish SHA-256");
		return -1;
	}
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
		default:
			return "frame_unknown";
	}
}

void
sh_capture_close(sh_capture *cap)
{
	if (cap == NULL)
		return;
	if (cap->have_filter)
		pcap_freecode(&cap->filter);
	if (cap->pcap)
		pcap_close(cap->pcap);
	else if (cap->hashing)
		fclose(cap->hashing);
	if (cap->file && cap->file != stdin)
		fclose(cap->file);
	sh_hash_free(cap->sha);
	free(cap);
}
