/*
 * bench/replay.c: replay the sFlow datagrams of a capture over UDP.
 *
 *   replay [OPTION]... CAPTURE HOST PORT
 *
 * Reads a pcap or pcapng file with libpcap (Ethernet with up to two VLAN
 * tags, raw IP, Linux cooked v1/v2, BSD loopback), keeps the frames the
 * loader's default filter keeps ("udp port 6343", also behind VLAN tags;
 * --filter to change), takes the UDP payload of each whole datagram (not a
 * fragment, not cut by the snapshot length) and sends the payloads to
 * HOST:PORT with sendmmsg(2) in batches: as fast as possible, or at --rate
 * datagrams per second (a token bucket holding one batch or 20 ms of
 * datagrams, whichever is more), --loops times over the capture or until
 * --count datagrams or --seconds have gone.
 *
 * --renumber: for loop k (from 0) the sFlow datagram sequence numbers, the
 * sample sequence numbers (flow, counter, expanded and discard samples) and
 * the agents' uptimes are those of the capture plus k times their span in
 * the capture, so that the datagrams of each loop are new ones to a
 * collector that drops repeats (by agent, sub-agent, sequence number, boot);
 * loop 0 is the capture as it is (--first-loop K: numbered from loop K on).
 *
 * Prints one line of key=value pairs: sent, bytes, seconds (first send to
 * last), rate (datagrams/s achieved), first_send (Unix time of the first
 * sendmmsg), datagrams (the capture's), skipped (frames kept by the filter
 * but not sendable: cut, fragments, bad headers), loops, errors.
 *
 * Not part of the product: built by bench/collector.sh and tests/e2e/replay.sh.
 * Exit status: 0 sent, 1 bad command line, 2 the capture or the socket failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_FILTER "udp port 6343"
#define DEFAULT_FILTER_ETHERNET "udp port 6343 or (vlan and (udp port 6343 or (vlan and udp port 6343)))"
#define MAX_BATCH 1024

typedef struct dgram
{
	uint8_t    *data;
	uint32_t	len;
} dgram;

typedef struct capture
{
	dgram	   *d;
	size_t		n,
				cap;
	size_t		skipped;
	uint64_t	bytes;
} capture;

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t) ((p[0] << 8) | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/*
 * The UDP payload of one frame: 1 with *off and *len set, 0 when it is not
 * a whole UDP datagram over IPv4 or IPv6.
 */
static int
udp_payload(int linktype, const uint8_t *f, uint32_t caplen, uint32_t wirelen, uint32_t *off, uint32_t *len)
{
	uint32_t	at = 0;
	uint32_t	ethertype = 0;
	uint32_t	ip_end,
				udp;
	uint32_t	ulen;
	int			version;

	if (caplen != wirelen)
		return 0;				/* cut by the snapshot length */
	switch (linktype)
	{
		case DLT_EN10MB:
			if (caplen < 14)
				return 0;
			at = 12;
			ethertype = be16(f + at);
			for (int tags = 0; tags < 2 && (ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100); tags++)
			{
				if (caplen < at + 6)
					return 0;
				at += 4;
				ethertype = be16(f + at);
			}
			at += 2;
			break;
		case DLT_LINUX_SLL:
			if (caplen < 16)
				return 0;
			ethertype = be16(f + 14);
			at = 16;
			break;
		case DLT_LINUX_SLL2:
			if (caplen < 20)
				return 0;
			ethertype = be16(f);
			at = 20;
			break;
		case DLT_NULL:
		case DLT_LOOP:
			if (caplen < 4)
				return 0;
			at = 4;
			break;
		case DLT_RAW:
		case DLT_IPV4:
		case DLT_IPV6:
			break;
		default:
			return 0;
	}
	if (caplen <= at)
		return 0;
	version = f[at] >> 4;
	if (ethertype != 0 && !((ethertype == 0x0800 && version == 4) || (ethertype == 0x86dd && version == 6)))
		return 0;
	if (version == 4)
	{
		uint32_t	ihl = (uint32_t) (f[at] & 15) * 4;
		uint32_t	total;

		if (caplen < at + 20 || ihl < 20 || f[at + 9] != 17 || (be16(f + at + 6) & 0x3fff) != 0)
			return 0;			/* not UDP, or a fragment */
		total = be16(f + at + 2);
		if (total < ihl + 8 || at + total > caplen)
			return 0;
		udp = at + ihl;
		ip_end = at + total;
	}
	else if (version == 6)
	{
		if (caplen < at + 40 || f[at + 6] != 17)
			return 0;
		udp = at + 40;
		ip_end = udp + be16(f + at + 4);
		if (ip_end > caplen)
			return 0;
	}
	else
		return 0;
	if (udp + 8 > ip_end)
		return 0;
	ulen = be16(f + udp + 4);
	if (ulen < 8 || udp + ulen > ip_end)
		return 0;
	*off = udp + 8;
	*len = ulen - 8;
	return 1;
}

