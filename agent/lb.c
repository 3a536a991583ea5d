/* lb.c: the lb worker's member choice and lb_value accounting (see lb.h and
 * modjk-ajp13.md §3). No allocation, no shared state: everything the decision
 * depends on is in the caller's snapshot. */
#include <stdint.h>
#include <string.h>

#include "lb.h"

/* Weight resolution of the approximate lb_mult when the exact LCM overflows:
 * the heaviest member gets this mult, so weights are off by < 0.1%. */
#define XJK_LB_APPROX_UNIT 1024

static uint64_t xjk_lb_gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static uint64_t xjk_lb_factor(int f)
{
	return f < 1 ? 1 : (uint64_t)f;
}

void xjk_lb_mults(const int *lbfactors, int n, uint32_t *mults)
{
	uint64_t lcm = 1, max = 1;
	bool exact = true;

	for (int i = 0; i < n; i++) {
		uint64_t f = xjk_lb_factor(lbfactors[i]);

		if (f > max)
			max = f;
		if (exact) {
			lcm = lcm / xjk_lb_gcd(lcm, f) * f;
			exact = lcm <= UINT32_MAX;
		}
	}
	/* Many distinct factors make the LCM explode (mod_jk wraps around);
	 * max*unit/f keeps the ratios and the increments small. */
	for (int i = 0; i < n; i++) {
		uint64_t f = xjk_lb_factor(lbfactors[i]);
		uint64_t m = exact ? lcm / f : max * XJK_LB_APPROX_UNIT / f;

		mults[i] = m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
	}
}

/* May take new (non-sticky) traffic. */
static bool xjk_lb_usable(const struct xjk_lb_cand *c)
{
	return !c->failed_here && c->state <= XJK_STATE_ERR_FRC && c->activation == XJK_ACTIVE;
}

/* May take traffic for its own sessions: a disabled member still does, and so
 * does a busy one (its sessions live there; mod_jk's JK_WORKER_USABLE_STICKY). */
static bool xjk_lb_usable_sticky(const struct xjk_lb_cand *c)
{
	return !c->failed_here && c->state <= XJK_STATE_OK_BUSY && c->activation != XJK_STOPPED;
}

static bool xjk_lb_str_is(const char *z, const char *p, size_t len)
{
	return strlen(z) == len && memcmp(z, p, len) == 0;
}

static int xjk_lb_find_route(const struct xjk_lb_cand *c, int n, const char *p, size_t len)
{
	for (int i = 0; i < n; i++) {
		if (xjk_lb_str_is(c[i].route, p, len))
			return i;
	}
	return -1;
}

/* Lower distance wins, then strictly lower lb_value (ties keep the earlier). */
static bool xjk_lb_better(const struct xjk_lb_cand *c, const struct xjk_lb_cand *best,
			  bool by_value)
{
	if (!best || c->distance < best->distance)
		return true;
	return by_value && c->distance == best->distance && c->lb_value < best->lb_value;
}

/* The best usable member of the domain named by ROUTE up to its first '.'. */
static int xjk_lb_best_in_domain(const struct xjk_lb_cand *c, int n, const char *p, size_t len)
{
	const char *dot = memchr(p, '.', len);
	size_t dlen = dot ? (size_t)(dot - p) : len;
	int best = -1;

	for (int i = 0; i < n; i++) {
		if (!c[i].domain[0] || !xjk_lb_str_is(c[i].domain, p, dlen) ||
		    !xjk_lb_usable(&c[i]))
			continue;
		if (xjk_lb_better(&c[i], best < 0 ? NULL : &c[best], true))
			best = i;
	}
	return best;
}

/* mod_jk's find_bysession_route: the member for one session route, or -1. */
static int xjk_lb_by_route(const struct xjk_lb_cand *c, int n, const char *p, size_t len,
			   bool force, const char **route)
{
	int i = xjk_lb_find_route(c, n, p, len);
	const struct xjk_lb_cand *m;

	if (i < 0) {
		/* a domain match is always usable: nothing to fall back from */
		i = xjk_lb_best_in_domain(c, n, p, len);
		if (i >= 0)
			*route = c[i].domain;
		return i;
	}
	m = &c[i];
	*route = m->route;
	if (xjk_lb_usable_sticky(m))
		return i;
	/* The session's member cannot take it: its redirect (a hot standby,
	 * possibly disabled) or its replication domain may hold the session. */
	if (force)
		return -1;
	if (m->redirect[0]) {
		i = xjk_lb_find_route(c, n, m->redirect, strlen(m->redirect));
		if (i >= 0)
			*route = c[i].route;
	} else if (m->domain[0]) {
		i = xjk_lb_best_in_domain(c, n, m->domain, strlen(m->domain));
		*route = m->domain;
	} else {
		return -1;
	}
	return i >= 0 && xjk_lb_usable_sticky(&c[i]) ? i : -1;
}

/* mod_jk's find_best_byvalue: scan from the rotating offset so that equal
 * lb_values take turns instead of always landing on the first member. */
