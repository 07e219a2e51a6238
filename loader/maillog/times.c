/*
 * loader/maillog/times.c: the time at the start of a mail log line. Syslog
 * headers, BSD ("Mmm dd hh:mm:ss", the year inferred) or RFC 3339; the ISO
 * dates, clocks, fractions and offsets they and Exim's mainlog are made of;
 * the text of a time and the seconds since 1970 it stands for; the offset
 * of a local time in the log's zone where that is not plain.
 */
#include "maillog_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * In the repeated hour, a line whose local time is this much earlier than
 * the latest before it shows the clocks went back; less is lines written a
 * little out of order (several processes, several syslog hosts).
 */
#define FOLD_JITTER		600

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
sh_ml_valid_time(const sh_ml_ltime *t)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (t->y < 1970 || t->y > 9999 || t->mo < 1 || t->mo > 12 || t->d < 1)
		return 0;
	if (t->d > mdays[t->mo - 1] + (t->mo == 2 && leap(t->y)))
		return 0;
	return t->h >= 0 && t->h <= 23 && t->mi >= 0 && t->mi <= 59 && t->s >= 0 && t->s <= 59;
}

/* Days from 1970-01-01 (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t		era;
	unsigned	yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (unsigned) ((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t) doe - 719468;
}

void
sh_ml_time_text(const sh_ml_ltime *t, sh_ml_lctx *L)
{
	snprintf(L->ts, sizeof(L->ts), "%04d-%02d-%02d %02d:%02d:%02d%s%s",
			 t->y, t->mo, t->d, t->h, t->mi, t->s, t->frac, t->off);
	L->secs = days_from_civil(t->y, t->mo, t->d) * 86400 + t->h * 3600 + t->mi * 60 + t->s - t->off_secs;
}

/* "+HH:MM" (or "+HH:MM:SS") for an offset of secs east of UTC. */
void
sh_ml_offset_text(int secs, char *out, size_t len)
{
	int			a = secs < 0 ? -secs : secs;

	if (a % 60)
		snprintf(out, len, "%c%02d:%02d:%02d", secs < 0 ? '-' : '+', a / 3600, a / 60 % 60, a % 60);
	else
		snprintf(out, len, "%c%02d:%02d", secs < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

/* ---------------------------------------------------------------------------
 * Local times: the zone's offsets, by the C library's copy of the time zone
 * database (TZ set to cfg.zone while it is asked).
 * ------------------------------------------------------------------------- */

typedef struct zone_env
{
	int			switched;
	char	   *saved;			/* TZ before, or NULL when unset */
} zone_env;

static void
zone_enter(const char *zone, zone_env *z)
{
	const char *old = getenv("TZ");

	z->switched = 0;
	z->saved = NULL;
	if (zone != NULL && (old == NULL || strcmp(old, zone) != 0))
	{
		z->saved = old ? strdup(old) : NULL;
		setenv("TZ", zone, 1);
		z->switched = 1;
	}
	tzset();
}

static void
zone_leave(zone_env *z)
{
	if (!z->switched)
		return;
	if (z->saved)
	{
		setenv("TZ", z->saved, 1);
		free(z->saved);
	}
	else
		unsetenv("TZ");
	tzset();
}

/* The zone's offset, in seconds east of UTC, at the UTC second u. */
static int
zone_offset(int64_t u)
{
	time_t		t = (time_t) u;
	struct tm	tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return (int) (days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 +
				  tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec - u);
}

/*
 * The offsets the zone may give the local time n (its civil seconds): none
 * (skipped when clocks went forward), one, or two (repeated when they went
 * back: off[0] the first, off[1] the second, *change the UTC second they
 * went back). The zone's offsets a day either side are the candidates.
 */
static int
offsets_at(int64_t n, int off[2], int64_t *change)
{
	int			a = zone_offset(n - 86400),
				b = zone_offset(n + 86400),
				cnt = 0;

	if (zone_offset(n - a) == a)
		off[cnt++] = a;
	if (b != a && zone_offset(n - b) == b)
		off[cnt++] = b;
	if (cnt == 2)
	{
		int64_t		lo,
					hi;

		if (off[0] < off[1])
		{
			int			x = off[0];

			off[0] = off[1];
			off[1] = x;
		}
		/* the change: the first second with the second offset */
		lo = n - off[0];
		hi = n - off[1];
		while (hi - lo > 1)
		{
			int64_t		mid = lo + (hi - lo) / 2;

			if (zone_offset(mid) == off[0])
				lo = mid;
			else
				hi = mid;
		}
		*change = hi;
	}
	return cnt;
}

/* offsets_at() for the log's zone; a local hour of one offset is cached. */
static int
local_offsets(sh_maillog *p, int64_t n, int off[2], int64_t *change)
{
	int64_t		hour = n / 3600;
	zone_env	z;
	int			cnt,
				o[2];
	int64_t		c;

	if (p->zone_hour_known && p->zone_hour == hour)
	{
		off[0] = p->zone_hour_off;
		return 1;
	}
	zone_enter(p->cfg.zone, &z);
	cnt = offsets_at(n, off, change);
	if (cnt == 1 && offsets_at(hour * 3600, o, &c) == 1 && o[0] == off[0] &&
		offsets_at(hour * 3600 + 3599, o, &c) == 1 && o[0] == off[0])
	{
		p->zone_hour = hour;
		p->zone_hour_off = off[0];
		p->zone_hour_known = 1;
	}
	zone_leave(&z);
	return cnt;
}

static void
told(sh_maillog *p, int64_t u)
{
	if (!p->last_known || u > p->last_utc)
		p->last_utc = u;
	p->last_known = 1;
}

/*
 * The time of a line: its text and seconds into L. A time with an offset is
 * plain. A local time is in cfg.zone: where the zone gives it one offset,
 * its text stays local (the load converts it in the same zone); in the
 * repeated hour where clocks went back, the lines are in time order, so
 * they are of the first occurrence until the times go back (by more than
 * FOLD_JITTER), then of the second, and are given that offset. Lines of the
 * first occurrence are told only when the times go back: until then their
 * events are held (L->fold); if the times go past the hour without going
 * back, or the log ends, they cannot be told (ambiguous_time). 0, or -1 for
 * a local time the zone never shows (skipped when clocks went forward).
 */
int
sh_ml_line_time(sh_maillog *p, sh_ml_ltime *t, sh_ml_lctx *L)
{
	int64_t		n,
				change = 0;
	int			off[2],
				cnt;

	L->fold = 0;
	if (t->off[0])
	{
		sh_ml_time_text(t, L);
		told(p, L->secs);
		return 0;
	}
	n = days_from_civil(t->y, t->mo, t->d) * 86400 + t->h * 3600 + t->mi * 60 + t->s;
	cnt = local_offsets(p, n, off, &change);
	if (cnt == 0)
		return -1;
	if (cnt == 1)
	{
		sh_ml_time_text(t, L);
		L->secs = n - off[0];
		/* past a repeated hour whose times never went back */
		if (p->fold_open && L->secs >= p->fold)
			sh_ml_fold_told(p, 0);
		told(p, L->secs);
		return 0;
	}
	if (change != p->fold)
	{
		/* a repeated hour begins: of the second occurrence already when a
		 * line before was later than the first */
		if (p->fold_open)
			sh_ml_fold_told(p, 0);
		p->fold = change;
		p->fold_first = off[0];
		p->fold_second = off[1];
		p->fold_open = !(p->last_known && n - off[0] < p->last_utc - FOLD_JITTER);
		p->fold_max = n;
	}
	else if (p->fold_open && n < p->fold_max - FOLD_JITTER)
		sh_ml_fold_told(p, 1);	/* the times went back */
	if (p->fold_open)
	{
		if (n > p->fold_max)
			p->fold_max = n;
		sh_ml_time_text(t, L);
		L->secs = n - off[0];
		L->fold = change;
		return 0;
	}
	sh_ml_offset_text(off[1], t->off, sizeof(t->off));
	t->off_secs = off[1];
	sh_ml_time_text(t, L);
	told(p, L->secs);
	return 0;
}

/* "HH:MM:SS" at s. */
const char *
sh_ml_clock_at(const char *s, sh_ml_ltime *t)
{
	const char *e;

	t->h = (int) sh_ml_digits(s, &e, 2);
	if (e != s + 2 || *e != ':')
		return NULL;
	t->mi = (int) sh_ml_digits(e + 1, &e, 2);
	if (e != s + 5 || *e != ':')
		return NULL;
	t->s = (int) sh_ml_digits(e + 1, &e, 2);
	if (e != s + 8)
		return NULL;
	return e;
}

/* ".fraction" at s, up to microseconds kept. */
const char *
sh_ml_fraction_at(const char *s, sh_ml_ltime *t)
{
	size_t		n = 1;

	t->frac[0] = '\0';
	if (*s != '.' || !isdigit((unsigned char) s[1]))
		return s;
	while (isdigit((unsigned char) s[n]))
		n++;
	memcpy(t->frac, s, n > 7 ? 7 : n);
	t->frac[n > 7 ? 7 : n] = '\0';
	return s + n;
}

/* "YYYY-MM-DD" at s. */
const char *
sh_ml_date_at(const char *s, sh_ml_ltime *t)
{
	const char *e;

	t->y = (int) sh_ml_digits(s, &e, 4);
	if (e != s + 4 || *e != '-')
		return NULL;
	t->mo = (int) sh_ml_digits(e + 1, &e, 2);
	if (e != s + 7 || *e != '-')
		return NULL;
	t->d = (int) sh_ml_digits(e + 1, &e, 2);
	if (e != s + 10)
		return NULL;
	return e;
}

/* An offset "+HH:MM", "+HHMM" or "Z" at s. */
const char *
sh_ml_offset_at(const char *s, sh_ml_ltime *t, int colon)
{
	const char *e;
	int			hh,
				mm;

	t->off[0] = '\0';
	t->off_secs = 0;
	if (*s == 'Z')
	{
		snprintf(t->off, sizeof(t->off), "+00:00");
		return s + 1;
	}
	if (*s != '+' && *s != '-')
		return NULL;
	hh = (int) sh_ml_digits(s + 1, &e, 2);
	if (e != s + 3)
		return NULL;
	if (colon)
	{
		if (*e != ':')
			return NULL;
		e++;
	}
	mm = (int) sh_ml_digits(e, &e, 2);
	if (hh < 0 || mm < 0 || hh > 14 || mm > 59)
		return NULL;
	snprintf(t->off, sizeof(t->off), "%c%02d:%02d", *s, hh, mm);
	t->off_secs = (*s == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
	return e;
}

/*
 * The year of a syslog line: from --year and the months seen so far, or
 * from the file's modification time.
 */
static int
syslog_year(sh_maillog *p, int month, int day)
{
	p->needed_year = 1;
	if (p->cfg.year > 0)
	{
		if (p->cur_year == 0)
			p->cur_year = p->cfg.year;
		else if (month < p->last_month - 6)
			p->cur_year++;
		p->last_month = month;
		return p->cur_year;
	}
	if (month > p->cfg.ref_month || (month == p->cfg.ref_month && day > p->cfg.ref_day + 1))
		return p->cfg.ref_year - 1;
	return p->cfg.ref_year;
}

/*
 * A syslog header: "Mmm dd hh:mm:ss host prog[pid]: " (BSD) or
 * "YYYY-MM-DDThh:mm:ss[.frac]+hh:mm host prog[pid]: " (RFC 3339). Sets the
 * time, host and program; returns the message, or NULL (*bad_time tells
 * whether the time was what failed).
 */
static const char *
syslog_header(sh_maillog *p, const char *s, sh_ml_lctx *L, const char **prog, size_t *prog_len, int *bad_time)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	sh_ml_ltime	t;
	const char *e;

	memset(&t, 0, sizeof(t));
	*bad_time = 1;
	if (isdigit((unsigned char) s[0]))
	{
		if ((e = sh_ml_date_at(s, &t)) == NULL || *e != 'T' || (e = sh_ml_clock_at(e + 1, &t)) == NULL)
			return NULL;
		e = sh_ml_fraction_at(e, &t);
		if ((e = sh_ml_offset_at(e, &t, 1)) == NULL || *e != ' ')
			return NULL;
	}
	else
	{
		const char *m;

		if (strlen(s) < 16 || s[3] != ' ')
			return NULL;
		m = strstr(months, (char[4]) {s[0], s[1], s[2], '\0'});
		if (m == NULL || (m - months) % 3 != 0)
			return NULL;
		t.mo = (int) ((m - months) / 3) + 1;
		if (s[4] == ' ')
			t.d = (int) sh_ml_digits(s + 5, &e, 1);
		else
			t.d = (int) sh_ml_digits(s + 4, &e, 2);
		if (t.d < 1 || *e != ' ' || (e = sh_ml_clock_at(e + 1, &t)) == NULL)
			return NULL;
		e = sh_ml_fraction_at(e, &t);
		if (*e != ' ')
			return NULL;
		t.y = syslog_year(p, t.mo, t.d);
	}
	if (!sh_ml_valid_time(&t) || sh_ml_line_time(p, &t, L) != 0)
		return NULL;
	*bad_time = 0;

	/* host and program */
	s = e + 1;
	L->host = s;
	L->host_len = strcspn(s, " ");
	if (L->host_len == 0 || s[L->host_len] != ' ')
		return NULL;
	s += L->host_len + 1;
	*prog = s;
	*prog_len = strcspn(s, "[: ");
	if (*prog_len == 0)
		return NULL;
	s += *prog_len;
	if (*s == '[')
	{
		s = strchr(s, ']');
		if (s == NULL)
			return NULL;
		s++;
	}
	if (s[0] != ':' || s[1] != ' ')
		return NULL;
	return s + 2;
}

/*
 * The message of a syslog line, with its time, host and program set; or
 * NULL, the line counted as malformed (in its time, or in the rest of its
 * header).
 */
const char *
sh_ml_syslog_header(sh_maillog *p, const char *s, sh_ml_lctx *L, const char **prog, size_t *prog_len)
{
	int			bad_time;
	const char *msg = syslog_header(p, s, L, prog, prog_len, &bad_time);

	if (msg == NULL)
		p->skip[bad_time ? SH_MSKIP_MALFORMED_TIME : SH_MSKIP_MALFORMED_LINE]++;
	return msg;
}
