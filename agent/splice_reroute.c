/* splice_reroute.c: REROUTE: the kernel handed a request back, as its member
 * stopped accepting spliced bytes. xjkd reads the request head, lets the old
 * member finish what it was sent, then routes the request again. */
#include "splice_conn.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "log.h"
#include "routes.h"
#include "splice_bpf.h"
#include "wstate.h"

/* The kernel handed client bytes up, as its member stopped accepting, or a
 * held client sent its next request. */
void xjk_splice_reroute_start(struct xjk_splice_conn *conn)
{
	/* A held client (xjk_splice_hold_client) was unpaired at its first
	 * hand-back, and c_redirected counted then is final. */
	if (conn->c.paired) {
		conn->c_redirected = xjk_splice_bpf_redirected(conn->c.cookie);
		xjk_splice_bpf_unpair(conn->c.cookie);
		conn->c.paired = false;
	}
	conn->c.held = false;
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

	if (b->io.fd < 0)
		return true;
	if (xjk_wstate_state(conn->t.backend) != XJK_STATE_ERR) {
		if (!b->shut) {
			if (!xjk_splice_given_in_queue(conn)) {
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
void xjk_splice_reroute(struct xjk_splice_conn *conn)
{
	const struct xjk_config *cfg = conn->px->cfg;
	struct xjk_splice_side *c = &conn->c, *b = &conn->b;
	struct xjk_str routes[XJK_ROUTES_PER_REQUEST];
	int n;
	bool has_session;

	if (xjk_splice_read(c, &b->out, (size_t)cfg->max_header_size + 1) < 0) {
		xjk_splice_close(conn);
		return;
	}
	int rc = xjk_splice_parse(conn, xjk_buf_head(&b->out), xjk_buf_len(&b->out), routes, &n,
				  &has_session);
	if (rc < 0) {
		/* Not a request head: the member stopped accepting in the middle
		 * of a request, whose bytes cannot be split between two members. */
		xjk_splice_hold_client(conn);
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
