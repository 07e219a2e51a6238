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

/*
 * A load's events and lines go first to temporary tables (sh_mail_stage_sql,
 * in the load's transaction): the COPY of the events (sh_mail_row's rows),
 * the COPY of the lines' identities (rows "load_id TAB \\x<32 hex digits>").
 * Then, holding the lock of the lines (sh_mail_lock_sql), the lines no load
 * added before are added (sh_mail_keep_lines_sql), the events that no event
 * of the same line has with as many lines (sh_mail_keep_events_sql), and
 * the events they replace are deleted (sh_mail_replace_sql, $1 the load).
 */
extern const char *const sh_mail_stage_sql;
extern const char *const sh_mail_copy_sql;
extern const char *const sh_mail_line_copy_sql;
extern const char *const sh_mail_lock_sql;
extern const char *const sh_mail_keep_lines_sql;
extern const char *const sh_mail_keep_events_sql;
extern const char *const sh_mail_replace_sql;

/* One row of the load maillog_load_id; out of memory sets b->oom. */
void		sh_mail_row(sh_buf *b, int32_t maillog_load_id, const sh_mail_event *ev);

#endif							/* SPAMHINTS_MAIL_ROWS_H */
