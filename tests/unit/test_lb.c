/* test_lb.c: the lb member choice against mod_jk's rules (modjk-ajp13.md §3):
 * weights, rotation, stickiness with its domain and redirect fallbacks,
 * activation, distance, failover within a request and lb_value accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lb.h"

#define MAXC 8

/* Members n1..nN: active, OK, weight 1, no domain or redirect. */
struct lb {
	struct xjk_lb_cand c[MAXC];
	int n;
	char names[MAXC][4];
};

static void lb_init(struct lb *lb, int n)
{
	memset(lb, 0, sizeof(*lb));
	lb->n = n;
	for (int i = 0; i < n; i++) {
		lb->names[i][0] = 'n';
		lb->names[i][1] = (char)('1' + i);
		lb->c[i] = (struct xjk_lb_cand){
			.route = lb->names[i],
			.domain = "",
			.redirect = "",
			.lb_mult = 1,
			.activation = XJK_ACTIVE,
			.state = XJK_STATE_OK,
		};
	}
}

/* Chooses for a request carrying the given session routes (NULL-terminated
 * list; the slices are cut out of "<route>.tail" so they are not
 * NUL-terminated where the route ends). */
static int pick(const struct lb *lb, const char *const *routes, bool force,
		struct xjk_lb_choice *ch)
{
	static char text[MAXC][32];
	struct xjk_str r[MAXC];
	struct xjk_lb_req req = {.routes = r, .sticky_force = force};

	for (; routes && routes[req.n_routes]; req.n_routes++) {
		int i = req.n_routes;
		size_t len = strlen(routes[i]);
		memcpy(text[i], routes[i], len);
		memcpy(text[i] + len, ".tail", 6);
		r[i] = (struct xjk_str){text[i], (uint32_t)len};
	}
	req.has_session = req.n_routes > 0;
	return xjk_lb_choose(lb->c, lb->n, &req, ch);
}

static const char *const *R(const char *const *list)
{
	return list;
}
#define ROUTES(...) R((const char *const[]){__VA_ARGS__, NULL})

static void test_mults(void **state)
{
	(void)state;
	uint32_t m[6];

	xjk_lb_mults((const int[]){1, 2, 3}, 3, m);
	assert_int_equal(m[0], 6);
	assert_int_equal(m[1], 3);
	assert_int_equal(m[2], 2);
	xjk_lb_mults((const int[]){4, 6}, 2, m);
	assert_int_equal(m[0], 3);
	assert_int_equal(m[1], 2);
	/* factors below 1 count as 1 */
	xjk_lb_mults((const int[]){0, -5, 2}, 3, m);
	assert_int_equal(m[0], 2);
	assert_int_equal(m[1], 2);
	assert_int_equal(m[2], 1);

	/* LCM = 97*89*83*79*73*71 > 2^32: approximated, ratios kept to 0.1% */
	const int f[6] = {97, 89, 83, 79, 73, 71};
	xjk_lb_mults(f, 6, m);
	for (int i = 0; i < 6; i++) {
		uint64_t load = (uint64_t)m[i] * (uint64_t)f[i]; /* should be equal */
		uint64_t ref = (uint64_t)m[0] * (uint64_t)f[0];
		assert_true(load * 1000 > ref * 999 && load * 999 < ref * 1000);
	}
}

/* Simulates N requests under method R: each pick adds the member's lb_mult
 * and the caller keeps the rotating offset; returns the picks per member. */
static void simulate(struct lb *lb, const int *factors, int picks, int *count)
{
	uint32_t mult[MAXC];
	uint32_t offset = 0;

	xjk_lb_mults(factors, lb->n, mult);
	for (int i = 0; i < lb->n; i++) {
		lb->c[i].lb_mult = mult[i];
		count[i] = 0;
	}
	for (int k = 0; k < picks; k++) {
		struct xjk_lb_req req = {.offset = offset};
		struct xjk_lb_choice ch;
		int i = xjk_lb_choose(lb->c, lb->n, &req, &ch);
		assert_true(i >= 0);
		assert_false(ch.sticky);
		assert_string_equal(ch.route, lb->c[i].route);
		lb->c[i].lb_value +=
			xjk_lb_pick_cost(XJK_LB_REQUESTS, lb->c[i].lb_mult, false, false);
		offset = ch.next_offset;
		count[i]++;
	}
}

