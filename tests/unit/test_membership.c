/* test_membership.c: member table with an injected clock, echo suppression,
 * rate limits, filters, directives and the member -> worker mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "config.h"
#include "membership.h"
#include "wstate.h"

#define DROP 3000

struct event {
	enum xjk_member_event ev;
	int32_t port;
	uint8_t uid0;
};

struct recorder {
	struct event ev[16];
	int n;
};

static void record(void *ctx, const struct xjk_member *m, enum xjk_member_event ev)
{
	struct recorder *r = ctx;
	assert_true(r->n < 16);
	r->ev[r->n++] = (struct event){.ev = ev, .port = m->port, .uid0 = m->uid[0]};
}

/* A beacon from 10.0.0.1:PORT whose uniqueId starts with UID0. */
static struct xjk_tribes_beacon beacon(int32_t port, uint8_t uid0, int64_t alive)
{
	struct xjk_tribes_beacon b = {.port = port, .host_len = 4, .alive_ms = alive};
	memcpy(b.host, "\x0a\x00\x00\x01", 4);
	b.uid[0] = uid0;
	b.domain = (const uint8_t *)"";
	b.command = (const uint8_t *)"";
	return b;
}

static struct xjk_tribes_beacon shutdown_beacon(int32_t port, uint8_t uid0)
{
	struct xjk_tribes_beacon b = beacon(port, uid0, 9999);
	b.command = (const uint8_t *)"BABY-ALEX";
	b.command_len = 9;
	return b;
}

static void update_with(struct xjk_member_table *t, struct xjk_tribes_beacon b, uint64_t now,
			xjk_member_fn fn, void *ctx)
{
	assert_int_equal(xjk_membership_table_update(t, &b, now, fn, ctx), 0);
}

static void update(struct xjk_member_table *t, struct xjk_tribes_beacon b, uint64_t now,
		   struct recorder *r)
{
	update_with(t, b, now, record, r);
}

static void test_join_refresh_expire(void **state)
{
	(void)state;
	struct xjk_member_table t = {0};
	struct recorder r = {0};
	uint64_t when;

	assert_false(xjk_membership_table_next_expiry(&t, DROP, &when));
	update(&t, beacon(4000, 1, 10), 1000, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].ev, XJK_MEMBER_JOINED);
	assert_string_equal(t.v[0].addr, "10.0.0.1:4000");

	update(&t, beacon(4000, 1, 510), 1500, &r);
	assert_int_equal(r.n, 1); /* a refresh is no event */
	assert_int_equal(t.n, 1);
	assert_int_equal(t.v[0].alive_ms, 510);
	assert_int_equal(t.v[0].beacons, 2);
	assert_int_equal(t.v[0].first_seen_ms, 1000);
	assert_int_equal(t.v[0].last_seen_ms, 1500);

	assert_true(xjk_membership_table_next_expiry(&t, DROP, &when));
	assert_int_equal(when, 1500 + DROP + 1);
	/* Exactly dropTime of silence is still alive; one more ms is not. */
	xjk_membership_table_expire(&t, 1500 + DROP, DROP, record, &r);
	assert_int_equal(t.n, 1);
	xjk_membership_table_expire(&t, 1500 + DROP + 1, DROP, record, &r);
	assert_int_equal(t.n, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[1].ev, XJK_MEMBER_EXPIRED);
	xjk_membership_table_free(&t);
}

static void test_expire_only_silent(void **state)
{
	(void)state;
	struct xjk_member_table t = {0};
	struct recorder r = {0};
	uint64_t when;
	update(&t, beacon(4000, 1, 0), 0, &r);
	update(&t, beacon(4001, 2, 0), 100, &r);
	update(&t, beacon(4002, 3, 0), 200, &r);
	update(&t, beacon(4000, 1, 2000), 2000, &r); /* 4000 speaks again */

	assert_true(xjk_membership_table_next_expiry(&t, DROP, &when));
	assert_int_equal(when, 100 + DROP + 1);
	xjk_membership_table_expire(&t, 3250, DROP, record, &r);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.v[0].port, 4000);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.ev[3].ev, XJK_MEMBER_EXPIRED);
	assert_int_equal(r.ev[4].ev, XJK_MEMBER_EXPIRED);
	assert_int_equal(r.ev[3].port + r.ev[4].port, 4001 + 4002);
	xjk_membership_table_free(&t);
}

