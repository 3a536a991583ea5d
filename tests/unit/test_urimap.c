/* test_urimap.c: mod_jk's URI map precedence, exclusions, extensions and
 * URI normalisation (urimap.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cfg_fixture.h"
#include "urimap.h"

static char err[512];
static struct xjk_workers workers;

static const char workers_text[] = "worker.list=a,b,lb,jk\n"
				   "worker.a.port=8009\n"
				   "worker.b.port=8010\n"
				   "worker.m1.port=8011\n"
				   "worker.m2.port=8012\n"
				   "worker.lb.type=lb\n"
				   "worker.lb.balance_workers=m1,m2\n"
				   "worker.jk.type=status\n";

static int setup(void **state)
{
	if (fx_setup(state))
		return -1;
	return fx_workers(&workers, workers_text, err, sizeof(err));
}

static int teardown(void **state)
{
	xjk_workers_free(&workers);
	return fx_teardown(state);
}

struct rule {
	const char *uri, *worker;
	enum xjk_mount_source source;
};

static struct xjk_urimap *build(const struct rule *rules, size_t n)
{
	struct xjk_urimap *m = xjk_urimap_new();
	for (size_t i = 0; i < n; i++)
		assert_int_equal(
			xjk_urimap_add(m, rules[i].uri, rules[i].worker,
				       rules[i].source ? rules[i].source : XJK_MOUNT_JKMOUNT,
				       "m.conf", (int)i + 1, err, sizeof(err)),
			0);
	assert_int_equal(xjk_urimap_resolve(m, &workers, err, sizeof(err)), 0);
	return m;
}

/* The worker a path maps to, "-" for none, and the line of the winning rule. */
static const char *target(const struct xjk_urimap *m, const char *path, int *line)
{
	const struct xjk_mount *r = xjk_urimap_match(m, path);
	if (line)
		*line = r ? r->line : 0;
	return r ? r->worker : "-";
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_normalize(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"/", "/"},
		{"/a/b", "/a/b"},
		{"/a/b/", "/a/b/"},
		{"//a///b", "/a/b"},
		{"/a/./b", "/a/b"},
		{"/a/.", "/a/"},
		{"/./", "/"},
		{"/a/b/../c", "/a/c"},
		{"/a/b/..", "/a/"},
		{"/a/..", "/"},
		{"/a;jsessionid=1.n1/b;x=y", "/a/b"},
		{"/a/b;p", "/a/b"},
		{"/;p/a", "/a"},
		{"/a/.;x/b", "/a/b"},
		{"/a/..;x/b", "/b"},
		{"/a/...", "/a/..."},
		{"/.hidden/x", "/.hidden/x"},
		{"/a//../b", "/b"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		assert_int_equal(xjk_uri_normalize(buf), 0);
		if (strcmp(buf, cases[i].out))
			fail_msg("'%s' -> '%s', want '%s'", cases[i].in, buf, cases[i].out);
	}
	static const char *const bad[] = {"/..", "/../a", "/a/../..", "/a/../../b",
					  "a/b", "",	  "/;x/.."};
	for (size_t i = 0; i < N(bad); i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		if (xjk_uri_normalize(buf) != -1)
			fail_msg("'%s' should be rejected", bad[i]);
	}
}

static void test_wildcards(void **state)
{
	(void)state;
	assert_true(xjk_urimap_wildcard_match("/*", "/"));
	assert_true(xjk_urimap_wildcard_match("/*", "/a/b/c"));
	assert_true(xjk_urimap_wildcard_match("/app/*", "/app/x/y.jsp"));
	assert_false(xjk_urimap_wildcard_match("/app/*", "/app"));
	assert_true(xjk_urimap_wildcard_match("/*.jsp", "/a/b.jsp"));
	assert_false(xjk_urimap_wildcard_match("/*.jsp", "/a/b.jspx"));
	assert_true(xjk_urimap_wildcard_match("/*.*", "/index.html"));
	assert_true(xjk_urimap_wildcard_match("/*.*", "/dir.d/file"));
	assert_false(xjk_urimap_wildcard_match("/*.*", "/dir/file"));
	assert_true(xjk_urimap_wildcard_match("/a?c", "/abc"));
	assert_false(xjk_urimap_wildcard_match("/a?c", "/ac"));
	assert_true(xjk_urimap_wildcard_match("/a*b*c", "/aXbYbZc"));
	assert_false(xjk_urimap_wildcard_match("/a*b*c", "/aXbYbZ"));
	assert_false(xjk_urimap_wildcard_match("/App/*", "/app/x")); /* case-sensitive */
}

