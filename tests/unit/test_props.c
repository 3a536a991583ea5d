/* test_props.c: mod_jk's workers.properties dialect (props.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cfg_fixture.h"

static char err[512];

static const char *val(const struct xjk_props *p, const char *key)
{
	const struct xjk_prop *prop = xjk_props_get(p, key);
	return prop ? prop->value : NULL;
}

static void test_comment_ends_line_anywhere(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(fx_props(&p,
				  "worker.a.port=8009       #comment\n"
				  "  # whole line\n"
				  "worker.a.secret=abc#def\n",
				  err, sizeof(err)),
			 0);
	assert_string_equal(val(&p, "worker.a.port"), "8009");
	assert_string_equal(val(&p, "worker.a.secret"), "abc");
	assert_int_equal(p.n, 2);
	xjk_props_free(&p);
}

static void test_trim_and_first_equals(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(
		fx_props(&p, "  worker.a.route =  r1 = x \t\r\nfree.var=1\r\n", err, sizeof(err)),
		0);
	assert_string_equal(val(&p, "worker.a.route"), "r1 = x");
	assert_string_equal(val(&p, "free.var"), "1");
	xjk_props_free(&p);
}

static void test_no_continuation_and_ignored_lines(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(fx_props(&p,
				  "worker.a.host=h \\\n"
				  "worker.a.port=1\n"
				  "no equals sign here\n"
				  "worker.b.host=\n"
				  "worker.b.route=   \n"
				  "=value without key\n",
				  err, sizeof(err)),
			 0);
	assert_string_equal(val(&p, "worker.a.host"), "h \\");
	assert_string_equal(val(&p, "worker.a.port"), "1");
	assert_null(val(&p, "worker.b.host"));
	assert_null(val(&p, "worker.b.route"));
	assert_int_equal(p.n, 2);
	xjk_props_free(&p);
}

static void test_list_properties_concatenate(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(fx_props(&p,
				  "worker.list=a\n"
				  "worker.list=b, c\n"
				  "worker.lb.balance_workers=m1\n"
				  "worker.lb.balance_workers=m2\n"
				  "worker.lb.balanced_workers=o1\n"
				  "worker.lb.balanced_workers=o2\n"
				  "worker.a.mount=/x\n"
				  "worker.a.mount=/y\n"
				  "worker.a.fail_on_status=500\n"
				  "worker.a.fail_on_status=-404\n"
				  "worker.s.user=u1\n"
				  "worker.s.user=u2\n",
				  err, sizeof(err)),
			 0);
	assert_string_equal(val(&p, "worker.list"), "a,b, c");
	assert_string_equal(val(&p, "worker.lb.balance_workers"), "m1,m2");
	assert_string_equal(val(&p, "worker.lb.balanced_workers"), "o1,o2");
	assert_string_equal(val(&p, "worker.a.mount"), "/x,/y");
	assert_string_equal(val(&p, "worker.a.fail_on_status"), "500,-404");
	assert_string_equal(val(&p, "worker.s.user"), "u1,u2");
	xjk_props_free(&p);
}

static void test_unique_last_wins_with_warning(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(fx_props(&p, "worker.a.port=1\nworker.a.port=2\n", err, sizeof(err)), 0);
	assert_string_equal(val(&p, "worker.a.port"), "2");
	assert_int_equal(xjk_props_get(&p, "worker.a.port")->line, 2);
	assert_true(fx_logged("t.properties:2: duplicate key 'worker.a.port'"));
	xjk_props_free(&p);
}

static void test_other_duplicates_join_like_mod_jk(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(fx_props(&p,
				  "free=a\nfree=b\n"
				  "worker.j.class_path=/a\nworker.j.class_path=/b\n"
				  "worker.j.cmd_line=-x\nworker.j.cmd_line=-y\n",
				  err, sizeof(err)),
			 0);
	assert_string_equal(val(&p, "free"), "a*b");
	assert_string_equal(val(&p, "worker.j.class_path"), "/a:/b");
	assert_string_equal(val(&p, "worker.j.cmd_line"), "-x -y");
	xjk_props_free(&p);
}

static void test_plain_mode_replaces(void **state)
{
	(void)state;
	struct xjk_props p;
	xjk_props_init(&p, XJK_PROPS_PLAIN);
	assert_int_equal(xjk_props_add_line(&p, "/app/*=a", "u", 1, err, sizeof(err)), 0);
	assert_int_equal(xjk_props_add_line(&p, "/app/*=b", "u", 2, err, sizeof(err)), 0);
	assert_string_equal(val(&p, "/app/*"), "b");
	assert_true(fx_logged("u:2: duplicate key '/app/*'"));
	xjk_props_free(&p);
}

static void test_substitution(void **state)
{
	(void)state;
	struct xjk_props p;
	setenv("XJK_TEST_PORT", "8111", 1);
	unsetenv("XJK_TEST_UNDEFINED");
	assert_int_equal(fx_props(&p,
				  "base=tc\n"
				  "loop=$(loop)x\n"
				  "worker.$(base).host=$(base)-host\n"
				  "worker.a.port=$(XJK_TEST_PORT)\n"
				  "worker.a.route=$(XJK_TEST_UNDEFINED)/$(base)\n"
				  "worker.a.domain=$(later)\n"
				  "later=1\n"
				  "worker.a.redirect=$(loop)\n",
				  err, sizeof(err)),
			 0);
	/* Keys are not substituted, values are. */
	assert_string_equal(val(&p, "worker.$(base).host"), "tc-host");
	assert_string_equal(val(&p, "worker.a.port"), "8111");
	assert_string_equal(val(&p, "worker.a.route"), "$(XJK_TEST_UNDEFINED)/tc");
	assert_string_equal(val(&p, "worker.a.domain"), "$(later)");
	assert_string_equal(val(&p, "loop"), "$(loop)x");
	/* A substituted value is not scanned again. */
	assert_string_equal(val(&p, "worker.a.redirect"), "$(loop)x");
	xjk_props_free(&p);
}

