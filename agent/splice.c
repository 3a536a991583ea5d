/* splice.c: one handed-over connection and its backend connection.
 *
 *   CONNECTING  non-blocking connect, failover to another member on failure
 *   FORWARDING  xjkd writes what it holds: earlier responses to the client,
 *               the request bytes it read to the backend, after reading the
 *               client's queue empty; bytes that come later wait there
 *   KERNEL      the pair is in the sockhash; the queued bytes are pushed
 *               through the verdict program (SO_RCVLOWAT kick), in order;
 *               an answer that came between the backend's insertion and
 *               the client's, and the rest of the backend's bytes after
 *               it, go through xjkd
 *   REROUTE     the kernel handed a request back (its member stopped
 *               accepting): xjkd reads the head, lets the old member finish
 *               (FIN both ways) and routes the request again
 *   COPY        xjkd copies both ways (the kernel refused the pair, or after
 *               a reroute or a retry on another member, where splicing again
 *               could reorder bytes)
 *   CLOSING     an answer of xjkd's own goes out, then the connection closes
 *
 * While the kernel moves the bytes, xjkd watches the sockets for hang-ups
 * only: every redirected skb would otherwise wake it (the psock signals data
 * to the socket's readers, and each acknowledgement its writers). The client
 * socket's bytes are watched again once a member stops taking spliced bytes
 * (a wstate subscriber tells every data thread), as the verdict program then
 * hands them to xjkd.
 *
 * When xjkd stops, each connection closes once it looks answered and idle
 * (xjk_splice_drain). Each one gets an access log line when it is torn down.
 *
 * Hang-ups are not passed on by the kernel: when a side's peer finishes, the
 * other side gets a FIN once every byte the kernel redirected to it is in its
 * send queue (bytes counted by the verdict program against tcpi_bytes_acked
 * plus the unacknowledged queue). */
#include "splice.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bpffs.h"
#include "evloop.h"
#include "http.h"
#include "log.h"
#include "proxy.h"
#include "routes.h"
#include "session.h"
#include "splice_bpf.h"
#include "splice_log.h"
#include "workers.h"
#include "wstate.h"

#define XJK_SPLICE_READ		 65536
#define XJK_SPLICE_HIGH_WATER	 (256 * 1024) /* copy: stop reading a side above this */
#define XJK_SPLICE_DRAIN_POLL_MS 5
#define XJK_SPLICE_DRAIN_IDLE_MS 30000 /* nothing moved for this long: give up */
#define XJK_SPLICE_REPLAY_MAX	 65536 /* a request sent with more is not replayed */
#define XJK_SPLICE_QUIET_POLL_MS 100
#define XJK_SPLICE_QUIET_MS	 1000 /* xjkd stops: an answered connection this quiet closes */

/* Events watched: everything while xjkd moves bytes, hang-ups while the
 * kernel does (and the client's bytes once they may be handed back). */
#define XJK_SPLICE_EV_ALL    (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)
#define XJK_SPLICE_EV_HANGUP (EPOLLRDHUP | EPOLLET)
#define XJK_SPLICE_EV_BYTES  (EPOLLIN | EPOLLRDHUP | EPOLLET)

enum xjk_splice_mode {
	XJK_SPLICE_CONNECTING,
	XJK_SPLICE_FORWARDING,
	XJK_SPLICE_KERNEL,
	XJK_SPLICE_REROUTE,
	XJK_SPLICE_COPY,
	XJK_SPLICE_CLOSING,
};

struct xjk_splice_side {
	struct xjk_io io;
	struct xjk_buf out; /* bytes xjkd still has to write to this socket */
	uint64_t cookie;    /* set once paired */
	uint64_t tx_base;   /* bytes written to it when the kernel took over */
	uint64_t moved;	    /* bytes xjkd read from it or wrote to it */
	uint64_t received;  /* bytes xjkd read from it */
	bool readable, writable;
	bool eof;    /* its peer finished sending */
	bool shut;   /* xjkd sent its FIN */
	bool paired; /* its peer entry exists: the kernel moves what it receives */
	bool held;   /* the kernel hands its bytes to xjkd (xjk_splice_peer.held) */
};

