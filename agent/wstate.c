/* wstate.c: worker runtime state and the lb choice over it.
 *
 * Reads on the request path are lock-free atomics; every change takes the
 * lock, so a transition and its fan-out to subscribers happen as one step and
 * subscribers see changes in order. */
#include "wstate.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "evloop.h"
#include "lb.h"
#include "log.h"
#include "routes.h"
#include "workers.h"

#define MAX_SUBSCRIBERS 8
#define MAX_MEMBERS	64 /* failed-member bitmask width */

struct backend_rt {
	_Atomic int state;
	_Atomic int activation;
	_Atomic int lbfactor; /* runtime value: starts as configured, operators change it */
	uint64_t error_time;  /* ms, under the lock */
	enum xjk_cause cause; /* of the last transition, under the lock */
	int recover_time_s;   /* smallest recover_time of the lbs it belongs to */
	_Atomic uint64_t requests, errors, client_errors, bytes_in, bytes_out;
	_Atomic int64_t busy, max_busy;
	_Atomic int64_t waiting; /* requests queued for a pooled connection */
};

struct lb_rt {
	_Atomic uint64_t *lb_value; /* per member */
	uint32_t *mult;		    /* rewritten when an lbfactor changes: see mult_of */
	_Atomic uint32_t offset;
};

struct subscriber {
	xjk_wstate_fn fn;
	void *ctx;
};

static struct {
	const struct xjk_workers *workers;
	pthread_mutex_t lock;
	struct backend_rt *backends;
	struct lb_rt *lbs;
	struct subscriber subs[MAX_SUBSCRIBERS];
	int n_subs;
} ws = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* lb_mult is read on the request path and rewritten by an operator's lbfactor
 * change; a relaxed atomic load keeps that a plain 32-bit read. */
static uint32_t mult_of(const struct lb_rt *rt, int m)
{
	return __atomic_load_n(&rt->mult[m], __ATOMIC_RELAXED);
}

/* Under the lock (or before the data loops start): lb_mult of LB's members
 * from their runtime lbfactors. */
static int compute_mults(int lb)
{
	const struct xjk_lb *conf = &ws.workers->lbs[lb];
	int *factors = calloc((size_t)conf->n_members + 1, sizeof(*factors));
	uint32_t *mults = calloc((size_t)conf->n_members + 1, sizeof(*mults));
	if (!factors || !mults) {
		free(factors);
		free(mults);
		return -1;
	}
	for (int m = 0; m < conf->n_members; m++)
		factors[m] = atomic_load(&ws.backends[conf->members[m]].lbfactor);
	xjk_lb_mults(factors, conf->n_members, mults);
	for (int m = 0; m < conf->n_members; m++)
		__atomic_store_n(&ws.lbs[lb].mult[m], mults[m], __ATOMIC_RELAXED);
	free(factors);
	free(mults);
	return 0;
}

static const char *const cause_names[] = {
	[XJK_CAUSE_SUCCESS] = "success",	   [XJK_CAUSE_CONNECT] = "connect failed",
	[XJK_CAUSE_TIMEOUT] = "timeout",	   [XJK_CAUSE_RESET] = "connection reset",
	[XJK_CAUSE_PROTOCOL] = "protocol error",   [XJK_CAUSE_STATUS] = "fail_on_status",
	[XJK_CAUSE_HEALTH] = "health check",	   [XJK_CAUSE_MEMBERSHIP] = "cluster membership",
	[XJK_CAUSE_OPERATOR] = "operator",	   [XJK_CAUSE_RECOVER] = "recover_time elapsed",
	[XJK_CAUSE_BUSY] = "connection pool full",
};

const char *xjk_cause_name(enum xjk_cause cause)
{
	return cause_names[cause];
}

