/* heaptrim.c: returns freed heap memory after a surge of connections (see
 * heaptrim.h for the rule). */
#include "heaptrim.h"

#include <malloc.h>
#include <stdint.h>

static __thread uint32_t open_now;
static __thread uint32_t peak; /* most open at once since the last trim */

void xjk_heaptrim_open(void)
{
	if (++open_now > peak)
		peak = open_now;
}

bool xjk_heaptrim_close(void)
{
	if (open_now)
		open_now--;
	if (peak < XJK_HEAPTRIM_MIN || open_now > peak / 4)
		return false;
	malloc_trim(0);
	peak = open_now;
	return true;
}
