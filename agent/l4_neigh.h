/* l4_neigh.h: next hops of L4 backends through libnl (route lookup, then the
 * neighbour table), and a netlink socket that reports neighbour, link and
 * route changes. Internal to the l4 module. */
#ifndef XJK_L4_NEIGH_H
#define XJK_L4_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

struct xjk_l4_nexthop {
	uint32_t ifindex;
	uint8_t dmac[6]; /* the backend's (or its gateway's) MAC */
	uint8_t smac[6]; /* the egress interface's MAC */
	bool resolved;
};

struct xjk_l4_neigh;

int xjk_l4_neigh_open(struct xjk_l4_neigh **out);
void xjk_l4_neigh_close(struct xjk_l4_neigh *n);
/* The event socket, for the event loop (EPOLLIN). */
int xjk_l4_neigh_fd(const struct xjk_l4_neigh *n);
/* Reads every pending event; true when any could change a next hop. */
bool xjk_l4_neigh_drain(struct xjk_l4_neigh *n);
/* Re-reads the kernel's neighbour and link tables (once per resolve pass). */
int xjk_l4_neigh_refresh(struct xjk_l4_neigh *n);
/* Fills NH for address ADDR (4 or 16 bytes, by FAMILY 4 or 6). When the MAC is
 * not known yet, asks the kernel to resolve it and returns with
 * nh->resolved false; the event socket reports the answer. 0 or -errno. */
int xjk_l4_neigh_resolve(struct xjk_l4_neigh *n, int family, const void *addr,
			 struct xjk_l4_nexthop *nh);

#endif