struct xjk_splice_conn {
	struct xjk_proxy *px;
	struct xjk_splice_target t;
	enum xjk_splice_mode mode;
	struct xjk_splice_side c, b; /* client, backend */
	size_t head_len;	     /* b.out starts with the request head until sent */
	int attempts;
	bool copy_only; /* rerouted: the client socket cannot be paired again */
	bool closed;
	bool watch_bytes;	/* KERNEL: the client's bytes are watched too */
	bool replayable;	/* idempotent, and all xjkd sent the backend is in replay */
	struct xjk_buf replay;	/* what xjkd sent the backend: a retry sends it again */
	struct xjk_timer timer; /* connect timeout, drain and reroute polls */
	uint64_t deadline;	/* REROUTE: the head must be in by then */
	uint64_t drain_mark, drain_since;
	uint64_t c_redirected; /* REROUTE: client bytes the kernel gave the old member */
	/* xjkd stops: the bytes sent each way when last looked at, and when
	 * each last grew (an answer is awaited while the request grew last) */
	uint64_t quiet_req, quiet_resp, req_at, resp_at;
	/* for the access log */
	struct xjk_splice_conn *prev, *next; /* the thread's connections */
	struct xjk_splice_thread *thread;
	char *request; /* the first request line */
	size_t request_len;
	char peer_ip[INET6_ADDRSTRLEN];
	uint64_t started;	/* ms */
	uint64_t backend_bytes; /* sent to backend sockets already closed */
};

/* One data thread's spliced connections. Registered at its first hand-off
 * and kept for the process's life: a wstate post may reach it at any time. */
struct xjk_splice_thread {
	struct xjk_proxy *px;
	struct xjk_splice_conn *conns;
	struct xjk_splice_thread *next; /* xjk_sp_threads */
	bool draining;
};

static pthread_mutex_t xjk_sp_threads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xjk_splice_thread *xjk_sp_threads;
static __thread struct xjk_splice_thread *xjk_sp_self;

static _Atomic uint64_t xjk_sp_spliced, xjk_sp_copied, xjk_sp_fallbacks, xjk_sp_takebacks,
	xjk_sp_aborts, xjk_sp_open;

static void xjk_splice_pump(struct xjk_splice_conn *conn);

static const struct xjk_backend *xjk_splice_backend(const struct xjk_splice_conn *conn)
{
	return &conn->px->cfg->workers.backends[conn->t.backend];
}

/* ---- sockets ---- */

static int xjk_splice_tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len);
}

/* Bytes ever put in FD's send queue: acknowledged plus still queued. */
static int xjk_splice_written(int fd, uint64_t *out)
{
	struct tcp_info ti;
	int queued = 0;

	if (xjk_splice_tcp_info(fd, &ti) != 0 || ioctl(fd, SIOCOUTQ, &queued) != 0)
		return -1;
	*out = ti.tcpi_bytes_acked + (uint64_t)queued;
	return 0;
}

/* Bytes sent to FD so far, 0 when it cannot tell. */
static uint64_t xjk_splice_sent(int fd)
{
	uint64_t n = 0;

	return fd >= 0 && xjk_splice_written(fd, &n) == 0 ? n : 0;
}

static void xjk_splice_watch(struct xjk_splice_conn *conn, struct xjk_splice_side *s,
			     uint32_t events)
{
	if (xjk_loop_watch(conn->px->loop, &s->io, events) < 0)
		xjk_warn("worker %s: cannot watch a spliced socket: %s",
			 xjk_splice_backend(conn)->name, strerror(errno));
}

static void xjk_splice_side_close(struct xjk_splice_side *s)
{
	if (s->io.fd < 0)
		return;
	xjk_loop_unwatch(&s->io);
	close(s->io.fd);
	s->io.fd = -1;
}

/* Backend sockets come and go (failover, reroute): what each was sent is
 * kept for the access log before it closes. */
static void xjk_splice_backend_close(struct xjk_splice_conn *conn)
{
	conn->backend_bytes += xjk_splice_sent(conn->b.io.fd);
	xjk_splice_side_close(&conn->b);
}

static void xjk_splice_conn_free(void *arg)
{
	struct xjk_splice_conn *conn = arg;

	xjk_buf_free(&conn->c.out);
	xjk_buf_free(&conn->b.out);
	xjk_buf_free(&conn->replay);
	free(conn->request);
	free(conn);
}

static void xjk_splice_log(struct xjk_splice_conn *conn)
{
	struct xjk_splice_log_entry e = {
		.peer_ip = conn->peer_ip,
		.request = conn->request,
		.request_len = conn->request_len,
		.worker = xjk_splice_backend(conn)->name,
		.to_backend = conn->backend_bytes + xjk_splice_sent(conn->b.io.fd),
		.to_client = xjk_splice_sent(conn->c.io.fd),
		.ms = xjk_loop_now(conn->px->loop) - conn->started,
	};

	xjk_splice_log_write(conn->px, &e);
}

