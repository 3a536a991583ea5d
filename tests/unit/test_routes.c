/* test_routes.c: the route table over real worker state (wstate.c): a failed
 * member's route goes to its redirect, else the best member of its domain,
 * else the lb choice, and comes back on recovery; the lb choice of a request
 * follows the table; the wstate map's accept flag; the route hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "routes.h"
#include "wstate.h"

enum { A, B, C, D, N };

static struct xjk_backend backends[N];
static int members[N] = {A, B, C, D};
static struct xjk_lb lb = {
	.name = "lb",
	.members = members,
	.n_members = N,
	.sticky_session = true,
};
static struct xjk_workers workers = {.backends = backends, .n_backends = N, .lbs = &lb, .n_lbs = 1};

/* a redirects to c; b and c share domain "dom"; d has neither. */
static int setup(void **state)
{
	static const char *const names[N] = {"a", "b", "c", "d"};

	(void)state;
	memset(backends, 0, sizeof(backends));
	for (int i = 0; i < N; i++) {
		strcpy(backends[i].name, names[i]);
		strcpy(backends[i].route, names[i]);
		backends[i].type = XJK_WORKER_HTTP;
		backends[i].lbfactor = 1;
	}
	strcpy(backends[A].redirect, "c");
	strcpy(backends[B].domain, "dom");
	strcpy(backends[C].domain, "dom");
	if (xjk_wstate_init(&workers) < 0 || xjk_routes_init(&workers) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xjk_routes_free();
	xjk_wstate_free();
	return 0;
}

static const char *resolved(const char *route)
{
	struct xjk_str in = {route, (uint32_t)strlen(route)}, out;
	static char buf[XJK_NAME_MAX];

	xjk_routes_resolve(0, &in, 1, &out);
	memcpy(buf, out.p, out.len);
	buf[out.len] = 0;
	return buf;
}

static void test_healthy_routes_point_home(void **state)
{
	(void)state;
	for (int m = 0; m < N; m++)
		assert_int_equal(xjk_routes_target(0, m), m);
	assert_string_equal(resolved("b"), "b");
	assert_string_equal(resolved("nosuch"), "nosuch");
}

static void test_failed_member_goes_to_redirect_then_back(void **state)
{
	struct xjk_str route = {"a", 1};
	struct xjk_choice choice;

	(void)state;
	xjk_wstate_report(A, XJK_CAUSE_CONNECT, "refused");
	assert_int_equal(xjk_routes_target(0, A), C);
	assert_string_equal(resolved("a"), "c");
	assert_int_equal(xjk_wstate_choose(0, &route, 1, true, 0, &choice), 0);
	assert_int_equal(choice.backend, C);
	assert_true(choice.sticky);

	xjk_wstate_set_down(A, false, XJK_CAUSE_HEALTH, NULL);
	assert_int_equal(xjk_routes_target(0, A), A);
	assert_string_equal(resolved("a"), "a");
}

static void test_failed_member_goes_to_its_domain(void **state)
{
	(void)state;
	xjk_wstate_report(B, XJK_CAUSE_TIMEOUT, "connect timeout");
	assert_int_equal(xjk_routes_target(0, B), C);
}

static void test_no_redirect_or_domain_takes_the_lb_choice(void **state)
{
	(void)state;
	xjk_wstate_report(D, XJK_CAUSE_RESET, "reset");
	int t = xjk_routes_target(0, D);
	assert_int_not_equal(t, D);
	/* the rotation starts after d: a, the first usable one */
	assert_int_equal(t, A);
	/* when a fails too, a's sessions and d's move on */
	xjk_wstate_report(A, XJK_CAUSE_CONNECT, "refused");
	assert_int_equal(xjk_routes_target(0, D), B);
	assert_int_equal(xjk_routes_target(0, A), C);
}

static void test_everyone_failed_keeps_routes(void **state)
{
	(void)state;
	for (int i = 0; i < N; i++)
		xjk_wstate_report(i, XJK_CAUSE_CONNECT, "refused");
	for (int m = 0; m < N; m++)
		assert_int_equal(xjk_routes_target(0, m), m);
}

static void test_disabled_member_keeps_its_sessions(void **state)
{
	(void)state;
	xjk_wstate_set_activation(C, XJK_DISABLED, XJK_CAUSE_OPERATOR);
	assert_int_equal(xjk_routes_target(0, C), C);
	xjk_wstate_set_activation(C, XJK_STOPPED, XJK_CAUSE_OPERATOR);
	assert_int_equal(xjk_routes_target(0, C), B); /* its domain */
}

static void test_accepts(void **state)
{
	(void)state;
	assert_true(xjk_routes_accepts(XJK_STATE_OK, XJK_ACTIVE));
	assert_true(xjk_routes_accepts(XJK_STATE_OK_IDLE, XJK_ACTIVE));
	assert_true(xjk_routes_accepts(XJK_STATE_ERR_REC, XJK_ACTIVE));
	assert_false(xjk_routes_accepts(XJK_STATE_ERR, XJK_ACTIVE));
	assert_false(xjk_routes_accepts(XJK_STATE_ERR_PRB, XJK_ACTIVE));
	assert_false(xjk_routes_accepts(XJK_STATE_OK, XJK_DISABLED));
	assert_false(xjk_routes_accepts(XJK_STATE_OK, XJK_STOPPED));
}

static void test_hash_is_fnv1a_64(void **state)
{
	(void)state;
	assert_true(xjk_routes_hash("", 0) == 0xcbf29ce484222325ull);
	assert_true(xjk_routes_hash("a", 1) == 0xaf63dc4c8601ec8cull);
	assert_true(xjk_routes_hash("foobar", 6) == 0x85944171f73967e8ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_healthy_routes_point_home, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_member_goes_to_redirect_then_back,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_member_goes_to_its_domain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_redirect_or_domain_takes_the_lb_choice,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_everyone_failed_keeps_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_member_keeps_its_sessions, setup,
						teardown),
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_hash_is_fnv1a_64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
