/* test_bpffs.c: choosing the BPF pin directory (XjkBpfDir, xjkctl --pin-dir,
 * $XJK_BPF_DIR, the default) and the pin paths built from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bpffs.h"
#include "cfg_fixture.h"
#include "config.h"
#include "xjk_bpf.h"

static void test_dir_check(void **state)
{
	char err[160], longname[XJK_BPFFS_DIR_MAX + 8];

	(void)state;
	assert_int_equal(xjk_bpffs_dir_check("/sys/fs/bpf/xjk", err, sizeof(err)), 0);
	assert_int_equal(xjk_bpffs_dir_check("/sys/fs/bpf/xjk-lab7", err, sizeof(err)), 0);
	const char *bad[] = {"xjk",	      "/sys/fs/bpf",	  "/sys/fs/bpf/",
			     "/tmp/xjk",      "/sys/fs/bpf/a/b",  "/sys/fs/bpf/..",
			     "/sys/fs/bpf/.", "/sys/fs/bpfxjk/a", "/sys/fs/bpf/xjk/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(xjk_bpffs_dir_check(bad[i], err, sizeof(err)), -1);
		assert_non_null(strstr(err, "directly in /sys/fs/bpf"));
	}
	strcpy(longname, "/sys/fs/bpf/");
	memset(longname + 12, 'x', sizeof(longname) - 13);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(xjk_bpffs_dir_check(longname, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
}

/* Order of precedence: the explicit directory, then the environment, then
 * the compiled-in default; a refused choice keeps the previous one. */
static void test_use_dir(void **state)
{
	char err[160], path[128];

	(void)state;
	unsetenv(XJK_BPFFS_DIR_ENV);
	assert_int_equal(xjk_bpffs_use_dir(NULL, err, sizeof(err)), 0);
	assert_string_equal(xjk_bpffs_dir(), XJK_BPF_PIN_DIR);
	assert_string_equal(XJK_BPF_PIN_DIR, "/sys/fs/bpf/xjk");

	setenv(XJK_BPFFS_DIR_ENV, "/sys/fs/bpf/xjk-env", 1);
	assert_int_equal(xjk_bpffs_use_dir(NULL, err, sizeof(err)), 0);
	assert_string_equal(xjk_bpffs_dir(), "/sys/fs/bpf/xjk-env");

	assert_int_equal(xjk_bpffs_use_dir("/sys/fs/bpf/xjk-conf", err, sizeof(err)), 0);
	assert_string_equal(xjk_bpffs_dir(), "/sys/fs/bpf/xjk-conf");
	assert_int_equal(xjk_bpffs_path(path, sizeof(path), "routes"), 0);
	assert_string_equal(path, "/sys/fs/bpf/xjk-conf/routes");
	assert_int_equal(xjk_bpffs_path(path, 20, "routes"), -1);

	assert_int_equal(xjk_bpffs_use_dir("/tmp/elsewhere", err, sizeof(err)), -1);
	assert_string_equal(xjk_bpffs_dir(), "/sys/fs/bpf/xjk-conf");

	setenv(XJK_BPFFS_DIR_ENV, "/not/bpffs", 1);
	assert_int_equal(xjk_bpffs_use_dir(NULL, err, sizeof(err)), -1);
	assert_string_equal(xjk_bpffs_dir(), "/sys/fs/bpf/xjk-conf");
	unsetenv(XJK_BPFFS_DIR_ENV);
}

/* The directive: taken as written when valid, a load error otherwise. */
static void test_directive(void **state)
{
	static const char base[] = "Listen 127.0.0.1:8080\nJkWorkersFile w.properties\n";
	struct xjk_config cfg = {0};
	char conf[256], err[512];

	(void)state;
	fx_write("w.properties", "worker.list=a\nworker.a.port=8009\n");
	snprintf(conf, sizeof(conf), "%s", base);
	assert_int_equal(xjk_config_load(fx_write("xjk.conf", conf), &cfg, err, sizeof(err)), 0);
	assert_null(cfg.bpf_dir);
	xjk_config_free(&cfg);

	snprintf(conf, sizeof(conf), "%sXjkBpfDir /sys/fs/bpf/xjk-b\n", base);
	assert_int_equal(xjk_config_load(fx_write("xjk.conf", conf), &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.bpf_dir, "/sys/fs/bpf/xjk-b");
	xjk_config_free(&cfg);

	snprintf(conf, sizeof(conf), "%sXjkBpfDir xjk-b\n", base);
	assert_int_equal(xjk_config_load(fx_write("xjk.conf", conf), &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "XjkBpfDir: 'xjk-b' is not a directory directly in"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_check),
		cmocka_unit_test(test_use_dir),
		cmocka_unit_test_setup_teardown(test_directive, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
