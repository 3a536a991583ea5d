/* proxy.h: the HTTP/1.1 → AJP13 data path of one event-loop thread.
 *
 * A client connection (client.c) reads requests, maps them to a worker and
 * runs one exchange at a time with an upstream connection (upstream.c) taken
 * from the thread's pool for the chosen backend. Nothing here is shared
 * between threads except the read-only configuration and worker state. */
#ifndef XJK_PROXY_H
#define XJK_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ajp.h"
#include "buf.h"
#include "config.h"
#include "evloop.h"
#include "http.h"
#include "poolq.h"

/* connection_pool_size when unset: mod_jk's default is httpd's thread count
 * per process. xjkd queues requests itself (connection_acquire_timeout), so a
 * pool larger than Tomcat's maxThreads (200 by default) only moves the queue
 * into Tomcat, where the health check's CPing then starves for a thread and
 * the member is declared down mid-burst (docs/reliability.md). */
#define XJK_POOL_SIZE_DEFAULT 128

/* connection_acquire_timeout when unset. mod_jk's default is retries *
 * retry_interval (200 ms): there the pool is as large as httpd's thread
 * count, and a burst waits in the listen queue before a thread takes it. In
 * xjkd the pool is the only limit, so its queue is where a burst waits. */
#define XJK_ACQUIRE_TIMEOUT_DEFAULT_MS 10000

/* New connections to one backend not yet answered on, over all event loops
 * (each gets its share): below Tomcat's default acceptCount of 100, so that
 * a burst does not overflow its accept queue (docs/reliability.md). */
#define XJK_UNPROVEN_MAX 64

struct xjk_client;
struct xjk_upstream;
struct xjk_proxy;

struct xjk_pool {
	struct xjk_upstream *idle; /* LIFO: the warmest connection first */
	struct xjk_poolq busy;	   /* handed out to a client (xjk_proxy_backend_down) */
	int n_idle;
	int n_open;
	int n_unproven; /* opened, no answer from the backend yet */
	int limit;	/* this thread's share of connection_pool_size */
	int open_cap;	/* this thread's share of XJK_UNPROVEN_MAX */
	struct xjk_poolq waiters;
	struct xjk_timer kick; /* hands freed slots to waiters after the event that freed them */
	struct xjk_proxy *px;
	int backend;
};

/* A request waiting for a connection from a full pool; embedded in its owner. */
struct xjk_pool_waiter {
	struct xjk_poolq_node node;
	struct xjk_timer timer; /* connection_acquire_timeout */
	struct xjk_pool *pool;
	/* Called once, on the loop: with the connection (maybe still
	 * connecting), or with NULL and errno ETIMEDOUT (no slot in time),
	 * EHOSTDOWN (the backend was declared down) or a socket error. */
	void (*fn)(struct xjk_pool_waiter *w, struct xjk_upstream *up);
};

struct xjk_listener {
	struct xjk_io io;
	struct xjk_proxy *px;
	const struct xjk_listen *conf;
};

struct xjk_proxy {
	int id;
	struct xjk_loop *loop;
	const struct xjk_config *cfg;
	struct xjk_listener *listeners;
	int n_listeners;
	struct xjk_pool *pools; /* one per backend */
	struct xjk_buf access;	/* access log lines not yet written */
	int access_fd;
	struct xjk_timer tick;	    /* once a second: access log flush */
	struct xjk_client *clients; /* every open client connection */
	_Atomic uint64_t n_clients;
	bool draining;	  /* no new connections; each one closes after its exchange */
	uint64_t started; /* wall clock, seconds: uptime on the jkstatus page */
};

/* One upstream (backend) connection speaking AJP13. */
struct xjk_upstream {
	struct xjk_io io;
	struct xjk_proxy *px;
	int backend;
	struct xjk_buf in, out;
	struct xjk_client *owner; /* the client whose exchange runs here, NULL when idle */
	struct xjk_upstream *next_idle;
	struct xjk_poolq_node busy; /* in pool->busy while handed out */
	struct xjk_timer timer;
	uint64_t idle_since;
	unsigned n_exchanges;
	bool connecting, cping, readable, writable;
	bool unproven; /* counted in pool->n_unproven until the backend answers */
	bool hup;      /* the peer hung up: read until EOF, no further edge comes */
	bool idle;     /* linked in the pool's idle list */
};

/* Opens a listening socket for L (SO_REUSEPORT, so each thread has its own). */
int xjk_listen_open(const struct xjk_listen *l);
/* Starts this thread's data path on LISTEN_FDS (one per cfg->listens entry,
 * owned from now on) with its own pools. */
int xjk_proxy_start(struct xjk_proxy *px, int id, struct xjk_loop *loop,
		    const struct xjk_config *cfg, const int *listen_fds);
/* On the proxy's own thread: stop accepting and let every connection close
 * after its current exchange; an idle keep-alive connection gets a short
 * grace in which a request already on the wire is still answered. */
void xjk_proxy_drain(struct xjk_proxy *px);
void xjk_proxy_stop(struct xjk_proxy *px);

/* upstream.c */
/* Sets up this thread's pool for BACKEND, its share of the limits being one
 * of THREADS event loops'. */
void xjk_upstream_pool_init(struct xjk_proxy *px, int backend, int threads);
/* Takes an idle connection to BACKEND or opens one. When the pool has none to
 * give, W (with W->fn set) queues behind earlier waiters for up to
 * connection_acquire_timeout and NULL comes back with errno EAGAIN; W->fn
 * follows. NULL with errno EBUSY when the timeout is 0, or the socket's errno. */
struct xjk_upstream *xjk_upstream_get(struct xjk_proxy *px, int backend, struct xjk_pool_waiter *w);
/* Takes W out of its queue (its client went away); no callback follows. */
void xjk_upstream_cancel_wait(struct xjk_pool_waiter *w);
static inline bool xjk_upstream_waiting(const struct xjk_pool_waiter *w)
{
	return w->node.queued;
}
/* Returns a connection whose exchange ended cleanly, or closes it. */
void xjk_upstream_release(struct xjk_upstream *up, bool reusable);
void xjk_upstream_close(struct xjk_upstream *up);
/* Reads at most one socket buffer's worth into up->in: 1 when bytes arrived,
 * 0 when none are waiting, -1 on EOF or error. */
int xjk_upstream_read(struct xjk_upstream *up);
/* Sends whatever is queued in up->out; 0, or -1 when the connection failed. */
int xjk_upstream_flush(struct xjk_upstream *up);
/* A pooled connection about to be reused needs a CPing first (ping_mode P). */
bool xjk_upstream_needs_cping(const struct xjk_upstream *up);
void xjk_upstream_start_cping(struct xjk_upstream *up);
/* BACKEND was declared down: every exchange this thread runs or queues on it
 * fails now (retried elsewhere when it can be, else 502/503) rather than at
 * its timeout. */
void xjk_proxy_backend_down(struct xjk_proxy *px, int backend);

/* client.c: the upstream side calls back into the client that owns it. */
void xjk_client_accept(struct xjk_listener *l);
void xjk_clients_drain(struct xjk_proxy *px);
/* The upstream is connected (and answered CPing when asked): send the request. */
void xjk_client_upstream_ready(struct xjk_client *c);
/* Bytes arrived on the upstream, or it can take more. */
void xjk_client_upstream_io(struct xjk_client *c);
/* The upstream failed: connect error, reset, timeout. */
void xjk_client_upstream_failed(struct xjk_client *c, int cause, const char *detail);

void xjk_access_flush(struct xjk_proxy *px);

#endif
