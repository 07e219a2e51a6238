/*
 * loader/live/live.c: the live sFlow collector (live.h).
 *
 * Two threads: the main one receives and writes spool files and rotates
 * them; the loader thread loads closed files, one at a time, through the
 * capture pipeline. Signals are blocked but in ppoll(), so the main loop
 * sees them between batches: SIGTERM and SIGINT end the collection (the
 * last file is closed and loaded), SIGHUP has the loader thread reopen the
 * enrichment databases before its next load.
 */
#include "live.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "enrich.h"
#include "spool.h"

#define BATCH		64			/* datagrams per recvmmsg() */
#define CLOSING_MAX	16			/* files written whole, waiting for their fsync */
#define SLOT_SIZE	(SPOOL_HEADROOM + SPOOL_MAX_PAYLOAD + SPOOL_TAILROOM + 1)
#define CMSG_ROOM	256
#define SUFFIX		".pcapng"
#define PART		".part"

static volatile sig_atomic_t got_stop;
static volatile sig_atomic_t got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

/* One network of --agents. */
typedef struct allow_net
{
	sh_addr		net;
	int			bits;
} allow_net;

typedef struct live_sock
{
	int			fd;
	int			family;			/* of the socket: AF_INET or AF_INET6 */
	sh_addr		local;			/* the bound address (a wildcard: the any address) */
	uint16_t	port;
	uint32_t	drops;			/* the kernel's drop counter, as last seen */
} live_sock;

typedef struct collector
{
	const sh_load_options *opt;
	const sh_live_options *lopt;
	sh_capture_options copt;
	sh_enrich	enrich;
	int			have_enrich;

	live_sock	socks[SH_LIVE_MAX_LISTEN];
	int			nsocks;
	int			have_drops;		/* every socket gives SO_RXQ_OVFL */
	allow_net  *allow;
	int			nallow;
	char		label[1024];	/* host and listen addresses */
	int			dirfd;
	char		loaded_dir[PATH_MAX];

	/* the file being written */
	int			fd;
	char		part[NAME_MAX + 1];
	char		final[NAME_MAX - 8];
	spool_stats st;

	/* receiving */
	uint8_t    *slots;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage names[BATCH];
	uint8_t		cmsg[BATCH][CMSG_ROOM];
	struct iovec out[BATCH];

	/* the loader thread */
	pthread_t	thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int			work;
	int			stop;
	int			reopen;
	int			left;			/* spool files not loaded at the last pass */
	/*
	 * files written whole, their fsync and rename to come (by the loader
	 * thread: an fsync of a minute of datagrams takes long enough for the
	 * socket buffer to fill)
	 */
	struct
	{
		int			fd;
		char		part[NAME_MAX + 1];
		char		final[NAME_MAX - 8];
	}			closing[CLOSING_MAX];
	int			nclosing;
} collector;

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---------------------------------------------------------------------------
 * Addresses: --listen and --agents.
 * ------------------------------------------------------------------------- */

static void
addr_from_sockaddr(const struct sockaddr_storage *ss, sh_addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET)
	{
		const struct sockaddr_in *in = (const struct sockaddr_in *) ss;

		a->family = 4;
		memcpy(a->bytes, &in->sin_addr, 4);
		if (port)
			*port = ntohs(in->sin_port);
	}
	else if (ss->ss_family == AF_INET6)
	{
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) ss;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
		{
			a->family = 4;
			memcpy(a->bytes, in6->sin6_addr.s6_addr + 12, 4);
		}
		else
		{
			a->family = 6;
			memcpy(a->bytes, &in6->sin6_addr, 16);
		}
		if (port)
			*port = ntohs(in6->sin6_port);
	}
}

/* "ADDR[/BITS]" into n: 0, or -1. */
static int
parse_net(const char *s, size_t len, allow_net *n)
{
	char		buf[128];
	char	   *slash;
	long		bits = -1;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
	{
		char	   *end;

		*slash = '\0';
		bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end)
			return -1;
	}
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->net.bytes) == 1)
		n->net.family = 4;
	else if (inet_pton(AF_INET6, buf, n->net.bytes) == 1)
		n->net.family = 6;
	else
		return -1;
	if (bits < 0)
		bits = n->net.family == 4 ? 32 : 128;
	if (bits > (n->net.family == 4 ? 32 : 128))
		return -1;
	n->bits = (int) bits;
	return 0;
}

