/*
 * tests/fuzz/fuzz_capture.c: libFuzzer target for the loader's front end as
 * a whole: one input is a capture file (pcap or pcapng), read by libpcap
 * through the loader's hashing stream, each frame unwrapped to its UDP
 * payload (capture.c), decoded (sflow.c, packet.c), each record judged and
 * its SMTP token read (smtp.c), the agents' sequence numbers tracked
 * (agents.c) and each row written as the loader writes it (sample_rows.c,
 * binary COPY). Only enrichment and the database are missing.
 *
 * The capture reaches libpcap as a file, as in the loader: the input is
 * written to a memory file and opened by its /proc/self/fd path. Checks:
 * the content hash always covers every byte of the input (even when
 * libpcap stops at a truncated record), and each frame's payload lies inside
 * the frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agents.h"
#include "capture.h"
#include "pgcopy.h"
#include "sample_rows.h"
#include "sflow.h"
#include "smtp.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_capture: broken promise: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

typedef struct state
{
	sh_ports	ports;
	sh_copy		copy;
	const sh_frame *frame;
} state;

static void
on_record(const sh_record *rec, void *arg)
{
	state	   *st = arg;
	sh_smtp_sample smtp;
	sh_smtp_verdict v = sh_smtp_classify(&st->ports, rec, &smtp);

	CHECK(v >= SH_SMTP_SAMPLE && v < SH_SMTP_COUNT_);
	if (v != SH_SMTP_SAMPLE)
		return;
	CHECK(smtp.ntoken < sizeof(smtp.token));
	CHECK(smtp.to_server || smtp.from_server);
	CHECK(sh_sample_row(&st->copy, 1, st->frame, rec, &smtp, NULL, NULL) == 0);
	if (st->copy.len > (1 << 20))
		st->copy.len = 0;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static state st;
	static int	ready;
	char		path[64];
	char		err[512];
	char		hex[65];
	char		want[65];
	unsigned char md[32];
	unsigned int mdlen = 0;
	sh_capture *cap;
	sh_frame	frame;
	sh_agents	agents = {0};
	int			fd,
				r;

	if (!ready)
	{
		CHECK(sh_ports_parse(&st.ports, "25,465,587", err, sizeof(err)) == 0);
		CHECK(sh_copy_init(&st.copy, 4 << 20) == 0);
		ready = 1;
	}
	st.copy.len = 0;

	fd = memfd_create("capture", 0);
	CHECK(fd >= 0);
	CHECK(size == 0 || write(fd, data, size) == (ssize_t) size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	cap = sh_capture_open(path, NULL, err, sizeof(err));
	if (cap != NULL)
	{
		uint64_t	handed = 0,
					last_number = 0;

		while ((r = sh_capture_next(cap, &frame, err, sizeof(err))) == 1)
		{
			sh_counts	counts = {0};
			sh_dgram	dg;
			sh_status	status;

			/*
			 * every frame read is handed over, taken by the filter or not: none
			 * vanishes; its number is Wireshark's, which also numbers some
			 * non-packet pcapng blocks (custom blocks): at least the packets so far
			 */
			CHECK(++handed == sh_capture_frames_read(cap) && frame.number >= handed && frame.number > last_number);
			last_number = frame.number;
			if (frame.status != SH_FRAME_OK)
			{
				CHECK(frame.payload == NULL);
				continue;
			}
			CHECK(frame.payload != NULL || frame.len == 0);
			st.frame = &frame;
			status = sh_decode_datagram(frame.payload, frame.len, &dg, &counts, on_record, &st);
			if (dg.version != 0)
				CHECK(sh_agents_see(&agents, &dg.agent, dg.sub_agent, dg.version, dg.seq,
									status != SH_OK) >= 0);	/* 1: past the agent limit */
		}
		CHECK(r == 0 || r == -1 || r == -2);
		CHECK(handed == sh_capture_frames_read(cap));
		CHECK(sh_capture_frames_matched(cap) <= handed);
		CHECK(sh_capture_bytes_read(cap) <= size);
		if (sh_capture_finish(cap, hex, err, sizeof(err)) == 0)
		{
			/* the hash is the input's, however far libpcap got */
			CHECK(sh_capture_bytes_read(cap) == size);
			CHECK(EVP_Digest(data, size, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32);
			for (int i = 0; i < 32; i++)
				snprintf(want + 2 * i, 3, "%02x", md[i]);
			CHECK(strcmp(hex, want) == 0);
		}
		(void) sh_agents_lost(&agents);
		sh_capture_close(cap);
	}
	sh_agents_free(&agents);
	close(fd);
	return 0;
}
