/* evloop.h: one epoll event loop per thread, with a timer heap and a
 * cross-thread post queue. Every module that owns file descriptors embeds an
 * xjk_io and recovers its own struct with container_of in the callback. */
#ifndef XJK_EVLOOP_H
#define XJK_EVLOOP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct xjk_loop;
struct xjk_io;
struct xjk_timer;

typedef void (*xjk_io_fn)(struct xjk_io *io, uint32_t events);
typedef void (*xjk_timer_fn)(struct xjk_timer *timer);

struct xjk_io {
	int fd;
	xjk_io_fn fn;
	struct xjk_loop *loop; /* set while watched */
};

struct xjk_timer {
	uint64_t when; /* ms on the loop clock */
	xjk_timer_fn fn;
	uint32_t slot; /* 1-based heap position; 0 when not armed */
};

struct xjk_loop *xjk_loop_new(void);
void xjk_loop_free(struct xjk_loop *loop);

/* Adds io->fd with EVENTS (EPOLLIN, EPOLLOUT, EPOLLET, ...) or changes its events. */
int xjk_loop_watch(struct xjk_loop *loop, struct xjk_io *io, uint32_t events);
void xjk_loop_unwatch(struct xjk_io *io);

/* Arms (or re-arms) TIMER to fire DELAY_MS from the loop's current time. */
void xjk_timer_arm(struct xjk_loop *loop, struct xjk_timer *timer, uint64_t delay_ms);
void xjk_timer_cancel(struct xjk_loop *loop, struct xjk_timer *timer);
static inline int xjk_timer_armed(const struct xjk_timer *timer)
{
	return timer->slot != 0;
}

/* Monotonic milliseconds, refreshed once per loop turn. */
uint64_t xjk_loop_now(const struct xjk_loop *loop);
/* Monotonic milliseconds read from the clock now. */
uint64_t xjk_clock_ms(void);

/* Runs until xjk_loop_stop; returns 0, or -errno when epoll fails. */
int xjk_loop_run(struct xjk_loop *loop);
/* Thread-safe: makes xjk_loop_run return after the current turn. */
void xjk_loop_stop(struct xjk_loop *loop);
/* Runs FN(ARG) at the end of the current turn, after every event of the turn
 * was dispatched: the place to free objects whose io may still have an event
 * pending in this turn (an unwatched io gets no further callbacks). */
void xjk_loop_defer(struct xjk_loop *loop, void (*fn)(void *arg), void *arg);
/* Thread-safe: runs FN(ARG) on the loop's thread at its next turn. 0 or -errno. */
int xjk_loop_post(struct xjk_loop *loop, void (*fn)(void *arg), void *arg);

#endif
