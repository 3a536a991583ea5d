/* membership_conf.c: the XjkMembership, XjkMemberWorker and XjkRelay*
 * directives, and which workers a cluster member stands for. */
#include "membership.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void xjk_membership_config_init(struct xjk_membership_config *mc)
{
	memset(mc, 0, sizeof(*mc));
	mc->drop_ms = XJK_MEMBERSHIP_DROP_MS;
	mc->max_size = XJK_MEMBERSHIP_MAX_SIZE;
	mc->relay_rate = XJK_MEMBERSHIP_RELAY_RATE;
}

void xjk_membership_config_free(struct xjk_membership_config *mc)
{
	free(mc->allow);
	free(mc->domain);
	free(mc->maps);
	free(mc->relay_ifaces);
	free(mc->relay_peers);
	xjk_membership_config_init(mc);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends a zeroed element to array ARR of N elements (N is incremented);
 * evaluates to the new element, or NULL on ENOMEM with ARR unchanged. */
#define APPEND(arr, n)                                                                             \
	({                                                                                         \
		typeof(arr) grown_ = realloc((arr), ((size_t)(n) + 1) * sizeof(*(arr)));           \
		if (grown_) {                                                                      \
			(arr) = grown_;                                                            \
			memset(&grown_[n], 0, sizeof(*grown_));                                    \
		}                                                                                  \
		grown_ ? &grown_[(n)++] : NULL;                                                    \
	})

static int parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* "a.b.c.d" or "v6" (no brackets) into raw bytes; the length, or -1. */
static int parse_ip(const char *s, uint8_t out[XJK_TRIBES_HOST_MAX])
{
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 16;
	return -1;
}

/* "a.b.c.d:port" or "[v6]:port". Returns the address length, or -1. */
static int parse_ip_port(const char *s, uint8_t host[XJK_TRIBES_HOST_MAX], int *port)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	char *colon = strrchr(buf, ':');
	if (!colon || parse_int(colon + 1, 1, 65535, port) < 0)
		return -1;
	*colon = '\0';
	char *ip = buf;
	if (*ip == '[') {
		size_t n = strlen(ip);
		if (n < 2 || ip[n - 1] != ']')
			return -1;
		ip[n - 1] = '\0';
		ip++;
		return inet_pton(AF_INET6, ip, host) == 1 ? 16 : -1;
	}
	return inet_pton(AF_INET, ip, host) == 1 ? 4 : -1;
}

static int parse_sin(const char *s, struct sockaddr_in *sin)
{
	uint8_t host[XJK_TRIBES_HOST_MAX];
	int port;
	if (parse_ip_port(s, host, &port) != 4)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, host, 4);
	sin->sin_port = htons((uint16_t)port);
	return 0;
}

/* "net/prefix" or a bare address (a host route). */
static int parse_cidr(const char *s, struct xjk_cidr *c)
{
	char buf[INET6_ADDRSTRLEN + 8];
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	int len = parse_ip(buf, c->addr);
	if (len < 0)
		return -1;
	c->len = (uint8_t)len;
	int prefix = len * 8;
	if (slash && parse_int(slash + 1, 0, len * 8, &prefix) < 0)
		return -1;
	c->prefix = (uint8_t)prefix;
	/* Clear host bits so "10.1.2.3/8" means what it says. */
	for (int bit = prefix; bit < len * 8; bit++)
		c->addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
	return 0;
}

static int parse_ifname(const char *s, char out[IF_NAMESIZE])
{
	if (!*s || strlen(s) >= IF_NAMESIZE)
		return -1;
	strcpy(out, s);
	return 0;
}

static int add_allow(struct xjk_membership_config *mc, const char *list, char *err, size_t errlen)
{
	char *copy = strdup(list);
	if (!copy)
		return fail(err, errlen, "out of memory");
	int rc = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		struct xjk_cidr *c = APPEND(mc->allow, mc->n_allow);
		if (!c)
			rc = fail(err, errlen, "out of memory");
		else if (parse_cidr(tok, c) < 0)
			rc = fail(err, errlen, "allow: '%s' is not an address or address/prefix",
				  tok);
	}
	free(copy);
	return rc;
}