static void test_shutdown_removes_at_once(void **state)
{
	(void)state;
	struct xjk_member_table t = {0};
	struct recorder r = {0};
	update(&t, beacon(4000, 1, 0), 0, &r);
	update(&t, beacon(4001, 2, 0), 0, &r);

	/* Another member's shutdown, or one from an unknown uniqueId, removes nothing. */
	update(&t, shutdown_beacon(4002, 1), 10, &r);
	update(&t, shutdown_beacon(4000, 9), 10, &r);
	assert_int_equal(t.n, 1);
	assert_int_equal(r.ev[2].ev, XJK_MEMBER_RESTARTED); /* 4000 got a new uid */

	update(&t, shutdown_beacon(4001, 2), 20, &r);
	assert_int_equal(t.n, 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.ev[3].ev, XJK_MEMBER_SHUTDOWN);
	assert_int_equal(r.ev[3].port, 4001);
	xjk_membership_table_free(&t);
}

static void test_restart_replaces(void **state)
{
	(void)state;
	struct xjk_member_table t = {0};
	struct recorder r = {0};
	update(&t, beacon(4000, 1, 50000), 0, &r);
	update(&t, beacon(4000, 2, 0), 600, &r);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.v[0].uid[0], 2);
	assert_int_equal(t.v[0].first_seen_ms, 600);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ev[1].ev, XJK_MEMBER_RESTARTED);
	assert_int_equal(r.ev[1].uid0, 1);
	assert_int_equal(r.ev[2].ev, XJK_MEMBER_JOINED);
	assert_int_equal(r.ev[2].uid0, 2);
	xjk_membership_table_free(&t);
}

static void test_identity_includes_host(void **state)
{
	(void)state;
	struct xjk_member_table t = {0};
	struct recorder r = {0};
	struct xjk_tribes_beacon v6 = beacon(4000, 1, 0);
	v6.host_len = 16;
	memset(v6.host, 0, 16);
	memcpy(v6.host, "\x0a\x00\x00\x01", 4); /* same first bytes, other family */
	update(&t, beacon(4000, 1, 0), 0, &r);
	update(&t, v6, 0, &r);
	struct xjk_tribes_beacon other = beacon(4000, 1, 0);
	other.host[3] = 2;
	update(&t, other, 0, &r);
	assert_int_equal(t.n, 3);
	assert_int_equal(r.n, 3);
	xjk_membership_table_free(&t);
}

static void test_domain_copied_printable(void **state)
{
	(void)state;
	struct xjk_member_table t = {0};
	struct recorder r = {0};
	struct xjk_tribes_beacon b = beacon(4000, 1, 0);
	b.domain = (const uint8_t *)"ab\x01"
				    "c";
	b.domain_len = 4;
	update(&t, b, 0, &r);
	assert_string_equal(t.v[0].domain, "ab?c");
	xjk_membership_table_free(&t);
}

static void test_seen(void **state)
{
	(void)state;
	struct xjk_seen *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	assert_false(xjk_membership_seen(s, "beacon-1", 8, 100));
	assert_true(xjk_membership_seen(s, "beacon-1", 8, 110));
	assert_false(xjk_membership_seen(s, "beacon-2", 8, 110));
	assert_true(xjk_membership_seen(s, "beacon-1", 8, 100 + XJK_MEMBERSHIP_SEEN_WINDOW));
	assert_false(xjk_membership_seen(s, "beacon-1", 8, 101 + XJK_MEMBERSHIP_SEEN_WINDOW));

	/* Hundreds of beacons in one window (a large cluster, relayed both
	 * ways) are nearly all remembered despite slot collisions. */
	char buf[16];
	int remembered = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(buf, sizeof(buf), "fill-%d", i);
		xjk_membership_seen(s, buf, strlen(buf), 20000);
	}
	for (int i = 0; i < 200; i++) {
		snprintf(buf, sizeof(buf), "fill-%d", i);
		remembered += xjk_membership_seen(s, buf, strlen(buf), 20001);
	}
	assert_true(remembered >= 190);
	free(s);
}

