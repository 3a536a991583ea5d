/* test_admin.c: the operator's actions (through wstate, and what the lb
 * choice then does) and the status renderings (JSON, Prometheus, HTML, text). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "admin.h"
#include "cfg_fixture.h"
#include "routes.h"

static const char workers_text[] = "worker.list=lb,solo\n"
				   "worker.t1.type=ajp13\nworker.t1.host=127.0.0.1\n"
				   "worker.t1.port=8009\n"
				   "worker.t2.type=ajp13\nworker.t2.host=127.0.0.1\n"
				   "worker.t2.port=9009\n"
				   "worker.solo.type=ajp13\nworker.solo.host=127.0.0.1\n"
				   "worker.solo.port=7009\n"
				   "worker.lb.type=lb\nworker.lb.balance_workers=t1,t2\n";

static struct xjk_config cfg;
static struct xjk_admin_src src;

static int setup(void **state)
{
	char err[256];
	if (fx_setup(state))
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	if (fx_workers(&cfg.workers, workers_text, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	src = (struct xjk_admin_src){.cfg = &cfg, .bpf_dir = "/nonexistent"};
	return xjk_wstate_init(&cfg.workers);
}

static int teardown(void **state)
{
	xjk_wstate_free();
	xjk_workers_free(&cfg.workers);
	return fx_teardown(state);
}

static int backend(const char *name)
{
	struct xjk_worker_ref ref;
	assert_int_equal(xjk_workers_find(&cfg.workers, name, &ref), 0);
	return ref.index;
}

static int act(const char *name, const char *verb, const char *value)
{
	char msg[256];
	return xjk_admin_action(&cfg.workers, name, verb, value, msg, sizeof(msg));
}

/* Which backend the lb picks for a request without a session / with route R. */
static int pick(const char *route)
{
	struct xjk_str r = {route, route ? (uint32_t)strlen(route) : 0};
	struct xjk_choice ch;
	if (xjk_wstate_choose(0, &r, route ? 1 : 0, route != NULL, 0, &ch) < 0)
		return -1;
	return ch.backend;
}

static void test_activation(void **state)
{
	(void)state;
	int t1 = backend("t1"), t2 = backend("t2");
	assert_int_equal(act("t1", "disable", NULL), 0);
	assert_int_equal(xjk_wstate_activation(t1), XJK_DISABLED);
	/* disabled: no new sessions, but its own sticky ones still go there */
	for (int i = 0; i < 10; i++)
		assert_int_equal(pick(NULL), t2);
	assert_int_equal(pick("t1"), t1);
	assert_int_equal(act("t1", "stop", NULL), 0);
	assert_int_equal(xjk_wstate_activation(t1), XJK_STOPPED);
	assert_int_equal(pick("t1"), t2);
	assert_int_equal(act("t1", "enable", NULL), 0);
	assert_int_equal(xjk_wstate_activation(t1), XJK_ACTIVE);
	/* back: it catches up with the lb_value t2 earned meanwhile */
	int seen1 = 0;
	for (int i = 0; i < 10; i++)
		seen1 += pick(NULL) == t1;
	assert_int_equal(seen1, 10);
	assert_true(fx_logged("worker t1: OK/IDLE/ACT -> OK/IDLE/DIS (operator)"));
}

static void test_bad_requests(void **state)
{
	(void)state;
	assert_int_equal(act("nope", "stop", NULL), -404);
	assert_int_equal(act("lb", "stop", NULL), -404); /* not a backend */
	assert_int_equal(act(NULL, "stop", NULL), -404);
	assert_int_equal(act("t1", "explode", NULL), -400);
	assert_int_equal(act("t1", NULL, NULL), -400);
	assert_int_equal(act("t1", "lbfactor", NULL), -400);
	assert_int_equal(act("t1", "lbfactor", "0"), -400);
	assert_int_equal(act("t1", "lbfactor", "x"), -400);
	assert_int_equal(act("t1", "lbfactor", "100001"), -400);
	assert_int_equal(act("t1", "recover", NULL), -400); /* not in error */
}

