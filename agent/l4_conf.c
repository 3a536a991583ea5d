/* l4_conf.c: parses the XjkL4Vip directive into struct xjk_l4_config. */
#include "l4.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l4_fail.h"
#include "maglev.h"

#define MAX_WEIGHT 100000

int xjk_l4_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static int parse_uint(const char *s, unsigned long max, uint32_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "10.0.0.100:80" or "[fd00::100]:80" */
static int parse_vip_addr(const char *s, struct xjk_l4_vip_key *key)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	uint32_t port;

	if (!colon || (size_t)(colon - s) >= sizeof(host) || parse_uint(colon + 1, 65535, &port) ||
	    port == 0)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	key->port = htons((uint16_t)port);
	if (host[0] == '[') {
		size_t n = strlen(host);
		if (n < 3 || host[n - 1] != ']')
			return -1;
		host[n - 1] = '\0';
		key->family = XJK_L4_FAMILY_V6;
		return inet_pton(AF_INET6, host + 1, key->addr) == 1 ? 0 : -1;
	}
	key->family = XJK_L4_FAMILY_V4;
	return inet_pton(AF_INET, host, key->addr) == 1 ? 0 : -1;
}

static int parse_option(struct xjk_l4_vip_conf *v, const char *arg, char *err, size_t errlen)
{
	if (strncmp(arg, "ring=", 5) == 0) {
		if (parse_uint(arg + 5, UINT32_MAX, &v->ring_size) ||
		    !xjk_maglev_size_ok(v->ring_size))
			return xjk_l4_fail(
				err, errlen, -1,
				"XjkL4Vip: %s: ring size must be one of the supported primes "
				"(251 509 1021 2039 4093 8191 16381 32749 65537)",
				arg);
		return 0;
	}
	if (strcmp(arg, "mode=native") == 0 || strcmp(arg, "mode=generic") == 0) {
		v->generic = arg[5] == 'g';
		return 0;
	}
	return xjk_l4_fail(err, errlen, -1,
			   "XjkL4Vip: unknown option '%s' (ring=M, mode=native|generic)", arg);
}

static int parse_member(struct xjk_l4_member_conf *m, const char *arg, char *err, size_t errlen)
{
	const char *eq = strrchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

	if (n == 0 || n >= sizeof(m->ref))
		return xjk_l4_fail(err, errlen, -1, "XjkL4Vip: bad member '%s'", arg);
	memcpy(m->ref, arg, n);
	m->ref[n] = '\0';
	m->weight = 0;
	if (eq && (parse_uint(eq + 1, MAX_WEIGHT, &m->weight) || m->weight == 0))
		return xjk_l4_fail(err, errlen, -1, "XjkL4Vip: member '%s': weight must be 1..%d",
				   arg, MAX_WEIGHT);
	return 0;
}

static int parse_vip(struct xjk_l4_vip_conf *v, int argc, char **argv, char *err, size_t errlen)
{
	if (argc < 4)
		return xjk_l4_fail(
			err, errlen, -1,
			"XjkL4Vip takes ADDR:PORT tcp|udp IFACE MEMBER[=WEIGHT]... [ring=M] "
			"[mode=native|generic]");
	if (parse_vip_addr(argv[0], &v->key))
		return xjk_l4_fail(err, errlen, -1,
				   "XjkL4Vip: bad address '%s' (ADDR:PORT or [ADDR6]:PORT)",
				   argv[0]);
	if (strcmp(argv[1], "tcp") == 0)
		v->key.proto = IPPROTO_TCP;
	else if (strcmp(argv[1], "udp") == 0)
		v->key.proto = IPPROTO_UDP;
	else
		return xjk_l4_fail(err, errlen, -1,
				   "XjkL4Vip: protocol must be tcp or udp, not '%s'", argv[1]);
	if (strlen(argv[2]) >= sizeof(v->ifname))
		return xjk_l4_fail(err, errlen, -1, "XjkL4Vip: interface name '%s' too long",
				   argv[2]);
	strcpy(v->ifname, argv[2]);
	snprintf(v->text, sizeof(v->text), "%s/%s", argv[0], argv[1]);
	v->ring_size = XJK_MAGLEV_DEFAULT_M;

	v->members = calloc((size_t)argc, sizeof(*v->members));
	if (!v->members)
		return xjk_l4_fail(err, errlen, -1, "out of memory");
	for (int i = 3; i < argc; i++) {
		bool option =
			strncmp(argv[i], "ring=", 5) == 0 || strncmp(argv[i], "mode=", 5) == 0;
		int rc = option ? parse_option(v, argv[i], err, errlen)
				: parse_member(&v->members[v->n_members++], argv[i], err, errlen);
		if (rc)
			return rc;
	}
	if (v->n_members == 0)
		return xjk_l4_fail(err, errlen, -1, "XjkL4Vip %s: no members", v->text);
	return 0;
}

int xjk_l4_parse_directive(struct xjk_l4_config *cfg, int argc, char **argv, char *err,
			   size_t errlen)
{
	struct xjk_l4_vip_conf v = {0};

	if (cfg->n_vips >= XJK_L4_MAX_VIPS)
		return xjk_l4_fail(err, errlen, -1, "XjkL4Vip: at most %d VIPs", XJK_L4_MAX_VIPS);
	if (parse_vip(&v, argc, argv, err, errlen)) {
		free(v.members);
		return -1;
	}
	for (int i = 0; i < cfg->n_vips; i++) {
		if (memcmp(&cfg->vips[i].key, &v.key, sizeof(v.key)) == 0) {
			free(v.members);
			return xjk_l4_fail(err, errlen, -1, "XjkL4Vip %s declared twice", v.text);
		}
	}
	struct xjk_l4_vip_conf *vips = realloc(cfg->vips, (cfg->n_vips + 1) * sizeof(*vips));
	if (!vips) {
		free(v.members);
		return xjk_l4_fail(err, errlen, -1, "out of memory");
	}
	cfg->vips = vips;
	cfg->vips[cfg->n_vips++] = v;
	return 0;
}

void xjk_l4_config_free(struct xjk_l4_config *cfg)
{
	for (int i = 0; i < cfg->n_vips; i++)
		free(cfg->vips[i].members);
	free(cfg->vips);
	cfg->vips = NULL;
	cfg->n_vips = 0;
}
