/* admin_model.c: gathers what the status outputs show, at one moment, from
 * the worker-state owner, the membership listener and the pinned BPF maps. */
#include "admin.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "membership.h"
#include "routes.h"
#include "workers.h"

#define XDP_VERDICT_MAP "xjk_counters"

#define VERDICT_NAME(name) #name,
const char *const xjk_admin_verdict_names[XJK_L4_NR_REASONS] = {XJK_L4_REASONS(VERDICT_NAME)};
#undef VERDICT_NAME

/* jkstatus' default rating: bad = stopped or in error, good = active and OK
 * (busy included), anything else (disabled, recovering) is degraded. */
static int rating(const struct xjk_admin_backend *b)
{
	bool err = b->state == XJK_STATE_ERR || b->state == XJK_STATE_ERR_PRB;
	if (b->activation == XJK_STOPPED || err)
		return 2;
	bool ok = b->state == XJK_STATE_OK || b->state == XJK_STATE_OK_IDLE ||
		  b->state == XJK_STATE_OK_BUSY;
	return b->activation == XJK_ACTIVE && ok ? 0 : 1;
}

static int build_workers(const struct xjk_workers *w, struct xjk_admin_model *m)
{
	m->backends = calloc((size_t)w->n_backends + 1, sizeof(*m->backends));
	m->lbs = calloc((size_t)w->n_lbs + 1, sizeof(*m->lbs));
	if (!m->backends || !m->lbs)
		return -1;
	for (int i = 0; i < w->n_backends; i++) {
		struct xjk_admin_backend *b = &m->backends[i];
		b->conf = &w->backends[i];
		b->state = xjk_wstate_state(i);
		b->activation = xjk_wstate_activation(i);
		b->lbfactor = xjk_wstate_lbfactor(i);
		xjk_wstate_stats(i, &b->stats);
	}
	m->n_backends = w->n_backends;
	for (int l = 0; l < w->n_lbs; l++) {
		struct xjk_admin_lb *lb = &m->lbs[l];
		lb->conf = &w->lbs[l];
		lb->members = calloc((size_t)lb->conf->n_members + 1, sizeof(*lb->members));
		if (!lb->members)
			return -1;
		m->n_lbs = l + 1;
		for (int k = 0; k < lb->conf->n_members; k++) {
			struct xjk_admin_member *mem = &lb->members[k];
			mem->backend = lb->conf->members[k];
			xjk_wstate_member(l, k, &mem->lb_mult, &mem->lb_value);
			const char *route = m->backends[mem->backend].conf->route;
			struct xjk_str in = {route, (uint32_t)strlen(route)}, to;
			xjk_routes_resolve(l, &in, 1, &to);
			snprintf(mem->routed_to, sizeof(mem->routed_to), "%.*s", (int)to.len, to.p);
			int r = rating(&m->backends[mem->backend]);
			*(r == 0 ? &lb->good : r == 1 ? &lb->degraded : &lb->bad) += 1;
		}
	}
	return 0;
}

static void peer_workers(const struct xjk_admin_src *src, const struct xjk_member *mem,
			 struct xjk_admin_peer *p)
{
	const struct xjk_workers *w = &src->cfg->workers;
	int idx[16];
	int n = src->membership_conf ? xjk_membership_workers(src->membership_conf, w, mem, idx, 16)
				     : 0;
	size_t used = 0;
	for (int i = 0; i < n && used < sizeof(p->workers); i++)
		used += (size_t)snprintf(p->workers + used, sizeof(p->workers) - used, "%s%s",
					 i ? "," : "", w->backends[idx[i]].name);
}

static int build_peers(const struct xjk_admin_src *src, struct xjk_admin_model *m)
{
	const struct xjk_membership *ms = src->membership;
	m->membership = true;
	int n = xjk_membership_count(ms);
	m->peers = calloc((size_t)n + 1, sizeof(*m->peers));
	if (!m->peers)
		return -1;
	uint64_t now = xjk_clock_ms();
	for (int i = 0; i < n; i++) {
		const struct xjk_member *mem = xjk_membership_member(ms, i);
		struct xjk_admin_peer *p = &m->peers[i];
		snprintf(p->addr, sizeof(p->addr), "%s", mem->addr);
		snprintf(p->domain, sizeof(p->domain), "%s", mem->domain);
		p->format = xjk_tribes_format_name(mem->format);
		p->alive_ms = mem->alive_ms;
		p->last_seen_ms_ago = now > mem->last_seen_ms ? now - mem->last_seen_ms : 0;
		p->beacons = mem->beacons;
		peer_workers(src, mem, p);
	}
	m->n_peers = n;
	const struct xjk_membership_stats *st = xjk_membership_stats(ms);
	m->beacons = st->beacons;
	m->malformed = st->malformed;
	m->filtered = st->filtered;
	return 0;
}

static bool is_hash(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LPM_TRIE;
}

static int64_t count_entries(int fd, uint32_t key_size)
{
	char *keys = calloc(2, key_size ? key_size : 1);
	if (!keys)
		return -1;
	char *prev = NULL, *key = keys;
	int64_t n = 0;
	while (n < XJK_ADMIN_MAP_COUNT_MAX && !bpf_map_get_next_key(fd, prev, key)) {
		n++;
		prev = key;
		key = key == keys ? keys + key_size : keys;
	}
	free(keys);
	return n;
}

