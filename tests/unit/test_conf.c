/* test_conf.c: xjk.conf loading (conf.c): httpd syntax, Include/ServerRoot,
 * sections, mod_jk directives, the seed example tree, the -t summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>

#include "cfg_fixture.h"
#include "config.h"

static char err[1024];
static struct xjk_config cfg;

static const char workers[] = "worker.list=a,b\nworker.a.port=8009\nworker.b.port=8010\n";

/* Loads fx_dir/xjk.conf with the given text (workers in fx_dir/w.properties). */
static int load(const char *conf)
{
	fx_write("w.properties", workers);
	return xjk_config_load(fx_write("xjk.conf", conf), &cfg, err, sizeof(err));
}

static void expect_error(const char *conf, const char *message)
{
	assert_int_equal(load(conf), -1);
	if (!strstr(err, message))
		fail_msg("error '%s' lacks '%s'", err, message);
	assert_null(cfg.urimap);
}

static const char *mapped(const char *path)
{
	const struct xjk_mount *r = xjk_urimap_match(cfg.urimap, path);
	return r ? r->worker : "-";
}

static void test_seed_example(void **state)
{
	(void)state;
	char root[PATH_MAX];
	assert_non_null(realpath("conf/examples/seed", root));
	assert_int_equal(xjk_config_load("conf/examples/seed/xjk.conf", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.server_root, root);
	assert_int_equal(cfg.n_listens, 1);
	assert_string_equal(cfg.listens[0].text, "0.0.0.0:80");
	char wf[PATH_MAX + 32];
	snprintf(wf, sizeof(wf), "%s/conf/workers.properties", root);
	assert_string_equal(cfg.workers_file, wf);
	assert_int_equal(cfg.workers.n_lbs, 1);
	assert_int_equal(cfg.workers.lbs[0].n_members, 2);
	assert_int_equal(cfg.urimap->n, 1);
	assert_string_equal(cfg.urimap->rules[0].pattern, "/*.*");
	assert_int_equal(cfg.urimap->rules[0].line, 6);
	assert_string_equal(mapped("/index.jsp"), "controller");
	assert_string_equal(mapped("/examples/servlets/x.html"), "controller");
	assert_string_equal(mapped("/examples/"), "-");
	assert_true(fx_logged("mod_jk.conf:2: LoadModule is accepted and ignored by xjk"));
	assert_true(fx_logged("no-break spaces (U+00A0) are treated as spaces"));
	xjk_config_free(&cfg);
}

/* The commented default that gets installed as /etc/xjk/xjk.conf. */
static void test_installed_default(void **state)
{
	(void)state;
	assert_int_equal(xjk_config_load("conf/xjk.conf", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.listens[0].text, "0.0.0.0:80");
	assert_string_equal(mapped("/examples/x"), "ajp13");
	assert_int_equal(cfg.workers.backends[0].port, 8009);
	xjk_config_free(&cfg);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(load("JkWorkersFile w.properties\n"), 0);
	assert_int_equal(cfg.n_listens, 1);
	assert_string_equal(cfg.listens[0].text, "0.0.0.0:80");
	assert_int_equal(cfg.threads, 0);
	assert_int_equal(cfg.request_timeout_ms, 10000);
	assert_int_equal(cfg.keepalive_timeout_ms, 5000);
	assert_int_equal(cfg.max_header_size, 16384);
	assert_int_equal(cfg.max_headers, 100);
	assert_int_equal(cfg.log_level, XJK_LOG_INFO);
	assert_null(cfg.log_file);
	assert_null(cfg.access_log);
	assert_null(cfg.user);
	assert_int_equal(cfg.urimap->n, 0);
	/* ServerRoot defaults to the main file's directory. */
	char root[PATH_MAX];
	assert_non_null(realpath(fx_dir, root));
	assert_string_equal(cfg.server_root, root);
	xjk_config_free(&cfg);

	/* XjkUser and XjkAdminToken: one word each, kept as written */
	assert_int_equal(load("JkWorkersFile w.properties\nXjkUser xjk\nXjkAdminToken t0k\n"), 0);
	assert_string_equal(cfg.user, "xjk");
	assert_string_equal(cfg.admin_token, "t0k");
	xjk_config_free(&cfg);
}

static void test_syntax(void **state)
{
	(void)state;
	assert_int_equal(load("# comment\n"
			      "   # indented comment\n"
			      "jkworkersfile \"w.properties\"\n"
			      "JKMOUNT /a/* \\\n"
			      "   a\n"
			      "JkMount '/with space/*' b\n"
			      "JkMount \"/q\\\"x\" b\n"
			      "JkLogLevel debug\n"
			      "JkLogFile logs/jk.log\n"
			      "Listen 127.0.0.1:8081\n"
			      "Listen 8082\n"
			      "Listen [::1]:8083\n"
			      "XjkThreads 4\n"
			      "XjkRequestTimeout 2000\n"
			      "XjkKeepAliveTimeout 0\n"
			      "XjkMaxHeaderSize 32k\n"
			      "XjkMaxHeaders 50\n"
			      "XjkAccessLog /var/log/xjk/access.log\n"
			      "JkOptions +ForwardKeySize -ForwardDirectories\n"),
			 0);
	assert_string_equal(mapped("/a/x"), "a");
	assert_int_equal(xjk_urimap_match(cfg.urimap, "/a/x")->line, 4);
	assert_string_equal(mapped("/with space/x"), "b");
	assert_string_equal(mapped("/q\"x"), "b");
	assert_int_equal(cfg.log_level, XJK_LOG_DEBUG);
	char lf[PATH_MAX + 16];
	snprintf(lf, sizeof(lf), "%s/logs/jk.log", cfg.server_root);
	assert_string_equal(cfg.log_file, lf);
	assert_int_equal(cfg.n_listens, 3);
	assert_string_equal(cfg.listens[0].text, "127.0.0.1:8081");
	assert_string_equal(cfg.listens[1].text, "0.0.0.0:8082");
	assert_string_equal(cfg.listens[2].text, "[::1]:8083");
	assert_int_equal(cfg.listens[2].addr.ss_family, AF_INET6);
	assert_int_equal(cfg.listens[1].line, 11);
	assert_int_equal(cfg.threads, 4);
	assert_int_equal(cfg.request_timeout_ms, 2000);
	assert_int_equal(cfg.keepalive_timeout_ms, 0);
	assert_int_equal(cfg.max_header_size, 32768);
	assert_int_equal(cfg.max_headers, 50);
	assert_string_equal(cfg.access_log, "/var/log/xjk/access.log");
	assert_true(fx_logged("xjk.conf:19: JkOptions is accepted and ignored by xjk"));
	xjk_config_free(&cfg);
}

static void test_include_and_server_root(void **state)
{
	(void)state;
	fx_write("site/conf.d/10-a.conf", "JkMount /a/* a\n");
	fx_write("site/conf.d/20-b.conf", "JkMount /b/* b\nInclude more\n");
	fx_write("site/more/m.conf", "Listen 9000\n");
	fx_write("site/w.properties", workers);
	assert_int_equal(load("ServerRoot site\n"
			      "Include conf.d/*.conf\n"
			      "IncludeOptional nothing/*.conf\n"
			      "JkWorkersFile w.properties\n"),
			 0);
	assert_string_equal(mapped("/a/1"), "a");
	assert_string_equal(mapped("/b/1"), "b");
	assert_int_equal(cfg.n_listens, 1);
	assert_non_null(strstr(cfg.listens[0].file, "site/more/m.conf"));
	assert_non_null(strstr(cfg.workers_file, "/site/w.properties"));
	const struct xjk_mount *r = xjk_urimap_match(cfg.urimap, "/b/1");
	assert_non_null(strstr(r->file, "20-b.conf"));
	assert_int_equal(r->line, 1);
	xjk_config_free(&cfg);

	expect_error("Include missing/*.conf\n", "xjk.conf:1: Include: no file matches");
	expect_error("ServerRoot /nonexistent/dir\n",
		     "xjk.conf:1: ServerRoot '/nonexistent/dir' is "
		     "not a directory");
	fx_write("loop.conf", "Include loop.conf\n");
	expect_error("Include loop.conf\n", "Include nested more than 16 deep");
	/* Errors inside an included file name that file and line. */
	fx_write("bad.conf", "\n\nBogusDirective 1\n");
	expect_error("JkWorkersFile w.properties\nInclude bad.conf\n",
		     "bad.conf:3: unknown directive 'BogusDirective'");
}

static void test_sections(void **state)
{
	(void)state;
	assert_int_equal(load("<IfModule mod_jk.c>\n"
			      "  JkWorkersFile w.properties\n"
			      "  <IfModule !jk_module>\n"
			      "    JkMount /never/* a\n"
			      "    <Location /deep>\n"
			      "      UnknownButSkipped x\n"
			      "    </Location>\n"
			      "  </IfModule>\n"
			      "</IfModule>\n"
			      "<IfModule !mod_ssl.c>\n"
			      "  JkMount /ssl/* b\n"
			      "</IfModule>\n"
			      "<Location /status>\n"
			      "  JkMount a\n"
			      "  JkMount /other/* b\n"
			      "</Location>\n"
			      "<Location \"/app\" >\n"
			      "  JkUnMount a\n"
			      "</Location>\n"
			      "JkMount /app* a\n"),
			 0);
	assert_string_equal(mapped("/never/x"), "-");
	assert_string_equal(mapped("/ssl/x"), "b");
	assert_string_equal(mapped("/status"), "a");
	assert_string_equal(mapped("/status/x"), "-"); /* exact match on the location */
	assert_string_equal(mapped("/other/x"), "b");
	assert_string_equal(mapped("/app"), "-");
	assert_string_equal(mapped("/apps"), "a");
	xjk_config_free(&cfg);

	expect_error("JkMount a\n", "xjk.conf:1: JkMount with one argument is only allowed inside "
				    "<Location>");
	expect_error("<Location /x>\nJkMount a\n", "<Location> is not closed in this file");
	expect_error("</Location>\n", "xjk.conf:1: </Location> without matching <Location>");
	expect_error("<VirtualHost *:80>\n</VirtualHost>\n", "xjk.conf:1: unknown directive "
							     "'<VirtualHost'");
	expect_error("<Location /x\n</Location>\n", "section line is missing its '>'");
}

static void test_workers_sources(void **state)
{
	(void)state;
	fx_write("uriworkermap.properties", "/u/*=b\n!/u/private/*=b\n/*.jsp=a;reply_timeout=9\n");
	/* '#' stays in a JkWorkerProperty value, as in mod_jk: here it ends up in the
	 * route and is reported as too long only because it is. */
	assert_int_equal(load("JkWorkerProperty worker.a.route=r#"
			      "123456789012345678901234567890123456789012345678901234567890\n"
			      "JkWorkersFile w.properties\n"),
			 -1);
	assert_non_null(strstr(err, "xjk.conf:1: worker.a.route is longer than 60 characters"));

	assert_int_equal(load("JkWorkerProperty worker.list=c\n"
			      "JkWorkerProperty worker.c.port=8011\n"
			      "JkWorkerProperty worker.a.port=9999\n"
			      "JkWorkerProperty worker.c.mount=/c/*\n"
			      "JkWorkersFile w.properties\n"
			      "JkMountFile uriworkermap.properties\n"
			      "JkMount /u/* a\n"),
			 0);
	/* The workers file is read after JkWorkerProperty lines: lists join, the file wins. */
	assert_int_equal(cfg.workers.n_list, 3);
	assert_string_equal(cfg.workers.list[0], "c");
	struct xjk_worker_ref ref;
	assert_int_equal(xjk_workers_find(&cfg.workers, "a", &ref), 0);
	assert_int_equal(cfg.workers.backends[ref.index].port, 8009);
	assert_true(fx_logged("w.properties:2: duplicate key 'worker.a.port'"));
	/* uriworkermap beats JkMount for the same pattern; exclusions apply. */
	assert_string_equal(mapped("/u/x"), "b");
	assert_string_equal(mapped("/u/private/x"), "-");
	assert_string_equal(mapped("/x.jsp"), "a");
	assert_int_equal(xjk_urimap_match(cfg.urimap, "/x.jsp")->ext.reply_timeout, 9);
	assert_string_equal(mapped("/c/x"), "c");
	assert_int_equal(xjk_urimap_match(cfg.urimap, "/c/x")->source, XJK_MOUNT_WORKERDEF);
	assert_non_null(strstr(cfg.mount_file, "uriworkermap.properties"));
	xjk_config_free(&cfg);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("JkWorkersFile w.properties\n\nJkWorkersFile w.properties\n",
		     "xjk.conf:3: JkWorkersFile only allowed once (first at ");
	expect_error("JkWorkersFile w.properties\nFrobnicate on\n",
		     "xjk.conf:2: unknown directive 'Frobnicate'");
	expect_error("JkWorkersFile w.properties\nJkMount /x/* nope\n",
		     "xjk.conf:2: Could not find worker with name 'nope'");
	expect_error("JkWorkersFile w.properties\nJkMount x/* a\n",
		     "xjk.conf:2: JkMount context should start with /");
	expect_error("JkWorkersFile w.properties\nJkMount /a b c\n",
		     "JkMount takes 1 to 2 arguments");
	expect_error("JkWorkersFile w.properties\nListen 80\nListen 0.0.0.0:80\n",
		     "xjk.conf:3: Listen 0.0.0.0:80 given twice");
	expect_error("Listen ::1:80\n", "use [addr]:port for IPv6");
	expect_error("Listen 70000\n", "bad port in Listen '70000'");
	expect_error("Listen localhost:80\n", "numeric IPv4 or [IPv6] address");
	expect_error("JkLogLevel loud\n", "xjk.conf:1: JkLogLevel must be");
	expect_error("JkLogFile \"|/usr/bin/rotatelogs\"\n", "piped logs are not supported");
	expect_error("XjkMaxHeaders 0\n",
		     "xjk.conf:1: XjkMaxHeaders needs a number from 1 to 10000");
	expect_error("XjkThreads many\n", "XjkThreads needs a number");
	expect_error("JkMount \"/x a\n", "unterminated quote");
	expect_error("JkWorkersFile missing.properties\n", "missing.properties: cannot open");
	fx_write("bad.properties", "worker.list=a\nworker.a.prot=1\n");
	expect_error("JkWorkersFile bad.properties\n",
		     "bad.properties:2: The attribute 'worker.a.prot' is not supported");
	assert_int_equal(xjk_config_load("/nonexistent/xjk.conf", &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/xjk.conf: cannot open"));
}

static void test_summary(void **state)
{
	(void)state;
	assert_int_equal(xjk_config_load("conf/examples/seed/xjk.conf", &cfg, err, sizeof(err)), 0);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	xjk_config_print_summary(&cfg, out);
	fclose(out);
	assert_non_null(strstr(text, "0.0.0.0:80"));
	assert_non_null(strstr(text, "controller  lb method=R sticky_session=1"));
	assert_non_null(strstr(text, "member tomcat-6.0.26-2  ajp13 localhost:9009 (127.0.0.1) "
				     "lbfactor=1 route=tomcat-6.0.26-2 domain=tomcat-6 ACT"));
	assert_non_null(strstr(text, "/*.* -> controller  wildcard, JkMount"));
	free(text);
	xjk_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seed_example, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_installed_default, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_defaults, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_syntax, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_include_and_server_root, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_sections, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_workers_sources, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_summary, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