static int
parse_agents(collector *c, const char *spec)
{
	const char *p = spec;

	for (;;)
	{
		const char *comma = strchr(p, ',');
		size_t		len = comma ? (size_t) (comma - p) : strlen(p);
		allow_net  *grown = realloc(c->allow, (size_t) (c->nallow + 1) * sizeof(allow_net));

		if (grown == NULL)
		{
			sh_error("out of memory");
			return -1;
		}
		c->allow = grown;
		if (parse_net(p, len, &c->allow[c->nallow]) != 0)
		{
			sh_error("bad --agents \"%s\": give networks as ADDRESS or ADDRESS/BITS, comma-separated "
					 "(192.0.2.0/24,2001:db8::/32)", spec);
			return -1;
		}
		c->nallow++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int
allowed(const collector *c, const sh_addr *a)
{
	if (c->nallow == 0)
		return 1;
	for (int i = 0; i < c->nallow; i++)
	{
		const allow_net *n = &c->allow[i];
		int			full = n->bits / 8,
					rest = n->bits % 8;

		if (n->net.family != a->family || memcmp(n->net.bytes, a->bytes, (size_t) full) != 0)
			continue;
		if (rest == 0 || ((n->net.bytes[full] ^ a->bytes[full]) & (0xFF << (8 - rest)) & 0xFF) == 0)
			return 1;
	}
	return 0;
}

static void
addr_text(const sh_addr *a, uint16_t port, char *buf, size_t len)
{
	char		ip[INET6_ADDRSTRLEN];

	inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, ip, sizeof(ip));
	snprintf(buf, len, a->family == 6 ? "[%s]:%u" : "%s:%u", ip, port);
}

/* Open, set up and bind one socket for "[ADDR:]PORT": 0, or -1 printed. */
static int
open_socket(collector *c, const char *spec)
{
	char		host[256] = "";
	const char *port = spec;
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints,
			   *res = NULL;
	int			dual = 0,
				fd = -1,
				one = 1,
				zero = 0,
				rc;
	int			rcvbuf = (int) (c->lopt->rcvbuf > INT_MAX ? INT_MAX : c->lopt->rcvbuf);
	int			got = 0;
	socklen_t	gotlen = sizeof(got);
	live_sock  *s = &c->socks[c->nsocks];
	struct sockaddr_storage bound;
	socklen_t	boundlen = sizeof(bound);

	if (spec[0] != '\0' && strspn(spec, "0123456789") != strlen(spec) &&
		(colon == NULL || spec[strlen(spec) - 1] == ']' || (spec[0] != '[' && strchr(spec, ':') != colon)))
	{
		/* an address alone (192.0.2.1, [2001:db8::1], 2001:db8::1): sFlow's port */
		size_t		hl = strlen(spec);

		if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']')
			snprintf(host, sizeof(host), "%.*s", (int) (hl - 2), spec + 1);
		else
			snprintf(host, sizeof(host), "%s", spec);
		port = SH_LIVE_DEFAULT_PORT;
		colon = NULL;
	}
	else if (colon)
	{
		size_t		hl = (size_t) (colon - spec);

		if (hl >= sizeof(host))
			hl = sizeof(host) - 1;
		memcpy(host, spec, hl);
		host[hl] = '\0';
		if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']')
		{
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = '\0';
		}
		port = colon + 1;
	}
	{
		char	   *end;
		long		p = strtol(port, &end, 10);

		if (end == port || *end || p < 1 || p > 65535 || (colon && host[0] == '\0') ||
			(host[0] == '[' || strchr(host, ']') != NULL))
		{
			sh_error("bad --listen \"%s\": give [ADDRESS:]PORT, e.g. 6343, 192.0.2.1:6343 or [2001:db8::1]:6343",
					 spec);
			return -1;
		}
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (host[0] == '\0')
	{
		/* a port alone: every address, IPv6 and IPv4 on one socket where there is IPv6 */
		hints.ai_family = AF_INET6;
		dual = 1;
		if (getaddrinfo(NULL, port, &hints, &res) != 0 || (fd = socket(AF_INET6, SOCK_DGRAM, 0)) < 0)
		{
			if (res)
				freeaddrinfo(res);
			res = NULL;
			hints.ai_family = AF_INET;
			dual = 0;
		}
	}
	if (res == NULL)
	{
		rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
		if (rc != 0)
		{
			sh_error("--listen \"%s\": %s", spec, gai_strerror(rc));
			return -1;
		}
	}
	if (fd < 0 && (fd = socket(res->ai_family, SOCK_DGRAM, 0)) < 0)
	{
		sh_error("--listen \"%s\": socket: %s", spec, strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	s->fd = fd;
	s->family = res->ai_family;
	/* several sockets (of this process or others) on one port share its datagrams, each to one */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (s->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual ? &zero : &one, sizeof(int));
	/* a large receive buffer: beyond net.core.rmem_max only with CAP_NET_ADMIN */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gotlen);
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0)
		fprintf(stderr, "%s: warning: --listen %s: no kernel receive times (%s): the time of reading is used\n",
				SH_PROGNAME, spec, strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) != 0)
		c->have_drops = 0;
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (s->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0)
	{
		sh_error("--listen \"%s\": cannot bind: %s", spec, strerror(errno));
		freeaddrinfo(res);
		close(fd);
		return -1;
	}
	freeaddrinfo(res);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	getsockname(fd, (struct sockaddr *) &bound, &boundlen);
	addr_from_sockaddr(&bound, &s->local, &s->port);
	if (s->local.family == 0)
		s->local.family = 4;
	{
		size_t		at = strlen(c->label);
		char		text[80];

		if (dual)
			snprintf(text, sizeof(text), "*:%u", s->port);
		else
			addr_text(&s->local, s->port, text, sizeof(text));
		snprintf(c->label + at, sizeof(c->label) - at, " %s", text);
		if (!c->opt->quiet)
			fprintf(stderr, "%s: listening on %s (UDP), receive buffer %d bytes\n", SH_PROGNAME, text, got);
		if ((long) got < c->lopt->rcvbuf)
			fprintf(stderr, "%s: warning: --listen %s: the kernel gave a receive buffer of %d bytes, not %ld: "
					"raise net.core.rmem_max (sysctl) or run with CAP_NET_ADMIN\n",
					SH_PROGNAME, spec, got, c->lopt->rcvbuf);
	}
	c->nsocks++;
	return 0;
}

