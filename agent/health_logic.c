/* health_logic.c: the pure parts of a health check: rise/fall counting
 * against the worker state, CPong and HTTP status-line parsing, and the
 * jittered delay between checks. */
#include "health.h"

#include <string.h>

static bool is_error(enum xjk_worker_state s)
{
	return s == XJK_STATE_ERR || s == XJK_STATE_ERR_REC || s == XJK_STATE_ERR_FRC ||
	       s == XJK_STATE_ERR_PRB;
}

enum xjk_health_verdict xjk_health_record(struct xjk_health_count *c,
					  const struct xjk_health_params *p, bool pass,
					  enum xjk_worker_state state)
{
	bool error = is_error(state);
	/* Whatever put the backend in error (a failed request, an operator, a
	 * cluster member leaving), rise counts only passes seen after it. */
	if (error && !c->saw_error)
		c->passes = 0;
	c->saw_error = error;
	if (pass) {
		c->fails = 0;
		c->passes++;
		return error && c->passes >= p->rise ? XJK_HEALTH_UP : XJK_HEALTH_KEEP;
	}
	c->passes = 0;
	c->fails++;
	return c->fails >= p->fall && state != XJK_STATE_ERR ? XJK_HEALTH_DOWN : XJK_HEALTH_KEEP;
}

int xjk_health_ajp_reply(const uint8_t *p, size_t n)
{
	static const uint8_t cpong[] = {'A', 'B', 0x00, 0x01, 0x09};
	size_t k = n < sizeof(cpong) ? n : sizeof(cpong);
	if (memcmp(p, cpong, k))
		return -1;
	return n >= sizeof(cpong) ? 1 : 0;
}

int xjk_health_http_reply(const char *p, size_t n, int expect, int *status)
{
	static const char proto[] = "HTTP/1.";
	const size_t plen = sizeof(proto) - 1;
	/* "HTTP/1.x NNN" is all a check needs; the rest is not read. */
	size_t k = n < plen ? n : plen;
	if (memcmp(p, proto, k))
		return -1;
	if (n < plen + 5)
		return 0;
	if ((p[plen] != '0' && p[plen] != '1') || p[plen + 1] != ' ')
		return -1;
	int code = 0;
	for (size_t i = plen + 2; i < plen + 5; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		code = code * 10 + (p[i] - '0');
	}
	*status = code;
	/* Without an expected status, any answer short of a server error shows
	 * the node is alive: a Tomcat without a ROOT page answers "/" with 404. */
	return (expect ? code == expect : code < 500) ? 1 : -1;
}

uint64_t xjk_health_delay(const struct xjk_health_params *p, uint32_t rnd)
{
	uint64_t spread = (uint64_t)p->interval_ms * (uint64_t)p->jitter_pct / 100;
	if (!spread)
		return (uint64_t)p->interval_ms;
	/* Uniform in [interval - spread, interval + spread]. */
	return (uint64_t)p->interval_ms - spread + rnd % (2 * spread + 1);
}
