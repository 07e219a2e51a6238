/*
 * loader/capture/capture_pipeline.h: spamhints-load FILE...: sFlow captures
 * into spamhints.load, spamhints.smtp_sample and spamhints.load_agent.
 *
 * Data flows one way: capture (capture.c, libpcap) -> sFlow decode (sflow.c)
 * -> packet header parse (packet.c) -> SMTP stage (smtp.c) -> enrichment
 * (enrich.c, with --asn-db/--country-db) -> row writer (sample_rows.c) ->
 * the load (load.h: the transaction, the COPY stream, the summary).
 */
#ifndef SPAMHINTS_CAPTURE_PIPELINE_H
#define SPAMHINTS_CAPTURE_PIPELINE_H

#include "enrich.h"
#include "load.h"
#include "smtp.h"

/* What the command line says of captures. */
typedef struct sh_capture_options
{
	const char *filter;			/* BPF; NULL: the default for the link type */
	sh_ports	ports;
	sh_enrich  *enrich;			/* the open databases; NULL without enrichment */
} sh_capture_options;

/* The pipeline, for sh_load_files() with an sh_capture_options. */
extern const sh_pipeline sh_capture_pipeline;

#endif							/* SPAMHINTS_CAPTURE_PIPELINE_H */
