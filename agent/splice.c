/* splice.c: the API of the kernel splice (splice.h): the hand-over of a
 * client connection, each data thread's spliced connections, and the events
 * that drive a connection through its modes (splice_conn.h). */
#include "splice_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bpffs.h"
#include "log.h"
#include "routes.h"
#include "splice_bpf.h"

static pthread_mutex_t xjk_sp_threads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xjk_splice_thread *xjk_sp_threads;
static __thread struct xjk_splice_thread *xjk_sp_self;

_Atomic uint64_t xjk_sp_spliced, xjk_sp_copied, xjk_sp_fallbacks, xjk_sp_takebacks, xjk_sp_aborts,
	xjk_sp_open;

static void xjk_splice_pump_mode(struct xjk_splice_conn *conn)
{
	if (conn->closed)
		return;
	switch (conn->mode) {
	case XJK_SPLICE_CONNECTING:
	case XJK_SPLICE_FORWARDING:
		xjk_splice_forward(conn);
		return;
	case XJK_SPLICE_KERNEL:
		xjk_splice_kernel(conn);
		return;
	case XJK_SPLICE_REROUTE:
		xjk_splice_reroute(conn);
		return;
	case XJK_SPLICE_COPY:
		xjk_splice_copy_pump(conn);
		return;
	case XJK_SPLICE_CLOSING:
		if (xjk_splice_flush(&conn->c) < 0 || !xjk_buf_len(&conn->c.out))
			xjk_splice_close(conn);
		return;
	}
}

void xjk_splice_pump(struct xjk_splice_conn *conn)
{
	xjk_splice_pump_mode(conn);
	/* A held client's member stopped accepting: the client's next
	 * connection is routed afresh. */
	if (!conn->closed && (conn->thread->draining || conn->c.held))
		xjk_splice_drain_poll(conn);
}

static void xjk_splice_events(struct xjk_splice_conn *conn, struct xjk_splice_side *s,
			      uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->readable = true;
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		s->writable = true;
	if (events & EPOLLERR) {
		if (s != &conn->b ||
		    (conn->mode != XJK_SPLICE_KERNEL && conn->mode != XJK_SPLICE_COPY) ||
		    !xjk_splice_unanswered(conn, true))
			xjk_splice_close(conn);
		return;
	}
	xjk_splice_pump(conn);
}

static void xjk_splice_on_client(struct xjk_io *io, uint32_t events)
{
	struct xjk_splice_conn *conn = container_of(io, struct xjk_splice_conn, c.io);

	xjk_splice_events(conn, &conn->c, events);
}

void xjk_splice_on_backend(struct xjk_io *io, uint32_t events)
{
	struct xjk_splice_conn *conn = container_of(io, struct xjk_splice_conn, b.io);

	if (conn->mode == XJK_SPLICE_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			xjk_splice_connect_failed(conn, XJK_CAUSE_CONNECT,
						  strerror(err ? err : ECONNRESET));
			return;
		}
		xjk_timer_cancel(conn->px->loop, &conn->timer);
		xjk_wstate_report(conn->t.backend, XJK_CAUSE_SUCCESS, NULL);
		conn->mode = XJK_SPLICE_FORWARDING;
	}
	xjk_splice_events(conn, &conn->b, events);
}

static void xjk_splice_on_timer(struct xjk_timer *t)
{
	struct xjk_splice_conn *conn = container_of(t, struct xjk_splice_conn, timer);

	if (conn->mode == XJK_SPLICE_CONNECTING) {
		xjk_splice_connect_failed(conn, XJK_CAUSE_TIMEOUT, "connect timeout");
		return;
	}
	xjk_splice_pump(conn);
}

/* The client's address as text, "-" when it cannot be read. */
static void xjk_splice_peer_ip(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const void *addr = NULL;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		addr = ss.ss_family == AF_INET6
			       ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
			       : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
	if (!addr || !inet_ntop(ss.ss_family, addr, out, (socklen_t)len))
		snprintf(out, len, "-");
}

/* The calling data thread's record, registered on first use; NULL when out
 * of memory. */
static struct xjk_splice_thread *xjk_splice_thread(struct xjk_proxy *px)
{
	if (xjk_sp_self)
		return xjk_sp_self;
	struct xjk_splice_thread *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->px = px;
	t->draining = px->draining;
	pthread_mutex_lock(&xjk_sp_threads_lock);
	t->next = xjk_sp_threads;
	xjk_sp_threads = t;
	pthread_mutex_unlock(&xjk_sp_threads_lock);
	xjk_sp_self = t;
	return t;
}

/* On a data thread, after some member stopped taking spliced bytes: the
 * thread's spliced clients are watched for bytes again. Not only those of
 * that member: it may be back by now, after the kernel handed bytes up. */
static void xjk_splice_watch_bytes(void *arg)
{
	struct xjk_splice_thread *t = arg;

	for (struct xjk_splice_conn *conn = t->conns, *next; conn; conn = next) {
		next = conn->next;
		if (conn->mode != XJK_SPLICE_KERNEL || conn->watch_bytes)
			continue;
		conn->watch_bytes = true;
		conn->c.readable = true;
		xjk_splice_watch(conn, &conn->c, xjk_splice_client_events(conn));
		xjk_splice_pump(conn);
	}
}

