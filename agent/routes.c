/* routes.c: the route table (see routes.h). The failover target of a route
 * is lb.c's own choice for a request carrying that route, over the states
 * this subscriber was told, so the table and a request-time choice cannot
 * disagree on who holds a session. */
#include "routes.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "lb.h"
#include "log.h"
#include "wstate.h"
#include "xjk_bpf.h"

_Static_assert(XJK_ROUTE_NAME_MAX == XJK_NAME_MAX, "a route name fits the map value");

static struct {
	const struct xjk_workers *w;
	_Atomic int **target; /* per lb, per member: the member serving its route */
	int *state;	      /* per backend, as the subscriber was told */
	int *activation;
	int routes_fd, wstate_fd;
} xjk_rt = {.routes_fd = -1, .wstate_fd = -1};

uint64_t xjk_routes_hash(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

bool xjk_routes_accepts(enum xjk_worker_state state, enum xjk_activation activation)
{
	return state != XJK_STATE_ERR && state != XJK_STATE_ERR_PRB && activation == XJK_ACTIVE;
}

static int xjk_routes_write_route(int lb, int member, int target)
{
	const struct xjk_lb *conf = &xjk_rt.w->lbs[lb];
	const struct xjk_backend *owner = &xjk_rt.w->backends[conf->members[member]];
	const struct xjk_backend *to = &xjk_rt.w->backends[conf->members[target]];
	struct xjk_route_key key = {
		.hash = xjk_routes_hash(owner->route, strlen(owner->route)),
		.lb = (__u32)lb,
	};
	struct xjk_route val = {
		.worker = (__u32)conf->members[target],
		.owner = (__u32)conf->members[member],
	};

	memcpy(val.route, owner->route, sizeof(val.route));
	memcpy(val.worker_name, to->name, sizeof(val.worker_name));
	return bpf_map_update_elem(xjk_rt.routes_fd, &key, &val, BPF_ANY) ? -errno : 0;
}

static int xjk_routes_write_wstate(int backend)
{
	__u32 key = (__u32)backend;
	struct xjk_wstate_entry val = {
		.state = (__u32)xjk_rt.state[backend],
		.activation = (__u32)xjk_rt.activation[backend],
		.accept = xjk_routes_accepts(xjk_rt.state[backend], xjk_rt.activation[backend]),
	};

	return bpf_map_update_elem(xjk_rt.wstate_fd, &key, &val, BPF_ANY) ? -errno : 0;
}

/* Recomputes every route of LB; writes the changed ones (all when ALL) to
 * the map. Returns 0 or the first write error. */
static int xjk_routes_compute(int lb, bool all)
{
	const struct xjk_lb *conf = &xjk_rt.w->lbs[lb];
	struct xjk_lb_cand cands[64];
	int rc = 0;

	if (conf->n_members > 64)
		return -E2BIG; /* wstate refuses such an lb already */
	for (int m = 0; m < conf->n_members; m++) {
		const struct xjk_backend *be = &xjk_rt.w->backends[conf->members[m]];

		cands[m] = (struct xjk_lb_cand){
			.route = be->route,
			.domain = be->domain,
			.redirect = be->redirect,
			.distance = be->distance,
			.lb_mult = 1,
			.activation = xjk_rt.activation[conf->members[m]],
			.state = xjk_rt.state[conf->members[m]],
		};
	}
	for (int m = 0; m < conf->n_members; m++) {
		struct xjk_str route = {cands[m].route, (uint32_t)strlen(cands[m].route)};
		/* Rotation starts after the member, so that the sessions of
		 * several failed members spread rather than pile on one. */
		struct xjk_lb_req req = {
			.routes = &route,
			.n_routes = 1,
			.has_session = true,
			.stateless = true,
			.offset = (uint32_t)m + 1,
		};
		struct xjk_lb_choice choice;
		int t = xjk_lb_choose(cands, conf->n_members, &req, &choice);

		if (t < 0)
			t = m; /* nobody can take it: the request path forces recovery */
		int old = atomic_exchange(&xjk_rt.target[lb][m], t);
		if (old != t)
			xjk_info("route %s of lb %s -> worker %s", cands[m].route, conf->name,
				 xjk_rt.w->backends[conf->members[t]].name);
		if (xjk_rt.routes_fd >= 0 && (all || old != t) && !rc)
			rc = xjk_routes_write_route(lb, m, t);
	}
	return rc;
}

static bool xjk_routes_has_member(int lb, int backend)
{
	const struct xjk_lb *conf = &xjk_rt.w->lbs[lb];

	for (int m = 0; m < conf->n_members; m++) {
		if (conf->members[m] == backend)
			return true;
	}
	return false;
}

/* wstate subscriber: runs under the wstate lock, so changes apply in order. */
static void xjk_routes_on_change(void *ctx, int backend, enum xjk_worker_state state,
				 enum xjk_activation activation)
{
	int rc = 0;

	(void)ctx;
	xjk_rt.state[backend] = state;
	xjk_rt.activation[backend] = activation;
	if (xjk_rt.wstate_fd >= 0)
		rc = xjk_routes_write_wstate(backend);
	for (int l = 0; l < xjk_rt.w->n_lbs; l++) {
		if (xjk_routes_has_member(l, backend) && !rc)
			rc = xjk_routes_compute(l, false);
	}
	if (rc)
		xjk_error("route map update for worker %s failed: %s",
			  xjk_rt.w->backends[backend].name, strerror(-rc));
}

int xjk_routes_init(const struct xjk_workers *w)
{
	xjk_rt.w = w;
	xjk_rt.target = calloc((size_t)w->n_lbs + 1, sizeof(*xjk_rt.target));
	xjk_rt.state = calloc((size_t)w->n_backends + 1, sizeof(*xjk_rt.state));
	xjk_rt.activation = calloc((size_t)w->n_backends + 1, sizeof(*xjk_rt.activation));
	if (!xjk_rt.target || !xjk_rt.state || !xjk_rt.activation)
		goto fail;
	for (int b = 0; b < w->n_backends; b++) {
		xjk_rt.state[b] = xjk_wstate_state(b);
		xjk_rt.activation[b] = xjk_wstate_activation(b);
	}
	for (int l = 0; l < w->n_lbs; l++) {
		xjk_rt.target[l] = calloc((size_t)w->lbs[l].n_members + 1, sizeof(**xjk_rt.target));
		if (!xjk_rt.target[l] || xjk_routes_compute(l, false) < 0)
			goto fail;
	}
	xjk_wstate_subscribe(xjk_routes_on_change, NULL);
	return 0;
fail:
	xjk_routes_free();
	return -1;
}

void xjk_routes_free(void)
{
	for (int l = 0; xjk_rt.target && l < xjk_rt.w->n_lbs; l++)
		free(xjk_rt.target[l]);
	free(xjk_rt.target);
	free(xjk_rt.state);
	free(xjk_rt.activation);
	xjk_rt.target = NULL;
	xjk_rt.state = xjk_rt.activation = NULL;
	xjk_rt.routes_fd = xjk_rt.wstate_fd = -1;
}

int xjk_routes_attach_maps(int routes_fd, int wstate_fd)
{
	int rc = 0;

	if (xjk_rt.w->n_backends > XJK_SPLICE_MAX_WORKERS)
		return -E2BIG;
	xjk_rt.routes_fd = routes_fd;
	xjk_rt.wstate_fd = wstate_fd;
	if (routes_fd < 0 || wstate_fd < 0)
		return 0;
	for (int b = 0; b < xjk_rt.w->n_backends && !rc; b++)
		rc = xjk_routes_write_wstate(b);
	for (int l = 0; l < xjk_rt.w->n_lbs && !rc; l++)
		rc = xjk_routes_compute(l, true);
	return rc;
}

int xjk_routes_target(int lb, int member)
{
	return atomic_load_explicit(&xjk_rt.target[lb][member], memory_order_relaxed);
}

void xjk_routes_resolve(int lb, const struct xjk_str *in, int n, struct xjk_str *out)
{
	for (int r = 0; r < n; r++) {
		out[r] = in[r];
		if (!xjk_rt.target)
			continue;
		const struct xjk_lb *conf = &xjk_rt.w->lbs[lb];
		for (int m = 0; m < conf->n_members; m++) {
			const char *route = xjk_rt.w->backends[conf->members[m]].route;
			if (strlen(route) != in[r].len || memcmp(route, in[r].p, in[r].len))
				continue;
			int t = xjk_routes_target(lb, m);
			const char *to = xjk_rt.w->backends[conf->members[t]].route;
			out[r] = (struct xjk_str){to, (uint32_t)strlen(to)};
			break;
		}
	}
}
