/* test_lifecycle.c: the path a reload executes, made absolute at start-up
 * from the one this process was executed by. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lifecycle.h"

static void test_absolute_kept(void **state)
{
	char out[PATH_MAX];

	(void)state;
	/* A link is not resolved: after an upgrade it may name the new binary. */
	assert_int_equal(xjk_reload_exe_path("/usr/sbin/xjkd", "/srv", out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/sbin/xjkd");
	assert_int_equal(xjk_reload_exe_path("/usr/sbin/xjkd", NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/sbin/xjkd");
}

static void test_relative_joined(void **state)
{
	char out[PATH_MAX];

	(void)state;
	assert_int_equal(xjk_reload_exe_path("build/xjkd", "/work/main", out, sizeof(out)), 0);
	assert_string_equal(out, "/work/main/build/xjkd");
	assert_int_equal(xjk_reload_exe_path("./xjkd", "/opt/xjk/sbin", out, sizeof(out)), 0);
	assert_string_equal(out, "/opt/xjk/sbin/xjkd");
	assert_int_equal(xjk_reload_exe_path("././sbin/xjkd", "/opt/xjk", out, sizeof(out)), 0);
	assert_string_equal(out, "/opt/xjk/sbin/xjkd");
	assert_int_equal(xjk_reload_exe_path("../sbin/xjkd", "/opt/xjk/etc", out, sizeof(out)), 0);
	assert_string_equal(out, "/opt/xjk/etc/../sbin/xjkd");
	/* Without the start-up directory a relative path means nothing. */
	assert_int_equal(xjk_reload_exe_path("build/xjkd", NULL, out, sizeof(out)), -1);
}

/* A bare name was found in a search path (valgrind's own PATH search leaves
 * one): the fallback is /proc/self/exe, not a guess. */
static void test_unresolvable(void **state)
{
	char out[PATH_MAX];

	(void)state;
	assert_int_equal(xjk_reload_exe_path("xjkd", "/work/main", out, sizeof(out)), -1);
	assert_int_equal(xjk_reload_exe_path("", "/work/main", out, sizeof(out)), -1);
	assert_int_equal(xjk_reload_exe_path(NULL, "/work/main", out, sizeof(out)), -1);
}

static void test_too_long(void **state)
{
	char out[16];

	(void)state;
	/* 15 characters and the NUL fit exactly; one more does not. */
	assert_int_equal(xjk_reload_exe_path("/usr/sbin/xjkd1", NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/sbin/xjkd1");
	assert_int_equal(xjk_reload_exe_path("/usr/sbin/xjkd12", NULL, out, sizeof(out)), -1);
	assert_int_equal(xjk_reload_exe_path("sbin/xjkd", "/usr/lib", out, sizeof(out)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absolute_kept),
		cmocka_unit_test(test_relative_joined),
		cmocka_unit_test(test_unresolvable),
		cmocka_unit_test(test_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
