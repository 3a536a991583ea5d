/* fuzz_http.c: libFuzzer harness of the HTTP/1.1 request head parser
 * (agent/http.c). The first two bytes pick the limits; the rest is the head.
 * Beyond "no crash", it checks what the data path relies on: slices stay in
 * the buffer, limits hold, and a complete head parses the same from exactly
 * its own bytes (the client loop re-parses after partial reads). */
#include <string.h>

#include "fuzz.h"
#include "http.h"

#define MAX_HEADERS 64

static bool inside(struct xjk_str s, const char *buf, size_t len)
{
	return !s.p || (s.p >= buf && s.p + s.len <= buf + len);
}

static void in_buf(struct xjk_str s, const char *buf, size_t len)
{
	FUZZ_ASSERT(inside(s, buf, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xjk_http_header hdrs[MAX_HEADERS], hdrs2[MAX_HEADERS];
	struct xjk_http_request req, req2;
	int status = 0, status2 = 0;

	if (size < 2)
		return 0;
	struct xjk_http_limits lim = {
		.max_head = 16u + (uint32_t)data[0] * 32u,
		.max_headers = 1u + data[1] % MAX_HEADERS,
	};
	/* A copy of exactly the input, so ASan sees any read past its end. */
	size_t len = size - 2;
	char *buf = xjk_fuzz_strdup(data + 2, len);
	int rc = xjk_http_parse_request(buf, len, &lim, hdrs, &req, &status);

	FUZZ_ASSERT(rc >= -1 && rc <= 1);
	if (rc == -1)
		FUZZ_ASSERT(status == 400 || status == 414 || status == 417 || status == 431 ||
			    status == 501 || status == 505);
	if (rc == 1) {
		FUZZ_ASSERT(req.head_len <= len && req.head_len <= lim.max_head);
		FUZZ_ASSERT(req.n_headers <= lim.max_headers);
		FUZZ_ASSERT(req.minor == 0 || req.minor == 1);
		FUZZ_ASSERT(!(req.chunked && req.content_length >= 0));
		in_buf(req.method, buf, len);
		in_buf(req.target, buf, len);
		in_buf(req.query, buf, len);
		/* the one slice allowed outside: "/" for an absolute-form target without a path */
		FUZZ_ASSERT(inside(req.path, buf, len) ||
			    (req.path.len == 1 && req.path.p[0] == '/'));
		in_buf(req.host, buf, len);
		for (uint32_t i = 0; i < req.n_headers; i++) {
			in_buf(hdrs[i].name, buf, len);
			in_buf(hdrs[i].value, buf, len);
		}
		FUZZ_ASSERT(xjk_http_parse_request(buf, req.head_len, &lim, hdrs2, &req2,
						   &status2) == 1);
		FUZZ_ASSERT(req2.head_len == req.head_len && req2.n_headers == req.n_headers);
		FUZZ_ASSERT(req2.content_length == req.content_length &&
			    req2.chunked == req.chunked && req2.keep_alive == req.keep_alive);
	}
	free(buf);
	return 0;
}