static void test_exact_and_precedence(void **state)
{
	(void)state;
	static const struct rule rules[] = {
		{"/*", "a", 0},	    {"/app/*", "b", 0},	 {"/app/x/*", "lb", 0},
		{"/*.jsp", "b", 0}, {"/login", "lb", 0},
	};
	struct xjk_urimap *m = build(rules, N(rules));
	int line;
	assert_string_equal(target(m, "/app/x/y", &line), "lb"); /* most '/' */
	assert_int_equal(line, 3);
	assert_string_equal(target(m, "/app/y", NULL), "b");
	assert_string_equal(target(m, "/app", NULL), "a");   /* /app/ * is not /app */
	assert_string_equal(target(m, "/x.jsp", NULL), "b"); /* longer of equal '/' */
	assert_string_equal(target(m, "/login", NULL), "lb");
	assert_string_equal(target(m, "/login/", NULL), "a"); /* exact means exact */
	/* The result carries the resolved worker. */
	const struct xjk_mount *r = xjk_urimap_match(m, "/login");
	assert_int_equal(r->ref.type, XJK_WORKER_LB);
	assert_string_equal(workers.lbs[r->ref.index].name, "lb");
	xjk_urimap_free(m);
}

static void test_source_order(void **state)
{
	(void)state;
	static const struct rule rules[] = {
		{"/s/*", "a", XJK_MOUNT_WORKERDEF}, {"/s/*", "b", XJK_MOUNT_JKMOUNT},
		{"/t/*", "a", XJK_MOUNT_JKMOUNT},   {"/t/*", "b", XJK_MOUNT_URIMAP},
		{"/u/*", "a", XJK_MOUNT_WORKERDEF}, {"/u/*", "b", XJK_MOUNT_URIMAP},
	};
	struct xjk_urimap *m = build(rules, N(rules));
	assert_string_equal(target(m, "/s/1", NULL), "b");
	assert_string_equal(target(m, "/t/1", NULL), "b");
	assert_string_equal(target(m, "/u/1", NULL), "b");
	xjk_urimap_free(m);
}

static void test_exclusions_and_disabled(void **state)
{
	(void)state;
	static const struct rule rules[] = {
		{"/app/*", "a", 0},
		{"/*", "b", 0},
		{"!/app/static/*", "a", 0},
		{"!/*.gif", "b", 0}, /* only vetoes matches for worker b */
		{"!/*.png", "*", 0},
		{"-!/app/keep/*", "a", 0}, /* disabled exclusion */
		{"-/app/off/*", "b", 0},   /* disabled rule */
	};
	struct xjk_urimap *m = build(rules, N(rules));
	assert_string_equal(target(m, "/app/x", NULL), "a");
	/* Excluded: no fallback to the /  * rule that would also match. */
	assert_string_equal(target(m, "/app/static/s.css", NULL), "-");
	assert_string_equal(target(m, "/app/i.gif", NULL), "a");
	assert_string_equal(target(m, "/i.gif", NULL), "-");
	assert_string_equal(target(m, "/app/i.png", NULL), "-");
	assert_string_equal(target(m, "/i.png", NULL), "-");
	assert_string_equal(target(m, "/app/keep/k", NULL), "a");
	assert_string_equal(target(m, "/app/off/o", NULL), "a");
	xjk_urimap_free(m);
}

static void test_bar_expansion(void **state)
{
	(void)state;
	static const struct rule rules[] = {
		{"/app|/*", "a", 0}, {"!/x|/y", "a", 0}, {"/*", "b", 0}};
	struct xjk_urimap *m = build(rules, N(rules));
	assert_int_equal(m->n, 5);
	assert_string_equal(target(m, "/app", NULL), "a");
	assert_string_equal(target(m, "/app/", NULL), "a");
	assert_string_equal(target(m, "/app/q", NULL), "a");
	assert_string_equal(target(m, "/appx", NULL), "b");
	xjk_urimap_free(m);
}

