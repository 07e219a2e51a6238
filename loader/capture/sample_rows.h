/*
 * loader/capture/sample_rows.h: the row writer of spamhints.smtp_sample, the
 * last stage of a capture before the COPY stream: the only code that knows
 * the table's columns and how each field is encoded (binary COPY, pgcopy.h).
 */
#ifndef SPAMHINTS_SAMPLE_ROWS_H
#define SPAMHINTS_SAMPLE_ROWS_H

#include <stdint.h>

#include "capture.h"
#include "enrich.h"
#include "pgcopy.h"
#include "sflow.h"
#include "smtp.h"

/* The COPY statement of the rows, with the enrichment columns or without. */
const char *sh_sample_copy_sql(int enriched);

/*
 * One row: the sample rec of frame, its SMTP side, and with enrichment the
 * answers for its source and destination (both NULL without). Returns 0, or
 * -1 out of memory.
 */
int			sh_sample_row(sh_copy *copy, int32_t load_id, const sh_frame *frame,
						  const sh_record *rec, const sh_smtp_sample *smtp,
						  const sh_answer *src, const sh_answer *dst);

/* The enrichment fields (src_asn, dst_asn, src_cc, dst_cc) at p; returns the end. */
uint8_t    *sh_sample_answers(uint8_t *p, const sh_answer *src, const sh_answer *dst);

#endif							/* SPAMHINTS_SAMPLE_ROWS_H */