/* XjkMembership GROUP:PORT IFACE [dropTime=MS] [allow=CIDR,...] [domain=NAME] [maxSize=BYTES] */
static int do_membership(struct xjk_membership_config *mc, int argc, char **argv, char *err,
			 size_t errlen)
{
	if (mc->enabled)
		return fail(err, errlen, "XjkMembership given twice");
	if (argc < 2)
		return fail(err, errlen,
			    "usage: XjkMembership GROUP:PORT INTERFACE [option=value...]");
	if (parse_sin(argv[0], &mc->group) < 0 || !IN_MULTICAST(ntohl(mc->group.sin_addr.s_addr)))
		return fail(err, errlen, "'%s' is not an IPv4 multicast group:port", argv[0]);
	if (parse_ifname(argv[1], mc->ifname) < 0)
		return fail(err, errlen, "'%s' is not an interface name", argv[1]);
	for (int i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq)
			return fail(err, errlen, "'%s': options are name=value", argv[i]);
		size_t klen = (size_t)(eq - argv[i]);
		const char *val = eq + 1;
		if (klen == 8 && !strncasecmp(argv[i], "dropTime", klen)) {
			if (parse_int(val, 100, 3600000, &mc->drop_ms) < 0)
				return fail(err, errlen, "dropTime: '%s' is not 100..3600000 ms",
					    val);
		} else if (klen == 7 && !strncasecmp(argv[i], "maxSize", klen)) {
			if (parse_int(val, 80, XJK_TRIBES_MAX_DATAGRAM, &mc->max_size) < 0)
				return fail(err, errlen, "maxSize: '%s' is not 80..65535 bytes",
					    val);
		} else if (klen == 5 && !strncasecmp(argv[i], "allow", klen)) {
			if (add_allow(mc, val, err, errlen) < 0)
				return -1;
		} else if (klen == 6 && !strncasecmp(argv[i], "domain", klen)) {
			free(mc->domain);
			mc->domain = strdup(val);
			if (!mc->domain)
				return fail(err, errlen, "out of memory");
		} else {
			return fail(err, errlen, "unknown XjkMembership option '%.*s'", (int)klen,
				    argv[i]);
		}
	}
	mc->enabled = true;
	return 0;
}

/* XjkMemberWorker HOST:PORT WORKER */
static int do_member_worker(struct xjk_membership_config *mc, int argc, char **argv, char *err,
			    size_t errlen)
{
	if (argc != 2)
		return fail(err, errlen, "usage: XjkMemberWorker RECEIVER-IP:PORT WORKER");
	uint8_t host[XJK_TRIBES_HOST_MAX];
	int port;
	int len = parse_ip_port(argv[0], host, &port);
	if (len < 0)
		return fail(err, errlen, "'%s' is not IP:PORT or [IPv6]:PORT", argv[0]);
	if (strlen(argv[1]) >= XJK_NAME_MAX)
		return fail(err, errlen, "worker name '%s' is too long", argv[1]);
	struct xjk_member_map *m = APPEND(mc->maps, mc->n_maps);
	if (!m)
		return fail(err, errlen, "out of memory");
	memcpy(m->host, host, (size_t)len);
	m->host_len = (uint8_t)len;
	m->port = port;
	strcpy(m->worker, argv[1]);
	return 0;
}

/* XjkRelayInterface IFACE... */
static int do_relay_interface(struct xjk_membership_config *mc, int argc, char **argv, char *err,
			      size_t errlen)
{
	if (argc < 1)
		return fail(err, errlen, "usage: XjkRelayInterface INTERFACE...");
	for (int i = 0; i < argc; i++) {
		char(*name)[IF_NAMESIZE] = APPEND(mc->relay_ifaces, mc->n_relay_ifaces);
		if (!name)
			return fail(err, errlen, "out of memory");
		if (parse_ifname(argv[i], *name) < 0)
			return fail(err, errlen, "'%s' is not an interface name", argv[i]);
	}
	return 0;
}

/* XjkRelayListen IP:PORT */
static int do_relay_listen(struct xjk_membership_config *mc, int argc, char **argv, char *err,
			   size_t errlen)
{
	if (argc != 1 || parse_sin(argv[0], &mc->relay_listen) < 0)
		return fail(err, errlen, "usage: XjkRelayListen IPv4:PORT");
	mc->has_relay_listen = true;
	return 0;
}

/* XjkRelayPeer IP:PORT... */
static int do_relay_peer(struct xjk_membership_config *mc, int argc, char **argv, char *err,
			 size_t errlen)
{
	if (argc < 1)
		return fail(err, errlen, "usage: XjkRelayPeer IPv4:PORT...");
	for (int i = 0; i < argc; i++) {
		struct sockaddr_in *sin = APPEND(mc->relay_peers, mc->n_relay_peers);
		if (!sin)
			return fail(err, errlen, "out of memory");
		if (parse_sin(argv[i], sin) < 0)
			return fail(err, errlen, "'%s' is not IPv4:PORT", argv[i]);
	}
	return 0;
}

