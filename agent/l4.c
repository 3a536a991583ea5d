/* l4.c: the L4 agent: turns the XjkL4Vip configuration into map contents.
 * Identities are kept across restarts by reading the pinned maps back: a
 * VIP keeps its index, a backend address its real id, and a ring only gets
 * the slots that differ from what the map already holds. */
#include "l4.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "evloop.h"
#include "l4_bpf.h"
#include "l4_fail.h"
#include "l4_neigh.h"
#include "l4_vip.h"
#include "log.h"
#include "maglev.h"
#include "worker.h"
#include "xjk_xdp.skel.h"

#define RETRY_MS 1000 /* while a backend's MAC is unknown */

struct l4_real {
	char key[INET6_ADDRSTRLEN]; /* the address as text: Maglev key, messages */
	uint8_t family;
	uint32_t addr[4];
	uint32_t id;
	struct xjk_l4_real written; /* what the map holds */
};

struct l4_member {
	char name[XJK_NAME_MAX]; /* worker name, or the address */
	int real;		 /* index into xjk_l4.reals */
	uint32_t weight;
	bool up;
};

struct l4_vip {
	const struct xjk_l4_vip_conf *conf;
	uint32_t index;
	int ifindex;
	struct l4_member *members;
	int n_members;
	uint32_t *ring; /* real id per slot, as in the map */
};

struct xjk_l4 {
	struct xjk_xdp *skel;
	struct l4_vip *vips;
	int n_vips;
	struct l4_real *reals;
	int n_reals;
	struct xjk_l4_neigh *neigh;
	struct xjk_loop *loop;
	struct xjk_io io;
	struct xjk_timer retry;
};

/* ---- members and reals ---- */