/* Peer entries go before the sockets, so no redirect targets a closed one. */
static void xjk_splice_close(struct xjk_splice_conn *conn)
{
	struct xjk_splice_thread *t = conn->thread;

	if (conn->closed)
		return;
	conn->closed = true;
	if (conn->c.cookie)
		xjk_splice_bpf_unpair(conn->c.cookie);
	if (conn->b.cookie)
		xjk_splice_bpf_unpair(conn->b.cookie);
	xjk_timer_cancel(conn->px->loop, &conn->timer);
	xjk_splice_log(conn);
	xjk_splice_side_close(&conn->c);
	xjk_splice_side_close(&conn->b);
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		t->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	conn->px->n_clients--;
	atomic_fetch_sub(&xjk_sp_open, 1);
	xjk_loop_defer(conn->px->loop, xjk_splice_conn_free, conn);
}

static void xjk_splice_abort(struct xjk_splice_conn *conn, const char *why)
{
	atomic_fetch_add(&xjk_sp_aborts, 1);
	xjk_warn("worker %s: spliced connection closed: %s", xjk_splice_backend(conn)->name, why);
	xjk_splice_close(conn);
}

/* Writes S->out. -1 when the socket failed. */
static int xjk_splice_flush(struct xjk_splice_side *s)
{
	ssize_t sent = xjk_buf_send(s->io.fd, &s->out, &s->writable);
	if (sent < 0)
		return -1;
	s->moved += (uint64_t)sent;
	return 0;
}

/* Writes b.out to the backend, keeping a copy of what went while the
 * request may still be replayed on another member. -1 when the socket failed. */
static int xjk_splice_flush_backend(struct xjk_splice_conn *conn)
{
	const char *head = xjk_buf_head(&conn->b.out); /* sending moves no bytes */
	ssize_t sent = xjk_buf_send(conn->b.io.fd, &conn->b.out, &conn->b.writable);

	if (sent < 0)
		return -1;
	conn->b.moved += (uint64_t)sent;
	if (conn->replayable &&
	    (xjk_buf_len(&conn->replay) + (size_t)sent > XJK_SPLICE_REPLAY_MAX ||
	     xjk_buf_append(&conn->replay, head, (size_t)sent) < 0)) {
		conn->replayable = false;
		xjk_buf_free(&conn->replay);
	}
	return 0;
}