/* ---------------------------------------------------------------------------
 * Spool files.
 * ------------------------------------------------------------------------- */

static int
write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0)
	{
		ssize_t		w = writev(fd, iov, n > IOV_MAX ? IOV_MAX : n);

		if (w < 0)
		{
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t) w >= iov->iov_len)
		{
			w -= (ssize_t) iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0)
		{
			iov->iov_base = (uint8_t *) iov->iov_base + w;
			iov->iov_len -= (size_t) w;
		}
	}
	return 0;
}

/* Open a new NAME.pcapng.part: 0, or -1 printed. */
static int
open_file(collector *c)
{
	uint8_t		hdr[1024];
	char		comment[1200];
	char		stamp[32];
	struct iovec iov;
	struct tm	tm;
	int64_t		now = real_ns();
	time_t		sec = (time_t) (now / 1000000000LL);
	size_t		n;

	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(c->final, sizeof(c->final), "spamhints-%s.%09ldZ-%ld" SUFFIX, stamp,
			 (long) (now % 1000000000LL), (long) getpid());
	snprintf(c->part, sizeof(c->part), "%s" PART, c->final);
	c->fd = openat(c->dirfd, c->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (c->fd < 0)
	{
		sh_error("%s/%s: %s", c->lopt->spool, c->part, strerror(errno));
		return -1;
	}
	/* held while it is written: a collector starting meanwhile leaves it alone */
	flock(c->fd, LOCK_EX);
	snprintf(comment, sizeof(comment), "collector%s, process %ld, opened %s.%09ldZ", c->label,
			 (long) getpid(), stamp, (long) (now % 1000000000LL));
	n = spool_file_header(hdr, sizeof(hdr), comment);
	iov.iov_base = hdr;
	iov.iov_len = n;
	if (n == 0 || write_all(c->fd, &iov, 1) != 0)
	{
		sh_error("%s/%s: cannot write: %s", c->lopt->spool, c->part, strerror(errno));
		return -1;
	}
	memset(&c->st, 0, sizeof(c->st));
	c->st.opened_ns = now;
	c->st.have_dropped = c->have_drops;
	return 0;
}

/*
 * The kernel's drop counter of a socket from /proc/net/udp or udp6 (its
 * last column, by the socket's inode): the drops after the last datagram
 * that was queued, which no SO_RXQ_OVFL message reports yet. 1 and *drops
 * set, or 0 when not found.
 */
static int
proc_drops(const live_sock *s, uint32_t *drops)
{
	struct stat sb;
	char		line[512];
	FILE	   *f;
	int			found = 0;

	if (fstat(s->fd, &sb) != 0)
		return 0;
	f = fopen(s->family == AF_INET6 ? "/proc/net/udp6" : "/proc/net/udp", "r");
	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
	{
		unsigned long inode;
		unsigned long d;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops */
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu %*s %*s %lu", &inode, &d) == 2 &&
			inode == (unsigned long) sb.st_ino)
		{
			*drops = (uint32_t) d;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/* Add the drops no datagram has reported yet. */
static void
count_late_drops(collector *c)
{
	for (int i = 0; i < c->nsocks; i++)
	{
		live_sock  *s = &c->socks[i];
		uint32_t	d;

		if (proc_drops(s, &d) && (uint32_t) (d - s->drops) < 0x80000000u)
		{
			c->st.kernel_dropped += (uint32_t) (d - s->drops);
			s->drops = d;
		}
	}
}

/*
 * A spool file written whole (a rotation), or a .part recovered at the start:
 * fsync, the rename to its final name, fsync of the directory, close (which
 * lets go of its lock). 0, or -1 printed: an error for a rotation (the .part
 * stays, and is loaded at the next start), a warning for a recovered one
 * (left as it is, for the next start).
 */
static int
finish_file(collector *c, int fd, const char *part, const char *final, int recovered)
{
	const char *failed = NULL;
	int			err;

	if (fsync(fd) != 0)
		failed = "cannot close";
	else if (renameat(c->dirfd, part, c->dirfd, final) != 0)
		failed = "cannot rename";
	else
		fsync(c->dirfd);
	err = errno;
	close(fd);
	if (failed == NULL)
		return 0;
	if (recovered)
		fprintf(stderr, "%s: warning: %s/%s: %s: %s; left as it is\n", SH_PROGNAME, c->lopt->spool, part,
				failed, strerror(err));
	else
		sh_error("%s/%s: %s: %s; it is loaded at the next start", c->lopt->spool, part, failed, strerror(err));
	return -1;
}

/* The files the receiving thread closed: their fsync and rename (the loader thread, before it loads). */
static void
finish_closed(collector *c)
{
	for (;;)
	{
		int			fd;
		char		part[NAME_MAX + 1];
		char		final[NAME_MAX - 8];

		pthread_mutex_lock(&c->mu);
		if (c->nclosing == 0)
		{
			pthread_mutex_unlock(&c->mu);
			return;
		}
		fd = c->closing[0].fd;
		memcpy(part, c->closing[0].part, sizeof(part));
		memcpy(final, c->closing[0].final, sizeof(final));
		memmove(c->closing, c->closing + 1, (size_t) (c->nclosing - 1) * sizeof(c->closing[0]));
		c->nclosing--;
		pthread_mutex_unlock(&c->mu);
		finish_file(c, fd, part, final, 0);
	}
}

/*
 * Close the file being written: its statistics, then (by the loader
 * thread) fsync and the rename to its final name (and fsync of the
 * directory). A file that received nothing is removed. 1 closed, 0
 * removed, -1 on error (printed; the .part stays).
 */
static int
close_file(collector *c)
{
	uint8_t		trailer[256];
	struct iovec iov;
	size_t		n;

	if (c->fd < 0)
		return 0;
	count_late_drops(c);
	if (c->st.received == 0 && c->st.kernel_dropped == 0)
	{
		unlinkat(c->dirfd, c->part, 0);
		close(c->fd);
		c->fd = -1;
		return 0;
	}
	c->st.closed_ns = real_ns();
	n = spool_file_trailer(trailer, sizeof(trailer), &c->st);
	iov.iov_base = trailer;
	iov.iov_len = n;
	if (n == 0 || write_all(c->fd, &iov, 1) != 0)
	{
		sh_error("%s/%s: cannot close: %s; it is loaded at the next start", c->lopt->spool, c->part,
				 strerror(errno));
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	/* its fsync and rename: by the loader thread, before it loads (here when it is behind) */
	pthread_mutex_lock(&c->mu);
	if (c->nclosing < CLOSING_MAX)
	{
		c->closing[c->nclosing].fd = c->fd;
		memcpy(c->closing[c->nclosing].part, c->part, sizeof(c->part));
		memcpy(c->closing[c->nclosing].final, c->final, sizeof(c->final));
		c->nclosing++;
		c->fd = -1;
	}
	pthread_mutex_unlock(&c->mu);
	if (c->fd >= 0 && finish_file(c, c->fd, c->part, c->final, 0) != 0)
	{
		c->fd = -1;
		return -1;
	}
	c->fd = -1;
	if (!c->opt->quiet)
	{
		fprintf(stdout, "%s: %s/%s: %" PRIu64 " datagrams received, %" PRIu64 " spooled, %" PRIu64
				" refused (not in --agents)", SH_PROGNAME, c->lopt->spool, c->final, c->st.received,
				c->st.accepted, c->st.received - c->st.accepted);
		if (c->st.have_dropped)
			fprintf(stdout, ", %" PRIu64 " dropped by the kernel", c->st.kernel_dropped);
		fprintf(stdout, "\n");
		fflush(stdout);
	}
	return 1;
}

/* The spool directory, read from its start (a dup() of dirfd would share its offset). */
static DIR *
open_dir(const collector *c)
{
	int			fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR		   *d = fd < 0 ? NULL : fdopendir(fd);

	if (d == NULL && fd >= 0)
		close(fd);
	return d;
}

/*
 * On start: close every .part no running collector holds (left by a crash),
 * cut after its last whole block.
 */
static void
recover_parts(collector *c)
{
	DIR		   *d = open_dir(c);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
	{
		size_t		len = strlen(e->d_name);
		char		final[NAME_MAX + 1];
		char		err[256];
		uint64_t	cut;
		long		packets;
		int			fd;

		if (len <= strlen(SUFFIX PART) || strcmp(e->d_name + len - strlen(SUFFIX PART), SUFFIX PART) != 0)
			continue;
		fd = openat(c->dirfd, e->d_name, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		{
			close(fd);			/* a collector is writing it */
			continue;
		}
		memcpy(final, e->d_name, len - strlen(PART));
		final[len - strlen(PART)] = '\0';
		packets = spool_recover(fd, &cut, err, sizeof(err));
		if (packets >= 0)
		{
			/* closed as a rotation closes a file (which closes fd) */
			if (finish_file(c, fd, e->d_name, final, 1) == 0)
				fprintf(stderr, "%s: %s/%s: left open by a collector that stopped: closed with its %ld datagrams"
						" (%" PRIu64 " bytes of a cut block removed) as %s\n", SH_PROGNAME, c->lopt->spool,
						e->d_name, packets, cut, final);
			continue;
		}
		if (packets == -2)
		{
			fprintf(stderr, "%s: %s/%s: left by a collector that stopped before receiving anything: removed\n",
					SH_PROGNAME, c->lopt->spool, e->d_name);
			unlinkat(c->dirfd, e->d_name, 0);
		}
		else
			fprintf(stderr, "%s: warning: %s/%s: %s; left as it is\n", SH_PROGNAME, c->lopt->spool,
					e->d_name, err);
		close(fd);
	}
	closedir(d);
}

/* ---------------------------------------------------------------------------
 * Receiving.
 * ------------------------------------------------------------------------- */

/* The datagrams waiting on one socket, a batch: how many, or -1 on a write error (printed). */
static int
receive_batch(collector *c, live_sock *s)
{
	int			n,
				nout = 0;

	for (int i = 0; i < BATCH; i++)
	{
		c->iov[i].iov_base = c->slots + (size_t) i * SLOT_SIZE + SPOOL_HEADROOM;
		c->iov[i].iov_len = SPOOL_MAX_PAYLOAD + 1;
		memset(&c->msgs[i].msg_hdr, 0, sizeof(c->msgs[i].msg_hdr));
		c->msgs[i].msg_hdr.msg_name = &c->names[i];
		c->msgs[i].msg_hdr.msg_namelen = sizeof(c->names[i]);
		c->msgs[i].msg_hdr.msg_iov = &c->iov[i];
		c->msgs[i].msg_hdr.msg_iovlen = 1;
		c->msgs[i].msg_hdr.msg_control = c->cmsg[i];
		c->msgs[i].msg_hdr.msg_controllen = CMSG_ROOM;
	}
	n = recvmmsg(s->fd, c->msgs, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++)
	{
		struct msghdr *m = &c->msgs[i].msg_hdr;
		spool_dgram d;
		size_t		len = c->msgs[i].msg_len;
		size_t		blocklen;
		uint8_t    *blk;
		int			have_ts = 0;

		memset(&d, 0, sizeof(d));
		addr_from_sockaddr(&c->names[i], &d.src, &d.src_port);
		d.dst = s->local;
		d.dst_port = s->port;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm))
		{
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS)
			{
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				d.ts_ns = (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
				have_ts = 1;
			}
			else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL)
			{
				uint32_t	drops;

				memcpy(&drops, CMSG_DATA(cm), 4);
				c->st.kernel_dropped += (uint32_t) (drops - s->drops);
				s->drops = drops;
			}
			else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
			{
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				d.dst.family = 4;
				memset(d.dst.bytes, 0, 16);
				memcpy(d.dst.bytes, &pi.ipi_addr, 4);
			}
			else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO)
			{
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr))
				{
					d.dst.family = 4;
					memset(d.dst.bytes, 0, 16);
					memcpy(d.dst.bytes, pi.ipi6_addr.s6_addr + 12, 4);
				}
				else
				{
					d.dst.family = 6;
					memcpy(d.dst.bytes, &pi.ipi6_addr, 16);
				}
			}
		}
		if (!have_ts)
			d.ts_ns = real_ns();
		c->st.received++;
		if (!allowed(c, &d.src))
			continue;
		if (d.dst.family != d.src.family)
		{
			/* a socket bound to one family answers for the other only through mapped addresses */
			memset(&d.dst, 0, sizeof(d.dst));
			d.dst.family = d.src.family;
		}
		if (len > SPOOL_MAX_PAYLOAD || (m->msg_flags & MSG_TRUNC))
			len = SPOOL_MAX_PAYLOAD;	/* cannot be: UDP carries at most 65,527 bytes */
		blk = spool_frame(c->slots + (size_t) i * SLOT_SIZE, len, &d, &blocklen);
		if (blk == NULL)
			continue;
		c->out[nout].iov_base = blk;
		c->out[nout].iov_len = blocklen;
		nout++;
		c->st.accepted++;
	}
	if (nout > 0 && write_all(c->fd, c->out, nout) != 0)
	{
		sh_error("%s/%s: cannot write: %s", c->lopt->spool, c->part, strerror(errno));
		return -1;
	}
	return n;
}

