/* upstream.c: AJP13 connections to backends: non-blocking connect with a
 * timeout, CPing/CPong per ping_mode, and a per-thread pool per backend. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

static void pool_link_busy(struct xjk_pool *pool, struct xjk_upstream *up)
{
	up->busy_prev = NULL;
	up->busy_next = pool->busy;
	if (pool->busy)
		pool->busy->busy_prev = up;
	pool->busy = up;
	up->busy = true;
}

static void pool_unlink_busy(struct xjk_pool *pool, struct xjk_upstream *up)
{
	if (!up->busy)
		return;
	if (up->busy_prev)
		up->busy_prev->busy_next = up->busy_next;
	else
		pool->busy = up->busy_next;
	if (up->busy_next)
		up->busy_next->busy_prev = up->busy_prev;
	up->busy_prev = up->busy_next = NULL;
	up->busy = false;
}

void xjk_upstream_close(struct xjk_upstream *up)
{
	struct xjk_pool *pool = &up->px->pools[up->backend];
	if (up->idle)
		pool_unlink_idle(pool, up);
	pool_unlink_busy(pool, up);
	pool->n_open--;
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
	px->pools[backend].n_open++;

	int rc = connect(fd, (const struct sockaddr *)&be->addr, be->addrlen);
	if (rc < 0 && errno != EINPROGRESS) {
		/* Report asynchronously through the same path as a failed connect. */
		int err = errno;
		px->pools[backend].n_open--;
		close(fd);
		free(up);
		errno = err;
		return NULL;
	}
	if (xjk_loop_watch(px->loop, &up->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
		px->pools[backend].n_open--;
		close(fd);
		free(up);
		return NULL;
	}
	xjk_timer_arm(px->loop, &up->timer, (uint64_t)connect_timeout_ms(be));
	xjk_heaptrim_open();
	return up;
}

struct xjk_upstream *xjk_upstream_get(struct xjk_proxy *px, int backend)
{
	struct xjk_pool *pool = &px->pools[backend];
	struct xjk_upstream *up = pool->idle;
	if (up) {
		pool->idle = up->next_idle;
		up->next_idle = NULL;
		up->idle = false;
		pool->n_idle--;
		xjk_timer_cancel(px->loop, &up->timer);
		pool_link_busy(pool, up);
		return up;
	}
	if (pool->n_open >= pool->limit) {
		errno = EBUSY;
		return NULL;
	}
	up = upstream_open(px, backend);
	if (up)
		pool_link_busy(pool, up);
	return up;
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
	pool_unlink_busy(pool, up);
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
}

void xjk_proxy_backend_down(struct xjk_proxy *px, int backend)
{
	struct xjk_upstream *up = px->pools[backend].busy, *next;
	for (; up; up = next) {
		/* Failing an exchange closes only its own upstream, and a retry's
		 * new one is linked at the head: the saved next stays valid. */
		next = up->busy_next;
		if (up->owner)
			xjk_client_upstream_failed(up->owner, XJK_CAUSE_HEALTH,
						   "backend declared down");
	}
}