static void test_reference_inheritance(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(fx_props(&p,
				  "worker.castor.reference=worker.pollux\n"
				  "worker.castor.port=1\n"
				  "worker.pollux.reference=worker.base\n"
				  "worker.pollux.port=2\n"
				  "worker.pollux.host=h2\n"
				  "worker.base.socket_keepalive=true\n"
				  "worker.base.host=h0\n",
				  err, sizeof(err)),
			 0);
	assert_string_equal(val(&p, "worker.castor.port"), "1");
	assert_string_equal(val(&p, "worker.castor.host"), "h2");
	assert_string_equal(val(&p, "worker.castor.socket_keepalive"), "true");
	assert_string_equal(val(&p, "worker.castor.reference"), "worker.pollux");
	assert_string_equal(val(&p, "worker.pollux.socket_keepalive"), "true");
	/* An inherited property keeps the location it was written at. */
	assert_int_equal(xjk_props_get(&p, "worker.castor.host")->line, 5);
	xjk_props_free(&p);
}

/* Found by fuzz_workers: a prefix nested inside the one it refers to
 * (worker.t.x refers to worker.t) used to inherit its own reference again on
 * every pass and never finished. */
static void test_reference_nested_prefix(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(fx_props(&p,
				  "worker.t.host=h\n"
				  "worker.t.x.reference=worker.t\n",
				  err, sizeof(err)),
			 0);
	assert_string_equal(val(&p, "worker.t.x.host"), "h");
	assert_null(xjk_props_get(&p, "worker.t.x.x.reference"));
	xjk_props_free(&p);
}

static void test_reference_errors(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(
		fx_props(&p, "worker.a.port=1\nworker.a.reference=worker.nope\n", err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "t.properties:2: Reference 'worker.nope' not found"));
	xjk_props_free(&p);
	assert_int_equal(fx_props(&p,
				  "worker.a.reference=worker.b\n"
				  "worker.b.reference=worker.a\n",
				  err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "recursion limit 20"));
	xjk_props_free(&p);
}

static void test_integers(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(
		fx_props(&p, "a=64k\nb=2K\nc=1m\nd=3M\ne=-5\nf=12x\ng=k\n", err, sizeof(err)), 0);
	assert_int_equal(xjk_props_int(xjk_props_get(&p, "a"), 0), 65536);
	assert_int_equal(xjk_props_int(xjk_props_get(&p, "b"), 0), 2048);
	assert_int_equal(xjk_props_int(xjk_props_get(&p, "c"), 0), 1048576);
	assert_int_equal(xjk_props_int(xjk_props_get(&p, "d"), 0), 3145728);
	assert_int_equal(xjk_props_int(xjk_props_get(&p, "e"), 0), -5);
	assert_int_equal(xjk_props_int(xjk_props_get(&p, "f"), 7), 7);
	assert_true(fx_logged("t.properties:6: '12x' is not a number for f"));
	assert_int_equal(xjk_props_int(xjk_props_get(&p, "g"), 9), 9);
	assert_int_equal(xjk_props_int(NULL, 42), 42);
	xjk_props_free(&p);
}

