/* fuzz_session.c: libFuzzer harness of sticky-session route extraction
 * (agent/session.c) on request heads that agent/http.c accepted. The first
 * byte picks the session names (mod_jk's defaults or short custom ones, which
 * match more often) and the route array size. Checked: routes are non-empty
 * slices of the head that follow a '.', and has_session holds whenever a
 * route was found. */
#include <string.h>

#include "fuzz.h"
#include "session.h"

#define MAX_HEADERS 32
#define MAX_ROUTES  8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct xjk_http_limits lim = {.max_head = 16384, .max_headers = MAX_HEADERS};
	struct xjk_http_header hdrs[MAX_HEADERS];
	struct xjk_http_request req;
	struct xjk_str routes[MAX_ROUTES];
	int status;
	bool has_session;

	if (size < 1)
		return 0;
	bool custom = data[0] & 1;
	int max = 1 + (data[0] >> 1) % MAX_ROUTES;
	size_t len = size - 1;
	char *buf = xjk_fuzz_strdup(data + 1, len);

	if (xjk_http_parse_request(buf, len, &lim, hdrs, &req, &status) == 1) {
		int n = xjk_session_routes(&req, custom ? ";s" : XJK_SESSION_PATH_DEFAULT,
					   custom ? "S" : XJK_SESSION_COOKIE_DEFAULT, routes, max,
					   &has_session);

		FUZZ_ASSERT(n >= 0 && n <= max);
		FUZZ_ASSERT(!n || has_session);
		for (int i = 0; i < n; i++) {
			FUZZ_ASSERT(routes[i].p > buf && routes[i].p + routes[i].len <= buf + len);
			FUZZ_ASSERT(routes[i].len > 0 && routes[i].p[-1] == '.');
		}
	}
	free(buf);
	return 0;
}
