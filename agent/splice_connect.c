/* splice_connect.c: the member a handed-over request goes to, the connection
 * to it, and failing over: to another lb member when the connect fails or
 * the member hangs up without answering an idempotent request, otherwise an
 * answer of xjkd's own (502, 503, 504). */
#include "splice_conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "routes.h"
#include "session.h"
#include "splice_bpf.h"
#include "workers.h"
#include "wstate.h"

/* Parses the request head at BUF and, for a sticky lb, its session routes
 * (slices into BUF). Returns xjk_http_parse_request's result. */
int xjk_splice_parse(struct xjk_splice_conn *conn, const char *buf, size_t len,
		     struct xjk_str *routes, int *n_routes, bool *has_session)
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
		const struct xjk_lb *lb = conn->t.lb >= 0 ? &cfg->workers.lbs[conn->t.lb] : NULL;
		if (lb && lb->sticky_session && conn->t.sticky)
			*n_routes = xjk_session_routes(&req, lb->session_path, lb->session_cookie,
						       routes, XJK_ROUTES_PER_REQUEST, has_session);
	}
	free(hdrs);
	return rc;
}

/* Picks the lb member for the request whose head starts b.out. 0 or -1. */
int xjk_splice_choose(struct xjk_splice_conn *conn)
{
	const struct xjk_lb *lb = &conn->px->cfg->workers.lbs[conn->t.lb];
	struct xjk_str routes[XJK_ROUTES_PER_REQUEST];
	int n;
	bool has_session;
	struct xjk_choice choice;

	if (conn->attempts >= lb->n_members * (lb->retries > 0 ? lb->retries : 1) + 1)
		return -1;
	if (xjk_splice_parse(conn, xjk_buf_head(&conn->b.out), xjk_buf_len(&conn->b.out), routes,
			     &n, &has_session) <= 0 ||
	    xjk_wstate_choose(conn->t.lb, routes, n, has_session, conn->t.failed, &choice) < 0)
		return -1;
	conn->t.member = choice.member;
	conn->t.backend = choice.backend;
	return 0;
}

/* xjkd answers STATUS itself and closes. */
void xjk_splice_answer(struct xjk_splice_conn *conn, int status)
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

void xjk_splice_connect_failed(struct xjk_splice_conn *conn, enum xjk_cause cause,
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

void xjk_splice_connect(struct xjk_splice_conn *conn)
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

/* The member hung up (or reset) without a byte of answer to the request it
 * was given: a lying or dying backend. It is reported like a refused
 * connection. The client has seen nothing: an idempotent request whose bytes
 * all went through xjkd (none through the kernel) goes to another member, as
 * on the AJP path; otherwise the client gets a 502 rather than an empty
 * reply. Returns true when that was the case. */
bool xjk_splice_unanswered(struct xjk_splice_conn *conn, bool reset)
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
