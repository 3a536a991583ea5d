/* fuzz_tribes.c: libFuzzer harness of the Tomcat Tribes beacon parser
 * (agent/tribes.c): any datagram off the multicast group. Checked: the
 * variable-length fields point inside the datagram and the fixed ones are in
 * the ranges the membership table relies on; the formatters take the result. */
#include <string.h>

#include "fuzz.h"
#include "tribes.h"

static void inside(const uint8_t *p, uint32_t n, const uint8_t *buf, size_t len)
{
	FUZZ_ASSERT(p && p >= buf && p + n <= buf + len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xjk_tribes_beacon b;
	char addr[XJK_TRIBES_ADDR_STRLEN], uid[33];
	uint8_t *buf = malloc(size ? size : 1);

	memcpy(buf, data, size);
	enum xjk_tribes_status st = xjk_tribes_parse(buf, size, &b);

	FUZZ_ASSERT(st == XJK_TRIBES_OK || st == XJK_TRIBES_OTHER || st == XJK_TRIBES_MALFORMED);
	if (st == XJK_TRIBES_OK) {
		FUZZ_ASSERT(b.host_len == 4 || b.host_len == 16);
		FUZZ_ASSERT(b.port > 0 && b.port <= 65535);
		inside(b.command, b.command_len, buf, size);
		inside(b.domain, b.domain_len, buf, size);
		inside(b.payload, b.payload_len, buf, size);
		xjk_tribes_addr_str(b.host, b.host_len, b.port, addr, sizeof(addr));
		FUZZ_ASSERT(strlen(addr) < sizeof(addr));
		xjk_tribes_uid_str(b.uid, uid);
		FUZZ_ASSERT(strlen(uid) == 32);
		(void)xjk_tribes_is_shutdown(&b);
		FUZZ_ASSERT(xjk_tribes_format_name(b.format) != NULL);
	}
	free(buf);
	return 0;
}