static void test_weighted_shares(void **state)
{
	(void)state;
	struct lb lb;
	int count[MAXC];

	lb_init(&lb, 2);
	simulate(&lb, (const int[]){1, 1}, 1000, count);
	assert_int_equal(count[0], 500);
	assert_int_equal(count[1], 500);

	lb_init(&lb, 2);
	simulate(&lb, (const int[]){1, 3}, 400, count);
	assert_int_equal(count[0], 100);
	assert_int_equal(count[1], 300);

	lb_init(&lb, 3);
	simulate(&lb, (const int[]){1, 2, 3}, 600, count);
	assert_int_equal(count[0], 100);
	assert_int_equal(count[1], 200);
	assert_int_equal(count[2], 300);
}

static void test_ties_and_rotation(void **state)
{
	(void)state;
	struct lb lb;
	struct xjk_lb_choice ch;
	struct xjk_lb_req req = {0};

	/* equal values and nothing added: the offset alone makes them take turns */
	lb_init(&lb, 3);
	for (int k = 0; k < 6; k++) {
		assert_int_equal(xjk_lb_choose(lb.c, lb.n, &req, &ch), k % 3);
		assert_int_equal(ch.next_offset, (k + 1) % 3);
		req.offset = ch.next_offset;
	}
	/* lower value wins; among equals the first in rotation order */
	lb.c[0].lb_value = 5;
	lb.c[1].lb_value = 3;
	lb.c[2].lb_value = 3;
	req.offset = 0;
	assert_int_equal(xjk_lb_choose(lb.c, lb.n, &req, &ch), 1);
	assert_int_equal(ch.next_offset, 2);
	req.offset = 2;
	assert_int_equal(xjk_lb_choose(lb.c, lb.n, &req, &ch), 2);
	assert_int_equal(ch.next_offset, 0);
	req.offset = 7; /* any value: taken modulo the member count */
	assert_int_equal(xjk_lb_choose(lb.c, lb.n, &req, &ch), 1);
	/* stateless requests ignore lb_value: pure rotation */
	req.stateless = true;
	req.offset = 0;
	assert_int_equal(xjk_lb_choose(lb.c, lb.n, &req, &ch), 0);
}

static void test_sticky_exact_route(void **state)
{
	(void)state;
	struct lb lb;
	struct xjk_lb_choice ch;

	lb_init(&lb, 3);
	lb.c[1].lb_value = 100; /* stickiness beats load */
	assert_int_equal(pick(&lb, ROUTES("n2"), false, &ch), 1);
	assert_true(ch.sticky);
	assert_string_equal(ch.route, "n2");
	assert_int_equal(ch.next_offset, 0); /* sticky picks leave the rotation alone */

	/* a prefix or an extension of a route is not that route */
	assert_int_equal(pick(&lb, ROUTES("n"), false, &ch), 0);
	assert_false(ch.sticky);
	assert_int_equal(pick(&lb, ROUTES("n22"), false, &ch), 0);
	assert_false(ch.sticky);

	/* routes are tried in order: the first that leads somewhere wins */
	assert_int_equal(pick(&lb, ROUTES("gone", "n3", "n2"), false, &ch), 2);
	assert_true(ch.sticky);
}

