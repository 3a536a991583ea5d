/* test_health.c: XjkHealthCheck parsing and per-backend settings
 * (health_conf.c), rise/fall counting, reply parsing and jitter
 * (health_logic.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "health.h"

static char err[256];

/* Two ajp13 members of lb "ctl", and an http worker "web". */
static struct xjk_backend backends[3] = {
	{.name = "a", .type = XJK_WORKER_AJP13, .ping_timeout = 10000},
	{.name = "b", .type = XJK_WORKER_AJP13, .ping_timeout = 200},
	{.name = "web", .type = XJK_WORKER_HTTP, .ping_timeout = 10000},
};
static int members[2] = {0, 1};
static struct xjk_lb lbs[1] = {{.name = "ctl", .members = members, .n_members = 2}};
static struct xjk_status statuses[1] = {{.name = "jkstatus"}};
static const struct xjk_workers workers = {
	.backends = backends,
	.n_backends = 3,
	.lbs = lbs,
	.n_lbs = 1,
	.statuses = statuses,
	.n_statuses = 1,
};

/* Adds one XjkHealthCheck line given as words. */
static int line(struct xjk_health_config *hc, const char *words)
{
	char buf[256], *argv[16];
	int argc = 0;
	strcpy(buf, words);
	for (char *w = strtok(buf, " "); w && argc < 16; w = strtok(NULL, " "))
		argv[argc++] = w;
	return xjk_health_directive(hc, argc, argv, "xjk.conf", 7, err, sizeof(err));
}

static void test_defaults_by_worker_type(void **state)
{
	(void)state;
	struct xjk_health_config hc = {0};
	struct xjk_health_params p;
	xjk_health_params_for(&hc, &workers, 0, &p);
	assert_int_equal(p.type, XJK_HEALTH_AJP);
	assert_int_equal(p.interval_ms, 300);
	assert_int_equal(p.timeout_ms, 500); /* ping_timeout 10 s does not raise it */
	assert_int_equal(p.rise, 2);
	assert_int_equal(p.fall, 2);
	assert_int_equal(p.jitter_pct, 10);
	xjk_health_params_for(&hc, &workers, 1, &p);
	assert_int_equal(p.timeout_ms, 200); /* ping_timeout 200 lowers it */
	xjk_health_params_for(&hc, &workers, 2, &p);
	assert_int_equal(p.type, XJK_HEALTH_HTTP);
	assert_string_equal(p.path, "/");
	assert_int_equal(p.expect, 0);
}

static void test_rules_apply_in_order(void **state)
{
	(void)state;
	struct xjk_health_config hc = {0};
	struct xjk_health_params p;
	assert_int_equal(line(&hc, "* interval=1000 fall=3"), 0);
	assert_int_equal(line(&hc, "ctl type=http path=/health.jsp expect=204 port=8080"), 0);
	assert_int_equal(line(&hc, "b off"), 0);
	assert_int_equal(line(&hc, "web timeout=900 jitter=0%"), 0);

	xjk_health_params_for(&hc, &workers, 0, &p);
	assert_int_equal(p.type, XJK_HEALTH_HTTP);
	assert_int_equal(p.interval_ms, 1000);
	assert_int_equal(p.fall, 3);
	assert_int_equal(p.rise, 2);
	assert_string_equal(p.path, "/health.jsp");
	assert_int_equal(p.expect, 204);
	assert_int_equal(p.port, 8080);
	assert_int_equal(p.timeout_ms, 500); /* an HTTP check ignores ping_timeout */

	xjk_health_params_for(&hc, &workers, 1, &p);
	assert_int_equal(p.type, XJK_HEALTH_OFF);

	xjk_health_params_for(&hc, &workers, 2, &p);
	assert_int_equal(p.type, XJK_HEALTH_HTTP);
	assert_int_equal(p.interval_ms, 1000);
	assert_int_equal(p.timeout_ms, 900);
	assert_int_equal(p.jitter_pct, 0);
	assert_int_equal(p.port, 0);
	assert_string_equal(p.path, "/");

	assert_int_equal(xjk_health_config_check(&hc, &workers, err, sizeof(err)), 0);
	xjk_health_config_free(&hc);
}

