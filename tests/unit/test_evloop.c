/* test_evloop.c: timer ordering and cancellation, deferred calls, posts from
 * another thread, and io dispatch over a real pipe. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "evloop.h"

struct recorder {
	struct xjk_loop *loop;
	int order[64];
	int n;
};

struct tagged_timer {
	struct xjk_timer t;
	struct recorder *rec;
	int tag;
};

static void on_fire(struct xjk_timer *t)
{
	struct tagged_timer *tt = container_of(t, struct tagged_timer, t);
	tt->rec->order[tt->rec->n++] = tt->tag;
	if (tt->rec->n == 4)
		xjk_loop_stop(tt->rec->loop);
}

static void timers_fire_in_deadline_order(void **state)
{
	(void)state;
	struct recorder rec = {.loop = xjk_loop_new()};
	assert_non_null(rec.loop);
	struct tagged_timer t[6];
	const int delays[6] = {30, 10, 50, 20, 40, 5};
	for (int i = 0; i < 6; i++) {
		t[i] = (struct tagged_timer){.t.fn = on_fire, .rec = &rec, .tag = delays[i]};
		xjk_timer_arm(rec.loop, &t[i].t, (uint64_t)delays[i]);
	}
	xjk_timer_cancel(rec.loop, &t[1].t);  /* 10 */
	xjk_timer_arm(rec.loop, &t[5].t, 35); /* 5 moves after 30 */
	assert_false(xjk_timer_armed(&t[1].t));
	assert_int_equal(xjk_loop_run(rec.loop), 0);
	/* The stop takes effect after the turn: on a loaded machine the 50 ms
	 * timer may already be due in the same turn and fire too. */
	assert_in_range(rec.n, 4, 5);
	assert_int_equal(rec.order[0], 20);
	assert_int_equal(rec.order[1], 30);
	assert_int_equal(rec.order[2], 5);
	assert_int_equal(rec.order[3], 40);
	if (rec.n == 5)
		assert_int_equal(rec.order[4], 50);
	xjk_timer_cancel(rec.loop, &t[2].t);
	xjk_loop_free(rec.loop);
}

struct pipe_io {
	struct xjk_io io;
	int reads;
	struct xjk_loop *loop;
};

static void on_pipe(struct xjk_io *io, uint32_t events)
{
	struct pipe_io *p = container_of(io, struct pipe_io, io);
	char buf[16];
	assert_true(events & EPOLLIN);
	assert_int_equal(read(io->fd, buf, sizeof(buf)), 3);
	p->reads++;
	xjk_loop_unwatch(io);
	xjk_loop_stop(p->loop);
}

static void io_dispatches_and_unwatch_stops_events(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct pipe_io p = {.io = {.fd = fds[0], .fn = on_pipe}, .loop = xjk_loop_new()};
	assert_int_equal(xjk_loop_watch(p.loop, &p.io, EPOLLIN), 0);
	assert_int_equal(write(fds[1], "abc", 3), 3);
	xjk_loop_run(p.loop);
	assert_int_equal(p.reads, 1);
	assert_null(p.io.loop);
	close(fds[0]);
	close(fds[1]);
	xjk_loop_free(p.loop);
}

static int deferred_runs;
static void count_deferred(void *arg)
{
	(void)arg;
	deferred_runs++;
}

struct poster {
	struct xjk_loop *loop;
	int value;
};

static void on_post(void *arg)
{
	struct poster *p = arg;
	p->value = 42;
	xjk_loop_defer(p->loop, count_deferred, NULL);
	xjk_loop_stop(p->loop);
}

static void *post_from_thread(void *arg)
{
	struct poster *p = arg;
	xjk_loop_post(p->loop, on_post, p);
	return NULL;
}

static void post_runs_on_loop_and_defer_after_turn(void **state)
{
	(void)state;
	struct poster p = {.loop = xjk_loop_new()};
	pthread_t tid;
	deferred_runs = 0;
	assert_int_equal(pthread_create(&tid, NULL, post_from_thread, &p), 0);
	xjk_loop_run(p.loop);
	pthread_join(tid, NULL);
	assert_int_equal(p.value, 42);
	assert_int_equal(deferred_runs, 1);
	xjk_loop_free(p.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timers_fire_in_deadline_order),
		cmocka_unit_test(io_dispatches_and_unwatch_stops_events),
		cmocka_unit_test(post_runs_on_loop_and_defer_after_turn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