static int xjk_lb_by_value(const struct xjk_lb_cand *c, int n, const struct xjk_lb_req *req,
			   uint32_t *next_offset)
{
	uint32_t start = req->offset % (uint32_t)n;
	int best = -1;

	for (int j = 0; j < n; j++) {
		int i = (int)((start + (uint32_t)j) % (uint32_t)n);

		if (!xjk_lb_usable(&c[i]))
			continue;
		if (xjk_lb_better(&c[i], best < 0 ? NULL : &c[best], !req->stateless)) {
			best = i;
			*next_offset = (uint32_t)(i + 1) % (uint32_t)n;
		}
	}
	return best;
}

/* Nothing usable: the first member with a redirect names the last resort. */
static int xjk_lb_failover(const struct xjk_lb_cand *c, int n, bool force, const char **route)
{
	for (int i = 0; i < n; i++) {
		if (c[i].redirect[0])
			return xjk_lb_by_route(c, n, c[i].redirect, strlen(c[i].redirect), force,
					       route);
	}
	return -1;
}

static bool xjk_lb_has_route(const struct xjk_lb_req *req, const char *route)
{
	for (int r = 0; r < req->n_routes; r++) {
		if (xjk_lb_str_is(route, req->routes[r].p, req->routes[r].len))
			return true;
	}
	return false;
}

int xjk_lb_choose(const struct xjk_lb_cand *cands, int n, const struct xjk_lb_req *req,
		  struct xjk_lb_choice *choice)
{
	int i = -1;

	choice->sticky = false;
	choice->route = NULL;
	choice->next_offset = req->offset;
	if (n <= 0)
		goto out;
	/* A lone member takes everything it can, whatever the session says;
	 * mod_jk skips the sticky and force rules for it. */
	if (n == 1 && xjk_lb_usable_sticky(&cands[0]) && cands[0].activation != XJK_DISABLED) {
		i = 0;
		choice->sticky = xjk_lb_has_route(req, cands[0].route);
		choice->route = cands[0].route;
		choice->next_offset = 0;
		goto out;
	}
	if (n == 1 && !xjk_lb_usable_sticky(&cands[0]))
		goto out;
	for (int r = 0; r < req->n_routes; r++) {
		i = xjk_lb_by_route(cands, n, req->routes[r].p, req->routes[r].len,
				    req->sticky_force, &choice->route);
		if (i >= 0) {
			choice->sticky = true;
			goto out;
		}
	}
	if (req->has_session && req->sticky_force)
		goto out;
	i = xjk_lb_by_value(cands, n, req, &choice->next_offset);
	if (i >= 0)
		choice->route = cands[i].route;
	else
		i = xjk_lb_failover(cands, n, req->sticky_force, &choice->route);
out:
	if (i < 0)
		choice->route = NULL;
	choice->index = i;
	return i;
}

int xjk_lb_force_recovery(struct xjk_lb_cand *cands, int n)
{
	int forced = 0;

	for (int i = 0; i < n; i++) {
		if (cands[i].state != XJK_STATE_ERR)
			continue;
		cands[i].state = XJK_STATE_ERR_FRC;
		cands[i].failed_here = false;
		forced++;
	}
	return forced;
}

uint64_t xjk_lb_pick_cost(enum xjk_lb_method method, uint32_t lb_mult, bool has_session,
			  bool stateless)
{
	switch (method) {
	case XJK_LB_REQUESTS:
	case XJK_LB_BUSYNESS:
		return lb_mult;
	case XJK_LB_SESSIONS:
	case XJK_LB_NEXT:
		/* these count new sessions only */
		return has_session || stateless ? 0 : lb_mult;
	case XJK_LB_TRAFFIC:
		break;
	}
	return 0;
}

int64_t xjk_lb_done_delta(enum xjk_lb_method method, uint32_t lb_mult, uint64_t bytes)
{
	switch (method) {
	case XJK_LB_TRAFFIC:
		if (lb_mult && bytes > (uint64_t)INT64_MAX / lb_mult)
			return INT64_MAX;
		return (int64_t)(bytes * lb_mult);
	case XJK_LB_BUSYNESS:
		return -(int64_t)lb_mult;
	case XJK_LB_REQUESTS:
	case XJK_LB_SESSIONS:
	case XJK_LB_NEXT:
		break;
	}
	return 0;
}

uint64_t xjk_lb_decay(enum xjk_lb_method method, struct xjk_lb_cand *cands, int n,
		      unsigned exponent)
{
	uint64_t min = UINT64_MAX, max = 0;

	if (method == XJK_LB_NEXT) {
		/* Next keeps the spread of new sessions: only the common floor of
		 * the usable members goes, so the rotation goes on where it was. */
		for (int i = 0; i < n; i++) {
			if (xjk_lb_usable(&cands[i]) && cands[i].lb_value < min)
				min = cands[i].lb_value;
		}
	}
	for (int i = 0; i < n; i++) {
		uint64_t *v = &cands[i].lb_value;

		if (method == XJK_LB_NEXT) {
			if (min != UINT64_MAX)
				*v = *v > min ? *v - min : 0;
		} else if (method != XJK_LB_BUSYNESS)
			*v = exponent >= 64 ? 0 : *v >> exponent;
		if (*v > max)
			max = *v;
	}
	return max;
}
