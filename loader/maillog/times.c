/*
 * loader/maillog/times.c: the time at the start of a mail log line. Syslog
 * headers, BSD ("Mmm dd hh:mm:ss", the year inferred) or RFC 3339; the ISO
 * dates, clocks, fractions and offsets they and Exim's mainlog are made of;
 * the text of a time and the seconds since 1970 it stands for.
 */
#include "maillog_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

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
	if (!sh_ml_valid_time(&t))
		return NULL;
	sh_ml_time_text(&t, L);
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
