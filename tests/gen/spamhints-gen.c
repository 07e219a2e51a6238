/*
 * spamhints-gen: write a pcap of sFlow datagrams (versions 5, 4 and 2) carrying sampled SMTP and
 * other traffic, plus a ground-truth file of what a correct loader must find in it.
 *
 * This is an independent encoder written from the sFlow v5 specification and RFC 3176; it shares
 * no code with the loader's decoder, so that the two can check each other.  tshark is the arbiter
 * (tests/gen/check_with_tshark.py).
 *
 * Everything is driven by one seeded PRNG, so the same arguments give byte-identical output.
 * The hot path (one sampled packet) uses no malloc and no stdio formatting except for the few
 * SMTP command lines that carry names.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGNAME "spamhints-gen"

/* ------------------------------------------------------------------------------------------ */
/* Limits and constants                                                                        */
/* ------------------------------------------------------------------------------------------ */

#define MAX_AGENTS        16
#define MAX_SFLOW_PAYLOAD 1400      /* UDP payload budget of one datagram, as agents size them */
#define MAX_DGRAM_SAMPLES 64
#define HEADROOM          64        /* room for the outer Ethernet/IP/UDP headers */
#define SAMPLED_HEADER    128       /* agents export the first 128 bytes of each frame */
#define FRAME_SCRATCH     256
#define SFLOW_PORT        6343
#define DEFAULT_START     1173830400LL /* 2007-03-14 00:00:00 UTC */
#define N_NETWORKS        300

enum { OS_WINDOWS, OS_LINUX, OS_BSD, OS_SOLARIS };
enum { NET_ACCESS, NET_HOSTING, NET_ENTERPRISE, NET_MAIL, NET_KINDS };
enum { HT_CLIENT, HT_SERVER, HT_RELAY, HT_WEB, HT_KINDS };
enum { ROLE_CLIENT = 1, ROLE_SERVER = 2 };

/* Kinds of broken datagrams; several kinds share one truth reason. */
enum {
	MAL_TRUNCATED,       /* cut in the middle of a sample */
	MAL_NOT_SFLOW,       /* NetFlow v5 sent to the sFlow port */
	MAL_SAMPLE_COUNT,    /* num_samples = 0x7fffffff */
	MAL_SAMPLE_LENGTH,   /* a v5 sample length that runs past the datagram end */
	MAL_HEADER_LENGTH,   /* a raw header whose header_length runs past its record and the datagram */
	MAL_KINDS
};
static const char *const malformed_reason[MAL_KINDS] = {
	"truncated", "not_sflow", "sample_count", "bad_length", "bad_length"
};

/* SMTP words the generator puts at the start of payloads: commands, then reply codes. */
static const char *const smtp_words[] = {
	"AUTH", "DATA", "EHLO", "HELO", "MAIL", "NOOP", "QUIT", "RCPT", "RSET", "STARTTLS",
	"220", "221", "235", "250", "334", "354", "421", "450", "451", "535", "550", "554",
};
#define N_SMTP_WORDS ((int) (sizeof(smtp_words) / sizeof(smtp_words[0])))
enum {
	W_AUTH, W_DATA, W_EHLO, W_HELO, W_MAIL, W_NOOP, W_QUIT, W_RCPT, W_RSET, W_STARTTLS,
	W_220, W_221, W_235, W_250, W_334, W_354, W_421, W_450, W_451, W_535, W_550, W_554,
};

/* ------------------------------------------------------------------------------------------ */
/* PRNG: xoshiro256** seeded through splitmix64                                                */
/* ------------------------------------------------------------------------------------------ */

typedef struct { uint64_t s[4]; } Rng;

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rng_seed(Rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t
rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rng_next(Rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

/* Uniform in [0, n); Lemire's multiply-shift (the tiny bias is irrelevant here). */
static inline uint32_t
rng_below(Rng *r, uint32_t n)
{
	return (uint32_t) (((rng_next(r) >> 32) * (uint64_t) n) >> 32);
}

static inline uint32_t
rng_range(Rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

static inline double
rng_unit(Rng *r)
{
	return (double) (rng_next(r) >> 11) * 0x1.0p-53;
}

static inline bool
rng_chance(Rng *r, double p)
{
	return rng_unit(r) < p;
}

/*
 * Index in [0, n) skewed towards 0: P(index < x*n) = x^(1/k).  With k = 3 the first 1% of a
 * list draws about a fifth of all picks, a heavy tail without a pow() call.
 */
static inline uint32_t
rng_skewed(Rng *r, uint32_t n, int k)
{
	double u = rng_unit(r), v = u;
	for (int i = 1; i < k; i++)
		v *= u;
	uint32_t i = (uint32_t) (v * n);
	return i < n ? i : n - 1;
}

/* Pick from a small table of integer weights. */
static int
rng_weighted(Rng *r, const unsigned *w, int n)
{
	unsigned total = 0;
	for (int i = 0; i < n; i++)
		total += w[i];
	unsigned x = rng_below(r, total);
	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

static inline uint64_t
mix64(uint64_t x)
{
	return splitmix64(&x);
}

/* ------------------------------------------------------------------------------------------ */
/* Byte helpers                                                                                */
/* ------------------------------------------------------------------------------------------ */

static inline uint8_t *
put8(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	return p + 1;
}

static inline uint8_t *
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 8);
	p[1] = (uint8_t) v;
	return p + 2;
}

static inline uint8_t *
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
	return p + 4;
}

static inline uint8_t *
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t) (v >> 32));
	return put32(p + 4, (uint32_t) v);
}

static inline uint8_t *
putmem(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i + 1 < n; i += 2)
		sum += (uint32_t) p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t) p[i] << 8;
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t) ~sum;
}

static void
fill_random(Rng *r, uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t x = rng_next(r);
		memcpy(p, &x, 8);
		p += 8;
		n -= 8;
	}
	if (n > 0) {
		uint64_t x = rng_next(r);
		memcpy(p, &x, n);
	}
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, PROGNAME ": error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		die("out of memory");
	return p;
}

/* ------------------------------------------------------------------------------------------ */
/* Options                                                                                     */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
	uint64_t seed;
	uint64_t pop_seed;	/* the population's seed; 0: seed's */
	uint64_t smtp;
	uint64_t other;
	int      version;        /* 5, 4, 2, or 0 for mix */
	int      agents;
	double   hours;
	int64_t  start;
	int64_t  malformed;      /* -1: default share */
	unsigned loss_permille;
	const char *rows_path;
	const char *networks_path;
	const char *out_path;
	const char *truth_path;
	const char *labels_path;
} Options;

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: " PROGNAME " [OPTION]... -o OUT.pcap [-t TRUTH.txt]\n"
"Write sFlow datagrams carrying sampled SMTP and other packets into a pcap file, and the\n"
"ground truth a correct loader must find in it.\n"
"\n"
"  -o, --output FILE     pcap file to write ('-' for standard output)\n"
"  -t, --truth FILE      ground truth, 'key value' lines, counted over valid datagrams\n"
"      --seed N          PRNG seed; same arguments give byte-identical output (default 1)\n"
"      --population-seed N  seed of the networks and hosts only (default: --seed), so that\n"
"                        captures of different --seed share their addresses, as days do\n"
"      --smtp N          sampled SMTP packets: TCP with port 25, 465 or 587 at either end\n"
"                        (default 10000)\n"
"      --other N         other sampled packets: web, DNS, ICMP, other TCP/UDP, ARP, non-IP\n"
"                        (default 90000)\n"
"      --version V       sFlow version of the agents: 5, 4, 2, or mix (each agent its own,\n"
"                        at least one of each when there are 3 agents or more; default 5)\n"
"      --agents N        number of agents (switches), 1-%d; with 3 or more, the second one has\n"
"                        an IPv6 agent address (default 4)\n"
"      --hours H         time span of the capture, with an hour-of-day profile (default 25)\n"
"      --start EPOCH     first timestamp, seconds since 1970 UTC (default %lld,\n"
"                        2007-03-14 00:00:00 UTC)\n"
"      --malformed N     datagrams a correct decoder must reject whole, of several kinds\n"
"                        (default 0.1%% of the datagrams, at least 5 unless the capture is tiny)\n"
"      --loss PERMILLE   share of datagram sequence numbers skipped, as if lost in transit\n"
"                        (default 2)\n"
"      --rows FILE       one TSV line per port-25 SMTP row: frame ts_usec agent sampling_rate\n"
"                        src dst sport dport tcp_flags vlan\n"
"      --networks FILE   one TSV line per prefix: network asn org cc\n"
"      --labels FILE     labelled behaviour (a different capture): the SMTP packets come from\n"
"                        spam bots, mail servers, relays, open servers and ordinary clients,\n"
"                        each behaving as its kind does (see gen_smtp_labelled), IPv4 only;\n"
"                        one TSV line per host: address label network_kind\n"
"  -h, --help            show this help and exit\n",
	        MAX_AGENTS, (long long) DEFAULT_START);
}

static uint64_t
parse_u64(const char *opt, const char *s, uint64_t max)
{
	char *end;
	errno = 0;
	if (*s == '-')
		die("%s: '%s' is not a non-negative integer", opt, s);
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max)
		die("%s: '%s' is not an integer between 0 and %" PRIu64, opt, s, max);
	return v;
}

static void
parse_options(int argc, char **argv, Options *o)
{
	enum { O_SEED = 256, O_POP_SEED, O_SMTP, O_OTHER, O_VERSION, O_AGENTS, O_HOURS, O_START,
	       O_MALFORMED, O_LOSS, O_ROWS, O_NETWORKS, O_LABELS };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"truth", required_argument, NULL, 't'},
		{"seed", required_argument, NULL, O_SEED},
		{"population-seed", required_argument, NULL, O_POP_SEED},
		{"smtp", required_argument, NULL, O_SMTP},
		{"other", required_argument, NULL, O_OTHER},
		{"version", required_argument, NULL, O_VERSION},
		{"agents", required_argument, NULL, O_AGENTS},
		{"hours", required_argument, NULL, O_HOURS},
		{"start", required_argument, NULL, O_START},
		{"malformed", required_argument, NULL, O_MALFORMED},
		{"loss", required_argument, NULL, O_LOSS},
		{"rows", required_argument, NULL, O_ROWS},
		{"networks", required_argument, NULL, O_NETWORKS},
		{"labels", required_argument, NULL, O_LABELS},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*o = (Options) {
		.seed = 1, .smtp = 10000, .other = 90000, .version = 5, .agents = 4, .hours = 25,
		.start = DEFAULT_START, .malformed = -1, .loss_permille = 2,
	};
	int c;
	while ((c = getopt_long(argc, argv, "o:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->out_path = optarg; break;
		case 't': o->truth_path = optarg; break;
		case O_SEED: o->seed = parse_u64("--seed", optarg, UINT64_MAX); break;
		case O_POP_SEED: o->pop_seed = parse_u64("--population-seed", optarg, UINT64_MAX); break;
		case O_SMTP: o->smtp = parse_u64("--smtp", optarg, 2000000000ULL); break;
		case O_OTHER: o->other = parse_u64("--other", optarg, 2000000000ULL); break;
		case O_VERSION:
			if (strcmp(optarg, "mix") == 0)
				o->version = 0;
			else if (strcmp(optarg, "5") == 0 || strcmp(optarg, "4") == 0 ||
			         strcmp(optarg, "2") == 0)
				o->version = atoi(optarg);
			else
				die("--version: '%s' is not one of 5, 4, 2, mix", optarg);
			break;
		case O_AGENTS:
			o->agents = (int) parse_u64("--agents", optarg, MAX_AGENTS);
			if (o->agents < 1)
				die("--agents: at least 1");
			break;
		case O_HOURS: {
			char *end;
			o->hours = strtod(optarg, &end);
			if (end == optarg || *end || !(o->hours > 0) || o->hours > 24 * 366)
				die("--hours: '%s' is not a positive number of hours", optarg);
			break;
		}
		case O_START:
			o->start = (int64_t) parse_u64("--start", optarg, 4000000000ULL);
			break;
		case O_MALFORMED:
			o->malformed = (int64_t) parse_u64("--malformed", optarg, 100000000ULL);
			break;
		case O_LOSS:
			o->loss_permille = (unsigned) parse_u64("--loss", optarg, 500);
			break;
		case O_ROWS: o->rows_path = optarg; break;
		case O_NETWORKS: o->networks_path = optarg; break;
		case O_LABELS: o->labels_path = optarg; break;
		case 'h': usage(stdout); exit(0);
		default:
			fprintf(stderr, "Try '" PROGNAME " --help' for more information.\n");
			exit(2);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s'", argv[optind]);
	if (!o->out_path)
		die("no output file (-o OUT.pcap, or -o - for standard output)");
}

/* ------------------------------------------------------------------------------------------ */
/* Population: networks (ASes), their prefixes and hosts                                       */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
	uint32_t asn;
	uint8_t  kind;
	char     cc[3];
	char     org[64];
	uint8_t  mac[6];          /* the MAC of its router at the exchange */
	double   size;            /* Zipf weight */
	uint32_t nhosts;
	uint32_t placed;
	uint32_t pfx4_first, pfx4_count;
	uint64_t cap4;            /* host slots over all its IPv4 prefixes */
	int32_t  pfx6;            /* index into the IPv6 prefixes, -1 without */
	uint32_t scramble;        /* odd multiplier spreading hosts over its /24s */
} Network;

typedef struct {
	uint32_t base;            /* host byte order */
	uint32_t n24;             /* number of /24s, a power of two */
	uint8_t  len;
	uint32_t net;
} Prefix4;

typedef struct {
	uint8_t  addr[16];
	uint8_t  len;
	uint32_t net;
} Prefix6;

typedef struct {
	uint32_t v4;              /* host byte order */
	uint32_t net;
	uint32_t v6;              /* index into Population.v6, UINT32_MAX without */
	uint8_t  type;            /* HT_* */
	uint8_t  os;
	uint8_t  ttl;             /* TTL (or hop limit) seen at the exchange */
} Host;

typedef struct {
	uint32_t *idx;
	uint32_t  n;
} HostList;

typedef struct {
	Network  *nets;
	uint32_t  nnets;
	Prefix4  *pfx4;
	uint32_t  npfx4, cap_pfx4;
	Prefix6  *pfx6;
	uint32_t  npfx6;
	Host     *hosts;
	uint32_t  nhosts;
	uint8_t (*v6)[16];
	uint32_t  nv6;
	HostList  list[HT_KINDS];     /* hosts by type, popular first */
	uint32_t  first[HT_KINDS];    /* hosts of a type are contiguous: list[t].idx[k] = first[t] + k */
	HostList  list6[HT_KINDS];    /* the same, dual-stacked ones only */
} Population;

static const char *const cc_access[] = {
	"CN", "US", "BR", "IN", "VN", "RU", "TR", "KR", "DE", "IT", "ES", "PL", "UA", "AR", "MX",
	"ID", "TH", "RO", "FR", "GB", "JP", "CO", "PK", "EG", "IR", "TW", "CL", "PE", "MY", "PH",
};
static const unsigned cc_access_w[] = {
	18, 10, 10, 8, 7, 7, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 2, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1,
};
static const char *const cc_hosting[] = {
	"US", "DE", "NL", "FR", "GB", "RU", "CN", "JP", "CA", "SG", "SE", "CH", "IE", "HK", "UA",
};
static const unsigned cc_hosting_w[] = { 30, 14, 10, 8, 8, 6, 6, 4, 4, 3, 2, 2, 2, 2, 2 };

static const char *const syllables[] = {
	"tel", "nor", "vel", "kas", "ori", "mar", "zen", "lum", "ast", "bri", "cor", "dan", "eko",
	"fin", "gal", "hel", "ira", "jun", "kor", "lin", "mid", "nex", "omn", "pan", "qua", "ros",
	"sat", "tor", "uni", "ver", "wes", "xan", "yor", "zet", "al", "be", "ca", "do", "el", "fa",
};
static const char *const org_words[NET_KINDS][6] = {
	{ "Telecom", "Broadband", "Cable", "Communications", "Telekom", "DSL" },
	{ "Hosting", "Datacenter", "Cloud", "Servers", "Web Services", "Colocation" },
	{ "University", "Bank", "Industries", "Group", "Research Network", "Holding" },
	{ "Mail", "Online", "Internet", "Messaging", "Portal", "Web Mail" },
};

static const char *
legal_suffix(const char *cc)
{
	static const struct { const char *cc, *suffix; } t[] = {
		{"US", " Inc."}, {"DE", " GmbH"}, {"FR", " SAS"}, {"BR", " Ltda"}, {"RU", " LLC"},
		{"GB", " Ltd"}, {"NL", " B.V."}, {"IT", " S.p.A."}, {"ES", " S.L."}, {"JP", " K.K."},
		{"CN", " Co., Ltd."}, {"PL", " Sp. z o.o."}, {"SE", " AB"}, {"CH", " AG"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].cc, cc) == 0)
			return t[i].suffix;
	return "";
}

