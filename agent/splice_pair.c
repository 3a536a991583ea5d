/* splice_pair.c: FORWARDING and KERNEL: xjkd writes what it holds, pairs
 * the two sockets in the sockhash and steps aside. An answer that arrives
 * between the backend's insertion and the client's is handed up by the
 * verdict program, which then holds the rest of the backend's bytes: xjkd
 * copies that direction itself for the rest of the connection. */
#include "splice_conn.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "routes.h"
#include "splice_bpf.h"
#include "wstate.h"

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

/* The client's events while the kernel moves bytes: hang-ups; its bytes
 * once they may be handed back (or are held); everything while xjkd writes
 * it the backend's. */
uint32_t xjk_splice_client_events(const struct xjk_splice_conn *conn)
{
	if (conn->b.held)
		return XJK_SPLICE_EV_ALL;
	return conn->watch_bytes ? XJK_SPLICE_EV_BYTES : XJK_SPLICE_EV_HANGUP;
}

/* The backend's events while the kernel moves bytes: hang-ups; its bytes
 * once they are held; room to write while xjkd writes it the client's. */
static uint32_t xjk_splice_backend_events(const struct xjk_splice_conn *conn)
{
	return (conn->b.held ? XJK_SPLICE_EV_BYTES : XJK_SPLICE_EV_HANGUP) |
	       (conn->c.held ? EPOLLOUT : 0);
}

/* The kernel hands the backend's bytes to xjkd for the rest of the
 * connection (held): its first ones found no client in the sockhash, as
 * they came between the two insertions, or the client is gone. */
static void xjk_splice_hold_backend(struct xjk_splice_conn *conn)
{
	conn->b.held = conn->b.readable = true;
	xjk_splice_watch(conn, &conn->b, xjk_splice_backend_events(conn));
	xjk_splice_watch(conn, &conn->c, xjk_splice_client_events(conn));
}

/* The client held: what it was sent when xjkd read its latest bytes. */
static void xjk_splice_held_mark(struct xjk_splice_conn *conn)
{
	xjk_splice_written(conn->c.io.fd, &conn->held_mark);
}

/* The client held: whether the member began answering (the client was sent
 * bytes) since xjkd read the client's latest ones and passed them all on.
 * A member answers a request once it has it whole, so bytes the client
 * sends now start its next request; the exceptions (100 Continue, an early
 * answer) do not parse as a request head, and REROUTE holds them again. */
static bool xjk_splice_held_answered(struct xjk_splice_conn *conn)
{
	uint64_t sent;

	return !xjk_buf_len(&conn->b.out) && xjk_splice_written(conn->c.io.fd, &sent) == 0 &&
	       sent > conn->held_mark;
}

void xjk_splice_hold_client(struct xjk_splice_conn *conn)
{
	xjk_splice_held_mark(conn);
	conn->c.held = conn->watch_bytes = conn->b.writable = true;
	conn->mode = XJK_SPLICE_KERNEL;
	xjk_timer_cancel(conn->px->loop, &conn->timer);
	xjk_splice_watch(conn, &conn->b, xjk_splice_backend_events(conn));
	xjk_splice_watch(conn, &conn->c, xjk_splice_client_events(conn));
	xjk_splice_pump(conn);
}

/* KERNEL, the client held: its bytes go to the same member, after those the
 * kernel gave it. False when the connection was closed. */
static bool xjk_splice_pass_down(struct xjk_splice_conn *conn)
{
	if (!xjk_buf_len(&conn->b.out))
		return true;
	if (!xjk_splice_given_in_queue(conn))
		return xjk_splice_wait_drain(conn);
	if (xjk_splice_flush_backend(conn) < 0) {
		xjk_splice_close(conn);
		return false;
	}
	return true;
}

/* KERNEL, REROUTE: the backend's bytes that came up go to the client, after
 * those the kernel redirected before them. -1 when reading the backend
 * failed; otherwise 0, and conn->closed tells whether writing the client did. */
int xjk_splice_pass_up(struct xjk_splice_conn *conn)
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

/* CONNECTING, FORWARDING: the verdict program is handed whole skbs, also the
 * one that a read consumed only in part (client.c's last read may have),
 * whose head would then go out twice: the client's queue must be read empty
 * (EAGAIN) before the pairing, and not read after. */
void xjk_splice_forward(struct xjk_splice_conn *conn)
{
	uint64_t before;

	/* Until a pass moves nothing: a read that stopped at the high-water
	 * mark and a write that took it all leave no edge to wait for. */
	do {
		before = xjk_splice_moved(conn);
		if (xjk_splice_read(&conn->c, &conn->b.out, XJK_SPLICE_HIGH_WATER) < 0 ||
		    xjk_splice_flush(&conn->c) < 0 ||
		    (conn->mode == XJK_SPLICE_FORWARDING && xjk_splice_flush_backend(conn) < 0)) {
			xjk_splice_close(conn);
			return;
		}
	} while (xjk_splice_moved(conn) != before);
	if (conn->mode == XJK_SPLICE_FORWARDING && !xjk_buf_len(&conn->c.out) &&
	    !xjk_buf_len(&conn->b.out) && (!conn->c.readable || conn->c.eof))
		xjk_splice_to_kernel(conn);
}

/* KERNEL: xjkd only sees hang-ups, and bytes the kernel did not redirect. */
void xjk_splice_kernel(struct xjk_splice_conn *conn)
{
	struct xjk_splice_side *c = &conn->c, *b = &conn->b;
	uint64_t before, received;
	bool next_request;

	do {
		before = xjk_splice_moved(conn);
		received = c->received;
		next_request = c->held && xjk_splice_held_answered(conn);
		if (xjk_splice_read(c, &b->out, c->held ? XJK_SPLICE_HIGH_WATER : 1) < 0) {
			xjk_splice_close(conn);
			return;
		}
		if (c->held && !next_request && c->received != received)
			xjk_splice_held_mark(conn);
		if (xjk_splice_pass_up(conn) < 0) {
			if (!xjk_splice_unanswered(conn, true))
				xjk_splice_close(conn);
			return;
		}
		if (conn->closed || xjk_splice_unanswered(conn, false))
			return;
		if (xjk_buf_len(&b->out) && (!c->held || next_request)) {
			xjk_splice_reroute_start(conn);
			xjk_splice_reroute(conn);
			return;
		}
		if (!xjk_splice_pass_down(conn))
			return;
	} while (xjk_splice_moved(conn) != before);
	xjk_splice_finish(conn);
}
