/*
 * tests/fuzz/seeds.c: seed corpora for the fuzz targets, cut out of real
 * captures with the loader's own capture stage.
 *
 *   seeds OUTDIR CAPTURE...
 *
 * writes each distinct UDP payload (an sFlow datagram, or whatever else was
 * sent to 6343) into OUTDIR/sflow/ and each distinct sampled packet header
 * into OUTDIR/packet/ (first byte: 0 Ethernet, 1 IPv4, 2 IPv6, as
 * fuzz_packet reads it). Files are named by a hash of their bytes, so the
 * same datagram in two captures is one seed. At most SEEDS_PER_CAPTURE
 * datagrams are taken from one capture. Exit 0, or 1 when a capture cannot
 * be opened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture.h"
#include "sflow.h"

#define SEEDS_PER_CAPTURE 300

static const char *outdir;
static unsigned long written;

static uint64_t
fnv1a(const uint8_t *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static void
write_seed(const char *kind, const uint8_t *prefix, size_t plen, const uint8_t *p, size_t n)
{
	char		path[4096];
	uint64_t	h = fnv1a(p, n, fnv1a(prefix, plen, 0xcbf29ce484222325ULL));
	FILE	   *f;
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/%016llx", outdir, kind, (unsigned long long) h);
	if (stat(path, &st) == 0)
		return;
	f = fopen(path, "wb");
	if (f == NULL)
	{
		fprintf(stderr, "seeds: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if ((plen && fwrite(prefix, 1, plen, f) != plen) || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
	{
		fprintf(stderr, "seeds: cannot write %s\n", path);
		exit(1);
	}
	written++;
}

static void
on_record(const sh_record *rec, void *arg)
{
	uint8_t		selector;

	(void) arg;
	if (rec->header == NULL)
		return;
	switch (rec->header_protocol)
	{
		case SH_HEADER_ETHERNET:
			selector = 0;
			break;
		case SH_HEADER_IPV4:
			selector = 1;
			break;
		case SH_HEADER_IPV6:
			selector = 2;
			break;
		default:
			return;
	}
	write_seed("packet", &selector, 1, rec->header, rec->header_len);
}

int
main(int argc, char **argv)
{
	char		err[512];
	int			rc = 0;

	if (argc < 2)
	{
		fprintf(stderr, "usage: seeds OUTDIR CAPTURE...\n");
		return 1;
	}
	outdir = argv[1];
	for (int i = 2; i < argc; i++)
	{
		sh_capture *cap = sh_capture_open(argv[i], NULL, err, sizeof(err));
		sh_frame	frame;
		int			taken = 0;

		if (cap == NULL)
		{
			fprintf(stderr, "seeds: %s\n", err);
			rc = 1;
			continue;
		}
		while (taken < SEEDS_PER_CAPTURE && sh_capture_next(cap, &frame, err, sizeof(err)) == 1)
		{
			sh_counts	counts = {0};

			if (frame.status != SH_FRAME_OK)
				continue;
			write_seed("sflow", NULL, 0, frame.payload, frame.len);
			sh_decode_datagram(frame.payload, frame.len, NULL, &counts, on_record, NULL);
			taken++;
		}
		sh_capture_close(cap);
	}
	printf("seeds: %lu files\n", written);
	return rc;
}
