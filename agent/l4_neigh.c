/* l4_neigh.c: see l4_neigh.h. Resolution is triggered with an RTM_NEWNEIGH
 * carrying NTF_USE, the netlink form of "use this entry": the kernel starts
 * ARP/ND as if a packet were waiting, without us sending one. */
#include "l4_neigh.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

struct xjk_l4_neigh {
	struct nl_sock *query;
	struct nl_sock *events;
	struct nl_cache *neighs;
	struct nl_cache *links;
	bool changed; /* set by the event callback */
};

static int on_event(struct nl_msg *msg, void *arg)
{
	struct xjk_l4_neigh *n = arg;
	int type = nlmsg_hdr(msg)->nlmsg_type;

	if (type == RTM_NEWNEIGH || type == RTM_DELNEIGH || type == RTM_NEWLINK ||
	    type == RTM_DELLINK || type == RTM_NEWROUTE || type == RTM_DELROUTE)
		n->changed = true;
	return NL_OK;
}

int xjk_l4_neigh_open(struct xjk_l4_neigh **out)
{
	struct xjk_l4_neigh *n = calloc(1, sizeof(*n));
	int rc = -ENOMEM;

	if (!n)
		return rc;
	n->query = nl_socket_alloc();
	n->events = nl_socket_alloc();
	if (!n->query || !n->events)
		goto err;
	rc = -EIO;
	if (nl_connect(n->query, NETLINK_ROUTE) < 0 || nl_connect(n->events, NETLINK_ROUTE) < 0)
		goto err;
	nl_socket_disable_seq_check(n->events);
	nl_socket_modify_cb(n->events, NL_CB_VALID, NL_CB_CUSTOM, on_event, n);
	if (nl_socket_add_memberships(n->events, RTNLGRP_NEIGH, RTNLGRP_LINK, RTNLGRP_IPV4_ROUTE,
				      RTNLGRP_IPV6_ROUTE, 0) < 0 ||
	    nl_socket_set_nonblocking(n->events) < 0)
		goto err;
	if (rtnl_neigh_alloc_cache(n->query, &n->neighs) < 0 ||
	    rtnl_link_alloc_cache(n->query, AF_UNSPEC, &n->links) < 0)
		goto err;
	*out = n;
	return 0;
err:
	xjk_l4_neigh_close(n);
	return rc;
}

void xjk_l4_neigh_close(struct xjk_l4_neigh *n)
{
	if (!n)
		return;
	if (n->neighs)
		nl_cache_free(n->neighs);
	if (n->links)
		nl_cache_free(n->links);
	nl_socket_free(n->query);
	nl_socket_free(n->events);
	free(n);
}

int xjk_l4_neigh_fd(const struct xjk_l4_neigh *n)
{
	return nl_socket_get_fd(n->events);
}

bool xjk_l4_neigh_drain(struct xjk_l4_neigh *n)
{
	n->changed = false;
	while (nl_recvmsgs_default(n->events) >= 0)
		;
	return n->changed;
}

int xjk_l4_neigh_refresh(struct xjk_l4_neigh *n)
{
	if (nl_cache_refill(n->query, n->neighs) < 0 || nl_cache_refill(n->query, n->links) < 0)
		return -EIO;
	return 0;
}

static int copy_mac(struct nl_addr *a, uint8_t mac[6])
{
	if (!a || nl_addr_get_len(a) != 6)
		return -ENOENT;
	memcpy(mac, nl_addr_get_binary_addr(a), 6);
	return 0;
}

static void trigger(struct xjk_l4_neigh *n, int ifindex, struct nl_addr *dst)
{
	struct rtnl_neigh *req = rtnl_neigh_alloc();

	if (!req)
		return;
	rtnl_neigh_set_ifindex(req, ifindex);
	rtnl_neigh_set_dst(req, dst);
	rtnl_neigh_set_flags(req, NTF_USE);
	/* failure only delays resolution until the next retry */
	rtnl_neigh_add(n->query, req, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_neigh_put(req);
}

/* The route's first next hop: its gateway, or the destination itself. */
static int route_nexthop(struct xjk_l4_neigh *n, struct nl_addr *dst, int *ifindex,
			 struct nl_addr **hop)
{
	struct rtnl_route *route;

	if (rtnl_route_lookup(n->query, dst, &route) < 0)
		return -EHOSTUNREACH;
	struct rtnl_nexthop *nh = rtnl_route_nexthop_n(route, 0);
	int rc = -EHOSTUNREACH;
	if (nh) {
		struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);
		*ifindex = rtnl_route_nh_get_ifindex(nh);
		*hop = nl_addr_clone(gw ? gw : dst);
		rc = *hop ? 0 : -ENOMEM;
	}
	rtnl_route_put(route);
	return rc;
}

int xjk_l4_neigh_resolve(struct xjk_l4_neigh *n, int family, const void *addr,
			 struct xjk_l4_nexthop *nh)
{
	int af = family == 6 ? AF_INET6 : AF_INET;
	struct nl_addr *dst = nl_addr_build(af, addr, family == 6 ? 16 : 4);
	struct nl_addr *hop = NULL;
	int ifindex = 0;

	memset(nh, 0, sizeof(*nh));
	if (!dst)
		return -ENOMEM;
	int rc = route_nexthop(n, dst, &ifindex, &hop);
	nl_addr_put(dst);
	if (rc)
		return rc;
	nh->ifindex = (uint32_t)ifindex;

	struct rtnl_link *link = rtnl_link_get(n->links, ifindex);
	rc = link ? copy_mac(rtnl_link_get_addr(link), nh->smac) : -ENODEV;
	if (link)
		rtnl_link_put(link);
	if (rc) {
		nl_addr_put(hop);
		return rc;
	}

	struct rtnl_neigh *neigh = rtnl_neigh_get(n->neighs, ifindex, hop);
	int state = neigh ? rtnl_neigh_get_state(neigh) : 0;
	bool usable = state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT);
	if (usable && copy_mac(rtnl_neigh_get_lladdr(neigh), nh->dmac) == 0)
		nh->resolved = true;
	/* stale entries are refreshed too, so the MAC we forward to stays current */
	if (!nh->resolved || (state & NUD_STALE))
		trigger(n, ifindex, hop);
	if (neigh)
		rtnl_neigh_put(neigh);
	nl_addr_put(hop);
	return 0;
}