static void test_domain(void **state)
{
	(void)state;
	struct lb lb;
	struct xjk_lb_choice ch;

	lb_init(&lb, 4);
	lb.c[0].domain = lb.c[1].domain = lb.c[2].domain = "d1";
	lb.c[3].domain = "d2";
	lb.c[1].lb_value = 5;
	lb.c[2].lb_value = 2;

	/* the session's member is down: the best of its domain takes over */
	lb.c[0].state = XJK_STATE_ERR;
	assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), 2);
	assert_true(ch.sticky);
	assert_string_equal(ch.route, "d1");

	/* a session route naming a domain (part before its first '.') */
	assert_int_equal(pick(&lb, ROUTES("d1.x"), false, &ch), 2);
	assert_string_equal(ch.route, "d1");
	assert_int_equal(pick(&lb, ROUTES("d2"), false, &ch), 3);
	assert_string_equal(ch.route, "d2");

	/* domain matches take only members usable for new traffic */
	lb.c[2].activation = XJK_DISABLED;
	assert_int_equal(pick(&lb, ROUTES("d1"), false, &ch), 1);
	/* lower distance beats lower value */
	lb.c[1].distance = 1;
	lb.c[2].activation = XJK_ACTIVE;
	lb.c[2].lb_value = 50;
	assert_int_equal(pick(&lb, ROUTES("d1"), false, &ch), 2);
}

static void test_redirect(void **state)
{
	(void)state;
	struct lb lb;
	struct xjk_lb_choice ch;

	lb_init(&lb, 3);
	lb.c[0].redirect = "n3";
	lb.c[0].state = XJK_STATE_ERR;
	lb.c[2].activation = XJK_DISABLED; /* a hot standby */
	assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), 2);
	assert_true(ch.sticky);
	assert_string_equal(ch.route, "n3");

	/* a stopped standby cannot: the session goes to normal balancing */
	lb.c[2].activation = XJK_STOPPED;
	assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), 1);
	assert_false(ch.sticky);
	assert_string_equal(ch.route, "n2");

	/* redirect is preferred over the domain */
	lb.c[2].activation = XJK_ACTIVE;
	lb.c[0].domain = lb.c[1].domain = "d";
	assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), 2);
}

static void test_sticky_force(void **state)
{
	(void)state;
	struct lb lb;
	struct xjk_lb_choice ch;

	lb_init(&lb, 2);
	lb.c[0].state = XJK_STATE_ERR;
	lb.c[0].redirect = "n2";
	assert_int_equal(pick(&lb, ROUTES("n1"), true, &ch), -1);
	assert_null(ch.route);
	assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), 1);
	/* force with a usable member is plain stickiness */
	assert_int_equal(pick(&lb, ROUTES("n2"), true, &ch), 1);
	assert_true(ch.sticky);
	/* a session id without a route (or with an unknown one) fails too */
	struct xjk_lb_req req = {.has_session = true, .sticky_force = true};
	assert_int_equal(xjk_lb_choose(lb.c, lb.n, &req, &ch), -1);
	assert_int_equal(pick(&lb, ROUTES("zz"), true, &ch), -1);
	/* no session at all: normal balancing */
	assert_int_equal(pick(&lb, NULL, true, &ch), 1);
}

static void test_disabled_and_stopped(void **state)
{
	(void)state;
	struct lb lb;
	struct xjk_lb_choice ch;

	lb_init(&lb, 2);
	lb.c[0].activation = XJK_DISABLED;
	assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), 0);
	assert_true(ch.sticky);
	for (int k = 0; k < 4; k++)
		assert_int_equal(pick(&lb, NULL, false, &ch), 1);

	lb.c[0].activation = XJK_STOPPED;
	assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), 1);
	assert_false(ch.sticky);
	assert_int_equal(pick(&lb, NULL, false, &ch), 1);

	/* sticky traffic is refused in ERR and PRB even when active */
	lb.c[0].activation = XJK_ACTIVE;
	const enum xjk_worker_state bad[] = {XJK_STATE_ERR, XJK_STATE_ERR_PRB};
	for (int k = 0; k < 2; k++) {
		lb.c[0].state = bad[k];
		assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), 1);
		assert_false(ch.sticky);
	}
	/* and accepted in the recovery states and in OK/BUSY (mod_jk's
	 * JK_WORKER_USABLE_STICKY: state <= BUSY), which new traffic avoids */
	const enum xjk_worker_state good[] = {XJK_STATE_ERR_REC, XJK_STATE_OK_IDLE,
					      XJK_STATE_OK_BUSY};
	for (int k = 0; k < 3; k++) {
		lb.c[0].state = good[k];
		assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), 0);
		assert_true(ch.sticky);
	}
	for (int k = 0; k < 4; k++)
		assert_int_equal(pick(&lb, NULL, false, &ch), 1);
}