static void test_extensions(void **state)
{
	(void)state;
	static const struct rule rules[] = {
		{"/e/*",
		 "lb;reply_timeout=5000;sticky_ignore=1;stateless=1;use_server_errors=500;"
		 "fail_on_status=500,-503;session_cookie=SID;session_path=;sid;"
		 "disabled=m2;stopped=m1,ghost;bogus=1",
		 0},
		{"/f/*", "a;active=m1;session_cookie=X", 0},
		{"/g/*", "a", 0},
	};
	struct xjk_urimap *m = build(rules, N(rules));
	const struct xjk_mount *e = xjk_urimap_match(m, "/e/1");
	assert_string_equal(e->worker, "lb");
	assert_int_equal(e->ext.reply_timeout, 5000);
	assert_true(e->ext.sticky_ignore);
	assert_true(e->ext.stateless);
	assert_int_equal(e->ext.use_server_errors, 500);
	assert_int_equal(e->ext.n_fail_on_status, 2);
	assert_int_equal(e->ext.fail_on_status[1], -503);
	assert_string_equal(e->ext.session_cookie, "SID");
	assert_string_equal(e->ext.session_path, ";sid");
	assert_non_null(e->ext.activation);
	assert_int_equal(e->ext.activation[0], XJK_STOPPED);
	assert_int_equal(e->ext.activation[1], XJK_DISABLED);
	assert_true(fx_logged("m.conf:1: unknown rule extension 'bogus=1'"));
	assert_true(fx_logged("m.conf:1: could not find member ghost of load balancer lb"));
	assert_true(fx_logged("m.conf:2: worker 'a' is not of type lb; activation extension"));
	assert_true(fx_logged("m.conf:2: worker 'a' is not of type lb; session extensions"));
	const struct xjk_mount *g = xjk_urimap_match(m, "/g/1");
	assert_int_equal(g->ext.reply_timeout, -1);
	assert_int_equal(g->ext.n_fail_on_status, 0);
	assert_null(g->ext.activation);
	xjk_urimap_free(m);
}

static void test_errors(void **state)
{
	(void)state;
	struct xjk_urimap *m = xjk_urimap_new();
	assert_int_equal(xjk_urimap_add(m, "app/*", "a", XJK_MOUNT_URIMAP, "u.properties", 4, err,
					sizeof(err)),
			 -1);
	assert_string_equal(err, "u.properties:4: invalid URI pattern 'app/*': does not begin "
				 "with '/'");
	assert_int_equal(
		xjk_urimap_add(m, "/x", "nope", XJK_MOUNT_JKMOUNT, "m.conf", 9, err, sizeof(err)),
		0);
	assert_int_equal(xjk_urimap_resolve(m, &workers, err, sizeof(err)), -1);
	assert_string_equal(err, "m.conf:9: Could not find worker with name 'nope'");
	xjk_urimap_free(m);

	/* lb members exist but are not in worker.list, so they cannot be mounted. */
	m = xjk_urimap_new();
	assert_int_equal(
		xjk_urimap_add(m, "/x", "m1", XJK_MOUNT_JKMOUNT, "m.conf", 3, err, sizeof(err)), 0);
	assert_int_equal(xjk_urimap_resolve(m, &workers, err, sizeof(err)), -1);
	assert_string_equal(err, "m.conf:3: Could not find worker with name 'm1'");
	xjk_urimap_free(m);
}

/* A configuration without any mount (found by tests/fuzz/fuzz_urimap.c: the
 * empty rule array went to qsort as NULL, undefined behaviour under UBSan). */
static void test_empty_map(void **state)
{
	(void)state;
	struct xjk_urimap *m = build(NULL, 0);
	assert_string_equal(target(m, "/app/x", NULL), "-");
	xjk_urimap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test_setup_teardown(test_exact_and_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusions_and_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_expansion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extensions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_map, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