int xjk_wstate_init(const struct xjk_workers *workers)
{
	ws.workers = workers;
	ws.backends = calloc((size_t)workers->n_backends + 1, sizeof(*ws.backends));
	ws.lbs = calloc((size_t)workers->n_lbs + 1, sizeof(*ws.lbs));
	if (!ws.backends || !ws.lbs)
		return -1;
	for (int i = 0; i < workers->n_backends; i++) {
		const struct xjk_backend *be = &workers->backends[i];
		ws.backends[i].activation = be->activation;
		ws.backends[i].lbfactor = be->lbfactor;
		ws.backends[i].state = XJK_STATE_OK_IDLE;
		ws.backends[i].recover_time_s = 60;
	}
	for (int l = 0; l < workers->n_lbs; l++) {
		const struct xjk_lb *lb = &workers->lbs[l];
		struct lb_rt *rt = &ws.lbs[l];
		if (lb->n_members > MAX_MEMBERS) {
			xjk_error("lb worker '%s' has %d members; xjk supports %d", lb->name,
				  lb->n_members, MAX_MEMBERS);
			return -1;
		}
		rt->lb_value = calloc((size_t)lb->n_members + 1, sizeof(*rt->lb_value));
		rt->mult = calloc((size_t)lb->n_members + 1, sizeof(*rt->mult));
		if (!rt->lb_value || !rt->mult || compute_mults(l) < 0)
			return -1;
		for (int m = 0; m < lb->n_members; m++) {
			struct backend_rt *b = &ws.backends[lb->members[m]];
			if (lb->recover_time_s > 0 && lb->recover_time_s < b->recover_time_s)
				b->recover_time_s = lb->recover_time_s;
		}
	}
	return 0;
}

void xjk_wstate_free(void)
{
	if (ws.lbs)
		for (int l = 0; l < ws.workers->n_lbs; l++) {
			free(ws.lbs[l].lb_value);
			free(ws.lbs[l].mult);
		}
	free(ws.lbs);
	free(ws.backends);
	ws.lbs = NULL;
	ws.backends = NULL;
	ws.n_subs = 0;
}

void xjk_wstate_subscribe(xjk_wstate_fn fn, void *ctx)
{
	pthread_mutex_lock(&ws.lock);
	if (ws.n_subs < MAX_SUBSCRIBERS)
		ws.subs[ws.n_subs++] = (struct subscriber){fn, ctx};
	pthread_mutex_unlock(&ws.lock);
}

enum xjk_worker_state xjk_wstate_state(int backend)
{
	return atomic_load_explicit(&ws.backends[backend].state, memory_order_relaxed);
}

enum xjk_cause xjk_wstate_cause(int backend)
{
	return ws.backends[backend].cause;
}

enum xjk_activation xjk_wstate_activation(int backend)
{
	return atomic_load_explicit(&ws.backends[backend].activation, memory_order_relaxed);
}

static bool is_error_state(int state)
{
	return state == XJK_STATE_ERR || state == XJK_STATE_ERR_REC || state == XJK_STATE_ERR_FRC ||
	       state == XJK_STATE_ERR_PRB;
}

/* Under the lock: tells every subscriber the backend's current state. */
static void notify(int backend)
{
	struct backend_rt *b = &ws.backends[backend];
	for (int i = 0; i < ws.n_subs; i++)
		ws.subs[i].fn(ws.subs[i].ctx, backend, atomic_load(&b->state),
			      atomic_load(&b->activation));
}

/* Under the lock: the one place a state or activation changes. */
static void transition(int backend, int state, int activation, enum xjk_cause cause,
		       const char *detail)
{
	struct backend_rt *b = &ws.backends[backend];
	int old_state = atomic_load(&b->state), old_act = atomic_load(&b->activation);
	if (old_state == state && old_act == activation)
		return;
	atomic_store(&b->state, state);
	atomic_store(&b->activation, activation);
	b->cause = cause;
	if (state == XJK_STATE_ERR)
		b->error_time = xjk_clock_ms();
	/* OK/IDLE -> OK is bookkeeping, not news. */
	if (!(old_state == XJK_STATE_OK_IDLE && state == XJK_STATE_OK && old_act == activation)) {
		enum xjk_log_level level = is_error_state(state) && !is_error_state(old_state)
						   ? XJK_LOG_WARN
						   : XJK_LOG_INFO;
		xjk_log(level, "worker %s: %s/%s -> %s/%s (%s%s%s)",
			ws.workers->backends[backend].name, xjk_worker_state_name(old_state),
			xjk_activation_name(old_act), xjk_worker_state_name(state),
			xjk_activation_name(activation), xjk_cause_name(cause), detail ? ": " : "",
			detail ? detail : "");
	}
	notify(backend);
}