static void test_booleans(void **state)
{
	(void)state;
	const char *yes[] = {"on", "ON", "true", "True", "yes", "Y", "1"};
	const char *no[] = {"off", "Off", "false", "F", "no", "N", "0"};
	const char *neither[] = {"", "2", "10", "maybe", "01"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		assert_true(xjk_props_parse_bool(yes[i], false));
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		assert_false(xjk_props_parse_bool(no[i], true));
	for (size_t i = 0; i < sizeof(neither) / sizeof(*neither); i++) {
		assert_true(xjk_props_parse_bool(neither[i], true));
		assert_false(xjk_props_parse_bool(neither[i], false));
	}
}

static void test_attribute_validation(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(fx_props(&p, "worker.a.port=1\n\nworker.a.foo=2\nworker.b.port=3\n", err,
				  sizeof(err)),
			 -1);
	assert_non_null(
		strstr(err, "t.properties:3: The attribute 'worker.a.foo' is not supported"));
	/* Reading stopped at the bad line, as in mod_jk. */
	assert_null(val(&p, "worker.b.port"));
	xjk_props_free(&p);

	/* Dotted worker names, free variables, globals and deprecated names pass. */
	assert_int_equal(fx_props(&p,
				  "worker.tomcat-6.0.26-1.port=8009\n"
				  "my.free.variable=x\n"
				  "worker.maintain=30\n"
				  "worker.a.cachesize=10\n",
				  err, sizeof(err)),
			 0);
	assert_string_equal(val(&p, "worker.tomcat-6.0.26-1.port"), "8009");
	assert_true(fx_logged("t.properties:4: the attribute 'worker.a.cachesize' is deprecated"));
	xjk_props_free(&p);

	/* mod_jk's suffix rule accepts "worker.port" too (it ends in ".port"). */
	assert_int_equal(fx_props(&p, "worker.port=1\n", err, sizeof(err)), 0);
	xjk_props_free(&p);
}

static void test_line_too_long(void **state)
{
	(void)state;
	struct xjk_props p;
	char line[XJK_PROPS_LINE_MAX + 16];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	xjk_props_init(&p, XJK_PROPS_WORKERS);
	assert_int_equal(xjk_props_add_line(&p, line, "f", 7, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "f:7: line too long"));
	xjk_props_free(&p);
}

static void test_no_break_spaces(void **state)
{
	(void)state;
	struct xjk_props p;
	assert_int_equal(fx_props(&p,
				  "worker.list = a,b\xc2\xa0 #c\n"
				  "worker.a.host=localhost\xc2\xa0 \xc2\xa0 #c\n",
				  err, sizeof(err)),
			 0);
	assert_string_equal(val(&p, "worker.list"), "a,b");
	assert_string_equal(val(&p, "worker.a.host"), "localhost");
	assert_true(fx_logged("t.properties:1: no-break spaces (U+00A0)"));
	xjk_props_free(&p);
}

static void test_split(void **state)
{
	(void)state;
	int n;
	char **v = xjk_props_split(" a,b\t c,,d ", &n);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[3], "d");
	xjk_props_split_free(v, n);
	v = xjk_props_split("", &n);
	assert_int_equal(n, 0);
	xjk_props_split_free(v, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_comment_ends_line_anywhere, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_trim_and_first_equals, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_continuation_and_ignored_lines, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_list_properties_concatenate, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_unique_last_wins_with_warning, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_other_duplicates_join_like_mod_jk, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_plain_mode_replaces, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_substitution, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reference_inheritance, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reference_nested_prefix, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_reference_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_integers, fx_setup, fx_teardown),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test_setup_teardown(test_attribute_validation, fx_setup, fx_teardown),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test_setup_teardown(test_no_break_spaces, fx_setup, fx_teardown),
		cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