/* Router vendor OUIs, for the per-AS router MACs. */
static const uint8_t router_oui[][3] = {
	{0x00, 0x1b, 0x54}, {0x00, 0x24, 0xc4}, {0x00, 0x26, 0xcb}, {0x3c, 0x08, 0xf6},
	{0x00, 0x05, 0x85}, {0x00, 0x12, 0x1e}, {0x2c, 0x6b, 0xf5}, {0x78, 0x19, 0xf7},
	{0x28, 0x99, 0x3a}, {0x44, 0x4c, 0xa8}, {0x00, 0xe0, 0xfc}, {0x70, 0x7b, 0xe8},
	{0x00, 0x24, 0x38}, {0x00, 0x04, 0x96}, {0x4c, 0x5e, 0x0c}, {0x84, 0x78, 0xac},
};

/* First octets that look like ordinary public unicast space. */
static bool
eligible_octet(unsigned o)
{
	if (o == 0 || o == 10 || o == 100 || o == 127 || o == 169 || o == 172 || o == 192 ||
	    o == 198 || o == 203 || o >= 224)
		return false;
	return true;
}

static uint32_t
unique_asn(Rng *r, const Network *nets, uint32_t n)
{
	for (;;) {
		uint32_t asn;
		int form = (int) rng_below(r, 10);
		if (form < 7)
			asn = rng_range(r, 1000, 64000);
		else if (form == 7)
			asn = rng_range(r, 196608, 213000);     /* RIPE 4-byte */
		else if (form == 8)
			asn = rng_range(r, 131072, 141000);     /* APNIC 4-byte */
		else
			asn = rng_range(r, 262144, 270000);     /* LACNIC 4-byte */
		if (asn == 23456)
			continue;
		bool dup = false;
		for (uint32_t i = 0; i < n && !dup; i++)
			dup = nets[i].asn == asn;
		if (!dup)
			return asn;
	}
}

static void
make_org(Rng *r, Network *nw)
{
	char stem[32];
	int nsyl = 2 + (int) rng_below(r, 2);
	stem[0] = 0;
	for (int i = 0; i < nsyl; i++)
		strcat(stem, syllables[rng_below(r, sizeof(syllables) / sizeof(syllables[0]))]);
	stem[0] = (char) (stem[0] - 'a' + 'A');
	snprintf(nw->org, sizeof(nw->org), "%s %s%s", stem, org_words[nw->kind][rng_below(r, 6)],
	         legal_suffix(nw->cc));
}

/* Per /8 allocation cursor, in /24 units. */
typedef struct {
	uint8_t  octets[224];
	uint32_t cursor[224];
	int      n;
} Allocator;

static void
alloc_init(Allocator *al, Rng *r)
{
	al->n = 0;
	for (unsigned o = 1; o < 224; o++)
		if (eligible_octet(o)) {
			al->octets[al->n] = (uint8_t) o;
			al->cursor[al->n] = rng_below(r, 32768);
			al->n++;
		}
}

/* Allocate an aligned block of n24 /24s (a power of two) somewhere in public-looking space. */
static uint32_t
alloc_block(Allocator *al, Rng *r, uint32_t n24)
{
	for (int attempt = 0; attempt < 4 * al->n; attempt++) {
		int i = attempt < al->n ? (int) rng_below(r, (uint32_t) al->n) : attempt % al->n;
		uint32_t c = (al->cursor[i] + n24 - 1) & ~(n24 - 1);
		if (c + n24 <= 65536) {
			al->cursor[i] = c + n24 + rng_below(r, 64);
			return (uint32_t) al->octets[i] << 24 | c << 8;
		}
	}
	die("address space exhausted; use fewer hosts");
}

static void
add_prefix4(Population *pop, uint32_t net, uint32_t base, uint32_t n24)
{
	if (pop->npfx4 == pop->cap_pfx4) {
		pop->cap_pfx4 = pop->cap_pfx4 ? pop->cap_pfx4 * 2 : 1024;
		pop->pfx4 = realloc(pop->pfx4, pop->cap_pfx4 * sizeof(Prefix4));
		if (!pop->pfx4)
			die("out of memory");
	}
	Prefix4 *p = &pop->pfx4[pop->npfx4++];
	p->base = base;
	p->n24 = n24;
	p->len = (uint8_t) (24 - __builtin_ctz(n24));
	p->net = net;
}

/* An IPv6 /32 (or /48 for enterprises) from the RIR block of the network's country. */
static void
make_prefix6(Rng *r, Population *pop, uint32_t net)
{
	const Network *nw = &pop->nets[net];
	Prefix6 *p = &pop->pfx6[pop->npfx6];
	for (;;) {
		uint16_t hi, mid;
		const char *cc = nw->cc;
		if (!strcmp(cc, "US") || !strcmp(cc, "CA"))
			hi = (uint16_t) rng_range(r, 0x2600, 0x2610);
		else if (!strcmp(cc, "BR") || !strcmp(cc, "AR") || !strcmp(cc, "MX") ||
		         !strcmp(cc, "CO") || !strcmp(cc, "CL") || !strcmp(cc, "PE"))
			hi = (uint16_t) rng_range(r, 0x2800, 0x2804);
		else if (!strcmp(cc, "CN") || !strcmp(cc, "IN") || !strcmp(cc, "VN") ||
		         !strcmp(cc, "KR") || !strcmp(cc, "JP") || !strcmp(cc, "ID") ||
		         !strcmp(cc, "TH") || !strcmp(cc, "TW") || !strcmp(cc, "MY") ||
		         !strcmp(cc, "PH") || !strcmp(cc, "PK") || !strcmp(cc, "SG") ||
		         !strcmp(cc, "HK"))
			hi = (uint16_t) rng_range(r, 0x2400, 0x240f);
		else if (!strcmp(cc, "EG"))
			hi = 0x2c0f;
		else
			hi = (uint16_t) rng_range(r, 0x2a00, 0x2a0f);
		mid = (uint16_t) rng_below(r, 0x10000);
		if (hi == 0x2c0f)
			mid = (uint16_t) (0xf000 | (mid & 0x0fff));
		memset(p->addr, 0, 16);
		put16(p->addr, hi);
		put16(p->addr + 2, mid);
		p->len = 32;
		if (nw->kind == NET_ENTERPRISE) {
			put16(p->addr + 4, rng_below(r, 0x10000));
			p->len = 48;
		}
		bool dup = false;
		for (uint32_t i = 0; i < pop->npfx6 && !dup; i++)
			dup = memcmp(pop->pfx6[i].addr, p->addr, 4) == 0;
		if (!dup)
			break;
	}
	p->net = net;
	pop->nets[net].pfx6 = (int32_t) pop->npfx6++;
}

/* The address of the slot-th host of a network: spread evenly over its prefixes, scrambled. */
static uint32_t
host_address(const Population *pop, const Network *nw, uint32_t slot)
{
	uint64_t pos = (uint64_t) slot * nw->cap4 / nw->nhosts;
	for (uint32_t k = 0; k < nw->pfx4_count; k++) {
		const Prefix4 *p = &pop->pfx4[nw->pfx4_first + k];
		uint64_t cap = 254ULL * p->n24;
		if (pos < cap) {
			uint32_t blk = (uint32_t) (pos % p->n24);
			uint32_t hst = (uint32_t) (pos / p->n24);
			blk = (blk * nw->scramble + (nw->scramble >> 3)) & (p->n24 - 1);
			hst = (hst * 37 + (nw->asn % 254)) % 254;
			return p->base + blk * 256 + hst + 1;
		}
		pos -= cap;
	}
	die("internal error: host slot outside its network");
}

static void
host_address6(const Population *pop, const Network *nw, uint32_t slot, uint8_t type,
              uint8_t out[16])
{
	const Prefix6 *p = &pop->pfx6[nw->pfx6];
	memcpy(out, p->addr, 16);
	if (p->len == 32) {
		/* a /56 per customer or a /64 per server subnet, then an interface ID */
		uint32_t sub = slot * 0x9e3779b1u + nw->asn;     /* bijective in slot */
		put32(out + 4, sub);
		if (type == HT_CLIENT) {
			uint64_t iid = mix64((uint64_t) slot << 20 ^ nw->asn) | 1;
			put64(out + 8, iid & 0xfdffffffffffffffULL);
		} else {
			put64(out + 8, (uint64_t) (slot % 250) + 1 + (type == HT_SERVER ? 0x20 : 0));
		}
	} else {
		put16(out + 6, slot >> 8);
		put64(out + 8, (uint64_t) (slot & 0xff) + 1);
	}
}

static void
build_population(Population *pop, const Options *o, uint64_t seed)
{
	Rng rng, *r = &rng;
	rng_seed(r, seed, 1);
	memset(pop, 0, sizeof(*pop));

	pop->nnets = N_NETWORKS;
	pop->nets = xcalloc(pop->nnets, sizeof(Network));
	static const unsigned kind_w[NET_KINDS] = { 50, 22, 16, 12 };
	for (uint32_t i = 0; i < pop->nnets; i++) {
		Network *nw = &pop->nets[i];
		/* keep the biggest networks of a known mix, whatever the seed */
		static const uint8_t top_kinds[] = { NET_ACCESS, NET_MAIL, NET_ACCESS, NET_HOSTING,
		                                     NET_ACCESS, NET_MAIL, NET_ENTERPRISE, NET_HOSTING };
		nw->kind = i < sizeof(top_kinds) ? top_kinds[i] : (uint8_t) rng_weighted(r, kind_w, NET_KINDS);
		nw->size = 1.0 / pow(i + 1, 1.05);
		const char *cc = nw->kind == NET_ACCESS
			? cc_access[rng_weighted(r, cc_access_w, (int) (sizeof(cc_access_w) / sizeof(unsigned)))]
			: cc_hosting[rng_weighted(r, cc_hosting_w, (int) (sizeof(cc_hosting_w) / sizeof(unsigned)))];
		memcpy(nw->cc, cc, 3);
		nw->asn = unique_asn(r, pop->nets, i);
		make_org(r, nw);
		const uint8_t *oui = router_oui[rng_below(r, sizeof(router_oui) / 3)];
		memcpy(nw->mac, oui, 3);
		nw->mac[3] = (uint8_t) rng_below(r, 256);
		nw->mac[4] = (uint8_t) rng_below(r, 256);
		nw->mac[5] = (uint8_t) i;
		nw->pfx6 = -1;
		nw->scramble = rng_next(r) | 1;
	}

	/* How many hosts of each type: scaled to the traffic, with floors for tiny captures. */
	uint32_t want[HT_KINDS];
	uint64_t s = o->smtp;
	want[HT_CLIENT] = (uint32_t) (s / 8 < 300 ? 300 : s / 8 > 2000000 ? 2000000 : s / 8);
	want[HT_SERVER] = (uint32_t) (s / 80 < 60 ? 60 : s / 80 > 250000 ? 250000 : s / 80);
	want[HT_RELAY] = (uint32_t) (s / 400 < 25 ? 25 : s / 400 > 60000 ? 60000 : s / 400);
	want[HT_WEB] = (uint32_t) (o->other / 100 < 60 ? 60 : o->other / 100 > 200000 ? 200000
	                           : o->other / 100);
	static const double factor[HT_KINDS][NET_KINDS] = {
		/* ACCESS HOSTING ENTERPRISE MAIL */
		{ 1.00, 0.08, 0.05, 0.01 },
		{ 0.02, 0.60, 0.50, 3.00 },
		{ 0.02, 1.00, 0.80, 1.50 },
		{ 0.05, 2.00, 0.30, 1.00 },
	};
	pop->nhosts = want[0] + want[1] + want[2] + want[3];
	pop->hosts = xcalloc(pop->nhosts, sizeof(Host));
	double *cdf = xcalloc(pop->nnets, sizeof(double));
	uint32_t h = 0;
	for (int t = 0; t < HT_KINDS; t++) {
		double acc = 0;
		for (uint32_t i = 0; i < pop->nnets; i++) {
			acc += pop->nets[i].size * factor[t][pop->nets[i].kind];
			cdf[i] = acc;
		}
		pop->list[t].idx = xcalloc(want[t], sizeof(uint32_t));
		pop->first[t] = h;
		for (uint32_t k = 0; k < want[t]; k++, h++) {
			double x = rng_unit(r) * acc;
			uint32_t lo = 0, hi = pop->nnets - 1;
			while (lo < hi) {
				uint32_t mid = (lo + hi) / 2;
				if (cdf[mid] > x)
					hi = mid;
				else
					lo = mid + 1;
			}
			Host *ho = &pop->hosts[h];
			ho->net = lo;
			ho->type = (uint8_t) t;
			pop->nets[lo].nhosts++;
			unsigned u = rng_below(r, 100);
			if (t == HT_CLIENT)
				ho->os = u < 85 ? OS_WINDOWS : u < 97 ? OS_LINUX : OS_BSD;
			else if (t == HT_WEB)
				ho->os = u < 75 ? OS_LINUX : OS_WINDOWS;
			else
				ho->os = u < 75 ? OS_LINUX : u < 87 ? OS_BSD : u < 95 ? OS_WINDOWS : OS_SOLARIS;
			unsigned init = ho->os == OS_WINDOWS ? 128 : ho->os == OS_SOLARIS ? 255 : 64;
			ho->ttl = (uint8_t) (init - rng_range(r, 3, 22));
			pop->list[t].idx[pop->list[t].n++] = h;
		}
	}
	free(cdf);

	/* Prefixes: room for about three times the hosts, split like real announcements. */
	Allocator al;
	alloc_init(&al, r);
	for (uint32_t i = 0; i < pop->nnets; i++) {
		Network *nw = &pop->nets[i];
		uint32_t need = (uint32_t) (((uint64_t) nw->nhosts * 3 + 253) / 254);
		if (need == 0)
			need = 1;
		nw->pfx4_first = pop->npfx4;
		while (need > 0) {
			uint32_t p = 1;
			while (p * 2 <= need && p * 2 <= 4096)
				p *= 2;
			if (p > 1 && rng_chance(r, 0.3))
				p /= 2;
			add_prefix4(pop, i, alloc_block(&al, r, p), p);
			need = need > p ? need - p : 0;
		}
		if (rng_chance(r, 0.25)) {
			uint32_t p = 1u << rng_below(r, 3);
			add_prefix4(pop, i, alloc_block(&al, r, p), p);
		}
		nw->pfx4_count = pop->npfx4 - nw->pfx4_first;
		for (uint32_t k = 0; k < nw->pfx4_count; k++)
			nw->cap4 += 254ULL * pop->pfx4[nw->pfx4_first + k].n24;
	}

	/* IPv6: a quarter of the networks, and always some big access and mail networks. */
	pop->pfx6 = xcalloc(pop->nnets, sizeof(Prefix6));
	for (uint32_t i = 0; i < pop->nnets; i++)
		if (i < 6 || rng_chance(r, 0.25))
			make_prefix6(r, pop, i);

	uint32_t nv6 = 0;
	for (uint32_t k = 0; k < pop->nhosts; k++)
		if (pop->nets[pop->hosts[k].net].pfx6 >= 0)
			nv6++;
	pop->v6 = xcalloc(nv6, 16);
	for (int t = 0; t < HT_KINDS; t++)
		pop->list6[t].idx = xcalloc(pop->list[t].n, sizeof(uint32_t));
	for (uint32_t k = 0; k < pop->nhosts; k++) {
		Host *ho = &pop->hosts[k];
		Network *nw = &pop->nets[ho->net];
		uint32_t slot = nw->placed++;
		ho->v4 = host_address(pop, nw, slot);
		ho->v6 = UINT32_MAX;
		if (nw->pfx6 >= 0) {
			host_address6(pop, nw, slot, ho->type, pop->v6[pop->nv6]);
			ho->v6 = pop->nv6++;
		}
	}
	for (int t = 0; t < HT_KINDS; t++)
		for (uint32_t k = 0; k < pop->list[t].n; k++) {
			uint32_t hidx = pop->list[t].idx[k];
			if (pop->hosts[hidx].v6 != UINT32_MAX)
				pop->list6[t].idx[pop->list6[t].n++] = hidx;
		}
}

