/* upstream.c: AJP13 connections to backends: non-blocking connect with a
 * timeout, CPing/CPong per ping_mode, and a per-thread pool per backend whose
 * requests wait in a FIFO queue (poolq.h) when every connection is in use. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "heaptrim.h"
#include "log.h"
#include "proxy.h"
#include "wstate.h"

static const char cping_packet[] = {0x12, 0x34, 0x00, 0x01, 0x0a};

static void upstream_free(void *arg)
{
	struct xjk_upstream *up = arg;
	xjk_buf_free(&up->in);
	xjk_buf_free(&up->out);
	free(up);
	xjk_heaptrim_close();
}

static void pool_unlink_idle(struct xjk_pool *pool, struct xjk_upstream *up)
{
	for (struct xjk_upstream **p = &pool->idle; *p; p = &(*p)->next_idle) {
		if (*p == up) {
			*p = up->next_idle;
			up->next_idle = NULL;
			up->idle = false;
			pool->n_idle--;
			return;
		}
	}
}

static void pool_kick(struct xjk_pool *pool);

/* The backend answered on UP: its connection was accepted. */
static void upstream_proven(struct xjk_upstream *up)
{
	if (!up->unproven)
		return;
	up->unproven = false;
	struct xjk_pool *pool = &up->px->pools[up->backend];
	pool->n_unproven--;
	pool_kick(pool);
}

void xjk_upstream_close(struct xjk_upstream *up)
{
	struct xjk_pool *pool = &up->px->pools[up->backend];
	if (up->idle)
		pool_unlink_idle(pool, up);
	xjk_poolq_remove(&pool->busy, &up->busy);
	if (up->unproven)
		pool->n_unproven--;
	up->unproven = false;
	pool->n_open--;
	pool_kick(pool);
	xjk_timer_cancel(up->px->loop, &up->timer);
	xjk_loop_unwatch(&up->io);
	close(up->io.fd);
	up->io.fd = -1;
	up->owner = NULL;
	xjk_loop_defer(up->px->loop, upstream_free, up);
}

int xjk_upstream_flush(struct xjk_upstream *up)
{
	return xjk_buf_send(up->io.fd, &up->out, &up->writable) < 0 ? -1 : 0;
}

static const struct xjk_backend *backend_of(const struct xjk_upstream *up)
{
	return &up->px->cfg->workers.backends[up->backend];
}

static int connect_timeout_ms(const struct xjk_backend *be)
{
	return be->socket_connect_timeout > 0 ? be->socket_connect_timeout : 1000;
}

static int cping_timeout_ms(const struct xjk_backend *be, bool fresh)
{
	int t = fresh ? be->connect_timeout : be->prepost_timeout;
	if (t <= 0)
		t = be->ping_timeout > 0 ? be->ping_timeout : 1000;
	return t;
}

static void start_cping(struct xjk_upstream *up, bool fresh)
{
	up->cping = true;
	xjk_buf_append(&up->out, cping_packet, sizeof(cping_packet));
	xjk_timer_arm(up->px->loop, &up->timer, (uint64_t)cping_timeout_ms(backend_of(up), fresh));
	if (xjk_upstream_flush(up) < 0 && up->owner)
		xjk_client_upstream_failed(up->owner, XJK_CAUSE_RESET, "CPing send failed");
}

/* A CPong arrived or is awaited; returns true when the connection is ready. */
static bool finish_cping(struct xjk_upstream *up)
{
	struct xjk_ajp_msg msg;
	int n = xjk_ajp_parse((const uint8_t *)xjk_buf_head(&up->in), xjk_buf_len(&up->in),
			      backend_of(up)->max_packet_size, &msg, NULL, 0);
	if (n == 0)
		return false;
	if (n < 0 || msg.type != XJK_AJP_CPONG) {
		xjk_client_upstream_failed(up->owner, XJK_CAUSE_PROTOCOL, "expected CPong");
		return false;
	}
	xjk_buf_consume(&up->in, (size_t)n);
	up->cping = false;
	xjk_timer_cancel(up->px->loop, &up->timer);
	return true;
}

