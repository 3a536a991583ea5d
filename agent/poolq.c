/* poolq.c: FIFO wait queue of a connection pool and its grant rule (poolq.h). */
#include "poolq.h"

#include <stddef.h>

void xjk_poolq_push(struct xjk_poolq *q, struct xjk_poolq_node *node)
{
	node->next = NULL;
	node->prev = q->tail;
	if (q->tail)
		q->tail->next = node;
	else
		q->head = node;
	q->tail = node;
	node->queued = true;
	q->n++;
}

void xjk_poolq_remove(struct xjk_poolq *q, struct xjk_poolq_node *node)
{
	if (!node->queued)
		return;
	if (node->prev)
		node->prev->next = node->next;
	else
		q->head = node->next;
	if (node->next)
		node->next->prev = node->prev;
	else
		q->tail = node->prev;
	node->prev = node->next = NULL;
	node->queued = false;
	q->n--;
}

struct xjk_poolq_node *xjk_poolq_pop(struct xjk_poolq *q)
{
	struct xjk_poolq_node *node = q->head;
	if (node)
		xjk_poolq_remove(q, node);
	return node;
}

enum xjk_poolq_grant xjk_poolq_decide(const struct xjk_poolq_slots *slots, bool queue_ahead)
{
	if (queue_ahead)
		return XJK_POOLQ_WAIT;
	if (slots->idle > 0)
		return XJK_POOLQ_REUSE;
	/* A new connection waits in the backend's accept queue until it is
	 * accepted; more of them at once than that queue holds would have
	 * their SYNs dropped and retried only after a second. */
	if (slots->open < slots->limit && slots->unproven < slots->open_cap)
		return XJK_POOLQ_OPEN;
	return XJK_POOLQ_WAIT;
}