static void
write_networks(const Population *pop, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	for (uint32_t i = 0; i < pop->nnets; i++) {
		const Network *nw = &pop->nets[i];
		for (uint32_t k = 0; k < nw->pfx4_count; k++) {
			const Prefix4 *p = &pop->pfx4[nw->pfx4_first + k];
			fprintf(f, "%u.%u.%u.%u/%u\t%u\t%s\t%s\n", p->base >> 24, (p->base >> 16) & 255,
			        (p->base >> 8) & 255, p->base & 255, p->len, nw->asn, nw->org, nw->cc);
		}
		if (nw->pfx6 >= 0) {
			char buf[INET6_ADDRSTRLEN];
			const Prefix6 *p = &pop->pfx6[nw->pfx6];
			inet_ntop(AF_INET6, p->addr, buf, sizeof(buf));
			fprintf(f, "%s/%u\t%u\t%s\t%s\n", buf, p->len, nw->asn, nw->org, nw->cc);
		}
	}
	if (fclose(f) != 0)
		die("cannot write %s: %s", path, strerror(errno));
}

/* ------------------------------------------------------------------------------------------ */
/* Agents                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* What the truth needs to know about one sampled packet. */
typedef struct {
	uint8_t  smtp;            /* generated as SMTP (port 25, 465 or 587) */
	uint8_t  fam;             /* 4 or 6 */
	uint8_t  tcp_flags;
	uint8_t  tagged;
	uint16_t sport, dport;
	uint16_t vlan;            /* outermost tag, when tagged */
	int8_t   word;            /* smtp_words index, -1 for none */
	uint32_t src, dst;        /* host indices */
} PacketInfo;

typedef struct {
	/* the datagram under construction; samples start at HEADROOM + header length */
	uint8_t    buf[HEADROOM + MAX_SFLOW_PAYLOAD + 512];
	uint32_t   len;           /* end of the sFlow payload, as an offset in buf */
	uint32_t   nsamples, nflow, ncounter, target;
	bool       open;
	bool       expanded;      /* this datagram uses expanded flow samples */
	uint32_t   sample_off[MAX_DGRAM_SAMPLES];
	uint32_t   hdrlen_off[MAX_DGRAM_SAMPLES];  /* offset of header_length, 0 if none */
	PacketInfo info[MAX_DGRAM_SAMPLES];
	uint32_t   ninfo;
} Dgram;

typedef struct {
	int      version;
	bool     v6;
	uint8_t  addr[16];        /* v4 in the first 4 bytes */
	char     addr_text[INET6_ADDRSTRLEN];
	uint8_t  mac[6];
	uint16_t udp_sport;
	uint32_t sub_agent;
	uint32_t rate;
	double   weight;
	int      expanded_mode;   /* 0 never, 1 always, 2 every other datagram */
	double   gateway_share;
	double   tag_share;
	uint16_t vlans[4];
	uint32_t uptime0;         /* ms at the start of the capture */
	uint32_t ifindex_base;
	uint32_t seq;             /* next datagram sequence number */
	uint32_t last_seq;        /* last one written */
	uint32_t flow_seq, counter_seq;
	uint32_t pool;
	uint16_t ip_id;
	uint64_t dgrams, lost;
	Dgram    d;
} Agent;

static const uint8_t collector_mac[6] = { 0x00, 0x1b, 0x21, 0x3c, 0x9d, 0x10 };
static const uint32_t collector_v4 = 0x0a0a00fa;  /* 10.10.0.250 */
static const uint8_t collector_v6[16] = { 0xfd, 0x00, 0x63, 0x43, 0, 0, 0, 0,
                                          0, 0, 0, 0, 0, 0, 0, 0xfa };
static const uint32_t netflow_router_v4 = 0x0a0a004d;  /* 10.10.0.77, a misconfigured exporter */

