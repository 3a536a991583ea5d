/* test_workers.c: the worker model built from workers.properties (workers.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "cfg_fixture.h"

static char err[512];

static const char *addr_text(const struct xjk_backend *b)
{
	static char text[INET6_ADDRSTRLEN + 8];
	char a[INET6_ADDRSTRLEN];
	if (b->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)&b->addr;
		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(text, sizeof(text), "[%s]:%u", a, ntohs(s->sin6_port));
	} else {
		const struct sockaddr_in *s = (const void *)&b->addr;
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(text, sizeof(text), "%s:%u", a, ntohs(s->sin_port));
	}
	return text;
}

static const struct xjk_backend *backend(const struct xjk_workers *w, const char *name)
{
	struct xjk_worker_ref ref;
	if (xjk_workers_find(w, name, &ref) || ref.type == XJK_WORKER_LB ||
	    ref.type == XJK_WORKER_STATUS)
		return NULL;
	return &w->backends[ref.index];
}

/* The seed's file, unchanged (dotted names, inline comments, no-break spaces). */
static void test_seed_workers_properties(void **state)
{
	(void)state;
	struct xjk_props p;
	struct xjk_workers w;
	xjk_props_init(&p, XJK_PROPS_WORKERS);
	assert_int_equal(xjk_props_read_file(&p, "conf/examples/seed/conf/workers.properties", err,
					     sizeof(err)),
			 0);
	assert_int_equal(xjk_props_resolve_references(&p, err, sizeof(err)), 0);
	assert_int_equal(xjk_workers_load(&w, &p, err, sizeof(err)), 0);

	assert_int_equal(w.n_list, 3);
	assert_string_equal(w.list[0], "controller");
	assert_string_equal(w.list[1], "tomcat-6.0.26-1");
	assert_string_equal(w.list[2], "tomcat-6.0.26-2");
	assert_int_equal(w.n_lbs, 1);
	assert_int_equal(w.n_backends, 2);
	assert_int_equal(w.n_statuses, 0);
	assert_int_equal(w.maintain_s, 60);

	const struct xjk_lb *lb = &w.lbs[0];
	assert_string_equal(lb->name, "controller");
	assert_true(lb->sticky_session);
	assert_false(lb->sticky_session_force);
	assert_int_equal(lb->method, XJK_LB_REQUESTS);
	assert_int_equal(lb->retries, 2);
	assert_int_equal(lb->lb_retries, 2);
	assert_int_equal(lb->recover_time_s, 60);
	assert_int_equal(lb->error_escalation_time_s, 30);
	assert_string_equal(lb->session_cookie, "JSESSIONID");
	assert_string_equal(lb->session_path, ";jsessionid");
	assert_int_equal(lb->n_members, 2);
	assert_int_equal(lb->line, 13);

	static const struct {
		const char *name, *addr;
		int line;
	} want[] = {{"tomcat-6.0.26-1", "127.0.0.1:8009", 3},
		    {"tomcat-6.0.26-2", "127.0.0.1:9009", 8}};
	for (int i = 0; i < 2; i++) {
		const struct xjk_backend *b = &w.backends[lb->members[i]];
		assert_ptr_equal(b, backend(&w, want[i].name));
		assert_string_equal(b->name, want[i].name);
		assert_int_equal(b->type, XJK_WORKER_AJP13);
		assert_string_equal(b->host, "localhost");
		assert_string_equal(addr_text(b), want[i].addr);
		assert_int_equal(b->lbfactor, 1);
		assert_string_equal(b->route, want[i].name);
		/* mod_jk derives a domain from a route containing '.'. */
		assert_string_equal(b->domain, "tomcat-6");
		assert_int_equal(b->activation, XJK_ACTIVE);
		assert_null(b->secret);
		assert_int_equal(b->max_packet_size, 8192);
		assert_int_equal(b->retries, 2);
		assert_int_equal(b->retry_interval, 100);
		assert_int_equal(b->socket_connect_timeout, XJK_DEFAULT_CONNECT_TIMEOUT_MS);
		assert_int_equal(b->reply_timeout, 0);
		assert_int_equal(b->ping_mode, 0);
		assert_int_equal(b->ping_timeout, 10000);
		assert_int_equal(b->line, want[i].line);
	}
	assert_true(xjk_workers_listed(&w, "controller"));
	xjk_workers_free(&w);
	xjk_props_free(&p);
}

