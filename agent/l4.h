/* l4.h: the agent side of the XDP L4 fast path (bpf/xjk_xdp.bpf.c): the
 * XjkL4Vip directive, attaching and pinning, programming VIPs, backends and
 * their Maglev rings, next-hop resolution, and failover's weight changes.
 * Maps and their fields: docs/maps.md; the directive: docs/configuration.md. */
#ifndef XJK_L4_H
#define XJK_L4_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xjk_bpf.h"

struct xjk_loop;
struct xjk_workers;

struct xjk_l4_member_conf {
	char ref[256];	 /* an ajp13/http worker, an lb worker, or an IP address */
	uint32_t weight; /* 0: the worker's lbfactor (1 for an address) */
};

struct xjk_l4_vip_conf {
	char text[96]; /* "10.0.0.100:80/tcp", for messages */
	struct xjk_l4_vip_key key;
	char ifname[IF_NAMESIZE];
	uint32_t ring_size;		    /* Maglev M */
	bool generic;			    /* attach in generic (skb) mode */
	struct xjk_l4_member_conf *members; /* owned */
	int n_members;
};

struct xjk_l4_config {
	struct xjk_l4_vip_conf *vips; /* owned */
	int n_vips;
};

/* XjkL4Vip ADDR:PORT tcp|udp IFACE MEMBER[=WEIGHT]... [ring=M] [mode=native|generic]
 * ARGV[0] is the first argument (not the directive name). 0, or -1 with a
 * message in ERR. */
int xjk_l4_parse_directive(struct xjk_l4_config *cfg, int argc, char **argv, char *err,
			   size_t errlen);
void xjk_l4_config_free(struct xjk_l4_config *cfg);

/* Standalone (xjkctl): load the program, reusing pinned maps, attach it to
 * IFNAME and pin the link in the pin directory (agent/bpffs.h), so it stays
 * after we exit. An interface already attached gets the freshly loaded
 * program. 0 or -errno. */
int xjk_l4_attach(const char *ifname, bool generic, char *err, size_t errlen);
/* Unpins IFNAME's link (detaching the program); unpins the maps when no
 * interface is left attached. 0 or -errno. */
int xjk_l4_detach(const char *ifname, char *err, size_t errlen);

struct xjk_l4;

/* Loads (reusing pinned maps, so flows survive an agent restart), attaches to
 * every interface CFG names, programs VIPs, backends and rings (only changed
 * slots are written), and when LOOP is not NULL follows neighbour and link
 * changes in it. WORKERS (may be NULL) resolves member names. */
int xjk_l4_open(const struct xjk_l4_config *cfg, const struct xjk_workers *workers,
		struct xjk_loop *loop, struct xjk_l4 **out, char *err, size_t errlen);
/* Sets the weight of member NAME (worker name, or address as configured) in
 * every VIP that has it and rewrites the changed ring slots. Returns how many
 * members changed, or -ENOENT. */
int xjk_l4_set_backend_weight(struct xjk_l4 *l4, const char *name, uint32_t weight);
/* Takes member NAME out of every ring (down) or puts it back with its weight
 * (up). Established flows keep their backend either way. As above. */
int xjk_l4_set_backend_up(struct xjk_l4 *l4, const char *name, bool up);
/* Stops following netlink and frees the agent state. The program stays
 * attached and the maps pinned: forwarding goes on (xjkctl detach ends it). */
void xjk_l4_close(struct xjk_l4 *l4);

#endif