static int
read_capture(const char *path, const char *filter, capture *c)
{
	char		err[PCAP_ERRBUF_SIZE] = "";
	pcap_t	   *p = pcap_open_offline(path, err);
	struct bpf_program prog;
	struct pcap_pkthdr *h;
	const u_char *f;
	int			linktype,
				rc;

	if (p == NULL)
	{
		fprintf(stderr, "replay: %s: %s\n", path, err);
		return -1;
	}
	linktype = pcap_datalink(p);
	if (filter == NULL)
		filter = linktype == DLT_EN10MB ? DEFAULT_FILTER_ETHERNET : DEFAULT_FILTER;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
	{
		fprintf(stderr, "replay: bad filter \"%s\": %s\n", filter, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	while ((rc = pcap_next_ex(p, &h, &f)) == 1)
	{
		uint32_t	off,
					len;
		uint8_t    *copy;

		if (pcap_datalink(p) != linktype)
		{
			/* a pcapng section of another link type: the filter was compiled for the first */
			c->skipped++;
			continue;
		}
		if (!pcap_offline_filter(&prog, h, f))
			continue;
		if (!udp_payload(linktype, f, h->caplen, h->len, &off, &len))
		{
			c->skipped++;
			continue;
		}
		if (c->n == c->cap)
		{
			size_t		ncap = c->cap ? 2 * c->cap : 1024;
			dgram	   *grown = realloc(c->d, ncap * sizeof(dgram));

			if (grown == NULL)
				goto oom;
			c->d = grown;
			c->cap = ncap;
		}
		copy = malloc(len ? len : 1);
		if (copy == NULL)
			goto oom;
		memcpy(copy, f + off, len);
		c->d[c->n].data = copy;
		c->d[c->n].len = len;
		c->n++;
		c->bytes += len;
	}
	if (rc == -1)
		fprintf(stderr, "replay: warning: %s: %s (read up to there)\n", path, pcap_geterr(p));
	pcap_freecode(&prog);
	pcap_close(p);
	return 0;
oom:
	fprintf(stderr, "replay: out of memory\n");
	pcap_freecode(&prog);
	pcap_close(p);
	return -1;
}

/*
 * The sequence numbers and uptime of an sFlow datagram (v2, v4, v5), each
 * call giving one through fn(field pointer, kind, arg); kind 0 the datagram
 * sequence number, 1 the uptime, 2 a sample's sequence number. Stops at the
 * first field out of bounds.
 */
typedef void (*field_fn) (uint8_t *p, int kind, void *arg);

static void
walk_sflow(uint8_t *d, uint32_t len, field_fn fn, void *arg)
{
	uint32_t	version,
				at,
				nsamples;

	if (len < 8)
		return;
	version = be32(d);
	if (version != 2 && version != 4 && version != 5)
		return;
	switch (be32(d + 4))
	{
		case 1:
			at = 12;
			break;
		case 2:
			at = 24;
			break;
		default:
			return;
	}
	if (version == 5)
		at += 4;				/* sub-agent */
	if (len < at + 12)
		return;
	fn(d + at, 0, arg);
	fn(d + at + 4, 1, arg);
	nsamples = be32(d + at + 8);
	at += 12;
	if (version != 5)
		return;					/* v2/v4 samples carry no length: leave them */
	for (uint32_t i = 0; i < nsamples && len - at >= 8; i++)
	{
		uint32_t	tag = be32(d + at),
					slen = be32(d + at + 4);

		at += 8;
		if (slen > len - at)
			return;
		if ((tag >> 12) == 0 && (tag & 0xfff) >= 1 && (tag & 0xfff) <= 5 && slen >= 4)
			fn(d + at, 2, arg);
		at += slen;
	}
}

typedef struct span
{
	uint32_t	min[3],
				max[3];
	int			seen[3];
	uint32_t	add[3];
} span;

static void
span_field(uint8_t *p, int kind, void *arg)
{
	span	   *s = arg;
	uint32_t	v = be32(p);

	if (!s->seen[kind] || v < s->min[kind])
		s->min[kind] = v;
	if (!s->seen[kind] || v > s->max[kind])
		s->max[kind] = v;
	s->seen[kind] = 1;
}

static void
add_field(uint8_t *p, int kind, void *arg)
{
	span	   *s = arg;

	put32(p, be32(p) + s->add[kind]);
}

static void
usage(FILE *f)
{
	fprintf(f,
			"Usage: replay [OPTION]... CAPTURE HOST PORT\n"
			"Send the sFlow datagrams (UDP payloads) of a pcap/pcapng capture to HOST:PORT.\n\n"
			"  --rate N       datagrams per second (default 0: as fast as possible)\n"
			"  --loops N      times over the capture (default 1)\n"
			"  --count N      stop after N datagrams (looping as needed)\n"
			"  --seconds S    stop after S seconds (looping as needed)\n"
			"  --renumber     loop k adds k spans to the sequence numbers and uptimes\n"
			"  --first-loop K with --renumber: the first loop is numbered as loop K\n"
			"  --batch N      datagrams per sendmmsg (default 64, at most %d)\n"
			"  --filter BPF   which frames are sFlow (default: the loader's, udp port 6343)\n"
			"  --from ADDR    send from this address\n"
			"  --sndbuf BYTES socket send buffer\n", MAX_BATCH);
}

static int
parse_num(const char *s, double lo, double hi, double *out)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"rate", required_argument, NULL, 'r'},
		{"loops", required_argument, NULL, 'l'},
		{"count", required_argument, NULL, 'c'},
		{"seconds", required_argument, NULL, 's'},
		{"renumber", no_argument, NULL, 'n'},
		{"first-loop", required_argument, NULL, 'k'},
		{"batch", required_argument, NULL, 'b'},
		{"filter", required_argument, NULL, 'f'},
		{"from", required_argument, NULL, 'F'},
		{"sndbuf", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	double		rate = 0,
				loops_d = 1,
				count_d = 0,
				seconds = 0,
				batch_d = 64,
				sndbuf_d = 0,
				first_loop = 0;
	int			renumber = 0;
	const char *filter = NULL,
			   *from = NULL;
	capture		cap;
	struct addrinfo hints,
			   *dst = NULL,
			   *src = NULL;
	int			fd,
				c,
				rc;
	uint64_t	loops,
				count,
				sent = 0,
				bytes = 0,
				errors = 0,
				loop = 0;
	int			batch;
	size_t		next = 0;
	span		sp;
	struct mmsghdr msgs[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	double		t0 = 0,
				t_last = 0,
				first_real = 0,
				tokens,
				t_prev;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
	{
		int			bad = 0;

		switch (c)
		{
			case 'r':
				bad = parse_num(optarg, 0, 1e9, &rate);
				break;
			case 'l':
				bad = parse_num(optarg, 1, 1e12, &loops_d);
				break;
			case 'c':
				bad = parse_num(optarg, 1, 1e15, &count_d);
				break;
			case 's':
				bad = parse_num(optarg, 0.001, 1e6, &seconds);
				break;
			case 'n':
				renumber = 1;
				break;
			case 'k':
				bad = parse_num(optarg, 0, 4294967295.0, &first_loop);
				break;
			case 'b':
				bad = parse_num(optarg, 1, MAX_BATCH, &batch_d);
				break;
			case 'f':
				filter = optarg;
				break;
			case 'F':
				from = optarg;
				break;
			case 'S':
				bad = parse_num(optarg, 1024, 1 << 30, &sndbuf_d);
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 1;
		}
		if (bad)
		{
			fprintf(stderr, "replay: bad value \"%s\"\n", optarg);
			return 1;
		}
	}
	if (argc - optind != 3)
	{
		usage(stderr);
		return 1;
	}
	loops = (uint64_t) loops_d;
	count = (uint64_t) count_d;
	batch = (int) batch_d;
	if (count > 0 || seconds > 0)
		loops = UINT64_MAX;		/* until the count or the time */

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(argv[optind + 1], argv[optind + 2], &hints, &dst)) != 0)
	{
		fprintf(stderr, "replay: %s port %s: %s\n", argv[optind + 1], argv[optind + 2], gai_strerror(rc));
		return 1;
	}
	memset(&cap, 0, sizeof(cap));
	if (read_capture(argv[optind], filter, &cap) != 0)
		return 2;
	if (cap.n == 0)
	{
		printf("sent=0 bytes=0 seconds=0 rate=0 first_send=0 datagrams=0 skipped=%zu loops=0 errors=0\n",
			   cap.skipped);
		fprintf(stderr, "replay: %s: no sFlow datagram to send\n", argv[optind]);
		return 0;
	}
	memset(&sp, 0, sizeof(sp));
	if (renumber)
	{
		for (size_t i = 0; i < cap.n; i++)
			walk_sflow(cap.d[i].data, cap.d[i].len, span_field, &sp);
		for (int k = 0; k < 3; k++)
			sp.add[k] = sp.seen[k] ? sp.max[k] - sp.min[k] + 1 : 0;
		if (first_loop > 0)
		{
			/* numbered as loop K would be: K spans at once (modulo 2^32, as the fields wrap) */
			span		at = sp;

			for (int k = 0; k < 3; k++)
				at.add[k] = (uint32_t) ((uint64_t) sp.add[k] * (uint64_t) first_loop);
			for (size_t i = 0; i < cap.n; i++)
				walk_sflow(cap.d[i].data, cap.d[i].len, add_field, &at);
		}
	}

	fd = socket(dst->ai_family, SOCK_DGRAM, 0);
	if (fd < 0)
	{
		fprintf(stderr, "replay: socket: %s\n", strerror(errno));
		return 2;
	}
	if (sndbuf_d > 0)
	{
		int			b = (int) sndbuf_d;

		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &b, sizeof(b)) != 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &b, sizeof(b));
	}
	if (from)
	{
		hints.ai_family = dst->ai_family;
		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		if ((rc = getaddrinfo(from, "0", &hints, &src)) != 0 || bind(fd, src->ai_addr, src->ai_addrlen) != 0)
		{
			fprintf(stderr, "replay: --from %s: %s\n", from, rc ? gai_strerror(rc) : strerror(errno));
			return 2;
		}
		freeaddrinfo(src);
	}
	/* connected: the kernel looks the route up once, not per datagram */
	if (connect(fd, dst->ai_addr, dst->ai_addrlen) != 0)
	{
		fprintf(stderr, "replay: connect: %s\n", strerror(errno));
		return 2;
	}

	tokens = 1;					/* no burst at the start */
	t_prev = now_mono();
	while (loop < loops && (count == 0 || sent < count))
	{
		int			n = 0,
					want = batch,
					done;
		double		t;

		if (rate > 0)
		{
			/* room for 20 ms: a sender descheduled for a while on a busy machine catches up */
			double		cap_tokens = rate / 50 > batch ? rate / 50 : batch;

			t = now_mono();
			tokens += (t - t_prev) * rate;
			t_prev = t;
			if (tokens > cap_tokens)
				tokens = cap_tokens;
			if (tokens < 1)
			{
				double		wait = (1 - tokens) / rate;
				struct timespec ts;

				if (wait < 20e-6)
					wait = 20e-6;
				ts.tv_sec = (time_t) wait;
				ts.tv_nsec = (long) ((wait - (double) ts.tv_sec) * 1e9);
				nanosleep(&ts, NULL);
				continue;
			}
			if (want > (int) tokens)
				want = (int) tokens;
		}
		if (count > 0 && (uint64_t) want > count - sent)
			want = (int) (count - sent);
		while (n < want && next + (size_t) n < cap.n)
		{
			iov[n].iov_base = cap.d[next + (size_t) n].data;
			iov[n].iov_len = cap.d[next + (size_t) n].len;
			memset(&msgs[n], 0, sizeof(msgs[n]));
			msgs[n].msg_hdr.msg_iov = &iov[n];
			msgs[n].msg_hdr.msg_iovlen = 1;
			n++;
		}
		if (sent == 0)
		{
			struct timespec rt;

			t0 = now_mono();
			clock_gettime(CLOCK_REALTIME, &rt);
			first_real = (double) rt.tv_sec + (double) rt.tv_nsec / 1e9;
		}
		done = sendmmsg(fd, msgs, (unsigned int) n, 0);
		if (done < 0)
		{
			if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED)
			{
				/* ECONNREFUSED: an ICMP port unreachable for an earlier datagram; the next go again */
				if (errno != EINTR)
					errors++;
				if (errors > 1000000)
				{
					fprintf(stderr, "replay: sendmmsg: %s, too often\n", strerror(errno));
					return 2;
				}
				continue;
			}
			fprintf(stderr, "replay: sendmmsg: %s\n", strerror(errno));
			return 2;
		}
		for (int i = 0; i < done; i++)
			bytes += iov[i].iov_len;
		sent += (uint64_t) done;
		next += (size_t) done;
		if (rate > 0)
			tokens -= done;
		t_last = now_mono();
		if (seconds > 0 && t_last - t0 >= seconds)
			break;
		if (next == cap.n)
		{
			next = 0;
			loop++;
			if (renumber && loop < loops)
				for (size_t i = 0; i < cap.n; i++)
					walk_sflow(cap.d[i].data, cap.d[i].len, add_field, &sp);
		}
	}
	{
		double		secs = t_last - t0;

		printf("sent=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f rate=%.0f first_send=%.6f datagrams=%zu "
			   "skipped=%zu loops=%" PRIu64 " errors=%" PRIu64 "\n", sent, bytes, secs,
			   secs > 0 ? (double) sent / secs : 0.0, first_real, cap.n, cap.skipped,
			   loop + (next > 0 ? 1 : 0), errors);
	}
	for (size_t i = 0; i < cap.n; i++)
		free(cap.d[i].data);
	free(cap.d);
	freeaddrinfo(dst);
	close(fd);
	return 0;
}
