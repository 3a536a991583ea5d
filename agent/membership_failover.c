/* membership_failover.c: what a cluster member's comings and goings do to
 * xjkd's workers: the callback the agent hands to xjk_membership_new. */
#include "membership.h"

#include <stdio.h>

#include "config.h"
#include "log.h"
#include "wstate.h"

/* More backends than this behind one Receiver would be a configuration
 * mistake; they are ignored with a warning. */
#define MAX_BACKENDS_PER_MEMBER 16

void xjk_membership_failover(void *ctx, const struct xjk_member *m, enum xjk_member_event ev)
{
	const struct xjk_config *cfg = ctx;
	int be[MAX_BACKENDS_PER_MEMBER];
	int n = xjk_membership_workers(&cfg->membership, &cfg->workers, m, be,
				       MAX_BACKENDS_PER_MEMBER);
	if (n == MAX_BACKENDS_PER_MEMBER)
		xjk_warn("membership: member %s stands for %d or more workers; only %d follow it",
			 m->addr, n, n);
	char detail[96];
	snprintf(detail, sizeof(detail), "member %s %s", m->addr, xjk_member_event_name(ev));
	/* A member that joins is only said to be back: recovery and the health
	 * checks decide when requests go to it again. */
	for (int i = 0; i < n; i++)
		xjk_wstate_set_down(be[i], ev != XJK_MEMBER_JOINED, XJK_CAUSE_MEMBERSHIP, detail);
}