static void test_lbfactor(void **state)
{
	(void)state;
	int t1 = backend("t1"), t2 = backend("t2");
	uint32_t mult;
	uint64_t value;
	assert_int_equal(act("t2", "lbfactor", "3"), 0);
	assert_int_equal(xjk_wstate_lbfactor(t2), 3);
	xjk_wstate_member(0, 0, &mult, &value);
	assert_int_equal(mult, 3);
	assert_int_equal(value, 0);
	xjk_wstate_member(0, 1, &mult, &value);
	assert_int_equal(mult, 1);
	int n2 = 0;
	for (int i = 0; i < 400; i++)
		n2 += pick(NULL) == t2;
	assert_int_equal(n2, 300);
	assert_int_equal(act("t2", "lbfactor", "1"), 0);
	xjk_wstate_member(0, 0, &mult, &value);
	assert_int_equal(mult, 1);
	(void)t1;
}

/* A request that found t1's pool full past connection_acquire_timeout:
 * mod_jk's OK/BUSY, no error; new traffic goes to t2, t1's own sessions still
 * go to t1, and t1's next success clears it. */
static void test_busy(void **state)
{
	(void)state;
	int t1 = backend("t1"), t2 = backend("t2");
	xjk_wstate_report(t1, XJK_CAUSE_BUSY, "no free connection in the pool");
	assert_int_equal(xjk_wstate_state(t1), XJK_STATE_OK_BUSY);
	struct xjk_backend_stats s;
	xjk_wstate_stats(t1, &s);
	assert_int_equal(s.errors, 0);
	for (int k = 0; k < 3; k++)
		assert_int_equal(pick(NULL), t2);
	assert_int_equal(pick("t1"), t1);
	xjk_wstate_report(t1, XJK_CAUSE_SUCCESS, NULL);
	assert_int_equal(xjk_wstate_state(t1), XJK_STATE_OK);

	/* a full pool does not make a failed member look healthy */
	xjk_wstate_report(t2, XJK_CAUSE_CONNECT, "refused");
	xjk_wstate_report(t2, XJK_CAUSE_BUSY, NULL);
	assert_int_equal(xjk_wstate_state(t2), XJK_STATE_ERR);
}

static void test_recover_and_reset(void **state)
{
	(void)state;
	int t1 = backend("t1");
	xjk_wstate_report(t1, XJK_CAUSE_CONNECT, "refused");
	assert_int_equal(xjk_wstate_state(t1), XJK_STATE_ERR);
	assert_int_equal(act("t1", "recover", NULL), 0);
	assert_int_equal(xjk_wstate_state(t1), XJK_STATE_ERR_REC);

	xjk_wstate_count(t1, 100, 2000, false);
	xjk_wstate_count(t1, 50, 10, true);
	xjk_wstate_busy(t1, 2);
	xjk_wstate_busy(t1, -1);
	struct xjk_backend_stats s;
	xjk_wstate_stats(t1, &s);
	assert_int_equal(s.requests, 2);
	assert_int_equal(s.errors, 1);
	assert_int_equal(act("t1", "reset", NULL), 0);
	xjk_wstate_stats(t1, &s);
	assert_int_equal(s.requests, 0);
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.client_errors, 0);
	assert_int_equal(s.bytes_in + s.bytes_out, 0);
	assert_int_equal(s.busy, 1); /* in flight now: not a counter */
	assert_int_equal(s.max_busy, 1);
	xjk_wstate_waiting(t1, 3);
	xjk_wstate_waiting(t1, -1);
	assert_int_equal(act("t1", "reset", NULL), 0);
	xjk_wstate_stats(t1, &s);
	assert_int_equal(s.waiting, 2); /* queued now: not a counter either */
}

/* Renders the current state in every format. */
static char *render(int (*fn)(const struct xjk_admin_model *, struct xjk_buf *))
{
	struct xjk_admin_model m;
	struct xjk_buf out = {0};
	assert_int_equal(xjk_admin_model_build(&src, &m), 0);
	assert_int_equal(fn(&m, &out), 0);
	xjk_admin_model_free(&m);
	assert_int_equal(xjk_buf_append(&out, "", 1), 0);
	return xjk_buf_head(&out);
}

