/* wstate.h: failover control, the one owner of worker runtime state.
 *
 * Every change of a backend's state or activation (a failed request, a health
 * check, a cluster member leaving, an operator's command, recovery) goes
 * through this module, which applies it to every consumer in the same call:
 * the agent's own lb choice (the atomics below, read by every event loop), and
 * each subscriber (XDP rings, route map, worker-state map, logs, metrics). */
#ifndef XJK_WSTATE_H
#define XJK_WSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "worker.h"

/* Why a backend's state changed; logged with every transition. */
enum xjk_cause {
	XJK_CAUSE_SUCCESS,
	XJK_CAUSE_CONNECT,    /* connect refused or failed */
	XJK_CAUSE_TIMEOUT,    /* connect, CPong or reply timeout */
	XJK_CAUSE_RESET,      /* connection reset or closed mid-exchange */
	XJK_CAUSE_PROTOCOL,   /* the backend sent something invalid */
	XJK_CAUSE_STATUS,     /* fail_on_status matched */
	XJK_CAUSE_HEALTH,     /* active health check */
	XJK_CAUSE_MEMBERSHIP, /* cluster membership (Tribes beacons) */
	XJK_CAUSE_OPERATOR,   /* xjkctl or the status page */
	XJK_CAUSE_RECOVER,    /* recover_time elapsed */
	XJK_CAUSE_BUSY,	      /* no free connection in this thread's pool: not a fault */
};

const char *xjk_cause_name(enum xjk_cause cause);

/* Called under the wstate lock after each change of state, activation or
 * lbfactor (xjk_wstate_lbfactor), on the thread that made it. */
typedef void (*xjk_wstate_fn)(void *ctx, int backend, enum xjk_worker_state state,
			      enum xjk_activation activation);

int xjk_wstate_init(const struct xjk_workers *workers);
void xjk_wstate_free(void);
void xjk_wstate_subscribe(xjk_wstate_fn fn, void *ctx);

enum xjk_worker_state xjk_wstate_state(int backend);
enum xjk_activation xjk_wstate_activation(int backend);
/* Why the last transition happened; for subscribers, which run under the lock. */
enum xjk_cause xjk_wstate_cause(int backend);

/* Passive reports from the data path, and active ones from checks. */
void xjk_wstate_report(int backend, enum xjk_cause cause, const char *detail);
void xjk_wstate_set_activation(int backend, enum xjk_activation activation, enum xjk_cause cause);
/* Marks a backend down (ERR) or back: OK when a health check passed, ERR/REC
 * (the next request probes it) for any other cause. */
void xjk_wstate_set_down(int backend, bool down, enum xjk_cause cause, const char *detail);
/* Recovery of ERR members whose recover_time has passed; call about once a second. */
void xjk_wstate_maintain(uint64_t now_ms);

/* The lb choice for one request. */
struct xjk_choice {
	int member;	   /* position in lb->members, -1 when none */
	int backend;	   /* index into workers->backends */
	bool sticky;	   /* chosen by the session's route */
	const char *route; /* route sent to the backend */
};

/* Picks a member of LB for a request with the given session routes, skipping
 * members whose bit is set in FAILED (members that already failed for this
 * request). Charges the member's lb value as the lb method says. Returns 0, or
 * -1 when no member is usable (the caller answers 503). */
int xjk_wstate_choose(int lb, const struct xjk_str *routes, int n_routes, bool has_session,
		      uint64_t failed, struct xjk_choice *out);
/* Accounting when a request on a member ends (busyness and traffic methods). */
void xjk_wstate_done(int lb, int member, uint64_t bytes);

/* Per-backend counters for status and metrics. */
struct xjk_backend_stats {
	uint64_t requests, errors, client_errors, bytes_in, bytes_out;
	int64_t busy, max_busy;
	int64_t waiting; /* requests queued for a pooled connection (connection_acquire_timeout) */
};
void xjk_wstate_count(int backend, uint64_t bytes_in, uint64_t bytes_out, bool error);
void xjk_wstate_busy(int backend, int delta);
void xjk_wstate_waiting(int backend, int delta);
void xjk_wstate_stats(int backend, struct xjk_backend_stats *out);
/* Counter reset (status page, xjkctl): the busy and waiting gauges stay. */
void xjk_wstate_reset_stats(int backend);

/* Runtime lbfactor: starts as configured. Setting it recomputes lb_mult in
 * every lb that has BACKEND and restarts their lb_values. 0 or -1 (no memory;
 * nothing changed). */
int xjk_wstate_lbfactor(int backend);
int xjk_wstate_set_lbfactor(int backend, int lbfactor);
/* lb_mult and lb_value of member MEMBER of LB, for status output. */
void xjk_wstate_member(int lb, int member, uint32_t *lb_mult, uint64_t *lb_value);

#endif