static void
setup_agents(Agent *ag, int n, int version, Rng *r)
{
	static const uint32_t rates[] = { 2048, 1024, 4096, 512, 8192, 16384, 256, 2000 };
	static const uint8_t agent_oui[][3] = {
		{0x00, 0x1c, 0x73}, {0x00, 0x01, 0xe8}, {0x00, 0x04, 0x96}, {0x00, 0x1b, 0x54},
	};
	int nv5 = 0, last_v5 = -1;
	for (int i = 0; i < n; i++) {
		Agent *a = &ag[i];
		memset(a, 0, sizeof(*a));
		a->version = version ? version : (i % 3 == 0 ? 5 : i % 3 == 1 ? 4 : 2);
		if (a->version == 5) {
			nv5++;
			last_v5 = i;
		}
		a->v6 = n >= 3 && i == 1;
		if (a->v6) {
			memcpy(a->addr, collector_v6, 16);
			a->addr[15] = (uint8_t) (0x11 + i);
			inet_ntop(AF_INET6, a->addr, a->addr_text, sizeof(a->addr_text));
		} else {
			put32(a->addr, 0x0a0a000b + (uint32_t) i);     /* 10.10.0.11 ... */
			inet_ntop(AF_INET, a->addr, a->addr_text, sizeof(a->addr_text));
		}
		memcpy(a->mac, agent_oui[i % 4], 3);
		a->mac[3] = (uint8_t) rng_below(r, 256);
		a->mac[4] = (uint8_t) rng_below(r, 256);
		a->mac[5] = (uint8_t) (0x10 + i);
		a->udp_sport = (uint16_t) (i == 0 ? SFLOW_PORT : rng_range(r, 49152, 65535));
		a->sub_agent = i == 2 ? 1 : 0;
		a->rate = rates[i % 8];
		a->weight = 1.0 / pow(i + 1, 0.6);
		a->gateway_share = i == 0 ? 0.6 : 0.05;
		a->tag_share = 0.05 + 0.30 * rng_unit(r);
		static const uint16_t vlan_pool[] = { 10, 20, 100, 101, 200, 300, 500, 1000, 1001,
		                                      2001, 3000, 4000 };
		for (int k = 0; k < 4; k++)
			a->vlans[k] = vlan_pool[rng_below(r, 12)];
		a->uptime0 = rng_range(r, 3600000u, 40u * 86400000u);
		a->ifindex_base = 0;
		a->seq = rng_range(r, 1, 3000000);
		a->last_seq = a->seq - 1;
		a->flow_seq = rng_range(r, 1, 50000000);
		a->counter_seq = rng_range(r, 1, 100000);
		a->pool = (uint32_t) rng_next(r);
		a->ip_id = (uint16_t) rng_next(r);
	}
	/* One v5 agent sends expanded flow samples, with interface indexes too big for the
	 * compact form; when it is the only v5 agent it alternates with compact samples. */
	if (last_v5 >= 0) {
		Agent *a = &ag[last_v5];
		a->expanded_mode = nv5 >= 2 ? 1 : 2;
		a->ifindex_base = 0x01000000;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Sampled frames                                                                              */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
	uint8_t  b[FRAME_SCRATCH];
	uint32_t len;             /* length on the wire without FCS */
} Frame;

typedef struct {
	uint8_t        fam;       /* 4 or 6 */
	uint8_t        proto;
	bool           hbh;       /* IPv6 hop-by-hop header before the transport header */
	uint8_t        tags;      /* 0, 1 (802.1Q), 2 (802.1ad + 802.1Q) */
	uint16_t       vlan_outer, vlan_inner;
	uint8_t        pcp;       /* 802.1p priority of a single tag */
	uint8_t        ttl;
	uint32_t       src4, dst4;
	const uint8_t *src6, *dst6;
	const uint8_t *smac, *dmac;
	uint16_t       sport, dport;
	uint8_t        flags;
	uint8_t        opts;      /* TCP option style, OPT_* */
	uint16_t       window;
	const uint8_t *payload;   /* visible part of the payload */
	uint32_t       pavail;    /* bytes available at payload */
	uint32_t       plen;      /* payload length on the wire */
	uint8_t        icmp_type, icmp_code;
} PktSpec;

enum { OPT_NONE, OPT_TS, OPT_SYN_LINUX, OPT_SYN_WINDOWS, OPT_SYNACK };

static uint8_t *
put_eth(uint8_t *p, const PktSpec *s, uint16_t ethertype)
{
	p = putmem(p, s->dmac, 6);
	p = putmem(p, s->smac, 6);
	if (s->tags == 2) {
		p = put16(p, 0x88a8);
		p = put16(p, s->vlan_outer);
		p = put16(p, 0x8100);
		p = put16(p, s->vlan_inner);
	} else if (s->tags == 1) {
		p = put16(p, 0x8100);
		p = put16(p, (uint32_t) s->pcp << 13 | s->vlan_outer);
	}
	return put16(p, ethertype);
}

/*
 * Build an Ethernet frame carrying IPv4 or IPv6 and TCP, UDP or ICMP, as far as it is visible
 * in a sampled header (FRAME_SCRATCH bytes), and its length on the wire.
 */
static void
build_ip_frame(Frame *f, const PktSpec *s, Rng *r)
{
	uint8_t *p = f->b;
	p = put_eth(p, s, s->fam == 6 ? 0x86dd : 0x0800);
	uint32_t l4hdr;
	switch (s->proto) {
	case 6:
		l4hdr = 20;
		if (s->opts == OPT_TS) l4hdr += 12;
		else if (s->opts == OPT_SYN_LINUX || s->opts == OPT_SYNACK) l4hdr += 20;
		else if (s->opts == OPT_SYN_WINDOWS) l4hdr += 8;
		break;
	case 17: l4hdr = 8; break;
	default: l4hdr = 8; break;     /* ICMP and ICMPv6 */
	}
	uint32_t l4len = l4hdr + s->plen;
	uint8_t *ip = p;
	if (s->fam == 4) {
		p = put8(p, 0x45);
		p = put8(p, 0);
		p = put16(p, 20 + l4len);
		p = put16(p, (uint32_t) rng_next(r));
		p = put16(p, s->proto == 6 ? 0x4000 : 0);
		p = put8(p, s->ttl);
		p = put8(p, s->proto);
		p = put16(p, 0);
		p = put32(p, s->src4);
		p = put32(p, s->dst4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	} else {
		uint32_t ext = s->hbh ? 8 : 0;
		p = put32(p, 0x60000000u | (uint32_t) (rng_next(r) & 0xfffff));
		p = put16(p, ext + l4len);
		p = put8(p, s->hbh ? 0 : s->proto);
		p = put8(p, s->ttl);
		p = putmem(p, s->src6, 16);
		p = putmem(p, s->dst6, 16);
		if (s->hbh) {
			/* hop-by-hop with a router alert and padding, as MLD and RSVP senders do */
			p = put8(p, s->proto);
			p = put8(p, 0);
			p = put8(p, 5);
			p = put8(p, 2);
			p = put16(p, 0);
			p = put8(p, 1);
			p = put8(p, 0);
		}
	}
	if (s->proto == 6) {
		p = put16(p, s->sport);
		p = put16(p, s->dport);
		p = put32(p, (uint32_t) rng_next(r));
		p = put32(p, (s->flags & 0x10) ? (uint32_t) rng_next(r) : 0);
		p = put8(p, (l4hdr / 4) << 4);
		p = put8(p, s->flags);
		p = put16(p, s->window);
		p = put16(p, (uint32_t) rng_next(r));   /* checksum of a packet we only half see */
		p = put16(p, 0);
		uint32_t tsval = (uint32_t) rng_next(r);
		switch (s->opts) {
		case OPT_TS:
			p = put16(p, 0x0101);
			p = put8(p, 8);
			p = put8(p, 10);
			p = put32(p, tsval);
			p = put32(p, tsval - rng_below(r, 100000));
			break;
		case OPT_SYN_LINUX:
		case OPT_SYNACK:
			p = put8(p, 2); p = put8(p, 4); p = put16(p, 1460);
			p = put8(p, 4); p = put8(p, 2);
			p = put8(p, 8); p = put8(p, 10);
			p = put32(p, tsval);
			p = put32(p, s->opts == OPT_SYNACK ? tsval - 777 : 0);
			p = put8(p, 1);
			p = put8(p, 3); p = put8(p, 3); p = put8(p, 7);
			break;
		case OPT_SYN_WINDOWS:
			p = put8(p, 2); p = put8(p, 4); p = put16(p, 1460);
			p = put8(p, 1); p = put8(p, 1);
			p = put8(p, 4); p = put8(p, 2);
			break;
		default:
			break;
		}
	} else if (s->proto == 17) {
		p = put16(p, s->sport);
		p = put16(p, s->dport);
		p = put16(p, l4len);
		p = put16(p, (uint32_t) rng_next(r) | 1);
	} else {
		p = put8(p, s->icmp_type);
		p = put8(p, s->icmp_code);
		p = put16(p, (uint32_t) rng_next(r));
		p = put16(p, s->sport);    /* echo id, or unused for errors */
		p = put16(p, s->dport);    /* echo sequence */
	}
	uint32_t room = FRAME_SCRATCH - (uint32_t) (p - f->b);
	uint32_t n = s->plen < room ? s->plen : room;
	if (n > s->pavail)
		n = s->pavail;
	memcpy(p, s->payload, n);
	p += n;
	uint32_t built = (uint32_t) (p - f->b);
	f->len = built + (s->plen - n);
	if (f->len < 60)
		f->len = 60;                           /* Ethernet pads short frames */
	/* whatever the payload text did not cover, up to what is sampled, is zeros */
	if (built < SAMPLED_HEADER)
		memset(p, 0, SAMPLED_HEADER - built);
}

/* ------------------------------------------------------------------------------------------ */
/* Payload text                                                                                */
/* ------------------------------------------------------------------------------------------ */

static const char *const mail_domains[] = {
	"gmail.com", "yahoo.com", "hotmail.com", "aol.com", "msn.com", "mail.ru", "yandex.ru",
	"web.de", "gmx.de", "qq.com", "163.com", "orange.fr", "free.fr", "libero.it",
	"terra.com.br", "uol.com.br", "rediffmail.com", "comcast.net", "verizon.net",
	"btinternet.com", "t-online.de", "wanadoo.fr", "sbcglobal.net", "earthlink.net",
};
#define N_MAIL_DOMAINS ((uint32_t) (sizeof(mail_domains) / sizeof(mail_domains[0])))

static const char *const mail_users[] = {
	"john", "info", "sales", "admin", "mary.smith", "newsletter", "support", "bounce",
	"noreply", "postmaster", "kevin77", "linda_m", "webmaster", "contact", "office", "j.doe",
	"anna.k", "mike", "service", "billing", "peter.mueller", "sandra", "tom1984", "alerts",
};
#define N_MAIL_USERS ((uint32_t) (sizeof(mail_users) / sizeof(mail_users[0])))

/* First segments of message bodies.  None starts with an SMTP verb or with digits, so the
 * truth's verb and code counts are exactly the command and reply packets. */
static const char *const body_chunks[] = {
	"Received: from unknown (HELO mail.com) (201.13.88.2)\r\n  by 0 with SMTP; Wed, 14 Mar 2007 "
	"18:11:02 -0000\r\nMessage-ID: <000a01c7665a$1e4e0e90$0100007f@localhost>\r\n",
	"From: \"Cheap Meds Online\" <orders@pharmacy-deals.biz>\r\nTo: <john@yahoo.com>\r\n"
	"Subject: Re: your order\r\nDate: Wed, 14 Mar 2007 19:02:44 +0300\r\n",
	"Subject: =?windows-1251?B?z+7x6+Xk7ejpIPjg7fEh?=\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/alternative;\r\n\tboundary=\"----=_NextPart_000_0006_01C7665A\"\r\n",
	"Message-ID: <45F83A2C.7010503@example.org>\r\nUser-Agent: Thunderbird 1.5.0.10 (Windows/20070221)"
	"\r\nMIME-Version: 1.0\r\nTo: team@example.org\r\n",
	"Content-Type: text/html; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable"
	"\r\n\r\n<html><body><p>Hello friend, stock alert!</p>\r\n",
	"MIME-Version: 1.0\r\nX-Mailer: Microsoft Outlook Express 6.00.2900.2180\r\nX-MimeOLE: Produced"
	" By Microsoft MimeOLE V6.00.2900.2180\r\nX-Priority: 3\r\n",
	"PGh0bWw+PGhlYWQ+PG1ldGEgaHR0cC1lcXVpdj0iQ29udGVudC1UeXBlIiBjb250ZW50PSJ0ZXh0L2h0bWw7IGNoYXJz"
	"ZXQ9aXNvLTg4NTktMSI+PC9oZWFkPjxib2R5Pjxicj48YnI+\r\n",
	"------=_NextPart_000_0006_01C7665A.1E4E0E90\r\nContent-Type: image/gif;\r\n\tname=\"logo.gif\""
	"\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlhZAAyAPcAAP///w==\r\n",
	"Dear Sir/Madam,\r\n\r\nWe are pleased to inform you that your e-mail address has won the sum of"
	" USD 1,500,000.00 in our international lottery programme.\r\n",
	"Return-Path: <bounce-2113-776@lists.example.net>\r\nX-Original-To: anna.k@web.de\r\nDelivered"
	"-To: anna.k@web.de\r\nList-Unsubscribe: <mailto:leave@lists.example.net>\r\n",
	"Hi,\r\n\r\nplease find attached the report for last week. Let me know if the numbers look right"
	" to you; the totals for March are still preliminary.\r\n\r\nRegards\r\n",
	"This is a multi-part message in MIME format.\r\n\r\n------=_NextPart_000_0012_01C76617.4A2B"
	"C6D0\r\nContent-Type: text/plain;\r\n\tcharset=\"windows-1252\"\r\n",
};
#define N_BODY_CHUNKS ((uint32_t) (sizeof(body_chunks) / sizeof(body_chunks[0])))

typedef struct { int word; const char *text; } Reply;
static const Reply replies[] = {
	{W_220, "220 mx1.mail-relay.net ESMTP Postfix (Debian/GNU)\r\n"},
	{W_220, "220 smtp.provider.com ESMTP Sendmail 8.13.8/8.13.8; Wed, 14 Mar 2007 18:22:03 +0100\r\n"},
	{W_220, "220 2.0.0 Ready to start TLS\r\n"},
	{W_220, "220 mail.example-corp.com Microsoft ESMTP MAIL Service ready at Wed, 14 Mar 2007\r\n"},
	{W_250, "250-mx1.mail-relay.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n"
	        "250-ETRN\r\n250-STARTTLS\r\n250-8BITMIME\r\n250 DSN\r\n"},
	{W_250, "250 2.1.0 Ok\r\n"},
	{W_250, "250 2.1.5 Ok\r\n"},
	{W_250, "250 2.0.0 Ok: queued as 3B1F2E4C21\r\n"},
	{W_250, "250 OK id=1HRQ2c-0004Uv-Kd\r\n"},
	{W_250, "250 smtp.provider.com Hello [201.13.88.2], pleased to meet you\r\n"},
	{W_354, "354 End data with <CR><LF>.<CR><LF>\r\n"},
	{W_354, "354 Enter message, ending with \".\" on a line by itself\r\n"},
	{W_221, "221 2.0.0 Bye\r\n"},
	{W_221, "221 smtp.provider.com closing connection\r\n"},
	{W_550, "550 5.1.1 <kevin77@hotmail.com>: Recipient address rejected: User unknown in virtual "
	        "mailbox table\r\n"},
	{W_550, "550 5.7.1 Message rejected as spam by Content Filtering.\r\n"},
	{W_550, "550-5.7.1 The IP you're using to send mail is not authorized to send email directly "
	        "to our servers.\r\n"},
	{W_554, "554 5.7.1 Service unavailable; Client host [89.123.45.6] blocked using "
	        "zen.spamhaus.org\r\n"},
	{W_554, "554 5.7.1 <unknown[201.13.88.2]>: Client host rejected: Access denied\r\n"},
	{W_451, "451 4.7.1 Please try again later (greylisted)\r\n"},
	{W_450, "450 4.7.1 Client host rejected: cannot find your hostname, [89.123.45.6]\r\n"},
	{W_421, "421 4.7.0 Too many concurrent SMTP connections; please try again later.\r\n"},
	{W_334, "334 VXNlcm5hbWU6\r\n"},
	{W_334, "334 UGFzc3dvcmQ6\r\n"},
	{W_235, "235 2.7.0 Authentication successful\r\n"},
	{W_535, "535 5.7.8 Error: authentication failed: authentication failure\r\n"},
};
static const unsigned reply_w[] = {
	6, 3, 2, 3, 10, 9, 9, 6, 3, 3, 4, 2, 4, 2, 7, 3, 2, 4, 2, 5, 3, 2, 2, 1, 1, 2,
};
#define N_REPLIES ((int) (sizeof(replies) / sizeof(replies[0])))

static const char *const http_requests[] = {
	"GET / HTTP/1.1\r\nAccept: */*\r\nAccept-Language: en-us\r\nUser-Agent: Mozilla/4.0 "
	"(compatible; MSIE 6.0; Windows NT 5.1; SV1)\r\nHost: www.example.com\r\n",
	"GET /images/banner_468x60.gif HTTP/1.1\r\nHost: ads.adserver-network.com\r\nUser-Agent: "
	"Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.8.1.2) Gecko/20070219 Firefox/2.0.0.2\r\n",
	"POST /cgi-bin/login.pl HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\n"
	"Content-Length: 38\r\nHost: forum.example.net\r\n\r\n",
};
static const char *const http_responses[] = {
	"HTTP/1.1 200 OK\r\nDate: Wed, 14 Mar 2007 18:22:03 GMT\r\nServer: Apache/2.2.3 (Debian) "
	"PHP/5.2.0-8\r\nContent-Type: text/html; charset=UTF-8\r\n",
	"HTTP/1.1 304 Not Modified\r\nDate: Wed, 14 Mar 2007 18:22:04 GMT\r\nServer: Microsoft-IIS/6.0"
	"\r\nX-Powered-By: ASP.NET\r\nETag: \"80b4e1c8a65c71:2c2\"\r\n",
	"HTTP/1.0 302 Found\r\nLocation: http://www.example.com/index.html\r\nServer: lighttpd/1.4.13"
	"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
};
static const char *const misc_tcp_text[] = {
	"SSH-2.0-OpenSSH_4.3p2 Debian-9\r\n",
	"+OK POP3 server ready <1896.697170952@pop.example.net>\r\n",
	"USER alice\r\n",
	"* OK IMAP4rev1 Service Ready\r\n",
	"a001 LOGIN alice secret\r\n",
	"NICK guest4711\r\nUSER guest 0 * :guest\r\n",
};

/* ------------------------------------------------------------------------------------------ */
/* The generator state                                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
	uint64_t datagrams, valid, malformed, malformed_kind[MAL_KINDS], lost;
	uint64_t frames;
	uint64_t flow_samples, counter_samples, sampled_packets;
	uint64_t smtp_rows, smtp_any, syn, syn_ack, rst, fin, est_packets, ipv6_rows, vlan_rows;
	uint64_t hour[24];
	uint64_t words[N_SMTP_WORDS];
} Truth;

typedef struct {
	double  *cum;             /* cumulative traffic weight at the start of each minute */
	uint32_t nmin;
	uint32_t pos;
	int64_t  start_us;
	double   span_s;
} Clock;

typedef struct {
	Options    opt;
	Population pop;
	Rng        rng;
	Agent      agents[MAX_AGENTS];
	int        nagents;
	double     agent_cdf[MAX_AGENTS];
	Clock      clock;
	int64_t    now_us;        /* time of the traffic being generated */
	int64_t    last_ts;       /* last pcap timestamp written */
	pcap_dumper_t *dumper;
	FILE      *rows;
	char      *rows_buf;
	uint8_t   *roles;         /* per host and family: ROLE_* bits over port-25 rows */
	Truth      t;
	uint64_t  *malformed_frames;
	int       *malformed_kinds;
	uint64_t   nmalformed_frames;
	uint32_t   gateway_asn;
	uint8_t   *label;         /* --labels: per host, L_* */
	uint32_t  *bots, nbots;   /* hosts labelled L_BOT */
	uint32_t  *opens, nopens; /* L_OPEN */
	uint32_t  *dests, ndests; /* mail servers and relays that are not open */
} Gen;

/* Traffic through the day (UTC), and how much busier than that the SMTP bots are. */
static const double traffic_profile[24] = {
	0.78, 0.70, 0.63, 0.58, 0.55, 0.56, 0.62, 0.72, 0.82, 0.90, 0.95, 0.98,
	1.00, 1.02, 1.04, 1.06, 1.10, 1.16, 1.22, 1.28, 1.30, 1.24, 1.08, 0.90,
};
static const double smtp_bias[24] = {
	1.00, 0.90, 0.85, 0.80, 0.75, 0.75, 0.80, 0.85, 0.90, 0.95, 1.00, 1.00,
	1.00, 1.00, 1.05, 1.10, 1.20, 1.30, 1.40, 1.45, 1.45, 1.35, 1.20, 1.10,
};

static void
clock_init(Clock *c, int64_t start, double hours)
{
	c->span_s = hours * 3600.0;
	c->nmin = (uint32_t) ceil(c->span_s / 60.0);
	if (c->nmin == 0)
		c->nmin = 1;
	c->cum = xcalloc(c->nmin + 1, sizeof(double));
	for (uint32_t m = 0; m < c->nmin; m++) {
		double dur = c->span_s - m * 60.0 < 60.0 ? c->span_s - m * 60.0 : 60.0;
		int hour = (int) (((start + (int64_t) m * 60) % 86400) / 3600);
		c->cum[m + 1] = c->cum[m] + traffic_profile[hour] * dur / 60.0;
	}
	c->pos = 0;
	c->start_us = start * 1000000;
}

/* Time at a given share (0..1) of the traffic; progress must not go backwards. */
static int64_t
clock_at(Clock *c, double progress)
{
	double x = progress * c->cum[c->nmin];
	while (c->pos + 1 < c->nmin && c->cum[c->pos + 1] <= x)
		c->pos++;
	double w = c->cum[c->pos + 1] - c->cum[c->pos];
	double frac = w > 0 ? (x - c->cum[c->pos]) / w : 0;
	if (frac > 1)
		frac = 1;
	double dur = c->span_s - c->pos * 60.0 < 60.0 ? c->span_s - c->pos * 60.0 : 60.0;
	double sec = c->pos * 60.0 + frac * dur;
	int64_t us = c->start_us + (int64_t) (sec * 1e6);
	int64_t end = c->start_us + (int64_t) (c->span_s * 1e6) - 1;
	return us < end ? us : end;
}

static inline int
hour_of(int64_t us)
{
	return (int) ((us / 1000000) % 86400 / 3600);
}

/* ------------------------------------------------------------------------------------------ */
/* Packet generators                                                                           */
/* ------------------------------------------------------------------------------------------ */

static uint32_t
pick_host(Gen *g, int type, bool v6)
{
	static const int skew[HT_KINDS] = { 3, 4, 2, 3 };
	const HostList *l = v6 ? &g->pop.list6[type] : &g->pop.list[type];
	if (l->n == 0)
		return UINT32_MAX;
	uint32_t k = rng_skewed(&g->rng, l->n, skew[type]);
	return v6 ? l->idx[k] : g->pop.first[type] + k;
}

static uint16_t
ephemeral_port(Rng *r, uint8_t os)
{
	switch (os) {
	case OS_WINDOWS: return (uint16_t) rng_range(r, 1025, 5000);   /* XP, the bots of 2007 */
	case OS_LINUX: return (uint16_t) rng_range(r, 32768, 61000);
	case OS_BSD: return (uint16_t) rng_range(r, 49152, 65535);
	default: return (uint16_t) rng_range(r, 32768, 65535);
	}
}

static uint16_t
tcp_window(Rng *r, uint8_t os)
{
	static const uint16_t win[] = { 65535, 64240, 16384, 17520 };
	switch (os) {
	case OS_WINDOWS: return win[rng_below(r, 4)];
	case OS_LINUX: return (uint16_t) rng_range(r, 46, 5840);
	case OS_BSD: return 65535;
	default: return 49640;
	}
}

/* Tag the frame as this agent's ports are configured: untagged, 802.1Q, or a few QinQ. */
static void
choose_tags(Gen *g, const Agent *a, PktSpec *s)
{
	Rng *r = &g->rng;
	s->tags = 0;
	s->pcp = 0;
	if (rng_chance(r, 0.012)) {
		s->tags = 2;
		s->vlan_outer = (uint16_t) rng_range(r, 2000, 2999);
		s->vlan_inner = (uint16_t) rng_range(r, 1, 999);
	} else if (rng_chance(r, a->tag_share)) {
		s->tags = 1;
		s->vlan_outer = a->vlans[rng_below(r, 4)];
		s->pcp = rng_chance(r, 0.1) ? 5 : 0;
	}
}

static void
set_endpoints(Gen *g, PktSpec *s, uint32_t src, uint32_t dst, bool v6)
{
	const Population *pop = &g->pop;
	const Host *hs = &pop->hosts[src], *hd = &pop->hosts[dst];
	s->fam = v6 ? 6 : 4;
	if (v6) {
		s->src6 = pop->v6[hs->v6];
		s->dst6 = pop->v6[hd->v6];
	} else {
		s->src4 = hs->v4;
		s->dst4 = hd->v4;
	}
	s->smac = pop->nets[hs->net].mac;
	s->dmac = pop->nets[hd->net].mac;
	s->ttl = hs->ttl;
}

static void
fill_info(PacketInfo *pi, const PktSpec *s, bool smtp, uint32_t src, uint32_t dst, int word)
{
	pi->smtp = smtp;
	pi->fam = s->fam;
	pi->tcp_flags = s->flags;
	pi->tagged = s->tags != 0;
	pi->vlan = s->vlan_outer;
	pi->sport = s->sport;
	pi->dport = s->dport;
	pi->word = (int8_t) word;
	pi->src = src;
	pi->dst = dst;
}

/* A TLS record as seen from outside: content type, version, length, ciphertext. */
static uint32_t
tls_payload(Rng *r, uint8_t *p, uint32_t room, bool handshake)
{
	uint32_t plen = rng_chance(r, 0.35) ? 1448 : rng_range(r, 53, 1400);
	p[0] = handshake ? 0x16 : 0x17;
	p[1] = 3;
	p[2] = 1;
	put16(p + 3, plen - 5);
	fill_random(r, p + 5, room - 5);
	return plen;
}

static int
smtp_command(Gen *g, uint32_t client, uint16_t port, char *out, size_t cap)
{
	Rng *r = &g->rng;
	static const unsigned w25[] = { 4, 9, 16, 9, 20, 1, 8, 26, 3, 4 };
	static const unsigned w587[] = { 15, 9, 16, 3, 20, 1, 8, 20, 3, 6 };
	int word = rng_weighted(r, port == 587 ? w587 : w25, 10);
	const char *dom = mail_domains[rng_below(r, N_MAIL_DOMAINS)];
	const char *user = mail_users[rng_below(r, N_MAIL_USERS)];
	uint32_t a4 = g->pop.hosts[client].v4;
	switch (word) {
	case W_AUTH:
		if (rng_chance(r, 0.6))
			snprintf(out, cap, "AUTH LOGIN\r\n");
		else
			snprintf(out, cap, "AUTH PLAIN AG%sAHNlY3JldA==\r\n", rng_chance(r, 0.5)
			         ? "pvaG4AaGVsbG8x" : "FkbWluAHBhc3N3b3Jk");
		break;
	case W_DATA: snprintf(out, cap, "DATA\r\n"); break;
	case W_EHLO:
	case W_HELO: {
		const char *verb = word == W_EHLO ? "EHLO" : "HELO";
		switch (rng_below(r, 6)) {
		case 0: snprintf(out, cap, "%s User\r\n", verb); break;
		case 1: snprintf(out, cap, "%s localhost\r\n", verb); break;
		case 2: snprintf(out, cap, "%s WIN-%05X\r\n", verb, rng_below(r, 0xfffff)); break;
		case 3: snprintf(out, cap, "%s [%u.%u.%u.%u]\r\n", verb, a4 >> 24, (a4 >> 16) & 255,
		                 (a4 >> 8) & 255, a4 & 255); break;
		case 4: snprintf(out, cap, "%s %s\r\n", verb, dom); break;
		default:
			snprintf(out, cap, "%s host-%u-%u-%u-%u.dyn.%s\r\n", verb, a4 >> 24,
			         (a4 >> 16) & 255, (a4 >> 8) & 255, a4 & 255,
			         mail_domains[rng_below(r, N_MAIL_DOMAINS)]);
		}
		break;
	}
	case W_MAIL:
		if (rng_chance(r, 0.3))
			snprintf(out, cap, "MAIL FROM:<%s%u@%s> SIZE=%u\r\n", user, rng_below(r, 100), dom,
			         rng_range(r, 900, 90000));
		else
			snprintf(out, cap, "MAIL FROM:<%s@%s>\r\n", user, dom);
		break;
	case W_NOOP: snprintf(out, cap, "NOOP\r\n"); break;
	case W_QUIT: snprintf(out, cap, "QUIT\r\n"); break;
	case W_RCPT: snprintf(out, cap, "RCPT TO:<%s@%s>\r\n", user, dom); break;
	case W_RSET: snprintf(out, cap, "RSET\r\n"); break;
	default: snprintf(out, cap, "STARTTLS\r\n"); word = W_STARTTLS; break;
	}
	return word;
}

static const double ordinary_flags[4];
static void smtp_packet(Gen *g, const Agent *a, Frame *f, PacketInfo *pi, uint32_t c, uint32_t sv,
                        uint16_t port, bool s2s, bool v6, const double *fl);
static void gen_smtp_labelled(Gen *g, const Agent *a, Frame *f, PacketInfo *pi);

/*
 * One sampled SMTP packet: a TCP segment to or from port 25, 587 or 465, between a client (a
 * bot, or a relay sending) and a server (or a relay receiving); a few relay-to-relay with both
 * ports 25.  Flag shares follow what the seed slides saw.
 */
static void
gen_smtp(Gen *g, const Agent *a, Frame *f, PacketInfo *pi)
{
	Rng *r = &g->rng;
	const Population *pop = &g->pop;
	if (g->label) {
		gen_smtp_labelled(g, a, f, pi);
		return;
	}
	unsigned pu = rng_below(r, 1000);
	uint16_t port = pu < 900 ? 25 : pu < 965 ? 587 : 465;
	bool s2s = port == 25 && rng_chance(r, 0.02);
	bool v6 = rng_chance(r, 0.03);

	uint32_t c, sv;
	for (int attempt = 0;; attempt++) {
		bool use6 = v6 && attempt < 4;
		c = pick_host(g, s2s || rng_chance(r, 0.2) ? HT_RELAY : HT_CLIENT, use6);
		sv = pick_host(g, s2s ? (rng_chance(r, 0.5) ? HT_RELAY : HT_SERVER)
		                      : (rng_chance(r, 0.15) ? HT_RELAY : HT_SERVER), use6);
		if (c != UINT32_MAX && sv != UINT32_MAX && c != sv) {
			v6 = use6;
			break;
		}
	}
	/* the host records are a cache miss away: fetch them while the flags are drawn */
	__builtin_prefetch(&pop->hosts[c]);
	__builtin_prefetch(&pop->hosts[sv]);
	smtp_packet(g, a, f, pi, c, sv, port, s2s, v6, ordinary_flags);
}

/* Where a packet's flags fall: the cumulative shares of SYN, SYN/ACK, RST and FIN. */
static const double ordinary_flags[4] = { 0.042, 0.062, 0.069, 0.109 };

static void
smtp_packet(Gen *g, const Agent *a, Frame *f, PacketInfo *pi, uint32_t c, uint32_t sv,
            uint16_t port, bool s2s, bool v6, const double *fl)
{
	Rng *r = &g->rng;
	const Population *pop = &g->pop;
	uint8_t pay[FRAME_SCRATCH];
	char text[192];
	PktSpec s;
	memset(&s, 0, sizeof(s));
	s.proto = 6;
	bool c2s;
	int word = -1;
	uint32_t plen = 0;
	const uint8_t *payload = pay;
	uint32_t pavail = 0;
	double u = rng_unit(r);
	if (u < fl[0]) {
		c2s = true;
		s.flags = rng_chance(r, 0.05) ? 0xc2 : 0x02;      /* some SYNs negotiate ECN */
	} else if (u < fl[1]) {
		c2s = false;
		s.flags = rng_chance(r, 0.03) ? 0x52 : 0x12;
	} else if (u < fl[2]) {
		c2s = rng_chance(r, 0.4);
		s.flags = rng_chance(r, 0.5) ? 0x04 : 0x14;
	} else if (u < fl[3]) {
		c2s = rng_chance(r, 0.5);
		s.flags = 0x11;
		if (!c2s && port != 465 && rng_chance(r, 0.25)) {
			/* the server says goodbye and closes in one segment */
			const Reply *rp = &replies[12 + rng_below(r, 2)];
			word = rp->word;
			payload = (const uint8_t *) rp->text;
			plen = pavail = (uint32_t) strlen(rp->text);
			s.flags = 0x19;
		}
	} else {
		c2s = rng_chance(r, 0.58);
		double v = rng_unit(r);
		if (c2s ? v < 0.40 : v < 0.50) {
			s.flags = 0x10;
		} else if (port == 465) {
			plen = tls_payload(r, pay, sizeof(pay), rng_chance(r, 0.1));
			pavail = sizeof(pay);
			s.flags = plen == 1448 ? 0x10 : 0x18;
		} else if (c2s) {
			double k = rng_unit(r);
			if (k < 0.45) {
				word = smtp_command(g, c, port, text, sizeof(text));
				payload = (const uint8_t *) text;
				plen = pavail = (uint32_t) strlen(text);
				s.flags = 0x18;
			} else if (k < 0.88) {
				const char *b = body_chunks[rng_below(r, N_BODY_CHUNKS)];
				payload = (const uint8_t *) b;
				pavail = (uint32_t) strlen(b);
				plen = rng_chance(r, 0.7) ? (pop->hosts[c].os == OS_WINDOWS ? 1460 : 1448)
				                          : rng_range(r, 200, 1400);
				s.flags = rng_chance(r, 0.7) ? 0x10 : 0x18;
			} else {
				plen = tls_payload(r, pay, sizeof(pay), false);
				pavail = sizeof(pay);
				s.flags = 0x18;
			}
		} else {
			if (rng_chance(r, 0.88)) {
				const Reply *rp = &replies[rng_weighted(r, reply_w, N_REPLIES)];
				word = rp->word;
				payload = (const uint8_t *) rp->text;
				plen = pavail = (uint32_t) strlen(rp->text);
			} else {
				plen = tls_payload(r, pay, sizeof(pay), false);
				pavail = sizeof(pay);
			}
			s.flags = 0x18;
		}
	}
	uint32_t src = c2s ? c : sv, dst = c2s ? sv : c;
	const Host *hsrc = &pop->hosts[src];
	uint16_t cport = s2s ? 25 : ephemeral_port(r, pop->hosts[c].os);
	s.sport = c2s ? cport : port;
	s.dport = c2s ? port : cport;
	if (s.flags & 0x02)
		s.opts = (s.flags & 0x10) ? (hsrc->os == OS_WINDOWS ? OPT_SYN_WINDOWS : OPT_SYNACK)
		                          : (hsrc->os == OS_WINDOWS ? OPT_SYN_WINDOWS : OPT_SYN_LINUX);
	else if (s.flags & 0x04)
		s.opts = OPT_NONE;
	else
		s.opts = hsrc->os == OS_WINDOWS ? OPT_NONE : OPT_TS;
	s.window = (s.flags & 0x04) ? 0 : tcp_window(r, hsrc->os);
	s.payload = payload;
	s.pavail = pavail;
	s.plen = plen;
	set_endpoints(g, &s, src, dst, v6);
	s.hbh = v6 && rng_chance(r, 0.1);
	choose_tags(g, a, &s);
	build_ip_frame(f, &s, r);
	fill_info(pi, &s, true, src, dst, word);
}

/*
 * --labels: SMTP from hosts that behave as their kind does. Synthetic, and
 * only as realistic as these rules (the bots of the seed's time, seen from an
 * exchange), not a model of any real network:
 *
 *   spam bot        a few percent of the client hosts of access networks: only
 *                   ever a client, port 25, to any mail server or relay at
 *                   random (and open servers, a quarter of the time), so to
 *                   many servers in many networks; SYN-heavy (connections that
 *                   never get far), many resets; as busy at night as by day.
 *                   Each bot pushes as hard as its own q (0 to 1, uniform):
 *                   its flags are the ordinary ones at q = 0, and it sends
 *                   (1 - q) / 2 of its mail through its provider's relay
 *   ordinary client the other clients: to their own provider's submission
 *                   server or relay (one, sometimes a second), mostly 587;
 *                   ordinary flags; by day and evening (the square of the
 *                   traffic profile). 3% run their own mail server on the
 *                   client address: port 25 to any mail server, like a bot
 *                   but with ordinary flags and by day
 *   mail server,    both roles: the server of clients and bots, and the client
 *   relay           of other mail servers (popular ones first) on port 25, by
 *                   the traffic profile, ordinary flags
 *   open server     a few percent of the mail servers: bots use them, and they
 *                   send on what they receive to any mail server, day and night,
 *                   with more SYNs and resets than a well-run one
 */
enum { L_NONE, L_BOT, L_SERVER, L_RELAY, L_OPEN, L_CLIENT, L_KINDS };
static const char *const label_name[L_KINDS] = {
	"", "spam_bot", "mail_server", "relay", "open_server", "ordinary_client"
};
static const char *const net_kind_name[NET_KINDS] = { "access", "hosting", "enterprise", "mail" };
static const double bot_flags[4] = { 0.22, 0.28, 0.40, 0.43 };
static const double open_flags[4] = { 0.10, 0.14, 0.19, 0.23 };

static void
setup_labels(Gen *g, uint64_t seed)
{
	Population *pop = &g->pop;
	Rng lr;
	rng_seed(&lr, seed, 3);
	g->label = xcalloc(pop->nhosts, 1);
	g->bots = xcalloc(pop->nhosts, sizeof(uint32_t));
	g->opens = xcalloc(pop->nhosts, sizeof(uint32_t));
	g->dests = xcalloc(pop->nhosts, sizeof(uint32_t));
	for (uint32_t h = 0; h < pop->nhosts; h++) {
		const Host *ho = &pop->hosts[h];
		switch (ho->type) {
		case HT_CLIENT:
			if (pop->nets[ho->net].kind == NET_ACCESS && rng_chance(&lr, 0.04)) {
				g->label[h] = L_BOT;
				g->bots[g->nbots++] = h;
			} else
				g->label[h] = L_CLIENT;
			break;
		case HT_SERVER:
			if (rng_chance(&lr, 0.03)) {
				g->label[h] = L_OPEN;
				g->opens[g->nopens++] = h;
			} else {
				g->label[h] = L_SERVER;
				g->dests[g->ndests++] = h;
			}
			break;
		case HT_RELAY:
			g->label[h] = L_RELAY;
			g->dests[g->ndests++] = h;
			break;
		default:
			break;
		}
	}
	if (g->nbots == 0 || g->nopens == 0 || g->ndests < 2)
		die("--labels: too few hosts for every kind (more --smtp)");
}

static void
write_labels(const Gen *g, const char *path)
{
	const Population *pop = &g->pop;
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	for (uint32_t h = 0; h < pop->nhosts; h++) {
		const Host *ho = &pop->hosts[h];
		if (g->label[h] == L_NONE)
			continue;
		fprintf(f, "%u.%u.%u.%u\t%s\t%s\n", ho->v4 >> 24, (ho->v4 >> 16) & 255, (ho->v4 >> 8) & 255,
		        ho->v4 & 255, label_name[g->label[h]], net_kind_name[pop->nets[ho->net].kind]);
	}
	if (fclose(f) != 0)
		die("cannot write %s: %s", path, strerror(errno));
}

/* an ordinary client host: popular ones more often, never a bot */
static uint32_t
pick_ordinary_client(Gen *g)
{
	for (;;) {
		uint32_t c = pick_host(g, HT_CLIENT, false);
		if (g->label[c] == L_CLIENT)
			return c;
	}
}

static void
gen_smtp_labelled(Gen *g, const Agent *a, Frame *f, PacketInfo *pi)
{
	Rng *r = &g->rng;
	double prof = traffic_profile[hour_of(g->now_us)];
	/* bot and open server traffic flat through the day, the rest by the profile */
	double w[4] = { 0.30 / prof, 0.40 * prof * prof, 0.25 * prof, 0.05 / prof };
	double x = rng_unit(r) * (w[0] + w[1] + w[2] + w[3]);
	uint32_t c, sv;
	uint16_t port = 25;
	const double *fl = ordinary_flags;
	double fl_bot[4];
	if (x < w[0]) {
		c = g->bots[rng_below(r, g->nbots)];
		/* how hard this bot pushes, 0 to 1: the gentle ones look ordinary, and
		 * send half their mail through their provider's relay */
		double q = (double) (mix64(c ^ 0xb07) >> 11) / 9007199254740992.0;
		for (int i = 0; i < 4; i++)
			fl_bot[i] = ordinary_flags[i] + q * (bot_flags[i] - ordinary_flags[i]);
		fl = fl_bot;
		if (rng_chance(r, 0.5 * (1 - q)))
			sv = g->dests[mix64(c) % g->ndests];
		else
			sv = rng_chance(r, 0.25) ? g->opens[rng_below(r, g->nopens)] : g->dests[rng_below(r, g->ndests)];
	} else if (x < w[0] + w[1]) {
		c = pick_ordinary_client(g);
		uint64_t home = mix64(c) % g->ndests;
		if (mix64(c ^ 0x3717) % 100 < 3) {
			/* a small office's own mail server on a client address: straight to
			 * the recipients' servers, port 25, as a bot would, but by day */
			sv = g->dests[rng_below(r, g->ndests)];
		} else {
			/* its provider's server, sometimes a second one */
			sv = g->dests[rng_chance(r, 0.85) ? home : (home + 1 + mix64(c + 1) % (g->ndests - 1)) % g->ndests];
			unsigned pu = rng_below(r, 10);
			port = pu < 6 ? 587 : pu < 9 ? 25 : 465;
		}
	} else if (x < w[0] + w[1] + w[2]) {
		do {
			c = g->dests[rng_skewed(r, g->ndests, 2)];
			sv = pick_host(g, HT_SERVER, false);
		} while (sv == c || g->label[sv] == L_OPEN);
	} else {
		c = g->opens[rng_below(r, g->nopens)];
		sv = g->dests[rng_below(r, g->ndests)];
		fl = open_flags;
	}
	smtp_packet(g, a, f, pi, c, sv, port, false, false, fl);
}

enum {
	OT_HTTP, OT_HTTPS, OT_DNS, OT_ICMP, OT_TCP_MISC, OT_UDP_MISC, OT_TCP6, OT_ICMP6, OT_ARP,
	OT_NONIP, OT_UDP25, OT_ICMP_QUOTE25, OT_KINDS
};
static const unsigned other_w[OT_KINDS] = { 317, 290, 100, 30, 120, 60, 35, 7, 25, 10, 3, 3 };

static uint32_t
dns_payload(Rng *r, uint8_t *p, bool response)
{
	uint8_t *q = p;
	q = put16(q, (uint32_t) rng_next(r));
	q = put16(q, response ? 0x8180 : 0x0100);
	q = put16(q, 1);
	q = put16(q, response ? 1 : 0);
	q = put16(q, 0);
	q = put16(q, 0);
	const char *name = mail_domains[rng_below(r, N_MAIL_DOMAINS)];
	if (rng_chance(r, 0.5))
		*q++ = 3, q = putmem(q, "www", 3);
	for (const char *lab = name; *lab;) {
		const char *dot = strchr(lab, '.');
		size_t n = dot ? (size_t) (dot - lab) : strlen(lab);
		*q++ = (uint8_t) n;
		q = putmem(q, lab, n);
		lab += n + (dot ? 1 : 0);
	}
	*q++ = 0;
	static const uint16_t qtypes[] = { 1, 1, 15, 28 };    /* bots look up MX records */
	q = put16(q, qtypes[rng_below(r, 4)]);
	q = put16(q, 1);
	return (uint32_t) (q - p);
}

/* Other sampled traffic: what makes up most of an exchange, plus a few look-alike traps. */
static void
gen_other(Gen *g, const Agent *a, Frame *f, PacketInfo *pi)
{
	Rng *r = &g->rng;
	const Population *pop = &g->pop;
	uint8_t pay[FRAME_SCRATCH];
	int kind = rng_weighted(r, other_w, OT_KINDS);
	PktSpec s;
	memset(&s, 0, sizeof(s));
	memset(pi, 0, sizeof(*pi));
	pi->word = -1;

	if (kind == OT_ARP || kind == OT_NONIP) {
		const Network *nw = &pop->nets[rng_below(r, pop->nnets)];
		uint8_t *p = f->b;
		memset(f->b, 0, 64);
		if (kind == OT_ARP) {
			static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
			p = putmem(p, bcast, 6);
			p = putmem(p, nw->mac, 6);
			p = put16(p, 0x0806);
			p = put16(p, 1);
			p = put16(p, 0x0800);
			p = put8(p, 6);
			p = put8(p, 4);
			p = put16(p, 1);
			p = putmem(p, nw->mac, 6);
			p = put32(p, 0x50510000u | rng_range(r, 1, 1022));      /* peering LAN */
			p = putmem(p, "\0\0\0\0\0\0", 6);
			put32(p, 0x50510000u | rng_range(r, 1, 1022));
		} else if (rng_chance(r, 0.5)) {
			static const uint8_t lldp[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e };
			p = putmem(p, lldp, 6);
			p = putmem(p, nw->mac, 6);
			p = put16(p, 0x88cc);
			p = put16(p, 0x0207);   /* chassis id TLV, MAC subtype */
			p = put8(p, 4);
			p = putmem(p, nw->mac, 6);
			p = put16(p, 0x0403);
			p = put8(p, 7);
			p = put16(p, 0x6534);
			p = put16(p, 0x0602);
			put16(p, 120);
		} else {
			/* spanning tree: an 802.3 frame with a length field and LLC, not Ethernet II */
			static const uint8_t stp[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 };
			p = putmem(p, stp, 6);
			p = putmem(p, nw->mac, 6);
			p = put16(p, 38);
			p = put8(p, 0x42);
			p = put8(p, 0x42);
			p = put8(p, 0x03);
			p = put16(p, 0);
			p = put8(p, 0);
			p = put8(p, 0);
			p = put8(p, 0);
			put16(p, 0x8000);
		}
		f->len = 60;
		return;
	}

	bool v6 = kind == OT_TCP6 || kind == OT_ICMP6;
	uint32_t cl = pick_host(g, HT_CLIENT, v6), sv = pick_host(g, HT_WEB, v6);
	if (cl == UINT32_MAX || sv == UINT32_MAX) {
		v6 = false;
		kind = OT_HTTPS;
		cl = pick_host(g, HT_CLIENT, false);
		sv = pick_host(g, HT_WEB, false);
	}
	__builtin_prefetch(&pop->hosts[cl]);
	__builtin_prefetch(&pop->hosts[sv]);
	bool c2s = rng_chance(r, 0.5);
	const Host *hc = &pop->hosts[cl];
	uint16_t cport = 0, sport_srv = 80;
	s.proto = 6;
	const uint8_t *payload = pay;
	uint32_t plen = 0, pavail = 0;
	switch (kind) {
	case OT_HTTP:
	case OT_HTTPS:
	case OT_TCP6:
	case OT_TCP_MISC: {
		static const uint16_t misc_ports[] = { 22, 110, 143, 993, 995, 3389, 8080, 6881, 1433,
		                                       445, 135, 139, 2525, 26, 24, 21, 23, 119, 1723,
		                                       5900, 3306, 6667 };
		if (kind == OT_HTTP)
			sport_srv = 80;
		else if (kind == OT_HTTPS)
			sport_srv = 443;
		else if (kind == OT_TCP6)
			sport_srv = rng_chance(r, 0.7) ? 443 : 80;
		else
			sport_srv = misc_ports[rng_below(r, sizeof(misc_ports) / sizeof(misc_ports[0]))];
		double u = rng_unit(r);
		if (u < 0.06) { s.flags = 0x02; c2s = true; }
		else if (u < 0.09) { s.flags = 0x12; c2s = false; }
		else if (u < 0.11) s.flags = 0x14;
		else if (u < 0.15) s.flags = 0x11;
		else if (u < 0.55) s.flags = 0x10;
		else {
			s.flags = 0x18;
			if (sport_srv == 80) {
				const char *t = c2s ? http_requests[rng_below(r, 3)]
				                    : http_responses[rng_below(r, 3)];
				payload = (const uint8_t *) t;
				pavail = (uint32_t) strlen(t);
				plen = c2s ? pavail + rng_range(r, 0, 300) : rng_range(r, 200, 1460);
			} else if (sport_srv == 443 || sport_srv == 993 || sport_srv == 995) {
				plen = tls_payload(r, pay, sizeof(pay), rng_chance(r, 0.1));
				pavail = sizeof(pay);
			} else if (rng_chance(r, 0.3)) {
				const char *t = misc_tcp_text[rng_below(r, 6)];
				payload = (const uint8_t *) t;
				plen = pavail = (uint32_t) strlen(t);
			} else {
				plen = rng_range(r, 1, 1460);
				fill_random(r, pay, sizeof(pay));
				pavail = sizeof(pay);
			}
		}
		break;
	}
	case OT_DNS:
		s.proto = 17;
		sport_srv = 53;
		plen = pavail = dns_payload(r, pay, !c2s);
		if (!c2s)
			plen += rng_range(r, 16, 400);
		break;
	case OT_UDP_MISC: {
		static const uint16_t udp_ports[] = { 123, 137, 1434, 5060, 27015, 6881, 4672, 500,
		                                      161, 1900 };
		s.proto = 17;
		sport_srv = udp_ports[rng_below(r, 10)];
		plen = rng_range(r, 12, 1200);
		fill_random(r, pay, sizeof(pay));
		pavail = sizeof(pay);
		break;
	}
	case OT_UDP25:
		/* UDP to port 25: not SMTP, whatever the port says */
		s.proto = 17;
		sport_srv = 25;
		c2s = true;
		plen = rng_range(r, 8, 64);
		fill_random(r, pay, sizeof(pay));
		pavail = sizeof(pay);
		break;
	case OT_ICMP:
	case OT_ICMP6: {
		static const char pattern[] = "abcdefghijklmnopqrstuvwabcdefghi";
		s.proto = kind == OT_ICMP ? 1 : 58;
		s.icmp_type = (uint8_t) (kind == OT_ICMP ? (c2s ? 8 : 0) : (c2s ? 128 : 129));
		cport = (uint16_t) rng_below(r, 65536);
		sport_srv = (uint16_t) rng_below(r, 65536);
		payload = (const uint8_t *) pattern;
		plen = pavail = 32;
		break;
	}
	case OT_ICMP_QUOTE25: {
		/* a router's "administratively prohibited" quoting a bot's SYN to port 25: the
		 * quoted TCP header is not a sampled SMTP packet */
		const Host *hs = &pop->hosts[sv];
		uint8_t *q = pay;
		q = put8(q, 0x45);
		q = put8(q, 0);
		q = put16(q, 48);
		q = put16(q, (uint32_t) rng_next(r));
		q = put16(q, 0x4000);
		q = put8(q, (uint8_t) rng_range(r, 100, 125));
		q = put8(q, 6);
		q = put16(q, 0);
		q = put32(q, hc->v4);
		q = put32(q, hs->v4);
		put16(pay + 10, csum_fold(csum_add(0, pay, 20)));
		q = put16(q, ephemeral_port(r, hc->os));
		q = put16(q, 25);
		q = put32(q, (uint32_t) rng_next(r));
		s.proto = 1;
		s.icmp_type = 3;
		s.icmp_code = 13;
		c2s = false;
		cport = 0;
		sport_srv = 0;
		plen = pavail = (uint32_t) (q - pay);
		break;
	}
	default:
		break;
	}
	uint32_t src = c2s ? cl : sv, dst = c2s ? sv : cl;
	const Host *hsrc = &pop->hosts[src];
	if (s.proto == 6 || s.proto == 17)
		cport = ephemeral_port(r, hc->os);
	s.sport = c2s ? cport : sport_srv;
	s.dport = c2s ? sport_srv : cport;
	if (s.proto == 6) {
		s.opts = (s.flags & 0x02) ? ((s.flags & 0x10) ? OPT_SYNACK : hsrc->os == OS_WINDOWS
		                             ? OPT_SYN_WINDOWS : OPT_SYN_LINUX)
		       : (s.flags & 0x04) ? OPT_NONE : hsrc->os == OS_WINDOWS ? OPT_NONE : OPT_TS;
		s.window = tcp_window(r, hsrc->os);
	}
	s.payload = payload;
	s.pavail = pavail;
	s.plen = plen;
	set_endpoints(g, &s, src, dst, v6);
	s.hbh = v6 && rng_chance(r, 0.05);
	choose_tags(g, a, &s);
	build_ip_frame(f, &s, r);
	fill_info(pi, &s, false, src, dst, -1);
}

/* ------------------------------------------------------------------------------------------ */
/* sFlow encoding                                                                              */
/* ------------------------------------------------------------------------------------------ */

static inline uint32_t
pad4(uint32_t n)
{
	return (n + 3) & ~3u;
}

static uint32_t
datagram_header_len(const Agent *a)
{
	return (a->version == 5 ? 28 : 24) + (a->v6 ? 12 : 0);
}

/* Extended gateway record contents chosen before encoding, so that its size is known. */
typedef struct {
	bool     present;
	uint32_t path[3];
	uint32_t npath;
	uint32_t ncomm;
	uint32_t src_as, peer_as;
} Gateway;

static uint32_t
gateway_body_len(const Gateway *gw)
{
	return 8 + 12 + 4 + (gw->npath ? 8 + 4 * gw->npath : 0) + 4 + 4 * gw->ncomm + 4;
}

static uint32_t
flow_sample_len(const Agent *a, bool expanded, uint32_t caplen, bool sw, const Gateway *gw)
{
	if (a->version == 5)
		return 8 + (expanded ? 44 : 32) + 8 + 16 + pad4(caplen) + (sw ? 24 : 0) +
		       (gw->present ? 8 + gateway_body_len(gw) : 0);
	return 4 + 28 + 4 + 12 + pad4(caplen) + 4 + (sw ? 20 : 0);
}

static uint32_t
counter_sample_len(const Agent *a, bool expanded, bool ethernet)
{
	if (a->version == 5)
		return 8 + (expanded ? 16 : 12) + 8 + 88 + (ethernet ? 8 + 52 : 0);
	return 4 + 16 + 88 + (ethernet ? 52 : 0);
}

static uint8_t *
put_generic_counters(uint8_t *p, uint32_t ifindex, uint64_t elapsed_s)
{
	uint64_t speed = ifindex % 4 == 0 ? 10000000000ULL : 1000000000ULL;
	uint64_t bps = (speed / 8) / (3 + ifindex % 7);
	uint64_t pkts = bps / 700;
	p = put32(p, ifindex);
	p = put32(p, 6);                            /* ethernetCsmacd */
	p = put64(p, speed);
	p = put32(p, 1);                            /* full duplex */
	p = put32(p, 3);                            /* admin up, oper up */
	p = put64(p, 81234567890ULL + bps * elapsed_s);
	p = put32(p, (uint32_t) (7654321 + pkts * elapsed_s));
	p = put32(p, (uint32_t) (1200 + elapsed_s / 5));
	p = put32(p, (uint32_t) (300 + elapsed_s / 30));
	p = put32(p, 0);
	p = put32(p, (uint32_t) (elapsed_s / 3600));
	p = put32(p, 0);
	p = put64(p, 92345678901ULL + bps * 11 / 10 * elapsed_s);
	p = put32(p, (uint32_t) (8765432 + pkts * elapsed_s));
	p = put32(p, (uint32_t) (2300 + elapsed_s / 4));
	p = put32(p, (uint32_t) (400 + elapsed_s / 25));
	p = put32(p, (uint32_t) (elapsed_s / 600));
	p = put32(p, 0);
	return put32(p, 0);                         /* not promiscuous */
}

static uint8_t *
put_ethernet_counters(uint8_t *p, uint64_t elapsed_s)
{
	for (int i = 0; i < 13; i++)
		p = put32(p, i == 1 ? (uint32_t) (elapsed_s / 7200) : 0);
	return p;
}

static uint32_t
agent_uptime(const Agent *a, const Gen *g, int64_t ts)
{
	return a->uptime0 + (uint32_t) ((ts - g->clock.start_us) / 1000);
}

static void
write_counter_sample(Gen *g, Agent *a, bool ethernet)
{
	Dgram *d = &a->d;
	bool expanded = d->expanded;
	uint32_t len = counter_sample_len(a, expanded, ethernet);
	uint8_t *p = d->buf + d->len;
	uint32_t ifindex = (expanded ? a->ifindex_base : 0) + rng_range(&g->rng, 1, 52);
	uint64_t elapsed = (uint64_t) (g->now_us - g->clock.start_us) / 1000000 + a->uptime0 / 1000;
	d->sample_off[d->nsamples] = d->len;
	d->hdrlen_off[d->nsamples] = 0;
	if (a->version == 5) {
		p = put32(p, expanded ? 4 : 2);
		p = put32(p, len - 8);
		p = put32(p, a->counter_seq++);
		if (expanded) {
			p = put32(p, 0);
			p = put32(p, ifindex);
		} else {
			p = put32(p, ifindex);
		}
		p = put32(p, ethernet ? 2 : 1);
		p = put32(p, 1);
		p = put32(p, 88);
		p = put_generic_counters(p, ifindex, elapsed);
		if (ethernet) {
			p = put32(p, 2);
			p = put32(p, 52);
			p = put_ethernet_counters(p, elapsed);
		}
	} else {
		p = put32(p, 2);
		p = put32(p, a->counter_seq++);
		p = put32(p, ifindex);
		p = put32(p, 20);                       /* counter polling interval, s */
		p = put32(p, ethernet ? 2 : 1);
		p = put_generic_counters(p, ifindex, elapsed);
		if (ethernet)
			p = put_ethernet_counters(p, elapsed);
	}
	d->len += len;
	d->nsamples++;
	d->ncounter++;
}

static void flush_datagram(Gen *g, Agent *a);

/* Start a datagram; sequence numbers lost in transit are skipped here, between two datagrams. */
static void
open_datagram(Gen *g, Agent *a, bool allow_loss)
{
	Rng *r = &g->rng;
	Dgram *d = &a->d;
	d->len = HEADROOM + datagram_header_len(a);
	d->nsamples = d->nflow = d->ncounter = d->ninfo = 0;
	d->target = rng_range(r, 3, 10);
	d->open = true;
	d->expanded = a->expanded_mode == 1 || (a->expanded_mode == 2 && rng_chance(r, 0.5));
	if (allow_loss && a->dgrams > 0) {
		while (rng_unit(r) * 1000.0 < g->opt.loss_permille) {
			a->seq++;
			a->lost++;
			/* the lost datagram's flow samples were drawn from packets too */
			uint32_t skipped = rng_range(r, 3, 8);
			a->flow_seq += skipped;
			a->pool += skipped * a->rate;
		}
	}
	if (rng_chance(r, 0.12)) {
		int n = rng_chance(r, 0.3) ? 2 : 1;
		for (int i = 0; i < n; i++)
			write_counter_sample(g, a, rng_chance(r, 0.7));
	}
}

/* Append one sampled frame as a flow sample; returns false when it does not fit. */
static bool
append_flow_sample(Gen *g, Agent *a, const Frame *f, const PacketInfo *pi)
{
	Rng *r = &g->rng;
	Dgram *d = &a->d;
	uint32_t caplen = f->len < SAMPLED_HEADER ? f->len : SAMPLED_HEADER;
	bool sw = a->version == 5 ? true : rng_chance(r, 0.5);
	Gateway gw = { 0 };
	if (a->version == 5 && pi->fam && rng_chance(r, a->gateway_share)) {
		const Population *pop = &g->pop;
		gw.present = true;
		gw.src_as = pop->nets[pop->hosts[pi->src].net].asn;
		gw.peer_as = rng_chance(r, 0.7) ? gw.src_as : pop->nets[rng_below(r, 20)].asn;
		gw.npath = rng_range(r, 1, 3);
		for (uint32_t k = 0; k + 1 < gw.npath; k++)
			gw.path[k] = pop->nets[rng_below(r, 30)].asn;
		gw.path[gw.npath - 1] = pop->nets[pop->hosts[pi->dst].net].asn;
		gw.ncomm = rng_below(r, 3);
	}
	uint32_t len = flow_sample_len(a, d->expanded, caplen, sw, &gw);
	if (d->len + len > HEADROOM + MAX_SFLOW_PAYLOAD || d->nsamples == MAX_DGRAM_SAMPLES)
		return false;

	uint8_t *p = d->buf + d->len;
	/* interface indexes of 2^24 and more only fit expanded samples */
	uint32_t base = d->expanded ? a->ifindex_base : 0;
	uint32_t in_if = base + rng_range(r, 1, 48);
	uint32_t out_if = base + rng_range(r, 1, 52);
	if (out_if == in_if)
		out_if = base + 49;
	a->pool += a->rate / 2 + rng_below(r, a->rate);
	uint32_t drops = rng_chance(r, 0.01) ? rng_range(r, 1, 40) : 0;
	uint16_t vlan = pi->tagged ? pi->vlan : a->vlans[0];
	d->sample_off[d->nsamples] = d->len;

	if (a->version == 5) {
		p = put32(p, d->expanded ? 3 : 1);
		p = put32(p, len - 8);
		p = put32(p, a->flow_seq++);
		if (d->expanded) {
			p = put32(p, 0);
			p = put32(p, in_if);
		} else {
			p = put32(p, in_if);
		}
		p = put32(p, a->rate);
		p = put32(p, a->pool);
		p = put32(p, drops);
		if (d->expanded) {
			p = put32(p, 0);
			p = put32(p, in_if);
			p = put32(p, 0);
			p = put32(p, out_if);
		} else {
			p = put32(p, in_if);
			p = put32(p, out_if);
		}
		p = put32(p, 1 + (sw ? 1 : 0) + (gw.present ? 1 : 0));
		p = put32(p, 1);                        /* raw packet header */
		p = put32(p, 16 + pad4(caplen));
		p = put32(p, 1);                        /* Ethernet */
		p = put32(p, f->len + 4);               /* frame length with FCS */
		p = put32(p, 4);                        /* stripped: the FCS */
		d->hdrlen_off[d->nsamples] = (uint32_t) (p - d->buf);
		p = put32(p, caplen);
		p = putmem(p, f->b, caplen);
		memset(p, 0, pad4(caplen) - caplen);
		p += pad4(caplen) - caplen;
		if (sw) {
			p = put32(p, 1001);
			p = put32(p, 16);
			p = put32(p, vlan);
			p = put32(p, 0);
			p = put32(p, vlan);
			p = put32(p, 0);
		}
		if (gw.present) {
			p = put32(p, 1003);
			p = put32(p, gateway_body_len(&gw));
			p = put32(p, 1);
			p = put32(p, 0x50510000u | rng_range(r, 1, 1022));      /* next hop */
			p = put32(p, g->gateway_asn);
			p = put32(p, gw.src_as);
			p = put32(p, gw.peer_as);
			p = put32(p, gw.npath ? 1 : 0);
			if (gw.npath) {
				p = put32(p, 2);                /* AS_SEQUENCE */
				p = put32(p, gw.npath);
				for (uint32_t k = 0; k < gw.npath; k++)
					p = put32(p, gw.path[k]);
			}
			p = put32(p, gw.ncomm);
			for (uint32_t k = 0; k < gw.ncomm; k++)
				p = put32(p, 0xfde80000u | rng_range(r, 100, 999));
			p = put32(p, 100);
		}
	} else {
		p = put32(p, 1);
		p = put32(p, a->flow_seq++);
		p = put32(p, in_if);
		p = put32(p, a->rate);
		p = put32(p, a->pool);
		p = put32(p, drops);
		p = put32(p, in_if);
		p = put32(p, out_if);
		p = put32(p, 1);                        /* packet header follows */
		p = put32(p, 1);                        /* Ethernet */
		p = put32(p, f->len + 4);
		d->hdrlen_off[d->nsamples] = (uint32_t) (p - d->buf);
		p = put32(p, caplen);
		p = putmem(p, f->b, caplen);
		memset(p, 0, pad4(caplen) - caplen);
		p += pad4(caplen) - caplen;
		p = put32(p, sw ? 1 : 0);
		if (sw) {
			p = put32(p, 1);                    /* extended switch */
			p = put32(p, vlan);
			p = put32(p, 0);
			p = put32(p, vlan);
			p = put32(p, 0);
		}
	}
	if ((uint32_t) (p - d->buf) != d->len + len)
		die("internal error: flow sample length %u, expected %u",
		    (unsigned) (p - d->buf - d->len), len);
	d->len += len;
	d->info[d->ninfo++] = *pi;
	d->nsamples++;
	d->nflow++;
	return true;
}

/* Write the datagram header in front of the samples. */
static void
finish_header(Dgram *d, const Agent *a, uint32_t seq, uint32_t uptime)
{
	uint8_t *p = d->buf + HEADROOM;
	p = put32(p, (uint32_t) a->version);
	p = put32(p, a->v6 ? 2 : 1);
	p = putmem(p, a->addr, a->v6 ? 16 : 4);
	if (a->version == 5)
		p = put32(p, a->sub_agent);
	p = put32(p, seq);
	p = put32(p, uptime);
	put32(p, d->nsamples);
}

static int64_t
next_timestamp(Gen *g)
{
	int64_t ts = g->now_us + rng_below(&g->rng, 2000);
	if (ts <= g->last_ts)
		ts = g->last_ts + 1 + rng_below(&g->rng, 40);
	g->last_ts = ts;
	return ts;
}

static void
dump_frame(Gen *g, const uint8_t *frame, uint32_t len, int64_t ts)
{
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t) (ts / 1000000);
	h.ts.tv_usec = (suseconds_t) (ts % 1000000);
	h.caplen = h.len = len;
	pcap_dump((u_char *) g->dumper, &h, frame);
	g->t.frames++;
}

