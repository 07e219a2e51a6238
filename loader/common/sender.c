/*
 * loader/common/sender.c: the COPY writer thread (see sender.h).
 */
#include "sender.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SH_SENDER_BUFFERS 4

struct sh_sender
{
	PGconn	   *conn;
	FILE	   *file;
	pthread_t	thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;

	/* full buffers waiting to be written, oldest first */
	sh_copy		full[SH_SENDER_BUFFERS];
	int			nfull;
	/* empty buffers for the decoder */
	sh_copy		empty[SH_SENDER_BUFFERS];
	int			nempty;

	int			done;			/* no more buffers will come */
	int			failed;
	char		error[512];
};

static int
write_buffer(sh_sender *s, const sh_copy *copy)
{
	if (copy->len == 0)
		return 0;
	if (s->conn)
	{
		if (PQputCopyData(s->conn, (const char *) copy->buf, (int) copy->len) != 1)
		{
			snprintf(s->error, sizeof(s->error), "%s", PQerrorMessage(s->conn));
			return -1;
		}
	}
	else if (s->file && fwrite(copy->buf, 1, copy->len, s->file) != copy->len)
	{
		snprintf(s->error, sizeof(s->error), "write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void *
sender_main(void *arg)
{
	sh_sender  *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;)
	{
		sh_copy		copy;
		int			r;

		while (s->nfull == 0 && !s->done)
			pthread_cond_wait(&s->changed, &s->lock);
		if (s->nfull == 0)
			break;
		copy = s->full[0];
		memmove(&s->full[0], &s->full[1], (size_t) (s->nfull - 1) * sizeof(sh_copy));
		s->nfull--;

		pthread_mutex_unlock(&s->lock);
		r = s->failed ? 0 : write_buffer(s, &copy);
		pthread_mutex_lock(&s->lock);

		if (r != 0)
			s->failed = 1;
		copy.len = 0;
		s->empty[s->nempty++] = copy;
		pthread_cond_broadcast(&s->changed);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

sh_sender *
sh_sender_start(PGconn *conn, FILE *file, size_t bufsize, sh_copy *first)
{
	sh_sender  *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->conn = conn;
	s->file = file;
	for (int i = 0; i < SH_SENDER_BUFFERS; i++)
	{
		if (sh_copy_init(&s->empty[i], bufsize) != 0)
		{
			while (i-- > 0)
				sh_copy_free(&s->empty[i]);
			free(s);
			return NULL;
		}
	}
	s->nempty = SH_SENDER_BUFFERS - 1;
	*first = s->empty[SH_SENDER_BUFFERS - 1];
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	if (pthread_create(&s->thread, NULL, sender_main, s) != 0)
	{
		for (int i = 0; i < SH_SENDER_BUFFERS - 1; i++)
			sh_copy_free(&s->empty[i]);
		sh_copy_free(first);
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->changed);
		free(s);
		return NULL;
	}
	return s;
}

int
sh_sender_swap(sh_sender *s, sh_copy *copy)
{
	int			failed;

	pthread_mutex_lock(&s->lock);
	s->full[s->nfull++] = *copy;
	pthread_cond_broadcast(&s->changed);
	while (s->nempty == 0)
		pthread_cond_wait(&s->changed, &s->lock);
	*copy = s->empty[--s->nempty];
	failed = s->failed;
	pthread_mutex_unlock(&s->lock);
	copy->len = 0;
	return failed ? -1 : 0;
}

int
sh_sender_finish(sh_sender *s, sh_copy *last, char *err, size_t errlen)
{
	int			failed;

	pthread_mutex_lock(&s->lock);
	s->full[s->nfull++] = *last;
	s->done = 1;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);

	failed = s->failed;
	if (failed)
		snprintf(err, errlen, "%s", s->error);
	for (int i = 0; i < s->nempty; i++)
		sh_copy_free(&s->empty[i]);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->changed);
	free(s);
	memset(last, 0, sizeof(*last));
	return failed ? -1 : 0;
}