int xjk_upstream_read(struct xjk_upstream *up)
{
	size_t before = xjk_buf_len(&up->in);
	while (up->readable) {
		char *w = xjk_buf_reserve(&up->in, 16384);
		if (!w)
			return -1;
		size_t room = up->in.cap - up->in.end;
		ssize_t n = recv(up->io.fd, w, room, 0);
		if (n > 0) {
			xjk_buf_commit(&up->in, (size_t)n);
			upstream_proven(up);
			/* A short read drained the socket: the next bytes bring a new
			 * edge, so no EAGAIN round trip is needed to learn it. After a
			 * hang-up no edge follows, so keep reading until EOF. */
			if ((size_t)n < room && !up->hup)
				up->readable = false;
			break; /* one read per call keeps the buffer bounded */
		} else if (n < 0 && errno == EAGAIN) {
			up->readable = false;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			return -1;
		}
	}
	return xjk_buf_len(&up->in) > before;
}

static void on_upstream_io(struct xjk_io *io, uint32_t events)
{
	struct xjk_upstream *up = container_of(io, struct xjk_upstream, io);

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		up->readable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		up->hup = true;
	if (events & EPOLLOUT)
		up->writable = true;

	if (!up->owner) {
		/* Idle in the pool: input or a hang-up means the backend went away
		 * (Tomcat closing an idle connection) or broke the protocol. A late
		 * edge for bytes already consumed finds nothing to read, and the
		 * connection stays. */
		char byte;
		ssize_t n = recv(up->io.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n >= 0 || errno != EAGAIN || (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			xjk_upstream_close(up);
		return;
	}
	struct xjk_client *c = up->owner;

	if (up->connecting) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(up->io.fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			xjk_client_upstream_failed(c, XJK_CAUSE_CONNECT,
						   strerror(err ? err : ECONNRESET));
			return;
		}
		up->connecting = false;
		xjk_timer_cancel(up->px->loop, &up->timer);
		if (backend_of(up)->ping_mode & XJK_PING_CONNECT) {
			start_cping(up, true);
			return;
		}
		xjk_client_upstream_ready(c);
		return;
	}
	if (up->cping) {
		if (xjk_upstream_read(up) < 0) {
			xjk_client_upstream_failed(c, XJK_CAUSE_RESET, "closed before CPong");
			return;
		}
		if (xjk_upstream_flush(up) < 0) {
			xjk_client_upstream_failed(c, XJK_CAUSE_RESET, "CPing send failed");
			return;
		}
		if (finish_cping(up))
			xjk_client_upstream_ready(c);
		return;
	}
	xjk_client_upstream_io(c);
}

static void on_upstream_timer(struct xjk_timer *t)
{
	struct xjk_upstream *up = container_of(t, struct xjk_upstream, timer);
	if (!up->owner) {
		xjk_upstream_close(up);
		return;
	}
	/* Timers run after each batch of events, and a loop swamped by a burst
	 * of clients may not have fetched a connect's completion yet: ask the
	 * socket before calling the node down (poll's bits are epoll's). */
	struct pollfd pending = {.fd = up->io.fd, .events = POLLOUT};
	if (up->connecting && poll(&pending, 1, 0) == 1) {
		on_upstream_io(&up->io, (uint32_t)pending.revents);
		return;
	}
	/* A node that does not even accept a connection is down; a slow reply
	 * is one request's trouble (reported as a timeout: 504, no fail-fast). */
	if (up->connecting)
		xjk_client_upstream_failed(up->owner, XJK_CAUSE_CONNECT, "connect timeout");
	else
		xjk_client_upstream_failed(up->owner, XJK_CAUSE_TIMEOUT,
					   up->cping ? "CPong timeout" : "reply timeout");
}

static struct xjk_upstream *upstream_open(struct xjk_proxy *px, int backend)
{
	const struct xjk_backend *be = &px->cfg->workers.backends[backend];
	int fd = socket(be->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (be->socket_keepalive)
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));

	struct xjk_upstream *up = calloc(1, sizeof(*up));
	if (!up) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	up->io.fd = fd;
	up->io.fn = on_upstream_io;
	up->px = px;
	up->backend = backend;
	up->timer.fn = on_upstream_timer;
	up->connecting = true;
	up->unproven = true;
	px->pools[backend].n_open++;
	px->pools[backend].n_unproven++;

	int rc = connect(fd, (const struct sockaddr *)&be->addr, be->addrlen);
	if ((rc < 0 && errno != EINPROGRESS) ||
	    xjk_loop_watch(px->loop, &up->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
		int err = errno;
		px->pools[backend].n_open--;
		px->pools[backend].n_unproven--;
		close(fd);
		free(up);
		errno = err;
		return NULL;
	}
	xjk_timer_arm(px->loop, &up->timer, (uint64_t)connect_timeout_ms(be));
	xjk_heaptrim_open();
	return up;
}

static struct xjk_poolq_slots pool_slots(const struct xjk_pool *pool)
{
	return (struct xjk_poolq_slots){
		.idle = pool->n_idle,
		.open = pool->n_open,
		.unproven = pool->n_unproven,
		.limit = pool->limit,
		.open_cap = pool->open_cap,
	};
}

/* Hands out a connection as GRANT says: the warmest idle one or a new one. */
static struct xjk_upstream *pool_take(struct xjk_pool *pool, enum xjk_poolq_grant grant)
{
	struct xjk_upstream *up = pool->idle;
	if (grant == XJK_POOLQ_REUSE) {
		pool->idle = up->next_idle;
		up->next_idle = NULL;
		up->idle = false;
		pool->n_idle--;
		xjk_timer_cancel(pool->px->loop, &up->timer);
	} else {
		up = upstream_open(pool->px, pool->backend);
	}
	if (up)
		xjk_poolq_push(&pool->busy, &up->busy);
	return up;
}

static int acquire_timeout_ms(const struct xjk_backend *be)
{
	return be->acquire_timeout >= 0 ? be->acquire_timeout : XJK_ACQUIRE_TIMEOUT_DEFAULT_MS;
}

static struct xjk_pool_waiter *waiter_of(struct xjk_poolq_node *node)
{
	return container_of(node, struct xjk_pool_waiter, node);
}

/* Every way into and out of a pool's queue also moves the backend's waiting
 * gauge (status, metrics), which sums the queues of all event loops. */
static void waiter_enqueue(struct xjk_pool *pool, struct xjk_pool_waiter *w)
{
	xjk_poolq_push(&pool->waiters, &w->node);
	xjk_wstate_waiting(pool->backend, 1);
}

/* W leaves its pool's queue (if still in it) and stops its timer. */
static void waiter_leave(struct xjk_pool_waiter *w)
{
	if (w->node.queued) {
		xjk_poolq_remove(&w->pool->waiters, &w->node);
		xjk_wstate_waiting(w->pool->backend, -1);
	}
	xjk_timer_cancel(w->pool->px->loop, &w->timer);
}

/* Ends W's wait with UP, or with NULL and ERR. */
static void waiter_done(struct xjk_pool_waiter *w, struct xjk_upstream *up, int err)
{
	waiter_leave(w);
	errno = err;
	w->fn(w, up);
}

static void on_waiter_timer(struct xjk_timer *t)
{
	struct xjk_pool_waiter *w = container_of(t, struct xjk_pool_waiter, timer);
	waiter_done(w, NULL, ETIMEDOUT);
}

/* Gives waiters, oldest first, what the pool can give now. Runs from the
 * kick timer, never inside the release or close that freed the slot: a
 * waiter's exchange may fail at once and free a slot again, and that must
 * not recurse through the whole queue. */
static void on_pool_kick(struct xjk_timer *t)
{
	struct xjk_pool *pool = container_of(t, struct xjk_pool, kick);
	while (pool->waiters.head) {
		struct xjk_poolq_slots slots = pool_slots(pool);
		enum xjk_poolq_grant grant = xjk_poolq_decide(&slots, false);
		if (grant == XJK_POOLQ_WAIT)
			return;
		struct xjk_pool_waiter *w = waiter_of(xjk_poolq_pop(&pool->waiters));
		xjk_wstate_waiting(pool->backend, -1);
		struct xjk_upstream *up = pool_take(pool, grant);
		waiter_done(w, up, up ? 0 : errno);
	}
}

/* A slot may have become free: the waiters get it at the end of this turn. */
static void pool_kick(struct xjk_pool *pool)
{
	if (pool->waiters.head && !xjk_timer_armed(&pool->kick))
		xjk_timer_arm(pool->px->loop, &pool->kick, 0);
}

void xjk_upstream_pool_init(struct xjk_proxy *px, int backend, int threads)
{
	struct xjk_pool *pool = &px->pools[backend];
	int size = px->cfg->workers.backends[backend].pool_size;
	if (size <= 0)
		size = XJK_POOL_SIZE_DEFAULT;
	pool->limit = (size + threads - 1) / threads;
	pool->open_cap = XJK_UNPROVEN_MAX / threads > 0 ? XJK_UNPROVEN_MAX / threads : 1;
	pool->px = px;
	pool->backend = backend;
	pool->kick.fn = on_pool_kick;
}

struct xjk_upstream *xjk_upstream_get(struct xjk_proxy *px, int backend, struct xjk_pool_waiter *w)
{
	struct xjk_pool *pool = &px->pools[backend];
	struct xjk_poolq_slots slots = pool_slots(pool);
	enum xjk_poolq_grant grant = xjk_poolq_decide(&slots, pool->waiters.head != NULL);
	if (grant != XJK_POOLQ_WAIT)
		return pool_take(pool, grant);
	int timeout = acquire_timeout_ms(&px->cfg->workers.backends[backend]);
	if (!timeout) {
		errno = EBUSY;
		return NULL;
	}
	w->pool = pool;
	w->timer.fn = on_waiter_timer;
	waiter_enqueue(pool, w);
	xjk_timer_arm(px->loop, &w->timer, (uint64_t)timeout);
	errno = EAGAIN;
	return NULL;
}

void xjk_upstream_cancel_wait(struct xjk_pool_waiter *w)
{
	if (w->node.queued)
		waiter_leave(w);
}

bool xjk_upstream_needs_cping(const struct xjk_upstream *up)
{
	return !up->connecting && up->n_exchanges > 0 &&
	       (backend_of(up)->ping_mode & XJK_PING_PREPOST);
}

void xjk_upstream_start_cping(struct xjk_upstream *up)
{
	start_cping(up, false);
}

void xjk_upstream_release(struct xjk_upstream *up, bool reusable)
{
	struct xjk_pool *pool = &up->px->pools[up->backend];
	up->owner = NULL;
	xjk_poolq_remove(&pool->busy, &up->busy);
	xjk_timer_cancel(up->px->loop, &up->timer);
	if (!reusable || xjk_buf_len(&up->in) || xjk_buf_len(&up->out)) {
		/* Leftover bytes mean the stream state is unknown: never reuse. */
		xjk_upstream_close(up);
		return;
	}
	up->n_exchanges++;
	up->idle_since = xjk_loop_now(up->px->loop);
	up->next_idle = pool->idle;
	up->idle = true;
	pool->idle = up;
	pool->n_idle++;
	const struct xjk_backend *be = backend_of(up);
	if (be->pool_timeout_s > 0)
		xjk_timer_arm(up->px->loop, &up->timer, (uint64_t)be->pool_timeout_s * 1000);
	pool_kick(pool);
}

void xjk_proxy_backend_down(struct xjk_proxy *px, int backend)
{
	struct xjk_pool *pool = &px->pools[backend];
	/* Only those queued now: a plain worker's retry may queue again. */
	for (int n = pool->waiters.n; n > 0 && pool->waiters.head; n--)
		waiter_done(waiter_of(pool->waiters.head), NULL, EHOSTDOWN);
	/* Failing an exchange closes only its own upstream, so the saved next
	 * stays valid; a retry's new one goes behind the last, and is left alone. */
	struct xjk_poolq_node *node = pool->busy.head, *last = pool->busy.tail, *next;
	for (bool more = node != NULL; more; node = next) {
		next = node->next;
		more = node != last;
		struct xjk_upstream *up = container_of(node, struct xjk_upstream, busy);
		if (up->owner)
			xjk_client_upstream_failed(up->owner, XJK_CAUSE_HEALTH,
						   "backend declared down");
	}
}