static void test_distance(void **state)
{
	(void)state;
	struct lb lb;
	struct xjk_lb_choice ch;

	lb_init(&lb, 3);
	lb.c[0].distance = 1;
	lb.c[1].distance = 0;
	lb.c[1].lb_value = 1000;
	lb.c[2].distance = 2;
	assert_int_equal(pick(&lb, NULL, false, &ch), 1);
	lb.c[1].state = XJK_STATE_ERR;
	assert_int_equal(pick(&lb, NULL, false, &ch), 0);
	lb.c[0].activation = XJK_DISABLED;
	assert_int_equal(pick(&lb, NULL, false, &ch), 2);
}

/* The caller's loop: pick, fail, mark failed_here, pick again; then force
 * recovery once when nothing is left. */
static void test_failover_and_forced_recovery(void **state)
{
	(void)state;
	struct lb lb;
	struct xjk_lb_choice ch;

	lb_init(&lb, 3);
	lb.c[2].state = XJK_STATE_ERR;
	int first = pick(&lb, ROUTES("n1"), false, &ch);
	assert_int_equal(first, 0);
	lb.c[0].failed_here = true; /* its global state stays OK */
	assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), 1);
	assert_false(ch.sticky);
	lb.c[1].failed_here = true;
	lb.c[1].state = XJK_STATE_ERR; /* this failure escalated */
	assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), -1);

	/* members in global ERR come back as ERR/FRC; local failures stay */
	assert_int_equal(xjk_lb_force_recovery(lb.c, lb.n), 2);
	assert_int_equal(lb.c[1].state, XJK_STATE_ERR_FRC);
	assert_false(lb.c[1].failed_here);
	assert_int_equal(lb.c[2].state, XJK_STATE_ERR_FRC);
	assert_true(lb.c[0].failed_here);
	assert_int_equal(lb.c[0].state, XJK_STATE_OK);
	int again = pick(&lb, NULL, false, &ch);
	assert_true(again == 1 || again == 2);
	assert_int_equal(xjk_lb_force_recovery(lb.c, lb.n), 0);
}

static void test_no_usable_member(void **state)
{
	(void)state;
	struct lb lb;
	struct xjk_lb_choice ch;

	lb_init(&lb, 3);
	for (int i = 0; i < 3; i++)
		lb.c[i].state = XJK_STATE_ERR;
	assert_int_equal(pick(&lb, NULL, false, &ch), -1);
	assert_int_equal(pick(&lb, ROUTES("n2"), false, &ch), -1);
	assert_int_equal(xjk_lb_choose(lb.c, 0, &(struct xjk_lb_req){0}, &ch), -1);

	/* last resort: the first redirect, even to a disabled member */
	lb.c[2].state = XJK_STATE_OK;
	lb.c[2].activation = XJK_DISABLED;
	lb.c[1].redirect = "n3";
	assert_int_equal(pick(&lb, NULL, false, &ch), 2);
	assert_false(ch.sticky);
	assert_string_equal(ch.route, "n3");
	/* only the first redirect counts: n1's leads to n2, which is down and
	 * has nowhere to send it, although n3 (redirecting to itself) is up */
	lb.c[0].redirect = "n2";
	lb.c[1].redirect = "";
	lb.c[2].redirect = "n3";
	assert_int_equal(pick(&lb, NULL, false, &ch), -1);
}

static void test_single_member(void **state)
{
	(void)state;
	struct lb lb;
	struct xjk_lb_choice ch;

	lb_init(&lb, 1);
	/* a lone usable member takes even a foreign session under force */
	assert_int_equal(pick(&lb, ROUTES("other"), true, &ch), 0);
	assert_false(ch.sticky);
	assert_int_equal(pick(&lb, ROUTES("n1"), true, &ch), 0);
	assert_true(ch.sticky);
	/* disabled: its own sessions only */
	lb.c[0].activation = XJK_DISABLED;
	assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), 0);
	assert_int_equal(pick(&lb, NULL, false, &ch), -1);
	lb.c[0].activation = XJK_ACTIVE;
	/* busy: still the one to wait for (mod_jk: usable for sticky traffic) */
	lb.c[0].state = XJK_STATE_OK_BUSY;
	assert_int_equal(pick(&lb, NULL, false, &ch), 0);
	lb.c[0].state = XJK_STATE_ERR;
	assert_int_equal(pick(&lb, ROUTES("n1"), false, &ch), -1);
}

