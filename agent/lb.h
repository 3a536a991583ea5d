/* lb.h: the lb worker's member choice with mod_jk's semantics (jk_lb_worker.c),
 * as pure functions over a snapshot of the members that the caller takes.
 *
 * The caller owns every counter (lb_value, state, the rotating offset); these
 * functions only say what to pick and how much to add, so one copy of the logic
 * serves every event-loop thread and the tests. A request is served as:
 *
 *	snapshot members into cands[]
 *	loop (at most lb.retries rounds of min(lb_retries, n) attempts):
 *		xjk_lb_choose()
 *		index < 0: xjk_lb_force_recovery() once, then choose again, else 503
 *		add xjk_lb_pick_cost() to the member's lb_value, send the request
 *		on failure: cands[i].failed_here = true and choose again
 *	add xjk_lb_done_delta() when the request is over
 *
 * A new round re-reads the shared states, which clears failed_here, as mod_jk
 * reloads its per-request states[] copy. */
#ifndef XJK_LB_H
#define XJK_LB_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "worker.h"

/* One lb member, as the caller sees it now. Strings are "" when unset. */
struct xjk_lb_cand {
	const char *route;
	const char *domain;
	const char *redirect; /* a member route */
	int distance;
	uint32_t lb_mult;
	uint64_t lb_value;
	enum xjk_activation activation; /* with any per-mount override applied */
	enum xjk_worker_state state;
	bool failed_here; /* failed earlier in this request: as if in ERR */
};

/* What the request brings to the choice. */
struct xjk_lb_req {
	const struct xjk_str *routes; /* session routes in order (text after the first '.') */
	int n_routes;
	/* a session id was found, even one without a route; mod_jk looks for
	 * one only when the lb is sticky, so false for a non-sticky lb */
	bool has_session;
	bool sticky_force;
	bool stateless;	 /* ignore lb_value: pure rotation within the lowest distance */
	uint32_t offset; /* where the non-sticky scan starts (the caller's next_offset) */
};

struct xjk_lb_choice {
	int index;	      /* into cands, or -1 when no member can take the request */
	bool sticky;	      /* chosen through a session route */
	const char *route;    /* for attribute 0x06: the member's route, or a domain */
	uint32_t next_offset; /* the caller stores this as its new offset */
};

/* lb_mult = LCM(lbfactors) / lbfactor; factors below 1 count as 1. When the
 * LCM does not fit 32 bits the weights are approximated (see lb.c). */
void xjk_lb_mults(const int *lbfactors, int n, uint32_t *mults);

/* Picks the member for one attempt: sticky routes first (exact route, domain,
 * then the unusable member's redirect or domain), else the lowest distance and
 * lb_value from the rotating offset, else the first redirect as a last resort.
 * Returns choice->index. */
int xjk_lb_choose(const struct xjk_lb_cand *cands, int n, const struct xjk_lb_req *req,
		  struct xjk_lb_choice *choice);

/* Moves every member in ERR to ERR/FRC (and makes it choosable again in this
 * request); the caller publishes those states. Returns how many were moved. */
int xjk_lb_force_recovery(struct xjk_lb_cand *cands, int n);

/* What to add to the chosen member's lb_value before the request is sent. */
uint64_t xjk_lb_pick_cost(enum xjk_lb_method method, uint32_t lb_mult, bool has_session,
			  bool stateless);
/* What to add when the request is over: Traffic charges the bytes moved,
 * Busyness gives back its pick cost (negative; the caller floors lb_value at 0). */
int64_t xjk_lb_done_delta(enum xjk_lb_method method, uint32_t lb_mult, uint64_t bytes);

/* Maintenance decay over the snapshot's lb_values after EXPONENT elapsed
 * maintain intervals. Returns the largest lb_value afterwards, which a member
 * marked for recovery takes so that it is not flooded. */
uint64_t xjk_lb_decay(enum xjk_lb_method method, struct xjk_lb_cand *cands, int n,
		      unsigned exponent);

#endif
