/* poolq.h: the wait queue of an AJP connection pool and the rule that decides
 * whether a request gets a connection now or waits (connection_acquire_timeout).
 *
 * Pure bookkeeping, no sockets or timers: upstream.c keeps one queue per
 * backend per event loop and arms the timers. Nodes are embedded in their
 * owner (intrusive), so queueing never allocates. */
#ifndef XJK_POOLQ_H
#define XJK_POOLQ_H

#include <stdbool.h>

struct xjk_poolq_node {
	struct xjk_poolq_node *prev, *next;
	bool queued;
};

/* First in, first out. */
struct xjk_poolq {
	struct xjk_poolq_node *head, *tail;
	int n;
};

void xjk_poolq_push(struct xjk_poolq *q, struct xjk_poolq_node *node);
/* Takes NODE out wherever it is; nothing happens when it is not queued. */
void xjk_poolq_remove(struct xjk_poolq *q, struct xjk_poolq_node *node);
/* The longest-waiting node, taken out; NULL when the queue is empty. */
struct xjk_poolq_node *xjk_poolq_pop(struct xjk_poolq *q);

/* A pool's connections, as the decision needs them. */
struct xjk_poolq_slots {
	int idle;     /* pooled, free for the next request */
	int open;     /* every connection, idle or in use */
	int unproven; /* opened, but the backend has not answered on it yet */
	int limit;    /* the pool's size */
	int open_cap; /* most unproven connections at once */
};

enum xjk_poolq_grant {
	XJK_POOLQ_REUSE, /* take the warmest idle connection */
	XJK_POOLQ_OPEN,	 /* open a new connection */
	XJK_POOLQ_WAIT,	 /* nothing to give: wait in the queue */
};

/* What a request gets from a pool with SLOTS. QUEUE_AHEAD: other requests
 * are already waiting, so a newcomer does not overtake them. */
enum xjk_poolq_grant xjk_poolq_decide(const struct xjk_poolq_slots *slots, bool queue_ahead);

#endif
