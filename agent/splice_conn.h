/* splice_conn.h: one handed-over connection and its backend connection, as
 * the splice_*.c files share it (internal to them; splice.h is the API).
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
 * (xjk_splice_drain), and so does one whose client is held: it stays with a
 * member that stopped accepting, which must not get its later requests.
 * Each one gets an access log line when it is torn down.
 *
 * Hang-ups are not passed on by the kernel: when a side's peer finishes, the
 * other side gets a FIN once every byte the kernel redirected to it is in its
 * send queue (bytes counted by the verdict program against tcpi_bytes_acked
 * plus the unacknowledged queue). */
#ifndef XJK_SPLICE_CONN_H
#define XJK_SPLICE_CONN_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "buf.h"
#include "evloop.h"
#include "proxy.h"
#include "splice.h"
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
	bool held;   /* the kernel hands its bytes to xjkd (xjk_splice_peer.held),
		      * which passes them on to the peer itself */
};

struct xjk_splice_conn {
	struct xjk_proxy *px;
	struct xjk_splice_target t;
	enum xjk_splice_mode mode;
	struct xjk_splice_side c, b; /* client, backend */
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
	uint64_t held_mark;    /* the client held: its bytes sent when xjkd last read it */
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

/* How connections went (xjk_splice_counters). */
extern _Atomic uint64_t xjk_sp_spliced, xjk_sp_copied, xjk_sp_fallbacks, xjk_sp_takebacks,
	xjk_sp_aborts, xjk_sp_open;

static inline const struct xjk_backend *xjk_splice_backend(const struct xjk_splice_conn *conn)
{
	return &conn->px->cfg->workers.backends[conn->t.backend];
}

struct tcp_info;
struct xjk_str;

/* splice_io.c */
int xjk_splice_tcp_info(int fd, struct tcp_info *ti);
int xjk_splice_written(int fd, uint64_t *out);
uint64_t xjk_splice_sent(int fd);
void xjk_splice_watch(struct xjk_splice_conn *conn, struct xjk_splice_side *s, uint32_t events);
int xjk_splice_flush(struct xjk_splice_side *s);
int xjk_splice_flush_backend(struct xjk_splice_conn *conn);
int xjk_splice_read(struct xjk_splice_side *s, struct xjk_buf *buf, size_t limit);
void xjk_splice_progress(struct xjk_splice_conn *conn, uint64_t mark);
bool xjk_splice_in_queue(struct xjk_splice_conn *conn, struct xjk_splice_side *from,
			 struct xjk_splice_side *to);
bool xjk_splice_given_in_queue(struct xjk_splice_conn *conn);
bool xjk_splice_drained(struct xjk_splice_conn *conn, struct xjk_splice_side *from,
			struct xjk_splice_side *to);
bool xjk_splice_wait_drain(struct xjk_splice_conn *conn);
uint64_t xjk_splice_moved(const struct xjk_splice_conn *conn);
void xjk_splice_copy_pump(struct xjk_splice_conn *conn);

/* splice_close.c */
void xjk_splice_backend_close(struct xjk_splice_conn *conn);
void xjk_splice_close(struct xjk_splice_conn *conn);
void xjk_splice_abort(struct xjk_splice_conn *conn, const char *why);
bool xjk_splice_finish(struct xjk_splice_conn *conn);
void xjk_splice_drain_poll(struct xjk_splice_conn *conn);

/* splice_connect.c */
int xjk_splice_parse(struct xjk_splice_conn *conn, const char *buf, size_t len,
		     struct xjk_str *routes, int *n_routes, bool *has_session);
int xjk_splice_choose(struct xjk_splice_conn *conn);
void xjk_splice_answer(struct xjk_splice_conn *conn, int status);
void xjk_splice_connect_failed(struct xjk_splice_conn *conn, enum xjk_cause cause,
			       const char *detail);
void xjk_splice_connect(struct xjk_splice_conn *conn);
bool xjk_splice_unanswered(struct xjk_splice_conn *conn, bool reset);

/* splice_pair.c */
uint32_t xjk_splice_client_events(const struct xjk_splice_conn *conn);
/* REROUTE found the member stopped accepting in the middle of a request:
 * it finishes it, xjkd passing it the rest of the client's bytes, until
 * they look like the next request (then REROUTE again) or the connection
 * looks answered and idle (then it closes). */
void xjk_splice_hold_client(struct xjk_splice_conn *conn);
int xjk_splice_pass_up(struct xjk_splice_conn *conn);
void xjk_splice_forward(struct xjk_splice_conn *conn);
void xjk_splice_kernel(struct xjk_splice_conn *conn);

/* splice_reroute.c */
void xjk_splice_reroute_start(struct xjk_splice_conn *conn);
void xjk_splice_reroute(struct xjk_splice_conn *conn);

/* splice.c */
void xjk_splice_pump(struct xjk_splice_conn *conn);
void xjk_splice_on_backend(struct xjk_io *io, uint32_t events);

#endif