static void test_rate(void **state)
{
	(void)state;
	struct xjk_rate r;
	xjk_membership_rate_init(&r, 4, 1000);
	for (int i = 0; i < 4; i++)
		assert_true(xjk_membership_rate_take(&r, 1000));
	assert_false(xjk_membership_rate_take(&r, 1000));
	assert_false(xjk_membership_rate_take(&r, 1200)); /* 0.8 of a token */
	assert_true(xjk_membership_rate_take(&r, 1250));
	assert_false(xjk_membership_rate_take(&r, 1250));
	/* A long pause refills one second's worth, not more. */
	for (int i = 0; i < 4; i++)
		assert_true(xjk_membership_rate_take(&r, 60000));
	assert_false(xjk_membership_rate_take(&r, 60000));
}

/* Applies a directive given as one line; returns what xjk_membership_directive does. */
static int directive(struct xjk_membership_config *mc, const char *line, char *err)
{
	char buf[256], *words[16], *save = NULL;
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	err[0] = '\0';
	return n ? xjk_membership_directive(mc, words[0], n - 1, words + 1, err, 200) : 1;
}

static void test_directives(void **state)
{
	(void)state;
	struct xjk_membership_config mc;
	char err[200];
	xjk_membership_config_init(&mc);
	assert_int_equal(mc.drop_ms, XJK_MEMBERSHIP_DROP_MS);

	assert_int_equal(directive(&mc,
				   "XjkMembership 228.0.0.4:45564 eth0 dropTime=2500 "
				   "allow=10.0.0.0/8,fd00::/8 domain=dom-A maxSize=512",
				   err),
			 0);
	assert_true(mc.enabled);
	assert_string_equal(inet_ntoa(mc.group.sin_addr), "228.0.0.4");
	assert_int_equal(ntohs(mc.group.sin_port), 45564);
	assert_string_equal(mc.ifname, "eth0");
	assert_int_equal(mc.drop_ms, 2500);
	assert_int_equal(mc.max_size, 512);
	assert_int_equal(mc.n_allow, 2);
	assert_int_equal(mc.allow[1].len, 16);
	assert_string_equal(mc.domain, "dom-A");

	assert_int_equal(directive(&mc, "XjkMembership 228.0.0.4:45564 eth0", err), -1);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(directive(&mc, "xjkmemberworker 10.0.0.1:4000 node1", err), 0);
	assert_int_equal(directive(&mc, "XjkMemberWorker [fd00::1]:4001 node2", err), 0);
	assert_int_equal(mc.n_maps, 2);
	assert_int_equal(mc.maps[1].host_len, 16);
	assert_int_equal(mc.maps[1].port, 4001);
	assert_int_equal(directive(&mc, "XjkRelayInterface eth1 eth2", err), 0);
	assert_int_equal(mc.n_relay_ifaces, 2);
	assert_string_equal(mc.relay_ifaces[1], "eth2");
	assert_int_equal(directive(&mc, "XjkRelayPeer 192.0.2.1:45565 192.0.2.2:45565", err), 0);
	assert_int_equal(mc.n_relay_peers, 2);
	assert_int_equal(directive(&mc, "XjkRelayRate 20", err), 0);
	assert_int_equal(mc.relay_rate, 20);
	assert_int_equal(directive(&mc, "JkMount /* lb", err), 1);

	assert_int_equal(xjk_membership_config_check(&mc, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "XjkRelayListen"));
	assert_int_equal(directive(&mc, "XjkRelayListen 0.0.0.0:45565", err), 0);
	assert_int_equal(xjk_membership_config_check(&mc, NULL, err, sizeof(err)), 0);
	assert_int_equal(directive(&mc, "XjkRelayInterface eth0", err), 0);
	assert_int_equal(xjk_membership_config_check(&mc, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "membership interface"));
	xjk_membership_config_free(&mc);
	assert_null(mc.maps);
}