/* XjkRelayRate BEACONS-PER-SECOND */
static int do_relay_rate(struct xjk_membership_config *mc, int argc, char **argv, char *err,
			 size_t errlen)
{
	if (argc != 1 || parse_int(argv[0], 1, 100000, &mc->relay_rate) < 0)
		return fail(err, errlen, "usage: XjkRelayRate 1..100000 (beacons per second)");
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct xjk_membership_config *mc, int argc, char **argv, char *err,
		  size_t errlen);
} directives[] = {
	{"XjkMembership", do_membership},	   {"XjkMemberWorker", do_member_worker},
	{"XjkRelayInterface", do_relay_interface}, {"XjkRelayListen", do_relay_listen},
	{"XjkRelayPeer", do_relay_peer},	   {"XjkRelayRate", do_relay_rate},
};

int xjk_membership_directive(struct xjk_membership_config *mc, const char *name, int argc,
			     char **argv, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (!strcasecmp(name, directives[i].name))
			return directives[i].fn(mc, argc, argv, err, errlen);
	return 1;
}

/* The backend named NAME, or -1. */
static int find_backend(const struct xjk_workers *w, const char *name)
{
	for (int i = 0; i < w->n_backends; i++)
		if (!strcmp(w->backends[i].name, name))
			return i;
	return -1;
}

int xjk_membership_config_check(const struct xjk_membership_config *mc,
				const struct xjk_workers *workers, char *err, size_t errlen)
{
	bool relay = mc->n_relay_ifaces || mc->has_relay_listen || mc->n_relay_peers;
	if (!mc->enabled && (relay || mc->n_maps))
		return fail(err, errlen, "XjkRelay* and XjkMemberWorker need XjkMembership");
	if (mc->n_relay_peers && !mc->has_relay_listen)
		return fail(err, errlen,
			    "XjkRelayPeer needs XjkRelayListen (the socket to send from)");
	if (mc->has_relay_listen && !mc->n_relay_peers)
		return fail(err, errlen, "XjkRelayListen without XjkRelayPeer accepts nothing");
	for (int i = 0; i < mc->n_relay_ifaces; i++) {
		if (!strcmp(mc->relay_ifaces[i], mc->ifname))
			return fail(err, errlen, "XjkRelayInterface %s is the membership interface",
				    mc->ifname);
		for (int j = 0; j < i; j++)
			if (!strcmp(mc->relay_ifaces[i], mc->relay_ifaces[j]))
				return fail(err, errlen, "XjkRelayInterface %s given twice",
					    mc->relay_ifaces[i]);
	}
	for (int i = 0; workers && i < mc->n_maps; i++)
		if (find_backend(workers, mc->maps[i].worker) < 0)
			return fail(err, errlen, "XjkMemberWorker: no ajp13 or http worker '%s'",
				    mc->maps[i].worker);
	return 0;
}

/* The backend's resolved address as raw bytes; 0 when it has none. */
static int backend_host(const struct xjk_backend *be, const uint8_t **host)
{
	if (be->addr.ss_family == AF_INET) {
		*host = (const uint8_t *)&((const struct sockaddr_in *)&be->addr)->sin_addr;
		return 4;
	}
	if (be->addr.ss_family == AF_INET6) {
		*host = (const uint8_t *)&((const struct sockaddr_in6 *)&be->addr)->sin6_addr;
		return 16;
	}
	return 0;
}

static bool map_host_is(const struct xjk_member_map *map, const struct xjk_member *m)
{
	return map->host_len == m->host_len && !memcmp(map->host, m->host, m->host_len);
}

int xjk_membership_workers(const struct xjk_membership_config *mc,
			   const struct xjk_workers *workers, const struct xjk_member *m, int *out,
			   int max)
{
	int n = 0;
	bool explicit = false;
	for (int i = 0; i < mc->n_maps; i++) {
		const struct xjk_member_map *map = &mc->maps[i];
		if (!map_host_is(map, m))
			continue;
		/* The operator took charge of this host: no guessing for it. */
		explicit = true;
		int be = find_backend(workers, map->worker);
		if (map->port == m->port && be >= 0 && n < max)
			out[n++] = be;
	}
	if (explicit)
		return n;
	for (int i = 0; i < workers->n_backends && n < max; i++) {
		const uint8_t *host;
		int len = backend_host(&workers->backends[i], &host);
		if (len == m->host_len && !memcmp(host, m->host, (size_t)len))
			out[n++] = i;
	}
	return n;
}