static int real_find_or_add(struct xjk_l4 *l4, const struct sockaddr *sa)
{
	struct l4_real r = {0};

	if (sa->sa_family == AF_INET) {
		r.family = XJK_L4_FAMILY_V4;
		r.addr[0] = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
	} else if (sa->sa_family == AF_INET6) {
		r.family = XJK_L4_FAMILY_V6;
		memcpy(r.addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		return -EAFNOSUPPORT;
	}
	inet_ntop(sa->sa_family, r.addr, r.key, sizeof(r.key));
	for (int i = 0; i < l4->n_reals; i++)
		if (strcmp(l4->reals[i].key, r.key) == 0)
			return i;
	struct l4_real *reals = realloc(l4->reals, (l4->n_reals + 1) * sizeof(*reals));
	if (!reals)
		return -ENOMEM;
	l4->reals = reals;
	l4->reals[l4->n_reals] = r;
	return l4->n_reals++;
}

static int member_add(struct xjk_l4 *l4, struct l4_vip *v, const char *name,
		      const struct sockaddr *sa, uint32_t weight, bool up)
{
	int real = real_find_or_add(l4, sa);

	if (real < 0)
		return real;
	struct l4_member *m = &v->members[v->n_members++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->real = real;
	m->weight = weight;
	m->up = up;
	return 0;
}

static int member_add_backend(struct xjk_l4 *l4, struct l4_vip *v, const struct xjk_backend *b,
			      uint32_t weight)
{
	return member_add(l4, v, b->name, (const struct sockaddr *)&b->addr,
			  weight ? weight : (uint32_t)(b->lbfactor > 0 ? b->lbfactor : 1),
			  b->activation == XJK_ACTIVE);
}

/* A member reference: an lb worker (all its members), a worker, or an address. */
static int member_expand(struct xjk_l4 *l4, struct l4_vip *v, const struct xjk_workers *w,
			 const struct xjk_l4_member_conf *mc, char *err, size_t errlen)
{
	for (int i = 0; w && i < w->n_lbs; i++) {
		if (strcmp(w->lbs[i].name, mc->ref) != 0)
			continue;
		for (int j = 0; j < w->lbs[i].n_members; j++) {
			int rc = member_add_backend(l4, v, &w->backends[w->lbs[i].members[j]],
						    mc->weight);
			if (rc)
				return xjk_l4_fail(err, errlen, rc, "%s: member %s: %s",
						   v->conf->text, mc->ref, strerror(-rc));
		}
		return 0;
	}
	for (int i = 0; w && i < w->n_backends; i++)
		if (strcmp(w->backends[i].name, mc->ref) == 0)
			return member_add_backend(l4, v, &w->backends[i], mc->weight);

	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6};
	struct sockaddr_in sa4 = {.sin_family = AF_INET};
	uint32_t weight = mc->weight ? mc->weight : 1;
	if (inet_pton(AF_INET, mc->ref, &sa4.sin_addr) == 1)
		return member_add(l4, v, mc->ref, (struct sockaddr *)&sa4, weight, true);
	if (inet_pton(AF_INET6, mc->ref, &sa6.sin6_addr) == 1)
		return member_add(l4, v, mc->ref, (struct sockaddr *)&sa6, weight, true);
	return xjk_l4_fail(err, errlen, -ENOENT,
			   "%s: member '%s' is neither a worker nor an address", v->conf->text,
			   mc->ref);
}

/* Reals keep the id the pinned map already gives their address; new ones
 * take free ids in address order, so fresh agents number alike. */
static int reals_assign_ids(struct xjk_l4 *l4)
{
	struct bpf_map *map = l4->skel->maps.xjk_reals;
	static bool taken[XJK_L4_MAX_REALS];
	struct xjk_l4_real e;

	memset(taken, 0, sizeof(taken));
	taken[0] = true;
	for (uint32_t id = 1; id < XJK_L4_MAX_REALS; id++) {
		if (bpf_map__lookup_elem(map, &id, sizeof(id), &e, sizeof(e), 0) || !e.family)
			continue;
		taken[id] = true;
		for (int i = 0; i < l4->n_reals; i++) {
			struct l4_real *r = &l4->reals[i];
			if (!r->id && r->family == e.family && !memcmp(r->addr, e.addr, 16)) {
				r->id = id;
				r->written = e;
			}
		}
	}
	uint32_t next = 1;
	for (;;) {
		struct l4_real *lowest = NULL;
		for (int i = 0; i < l4->n_reals; i++)
			if (!l4->reals[i].id &&
			    (!lowest || memcmp(l4->reals[i].addr, lowest->addr, 16) < 0))
				lowest = &l4->reals[i];
		if (!lowest)
			return 0;
		while (next < XJK_L4_MAX_REALS && taken[next])
			next++;
		if (next == XJK_L4_MAX_REALS)
			return -ENOSPC;
		lowest->id = next;
		taken[next] = true;
	}
}

/* Resolves every real's next hop and writes the entries that changed. True
 * when one is still unresolved. */
static bool reals_update(struct xjk_l4 *l4)
{
	bool pending = false;

	if (xjk_l4_neigh_refresh(l4->neigh))
		xjk_warn("l4: cannot read the neighbour table");
	for (int i = 0; i < l4->n_reals; i++) {
		struct l4_real *r = &l4->reals[i];
		struct xjk_l4_nexthop nh;
		struct xjk_l4_real e = {.family = r->family};

		memcpy(e.addr, r->addr, sizeof(e.addr));
		int rc = xjk_l4_neigh_resolve(l4->neigh, r->family, r->addr, &nh);
		if (rc == 0 && nh.resolved) {
			memcpy(e.dmac, nh.dmac, 6);
			memcpy(e.smac, nh.smac, 6);
			e.ifindex = nh.ifindex;
			e.flags = XJK_L4_REAL_F_RESOLVED;
		} else if (rc == 0) {
			/* keep forwarding to the last known MAC while ARP/ND runs */
			if (r->written.flags & XJK_L4_REAL_F_RESOLVED)
				e = r->written;
			pending = true;
		} else {
			xjk_warn("l4: backend %s: no route (%s)", r->key, strerror(-rc));
			pending = true;
		}
		if (e.ifindex) {
			uint32_t ifx = e.ifindex;
			bpf_map__update_elem(l4->skel->maps.xjk_tx_ports, &ifx, sizeof(ifx), &ifx,
					     sizeof(ifx), BPF_ANY);
		}
		if (memcmp(&e, &r->written, sizeof(e)) == 0)
			continue;
		if (bpf_map__update_elem(l4->skel->maps.xjk_reals, &r->id, sizeof(r->id), &e,
					 sizeof(e), BPF_ANY) == 0) {
			r->written = e;
			xjk_info("l4: backend %s (real %u): %s, ifindex %u", r->key, r->id,
				 e.flags ? "resolved" : "unresolved", e.ifindex);
		}
	}
	return pending;
}

/* ---- VIPs and rings ---- */

/* Builds V's table and writes the slots that differ from the map. */
static int ring_update(struct xjk_l4 *l4, struct l4_vip *v)
{
	uint32_t m = v->conf->ring_size;
	struct xjk_maglev_backend *b = calloc((size_t)v->n_members + 1, sizeof(*b));
	uint32_t *table = malloc(m * sizeof(*table));
	uint32_t *keys = malloc(m * sizeof(*keys));
	uint32_t *vals = malloc(m * sizeof(*vals));
	int rc = -ENOMEM;

	if (!b || !table || !keys || !vals)
		goto out;
	for (int i = 0; i < v->n_members; i++) {
		struct l4_member *mb = &v->members[i];
		b[i].key = l4->reals[mb->real].key;
		b[i].weight = mb->up ? mb->weight : 0;
	}
	rc = xjk_maglev_build(b, v->n_members, m, table);
	if (rc)
		goto out;
	uint32_t n = 0;
	for (uint32_t s = 0; s < m; s++) {
		uint32_t id =
			table[s] == XJK_MAGLEV_EMPTY ? 0 : l4->reals[v->members[table[s]].real].id;
		if (id == v->ring[s])
			continue;
		keys[n] = v->index * XJK_L4_RING_STRIDE + s;
		vals[n++] = id;
		v->ring[s] = id;
	}
	if (n) {
		uint32_t count = n;
		rc = bpf_map_update_batch(bpf_map__fd(l4->skel->maps.xjk_ring), keys, vals, &count,
					  NULL);
		if (rc)
			goto out;
	}
	xjk_info("l4: %s: %u of %u ring slots written", v->conf->text, n, m);
out:
	free(b);
	free(table);
	free(keys);
	free(vals);
	return rc;
}

static int ring_read(struct xjk_l4 *l4, struct l4_vip *v)
{
	uint32_t m = v->conf->ring_size;

	v->ring = calloc(m, sizeof(*v->ring));
	if (!v->ring)
		return -ENOMEM;
	for (uint32_t s = 0; s < m; s++) {
		uint32_t key = v->index * XJK_L4_RING_STRIDE + s;
		bpf_map__lookup_elem(l4->skel->maps.xjk_ring, &key, sizeof(key), &v->ring[s],
				     sizeof(v->ring[s]), 0);
	}
	return 0;
}

/* Deletes MAP's entries (keys of KEY_SIZE bytes) whose flow is of VIP INDEX. */
static int flows_purge_map(struct bpf_map *map, size_t key_size, uint32_t index)
{
	_Static_assert(sizeof(struct xjk_l4_flow_key) >= sizeof(struct xjk_l4_flow4_key),
		       "the buffers hold either key");
	struct xjk_l4_flow_key k, next;
	struct xjk_l4_flow f;
	int n = 0;
	void *prev = NULL;

	while (bpf_map__get_next_key(map, prev, &next, key_size) == 0) {
		if (bpf_map__lookup_elem(map, &next, key_size, &f, sizeof(f), 0) == 0 &&
		    f.vip == index && bpf_map__delete_elem(map, &next, key_size, 0) == 0) {
			n++;
			continue; /* NEXT is gone: continue from the previous key */
		}
		memcpy(&k, &next, key_size);
		prev = &k;
	}
	return n;
}

/* Flows of a VIP that is gone must not reach whatever reuses its index.
 * Bumping xjk_flow_gen after the deletions voids their copies in
 * xjk_flow_cache: an entry filled at the new generation was read from the
 * table after the deletions. A bump by the program between our read and
 * write folds into ours, which keeps both guarantees. */
static void flows_purge(struct xjk_l4 *l4, uint32_t index)
{
	int n = flows_purge_map(l4->skel->maps.xjk_flows4, sizeof(struct xjk_l4_flow4_key), index) +
		flows_purge_map(l4->skel->maps.xjk_flows6, sizeof(struct xjk_l4_flow_key), index);
	struct bpf_map *gen_map = l4->skel->maps.xjk_flow_gen;
	uint32_t zero = 0, gen;

	if (bpf_map__lookup_elem(gen_map, &zero, sizeof(zero), &gen, sizeof(gen), 0) == 0) {
		gen++;
		bpf_map__update_elem(gen_map, &zero, sizeof(zero), &gen, sizeof(gen), BPF_ANY);
	}
	xjk_info("l4: removed %d flows of VIP index %u", n, index);
}

/* The port filter: counts of configured VIPs per port and protocol. */
static int ports_write(struct xjk_l4 *l4, const struct xjk_l4_vip_key *old, int n_old)
{
	struct bpf_map *map = l4->skel->maps.xjk_vip_ports;
	int rc = 0;

	for (int pass = 0; pass < 2; pass++) {
		int n = pass ? l4->n_vips : n_old;
		for (int i = 0; i < n; i++) {
			uint32_t port = ntohs(pass ? l4->vips[i].conf->key.port : old[i].port);
			struct xjk_l4_port p = {0};
			for (int j = 0; j < l4->n_vips; j++) {
				const struct xjk_l4_vip_key *k = &l4->vips[j].conf->key;
				if (ntohs(k->port) != port)
					continue;
				p.tcp_vips += k->proto == IPPROTO_TCP;
				p.udp_vips += k->proto == IPPROTO_UDP;
			}
			rc |= bpf_map__update_elem(map, &port, sizeof(port), &p, sizeof(p),
						   BPF_ANY);
		}
	}
	return rc;
}

/* VIPs keep their index from the pinned map; VIPs no longer configured are
 * removed with their flows. */
static int vips_assign(struct xjk_l4 *l4)
{
	struct bpf_map *map = l4->skel->maps.xjk_vips;
	struct xjk_l4_vip_key old[XJK_L4_MAX_VIPS], k;
	struct xjk_l4_vip_meta meta;
	bool taken[XJK_L4_MAX_VIPS] = {0};
	int n_old = 0;
	void *prev = NULL;

	while (n_old < XJK_L4_MAX_VIPS &&
	       bpf_map__get_next_key(map, prev, &old[n_old], sizeof(k)) == 0) {
		prev = &old[n_old++];
	}
	for (int i = 0; i < n_old; i++) {
		if (bpf_map__lookup_elem(map, &old[i], sizeof(k), &meta, sizeof(meta), 0))
			continue;
		struct l4_vip *match = NULL;
		for (int j = 0; j < l4->n_vips; j++)
			if (!memcmp(&l4->vips[j].conf->key, &old[i], sizeof(k)))
				match = &l4->vips[j];
		if (match && meta.index < XJK_L4_MAX_VIPS) {
			match->index = meta.index;
			taken[meta.index] = true;
			continue;
		}
		xjk_l4_vip_delete(map, l4->skel->maps.xjk_vip_slots, &old[i]);
		flows_purge(l4, meta.index);
	}
	for (int j = 0, next = 0; j < l4->n_vips; j++) {
		if (l4->vips[j].index != UINT32_MAX)
			continue;
		while (taken[next])
			next++;
		l4->vips[j].index = (uint32_t)next;
		taken[next] = true;
	}
	return ports_write(l4, old, n_old);
}

static int vip_program(struct xjk_l4 *l4, struct l4_vip *v)
{
	struct xjk_l4_vip_meta meta = {.index = v->index, .ring_size = v->conf->ring_size};
	int rc = ring_read(l4, v);

	/* ring first: a VIP must never be visible with a half-written ring */
	if (rc == 0)
		rc = ring_update(l4, v);
	if (rc == 0)
		rc = xjk_l4_vip_write(l4->skel->maps.xjk_vips, l4->skel->maps.xjk_vip_slots,
				      &v->conf->key, &meta);
	return rc;
}

/* ---- events ---- */

static void retry_fire(struct xjk_timer *t)
{
	struct xjk_l4 *l4 = container_of(t, struct xjk_l4, retry);

	if (reals_update(l4))
		xjk_timer_arm(l4->loop, &l4->retry, RETRY_MS);
}

static void on_netlink(struct xjk_io *io, uint32_t events)
{
	struct xjk_l4 *l4 = container_of(io, struct xjk_l4, io);

	(void)events;
	if (xjk_l4_neigh_drain(l4->neigh) && reals_update(l4) && !xjk_timer_armed(&l4->retry))
		xjk_timer_arm(l4->loop, &l4->retry, RETRY_MS);
}

/* ---- public ---- */

static int vips_build(struct xjk_l4 *l4, const struct xjk_l4_config *cfg,
		      const struct xjk_workers *w, char *err, size_t errlen)
{
	l4->vips = calloc((size_t)cfg->n_vips, sizeof(*l4->vips));
	if (!l4->vips)
		return xjk_l4_fail(err, errlen, -ENOMEM, "out of memory");
	for (int i = 0; i < cfg->n_vips; i++) {
		struct l4_vip *v = &l4->vips[l4->n_vips++];
		const struct xjk_l4_vip_conf *c = &cfg->vips[i];
		int cap = 0;

		v->conf = c;
		v->index = UINT32_MAX;
		for (int j = 0; j < c->n_members; j++)
			cap += w ? w->n_backends + 1 : 1;
		v->members = calloc((size_t)cap, sizeof(*v->members));
		if (!v->members)
			return xjk_l4_fail(err, errlen, -ENOMEM, "out of memory");
		for (int j = 0; j < c->n_members; j++) {
			int rc = member_expand(l4, v, w, &c->members[j], err, errlen);
			if (rc)
				return rc;
		}
		if ((uint64_t)c->ring_size <= 100ULL * (uint64_t)v->n_members)
			return xjk_l4_fail(err, errlen, -EINVAL,
					   "%s: ring size %u must exceed 100 x %d members", c->text,
					   c->ring_size, v->n_members);
	}
	return 0;
}

static int attach_all(struct xjk_l4 *l4, char *err, size_t errlen)
{
	int prog = bpf_program__fd(l4->skel->progs.xjk_xdp_lb);

	for (int i = 0; i < l4->n_vips; i++) {
		const struct xjk_l4_vip_conf *c = l4->vips[i].conf;
		for (int j = 0; j < i; j++) {
			if (strcmp(l4->vips[j].conf->ifname, c->ifname) != 0)
				continue;
			if (l4->vips[j].conf->generic != c->generic)
				return xjk_l4_fail(err, errlen, -EINVAL,
						   "%s and %s: interface %s in two XDP modes",
						   c->text, l4->vips[j].conf->text, c->ifname);
			l4->vips[i].ifindex = l4->vips[j].ifindex;
		}
		if (l4->vips[i].ifindex)
			continue;
		int rc = xjk_l4_bpf_attach(prog, c->ifname, c->generic, err, errlen);
		if (rc < 0)
			return rc;
		l4->vips[i].ifindex = rc;
	}
	return 0;
}

int xjk_l4_open(const struct xjk_l4_config *cfg, const struct xjk_workers *workers,
		struct xjk_loop *loop, struct xjk_l4 **out, char *err, size_t errlen)
{
	struct xjk_l4 *l4 = calloc(1, sizeof(*l4));
	int rc;

	if (!l4)
		return xjk_l4_fail(err, errlen, -ENOMEM, "out of memory");
	l4->io.fd = -1;
	l4->retry.fn = retry_fire;
	rc = vips_build(l4, cfg, workers, err, errlen);
	if (rc == 0)
		rc = xjk_l4_bpf_load(&l4->skel, err, errlen);
	if (rc == 0 && (rc = xjk_l4_neigh_open(&l4->neigh)))
		xjk_l4_fail(err, errlen, rc, "netlink: %s", strerror(-rc));
	if (rc == 0 && (rc = reals_assign_ids(l4)))
		xjk_l4_fail(err, errlen, rc, "more than %d L4 backends", XJK_L4_MAX_REALS - 1);
	if (rc == 0 && (rc = vips_assign(l4)))
		xjk_l4_fail(err, errlen, rc, "write the VIP port filter: %s", strerror(-rc));
	bool pending = rc == 0 && reals_update(l4);
	for (int i = 0; rc == 0 && i < l4->n_vips; i++)
		if ((rc = vip_program(l4, &l4->vips[i])))
			xjk_l4_fail(err, errlen, rc, "%s: write the ring: %s",
				    l4->vips[i].conf->text, strerror(-rc));
	if (rc == 0)
		rc = attach_all(l4, err, errlen);
	if (rc == 0 && loop) {
		l4->loop = loop;
		l4->io.fd = xjk_l4_neigh_fd(l4->neigh);
		l4->io.fn = on_netlink;
		rc = xjk_loop_watch(loop, &l4->io, EPOLLIN);
		if (rc)
			xjk_l4_fail(err, errlen, rc, "watch netlink: %s", strerror(-rc));
		else if (pending)
			xjk_timer_arm(loop, &l4->retry, RETRY_MS);
	}
	if (rc) {
		xjk_l4_close(l4);
		return rc;
	}
	*out = l4;
	return 0;
}

/* Sets the weight (UP < 0) or the up flag of every member called NAME, then
 * rewrites the rings it is in. */
static int members_change(struct xjk_l4 *l4, const char *name, uint32_t weight, int up)
{
	int changed = 0;

	for (int i = 0; i < l4->n_vips; i++) {
		struct l4_vip *v = &l4->vips[i];
		bool touched = false;
		for (int j = 0; j < v->n_members; j++) {
			struct l4_member *m = &v->members[j];
			if (strcmp(m->name, name) != 0 && strcmp(l4->reals[m->real].key, name) != 0)
				continue;
			if (up < 0)
				m->weight = weight;
			else
				m->up = up;
			touched = true;
			changed++;
		}
		if (touched && ring_update(l4, v))
			xjk_error("l4: %s: cannot write the ring", v->conf->text);
	}
	return changed ? changed : -ENOENT;
}

int xjk_l4_set_backend_weight(struct xjk_l4 *l4, const char *name, uint32_t weight)
{
	return members_change(l4, name, weight, -1);
}

int xjk_l4_set_backend_up(struct xjk_l4 *l4, const char *name, bool up)
{
	return members_change(l4, name, 0, up);
}

void xjk_l4_close(struct xjk_l4 *l4)
{
	if (!l4)
		return;
	if (l4->loop) {
		xjk_loop_unwatch(&l4->io);
		xjk_timer_cancel(l4->loop, &l4->retry);
	}
	xjk_l4_neigh_close(l4->neigh);
	if (l4->skel)
		xjk_xdp__destroy(l4->skel);
	for (int i = 0; i < l4->n_vips; i++) {
		free(l4->vips[i].members);
		free(l4->vips[i].ring);
	}
	free(l4->vips);
	free(l4->reals);
	free(l4);
}