static void test_directive_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"XjkMembership 10.0.0.4:45564 eth0", /* not multicast */
		"XjkMembership 228.0.0.4 eth0",
		"XjkMembership 228.0.0.4:0 eth0",
		"XjkMembership 228.0.0.4:45564",
		"XjkMembership 228.0.0.4:45564 an-interface-name-too-long",
		"XjkMembership 228.0.0.4:45564 eth0 dropTime=fast",
		"XjkMembership 228.0.0.4:45564 eth0 dropTime=10",
		"XjkMembership 228.0.0.4:45564 eth0 allow=10.0.0.0/33",
		"XjkMembership 228.0.0.4:45564 eth0 allow=10.0.0.0/8,nonsense",
		"XjkMembership 228.0.0.4:45564 eth0 bind=1.2.3.4",
		"XjkMembership 228.0.0.4:45564 eth0 dropTime",
		"XjkMemberWorker 10.0.0.1 node1",
		"XjkMemberWorker node1.example:4000 node1",
		"XjkMemberWorker fd00::1:4000 node1",
		"XjkMemberWorker 10.0.0.1:4000",
		"XjkRelayListen [::]:45565",
		"XjkRelayPeer",
		"XjkRelayRate 0",
		"XjkRelayRate 5x",
	};
	char err[200];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xjk_membership_config mc;
		xjk_membership_config_init(&mc);
		if (directive(&mc, bad[i], err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
		assert_false(mc.enabled);
		xjk_membership_config_free(&mc);
	}
}

static void test_check_needs_membership(void **state)
{
	(void)state;
	struct xjk_membership_config mc;
	char err[200];
	xjk_membership_config_init(&mc);
	assert_int_equal(xjk_membership_config_check(&mc, NULL, err, sizeof(err)), 0);
	assert_int_equal(directive(&mc, "XjkRelayInterface eth1", err), 0);
	assert_int_equal(xjk_membership_config_check(&mc, NULL, err, sizeof(err)), -1);
	xjk_membership_config_free(&mc);
}

static void test_accept_filters(void **state)
{
	(void)state;
	struct xjk_membership_config mc;
	char err[200];
	xjk_membership_config_init(&mc);
	struct xjk_tribes_beacon b = beacon(4000, 1, 0); /* 10.0.0.1, no domain */
	assert_true(xjk_membership_accept(&mc, &b));

	assert_int_equal(directive(&mc, "XjkMembership 228.0.0.4:45564 lo allow=10.0.0.9/31", err),
			 0);
	assert_false(xjk_membership_accept(&mc, &b));
	b.host[3] = 8;
	assert_true(xjk_membership_accept(&mc, &b));
	b.host[3] = 10;
	assert_false(xjk_membership_accept(&mc, &b));
	xjk_membership_config_free(&mc);

	xjk_membership_config_init(&mc);
	assert_int_equal(directive(&mc,
				   "XjkMembership 228.0.0.4:45564 lo allow=::/0,10.0.0.1 "
				   "domain=dom-A",
				   err),
			 0);
	b = beacon(4000, 1, 0);
	assert_false(xjk_membership_accept(&mc, &b)); /* no domain */
	b.domain = (const uint8_t *)"dom-AB";
	b.domain_len = 5;
	assert_true(xjk_membership_accept(&mc, &b));
	b.domain_len = 6;
	assert_false(xjk_membership_accept(&mc, &b));
	b.domain_len = 5;
	b.host[3] = 2;
	assert_false(xjk_membership_accept(&mc, &b)); /* ::/0 covers IPv6 only */
	b.host_len = 16;
	assert_true(xjk_membership_accept(&mc, &b));
	xjk_membership_config_free(&mc);
}

static void set_backend(struct xjk_backend *be, const char *name, const char *ip)
{
	memset(be, 0, sizeof(*be));
	snprintf(be->name, sizeof(be->name), "%s", name);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&be->addr;
		sin6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&be->addr;
		sin->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	}
}