/* ---------------------------------------------------------------------------
 * Loading, in the loader thread.
 * ------------------------------------------------------------------------- */

/* The file being loaded, for the pipeline's hooks. */
static struct
{
	const collector *c;
	spool_stats st;
	int			have_stats;
} cur;

static sh_pipeline live_pipeline;

/* After the capture pipeline's own: what the collector counted, in the load's transaction. */
static int
live_after_copy(sh_load *ld)
{
	char		id[16],
				v[5][40];
	const char *values[8];
	PGresult   *res;

	if (sh_capture_pipeline.after_copy(ld) != 0)
		return -1;
	snprintf(id, sizeof(id), "%d", ld->id);
	values[0] = id;
	values[1] = cur.c->label + 1;
	for (int i = 0; i < 5; i++)
		values[2 + i] = NULL;
	if (cur.have_stats)
	{
		snprintf(v[0], sizeof(v[0]), "%.9f", (double) cur.st.opened_ns / 1e9);
		snprintf(v[1], sizeof(v[1]), "%.9f", (double) cur.st.closed_ns / 1e9);
		snprintf(v[2], sizeof(v[2]), "%" PRIu64, cur.st.received);
		snprintf(v[3], sizeof(v[3]), "%" PRIu64, cur.st.received - cur.st.accepted);
		snprintf(v[4], sizeof(v[4]), "%" PRIu64, cur.st.kernel_dropped);
		for (int i = 0; i < 4; i++)
			values[2 + i] = v[i];
		if (cur.st.have_dropped)
			values[6] = v[4];
	}
	values[7] = cur.have_stats ? "false" : "true";
	res = PQexecParams(ld->conn,
					   "UPDATE spamhints.load SET collector = $2, spool_opened_at = to_timestamp($3::float8), "
					   "spool_closed_at = to_timestamp($4::float8), received = $5, refused = $6, "
					   "kernel_dropped = $7, recovered = $8 WHERE load_id = $1", 8, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		sh_db_error(ld->conn, res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

static void
live_summary(const sh_load *ld, FILE *f, double seconds)
{
	sh_capture_pipeline.summary(ld, f, seconds);
	if (!cur.have_stats)
		fprintf(f, "; closed after a crash: what the collector counted while it was open "
				"(received, refused, dropped by the kernel) is not known");
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Load one closed spool file: 1 loaded (or loaded before), 0 left for later. */
static int
load_one(collector *c, const char *name)
{
	char		path[PATH_MAX];
	char		other[PATH_MAX];
	char	   *files[1] = {path};
	struct stat sb;
	int			fd,
				rc;

	snprintf(path, sizeof(path), "%s/%s", c->lopt->spool, name);
	fd = openat(c->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;				/* gone: another collector loaded it */
	/* one collector at a time loads a file */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &sb) != 0 || sb.st_nlink == 0)
	{
		close(fd);
		return 1;
	}
	cur.c = c;
	cur.have_stats = spool_read_stats(fd, &cur.st) == 1;
	rc = sh_load_files(c->opt, &live_pipeline, &c->copt, files, 1);
	if (rc == 0)
	{
		if (c->lopt->keep)
		{
			snprintf(other, sizeof(other), "loaded/%s", name);
			if (renameat(c->dirfd, name, c->dirfd, other) != 0)
				fprintf(stderr, "%s: warning: %s: loaded, but cannot be moved to %s/loaded: %s\n",
						SH_PROGNAME, path, c->lopt->spool, strerror(errno));
		}
		else if (unlinkat(c->dirfd, name, 0) != 0 && errno != ENOENT)
			fprintf(stderr, "%s: warning: %s: loaded, but cannot be removed: %s\n", SH_PROGNAME, path,
					strerror(errno));
		fsync(c->dirfd);
	}
	else if (rc == EXIT_DATABASE)
		fprintf(stderr, "%s: %s: not loaded (database error): kept, tried again at the next rotation\n",
				SH_PROGNAME, path);
	else
	{
		/* not readable as a capture: set aside, never removed, not tried again */
		snprintf(other, sizeof(other), "%s.failed", name);
		renameat(c->dirfd, name, c->dirfd, other);
		fprintf(stderr, "%s: %s: cannot be loaded: kept as %s.failed\n", SH_PROGNAME, path, path);
		rc = 0;
	}
	close(fd);
	return rc == 0;
}

/* Every closed spool file, oldest first: how many are left unloaded. */
static int
load_closed(collector *c)
{
	DIR		   *d = open_dir(c);
	struct dirent *e;
	char	  **names = NULL;
	size_t		n = 0,
				cap = 0;
	int			left = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
	{
		size_t		len = strlen(e->d_name);

		if (len <= strlen(SUFFIX) || strcmp(e->d_name + len - strlen(SUFFIX), SUFFIX) != 0 ||
			e->d_name[0] == '.')
			continue;
		if (n == cap)
		{
			char	  **grown = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(char *));

			if (grown == NULL)
				break;
			names = grown;
		}
		if ((names[n] = strdup(e->d_name)) == NULL)
			break;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(char *), name_cmp);
	for (size_t i = 0; i < n; i++)
	{
		if (!load_one(c, names[i]))
			left++;
		free(names[i]);
	}
	free(names);
	return left;
}

/* SIGHUP: the databases again, as they are now; the old ones stay when the new ones fail. */
static void
reopen_enrich(collector *c)
{
	sh_enrich	fresh;
	char		err[1024];

	if (sh_enrich_open(&fresh, c->lopt->asn_db, c->lopt->country_db, stderr, SH_PROGNAME, err, sizeof(err)) != 0)
	{
		sh_error("SIGHUP: %s; the databases opened before stay in use", err);
		return;
	}
	if (c->have_enrich)
		sh_enrich_close(&c->enrich);
	c->enrich = fresh;
	c->have_enrich = 1;
	c->copt.enrich = sh_enrich_enabled(&c->enrich) ? &c->enrich : NULL;
	if (!c->opt->quiet)
		fprintf(stderr, "%s: SIGHUP: enrichment databases reopened\n", SH_PROGNAME);
}

static void *
loader_thread(void *arg)
{
	collector  *c = arg;

	for (;;)
	{
		int			stop,
					reopen;

		pthread_mutex_lock(&c->mu);
		while (!c->work && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		stop = c->stop;
		reopen = c->reopen;
		c->work = c->reopen = 0;
		pthread_mutex_unlock(&c->mu);
		if (reopen)
			reopen_enrich(c);
		finish_closed(c);
		c->left = load_closed(c);
		if (stop)
			break;
	}
	return NULL;
}

static void
wake_loader(collector *c, int stop, int reopen)
{
	pthread_mutex_lock(&c->mu);
	c->work = 1;
	if (stop)
		c->stop = 1;
	if (reopen)
		c->reopen = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------------------
 * The collector.
 * ------------------------------------------------------------------------- */

int
sh_live_run(const sh_load_options *opt, const sh_live_options *lopt, const sh_ports *ports)
{
	static collector col;
	collector  *c = &col;
	char		err[1024];
	char		hostname[256] = "";
	struct sigaction sa;
	sigset_t	block,
				orig;
	double		deadline;
	int			rc = 0;

	memset(c, 0, sizeof(*c));
	c->opt = opt;
	c->lopt = lopt;
	c->fd = -1;
	c->dirfd = -1;
	c->have_drops = 1;
	c->copt.ports = *ports;
	c->copt.filter = "udp";		/* every frame of a spool file is a datagram the socket received */
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	live_pipeline = sh_capture_pipeline;
	live_pipeline.after_copy = live_after_copy;
	live_pipeline.summary = live_summary;

	if (lopt->agents && parse_agents(c, lopt->agents) != 0)
		return EXIT_USAGE;
	if (sh_enrich_open(&c->enrich, lopt->asn_db, lopt->country_db, stderr, SH_PROGNAME, err, sizeof(err)) != 0)
	{
		sh_error("%s", err);
		free(c->allow);
		return EXIT_INPUT;
	}
	c->have_enrich = 1;
	c->copt.enrich = sh_enrich_enabled(&c->enrich) ? &c->enrich : NULL;

	/* the spool directory, made when missing */
	if (mkdir(lopt->spool, 0750) != 0 && errno != EEXIST)
	{
		sh_error("--spool \"%s\": %s", lopt->spool, strerror(errno));
		rc = EXIT_INPUT;
		goto out;
	}
	c->dirfd = open(lopt->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0)
	{
		sh_error("--spool \"%s\": %s", lopt->spool, strerror(errno));
		rc = EXIT_INPUT;
		goto out;
	}
	if (lopt->keep && mkdirat(c->dirfd, "loaded", 0750) != 0 && errno != EEXIST)
	{
		sh_error("--keep: %s/loaded: %s", lopt->spool, strerror(errno));
		rc = EXIT_INPUT;
		goto out;
	}

	gethostname(hostname, sizeof(hostname) - 1);
	snprintf(c->label, sizeof(c->label), " %s", hostname[0] ? hostname : "localhost");
	for (int i = 0; i < lopt->nlisten; i++)
	{
		if (open_socket(c, lopt->listen[i]) != 0)
		{
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if ((c->slots = malloc((size_t) BATCH * SLOT_SIZE)) == NULL)
	{
		sh_error("out of memory");
		rc = EXIT_INPUT;
		goto out;
	}

	/* signals: blocked but in ppoll(); the loader thread never takes them */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &orig);

	/* what a collector before this one left: closed, then loaded first (oldest first) */
	recover_parts(c);
	if (open_file(c) != 0)
	{
		rc = EXIT_INPUT;
		goto out;
	}
	if (pthread_create(&c->thread, NULL, loader_thread, c) != 0)
	{
		sh_error("cannot start the loader thread");
		rc = EXIT_INPUT;
		goto out;
	}
	wake_loader(c, 0, 0);

	deadline = mono_now() + lopt->rotate;
	while (!got_stop)
	{
		struct pollfd pfd[SH_LIVE_MAX_LISTEN];
		struct timespec ts;
		double		wait = deadline - mono_now();
		int			n;

		if (wait < 0)
			wait = 0;
		ts.tv_sec = (time_t) wait;
		ts.tv_nsec = (long) ((wait - (double) ts.tv_sec) * 1e9);
		for (int i = 0; i < c->nsocks; i++)
		{
			pfd[i].fd = c->socks[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		n = ppoll(pfd, (nfds_t) c->nsocks, &ts, &orig);
		if (got_hup)
		{
			got_hup = 0;
			wake_loader(c, 0, 1);
		}
		for (int i = 0; n > 0 && i < c->nsocks; i++)
		{
			if (!(pfd[i].revents & POLLIN))
				continue;
			/* a few batches a socket, then the others' turn */
			for (int k = 0; k < 16; k++)
			{
				int			got = receive_batch(c, &c->socks[i]);

				if (got < 0)
				{
					got_stop = 1;
					rc = EXIT_INPUT;
					break;
				}
				if (got < BATCH)
					break;
			}
		}
		if (mono_now() >= deadline && !got_stop)
		{
			close_file(c);
			if (open_file(c) != 0)
			{
				rc = EXIT_INPUT;
				break;
			}
			wake_loader(c, 0, 0);
			deadline += lopt->rotate;
			if (deadline < mono_now())
				deadline = mono_now() + lopt->rotate;
		}
	}

	/* the end: whatever is waiting on the sockets, then the last file, loaded */
	for (int i = 0; i < c->nsocks && rc == 0; i++)
		while (receive_batch(c, &c->socks[i]) == BATCH)
			;
	close_file(c);
	wake_loader(c, 1, 0);
	pthread_join(c->thread, NULL);
	if (c->left > 0)
	{
		sh_error("%d spool file(s) in %s not loaded: they are loaded at the next start", c->left, lopt->spool);
		if (rc == 0)
			rc = EXIT_DATABASE;
	}
	else if (!opt->quiet)
		fprintf(stderr, "%s: stopped: every spool file loaded\n", SH_PROGNAME);

out:
	for (int i = 0; i < c->nsocks; i++)
		close(c->socks[i].fd);
	if (c->fd >= 0)
		close(c->fd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	if (c->have_enrich)
		sh_enrich_close(&c->enrich);
	free(c->slots);
	free(c->allow);
	return rc;
}
