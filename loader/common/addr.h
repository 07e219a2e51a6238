/*
 * loader/common/addr.h: an IPv4 or IPv6 address, as every stage passes it.
 */
#ifndef SPAMHINTS_ADDR_H
#define SPAMHINTS_ADDR_H

#include <stdint.h>

/* family is 0 (none), 4 or 6; an IPv4 address is in bytes[0..3]. */
typedef struct sh_addr
{
	uint8_t		family;
	uint8_t		bytes[16];
} sh_addr;

#endif							/* SPAMHINTS_ADDR_H */
