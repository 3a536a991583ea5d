/* test_poolq.c: the connection pool's wait queue keeps arrival order, lets a
 * waiter leave from anywhere, and the grant rule reuses idle connections
 * first, opens new ones only within the pool's size and the cap on
 * connections not yet answered on, and lets no newcomer overtake a waiter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "poolq.h"

#define N 5

static void push_all(struct xjk_poolq *q, struct xjk_poolq_node *nodes)
{
	for (int i = 0; i < N; i++)
		xjk_poolq_push(q, &nodes[i]);
}

static void test_fifo(void **state)
{
	(void)state;
	struct xjk_poolq q = {0};
	struct xjk_poolq_node nodes[N] = {0};
	push_all(&q, nodes);
	assert_int_equal(q.n, N);
	for (int i = 0; i < N; i++) {
		struct xjk_poolq_node *got = xjk_poolq_pop(&q);
		assert_ptr_equal(got, &nodes[i]);
		assert_false(got->queued);
	}
	assert_null(xjk_poolq_pop(&q));
	assert_int_equal(q.n, 0);
	assert_null(q.tail);
}

static void test_remove_anywhere(void **state)
{
	(void)state;
	struct xjk_poolq q = {0};
	struct xjk_poolq_node nodes[N] = {0};
	push_all(&q, nodes);
	xjk_poolq_remove(&q, &nodes[2]); /* middle */
	xjk_poolq_remove(&q, &nodes[0]); /* head */
	xjk_poolq_remove(&q, &nodes[4]); /* tail */
	xjk_poolq_remove(&q, &nodes[4]); /* not queued any more: nothing happens */
	assert_int_equal(q.n, 2);
	/* A node pushed after removals goes behind the ones still waiting. */
	xjk_poolq_push(&q, &nodes[0]);
	assert_ptr_equal(xjk_poolq_pop(&q), &nodes[1]);
	assert_ptr_equal(xjk_poolq_pop(&q), &nodes[3]);
	assert_ptr_equal(xjk_poolq_pop(&q), &nodes[0]);
	assert_null(q.head);
	assert_null(q.tail);
}

static void test_remove_last_then_push(void **state)
{
	(void)state;
	struct xjk_poolq q = {0};
	struct xjk_poolq_node a = {0}, b = {0};
	xjk_poolq_push(&q, &a);
	xjk_poolq_remove(&q, &a);
	assert_null(q.head);
	assert_null(q.tail);
	xjk_poolq_push(&q, &b);
	assert_ptr_equal(q.head, &b);
	assert_ptr_equal(q.tail, &b);
	assert_null(b.prev);
}

static enum xjk_poolq_grant decide(int idle, int open, int unproven, bool queue_ahead)
{
	const struct xjk_poolq_slots s = {
		.idle = idle, .open = open, .unproven = unproven, .limit = 4, .open_cap = 2};
	return xjk_poolq_decide(&s, queue_ahead);
}

static void test_decide(void **state)
{
	(void)state;
	/* Idle connections first, even when the pool could grow. */
	assert_int_equal(decide(1, 1, 0, false), XJK_POOLQ_REUSE);
	assert_int_equal(decide(1, 4, 2, false), XJK_POOLQ_REUSE);
	/* Room in the pool and under the cap: open. */
	assert_int_equal(decide(0, 0, 0, false), XJK_POOLQ_OPEN);
	assert_int_equal(decide(0, 3, 1, false), XJK_POOLQ_OPEN);
	/* The pool is full. */
	assert_int_equal(decide(0, 4, 0, false), XJK_POOLQ_WAIT);
	/* Room in the pool, but as many unanswered connections as allowed. */
	assert_int_equal(decide(0, 2, 2, false), XJK_POOLQ_WAIT);
	/* Others wait already: a newcomer queues behind them. */
	assert_int_equal(decide(1, 1, 0, true), XJK_POOLQ_WAIT);
	assert_int_equal(decide(0, 0, 0, true), XJK_POOLQ_WAIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_remove_anywhere),
		cmocka_unit_test(test_remove_last_then_push),
		cmocka_unit_test(test_decide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