/*
 * Put Ethernet/IP/UDP in front of a UDP payload that starts at buf + HEADROOM and write the
 * frame; returns nothing, the frame number is g->t.frames afterwards.
 */
static void
emit_udp(Gen *g, uint8_t *buf, uint32_t payload_len, const uint8_t *src_mac, bool v6,
         const uint8_t *src_addr, uint16_t sport, uint16_t dport, uint16_t ip_id, int64_t ts)
{
	uint8_t *payload = buf + HEADROOM;
	uint32_t udp_len = 8 + payload_len;
	uint8_t *start = payload - 8 - (v6 ? 40 : 20) - 14;
	uint8_t *p = start;
	p = putmem(p, collector_mac, 6);
	p = putmem(p, src_mac, 6);
	p = put16(p, v6 ? 0x86dd : 0x0800);
	uint8_t *ip = p;
	if (v6) {
		p = put32(p, 0x60000000u);
		p = put16(p, udp_len);
		p = put8(p, 17);
		p = put8(p, 64);
		p = putmem(p, src_addr, 16);
		p = putmem(p, collector_v6, 16);
	} else {
		p = put8(p, 0x45);
		p = put8(p, 0);
		p = put16(p, 20 + udp_len);
		p = put16(p, ip_id);
		p = put16(p, 0);
		p = put8(p, 63);
		p = put8(p, 17);
		p = put16(p, 0);
		p = putmem(p, src_addr, 4);
		p = put32(p, collector_v4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	}
	uint8_t *udp = p;
	p = put16(p, sport);
	p = put16(p, dport);
	p = put16(p, udp_len);
	p = put16(p, 0);
	if (v6) {
		/* UDP over IPv6 must carry a checksum */
		uint32_t sum = csum_add(0, ip + 8, 32);
		sum += udp_len + 17;
		sum = csum_add(sum, udp, udp_len);
		uint16_t c = csum_fold(sum);
		put16(udp + 6, c ? c : 0xffff);
	}
	dump_frame(g, start, (uint32_t) (payload + payload_len - start), ts);
}

static void
write_row(Gen *g, const Agent *a, const PacketInfo *pi, int64_t ts)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], vlan[8];
	const Population *pop = &g->pop;
	const Host *hs = &pop->hosts[pi->src], *hd = &pop->hosts[pi->dst];
	if (pi->fam == 6) {
		inet_ntop(AF_INET6, pop->v6[hs->v6], src, sizeof(src));
		inet_ntop(AF_INET6, pop->v6[hd->v6], dst, sizeof(dst));
	} else {
		snprintf(src, sizeof(src), "%u.%u.%u.%u", hs->v4 >> 24, (hs->v4 >> 16) & 255,
		         (hs->v4 >> 8) & 255, hs->v4 & 255);
		snprintf(dst, sizeof(dst), "%u.%u.%u.%u", hd->v4 >> 24, (hd->v4 >> 16) & 255,
		         (hd->v4 >> 8) & 255, hd->v4 & 255);
	}
	if (pi->tagged)
		snprintf(vlan, sizeof(vlan), "%u", pi->vlan);
	else
		strcpy(vlan, "\\N");
	fprintf(g->rows, "%" PRIu64 "\t%" PRId64 "\t%s\t%u\t%s\t%s\t%u\t%u\t%u\t%s\n", g->t.frames, ts,
	        a->addr_text, a->rate, src, dst, pi->sport, pi->dport, pi->tcp_flags, vlan);
}

