/* fuzz_ajp.c: libFuzzer harness of the AJP13 container message decoder
 * (agent/ajp.c), fed the way upstream.c feeds it: a stream of messages from
 * a backend, decoded one after the other from a receive buffer. The first two
 * bytes pick max_packet_size and the header array size. Checked: slices stay
 * inside the message, a message is never reported complete before all its
 * bytes are there, and the values the data path trusts are in range. */
#include <string.h>

#include "ajp.h"
#include "fuzz.h"

#define MAX_HDRS 32

static void in_msg(struct xjk_str s, const uint8_t *msg, int n)
{
	/* coded header names point to static canonical names */
	if (s.p && ((const uint8_t *)s.p < msg || (const uint8_t *)s.p + s.len > msg + n))
		FUZZ_ASSERT(s.len > 0 && s.len < 32 && !memchr(s.p, '\0', s.len));
}

/* A CR or LF that reached the client would split the response. */
static void no_line_break(struct xjk_str s)
{
	if (s.p)
		FUZZ_ASSERT(!memchr(s.p, '\n', s.len) && !memchr(s.p, '\r', s.len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xjk_http_header hdrs[MAX_HDRS];
	struct xjk_ajp_msg msg;

	if (size < 2)
		return 0;
	size_t max_packet = 16 + ((size_t)data[0] << 8) % (XJK_AJP_MAX_PACKET_SIZE - 16);
	unsigned max_hdrs = 1 + data[1] % MAX_HDRS;
	size_t len = size - 2;
	uint8_t *buf = malloc(len ? len : 1);

	memcpy(buf, data + 2, len);
	for (size_t pos = 0; pos < len;) {
		int n = xjk_ajp_parse(buf + pos, len - pos, max_packet, &msg, hdrs, max_hdrs);

		if (n <= 0)
			break;
		FUZZ_ASSERT((size_t)n <= len - pos && (size_t)n <= max_packet);
		/* one byte short of the message: incomplete, never a message */
		FUZZ_ASSERT(xjk_ajp_parse(buf + pos, (size_t)n - 1, max_packet, &msg, hdrs,
					  max_hdrs) <= 0);
		/* the short parse may have written to msg: decode again */
		n = xjk_ajp_parse(buf + pos, len - pos, max_packet, &msg, hdrs, max_hdrs);
		switch (msg.type) {
		case XJK_AJP_SEND_HEADERS:
			FUZZ_ASSERT(msg.status >= 100 && msg.status <= 999);
			FUZZ_ASSERT(msg.n_headers <= max_hdrs);
			in_msg(msg.reason, buf + pos, n);
			for (uint32_t i = 0; i < msg.n_headers; i++) {
				in_msg(msg.headers[i].name, buf + pos, n);
				in_msg(msg.headers[i].value, buf + pos, n);
				FUZZ_ASSERT(msg.headers[i].name.len > 0);
				no_line_break(msg.headers[i].name);
				no_line_break(msg.headers[i].value);
			}
			break;
		case XJK_AJP_SEND_BODY_CHUNK:
			FUZZ_ASSERT((const uint8_t *)msg.body.p >= buf + pos &&
				    (const uint8_t *)msg.body.p + msg.body.len <= buf + pos + n);
			break;
		case XJK_AJP_END_RESPONSE:
		case XJK_AJP_GET_BODY_CHUNK:
		case XJK_AJP_CPONG:
			break;
		default:
			FUZZ_ASSERT(!"unknown type reported as a message");
		}
		pos += (size_t)n;
	}
	free(buf);
	return 0;
}