static void test_default_list_is_ajp13(void **state)
{
	(void)state;
	struct xjk_workers w;
	assert_int_equal(fx_workers(&w, "some.variable=1\n", err, sizeof(err)), 0);
	assert_int_equal(w.n_list, 1);
	assert_string_equal(w.list[0], "ajp13");
	const struct xjk_backend *b = backend(&w, "ajp13");
	assert_non_null(b);
	assert_string_equal(addr_text(b), "127.0.0.1:8009");
	xjk_workers_free(&w);
}

static void test_http_type_and_host_forms(void **state)
{
	(void)state;
	struct xjk_workers w;
	assert_int_equal(fx_workers(&w,
				    "worker.list=h,e,v6,v6p,pref\n"
				    "worker.h.type=http\n"
				    "worker.e.host=127.0.0.2:8111\n"
				    "worker.e.port=1\n"
				    "worker.v6.host=::1\n"
				    "worker.v6p.host=[::1]:8010\n"
				    "worker.pref.host=localhost\n"
				    "worker.pref.prefer_ipv6=true\n",
				    err, sizeof(err)),
			 0);
	assert_int_equal(backend(&w, "h")->type, XJK_WORKER_HTTP);
	assert_string_equal(addr_text(backend(&w, "h")), "127.0.0.1:8080");
	assert_string_equal(addr_text(backend(&w, "e")), "127.0.0.2:8111");
	assert_string_equal(backend(&w, "e")->host, "127.0.0.2");
	assert_string_equal(addr_text(backend(&w, "v6")), "[::1]:8009");
	assert_string_equal(addr_text(backend(&w, "v6p")), "[::1]:8010");
	assert_string_equal(backend(&w, "v6p")->host, "::1");
	/* /etc/hosts may or may not map localhost to ::1; IPv4 must not be preferred. */
	const struct xjk_backend *pref = backend(&w, "pref");
	assert_true(pref->addr.ss_family == AF_INET6 || !strcmp(addr_text(pref), "127.0.0.1:8009"));
	xjk_workers_free(&w);
}

static void test_member_attributes(void **state)
{
	(void)state;
	struct xjk_workers w;
	assert_int_equal(fx_workers(&w,
				    "worker.list=lb\n"
				    "worker.lb.type=lb\n"
				    "worker.lb.balance_workers=a b\n"
				    "worker.lb.balance_workers=c,d\n"
				    "worker.lb.method=busyness\n"
				    "worker.lb.sticky_session=off\n"
				    "worker.lb.recover_time=0\n"
				    "worker.a.lbfactor=0\n"
				    "worker.a.route=dom1.node1\n"
				    "worker.a.max_packet_size=9000\n"
				    "worker.b.lbfactor=3\n"
				    "worker.b.route=dom1.node2\n"
				    "worker.b.domain=explicit\n"
				    "worker.b.max_packet_size=64k\n"
				    "worker.c.port=0\n"
				    "worker.c.max_packet_size=100\n"
				    "worker.c.activation=disabled\n"
				    "worker.d.disabled=true\n"
				    "worker.d.jvm_route=old\n",
				    err, sizeof(err)),
			 0);
	const struct xjk_lb *lb = &w.lbs[0];
	assert_int_equal(lb->n_members, 4);
	assert_int_equal(lb->method, XJK_LB_BUSYNESS);
	assert_false(lb->sticky_session);
	assert_int_equal(lb->recover_time_s, 1);
	const struct xjk_backend *a = backend(&w, "a"), *b = backend(&w, "b"),
				 *c = backend(&w, "c"), *d = backend(&w, "d");
	assert_int_equal(a->lbfactor, 1);
	assert_string_equal(a->domain, "dom1");
	assert_int_equal(a->max_packet_size, 9216);
	assert_int_equal(b->lbfactor, 3);
	assert_string_equal(b->domain, "explicit");
	assert_int_equal(b->max_packet_size, 65536);
	assert_int_equal(c->activation, XJK_STOPPED); /* port 0 wins over activation */
	assert_int_equal(c->addrlen, 0);
	assert_int_equal(c->max_packet_size, 8192);
	assert_int_equal(d->activation, XJK_DISABLED);
	assert_string_equal(d->route, "old");
	/* lb members are not mountable unless listed. */
	assert_false(xjk_workers_listed(&w, "a"));
	struct xjk_worker_ref ref;
	assert_int_equal(xjk_workers_find(&w, "a", &ref), 0);
	assert_int_equal(xjk_workers_find(&w, "nope", &ref), -1);
	xjk_workers_free(&w);
}