static void test_costs(void **state)
{
	(void)state;
	/* method: R, T, B, S, N */
	assert_int_equal(xjk_lb_pick_cost(XJK_LB_REQUESTS, 3, true, true), 3);
	assert_int_equal(xjk_lb_pick_cost(XJK_LB_TRAFFIC, 3, false, false), 0);
	assert_int_equal(xjk_lb_pick_cost(XJK_LB_BUSYNESS, 3, true, false), 3);
	for (int m = XJK_LB_SESSIONS; m <= XJK_LB_NEXT; m++) {
		assert_int_equal(xjk_lb_pick_cost(m, 3, false, false), 3);
		assert_int_equal(xjk_lb_pick_cost(m, 3, true, false), 0);
		assert_int_equal(xjk_lb_pick_cost(m, 3, false, true), 0);
	}
	assert_int_equal(xjk_lb_done_delta(XJK_LB_TRAFFIC, 3, 1000), 3000);
	assert_int_equal(xjk_lb_done_delta(XJK_LB_TRAFFIC, 3, UINT64_MAX / 2), INT64_MAX);
	assert_int_equal(xjk_lb_done_delta(XJK_LB_BUSYNESS, 3, 1000), -3);
	assert_int_equal(xjk_lb_done_delta(XJK_LB_REQUESTS, 3, 1000), 0);
	assert_int_equal(xjk_lb_done_delta(XJK_LB_SESSIONS, 3, 1000), 0);
	assert_int_equal(xjk_lb_done_delta(XJK_LB_NEXT, 3, 1000), 0);
}

static void set_values(struct lb *lb, uint64_t a, uint64_t b, uint64_t c)
{
	lb->c[0].lb_value = a;
	lb->c[1].lb_value = b;
	lb->c[2].lb_value = c;
}

static void test_decay(void **state)
{
	(void)state;
	struct lb lb;

	lb_init(&lb, 3);
	set_values(&lb, 40, 21, 8);
	assert_int_equal(xjk_lb_decay(XJK_LB_REQUESTS, lb.c, 3, 2), 10);
	assert_int_equal(lb.c[1].lb_value, 5);
	assert_int_equal(lb.c[2].lb_value, 2);
	assert_int_equal(xjk_lb_decay(XJK_LB_TRAFFIC, lb.c, 3, 64), 0);

	/* Busyness counts requests in flight: never decays */
	set_values(&lb, 4, 2, 0);
	assert_int_equal(xjk_lb_decay(XJK_LB_BUSYNESS, lb.c, 3, 3), 4);
	assert_int_equal(lb.c[1].lb_value, 2);

	/* Next drops the floor of the usable members, keeping the spread */
	set_values(&lb, 12, 10, 3);
	lb.c[2].state = XJK_STATE_ERR;
	assert_int_equal(xjk_lb_decay(XJK_LB_NEXT, lb.c, 3, 5), 2);
	assert_int_equal(lb.c[0].lb_value, 2);
	assert_int_equal(lb.c[1].lb_value, 0);
	assert_int_equal(lb.c[2].lb_value, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mults),
		cmocka_unit_test(test_weighted_shares),
		cmocka_unit_test(test_ties_and_rotation),
		cmocka_unit_test(test_sticky_exact_route),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_sticky_force),
		cmocka_unit_test(test_disabled_and_stopped),
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_failover_and_forced_recovery),
		cmocka_unit_test(test_no_usable_member),
		cmocka_unit_test(test_single_member),
		cmocka_unit_test(test_costs),
		cmocka_unit_test(test_decay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
