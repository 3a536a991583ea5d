/* splice_io.c: the bytes xjkd moves itself on a handed-over connection
 * (FORWARDING, COPY, and what the kernel hands up), and how far the kernel's
 * queues are: what a socket was sent, and whether every byte the verdict
 * program redirected to it is in its send queue. */
#include "splice_conn.h"

#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "log.h"
#include "splice_bpf.h"

int xjk_splice_tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len);
}

/* Bytes ever put in FD's send queue: acknowledged plus still queued. */
int xjk_splice_written(int fd, uint64_t *out)
{
	struct tcp_info ti;
	int queued = 0;

	if (xjk_splice_tcp_info(fd, &ti) != 0 || ioctl(fd, SIOCOUTQ, &queued) != 0)
		return -1;
	*out = ti.tcpi_bytes_acked + (uint64_t)queued;
	return 0;
}

/* Bytes sent to FD so far, 0 when it cannot tell. */
uint64_t xjk_splice_sent(int fd)
{
	uint64_t n = 0;

	return fd >= 0 && xjk_splice_written(fd, &n) == 0 ? n : 0;
}

void xjk_splice_watch(struct xjk_splice_conn *conn, struct xjk_splice_side *s, uint32_t events)
{
	if (xjk_loop_watch(conn->px->loop, &s->io, events) < 0)
		xjk_warn("worker %s: cannot watch a spliced socket: %s",
			 xjk_splice_backend(conn)->name, strerror(errno));
}

/* Writes S->out. -1 when the socket failed. */
int xjk_splice_flush(struct xjk_splice_side *s)
{
	ssize_t sent = xjk_buf_send(s->io.fd, &s->out, &s->writable);
	if (sent < 0)
		return -1;
	s->moved += (uint64_t)sent;
	return 0;
}

/* Writes b.out to the backend, keeping a copy of what went while the
 * request may still be replayed on another member. -1 when the socket failed. */
int xjk_splice_flush_backend(struct xjk_splice_conn *conn)
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
int xjk_splice_read(struct xjk_splice_side *s, struct xjk_buf *buf, size_t limit)
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
void xjk_splice_progress(struct xjk_splice_conn *conn, uint64_t mark)
{
	if (mark != conn->drain_mark) {
		conn->drain_mark = mark;
		conn->drain_since = xjk_loop_now(conn->px->loop);
	}
}

/* Whether every byte the kernel redirected from FROM is in TO's send queue. */
bool xjk_splice_in_queue(struct xjk_splice_conn *conn, struct xjk_splice_side *from,
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

/* After a hand-back: whether the client bytes the kernel gave the backend
 * before it (c_redirected, final once the client's bytes are held) are in
 * the backend's send queue. */
bool xjk_splice_given_in_queue(struct xjk_splice_conn *conn)
{
	uint64_t written;

	if (xjk_splice_written(conn->b.io.fd, &written) < 0)
		return true; /* the backend is broken: there is nothing left to wait for */
	xjk_splice_progress(conn, written);
	return written - conn->b.tx_base >= conn->c_redirected;
}

/* Whether every byte FROM received has reached TO's send queue. */
bool xjk_splice_drained(struct xjk_splice_conn *conn, struct xjk_splice_side *from,
			struct xjk_splice_side *to)
{
	return !xjk_buf_len(&to->out) && xjk_splice_in_queue(conn, from, to);
}

/* Polls until the kernel's queued bytes are out; false when it gave up. */
bool xjk_splice_wait_drain(struct xjk_splice_conn *conn)
{
	if (xjk_loop_now(conn->px->loop) - conn->drain_since > XJK_SPLICE_DRAIN_IDLE_MS) {
		xjk_splice_abort(conn, "the kernel queue did not drain");
		return false;
	}
	/* The timer may be armed for a later deadline or poll. */
	if (!xjk_timer_armed(&conn->timer) ||
	    conn->timer.when > xjk_loop_now(conn->px->loop) + XJK_SPLICE_DRAIN_POLL_MS)
		xjk_timer_arm(conn->px->loop, &conn->timer, XJK_SPLICE_DRAIN_POLL_MS);
	return true;
}

/* Bytes xjkd moved on the connection so far. A pass that moved nothing has
 * met EAGAIN or a full buffer everywhere, so an event will come; comparing
 * buffered bytes instead misses a pass that read as much as it wrote, and
 * then bytes already queued on a socket would wait for an edge that never
 * comes. */
uint64_t xjk_splice_moved(const struct xjk_splice_conn *conn)
{
	return conn->c.moved + conn->b.moved;
}

/* COPY: both directions through xjkd, reading a side only while the other
 * side's queue is below the high-water mark. */
void xjk_splice_copy_pump(struct xjk_splice_conn *conn)
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