/* Count what a correct loader must find in this (valid) datagram. */
static void
account(Gen *g, const Agent *a, int64_t ts)
{
	Truth *t = &g->t;
	const Dgram *d = &a->d;
	t->flow_samples += d->nflow;
	t->sampled_packets += d->nflow;
	t->counter_samples += d->ncounter;
	for (uint32_t i = 0; i < d->ninfo; i++) {
		const PacketInfo *pi = &d->info[i];
		if (!pi->smtp)
			continue;
		t->smtp_any++;
		if (pi->sport != 25 && pi->dport != 25)
			continue;
		t->smtp_rows++;
		uint8_t fl = pi->tcp_flags;
		if ((fl & 0x02) && !(fl & 0x10)) t->syn++;
		if ((fl & 0x02) && (fl & 0x10)) t->syn_ack++;
		if (fl & 0x04) t->rst++;
		if (fl & 0x01) t->fin++;
		t->est_packets += a->rate;
		if (pi->fam == 6) t->ipv6_rows++;
		if (pi->tagged) t->vlan_rows++;
		t->hour[hour_of(ts)]++;
		uint32_t fs = pi->fam == 6 ? 1 : 0;
		if (pi->dport == 25) {
			g->roles[pi->src * 2 + fs] |= ROLE_CLIENT;
			g->roles[pi->dst * 2 + fs] |= ROLE_SERVER;
		}
		if (pi->sport == 25) {
			g->roles[pi->src * 2 + fs] |= ROLE_SERVER;
			g->roles[pi->dst * 2 + fs] |= ROLE_CLIENT;
		}
		if (pi->word >= 0) {
			bool is_code = pi->word >= W_220;
			if ((is_code && pi->sport == 25) || (!is_code && pi->dport == 25))
				t->words[pi->word]++;
		}
		if (g->rows)
			write_row(g, a, pi, ts);
	}
}