static void test_json(void **state)
{
	(void)state;
	int t1 = backend("t1");
	act("t2", "stop", NULL);
	for (int i = 0; i < 3; i++)
		xjk_wstate_count(t1, 10, 20, false);
	char *j = render(xjk_admin_render_json);
	assert_non_null(
		strstr(j, "\"lbs\":[{\"name\":\"lb\",\"method\":\"Request\","
			  "\"sticky_session\":true,\"sticky_session_force\":false,"
			  "\"good\":1,\"degraded\":0,\"bad\":1,\"members\":[{\"worker\":\"t1\","
			  "\"lb_mult\":1,\"lb_value\":0,\"routed_to\":\"t1\"}"));
	assert_non_null(strstr(j, "{\"name\":\"t1\",\"type\":\"ajp13\",\"host\":\"127.0.0.1\","
				  "\"port\":8009,\"route\":\"t1\""));
	assert_non_null(strstr(j, "\"activation\":\"ACT\",\"state\":\"OK/IDLE\",\"lbfactor\":1,"
				  "\"requests\":3,\"errors\":0,\"client_errors\":0,\"busy\":0,"
				  "\"max_busy\":0,\"waiting\":0,\"bytes_sent\":30,"
				  "\"bytes_received\":60}"));
	assert_non_null(strstr(j, "\"name\":\"t2\""));
	assert_non_null(strstr(j, "\"activation\":\"STP\""));
	assert_null(strstr(j, "\"cluster\"")); /* no membership configured */
	assert_non_null(strstr(j, "\"bpf_maps\":[]"));
	assert_string_equal(j + strlen(j) - 2, "}\n");
	free(j);
}

static void test_routed_to(void **state)
{
	(void)state;
	assert_int_equal(xjk_routes_init(&cfg.workers), 0);
	act("t2", "stop", NULL);
	char *j = render(xjk_admin_render_json);
	assert_non_null(strstr(j, "{\"worker\":\"t2\",\"lb_mult\":1,\"lb_value\":0,"
				  "\"routed_to\":\"t1\"}"));
	free(j);
	act("t2", "enable", NULL);
	j = render(xjk_admin_render_json);
	assert_non_null(strstr(j, "\"routed_to\":\"t2\"}"));
	free(j);
	xjk_routes_free();
}

/* Every line is a comment or "name{labels} value", and every sample's family
 * was announced by # TYPE before it. */
static void check_prometheus(const char *text)
{
	char family[128] = "";
	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		const char *end = strchr(l, '\n');
		assert_non_null(end);
		if (!strncmp(l, "# TYPE ", 7)) {
			sscanf(l + 7, "%127s", family);
			continue;
		}
		if (l[0] == '#')
			continue;
		size_t nl = strcspn(l, "{ ");
		assert_true(nl > 0 && !strncmp(l, family, strlen(family)));
		const char *sp = memchr(l, ' ', (size_t)(end - l));
		assert_non_null(sp);
		for (const char *p = sp + 1; p < end; p++)
			assert_true((*p >= '0' && *p <= '9') || *p == '-');
	}
}