static void read_verdicts(int fd, const struct bpf_map_info *info, struct xjk_admin_model *m)
{
	int ncpus = libbpf_num_possible_cpus();
	if (info->value_size != sizeof(struct xjk_l4_counters) || ncpus <= 0)
		return;
	/* per-CPU values are padded to 8 bytes, which this struct already is */
	uint64_t *per = calloc((size_t)ncpus, sizeof(struct xjk_l4_counters));
	uint32_t key = 0;
	if (per && !bpf_map_lookup_elem(fd, &key, per)) {
		for (int c = 0; c < ncpus; c++)
			for (int i = 0; i < XJK_L4_NR_REASONS; i++)
				m->verdicts[i] += per[c * XJK_L4_NR_REASONS + i];
		m->has_verdicts = true;
	}
	free(per);
}

static void build_maps(const char *dir, struct xjk_admin_model *m)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) && m->n_maps < XJK_ADMIN_MAPS_MAX) {
		char path[512];
		if (e->d_name[0] == '.' ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		struct bpf_map_info info = {0};
		uint32_t len = sizeof(info);
		int fd = bpf_obj_get(path);
		/* links and programs are pinned there too: only maps answer this */
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		struct xjk_admin_map *map = &m->maps[m->n_maps++];
		snprintf(map->name, sizeof(map->name), "%.*s", (int)sizeof(map->name) - 1,
			 e->d_name);
		map->type = libbpf_bpf_map_type_str(info.type);
		map->key_size = info.key_size;
		map->value_size = info.value_size;
		map->max_entries = info.max_entries;
		map->entries = is_hash(info.type) ? count_entries(fd, info.key_size) : -1;
		if (!strcmp(e->d_name, XDP_VERDICT_MAP) && info.type == BPF_MAP_TYPE_PERCPU_ARRAY)
			read_verdicts(fd, &info, m);
		close(fd);
	}
	if (d)
		closedir(d);
}

#define FIELD(k, l, num, ...)                                                                      \
	do {                                                                                       \
		f[n] = (struct xjk_admin_field){.key = k, .label = l, .number = num};              \
		snprintf(f[n].value, sizeof(f[n].value), __VA_ARGS__);                             \
		n++;                                                                               \
	} while (0)

void xjk_admin_worker_fields(const struct xjk_admin_backend *b,
			     struct xjk_admin_field f[XJK_ADMIN_WORKER_FIELDS])
{
	const struct xjk_backend *c = b->conf;
	const struct xjk_backend_stats *s = &b->stats;
	int n = 0;
	FIELD("name", "Name", false, "%s", c->name);
	FIELD("type", "Type", false, "%s", xjk_worker_type_name(c->type));
	FIELD("host", "Host", false, "%s", c->host);
	FIELD("port", "Port", true, "%u", c->port);
	FIELD("route", "Route", false, "%s", c->route);
	FIELD("domain", "Domain", false, "%s", c->domain);
	FIELD("redirect", "Redirect", false, "%s", c->redirect);
	FIELD("distance", "D", true, "%d", c->distance);
	FIELD("activation", "Act", false, "%s", xjk_activation_name(b->activation));
	FIELD("state", "State", false, "%s", xjk_worker_state_name(b->state));
	FIELD("lbfactor", "F", true, "%d", b->lbfactor);
	FIELD("requests", "Requests", true, "%llu", (unsigned long long)s->requests);
	FIELD("errors", "Err", true, "%llu", (unsigned long long)s->errors);
	FIELD("client_errors", "CE", true, "%llu", (unsigned long long)s->client_errors);
	FIELD("busy", "Busy", true, "%lld", (long long)s->busy);
	FIELD("max_busy", "Max", true, "%lld", (long long)s->max_busy);
	FIELD("waiting", "Wait", true, "%lld", (long long)s->waiting);
	FIELD("bytes_sent", "Sent", true, "%llu", (unsigned long long)s->bytes_in);
	FIELD("bytes_received", "Received", true, "%llu", (unsigned long long)s->bytes_out);
}

void xjk_admin_peer_fields(const struct xjk_admin_peer *p,
			   struct xjk_admin_field f[XJK_ADMIN_PEER_FIELDS])
{
	int n = 0;
	FIELD("address", "Member", false, "%s", p->addr);
	FIELD("domain", "Domain", false, "%s", p->domain);
	FIELD("format", "Format", false, "%s", p->format);
	FIELD("alive_ms", "Alive (ms)", true, "%lld", (long long)p->alive_ms);
	FIELD("last_seen_ms_ago", "Last beacon (ms ago)", true, "%llu",
	      (unsigned long long)p->last_seen_ms_ago);
	FIELD("beacons", "Beacons", true, "%llu", (unsigned long long)p->beacons);
	FIELD("workers", "Workers", false, "%s", p->workers);
}
#undef FIELD

int xjk_admin_model_build(const struct xjk_admin_src *src, struct xjk_admin_model *m)
{
	memset(m, 0, sizeof(*m));
	m->now_s = (uint64_t)time(NULL);
	m->uptime_s = m->now_s - src->start_s;
	if (build_workers(&src->cfg->workers, m) < 0 ||
	    (src->membership && build_peers(src, m) < 0)) {
		xjk_admin_model_free(m);
		return -1;
	}
	if (src->bpf_dir)
		build_maps(src->bpf_dir, m);
	return 0;
}

void xjk_admin_model_free(struct xjk_admin_model *m)
{
	for (int l = 0; l < m->n_lbs; l++)
		free(m->lbs[l].members);
	free(m->lbs);
	free(m->backends);
	free(m->peers);
	memset(m, 0, sizeof(*m));
}