void xjk_wstate_report(int backend, enum xjk_cause cause, const char *detail)
{
	struct backend_rt *b = &ws.backends[backend];
	int state = atomic_load_explicit(&b->state, memory_order_relaxed);
	if (cause == XJK_CAUSE_SUCCESS) {
		if (state == XJK_STATE_OK)
			return; /* the request path's common case stays lock-free */
		pthread_mutex_lock(&ws.lock);
		transition(backend, XJK_STATE_OK, atomic_load(&b->activation), cause, detail);
		pthread_mutex_unlock(&ws.lock);
		return;
	}
	if (cause == XJK_CAUSE_BUSY) {
		/* A full pool says nothing about the backend's health: no error,
		 * only mod_jk's OK/BUSY until a request on it succeeds again. */
		pthread_mutex_lock(&ws.lock);
		state = atomic_load(&b->state);
		if (state == XJK_STATE_OK || state == XJK_STATE_OK_IDLE)
			transition(backend, XJK_STATE_OK_BUSY, atomic_load(&b->activation), cause,
				   detail);
		pthread_mutex_unlock(&ws.lock);
		return;
	}
	atomic_fetch_add_explicit(&b->errors, 1, memory_order_relaxed);
	pthread_mutex_lock(&ws.lock);
	transition(backend, XJK_STATE_ERR, atomic_load(&b->activation), cause, detail);
	b->error_time = xjk_clock_ms();
	pthread_mutex_unlock(&ws.lock);
}

void xjk_wstate_set_activation(int backend, enum xjk_activation activation, enum xjk_cause cause)
{
	pthread_mutex_lock(&ws.lock);
	transition(backend, atomic_load(&ws.backends[backend].state), (int)activation, cause, NULL);
	pthread_mutex_unlock(&ws.lock);
}

/* Under the lock: the backend is in ERR because it answered a request wrongly
 * (a protocol error, fail_on_status, a reply timeout) less than recover_time
 * ago. Such a backend may well pass a CPing or a GET of the check path while it
 * fails real requests, so a health check does not bring it back: recovery
 * waits for recover_time and a probe request, as in mod_jk. */
static bool lied(const struct backend_rt *b)
{
	return (b->cause == XJK_CAUSE_PROTOCOL || b->cause == XJK_CAUSE_STATUS ||
		b->cause == XJK_CAUSE_TIMEOUT) &&
	       xjk_clock_ms() - b->error_time < (uint64_t)b->recover_time_s * 1000;
}

void xjk_wstate_set_down(int backend, bool down, enum xjk_cause cause, const char *detail)
{
	struct backend_rt *b = &ws.backends[backend];
	pthread_mutex_lock(&ws.lock);
	int state = atomic_load(&b->state);
	if (down && state == XJK_STATE_ERR && b->cause != cause) {
		/* Already in ERR for one request's fault (a reply timeout, say):
		 * this is a verdict on the node, which subscribers act on. */
		xjk_info("worker %s: down (%s%s%s)", ws.workers->backends[backend].name,
			 xjk_cause_name(cause), detail ? ": " : "", detail ? detail : "");
		b->cause = cause;
		notify(backend);
	} else if (down) {
		transition(backend, XJK_STATE_ERR, atomic_load(&b->activation), cause, detail);
	} else if (is_error_state(state) && !(cause == XJK_CAUSE_HEALTH && lied(b))) {
		/* A passing health check proved the backend answers; other sources
		 * only say it may be back, so a probe request decides. */
		transition(backend, cause == XJK_CAUSE_HEALTH ? XJK_STATE_OK : XJK_STATE_ERR_REC,
			   atomic_load(&b->activation), cause, detail);
	}
	pthread_mutex_unlock(&ws.lock);
}

void xjk_wstate_maintain(uint64_t now_ms)
{
	pthread_mutex_lock(&ws.lock);
	for (int i = 0; i < ws.workers->n_backends; i++) {
		struct backend_rt *b = &ws.backends[i];
		if (atomic_load(&b->state) == XJK_STATE_ERR &&
		    now_ms - b->error_time >= (uint64_t)b->recover_time_s * 1000)
			transition(i, XJK_STATE_ERR_REC, atomic_load(&b->activation),
				   XJK_CAUSE_RECOVER, NULL);
	}
	pthread_mutex_unlock(&ws.lock);
}

