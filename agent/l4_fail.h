/* l4_fail.h: the l4 module's one error-reporting helper (internal). */
#ifndef XJK_L4_FAIL_H
#define XJK_L4_FAIL_H

#include <stddef.h>

/* Formats the message into ERR and returns RC, so callers can
 * "return xjk_l4_fail(err, errlen, -EINVAL, ...)". */
int xjk_l4_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