static void test_timeouts_and_ping(void **state)
{
	(void)state;
	struct xjk_workers w;
	assert_int_equal(fx_workers(&w,
				    "worker.list=a,b,c\n"
				    "worker.a.ping_mode=A\n"
				    "worker.a.ping_timeout=2000\n"
				    "worker.a.socket_timeout=5\n"
				    "worker.b.prepost_timeout=300\n"
				    "worker.b.socket_connect_timeout=250\n"
				    "worker.b.reply_timeout=60000\n"
				    "worker.b.retries=0\n"
				    "worker.c.ping_mode=cx\n"
				    "worker.c.connection_pool_size=10\n"
				    "worker.c.fail_on_status=500, -404 503\n",
				    err, sizeof(err)),
			 0);
	const struct xjk_backend *a = backend(&w, "a"), *b = backend(&w, "b"),
				 *c = backend(&w, "c");
	assert_int_equal(a->ping_mode, XJK_PING_CONNECT | XJK_PING_PREPOST | XJK_PING_INTERVAL);
	assert_int_equal(a->connect_timeout, 2000);
	assert_int_equal(a->prepost_timeout, 2000);
	assert_int_equal(a->connection_ping_interval_s, 20);
	assert_int_equal(a->socket_connect_timeout, 5000);
	assert_int_equal(b->ping_mode, XJK_PING_PREPOST);
	assert_int_equal(b->prepost_timeout, 300);
	assert_int_equal(b->socket_connect_timeout, 250);
	assert_int_equal(b->reply_timeout, 60000);
	assert_int_equal(b->retries, 1);
	assert_int_equal(c->ping_mode, XJK_PING_CONNECT);
	assert_true(fx_logged("unknown ping_mode letter 'x'"));
	assert_int_equal(c->pool_size, 10);
	assert_int_equal(c->pool_minsize, 5);
	assert_int_equal(c->n_fail_on_status, 3);
	assert_int_equal(c->fail_on_status[0], 500);
	assert_int_equal(c->fail_on_status[1], -404);
	assert_int_equal(c->fail_on_status[2], 503);
	xjk_workers_free(&w);
}

static void test_secret_inherited_from_lb(void **state)
{
	(void)state;
	struct xjk_workers w;
	assert_int_equal(fx_workers(&w,
				    "worker.list=lb\n"
				    "worker.lb.type=lb\n"
				    "worker.lb.balance_workers=a,b\n"
				    "worker.lb.secret=s3cret\n"
				    "worker.a.port=1\n"
				    "worker.b.secret=own\n",
				    err, sizeof(err)),
			 0);
	assert_string_equal(backend(&w, "a")->secret, "s3cret");
	assert_string_equal(backend(&w, "b")->secret, "own");
	xjk_workers_free(&w);
}

static void test_status_worker(void **state)
{
	(void)state;
	struct xjk_workers w;
	assert_int_equal(fx_workers(&w,
				    "worker.list=jk\n"
				    "worker.jk.type=status\n"
				    "worker.jk.read_only=1\n"
				    "worker.jk.user=alice\n",
				    err, sizeof(err)),
			 0);
	struct xjk_worker_ref ref;
	assert_int_equal(xjk_workers_find(&w, "jk", &ref), 0);
	assert_int_equal(ref.type, XJK_WORKER_STATUS);
	const struct xjk_status *s = &w.statuses[ref.index];
	assert_true(s->read_only);
	assert_string_equal(s->users, "alice");
	assert_string_equal(s->good, "a.o,a.n,a.b,a.r");
	assert_string_equal(s->bad, "s,e");
	assert_string_equal(s->ns, "jk:");
	assert_string_equal(xjk_workers_ref_name(&w, ref), "jk");
	xjk_workers_free(&w);
}

