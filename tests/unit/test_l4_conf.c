/* test_l4_conf.c: the XjkL4Vip directive: accepted forms and every rejection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "l4.h"
#include "maglev.h"

static int parse(struct xjk_l4_config *cfg, const char *line, char *err)
{
	static char buf[512];
	char *argv[32];
	int argc = 0;

	strcpy(buf, line);
	for (char *t = strtok(buf, " "); t; t = strtok(NULL, " "))
		argv[argc++] = t;
	return xjk_l4_parse_directive(cfg, argc, argv, err, 256);
}

static void test_ipv4_members_and_defaults(void **state)
{
	(void)state;
	struct xjk_l4_config cfg = {0};
	char err[256];

	assert_int_equal(parse(&cfg, "10.0.0.100:80 tcp eth0 lbworker 10.0.0.12=2", err), 0);
	const struct xjk_l4_vip_conf *v = &cfg.vips[0];
	assert_int_equal(v->key.family, XJK_L4_FAMILY_V4);
	assert_int_equal(v->key.addr[0], inet_addr("10.0.0.100"));
	assert_int_equal(v->key.port, htons(80));
	assert_int_equal(v->key.proto, IPPROTO_TCP);
	assert_string_equal(v->ifname, "eth0");
	assert_int_equal(v->ring_size, XJK_MAGLEV_DEFAULT_M);
	assert_false(v->generic);
	assert_int_equal(v->n_members, 2);
	assert_string_equal(v->members[0].ref, "lbworker");
	assert_int_equal(v->members[0].weight, 0);
	assert_string_equal(v->members[1].ref, "10.0.0.12");
	assert_int_equal(v->members[1].weight, 2);
	assert_string_equal(v->text, "10.0.0.100:80/tcp");
	xjk_l4_config_free(&cfg);
}

static void test_ipv6_udp_options(void **state)
{
	(void)state;
	struct xjk_l4_config cfg = {0};
	char err[256];
	struct in6_addr want;

	assert_int_equal(
		parse(&cfg, "[fd00::100]:53 udp eth1 fd00::11 ring=1021 mode=generic", err), 0);
	const struct xjk_l4_vip_conf *v = &cfg.vips[0];
	inet_pton(AF_INET6, "fd00::100", &want);
	assert_memory_equal(v->key.addr, &want, 16);
	assert_int_equal(v->key.family, XJK_L4_FAMILY_V6);
	assert_int_equal(v->key.proto, IPPROTO_UDP);
	assert_int_equal(v->ring_size, 1021);
	assert_true(v->generic);
	assert_string_equal(v->members[0].ref, "fd00::11");
	xjk_l4_config_free(&cfg);
}

static void test_rejections(void **state)
{
	(void)state;
	struct xjk_l4_config cfg = {0};
	char err[256];
	const char *bad[] = {
		"10.0.0.100:80 tcp eth0",		       /* no members */
		"10.0.0.100 tcp eth0 a",		       /* no port */
		"10.0.0.100:0 tcp eth0 a",		       /* port 0 */
		"10.0.0.100:70000 tcp eth0 a",		       /* port too big */
		"10.0.0.300:80 tcp eth0 a",		       /* bad address */
		"fd00::1:80 tcp eth0 a",		       /* IPv6 without brackets */
		"10.0.0.100:80 sctp eth0 a",		       /* protocol */
		"10.0.0.100:80 tcp averyveryverylongifname a", /* interface name */
		"10.0.0.100:80 tcp eth0 a=0",		       /* weight 0 */
		"10.0.0.100:80 tcp eth0 a=x",		       /* weight not a number */
		"10.0.0.100:80 tcp eth0 a ring=1000",	       /* ring not a supported prime */
		"10.0.0.100:80 tcp eth0 a mode=turbo",	       /* mode */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(&cfg, bad[i], err) != -1 || err[0] == '\0')
			fail_msg("accepted: %s", bad[i]);
	}
	assert_int_equal(cfg.n_vips, 0);
	assert_int_equal(parse(&cfg, "10.0.0.100:80 tcp eth0 a", err), 0);
	assert_int_equal(parse(&cfg, "10.0.0.100:80 tcp eth1 b", err), -1);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(parse(&cfg, "10.0.0.100:80 udp eth0 a", err), 0);
	assert_int_equal(cfg.n_vips, 2);
	xjk_l4_config_free(&cfg);
	assert_int_equal(cfg.n_vips, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_members_and_defaults),
		cmocka_unit_test(test_ipv6_udp_options),
		cmocka_unit_test(test_rejections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
