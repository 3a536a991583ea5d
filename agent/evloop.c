/* evloop.c: epoll loop, binary min-heap of timers, eventfd-driven post queue. */
#include "evloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256

struct post {
	void (*fn)(void *arg);
	void *arg;
	struct post *next;
};

struct xjk_loop {
	int epfd;
	uint64_t now;
	volatile bool stopping;

	struct xjk_timer **heap;
	uint32_t n_timers;
	uint32_t cap_timers;

	struct xjk_io wake; /* eventfd: post queue and stop requests */
	pthread_mutex_t post_lock;
	struct post *posts, *posts_tail;
	struct post *deferred;
};

uint64_t xjk_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t xjk_loop_now(const struct xjk_loop *loop)
{
	return loop->now;
}

static void run_posts(struct xjk_loop *loop)
{
	pthread_mutex_lock(&loop->post_lock);
	struct post *p = loop->posts;
	loop->posts = loop->posts_tail = NULL;
	pthread_mutex_unlock(&loop->post_lock);
	while (p) {
		struct post *next = p->next;
		p->fn(p->arg);
		free(p);
		p = next;
	}
}

static void run_deferred(struct xjk_loop *loop)
{
	while (loop->deferred) {
		struct post *p = loop->deferred;
		loop->deferred = p->next;
		p->fn(p->arg);
		free(p);
	}
}

static void on_wake(struct xjk_io *io, uint32_t events)
{
	(void)events;
	struct xjk_loop *loop = container_of(io, struct xjk_loop, wake);
	uint64_t v;
	if (read(io->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	run_posts(loop);
}

struct xjk_loop *xjk_loop_new(void)
{
	struct xjk_loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	loop->wake.fn = on_wake;
	pthread_mutex_init(&loop->post_lock, NULL);
	loop->now = xjk_clock_ms();
	if (loop->epfd < 0 || loop->wake.fd < 0 || xjk_loop_watch(loop, &loop->wake, EPOLLIN)) {
		xjk_loop_free(loop);
		return NULL;
	}
	return loop;
}

void xjk_loop_free(struct xjk_loop *loop)
{
	if (!loop)
		return;
	run_posts(loop);
	run_deferred(loop);
	if (loop->wake.fd >= 0)
		close(loop->wake.fd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	pthread_mutex_destroy(&loop->post_lock);
	free(loop->heap);
	free(loop);
}

int xjk_loop_watch(struct xjk_loop *loop, struct xjk_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};
	int op = io->loop ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(loop->epfd, op, io->fd, &ev) < 0)
		return -errno;
	io->loop = loop;
	return 0;
}

void xjk_loop_unwatch(struct xjk_io *io)
{
	if (!io->loop)
		return;
	epoll_ctl(io->loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->loop = NULL;
}

/* Timer heap, 1-based slots stored in each timer so cancel is O(log n). */
static void heap_set(struct xjk_loop *loop, uint32_t slot, struct xjk_timer *t)
{
	loop->heap[slot - 1] = t;
	t->slot = slot;
}

static void heap_up(struct xjk_loop *loop, uint32_t slot)
{
	struct xjk_timer *t = loop->heap[slot - 1];
	while (slot > 1) {
		struct xjk_timer *parent = loop->heap[slot / 2 - 1];
		if (parent->when <= t->when)
			break;
		heap_set(loop, slot, parent);
		slot /= 2;
	}
	heap_set(loop, slot, t);
}

static void heap_down(struct xjk_loop *loop, uint32_t slot)
{
	struct xjk_timer *t = loop->heap[slot - 1];
	for (;;) {
		uint32_t child = slot * 2;
		if (child > loop->n_timers)
			break;
		if (child < loop->n_timers && loop->heap[child]->when < loop->heap[child - 1]->when)
			child++;
		if (loop->heap[child - 1]->when >= t->when)
			break;
		heap_set(loop, slot, loop->heap[child - 1]);
		slot = child;
	}
	heap_set(loop, slot, t);
}

void xjk_timer_cancel(struct xjk_loop *loop, struct xjk_timer *timer)
{
	uint32_t slot = timer->slot;
	if (!slot)
		return;
	timer->slot = 0;
	struct xjk_timer *last = loop->heap[--loop->n_timers];
	if (last == timer)
		return;
	heap_set(loop, slot, last);
	heap_up(loop, slot);
	heap_down(loop, last->slot);
}

void xjk_timer_arm(struct xjk_loop *loop, struct xjk_timer *timer, uint64_t delay_ms)
{
	xjk_timer_cancel(loop, timer);
	if (loop->n_timers == loop->cap_timers) {
		uint32_t cap = loop->cap_timers ? loop->cap_timers * 2 : 64;
		struct xjk_timer **heap = realloc(loop->heap, cap * sizeof(*heap));
		if (!heap)
			abort(); /* a lost timer would hang a connection forever */
		loop->heap = heap;
		loop->cap_timers = cap;
	}
	timer->when = loop->now + delay_ms;
	loop->heap[loop->n_timers++] = timer;
	timer->slot = loop->n_timers;
	heap_up(loop, timer->slot);
}

static int next_timeout(const struct xjk_loop *loop)
{
	if (!loop->n_timers)
		return -1;
	uint64_t when = loop->heap[0]->when;
	return when <= loop->now ? 0 : (int)(when - loop->now);
}

static void run_timers(struct xjk_loop *loop)
{
	while (loop->n_timers && loop->heap[0]->when <= loop->now) {
		struct xjk_timer *t = loop->heap[0];
		xjk_timer_cancel(loop, t);
		t->fn(t);
	}
}

int xjk_loop_run(struct xjk_loop *loop)
{
	struct epoll_event events[MAX_EVENTS];
	while (!loop->stopping) {
		int n = epoll_wait(loop->epfd, events, MAX_EVENTS, next_timeout(loop));
		if (n < 0 && errno != EINTR)
			return -errno;
		loop->now = xjk_clock_ms();
		for (int i = 0; i < n; i++) {
			struct xjk_io *io = events[i].data.ptr;
			if (io->loop)
				io->fn(io, events[i].events);
		}
		run_timers(loop);
		run_deferred(loop);
	}
	return 0;
}

void xjk_loop_defer(struct xjk_loop *loop, void (*fn)(void *arg), void *arg)
{
	struct post *p = malloc(sizeof(*p));
	if (!p) {
		/* Leaking beats a use-after-free of an io with a pending event. */
		return;
	}
	p->fn = fn;
	p->arg = arg;
	p->next = loop->deferred;
	loop->deferred = p;
}

static void wake(struct xjk_loop *loop)
{
	uint64_t one = 1;
	if (write(loop->wake.fd, &one, sizeof(one)) < 0)
		return; /* counter saturated: the loop is awake anyway */
}

void xjk_loop_stop(struct xjk_loop *loop)
{
	loop->stopping = true;
	wake(loop);
}

int xjk_loop_post(struct xjk_loop *loop, void (*fn)(void *arg), void *arg)
{
	struct post *p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fn = fn;
	p->arg = arg;
	p->next = NULL;
	pthread_mutex_lock(&loop->post_lock);
	if (loop->posts_tail)
		loop->posts_tail->next = p;
	else
		loop->posts = p;
	loop->posts_tail = p;
	pthread_mutex_unlock(&loop->post_lock);
	wake(loop);
	return 0;
}