static void test_unimplemented_attributes_warn(void **state)
{
	(void)state;
	struct xjk_workers w;
	assert_int_equal(fx_workers(&w,
				    "worker.list=lb\n"
				    "worker.lb.type=lb\n"
				    "worker.lb.balance_workers=a\n"
				    "worker.lb.lock=P\n"
				    "worker.a.socket_buffer=65536\n",
				    err, sizeof(err)),
			 0);
	assert_true(fx_logged("t.properties:4: worker.lb.lock is not implemented by xjk yet"));
	assert_true(fx_logged("t.properties:5: worker.a.socket_buffer is not implemented"));
	xjk_workers_free(&w);
}

static void expect_error(const char *text, const char *message)
{
	struct xjk_workers w;
	assert_int_equal(fx_workers(&w, text, err, sizeof(err)), -1);
	if (!strstr(err, message))
		fail_msg("error '%s' lacks '%s'", err, message);
	assert_int_equal(w.n_backends + w.n_lbs + w.n_list, 0);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error(
		"worker.list=lb\n"
		"worker.lb.type=lb\n"
		"worker.lb.balance_workers=a,b\n"
		"worker.a.route=r\n"
		"worker.b.route=r\n",
		"t.properties:3: members 'a' and 'b' of lb worker 'lb' have the same route 'r'");
	expect_error("worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=ghost\n",
		     "t.properties:3: member 'ghost' of lb worker 'lb' is not defined");
	expect_error("worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=x\n"
		     "worker.x.type=status\n",
		     "must be of type ajp13 or http");
	expect_error("worker.list=lb\nworker.lb.type=lb\n", "t.properties:2: lb worker 'lb' has no "
							    "balance_workers");
	expect_error("worker.list=a\nworker.a.type=ajp14\n",
		     "t.properties:2: worker type 'ajp14' is not supported by xjk");
	expect_error("worker.list=a\nworker.a.type=bogus\n", "unknown worker type 'bogus'");
	expect_error("worker.list=a\nworker.a.port=70000\n",
		     "port 70000 of worker 'a' is out of range");
	expect_error("worker.list=a\nworker.a.fail_on_status=50x\n", "bad HTTP status '50x'");
	expect_error("worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=a,a\n"
		     "worker.a.port=1\n",
		     "worker 'a' is listed twice in lb worker 'lb'");
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(xjk_worker_state_name(XJK_STATE_OK_IDLE), "OK/IDLE");
	assert_string_equal(xjk_worker_state_name(XJK_STATE_OK), "OK");
	assert_string_equal(xjk_worker_state_name(XJK_STATE_ERR_REC), "ERR/REC");
	assert_string_equal(xjk_worker_state_name(XJK_STATE_ERR_FRC), "ERR/FRC");
	assert_string_equal(xjk_worker_state_name(XJK_STATE_OK_BUSY), "OK/BUSY");
	assert_string_equal(xjk_worker_state_name(XJK_STATE_ERR), "ERR");
	assert_string_equal(xjk_worker_state_name(XJK_STATE_ERR_PRB), "ERR/PRB");
	assert_string_equal(xjk_activation_name(XJK_ACTIVE), "ACT");
	assert_string_equal(xjk_activation_name(XJK_DISABLED), "DIS");
	assert_string_equal(xjk_activation_name(XJK_STOPPED), "STP");
	assert_string_equal(xjk_worker_type_name(XJK_WORKER_HTTP), "http");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seed_workers_properties, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_default_list_is_ajp13, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_http_type_and_host_forms, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_member_attributes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_timeouts_and_ping, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_secret_inherited_from_lb, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_status_worker, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unimplemented_attributes_warn, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_errors, fx_setup, fx_teardown),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