static void
flush_datagram(Gen *g, Agent *a)
{
	Dgram *d = &a->d;
	if (!d->open)
		return;
	d->open = false;
	if (d->nsamples == 0)
		return;
	int64_t ts = next_timestamp(g);
	if (rng_chance(&g->rng, 1.0 / 3000)) {
		/* a syslog message from the same switch: not sFlow, not on the sFlow port */
		static const char msg[] = "<189>Mar 14 18:22:03 sw: %LINK-3-UPDOWN: Interface "
		                          "GigabitEthernet1/0/17, changed state to up";
		uint8_t tmp[HEADROOM + sizeof(msg)];
		memcpy(tmp + HEADROOM, msg, sizeof(msg) - 1);
		emit_udp(g, tmp, sizeof(msg) - 1, a->mac, a->v6, a->addr, 514, 514, a->ip_id++, ts);
		ts = next_timestamp(g);
	}
	uint32_t seq = a->seq++;
	finish_header(d, a, seq, agent_uptime(a, g, ts));
	emit_udp(g, d->buf, d->len - HEADROOM, a->mac, a->v6, a->addr, a->udp_sport, SFLOW_PORT,
	         a->ip_id++, ts);
	a->last_seq = seq;
	a->dgrams++;
	g->t.datagrams++;
	g->t.valid++;
	account(g, a, ts);
}

/* Add a sampled frame to its agent's datagram, sending the datagram when full. */
static void
sample_frame(Gen *g, Agent *a, const Frame *f, const PacketInfo *pi)
{
	if (!a->d.open)
		open_datagram(g, a, true);
	if (!append_flow_sample(g, a, f, pi)) {
		flush_datagram(g, a);
		open_datagram(g, a, true);
		if (!append_flow_sample(g, a, f, pi))
			die("internal error: a flow sample does not fit an empty datagram");
	}
	if (a->d.nflow >= a->d.target)
		flush_datagram(g, a);
}