/* wstate subscriber (under its lock, on any thread). */
static void xjk_splice_on_wstate(void *ctx, int backend, enum xjk_worker_state state,
				 enum xjk_activation activation)
{
	(void)ctx;
	(void)backend;
	if (xjk_routes_accepts(state, activation))
		return;
	pthread_mutex_lock(&xjk_sp_threads_lock);
	for (struct xjk_splice_thread *t = xjk_sp_threads; t; t = t->next)
		if (xjk_loop_post(t->px->loop, xjk_splice_watch_bytes, t) < 0)
			xjk_error("spliced connections of a thread not told that a member "
				  "stopped accepting: out of memory");
	pthread_mutex_unlock(&xjk_sp_threads_lock);
}

void xjk_splice_drain(struct xjk_proxy *px)
{
	struct xjk_splice_thread *t = xjk_sp_self;

	if (!t || t->px != px)
		return;
	t->draining = true;
	for (struct xjk_splice_conn *conn = t->conns, *next; conn; conn = next) {
		next = conn->next;
		xjk_splice_pump(conn);
	}
}

void xjk_splice_handoff(struct xjk_proxy *px, int fd, const struct xjk_splice_target *target,
			const char *head, size_t head_len, struct xjk_buf *in, struct xjk_buf *out)
{
	struct xjk_splice_thread *t = xjk_splice_thread(px);
	struct xjk_splice_conn *conn = t ? calloc(1, sizeof(*conn)) : NULL;
	const char *eol = memchr(head, '\r', head_len);
	size_t line = eol ? (size_t)(eol - head) : head_len;

	if (!conn || !(conn->request = strndup(head, line)) ||
	    xjk_buf_append(&conn->b.out, head, head_len) < 0 ||
	    xjk_buf_append(&conn->b.out, xjk_buf_head(in), xjk_buf_len(in)) < 0) {
		if (conn) {
			xjk_buf_free(&conn->b.out);
			free(conn->request);
		}
		free(conn);
		close(fd);
		return;
	}
	conn->request_len = line;
	xjk_buf_reset(in);
	conn->c.out = *out;
	memset(out, 0, sizeof(*out));
	conn->px = px;
	conn->t = *target;
	conn->timer.fn = xjk_splice_on_timer;
	conn->c.io.fd = fd;
	conn->c.io.fn = xjk_splice_on_client;
	conn->c.writable = conn->c.readable = true;
	conn->b.io.fd = -1;
	conn->replayable = target->replayable;
	conn->started = xjk_loop_now(px->loop);
	xjk_splice_peer_ip(fd, conn->peer_ip, sizeof(conn->peer_ip));
	conn->thread = t;
	conn->next = t->conns;
	if (t->conns)
		t->conns->prev = conn;
	t->conns = conn;
	px->n_clients++; /* a drain waits for it (xjk_splice_drain) */
	atomic_fetch_add(&xjk_sp_open, 1);
	if (xjk_loop_watch(px->loop, &conn->c.io, XJK_SPLICE_EV_ALL) < 0) {
		close(fd);
		conn->c.io.fd = -1;
		xjk_splice_close(conn);
		return;
	}
	xjk_splice_connect(conn);
}

void xjk_splice_init(const struct xjk_config *cfg)
{
	const char *mode = getenv("XJK_SPLICE");
	bool any = false;
	char err[256];

	/* The object also holds the route and worker-state maps, the one source
	 * of sticky routing for AJP and spliced flows alike: it is loaded for
	 * any lb worker, and for http workers. */
	for (int i = 0; i < cfg->workers.n_backends; i++)
		any |= cfg->workers.backends[i].type == XJK_WORKER_HTTP;
	any |= cfg->workers.n_lbs > 0;
	if (!any)
		return;
	if (mode && strcmp(mode, "copy") == 0) {
		xjk_warn("XJK_SPLICE=copy: xjkd copies the bytes of http workers itself");
		return;
	}
	if (xjk_splice_bpf_load(err, sizeof(err)) < 0) {
		xjk_warn("kernel splice and route map unavailable (%s): xjkd routes and copies "
			 "by itself",
			 err);
		return;
	}
	xjk_wstate_subscribe(xjk_splice_on_wstate, NULL);
	xjk_info("kernel splice ready; route map pinned as %s/routes", xjk_bpffs_dir());
}

void xjk_splice_stop(void)
{
	xjk_splice_bpf_unload();
}

void xjk_splice_counters(struct xjk_splice_counters *out)
{
	out->spliced = atomic_load(&xjk_sp_spliced);
	out->copied = atomic_load(&xjk_sp_copied);
	out->fallbacks = atomic_load(&xjk_sp_fallbacks);
	out->takebacks = atomic_load(&xjk_sp_takebacks);
	out->aborts = atomic_load(&xjk_sp_aborts);
	out->open = atomic_load(&xjk_sp_open);
}

int xjk_splice_worker_stats(int backend, struct xjk_splice_stats *out)
{
	return xjk_splice_bpf_stats(backend, out);
}