static void test_metrics(void **state)
{
	(void)state;
	int t1 = backend("t1"), solo = backend("solo");
	for (int i = 0; i < 7; i++)
		xjk_wstate_count(t1, 1, 2, false);
	xjk_wstate_count(solo, 1, 2, false);
	xjk_wstate_report(t1, XJK_CAUSE_TIMEOUT, NULL);
	act("t2", "disable", NULL);
	xjk_wstate_waiting(solo, 2);
	char *p = render(xjk_admin_render_metrics);
	check_prometheus(p);
	assert_non_null(strstr(p, "\nxjk_worker_requests_total{worker=\"t1\",lb=\"lb\"} 7\n"));
	assert_non_null(strstr(p, "\nxjk_worker_requests_total{worker=\"solo\",lb=\"\"} 1\n"));
	assert_non_null(strstr(p, "\nxjk_worker_errors_total{worker=\"t1\",lb=\"lb\"} 1\n"));
	assert_non_null(
		strstr(p, "\nxjk_worker_bytes_received_total{worker=\"t1\",lb=\"lb\"} 14\n"));
	assert_non_null(strstr(p, "\nxjk_worker_state{worker=\"t1\",lb=\"lb\",state=\"ERR\"} 1\n"));
	assert_non_null(strstr(p, "\nxjk_worker_state{worker=\"t1\",lb=\"lb\",state=\"OK\"} 0\n"));
	assert_non_null(strstr(
		p, "\nxjk_worker_activation{worker=\"t2\",lb=\"lb\",activation=\"DIS\"} 1\n"));
	assert_non_null(strstr(p, "\nxjk_lb_members{lb=\"lb\",rating=\"bad\"} 1\n"));
	assert_non_null(strstr(p, "\nxjk_lb_members{lb=\"lb\",rating=\"degraded\"} 1\n"));
	assert_non_null(strstr(p, "# TYPE xjk_worker_requests_total counter\n"));
	assert_non_null(strstr(p, "# TYPE xjk_worker_waiting gauge\n"));
	assert_non_null(strstr(p, "\nxjk_worker_waiting{worker=\"solo\",lb=\"\"} 2\n"));
	assert_null(strstr(p, "xjk_cluster_members"));
	free(p);
}

static void test_html(void **state)
{
	(void)state;
	act("t2", "stop", NULL);
	struct xjk_admin_model m;
	struct xjk_buf out = {0};
	struct xjk_admin_page page = {.notice = "<b>&\"x\"", .writable = true, .needs_token = true};
	assert_int_equal(xjk_admin_model_build(&src, &m), 0);
	assert_int_equal(xjk_admin_render_html(&m, &page, &out), 0);
	assert_int_equal(xjk_buf_append(&out, "", 1), 0);
	const char *h = xjk_buf_head(&out);
	assert_non_null(strstr(h, "<p class=\"notice\">&lt;b&gt;&amp;&quot;x&quot;</p>"));
	assert_non_null(strstr(h, "<tr id=\"worker-t2\" class=\"bad\"><td class=\"name\">t2</td>"));
	assert_non_null(
		strstr(h, "<td class=\"activation\">STP</td><td class=\"state\">OK/IDLE</td>"));
	assert_non_null(strstr(h, "<option value=\"stop\" selected>Stopped</option>"));
	assert_non_null(strstr(h, "id=\"token\""));
	assert_non_null(strstr(h, "<input type=\"hidden\" name=\"token\">"));
	assert_null(strstr(h, "src=")); /* nothing loaded from elsewhere */
	assert_null(strstr(h, "href=\"http"));
	xjk_buf_reset(&out);
	page = (struct xjk_admin_page){.writable = false};
	assert_int_equal(xjk_admin_render_html(&m, &page, &out), 0);
	assert_int_equal(xjk_buf_append(&out, "", 1), 0);
	assert_null(strstr(xjk_buf_head(&out), "<form"));
	xjk_admin_model_free(&m);
	xjk_buf_free(&out);
}

static void test_text(void **state)
{
	(void)state;
	struct xjk_admin_model m;
	struct xjk_buf out = {0};
	assert_int_equal(xjk_admin_model_build(&src, &m), 0);
	assert_int_equal(xjk_admin_render_text(&m, XJK_ADMIN_TEXT_MEMBERS, &out), 0);
	assert_int_equal(xjk_buf_append(&out, "", 1), 0);
	assert_string_equal(xjk_buf_head(&out),
			    "cluster membership is not configured (XjkMembership)\n");
	xjk_buf_reset(&out);
	assert_int_equal(xjk_admin_render_text(&m, XJK_ADMIN_TEXT_STATUS, &out), 0);
	assert_int_equal(xjk_buf_append(&out, "", 1), 0);
	const char *t = xjk_buf_head(&out);
	assert_non_null(
		strstr(t, "lb lb: method Request, sticky_session on: 2 good, 0 degraded, 0 bad\n"));
	assert_non_null(strstr(
		t, "\nt1                   127.0.0.1:8009         t1               ACT  OK/IDLE"));
	xjk_admin_model_free(&m);
	xjk_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_activation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lbfactor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routed_to, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
