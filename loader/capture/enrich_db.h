/*
 * loader/capture/enrich_db.h: the database side of enrichment, at the end of
 * a capture's load, in its transaction.
 */
#ifndef SPAMHINTS_ENRICH_DB_H
#define SPAMHINTS_ENRICH_DB_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "enrich.h"

/*
 * Upsert the AS names seen into spamhints.asn and record the files'
 * metadata and the lookup counts in spamhints.load.enrichment. Returns 0,
 * or -1 with the server's message in err.
 */
int			sh_enrich_db_finish(PGconn *conn, const sh_enrich *e, int32_t load_id,
								char *err, size_t errlen);

#endif							/* SPAMHINTS_ENRICH_DB_H */