static void test_explicit_timeout_beats_ping_timeout(void **state)
{
	(void)state;
	struct xjk_health_config hc = {0};
	struct xjk_health_params p;
	assert_int_equal(line(&hc, "b timeout=800"), 0);
	xjk_health_params_for(&hc, &workers, 1, &p);
	assert_int_equal(p.timeout_ms, 800);
	xjk_health_config_free(&hc);
}

static void test_bad_lines(void **state)
{
	(void)state;
	struct xjk_health_config hc = {0};
	static const struct {
		const char *words, *msg;
	} cases[] = {
		{"*", "takes WORKER"},
		{"* type=udp", "type must be ajp, http or tcp"},
		{"* interval=5", "interval needs a number from 10"},
		{"* rise=0", "rise needs a number from 1"},
		{"* expect=99", "expect needs a number from 100"},
		{"* jitter=60%", "jitter must be 0% to 50%"},
		{"* jitter=x", "jitter must be 0% to 50%"},
		{"* path=health", "path must start with '/'"},
		{"* colour=red", "unknown option 'colour'"},
		{"* sometimes", "'sometimes' is not off or NAME=VALUE"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(line(&hc, cases[i].words), -1);
		if (!strstr(err, cases[i].msg))
			fail_msg("'%s': got '%s'", cases[i].words, err);
	}
	assert_int_equal(hc.n_rules, 0);

	assert_int_equal(line(&hc, "nosuch off"), 0);
	assert_int_equal(xjk_health_config_check(&hc, &workers, err, sizeof(err)), -1);
	assert_string_equal(err, "xjk.conf:7: XjkHealthCheck: no worker 'nosuch'");
	xjk_health_config_free(&hc);
	assert_int_equal(line(&hc, "jkstatus off"), 0);
	assert_int_equal(xjk_health_config_check(&hc, &workers, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "status worker"));
	xjk_health_config_free(&hc);
}

static const struct xjk_health_params rf = {.rise = 2, .fall = 2};

static void test_fall_declares_down_once(void **state)
{
	(void)state;
	struct xjk_health_count c = {0};
	assert_int_equal(xjk_health_record(&c, &rf, false, XJK_STATE_OK), XJK_HEALTH_KEEP);
	assert_int_equal(xjk_health_record(&c, &rf, false, XJK_STATE_OK), XJK_HEALTH_DOWN);
	/* Already ERR: nothing more to say. */
	assert_int_equal(xjk_health_record(&c, &rf, false, XJK_STATE_ERR), XJK_HEALTH_KEEP);
	/* recover_time made it ERR/REC while checks still fail: down again. */
	assert_int_equal(xjk_health_record(&c, &rf, false, XJK_STATE_ERR_REC), XJK_HEALTH_DOWN);
	/* A pass in between restarts the fall count. */
	struct xjk_health_count d = {0};
	assert_int_equal(xjk_health_record(&d, &rf, false, XJK_STATE_OK), XJK_HEALTH_KEEP);
	assert_int_equal(xjk_health_record(&d, &rf, true, XJK_STATE_OK), XJK_HEALTH_KEEP);
	assert_int_equal(xjk_health_record(&d, &rf, false, XJK_STATE_OK), XJK_HEALTH_KEEP);
	assert_int_equal(xjk_health_record(&d, &rf, false, XJK_STATE_OK), XJK_HEALTH_DOWN);
}

static void test_rise_counts_passes_after_the_error(void **state)
{
	(void)state;
	struct xjk_health_count c = {0};
	/* Healthy and passing: nothing to report, however long. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(xjk_health_record(&c, &rf, true, XJK_STATE_OK), XJK_HEALTH_KEEP);
	/* A failed request made it ERR: the earlier passes do not count. */
	assert_int_equal(xjk_health_record(&c, &rf, true, XJK_STATE_ERR), XJK_HEALTH_KEEP);
	assert_int_equal(xjk_health_record(&c, &rf, true, XJK_STATE_ERR), XJK_HEALTH_UP);

	/* Down by checks, then back after `rise` passes. */
	struct xjk_health_count d = {0};
	xjk_health_record(&d, &rf, false, XJK_STATE_OK);
	xjk_health_record(&d, &rf, false, XJK_STATE_OK);
	assert_int_equal(xjk_health_record(&d, &rf, true, XJK_STATE_ERR), XJK_HEALTH_KEEP);
	assert_int_equal(xjk_health_record(&d, &rf, false, XJK_STATE_ERR), XJK_HEALTH_KEEP);
	assert_int_equal(xjk_health_record(&d, &rf, true, XJK_STATE_ERR), XJK_HEALTH_KEEP);
	assert_int_equal(xjk_health_record(&d, &rf, true, XJK_STATE_ERR), XJK_HEALTH_UP);
	/* A probe request in flight (ERR/PRB) is an error state too. */
	struct xjk_health_count e = {.saw_error = true, .passes = 1};
	assert_int_equal(xjk_health_record(&e, &rf, true, XJK_STATE_ERR_PRB), XJK_HEALTH_UP);
}

static void test_ajp_reply(void **state)
{
	(void)state;
	static const uint8_t cpong[] = {'A', 'B', 0, 1, 9};
	static const uint8_t other[] = {'A', 'B', 0, 2, 4, 0};
	assert_int_equal(xjk_health_ajp_reply(cpong, 5), 1);
	assert_int_equal(xjk_health_ajp_reply(cpong, 3), 0);
	assert_int_equal(xjk_health_ajp_reply(other, 6), -1);
	assert_int_equal(xjk_health_ajp_reply((const uint8_t *)"HTTP/1.1", 8), -1);
}

static void test_http_reply(void **state)
{
	(void)state;
	int status = 0;
	assert_int_equal(xjk_health_http_reply("HTTP/1.1 200 OK\r\n", 17, 200, &status), 1);
	assert_int_equal(status, 200);
	status = 0;
	assert_int_equal(xjk_health_http_reply("HTTP/1.1 20", 11, 200, &status), 0);
	assert_int_equal(xjk_health_http_reply("HTTP/1.0 503 Busy", 17, 200, &status), -1);
	assert_int_equal(status, 503);
	status = 0;
	assert_int_equal(xjk_health_http_reply("HTTP/1.1 204 ", 13, 204, &status), 1);
	/* The default (0): any status below 500 passes. */
	assert_int_equal(xjk_health_http_reply("HTTP/1.1 404 ", 13, 0, &status), 1);
	assert_int_equal(xjk_health_http_reply("HTTP/1.1 302 ", 13, 0, &status), 1);
	assert_int_equal(xjk_health_http_reply("HTTP/1.1 500 ", 13, 0, &status), -1);
	assert_int_equal(xjk_health_http_reply("HTTP/1.1 503 ", 13, 0, &status), -1);
	assert_int_equal(xjk_health_http_reply("SSH-2.0-x", 9, 200, &status), -1);
	assert_int_equal(xjk_health_http_reply("HTTP/1.1 2x0", 12, 200, &status), -1);
	assert_int_equal(xjk_health_http_reply("HTTP/2.0 200", 12, 200, &status), -1);
}

static void test_delay_jitter(void **state)
{
	(void)state;
	struct xjk_health_params p = {.interval_ms = 300, .jitter_pct = 10};
	uint64_t lo = UINT64_MAX, hi = 0;
	for (uint32_t r = 0; r < 1000; r++) {
		uint64_t d = xjk_health_delay(&p, r * 2654435761u);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_int_equal(lo, 270);
	assert_int_equal(hi, 330);
	p.jitter_pct = 0;
	assert_int_equal(xjk_health_delay(&p, 12345), 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_by_worker_type),
		cmocka_unit_test(test_rules_apply_in_order),
		cmocka_unit_test(test_explicit_timeout_beats_ping_timeout),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_fall_declares_down_once),
		cmocka_unit_test(test_rise_counts_passes_after_the_error),
		cmocka_unit_test(test_ajp_reply),
		cmocka_unit_test(test_http_reply),
		cmocka_unit_test(test_delay_jitter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