static void test_workers_mapping(void **state)
{
	(void)state;
	struct xjk_backend be[5];
	set_backend(&be[0], "node1", "10.0.0.1");
	set_backend(&be[1], "node1http", "10.0.0.1");
	set_backend(&be[2], "node2", "10.0.0.2");
	set_backend(&be[3], "node3", "10.0.0.3");
	set_backend(&be[4], "node4", "fd00::4");
	struct xjk_workers w = {.backends = be, .n_backends = 5};
	struct xjk_membership_config mc;
	char err[200];
	int out[4];
	xjk_membership_config_init(&mc);

	struct xjk_member_table t = {0};
	struct recorder r = {0};
	update(&t, beacon(4000, 1, 0), 0, &r); /* 10.0.0.1:4000 */
	const struct xjk_member *m = &t.v[0];

	/* By host: every backend at the member's address. */
	assert_int_equal(xjk_membership_workers(&mc, &w, m, out, 4), 2);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 1);
	assert_int_equal(xjk_membership_workers(&mc, &w, m, out, 1), 1);

	/* An explicit line for the host decides alone, port included. */
	assert_int_equal(directive(&mc, "XjkMembership 228.0.0.4:45564 lo", err), 0);
	assert_int_equal(directive(&mc, "XjkMemberWorker 10.0.0.1:4001 node3", err), 0);
	assert_int_equal(xjk_membership_workers(&mc, &w, m, out, 4), 0);
	assert_int_equal(directive(&mc, "XjkMemberWorker 10.0.0.1:4000 node2", err), 0);
	assert_int_equal(xjk_membership_workers(&mc, &w, m, out, 4), 1);
	assert_int_equal(out[0], 2);
	assert_int_equal(xjk_membership_config_check(&mc, &w, err, sizeof(err)), 0);
	assert_int_equal(directive(&mc, "XjkMemberWorker 10.0.0.9:4000 nobody", err), 0);
	assert_int_equal(xjk_membership_config_check(&mc, &w, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nobody"));

	/* IPv6 members match IPv6 backends. */
	struct xjk_tribes_beacon v6 = beacon(4000, 2, 0);
	v6.host_len = 16;
	assert_int_equal(inet_pton(AF_INET6, "fd00::4", v6.host), 1);
	update(&t, v6, 0, &r);
	assert_int_equal(xjk_membership_workers(&mc, &w, &t.v[1], out, 4), 1);
	assert_int_equal(out[0], 4);

	xjk_membership_table_free(&t);
	xjk_membership_config_free(&mc);
}

/* Members drive worker states through failover control. */
static void test_failover(void **state)
{
	(void)state;
	struct xjk_config cfg = {0};
	struct xjk_backend be[3];
	set_backend(&be[0], "node1", "10.0.0.1");
	set_backend(&be[1], "node1http", "10.0.0.1");
	set_backend(&be[2], "node2", "10.0.0.2");
	cfg.workers = (struct xjk_workers){.backends = be, .n_backends = 3};
	xjk_membership_config_init(&cfg.membership);
	assert_int_equal(xjk_wstate_init(&cfg.workers), 0);

	struct xjk_member_table t = {0};
	update_with(&t, beacon(4000, 1, 0), 0, xjk_membership_failover, &cfg);
	/* Joining does not touch healthy workers. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(xjk_wstate_state(i), XJK_STATE_OK_IDLE);

	xjk_membership_table_expire(&t, DROP + 1, DROP, xjk_membership_failover, &cfg);
	assert_int_equal(xjk_wstate_state(0), XJK_STATE_ERR);
	assert_int_equal(xjk_wstate_state(1), XJK_STATE_ERR);
	assert_int_equal(xjk_wstate_state(2), XJK_STATE_OK_IDLE);

	/* Back: may recover, a probe or a health check decides. */
	update_with(&t, beacon(4000, 2, 0), DROP + 10, xjk_membership_failover, &cfg);
	assert_int_equal(xjk_wstate_state(0), XJK_STATE_ERR_REC);
	update_with(&t, shutdown_beacon(4000, 2), DROP + 20, xjk_membership_failover, &cfg);
	assert_int_equal(xjk_wstate_state(0), XJK_STATE_ERR);

	xjk_membership_table_free(&t);
	xjk_wstate_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_refresh_expire),
		cmocka_unit_test(test_expire_only_silent),
		cmocka_unit_test(test_shutdown_removes_at_once),
		cmocka_unit_test(test_restart_replaces),
		cmocka_unit_test(test_identity_includes_host),
		cmocka_unit_test(test_domain_copied_printable),
		cmocka_unit_test(test_seen),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_directive_errors),
		cmocka_unit_test(test_check_needs_membership),
		cmocka_unit_test(test_accept_filters),
		cmocka_unit_test(test_workers_mapping),
		cmocka_unit_test(test_failover),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
