/*
 * loader/maillog/mail_rows.h: the row writer of spamhints.mail_event, the
 * last stage of a mail log before the COPY stream: the only code that knows
 * the table's columns and how each field is written (COPY's text format).
 */
#ifndef SPAMHINTS_MAIL_ROWS_H
#define SPAMHINTS_MAIL_ROWS_H

#include <stdint.h>

#include "buf.h"
#include "maillog.h"

/* The COPY statement of the rows. */
extern const char *const sh_mail_copy_sql;

/* One row of the load maillog_load_id; out of memory sets b->oom. */
void		sh_mail_row(sh_buf *b, int32_t maillog_load_id, const sh_mail_event *ev);

#endif							/* SPAMHINTS_MAIL_ROWS_H */