/* ------------------------------------------------------------------------------------------ */
/* Malformed datagrams                                                                         */
/* ------------------------------------------------------------------------------------------ */

static Agent *
pick_agent(Gen *g)
{
	double x = rng_unit(&g->rng) * g->agent_cdf[g->nagents - 1];
	for (int i = 0; i < g->nagents; i++)
		if (x < g->agent_cdf[i])
			return &g->agents[i];
	return &g->agents[g->nagents - 1];
}

static void
emit_netflow(Gen *g, int64_t ts)
{
	static uint8_t buf[HEADROOM + 24 + 30 * 48];
	static uint32_t flow_sequence = 123456;
	static const uint8_t router_mac[6] = { 0x00, 0x1a, 0xa1, 0x07, 0x33, 0x02 };
	Rng *r = &g->rng;
	uint32_t count = rng_range(r, 1, 30);
	uint8_t *p = buf + HEADROOM;
	p = put16(p, 5);
	p = put16(p, count);
	p = put32(p, (uint32_t) ((ts - g->clock.start_us) / 1000) + 86400000u);
	p = put32(p, (uint32_t) (ts / 1000000));
	p = put32(p, (uint32_t) (ts % 1000000) * 1000);
	p = put32(p, flow_sequence);
	flow_sequence += count;
	p = put8(p, 0);
	p = put8(p, 0);
	p = put16(p, 0x4000 | 100);                 /* sampled 1:100 */
	for (uint32_t i = 0; i < count; i++) {
		const Host *a = &g->pop.hosts[rng_below(r, g->pop.nhosts)];
		const Host *b = &g->pop.hosts[rng_below(r, g->pop.nhosts)];
		p = put32(p, a->v4);
		p = put32(p, b->v4);
		p = put32(p, 0x50510001);
		p = put16(p, rng_range(r, 1, 48));
		p = put16(p, rng_range(r, 1, 48));
		p = put32(p, rng_range(r, 1, 40));
		p = put32(p, rng_range(r, 40, 60000));
		p = put32(p, 1000);
		p = put32(p, 2000);
		p = put16(p, ephemeral_port(r, OS_LINUX));
		p = put16(p, rng_chance(r, 0.5) ? 80 : 443);
		p = put8(p, 0);
		p = put8(p, 0x18);
		p = put8(p, 6);
		p = put8(p, 0);
		p = put16(p, g->pop.nets[a->net].asn & 0xffff);
		p = put16(p, g->pop.nets[b->net].asn & 0xffff);
		p = put8(p, 24);
		p = put8(p, 24);
		p = put16(p, 0);
	}
	uint8_t src[4];
	put32(src, netflow_router_v4);
	emit_udp(g, buf, (uint32_t) (p - buf - HEADROOM), router_mac, false, src, 50123, SFLOW_PORT,
	         (uint16_t) rng_next(r), ts);
}

/*
 * A datagram a correct decoder must reject whole.  It is built like a real one by a copy of an
 * agent (so the agent's counters do not move) and repeats that agent's last sequence number,
 * so that rejecting it leaves no gap in the sequence.
 */
static void
emit_malformed(Gen *g, int kind)
{
	static Agent tmp;
	Rng *r = &g->rng;
	int64_t ts = next_timestamp(g);
	if (kind == MAL_NOT_SFLOW) {
		emit_netflow(g, ts);
	} else {
		Agent *a = pick_agent(g);
		if (kind == MAL_SAMPLE_LENGTH && a->version != 5)
			kind = MAL_HEADER_LENGTH;
		tmp = *a;
		open_datagram(g, &tmp, false);
		uint32_t want = rng_range(r, 2, 6);
		while (tmp.d.nflow < want) {
			Frame f;
			PacketInfo pi;
			if (rng_chance(r, 0.5))
				gen_smtp(g, &tmp, &f, &pi);
			else
				gen_other(g, &tmp, &f, &pi);
			if (!append_flow_sample(g, &tmp, &f, &pi))
				break;
		}
		Dgram *d = &tmp.d;
		finish_header(d, &tmp, a->last_seq, agent_uptime(a, g, ts));
		uint32_t hlen = datagram_header_len(&tmp);
		switch (kind) {
		case MAL_TRUNCATED: {
			uint32_t start = d->sample_off[d->nsamples - 1];
			d->len = start + 4 + rng_below(r, d->len - start - 5);
			break;
		}
		case MAL_SAMPLE_COUNT:
			put32(d->buf + HEADROOM + hlen - 4, 0x7fffffff);
			break;
		case MAL_SAMPLE_LENGTH: {
			uint32_t off = d->sample_off[0] + 4;
			uint32_t real = (d->nsamples > 1 ? d->sample_off[1] : d->len) - off - 4;
			put32(d->buf + off, real + (d->len - off - 4 - real) + 4 * rng_range(r, 1, 200));
			break;
		}
		default: {
			uint32_t off = 0;
			for (uint32_t i = 0; i < d->nsamples && !off; i++)
				off = d->hdrlen_off[i];
			put32(d->buf + off, d->len - (off + 4) + rng_range(r, 1, 400));
			break;
		}
		}
		emit_udp(g, d->buf, d->len - HEADROOM, tmp.mac, tmp.v6, tmp.addr, tmp.udp_sport,
		         SFLOW_PORT, a->ip_id++, ts);
	}
	g->t.datagrams++;
	g->t.malformed++;
	g->t.malformed_kind[kind]++;
	g->malformed_frames[g->nmalformed_frames] = g->t.frames;
	g->malformed_kinds[g->nmalformed_frames++] = kind;
}

/* ------------------------------------------------------------------------------------------ */
/* Truth                                                                                       */
/* ------------------------------------------------------------------------------------------ */

static void
write_truth(Gen *g, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	const Truth *t = &g->t;
	fprintf(f, "seed %" PRIu64 "\n", g->opt.seed);
	fprintf(f, "frames %" PRIu64 "\n", t->frames);
	fprintf(f, "datagrams %" PRIu64 "\n", t->datagrams);
	fprintf(f, "valid_datagrams %" PRIu64 "\n", t->valid);
	fprintf(f, "malformed_datagrams %" PRIu64 "\n", t->malformed);
	uint64_t by_reason[4] = {
		t->malformed_kind[MAL_TRUNCATED], t->malformed_kind[MAL_NOT_SFLOW],
		t->malformed_kind[MAL_SAMPLE_COUNT],
		t->malformed_kind[MAL_SAMPLE_LENGTH] + t->malformed_kind[MAL_HEADER_LENGTH],
	};
	static const char *const reasons[4] = { "truncated", "not_sflow", "sample_count", "bad_length" };
	for (int i = 0; i < 4; i++)
		if (by_reason[i])
			fprintf(f, "malformed_%s %" PRIu64 "\n", reasons[i], by_reason[i]);
	uint64_t lost = 0;
	for (int i = 0; i < g->nagents; i++)
		lost += g->agents[i].lost;
	fprintf(f, "lost_datagrams %" PRIu64 "\n", lost);
	fprintf(f, "flow_samples %" PRIu64 "\n", t->flow_samples);
	fprintf(f, "counter_samples %" PRIu64 "\n", t->counter_samples);
	fprintf(f, "sampled_packets %" PRIu64 "\n", t->sampled_packets);
	fprintf(f, "smtp_rows %" PRIu64 "\n", t->smtp_rows);
	fprintf(f, "smtp_rows_25_465_587 %" PRIu64 "\n", t->smtp_any);
	fprintf(f, "syn %" PRIu64 "\n", t->syn);
	fprintf(f, "syn_ack %" PRIu64 "\n", t->syn_ack);
	fprintf(f, "rst %" PRIu64 "\n", t->rst);
	fprintf(f, "fin %" PRIu64 "\n", t->fin);
	fprintf(f, "est_packets %" PRIu64 "\n", t->est_packets);
	fprintf(f, "ipv6_rows %" PRIu64 "\n", t->ipv6_rows);
	fprintf(f, "vlan_rows %" PRIu64 "\n", t->vlan_rows);
	for (int i = 0; i < g->nagents; i++) {
		const Agent *a = &g->agents[i];
		fprintf(f, "agent %s version %d datagrams %" PRIu64 " lost %" PRIu64 "\n", a->addr_text,
		        a->version, a->dgrams, a->lost);
	}

	/* Census of addresses over port-25 rows, overall and per AS. */
	const Population *pop = &g->pop;
	uint64_t ips = 0, cnt[4] = { 0 };
	uint64_t (*per_as)[4] = xcalloc(pop->nnets, sizeof(*per_as));
	for (uint32_t h = 0; h < pop->nhosts; h++)
		for (int fs = 0; fs < 2; fs++) {
			uint8_t role = g->roles[h * 2 + fs];
			if (!role)
				continue;
			ips++;
			cnt[role]++;
			per_as[pop->hosts[h].net][role]++;
		}
	fprintf(f, "ips %" PRIu64 "\n", ips);
	fprintf(f, "client_only %" PRIu64 "\n", cnt[ROLE_CLIENT]);
	fprintf(f, "server_only %" PRIu64 "\n", cnt[ROLE_SERVER]);
	fprintf(f, "both %" PRIu64 "\n", cnt[ROLE_CLIENT | ROLE_SERVER]);
	for (uint32_t i = 0; i < pop->nnets; i++) {
		uint64_t *c = per_as[i];
		if (c[1] + c[2] + c[3])
			fprintf(f, "as %u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", pop->nets[i].asn,
			        c[ROLE_CLIENT], c[ROLE_SERVER], c[ROLE_CLIENT | ROLE_SERVER]);
	}
	free(per_as);
	for (int h = 0; h < 24; h++)
		fprintf(f, "hour %d %" PRIu64 "\n", h, t->hour[h]);
	for (int w = 0; w < N_SMTP_WORDS; w++)
		if (t->words[w])
			fprintf(f, "smtp_verb %s %" PRIu64 "\n", smtp_words[w], t->words[w]);
	for (uint64_t i = 0; i < g->nmalformed_frames; i++)
		fprintf(f, "malformed_frame %" PRIu64 " %s\n", g->malformed_frames[i],
		        malformed_reason[g->malformed_kinds[i]]);
	if (fclose(f) != 0)
		die("cannot write %s: %s", path, strerror(errno));
}

/* ------------------------------------------------------------------------------------------ */
/* Main                                                                                        */
/* ------------------------------------------------------------------------------------------ */

static void
emit_arp_first(Gen *g)
{
	/* the collector asks for its gateway: frame 1 is not sFlow */
	uint8_t fr[60];
	memset(fr, 0, sizeof(fr));
	uint8_t *p = fr;
	p = putmem(p, "\xff\xff\xff\xff\xff\xff", 6);
	p = putmem(p, collector_mac, 6);
	p = put16(p, 0x0806);
	p = put16(p, 1);
	p = put16(p, 0x0800);
	p = put8(p, 6);
	p = put8(p, 4);
	p = put16(p, 1);
	p = putmem(p, collector_mac, 6);
	p = put32(p, collector_v4);
	p = putmem(p, "\0\0\0\0\0\0", 6);
	put32(p, 0x0a0a0001);                      /* its gateway, 10.10.0.1 */
	dump_frame(g, fr, sizeof(fr), g->clock.start_us);
	g->last_ts = g->clock.start_us;
}

int
main(int argc, char **argv)
{
	static Gen gen;
	Gen *g = &gen;
	parse_options(argc, argv, &g->opt);
	const Options *o = &g->opt;

	rng_seed(&g->rng, o->seed, 2);
	build_population(&g->pop, o, o->pop_seed ? o->pop_seed : o->seed);
	g->gateway_asn = g->pop.nets[6].asn;
	g->nagents = o->agents;
	setup_agents(g->agents, g->nagents, o->version, &g->rng);
	double acc = 0;
	for (int i = 0; i < g->nagents; i++) {
		acc += g->agents[i].weight;
		g->agent_cdf[i] = acc;
	}
	clock_init(&g->clock, o->start, o->hours);
	g->roles = xcalloc((size_t) g->pop.nhosts * 2, 1);
	if (o->labels_path) {
		setup_labels(g, o->seed);
		write_labels(g, o->labels_path);
	}

	uint64_t total = o->smtp + o->other;
	uint64_t est_dgrams = total / 6;
	uint64_t nmal;
	if (o->malformed >= 0)
		nmal = (uint64_t) o->malformed;
	else {
		nmal = (est_dgrams + 500) / 1000;
		if (est_dgrams >= 50 && nmal < 5)
			nmal = 5;
	}
	g->malformed_frames = xcalloc(nmal, sizeof(uint64_t));
	g->malformed_kinds = xcalloc(nmal, sizeof(int));
	int kind_order[MAL_KINDS];
	for (int i = 0; i < MAL_KINDS; i++)
		kind_order[i] = i;
	for (int i = MAL_KINDS - 1; i > 0; i--) {
		int j = (int) rng_below(&g->rng, (uint32_t) i + 1), tmp = kind_order[i];
		kind_order[i] = kind_order[j];
		kind_order[j] = tmp;
	}

	FILE *out = strcmp(o->out_path, "-") == 0 ? stdout : fopen(o->out_path, "wb");
	if (!out)
		die("cannot write %s: %s", o->out_path, strerror(errno));
	static char outbuf[1 << 22];
	setvbuf(out, outbuf, _IOFBF, sizeof(outbuf));
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
	if (!pd)
		die("pcap_open_dead failed");
	g->dumper = pcap_dump_fopen(pd, out);
	if (!g->dumper)
		die("cannot write %s: %s", o->out_path, pcap_geterr(pd));
	if (o->rows_path) {
		g->rows = fopen(o->rows_path, "w");
		if (!g->rows)
			die("cannot write %s: %s", o->rows_path, strerror(errno));
		g->rows_buf = malloc(1 << 20);
		if (g->rows_buf)
			setvbuf(g->rows, g->rows_buf, _IOFBF, 1 << 20);
	}
	if (o->networks_path)
		write_networks(&g->pop, o->networks_path);

	if (total > 0 || nmal > 0)
		emit_arp_first(g);
	uint64_t left_smtp = o->smtp, left_other = o->other, mal_done = 0;
	for (uint64_t i = 0; i < total; i++) {
		double progress = (double) i / (double) total;
		g->now_us = clock_at(&g->clock, progress);
		/* exact totals, with SMTP leaning towards the evening */
		double ws = (double) left_smtp * smtp_bias[hour_of(g->now_us)];
		bool smtp = rng_unit(&g->rng) * (ws + (double) left_other) < ws;
		Agent *a = pick_agent(g);
		Frame f;
		PacketInfo pi;
		if (smtp) {
			gen_smtp(g, a, &f, &pi);
			left_smtp--;
		} else {
			gen_other(g, a, &f, &pi);
			left_other--;
		}
		sample_frame(g, a, &f, &pi);
		while (mal_done < nmal && progress >= (mal_done + 0.5) / (double) nmal)
			emit_malformed(g, kind_order[mal_done++ % MAL_KINDS]);
	}
	g->now_us = clock_at(&g->clock, 1.0);
	for (int i = 0; i < g->nagents; i++)
		flush_datagram(g, &g->agents[i]);
	while (mal_done < nmal)
		emit_malformed(g, kind_order[mal_done++ % MAL_KINDS]);

	pcap_dump_flush(g->dumper);
	if (ferror(out))
		die("cannot write %s: %s", o->out_path, strerror(errno));
	pcap_dump_close(g->dumper);
	pcap_close(pd);
	if (g->rows && fclose(g->rows) != 0)
		die("cannot write %s: %s", o->rows_path, strerror(errno));
	if (o->truth_path)
		write_truth(g, o->truth_path);
	return 0;
}