/* Reads from S into BUF up to LIMIT buffered bytes. -1 when the socket failed. */
static int xjk_splice_read(struct xjk_splice_side *s, struct xjk_buf *buf, size_t limit)
{
	while (s->readable && !s->eof && xjk_buf_len(buf) < limit) {
		char *w = xjk_buf_reserve(buf, XJK_SPLICE_READ);
		if (!w)
			return -1;
		ssize_t n = recv(s->io.fd, w, buf->cap - buf->end, 0);
		if (n > 0) {
			xjk_buf_commit(buf, (size_t)n);
			s->moved += (uint64_t)n;
			s->received += (uint64_t)n;
		} else if (n == 0)
			s->eof = true;
		else if (errno == EAGAIN)
			s->readable = false;
		else if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* A wait for the kernel's queues: MARK changes while bytes move. */
static void xjk_splice_progress(struct xjk_splice_conn *conn, uint64_t mark)
{
	if (mark != conn->drain_mark) {
		conn->drain_mark = mark;
		conn->drain_since = xjk_loop_now(conn->px->loop);
	}
}

/* Whether every byte the kernel redirected from FROM is in TO's send queue. */
static bool xjk_splice_in_queue(struct xjk_splice_conn *conn, struct xjk_splice_side *from,
				struct xjk_splice_side *to)
{
	uint64_t written;

	if (!from->paired)
		return true;
	if (xjk_splice_written(to->io.fd, &written) < 0)
		return true; /* TO is broken: there is nothing left to wait for */
	uint64_t moved = xjk_splice_bpf_redirected(from->cookie);
	xjk_splice_progress(conn, moved + written);
	return written - to->tx_base >= moved;
}

/* Whether every byte FROM received has reached TO's send queue. */
static bool xjk_splice_drained(struct xjk_splice_conn *conn, struct xjk_splice_side *from,
			       struct xjk_splice_side *to)
{
	return !xjk_buf_len(&to->out) && xjk_splice_in_queue(conn, from, to);
}

/* Polls until the kernel's queued bytes are out; false when it gave up. */
static bool xjk_splice_wait_drain(struct xjk_splice_conn *conn)
{
	if (xjk_loop_now(conn->px->loop) - conn->drain_since > XJK_SPLICE_DRAIN_IDLE_MS) {
		xjk_splice_abort(conn, "the kernel queue did not drain");
		return false;
	}
	if (!xjk_timer_armed(&conn->timer))
		xjk_timer_arm(conn->px->loop, &conn->timer, XJK_SPLICE_DRAIN_POLL_MS);
	return true;
}

/* Half-closes: TO gets a FIN once FROM finished and everything it sent is on
 * its way. Returns false when the connection was closed. */
static bool xjk_splice_pass_fin(struct xjk_splice_conn *conn, struct xjk_splice_side *from,
				struct xjk_splice_side *to)
{
	if (!from->eof || to->shut)
		return true;
	if (!xjk_splice_drained(conn, from, to))
		return xjk_splice_wait_drain(conn);
	shutdown(to->io.fd, SHUT_WR);
	to->shut = true;
	return true;
}

/* Bytes xjkd moved on the connection so far. A pass that moved nothing has
 * met EAGAIN or a full buffer everywhere, so an event will come; comparing
 * buffered bytes instead misses a pass that read as much as it wrote, and
 * then bytes already queued on a socket would wait for an edge that never
 * comes. */
static uint64_t xjk_splice_moved(const struct xjk_splice_conn *conn)
{
	return conn->c.moved + conn->b.moved;
}

/* The client's events while the kernel moves bytes: hang-ups; its bytes
 * once they may be handed back; everything while xjkd writes it the
 * backend's. */
static uint32_t xjk_splice_client_events(const struct xjk_splice_conn *conn)
{
	if (conn->b.held)
		return XJK_SPLICE_EV_ALL;
	return conn->watch_bytes ? XJK_SPLICE_EV_BYTES : XJK_SPLICE_EV_HANGUP;
}

/* The kernel hands the backend's bytes to xjkd for the rest of the
 * connection (held): its first ones found no client in the sockhash, as
 * they came between the two insertions, or the client is gone. */
static void xjk_splice_hold_backend(struct xjk_splice_conn *conn)
{
	conn->b.held = conn->b.readable = true;
	xjk_splice_watch(conn, &conn->b, XJK_SPLICE_EV_BYTES);
	xjk_splice_watch(conn, &conn->c, xjk_splice_client_events(conn));
}

/* KERNEL, REROUTE: the backend's bytes that came up go to the client, after
 * those the kernel redirected before them. -1 when reading the backend
 * failed; otherwise 0, and conn->closed tells whether writing the client did. */
static int xjk_splice_pass_up(struct xjk_splice_conn *conn)
{
	struct xjk_splice_side *c = &conn->c, *b = &conn->b;
	uint64_t before;

	do {
		before = xjk_splice_moved(conn);
		if (xjk_splice_read(b, &c->out, XJK_SPLICE_HIGH_WATER) < 0)
			return -1;
		if (!xjk_buf_len(&c->out))
			return 0;
		if (!b->held)
			xjk_splice_hold_backend(conn);
		if (!xjk_splice_in_queue(conn, b, c)) {
			xjk_splice_wait_drain(conn);
			return 0;
		}
		if (xjk_splice_flush(c) < 0) {
			xjk_splice_close(conn);
			return 0;
		}
	} while (xjk_splice_moved(conn) != before);
	return 0;
}

/* Both directions finished: true when the connection was closed. */
static bool xjk_splice_finish(struct xjk_splice_conn *conn)
{
	if (!xjk_splice_pass_fin(conn, &conn->c, &conn->b) ||
	    !xjk_splice_pass_fin(conn, &conn->b, &conn->c))
		return true;
	if (conn->c.eof && conn->b.eof && conn->c.shut && conn->b.shut) {
		xjk_splice_close(conn);
		return true;
	}
	return false;
}

/* ---- backend choice ---- */

/* Parses the request head at BUF and, for a sticky lb, its session routes
 * (slices into BUF). Returns xjk_http_parse_request's result. */
static int xjk_splice_parse(struct xjk_splice_conn *conn, const char *buf, size_t len,
			    struct xjk_str *routes, int *n_routes, bool *has_session,
			    size_t *head_len)
{
	const struct xjk_config *cfg = conn->px->cfg;
	struct xjk_http_limits lim = {(uint32_t)cfg->max_header_size, (uint32_t)cfg->max_headers};
	struct xjk_http_header *hdrs = calloc((size_t)cfg->max_headers, sizeof(*hdrs));
	struct xjk_http_request req;
	int status = 0;

	*n_routes = 0;
	*has_session = false;
	if (!hdrs)
		return -1;
	int rc = xjk_http_parse_request(buf, len, &lim, hdrs, &req, &status);
	if (rc > 0) {
		*head_len = req.head_len;
		const struct xjk_lb *lb = conn->t.lb >= 0 ? &cfg->workers.lbs[conn->t.lb] : NULL;
		if (lb && lb->sticky_session && conn->t.sticky)
			*n_routes = xjk_session_routes(&req, lb->session_path, lb->session_cookie,
						       routes, XJK_ROUTES_PER_REQUEST, has_session);
	}
	free(hdrs);
	return rc;
}

/* Picks the lb member for the request whose head starts b.out. 0 or -1. */
static int xjk_splice_choose(struct xjk_splice_conn *conn)
{
	const struct xjk_lb *lb = &conn->px->cfg->workers.lbs[conn->t.lb];
	struct xjk_str routes[XJK_ROUTES_PER_REQUEST];
	int n;
	bool has_session;
	size_t head_len;
	struct xjk_choice choice;

	if (conn->attempts >= lb->n_members * (lb->retries > 0 ? lb->retries : 1) + 1)
		return -1;
	if (xjk_splice_parse(conn, xjk_buf_head(&conn->b.out), xjk_buf_len(&conn->b.out), routes,
			     &n, &has_session, &head_len) <= 0 ||
	    xjk_wstate_choose(conn->t.lb, routes, n, has_session, conn->t.failed, &choice) < 0)
		return -1;
	conn->head_len = head_len;
	conn->t.member = choice.member;
	conn->t.backend = choice.backend;
	return 0;
}

/* xjkd answers STATUS itself and closes. */
static void xjk_splice_answer(struct xjk_splice_conn *conn, int status)
{
	char *w = xjk_buf_reserve(&conn->c.out, 512);
	int n = w ? xjk_http_error_response(w, 512, status, true) : -1;

	if (n > 0)
		xjk_buf_commit(&conn->c.out, (size_t)n);
	xjk_timer_cancel(conn->px->loop, &conn->timer);
	xjk_splice_backend_close(conn);
	xjk_splice_watch(conn, &conn->c, XJK_SPLICE_EV_ALL);
	conn->mode = XJK_SPLICE_CLOSING;
	xjk_splice_pump(conn);
}

static void xjk_splice_connect(struct xjk_splice_conn *conn);

static void xjk_splice_connect_failed(struct xjk_splice_conn *conn, enum xjk_cause cause,
				      const char *detail)
{
	xjk_wstate_report(conn->t.backend, cause, detail);
	xjk_warn("worker %s: %s (%s)", xjk_splice_backend(conn)->name, detail,
		 xjk_cause_name(cause));
	xjk_timer_cancel(conn->px->loop, &conn->timer);
	xjk_splice_backend_close(conn);
	if (conn->t.lb >= 0) {
		conn->t.failed |= 1ull << conn->t.member;
		if (xjk_splice_choose(conn) == 0) {
			xjk_splice_connect(conn);
			return;
		}
		xjk_splice_answer(conn, 503);
		return;
	}
	xjk_splice_answer(conn, cause == XJK_CAUSE_TIMEOUT ? 504 : 502);
}

static void xjk_splice_on_backend(struct xjk_io *io, uint32_t events);

static void xjk_splice_connect(struct xjk_splice_conn *conn)
{
	const struct xjk_backend *be = xjk_splice_backend(conn);
	struct xjk_splice_side *b = &conn->b;
	int one = 1;

	conn->attempts++;
	conn->mode = XJK_SPLICE_CONNECTING;
	int fd = socket(be->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		xjk_splice_connect_failed(conn, XJK_CAUSE_CONNECT, strerror(errno));
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (be->socket_keepalive)
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	b->io.fd = fd;
	b->io.fn = xjk_splice_on_backend;
	b->readable = b->writable = b->eof = b->shut = b->held = false;
	if ((connect(fd, (const struct sockaddr *)&be->addr, be->addrlen) < 0 &&
	     errno != EINPROGRESS) ||
	    xjk_loop_watch(conn->px->loop, &b->io, XJK_SPLICE_EV_ALL) < 0) {
		int err = errno;
		close(fd);
		b->io.fd = -1;
		xjk_splice_connect_failed(conn, XJK_CAUSE_CONNECT, strerror(err));
		return;
	}
	int ms = be->socket_connect_timeout > 0 ? be->socket_connect_timeout
						: XJK_DEFAULT_CONNECT_TIMEOUT_MS;
	xjk_timer_arm(conn->px->loop, &conn->timer, (uint64_t)ms);
}

/* ---- modes ---- */

static void xjk_splice_copy(struct xjk_splice_conn *conn)
{
	conn->mode = XJK_SPLICE_COPY;
	atomic_fetch_add(&xjk_sp_copied, 1);
	xjk_splice_pump(conn);
}

/* Makes the kernel look at bytes that were queued before the pairing: a
 * new SO_RCVLOWAT runs the socket's data-ready callback, the verdict's. */
static void xjk_splice_kick(int fd)
{
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
}

/* Everything xjkd held is written: the kernel takes over, or xjkd copies. */
static void xjk_splice_to_kernel(struct xjk_splice_conn *conn)
{
	struct xjk_splice_side *c = &conn->c, *b = &conn->b;

	if (conn->copy_only || !xjk_splice_bpf_loaded()) {
		xjk_splice_copy(conn);
		return;
	}
	uint64_t cc = xjk_splice_bpf_cookie(c->io.fd), bc = xjk_splice_bpf_cookie(b->io.fd);
	int rc = xjk_splice_written(c->io.fd, &c->tx_base) < 0 ||
				 xjk_splice_written(b->io.fd, &b->tx_base) < 0
			 ? -errno
			 : xjk_splice_bpf_pair(c->io.fd, cc, b->io.fd, bc, conn->t.backend);
	if (rc < 0) {
		/* Typically a side that already hung up (not ESTABLISHED). */
		atomic_fetch_add(&xjk_sp_fallbacks, 1);
		xjk_info("worker %s: kernel splice refused (%s): xjkd copies the connection",
			 xjk_splice_backend(conn)->name, strerror(-rc));
		xjk_splice_copy(conn);
		return;
	}
	c->cookie = cc;
	b->cookie = bc;
	c->paired = b->paired = true;
	conn->mode = XJK_SPLICE_KERNEL;
	/* A member that stopped accepting before this point was announced to
	 * the thread already: its bytes are watched from the start. */
	conn->watch_bytes = !xjk_routes_accepts(xjk_wstate_state(conn->t.backend),
						xjk_wstate_activation(conn->t.backend));
	xjk_splice_watch(conn, b, XJK_SPLICE_EV_HANGUP);
	xjk_splice_watch(conn, c, xjk_splice_client_events(conn));
	atomic_fetch_add(&xjk_sp_spliced, 1);
	xjk_splice_kick(c->io.fd);
	/* The kick takes the backend socket's lock, which a verdict on it
	 * holds while it runs: after it, an answer that came before the
	 * client's insertion has been handed up (and the rest of them will
	 * be), and no later verdict can hand one up while the client is in
	 * the sockhash. */
	xjk_splice_kick(b->io.fd);
	if (xjk_splice_bpf_held(bc))
		xjk_splice_hold_backend(conn);
	xjk_splice_pump(conn);
}

/* The kernel handed client bytes up: its member stopped accepting. */
static void xjk_splice_reroute_start(struct xjk_splice_conn *conn)
{
	conn->c_redirected = xjk_splice_bpf_redirected(conn->c.cookie);
	xjk_splice_bpf_unpair(conn->c.cookie);
	conn->c.paired = false;
	conn->copy_only = true;
	/* the next request's method is not known: it is not replayed */
	conn->replayable = false;
	xjk_buf_free(&conn->replay);
	conn->mode = XJK_SPLICE_REROUTE;
	xjk_splice_watch(conn, &conn->c, XJK_SPLICE_EV_ALL);
	conn->deadline = xjk_loop_now(conn->px->loop) + (uint64_t)conn->px->cfg->request_timeout_ms;
	atomic_fetch_add(&xjk_sp_takebacks, 1);
	xjk_info("worker %s does not take spliced requests now: routing a connection again",
		 xjk_splice_backend(conn)->name);
}

/* REROUTE: whether the old member is done. A client may send its next
 * request before it has read the answers to the earlier ones, and a pause
 * between the member's segments looks like their end: a member that did not
 * fail is told that no request follows (FIN, once the client bytes the
 * kernel gave it are in its send queue), and its own FIN marks the end of
 * what it sends. Then, as for a failed member, its bytes must have reached
 * the client's send queue. False while waiting (or the connection closed). */
static bool xjk_splice_old_member_done(struct xjk_splice_conn *conn)
{
	struct xjk_splice_side *c = &conn->c, *b = &conn->b;
	uint64_t written;

	if (b->io.fd < 0)
		return true;
	if (xjk_wstate_state(conn->t.backend) != XJK_STATE_ERR) {
		if (!b->shut) {
			if (xjk_splice_written(b->io.fd, &written) == 0 &&
			    written - b->tx_base < conn->c_redirected) {
				xjk_splice_progress(conn, written);
				xjk_splice_wait_drain(conn);
				return false;
			}
			shutdown(b->io.fd, SHUT_WR);
			b->shut = b->readable = true;
		}
		if (xjk_splice_pass_up(conn) < 0) {
			xjk_splice_abort(conn, "its member failed while answering");
			return false;
		}
		if (conn->closed)
			return false;
		if (!b->eof) {
			uint64_t now = xjk_loop_now(conn->px->loop);
			if (now > conn->deadline)
				xjk_splice_abort(conn, "its member did not finish its answers");
			else if (!xjk_timer_armed(&conn->timer))
				xjk_timer_arm(conn->px->loop, &conn->timer,
					      conn->deadline - now + 1);
			return false;
		}
	}
	if (!xjk_splice_drained(conn, b, c)) {
		xjk_splice_wait_drain(conn);
		return false;
	}
	return true;
}

/* REROUTE: reads the handed-back request head, waits until the old member
 * is done, then connects to the new one. */
static void xjk_splice_reroute(struct xjk_splice_conn *conn)
{
	const struct xjk_config *cfg = conn->px->cfg;
	struct xjk_splice_side *c = &conn->c, *b = &conn->b;
	struct xjk_str routes[XJK_ROUTES_PER_REQUEST];
	int n;
	bool has_session;
	size_t head_len;

	if (xjk_splice_read(c, &b->out, (size_t)cfg->max_header_size + 1) < 0) {
		xjk_splice_close(conn);
		return;
	}
	int rc = xjk_splice_parse(conn, xjk_buf_head(&b->out), xjk_buf_len(&b->out), routes, &n,
				  &has_session, &head_len);
	if (rc < 0) {
		/* Not a request head: the member stopped accepting in the middle
		 * of a request, whose bytes cannot be split between two members. */
		xjk_splice_abort(conn, "its member stopped accepting in the middle of a request");
		return;
	}
	if (rc == 0) {
		if (c->eof || xjk_loop_now(conn->px->loop) > conn->deadline)
			xjk_splice_close(conn);
		else if (!xjk_timer_armed(&conn->timer))
			xjk_timer_arm(conn->px->loop, &conn->timer,
				      (uint64_t)cfg->request_timeout_ms);
		return;
	}
	if (!xjk_splice_old_member_done(conn))
		return;
	xjk_timer_cancel(conn->px->loop, &conn->timer);
	xjk_splice_bpf_unpair(b->cookie);
	b->cookie = 0;
	b->paired = false;
	xjk_splice_backend_close(conn);
	conn->t.failed = 0;
	conn->attempts = 0;
	if (conn->t.lb < 0 || xjk_splice_choose(conn) < 0) {
		xjk_splice_answer(conn, 503);
		return;
	}
	xjk_splice_connect(conn);
}

/* The member hung up (or reset) without a byte of answer to the request it
 * was given: a lying or dying backend. It is reported like a refused
 * connection. The client has seen nothing: an idempotent request whose bytes
 * all went through xjkd (none through the kernel) goes to another member, as
 * on the AJP path; otherwise the client gets a 502 rather than an empty
 * reply. Returns true when that was the case. */
static bool xjk_splice_unanswered(struct xjk_splice_conn *conn, bool reset)
{
	struct xjk_splice_side *c = &conn->c, *b = &conn->b;
	uint64_t answered = b->received + (b->paired ? xjk_splice_bpf_redirected(b->cookie) : 0);

	if ((!b->eof && !reset) || answered)
		return false;
	bool retry = conn->t.lb >= 0 && conn->replayable &&
		     !(c->paired && xjk_splice_bpf_redirected(c->cookie));
	xjk_wstate_report(conn->t.backend, XJK_CAUSE_RESET, "closed before answering");
	xjk_warn("worker %s: closed before answering (spliced request)%s",
		 xjk_splice_backend(conn)->name, retry ? ": sent to another member" : "");
	if (c->cookie)
		xjk_splice_bpf_unpair(c->cookie);
	if (b->cookie)
		xjk_splice_bpf_unpair(b->cookie);
	c->cookie = b->cookie = 0;
	c->paired = b->paired = false;
	if (retry) {
		/* The client socket stays in the sockhash: xjkd copies from now. */
		conn->copy_only = true;
		conn->t.failed |= 1ull << conn->t.member;
		xjk_timer_cancel(conn->px->loop, &conn->timer);
		xjk_splice_backend_close(conn);
		xjk_splice_watch(conn, c, XJK_SPLICE_EV_ALL);
		/* what was sent, then what still waits to be sent */
		if (xjk_buf_append(&conn->replay, xjk_buf_head(&b->out), xjk_buf_len(&b->out)) ==
		    0) {
			struct xjk_buf sent = conn->replay;
			conn->replay = b->out;
			b->out = sent;
			xjk_buf_reset(&conn->replay);
			if (xjk_splice_choose(conn) == 0) {
				xjk_splice_connect(conn);
				return true;
			}
		}
	}
	xjk_splice_answer(conn, 502);
	return true;
}

/* KERNEL: xjkd only sees hang-ups, and bytes the kernel did not redirect. */
static void xjk_splice_kernel(struct xjk_splice_conn *conn)
{
	struct xjk_splice_side *c = &conn->c, *b = &conn->b;

	if (xjk_splice_read(c, &b->out, 1) < 0) {
		xjk_splice_close(conn);
		return;
	}
	if (xjk_splice_pass_up(conn) < 0) {
		if (!xjk_splice_unanswered(conn, true))
			xjk_splice_close(conn);
		return;
	}
	if (conn->closed || xjk_splice_unanswered(conn, false))
		return;
	if (xjk_buf_len(&b->out)) {
		xjk_splice_reroute_start(conn);
		xjk_splice_reroute(conn);
		return;
	}
	xjk_splice_finish(conn);
}

/* COPY: both directions through xjkd, reading a side only while the other
 * side's queue is below the high-water mark. */
static void xjk_splice_copy_pump(struct xjk_splice_conn *conn)
{
	struct xjk_splice_side *c = &conn->c, *b = &conn->b;
	uint64_t before;

	do {
		before = xjk_splice_moved(conn);
		if (xjk_splice_read(c, &b->out, XJK_SPLICE_HIGH_WATER) < 0) {
			xjk_splice_close(conn);
			return;
		}
		if (xjk_splice_read(b, &c->out, XJK_SPLICE_HIGH_WATER) < 0) {
			if (!xjk_splice_unanswered(conn, true))
				xjk_splice_close(conn);
			return;
		}
		if (xjk_splice_unanswered(conn, false))
			return;
		if (xjk_splice_flush_backend(conn) < 0 || xjk_splice_flush(c) < 0) {
			xjk_splice_close(conn);
			return;
		}
		if (xjk_splice_finish(conn))
			return;
	} while (xjk_splice_moved(conn) != before);
}

/* CONNECTING, FORWARDING: the verdict program is handed whole skbs, also the
 * one that a read consumed only in part (client.c's last read may have),
 * whose head would then go out twice: the client's queue must be read empty
 * (EAGAIN) before the pairing, and not read after. */
static void xjk_splice_forward(struct xjk_splice_conn *conn)
{
	if (xjk_splice_read(&conn->c, &conn->b.out, XJK_SPLICE_HIGH_WATER) < 0 ||
	    xjk_splice_flush(&conn->c) < 0 ||
	    (conn->mode == XJK_SPLICE_FORWARDING && xjk_splice_flush_backend(conn) < 0)) {
		xjk_splice_close(conn);
		return;
	}
	if (conn->mode == XJK_SPLICE_FORWARDING && !xjk_buf_len(&conn->c.out) &&
	    !xjk_buf_len(&conn->b.out) && (!conn->c.readable || conn->c.eof))
		xjk_splice_to_kernel(conn);
}

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

/* xjkd stops. A spliced connection has no request boundaries xjkd could
 * close at, so it closes once it looks answered and idle: nothing sent to
 * the client for XJK_SPLICE_QUIET_MS, the client's last bytes came before
 * the last bytes it was sent (or in the same millisecond), and nothing is
 * left in xjkd's buffers or the kernel's queues. An answer that pauses for
 * longer mid-way is cut, and so is one to a request sent in the tick (4 ms
 * at HZ=250) the previous answer ended in that takes more than a second;
 * busy connections last until XjkDrainTimeout. */
static bool xjk_splice_idle(struct xjk_splice_conn *conn)
{
	struct tcp_info ti;
	uint64_t sent;

	if (xjk_buf_len(&conn->c.out) || xjk_buf_len(&conn->b.out))
		return false;
	if (conn->b.io.fd >= 0 && conn->b.paired && !xjk_splice_drained(conn, &conn->b, &conn->c))
		return false;
	if (xjk_splice_tcp_info(conn->c.io.fd, &ti) != 0 ||
	    xjk_splice_written(conn->c.io.fd, &sent) != 0)
		return true; /* the client is gone */
	/* The times are in jiffies: a request that came in the tick of the
	 * accept ties with it, so a client never sent a byte is still waiting. */
	return sent && ti.tcpi_last_data_sent >= XJK_SPLICE_QUIET_MS &&
	       ti.tcpi_last_data_recv >= ti.tcpi_last_data_sent;
}

static void xjk_splice_drain_poll(struct xjk_splice_conn *conn)
{
	if (conn->mode != XJK_SPLICE_KERNEL && conn->mode != XJK_SPLICE_COPY)
		return;
	if (xjk_splice_idle(conn))
		xjk_splice_close(conn);
	else if (!xjk_timer_armed(&conn->timer))
		xjk_timer_arm(conn->px->loop, &conn->timer, XJK_SPLICE_QUIET_POLL_MS);
}

static void xjk_splice_pump(struct xjk_splice_conn *conn)
{
	xjk_splice_pump_mode(conn);
	if (!conn->closed && conn->thread->draining)
		xjk_splice_drain_poll(conn);
}

/* ---- events ---- */

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

static void xjk_splice_on_backend(struct xjk_io *io, uint32_t events)
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

/* ---- data threads ---- */

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

/* ---- public ---- */

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
	conn->head_len = head_len;
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
