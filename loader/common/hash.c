/*
 * loader/common/hash.c: streaming SHA-256 with OpenSSL (hash.h).
 */
#include "hash.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

struct sh_hash
{
	EVP_MD_CTX *ctx;
};

sh_hash *
sh_hash_start(void)
{
	sh_hash    *h = malloc(sizeof(*h));

	if (h == NULL)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL))
	{
		sh_hash_free(h);
		return NULL;
	}
	return h;
}

void
sh_hash_update(sh_hash *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

int
sh_hash_finish(sh_hash *h, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_DigestFinal_ex(h->ctx, md, &mdlen) || mdlen != 32)
		return -1;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

void
sh_hash_free(sh_hash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}
