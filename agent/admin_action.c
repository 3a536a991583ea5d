/* admin_action.c: the operator's runtime actions on one worker, the same for
 * the status page and xjkctl. Every change goes through wstate, which fans
 * it out to the lb choice and the BPF maps as failover does. */
#include "admin.h"

#include <stdio.h>
#include <string.h>

#include "props.h"
#include "workers.h"

#define LBFACTOR_MAX 100000

static const struct {
	const char *verb;
	enum xjk_activation activation;
} activations[] = {
	{"enable", XJK_ACTIVE},
	{"disable", XJK_DISABLED},
	{"stop", XJK_STOPPED},
};

static bool is_error_state(enum xjk_worker_state s)
{
	return s == XJK_STATE_ERR || s == XJK_STATE_ERR_REC || s == XJK_STATE_ERR_FRC ||
	       s == XJK_STATE_ERR_PRB;
}

int xjk_admin_action(const struct xjk_workers *w, const char *name, const char *verb,
		     const char *value, char *msg, size_t msglen)
{
	struct xjk_worker_ref ref;
	if (!name || xjk_workers_find(w, name, &ref) ||
	    (ref.type != XJK_WORKER_AJP13 && ref.type != XJK_WORKER_HTTP)) {
		snprintf(msg, msglen, "no ajp13 or lb member worker '%s'", name ? name : "");
		return -404;
	}
	int b = ref.index;
	verb = verb ? verb : "";
	for (size_t i = 0; i < sizeof(activations) / sizeof(activations[0]); i++) {
		if (strcmp(verb, activations[i].verb))
			continue;
		xjk_wstate_set_activation(b, activations[i].activation, XJK_CAUSE_OPERATOR);
		snprintf(msg, msglen, "worker %s: activation %s", name,
			 xjk_activation_name(activations[i].activation));
		return 0;
	}
	if (!strcmp(verb, "recover")) {
		enum xjk_worker_state s = xjk_wstate_state(b);
		if (!is_error_state(s)) {
			snprintf(msg, msglen, "worker %s is %s, not in error", name,
				 xjk_worker_state_name(s));
			return -400;
		}
		xjk_wstate_set_down(b, false, XJK_CAUSE_OPERATOR, "forced recovery");
		snprintf(msg, msglen, "worker %s: %s", name,
			 xjk_worker_state_name(xjk_wstate_state(b)));
		return 0;
	}
	if (!strcmp(verb, "reset")) {
		xjk_wstate_reset_stats(b);
		snprintf(msg, msglen, "worker %s: counters reset", name);
		return 0;
	}
	if (!strcmp(verb, "lbfactor")) {
		long f;
		if (!value || xjk_props_parse_int(value, &f) || f < 1 || f > LBFACTOR_MAX) {
			snprintf(msg, msglen, "lbfactor needs a number from 1 to %d", LBFACTOR_MAX);
			return -400;
		}
		if (xjk_wstate_set_lbfactor(b, (int)f)) {
			snprintf(msg, msglen, "out of memory");
			return -500;
		}
		snprintf(msg, msglen, "worker %s: lbfactor %ld", name, f);
		return 0;
	}
	snprintf(msg, msglen,
		 "unknown action '%s' (enable, disable, stop, recover, reset, lbfactor)", verb);
	return -400;
}