static void snapshot(int lb, struct xjk_lb_cand *cands, uint64_t failed)
{
	const struct xjk_lb *conf = &ws.workers->lbs[lb];
	struct lb_rt *rt = &ws.lbs[lb];
	for (int m = 0; m < conf->n_members; m++) {
		const struct xjk_backend *be = &ws.workers->backends[conf->members[m]];
		struct backend_rt *b = &ws.backends[conf->members[m]];
		cands[m] = (struct xjk_lb_cand){
			.route = be->route,
			.domain = be->domain,
			.redirect = be->redirect,
			.distance = be->distance,
			.lb_mult = mult_of(rt, m),
			.lb_value = atomic_load_explicit(&rt->lb_value[m], memory_order_relaxed),
			.activation = atomic_load_explicit(&b->activation, memory_order_relaxed),
			.state = atomic_load_explicit(&b->state, memory_order_relaxed),
			.failed_here = (failed >> m) & 1,
		};
	}
}

int xjk_wstate_choose(int lb, const struct xjk_str *routes, int n_routes, bool has_session,
		      uint64_t failed, struct xjk_choice *out)
{
	const struct xjk_lb *conf = &ws.workers->lbs[lb];
	struct lb_rt *rt = &ws.lbs[lb];
	struct xjk_lb_cand cands[MAX_MEMBERS];
	snapshot(lb, cands, failed);

	/* Session routes go through the route table (routes.h), the one place
	 * that says which member holds a failed member's sessions. */
	struct xjk_str via[XJK_ROUTES_PER_REQUEST];
	if (n_routes > XJK_ROUTES_PER_REQUEST)
		n_routes = XJK_ROUTES_PER_REQUEST;
	xjk_routes_resolve(lb, routes, n_routes, via);
	struct xjk_lb_req req = {
		.routes = conf->sticky_session ? via : NULL,
		.n_routes = conf->sticky_session ? n_routes : 0,
		.has_session = has_session && conf->sticky_session,
		.sticky_force = conf->sticky_session_force,
		.offset = atomic_load_explicit(&rt->offset, memory_order_relaxed),
	};
	struct xjk_lb_choice choice;
	if (xjk_lb_choose(cands, conf->n_members, &req, &choice) < 0) {
		/* Nothing usable: force recovery once, as mod_jk does, rather than
		 * refusing while some member may well be back. */
		pthread_mutex_lock(&ws.lock);
		snapshot(lb, cands, failed);
		if (xjk_lb_force_recovery(cands, conf->n_members) > 0)
			for (int m = 0; m < conf->n_members; m++)
				if (cands[m].state == XJK_STATE_ERR_FRC)
					transition(conf->members[m], XJK_STATE_ERR_FRC,
						   cands[m].activation, XJK_CAUSE_RECOVER,
						   "all members failed: forced recovery");
		pthread_mutex_unlock(&ws.lock);
		if (xjk_lb_choose(cands, conf->n_members, &req, &choice) < 0)
			return -1;
	}
	int m = choice.index;
	atomic_store_explicit(&rt->offset, choice.next_offset, memory_order_relaxed);
	atomic_fetch_add_explicit(
		&rt->lb_value[m],
		xjk_lb_pick_cost(conf->method, mult_of(rt, m), has_session, false),
		memory_order_relaxed);
	int backend = conf->members[m];
	if (cands[m].state == XJK_STATE_ERR_REC) {
		int expected = XJK_STATE_ERR_REC;
		/* One probe request at a time: PRB is not usable for the others. */
		if (atomic_compare_exchange_strong(&ws.backends[backend].state, &expected,
						   XJK_STATE_ERR_PRB))
			xjk_debug("worker %s: probing", ws.workers->backends[backend].name);
	}
	out->member = m;
	out->backend = backend;
	out->sticky = choice.sticky;
	out->route = choice.route;
	return 0;
}

void xjk_wstate_done(int lb, int member, uint64_t bytes)
{
	const struct xjk_lb *conf = &ws.workers->lbs[lb];
	struct lb_rt *rt = &ws.lbs[lb];
	int64_t delta = xjk_lb_done_delta(conf->method, mult_of(rt, member), bytes);
	if (delta > 0) {
		atomic_fetch_add_explicit(&rt->lb_value[member], (uint64_t)delta,
					  memory_order_relaxed);
	} else if (delta < 0) {
		uint64_t cur = atomic_load(&rt->lb_value[member]), next;
		do
			next = cur > (uint64_t)-delta ? cur - (uint64_t)-delta : 0;
		while (!atomic_compare_exchange_weak(&rt->lb_value[member], &cur, next));
	}
}

