/* splice_close.c: the end of a handed-over connection: the FIN passed on
 * once the kernel's queue towards that side is out (the kernel does not pass
 * hang-ups on), the teardown with its access log line, and, when xjkd stops
 * or a held client stays with a member that stopped accepting, the close of
 * connections that look answered and idle. */
#include "splice_conn.h"

#include <linux/tcp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "splice_bpf.h"
#include "splice_log.h"

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
void xjk_splice_backend_close(struct xjk_splice_conn *conn)
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
void xjk_splice_close(struct xjk_splice_conn *conn)
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

void xjk_splice_abort(struct xjk_splice_conn *conn, const char *why)
{
	atomic_fetch_add(&xjk_sp_aborts, 1);
	xjk_warn("worker %s: spliced connection closed: %s", xjk_splice_backend(conn)->name, why);
	xjk_splice_close(conn);
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

/* Both directions finished: true when the connection was closed. */
bool xjk_splice_finish(struct xjk_splice_conn *conn)
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

/* xjkd stops, or the client is held (its member stopped accepting). A
 * spliced connection has no request boundaries xjkd could close at, so it
 * closes once it looks answered and idle: nothing sent to
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

void xjk_splice_drain_poll(struct xjk_splice_conn *conn)
{
	if (conn->mode != XJK_SPLICE_KERNEL && conn->mode != XJK_SPLICE_COPY)
		return;
	if (xjk_splice_idle(conn))
		xjk_splice_close(conn);
	else if (!xjk_timer_armed(&conn->timer))
		xjk_timer_arm(conn->px->loop, &conn->timer, XJK_SPLICE_QUIET_POLL_MS);
}