void xjk_wstate_count(int backend, uint64_t bytes_in, uint64_t bytes_out, bool error)
{
	struct backend_rt *b = &ws.backends[backend];
	atomic_fetch_add_explicit(&b->requests, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&b->bytes_in, bytes_in, memory_order_relaxed);
	atomic_fetch_add_explicit(&b->bytes_out, bytes_out, memory_order_relaxed);
	if (error)
		atomic_fetch_add_explicit(&b->client_errors, 1, memory_order_relaxed);
}

void xjk_wstate_busy(int backend, int delta)
{
	struct backend_rt *b = &ws.backends[backend];
	int64_t now = atomic_fetch_add_explicit(&b->busy, delta, memory_order_relaxed) + delta;
	int64_t max = atomic_load_explicit(&b->max_busy, memory_order_relaxed);
	while (now > max && !atomic_compare_exchange_weak(&b->max_busy, &max, now))
		;
}

void xjk_wstate_waiting(int backend, int delta)
{
	atomic_fetch_add_explicit(&ws.backends[backend].waiting, delta, memory_order_relaxed);
}

void xjk_wstate_stats(int backend, struct xjk_backend_stats *out)
{
	struct backend_rt *b = &ws.backends[backend];
	out->requests = atomic_load(&b->requests);
	out->errors = atomic_load(&b->errors);
	out->client_errors = atomic_load(&b->client_errors);
	out->bytes_in = atomic_load(&b->bytes_in);
	out->bytes_out = atomic_load(&b->bytes_out);
	out->busy = atomic_load(&b->busy);
	out->max_busy = atomic_load(&b->max_busy);
	out->waiting = atomic_load(&b->waiting);
}

int xjk_wstate_lbfactor(int backend)
{
	return atomic_load_explicit(&ws.backends[backend].lbfactor, memory_order_relaxed);
}

int xjk_wstate_set_lbfactor(int backend, int lbfactor)
{
	int rc = 0;
	pthread_mutex_lock(&ws.lock);
	int old = atomic_exchange(&ws.backends[backend].lbfactor, lbfactor);
	for (int l = 0; l < ws.workers->n_lbs && !rc; l++) {
		const struct xjk_lb *conf = &ws.workers->lbs[l];
		bool member = false;
		for (int m = 0; m < conf->n_members; m++)
			member |= conf->members[m] == backend;
		if (!member)
			continue;
		rc = compute_mults(l);
		/* Values charged with the old multipliers would skew the next picks;
		 * jkstatus restarts them too. */
		for (int m = 0; !rc && m < conf->n_members; m++)
			atomic_store(&ws.lbs[l].lb_value[m], 0);
	}
	if (rc) {
		atomic_store(&ws.backends[backend].lbfactor, old);
	} else {
		xjk_info("worker %s: lbfactor %d -> %d (%s)", ws.workers->backends[backend].name,
			 old, lbfactor, xjk_cause_name(XJK_CAUSE_OPERATOR));
		/* Weighted consumers (the XDP rings) read the new factor. */
		notify(backend);
	}
	pthread_mutex_unlock(&ws.lock);
	return rc;
}

void xjk_wstate_member(int lb, int member, uint32_t *lb_mult, uint64_t *lb_value)
{
	*lb_mult = mult_of(&ws.lbs[lb], member);
	*lb_value = atomic_load_explicit(&ws.lbs[lb].lb_value[member], memory_order_relaxed);
}

void xjk_wstate_reset_stats(int backend)
{
	struct backend_rt *b = &ws.backends[backend];
	atomic_store(&b->requests, 0);
	atomic_store(&b->errors, 0);
	atomic_store(&b->client_errors, 0);
	atomic_store(&b->bytes_in, 0);
	atomic_store(&b->bytes_out, 0);
	/* busy counts requests in flight now: only its high-water mark restarts */
	atomic_store(&b->max_busy, atomic_load(&b->busy));
}
