/* client.c: one client connection: reads HTTP/1.1 requests, maps each to a
 * worker, runs its AJP13 exchange on an upstream connection and streams the
 * response back. One exchange at a time; pipelined requests wait in the input
 * buffer and are answered in order. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "bpffs.h"
#include "heaptrim.h"
#include "log.h"
#include "proxy.h"
#include "session.h"
#include "splice.h"
#include "urimap.h"
#include "wstate.h"

#define OUT_HIGH_WATER	 (256 * 1024) /* stop reading the backend above this */
#define IN_PIPELINE_MAX	 (64 * 1024)  /* buffered bytes of later requests */
#define MAX_ROUTES	 8
#define DEFAULT_REPLY_MS 60000
#define SEND_TIMEOUT_MS	 60000 /* a client that reads nothing for this long is dropped */

enum body_kind { BODY_NONE, BODY_LENGTH, BODY_CHUNKED };

/* The request in flight and everything its exchange needs. */
struct exchange {
	bool active;
	uint64_t t_start, t_upstream;

	const struct xjk_mount *mount;
	struct xjk_worker_ref ref;
	int lb; /* -1 for a plain ajp13 worker */
	int member, backend;
	const char *route;
	uint64_t failed; /* lb members that failed for this request */
	int attempts;
	bool fresh_retry; /* already retried a stale pooled connection */

	struct xjk_upstream *up;
	struct xjk_pool_waiter wait; /* queued while ex.backend's pool is full */
	bool sent;		     /* the request reached the backend */

	enum body_kind body;
	int64_t body_left; /* BODY_LENGTH: bytes still to come from the client */
	struct xjk_chunked dec;
	struct xjk_buf decoded; /* BODY_CHUNKED: decoded bytes not yet sent */
	uint32_t want;		/* bytes the backend asked for and has not got */
	bool body_end_sent;
	bool replayable; /* the body sent so far is all in `replay` */
	struct xjk_buf replay;

	bool head_done, chunked_out, no_body, close_after;
	int status;
	int fail_status;   /* the last failed attempt's answer (502, 503, 504) */
	int64_t resp_left; /* declared Content-Length still to come, -1 unknown */
	uint64_t resp_bytes, req_bytes;
};

struct xjk_client {
	struct xjk_io io;
	struct xjk_proxy *px;
	struct xjk_client *prev, *next; /* px->clients */
	struct xjk_buf in, out;
	bool readable, writable, closing, eof;
	bool hup;	/* the peer hung up: read until EOF, no further edge comes */
	bool lingering; /* response sent, write side shut: swallowing input */
	size_t lingered;
	struct xjk_timer timer;

	char peer_ip[INET6_ADDRSTRLEN], local_ip[INET6_ADDRSTRLEN];
	uint16_t peer_port, local_port;

	char *head; /* the current request's head, owned */
	char *path; /* its decoded, normalized path */
	struct xjk_http_header *hdrs;
	struct xjk_http_request req;
	struct exchange ex;
};

static void client_process(struct xjk_client *c);
static void exchange_pump(struct xjk_client *c);
static void start_attempt(struct xjk_client *c);
static void finish_exchange(struct xjk_client *c, bool reuse);
static void serve_status(struct xjk_client *c);

/* ---- connection lifetime ---- */

static void client_free(void *arg)
{
	struct xjk_client *c = arg;
	xjk_buf_free(&c->in);
	xjk_buf_free(&c->out);
	xjk_buf_free(&c->ex.decoded);
	xjk_buf_free(&c->ex.replay);
	free(c->head);
	free(c->path);
	free(c->hdrs);
	free(c);
	xjk_heaptrim_close();
}

/* Detaches c from its loop and proxy and frees it at the end of the turn;
 * its socket is the caller's. */
static void client_forget(struct xjk_client *c)
{
	xjk_timer_cancel(c->px->loop, &c->timer);
	xjk_loop_unwatch(&c->io);
	c->io.fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		c->px->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->px->n_clients--;
	xjk_loop_defer(c->px->loop, client_free, c);
}

static void client_close(struct xjk_client *c)
{
	if (c->io.fd < 0)
		return;
	xjk_upstream_cancel_wait(&c->ex.wait);
	if (c->ex.up) {
		/* Mid-exchange the upstream stream state is unknown: drop it. */
		c->ex.up->owner = NULL;
		xjk_upstream_close(c->ex.up);
		c->ex.up = NULL;
		xjk_wstate_busy(c->ex.backend, -1);
	}
	c->ex.active = false;
	int fd = c->io.fd;
	client_forget(c);
	close(fd);
}

/* After the last response, half-close and swallow what the client still
 * sends, for a while: closing a socket with unread bytes makes the kernel
 * answer with a reset, which can destroy the response (a 400 for a request
 * whose body was never read, say) before the client has read it. */
#define LINGER_MS	 2000
#define LINGER_MAX_BYTES (256 * 1024)

static void client_linger(struct xjk_client *c)
{
	if (c->eof) {
		client_close(c);
		return;
	}
	if (!c->lingering) {
		c->lingering = true;
		shutdown(c->io.fd, SHUT_WR);
		xjk_buf_reset(&c->in);
		xjk_timer_arm(c->px->loop, &c->timer, LINGER_MS);
	}
	char junk[16384];
	while (c->readable) {
		ssize_t n = recv(c->io.fd, junk, sizeof(junk), 0);
		if (n > 0 && (c->lingered += (size_t)n) <= LINGER_MAX_BYTES)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			c->readable = false;
			return;
		}
		client_close(c); /* EOF, error, or more than we care to swallow */
		return;
	}
}

/* Writes c->out; closes when the connection is done. Returns -1 when the
 * connection is done (closed or lingering). */
static int client_flush(struct xjk_client *c)
{
	if (xjk_buf_send(c->io.fd, &c->out, &c->writable) < 0) {
		client_close(c);
		return -1;
	}
	if (c->closing && !xjk_buf_len(&c->out)) {
		client_linger(c);
		return -1;
	}
	return 0;
}

/* Reads into c->in up to LIMIT buffered bytes. Returns -1 when the peer is
 * gone and nothing is left to process. */
static int client_read(struct xjk_client *c, size_t limit)
{
	while (c->readable && !c->eof && xjk_buf_len(&c->in) < limit) {
		char *w = xjk_buf_reserve(&c->in, 16384);
		if (!w)
			return -1;
		size_t room = c->in.cap - c->in.end;
		ssize_t n = recv(c->io.fd, w, room, 0);
		if (n > 0) {
			xjk_buf_commit(&c->in, (size_t)n);
			if ((size_t)n < room) {
				/* Drained: the next bytes bring a new edge (see upstream.c). */
				if (!c->hup)
					c->readable = false;
				break;
			}
		} else if (n == 0) {
			c->eof = true;
		} else if (errno == EAGAIN) {
			c->readable = false;
		} else if (errno != EINTR) {
			c->eof = true;
			return -1;
		}
	}
	return 0;
}

/* ---- access log ---- */

static void access_log(struct xjk_client *c)
{
	struct xjk_proxy *px = c->px;
	if (px->access_fd < 0)
		return;
	static __thread time_t cached_sec;
	static __thread char cached_time[40];
	time_t now = time(NULL);
	if (now != cached_sec) {
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(cached_time, sizeof(cached_time), "%d/%b/%Y:%H:%M:%S %z", &tm);
		cached_sec = now;
	}
	const struct xjk_http_request *r = &c->req;
	const struct xjk_http_header *ref = xjk_http_find(r, "Referer");
	const struct xjk_http_header *ua = xjk_http_find(r, "User-Agent");
	const char *worker =
		c->ex.backend >= 0 ? px->cfg->workers.backends[c->ex.backend].name : "-";
	uint64_t now_ms = xjk_loop_now(px->loop);
	char *w = xjk_buf_reserve(&px->access, 1024 + r->target.len);
	if (!w)
		return;
	int n = snprintf(w, 1024 + r->target.len,
			 "%s - - [%s] \"%.*s %.*s HTTP/1.%d\" %d %llu \"%.*s\" \"%.*s\" %s %llu\n",
			 c->peer_ip, cached_time, (int)r->method.len, r->method.p,
			 (int)r->target.len, r->target.p, r->minor, c->ex.status,
			 (unsigned long long)c->ex.resp_bytes, ref ? (int)ref->value.len : 1,
			 ref ? ref->value.p : "-", ua ? (int)ua->value.len : 1,
			 ua ? ua->value.p : "-", worker,
			 (unsigned long long)(c->ex.t_upstream ? now_ms - c->ex.t_upstream : 0));
	if (n > 0)
		xjk_buf_commit(&px->access, (size_t)n < 1024 + r->target.len ? (size_t)n : 0);
	if (xjk_buf_len(&px->access) > 32768)
		xjk_access_flush(px);
}

void xjk_access_flush(struct xjk_proxy *px)
{
	if (px->access_fd >= 0 && xjk_buf_len(&px->access) &&
	    write(px->access_fd, xjk_buf_head(&px->access), xjk_buf_len(&px->access)) < 0)
		xjk_warn("access log write failed: %s", strerror(errno));
	xjk_buf_reset(&px->access);
}

/* ---- responses made by xjkd itself ---- */

/* Answers STATUS from xjkd itself and ends the exchange. A request whose
 * body was not read leaves the connection unframed, so it closes. */
static void respond_error(struct xjk_client *c, int status, bool close)
{
	if (c->ex.body != BODY_NONE && (c->ex.body_left > 0 || !c->ex.dec.done))
		close = true;
	close = close || !c->req.keep_alive || c->px->draining;
	char *w = xjk_buf_reserve(&c->out, 1024);
	int n = w ? xjk_http_error_response(w, 1024, status, close) : -1;
	if (n > 0)
		xjk_buf_commit(&c->out, (size_t)n);
	c->ex.status = status;
	c->ex.resp_bytes = 0;
	c->ex.head_done = true;
	c->ex.close_after = close;
	finish_exchange(c, false);
}

/* ---- request intake ---- */

/* An idle keep-alive connection is not closed at once when xjkd drains: the
 * client may have a request on the wire, which would meet a reset. It gets a
 * short grace in which a request is still answered, with "Connection: close". */
#define DRAIN_IDLE_GRACE_MS 1000

static void drain_idle(struct xjk_client *c)
{
	uint64_t grace = (uint64_t)c->px->cfg->keepalive_timeout_ms;
	if (grace > DRAIN_IDLE_GRACE_MS)
		grace = DRAIN_IDLE_GRACE_MS;
	xjk_timer_arm(c->px->loop, &c->timer, grace);
}

static void exchange_reset(struct exchange *ex)
{
	struct xjk_buf decoded = ex->decoded, replay = ex->replay;
	xjk_buf_reset(&decoded);
	xjk_buf_reset(&replay);
	memset(ex, 0, sizeof(*ex));
	ex->decoded = decoded;
	ex->replay = replay;
	ex->lb = ex->member = ex->backend = -1;
	ex->resp_left = -1;
	xjk_chunked_init(&ex->dec);
	ex->dec.done = true; /* until a chunked body says otherwise */
}

/* Moves the head out of the input buffer so that buffer can grow and shift
 * while the request is served, then rebases the parsed slices onto the copy. */
static void adopt_head(struct xjk_client *c)
{
	const char *old = xjk_buf_head(&c->in);
	memcpy(c->head, old, c->req.head_len);
	ptrdiff_t delta = c->head - old;
#define REBASE(s) ((s).p = (s).p ? (s).p + delta : NULL)
	REBASE(c->req.method);
	REBASE(c->req.target);
	if (c->req.path.p >= old && c->req.path.p < old + c->req.head_len)
		REBASE(c->req.path);
	REBASE(c->req.query);
	if (c->req.host.p >= old && c->req.host.p < old + c->req.head_len)
		REBASE(c->req.host);
	for (uint32_t i = 0; i < c->req.n_headers; i++) {
		REBASE(c->hdrs[i].name);
		REBASE(c->hdrs[i].value);
	}
#undef REBASE
	xjk_buf_consume(&c->in, c->req.head_len);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* %-decodes and normalizes the path for URI mapping, as httpd hands r->uri to
 * mod_jk. Returns -1 for a path that is invalid or leaves the root. */
static int decode_path(struct xjk_client *c)
{
	const struct xjk_str p = c->req.path;
	size_t o = 0;
	for (uint32_t i = 0; i < p.len; i++) {
		char ch = p.p[i];
		if (ch == '%') {
			int hi = i + 2 < p.len ? hexval(p.p[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(p.p[i + 2]) : -1;
			if (lo < 0)
				return -1;
			ch = (char)(hi << 4 | lo);
			if (!ch)
				return -1;
			i += 2;
		}
		c->path[o++] = ch;
	}
	c->path[o] = 0;
	return xjk_uri_normalize(c->path);
}

static void begin_request(struct xjk_client *c)
{
	struct exchange *ex = &c->ex;
	exchange_reset(ex);
	ex->active = true;
	ex->t_start = xjk_loop_now(c->px->loop);
	adopt_head(c);
	xjk_timer_cancel(c->px->loop, &c->timer);

	if (c->req.chunked) {
		ex->body = BODY_CHUNKED;
		ex->dec.done = false;
	} else if (c->req.content_length > 0) {
		ex->body = BODY_LENGTH;
		ex->body_left = c->req.content_length;
	}

	if (c->req.path.len == 1 && c->req.path.p[0] == '*') {
		respond_error(c, 404, false);
		return;
	}
	if (decode_path(c) < 0) {
		respond_error(c, 400, true);
		return;
	}
	const struct xjk_config *cfg = c->px->cfg;
	ex->mount = xjk_urimap_match(cfg->urimap, c->path);
	if (!ex->mount) {
		respond_error(c, 404, false);
		return;
	}
	ex->ref = ex->mount->ref;
	if (ex->ref.type == XJK_WORKER_LB) {
		ex->lb = ex->ref.index;
	} else if (ex->ref.type == XJK_WORKER_AJP13 || ex->ref.type == XJK_WORKER_HTTP) {
		ex->backend = ex->ref.index;
	} else {
		serve_status(c);
		return;
	}
	ex->replayable = true;
	start_attempt(c);
}

/* A mod_jk status worker mounted with JkMount (jkstatus): xjk's status page,
 * read-only here; changes go through the admin listener, which checks the
 * token. "?mime=json" and "?mime=txt" as in jkstatus. Cluster members are
 * left out: their table belongs to the control thread. */
static void serve_status(struct xjk_client *c)
{
	const struct xjk_admin_src src = {
		.cfg = c->px->cfg,
		.bpf_dir = xjk_bpffs_dir(),
		.start_s = c->px->started,
	};
	struct xjk_str q = c->req.query;
	bool json = q.p && memmem(q.p, q.len, "mime=json", 9);
	bool txt = q.p && memmem(q.p, q.len, "mime=txt", 8);
	struct xjk_admin_model m;
	struct xjk_buf body = {0};
	const struct xjk_admin_page page = {.notice = "read-only view (jkstatus mount)"};
	int rc = xjk_admin_model_build(&src, &m);
	if (!rc)
		rc = json  ? xjk_admin_render_json(&m, &body)
		     : txt ? xjk_admin_render_text(&m, XJK_ADMIN_TEXT_STATUS, &body)
			   : xjk_admin_render_html(&m, &page, &body);
	xjk_admin_model_free(&m);
	if (rc < 0) {
		xjk_buf_free(&body);
		respond_error(c, 500, false);
		return;
	}
	struct exchange *ex = &c->ex;
	ex->status = 200;
	ex->no_body = c->req.method_code == 3;
	ex->close_after = !c->req.keep_alive || c->px->draining || ex->body != BODY_NONE;
	xjk_admin_printf(&c->out,
			 "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\n%s\r\n",
			 json  ? "application/json"
			 : txt ? "text/plain; charset=utf-8"
			       : "text/html; charset=utf-8",
			 xjk_buf_len(&body), ex->close_after ? "Connection: close\r\n" : "");
	if (!ex->no_body)
		xjk_buf_append(&c->out, xjk_buf_head(&body), xjk_buf_len(&body));
	ex->resp_bytes = ex->no_body ? 0 : xjk_buf_len(&body);
	ex->head_done = true;
	xjk_buf_free(&body);
	finish_exchange(c, false);
}

static bool idempotent(const struct xjk_http_request *r)
{
	switch (r->method_code) {
	case 1: /* OPTIONS */
	case 2: /* GET */
	case 3: /* HEAD */
	case 5: /* PUT */
	case 6: /* DELETE */
	case 7: /* TRACE */
		return true;
	default:
		return false;
	}
}

/* Picks the backend for the next attempt; false when none is left. */
static bool choose_backend(struct xjk_client *c)
{
	struct exchange *ex = &c->ex;
	if (ex->lb < 0)
		return ex->attempts == 0 ||
		       (ex->attempts == 1 && xjk_wstate_state(ex->backend) !=
						     XJK_STATE_ERR); /* plain worker: retry once */
	const struct xjk_lb *lb = &c->px->cfg->workers.lbs[ex->lb];
	if (ex->attempts >= lb->n_members * (lb->retries > 0 ? lb->retries : 1) + 1)
		return false;
	struct xjk_str routes[MAX_ROUTES];
	bool has_session = false;
	int n = 0;
	if (lb->sticky_session && !(ex->mount->ext.sticky_ignore))
		n = xjk_session_routes(&c->req, lb->session_path, lb->session_cookie, routes,
				       MAX_ROUTES, &has_session);
	struct xjk_choice choice;
	if (xjk_wstate_choose(ex->lb, routes, n, has_session, ex->failed, &choice) < 0)
		return false;
	ex->member = choice.member;
	ex->backend = choice.backend;
	ex->route = choice.route;
	return true;
}

static void connect_backend(struct xjk_client *c);

/* An http backend (an HTTP server, not AJP): the connection goes to the
 * splice module with the bytes read so far (splice.h); the backend answers
 * Expect: 100-continue itself. */
static void hand_off(struct xjk_client *c)
{
	struct exchange *ex = &c->ex;
	if (xjk_buf_len(&ex->replay)) {
		/* An lb mixing ajp13 and http members failed over after AJP
		 * body packets were sent: those bytes cannot be told apart. */
		respond_error(c, 502, true);
		return;
	}
	struct xjk_splice_target t = {
		.lb = ex->lb,
		.member = ex->member,
		.backend = ex->backend,
		.failed = ex->failed,
		.sticky = !ex->mount->ext.sticky_ignore,
		.replayable = idempotent(&c->req),
	};
	int fd = c->io.fd;
	client_forget(c);
	xjk_splice_handoff(c->px, fd, &t, c->head, c->req.head_len, &c->in, &c->out);
}

static void start_attempt(struct xjk_client *c)
{
	struct exchange *ex = &c->ex;
	if (!choose_backend(c)) {
		ex->backend = -1;
		/* a plain worker that failed this request earns its own status,
		 * not the 503 of a worker that was never tried (an lb that ran
		 * out of members answers 503, as mod_jk) */
		respond_error(c, ex->lb < 0 && ex->attempts ? ex->fail_status : 503, false);
		client_flush(c); /* a retry's 503 has no client event to flush it */
		return;
	}
	ex->attempts++;
	if (c->px->cfg->workers.backends[ex->backend].type == XJK_WORKER_HTTP) {
		hand_off(c);
		return;
	}
	if (ex->attempts == 1 && c->req.expect_continue && ex->body != BODY_NONE) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		xjk_buf_append(&c->out, cont, sizeof(cont) - 1);
	}
	connect_backend(c);
}

/* UP now serves c's exchange: send the request when it is ready. */
static void attach_upstream(struct xjk_client *c, struct xjk_upstream *up)
{
	struct exchange *ex = &c->ex;
	xjk_wstate_busy(ex->backend, 1);
	up->owner = c;
	ex->up = up;
	if (up->connecting)
		return; /* xjk_client_upstream_ready follows */
	if (xjk_upstream_needs_cping(up)) {
		xjk_upstream_start_cping(up);
		return;
	}
	xjk_client_upstream_ready(c);
}

/* Takes no connection: the pool gave none (errno says why). A request that
 * waited in the queue of a backend declared down meanwhile never reached it:
 * it moves on like one that found the pool full, and says nothing more about
 * the backend (thousands of waiters would each report it down again). */
static void upstream_refused(struct xjk_client *c)
{
	if (errno == ETIMEDOUT || errno == EBUSY) {
		/* mod_jk's OK/BUSY: new traffic avoids the member until a request
		 * on it succeeds again */
		xjk_wstate_report(c->ex.backend, XJK_CAUSE_BUSY, "no free connection in the pool");
		xjk_client_upstream_failed(c, XJK_CAUSE_BUSY, "no free connection in the pool");
	} else if (errno == EHOSTDOWN)
		xjk_client_upstream_failed(c, XJK_CAUSE_BUSY,
					   "backend declared down while waiting");
	else
		xjk_client_upstream_failed(c, XJK_CAUSE_CONNECT, strerror(errno));
}

static void on_pool_granted(struct xjk_pool_waiter *w, struct xjk_upstream *up)
{
	struct xjk_client *c = container_of(w, struct xjk_client, ex.wait);
	if (up)
		attach_upstream(c, up);
	else
		upstream_refused(c);
	/* A 503 ends the exchange with no client event to come: go on to a
	 * pipelined request now. */
	if (c->io.fd >= 0 && client_flush(c) == 0 && !c->ex.active && !c->closing)
		client_process(c);
}

/* Takes a connection to ex->backend, or queues for one. */
static void connect_backend(struct xjk_client *c)
{
	struct exchange *ex = &c->ex;
	ex->sent = false;
	ex->wait.fn = on_pool_granted;
	struct xjk_upstream *up = xjk_upstream_get(c->px, ex->backend, &ex->wait);
	if (up)
		attach_upstream(c, up);
	else if (errno != EAGAIN)
		upstream_refused(c);
}

/* ---- request body towards the backend ---- */

static const struct xjk_backend *cur_backend(const struct xjk_client *c)
{
	return &c->px->cfg->workers.backends[c->ex.backend];
}

/* Decodes what the client sent of a chunked body into ex->decoded. */
static int decode_chunked(struct xjk_client *c)
{
	struct exchange *ex = &c->ex;
	while (!ex->dec.done && xjk_buf_len(&c->in)) {
		size_t len = xjk_buf_len(&c->in);
		char *w = xjk_buf_reserve(&ex->decoded, len);
		if (!w)
			return -1;
		size_t out = 0;
		ssize_t used = xjk_chunked_decode(&ex->dec, xjk_buf_head(&c->in), len, w, &out);
		if (used < 0)
			return -1;
		xjk_buf_commit(&ex->decoded, out);
		xjk_buf_consume(&c->in, (size_t)used);
		if (!used)
			break;
	}
	return 0;
}

/* Sends one body packet of up to MAX bytes (what the backend asked for), or
 * the end packet when the body is over. Returns false when the client has not
 * sent the bytes yet. */
static bool send_body_packet(struct xjk_client *c, size_t max)
{
	struct exchange *ex = &c->ex;
	struct xjk_upstream *up = ex->up;
	size_t cap = XJK_AJP_BODY_MAX(cur_backend(c)->max_packet_size);
	if (max > cap)
		max = cap;
	const char *src;
	size_t avail;
	bool over;
	if (ex->body == BODY_LENGTH) {
		src = xjk_buf_head(&c->in);
		avail = xjk_buf_len(&c->in);
		if ((int64_t)avail > ex->body_left)
			avail = (size_t)ex->body_left;
		over = ex->body_left == 0;
	} else if (ex->body == BODY_CHUNKED) {
		src = xjk_buf_head(&ex->decoded);
		avail = xjk_buf_len(&ex->decoded);
		over = ex->dec.done && !avail;
	} else {
		src = NULL;
		avail = 0;
		over = true;
	}
	if (over) {
		xjk_buf_append(&up->out, xjk_ajp_end_packet, sizeof(xjk_ajp_end_packet));
		ex->body_end_sent = true;
		return true;
	}
	if (!avail)
		return false;
	size_t n = avail < max ? avail : max;
	uint8_t *w = (uint8_t *)xjk_buf_reserve(&up->out, n + XJK_AJP_BODY_HEADER_LEN);
	if (!w)
		return false;
	memcpy(w + XJK_AJP_BODY_HEADER_LEN, src, n);
	size_t plen = xjk_ajp_body_header(w, n);
	if (ex->replayable)
		xjk_buf_append(&ex->replay, w, plen);
	xjk_buf_commit(&up->out, plen);
	ex->req_bytes += n;
	if (ex->body == BODY_LENGTH) {
		xjk_buf_consume(&c->in, n);
		ex->body_left -= (int64_t)n;
	} else {
		xjk_buf_consume(&ex->decoded, n);
	}
	return true;
}

/* True when the first body packet (sent unasked with the request) is ready.
 * A chunked body is not sent unasked, but its first chunk must have decoded
 * before the request goes out, so that broken framing is answered with 400
 * without anything reaching the backend. */
static bool first_body_ready(struct xjk_client *c)
{
	struct exchange *ex = &c->ex;
	if (ex->body == BODY_CHUNKED)
		return xjk_buf_len(&ex->decoded) || ex->dec.done;
	if (ex->body != BODY_LENGTH || xjk_buf_len(&ex->replay))
		return true;
	size_t need = XJK_AJP_BODY_MAX(cur_backend(c)->max_packet_size);
	if ((int64_t)need > ex->body_left)
		need = (size_t)ex->body_left;
	return xjk_buf_len(&c->in) >= need;
}

static void arm_reply_timer(struct xjk_client *c)
{
	const struct xjk_backend *be = cur_backend(c);
	int ms = be->reply_timeout > 0 ? be->reply_timeout : DEFAULT_REPLY_MS;
	xjk_timer_arm(c->px->loop, &c->ex.up->timer, (uint64_t)ms);
}

static void ajp_fill_request(struct xjk_client *c, struct xjk_ajp_request *a)
{
	const struct xjk_http_request *r = &c->req;
	const struct xjk_backend *be = cur_backend(c);
	static const char http10[] = "HTTP/1.0", http11[] = "HTTP/1.1";
	*a = (struct xjk_ajp_request){
		.method_code = r->method_code,
		.method = r->method,
		.protocol = {r->minor ? http11 : http10, 8},
		.uri = r->path,
		.query = r->query,
		.remote_addr = {c->peer_ip, (uint32_t)strlen(c->peer_ip)},
		.remote_host = {c->peer_ip, (uint32_t)strlen(c->peer_ip)},
		.remote_port = c->peer_port,
		.server_name = {c->local_ip, (uint32_t)strlen(c->local_ip)},
		.server_port = c->local_port,
		.local_addr = {c->local_ip, (uint32_t)strlen(c->local_ip)},
		.secret = {be->secret, be->secret ? (uint32_t)strlen(be->secret) : 0},
		.route = {c->ex.route, c->ex.route ? (uint32_t)strlen(c->ex.route) : 0},
		.activation = xjk_wstate_activation(c->ex.backend),
		.headers = c->hdrs,
		.n_headers = r->n_headers,
		.chunked = r->chunked,
	};
}

/* Answers the client's fault before anything went to the backend, whose
 * untouched connection goes back to the pool. */
static void refuse_unsent(struct xjk_client *c, int status)
{
	struct exchange *ex = &c->ex;
	xjk_upstream_release(ex->up, true);
	ex->up = NULL;
	xjk_wstate_busy(ex->backend, -1);
	respond_error(c, status, true);
	client_flush(c);
}

/* Sends the FORWARD_REQUEST (and the first body packet) once both the
 * upstream and the first body bytes are ready. */
static void send_request(struct xjk_client *c)
{
	struct exchange *ex = &c->ex;
	struct xjk_upstream *up = ex->up;
	if (ex->sent || !up || up->connecting || up->cping)
		return;
	if (ex->body == BODY_CHUNKED && decode_chunked(c) < 0) {
		refuse_unsent(c, 400);
		return;
	}
	if (!first_body_ready(c))
		return;
	const struct xjk_backend *be = cur_backend(c);
	if (!ex->t_upstream)
		ex->t_upstream = xjk_loop_now(c->px->loop);
	uint8_t *w = (uint8_t *)xjk_buf_reserve(&up->out, be->max_packet_size);
	struct xjk_ajp_request a;
	ajp_fill_request(c, &a);
	int n = w ? xjk_ajp_encode_request(w, be->max_packet_size, &a) : -1;
	if (n < 0) {
		/* Too big for one AJP packet: the client's fault, no failover. */
		refuse_unsent(c, 413);
		return;
	}
	xjk_buf_commit(&up->out, (size_t)n);
	ex->sent = true;
	if (xjk_buf_len(&ex->replay)) {
		/* A retry: the first body packet goes again, from the copy. */
		xjk_buf_append(&up->out, xjk_buf_head(&ex->replay), xjk_buf_len(&ex->replay));
	} else if (ex->body == BODY_LENGTH) {
		send_body_packet(c, SIZE_MAX);
	}
	arm_reply_timer(c);
	if (xjk_upstream_flush(up) < 0) {
		xjk_client_upstream_failed(c, XJK_CAUSE_RESET, "send failed");
		return;
	}
}

void xjk_client_upstream_ready(struct xjk_client *c)
{
	send_request(c);
	if (c->io.fd >= 0 && c->ex.active && !c->ex.sent)
		client_process(c); /* read the body bytes the first packet waits for */
}

/* ---- response towards the client ---- */

static bool hop_by_hop(struct xjk_str name)
{
	return xjk_str_caseeq(name, "Connection") || xjk_str_caseeq(name, "Keep-Alive") ||
	       xjk_str_caseeq(name, "Transfer-Encoding") ||
	       xjk_str_caseeq(name, "Proxy-Connection") || xjk_str_caseeq(name, "Upgrade");
}

static int parse_length(struct xjk_str v, int64_t *out)
{
	int64_t n = 0;
	if (!v.len || v.len > 18)
		return -1;
	for (uint32_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (v.p[i] - '0');
	}
	*out = n;
	return 0;
}

static bool fail_on_status(const struct xjk_backend *be, int status)
{
	for (int i = 0; i < be->n_fail_on_status; i++) {
		int s = be->fail_on_status[i];
		if (s == status || -s == status)
			return true;
	}
	return false;
}

/* Copies the string S to W; returns its length. printf's machinery was a
 * tenth of xjkd's own (user-space) time per request. */
static size_t put_text(char *w, const char *s)
{
	size_t len = strlen(s);
	memcpy(w, s, len);
	return len;
}

/* SEND_HEADERS: the status line and headers, framed for this client. */
static int write_head(struct xjk_client *c, const struct xjk_ajp_msg *m)
{
	struct exchange *ex = &c->ex;
	const struct xjk_http_request *r = &c->req;
	ex->status = m->status;
	ex->no_body =
		r->method_code == 3 || m->status < 200 || m->status == 204 || m->status == 304;
	int64_t length = -1;
	size_t need = 128;
	for (uint32_t i = 0; i < m->n_headers; i++) {
		need += m->headers[i].name.len + m->headers[i].value.len + 4;
		if (xjk_str_caseeq(m->headers[i].name, "Content-Length") &&
		    (parse_length(m->headers[i].value, &length) < 0))
			return -1; /* a lying length would desynchronise the client */
	}
	ex->resp_left = ex->no_body ? 0 : length;
	ex->chunked_out = !ex->no_body && length < 0 && r->minor == 1;
	if (!ex->no_body && length < 0 && !ex->chunked_out)
		ex->close_after = true; /* HTTP/1.0 without a length: EOF ends the body */
	if (!r->keep_alive || c->px->draining)
		ex->close_after = true;

	char *w = xjk_buf_reserve(&c->out, need);
	if (!w)
		return -1;
	const char *reason = xjk_http_reason(m->status);
	size_t n = put_text(w, "HTTP/1.1 ");
	w[n++] = (char)('0' + m->status / 100); /* 100..999: xjk_ajp_parse checked */
	w[n++] = (char)('0' + m->status / 10 % 10);
	w[n++] = (char)('0' + m->status % 10);
	w[n++] = ' ';
	n += put_text(w + n, *reason ? reason : "Unknown");
	n += put_text(w + n, "\r\n");
	for (uint32_t i = 0; i < m->n_headers; i++) {
		const struct xjk_http_header *h = &m->headers[i];
		if (hop_by_hop(h->name))
			continue;
		memcpy(w + n, h->name.p, h->name.len);
		n += h->name.len;
		w[n++] = ':';
		w[n++] = ' ';
		memcpy(w + n, h->value.p, h->value.len);
		n += h->value.len;
		w[n++] = '\r';
		w[n++] = '\n';
	}
	if (ex->chunked_out)
		n += put_text(w + n, "Transfer-Encoding: chunked\r\n");
	if (ex->close_after)
		n += put_text(w + n, "Connection: close\r\n");
	else if (r->minor == 0)
		n += put_text(w + n, "Connection: keep-alive\r\n");
	w[n++] = '\r';
	w[n++] = '\n';
	xjk_buf_commit(&c->out, n);
	ex->head_done = true;
	return 0;
}

static int write_body(struct xjk_client *c, struct xjk_str body)
{
	struct exchange *ex = &c->ex;
	if (ex->no_body || !body.len)
		return 0;
	if (ex->resp_left >= 0) {
		if ((int64_t)body.len > ex->resp_left)
			return -1; /* more than the declared Content-Length */
		ex->resp_left -= body.len;
	}
	char hdr[XJK_CHUNKED_HEADER_MAX];
	size_t hl = ex->chunked_out ? xjk_chunked_header(hdr, body.len) : 0;
	char *w = xjk_buf_reserve(&c->out, hl + body.len + 2);
	if (!w)
		return -1;
	memcpy(w, hdr, hl);
	memcpy(w + hl, body.p, body.len);
	size_t n = hl + body.len;
	if (ex->chunked_out) {
		w[n++] = '\r';
		w[n++] = '\n';
	}
	xjk_buf_commit(&c->out, n);
	ex->resp_bytes += body.len;
	return 0;
}

/* The exchange is over (answered by the backend or by xjkd). */
static void finish_exchange(struct xjk_client *c, bool reuse)
{
	struct exchange *ex = &c->ex;
	if (ex->chunked_out)
		xjk_buf_append(&c->out, "0\r\n\r\n", 5);
	if (ex->body == BODY_LENGTH && ex->body_left > 0)
		ex->close_after = true; /* unread body: the next request cannot be found */
	if (ex->body == BODY_CHUNKED && !ex->dec.done)
		ex->close_after = true;
	if (ex->up) {
		xjk_upstream_release(ex->up, reuse);
		ex->up = NULL;
		xjk_wstate_busy(ex->backend, -1);
	}
	if (ex->backend >= 0) {
		xjk_wstate_count(ex->backend, ex->req_bytes, ex->resp_bytes, false);
		if (ex->lb >= 0)
			xjk_wstate_done(ex->lb, ex->member, ex->req_bytes + ex->resp_bytes);
	}
	access_log(c);
	ex->active = false;
	if (ex->close_after)
		c->closing = true;
	else if (c->px->draining)
		drain_idle(c); /* the response promised keep-alive: honour it briefly */
}

void xjk_clients_drain(struct xjk_proxy *px)
{
	for (struct xjk_client *c = px->clients; c; c = c->next)
		if (!c->ex.active && !xjk_buf_len(&c->in))
			drain_idle(c);
}

static void upstream_broken(struct xjk_client *c, enum xjk_cause cause, const char *detail)
{
	xjk_client_upstream_failed(c, (int)cause, detail);
}

/* Handles one message from the backend. Returns 1 when the exchange goes on,
 * 0 when it ended (or failed and was handed on). */
static int upstream_message(struct xjk_client *c, const struct xjk_ajp_msg *m, size_t len)
{
	struct exchange *ex = &c->ex;
	struct xjk_upstream *up = ex->up;
	const struct xjk_backend *be = cur_backend(c);
	switch (m->type) {
	case XJK_AJP_SEND_HEADERS:
		if (ex->head_done) {
			upstream_broken(c, XJK_CAUSE_PROTOCOL, "second SEND_HEADERS");
			return 0;
		}
		if (fail_on_status(be, m->status)) {
			char why[32];
			snprintf(why, sizeof(why), "status %d", m->status);
			upstream_broken(c, XJK_CAUSE_STATUS, why);
			return 0;
		}
		if (write_head(c, m) < 0) {
			upstream_broken(c, XJK_CAUSE_PROTOCOL, "invalid response headers");
			return 0;
		}
		break;
	case XJK_AJP_SEND_BODY_CHUNK:
		if (!ex->head_done) {
			if (!m->body.len)
				break; /* a flush before any response is a stale leftover */
			upstream_broken(c, XJK_CAUSE_PROTOCOL, "body before headers");
			return 0;
		}
		if (write_body(c, m->body) < 0) {
			upstream_broken(c, XJK_CAUSE_PROTOCOL, "body longer than Content-Length");
			return 0;
		}
		break;
	case XJK_AJP_GET_BODY_CHUNK:
		if (xjk_buf_len(&ex->replay))
			ex->replayable = false; /* past the first packet: no replay */
		ex->want = m->requested ? m->requested : 1;
		break;
	case XJK_AJP_END_RESPONSE:
		if (!ex->head_done) {
			upstream_broken(c, XJK_CAUSE_PROTOCOL, "END_RESPONSE without headers");
			return 0;
		}
		if (ex->resp_left > 0) {
			upstream_broken(c, XJK_CAUSE_PROTOCOL, "body shorter than Content-Length");
			return 0;
		}
		xjk_buf_consume(&up->in, len);
		xjk_wstate_report(ex->backend, XJK_CAUSE_SUCCESS, NULL);
		finish_exchange(c, m->reuse);
		return 0;
	case XJK_AJP_CPONG:
		upstream_broken(c, XJK_CAUSE_PROTOCOL, "unexpected CPong");
		return 0;
	}
	xjk_buf_consume(&up->in, len);
	return 1;
}

/* Feeds the backend the body bytes it asked for. Returns 1 on progress, 0
 * when waiting for the client, -1 when the client's body is broken or gone. */
static int feed_body(struct xjk_client *c)
{
	struct exchange *ex = &c->ex;
	if (!ex->want)
		return 0;
	if (c->readable && !c->eof && xjk_buf_len(&c->in) < IN_PIPELINE_MAX &&
	    client_read(c, IN_PIPELINE_MAX) < 0)
		return -1;
	if (ex->body == BODY_CHUNKED && decode_chunked(c) < 0)
		return -1;
	if (send_body_packet(c, ex->want)) {
		ex->want = 0;
		return 1;
	}
	return c->eof ? -1 : 0;
}

/* True when the AJP message after the first LEN bytes of up->in is whole. */
static bool next_message_complete(const struct xjk_upstream *up, size_t len)
{
	const uint8_t *p = (const uint8_t *)xjk_buf_head(&up->in) + len;
	size_t avail = xjk_buf_len(&up->in) - len;
	return avail >= 4 && avail >= 4 + ((size_t)p[2] << 8 | p[3]);
}

/* Moves the request body and the response as far as the sockets allow, one
 * backend message at a time, and never reads the backend while the client
 * has OUT_HIGH_WATER bytes unsent: a download runs in bounded memory. */
static void exchange_pump(struct xjk_client *c)
{
	struct exchange *ex = &c->ex;
	struct xjk_http_header hdrs[128];
	bool got = false;
	while (ex->active && ex->up && ex->sent) {
		struct xjk_upstream *up = ex->up;
		int fed = feed_body(c);
		if (fed < 0) {
			/* The client broke its body: nothing sensible can follow. */
			client_close(c);
			return;
		}
		if (xjk_upstream_flush(up) < 0) {
			xjk_client_upstream_failed(c, XJK_CAUSE_RESET, "send failed");
			return;
		}
		if (xjk_buf_len(&c->out) >= OUT_HIGH_WATER) {
			if (client_flush(c) < 0 || xjk_buf_len(&c->out) >= OUT_HIGH_WATER)
				break; /* resumed by the client's EPOLLOUT */
		}
		struct xjk_ajp_msg m;
		int n = xjk_ajp_parse((const uint8_t *)xjk_buf_head(&up->in), xjk_buf_len(&up->in),
				      cur_backend(c)->max_packet_size, &m, hdrs, 128);
		if (n < 0) {
			upstream_broken(c, XJK_CAUSE_PROTOCOL, "malformed AJP message");
			return;
		}
		/* A response head waits until what follows it has arrived: if the
		 * backend dies in between, the client has seen nothing and an
		 * idempotent request can still go to another member. */
		if (n == 0 ||
		    (m.type == XJK_AJP_SEND_HEADERS && !next_message_complete(up, (size_t)n))) {
			int r = xjk_upstream_read(up);
			if (r < 0) {
				upstream_broken(c, XJK_CAUSE_RESET, "connection closed by backend");
				return;
			}
			if (r == 0 && fed == 0)
				break; /* nothing to do until an event */
			continue;
		}
		got = true;
		if (!upstream_message(c, &m, (size_t)n))
			break;
	}
	if (got && ex->active && ex->up)
		arm_reply_timer(c);
	if (c->io.fd >= 0)
		client_flush(c);
}

void xjk_client_upstream_io(struct xjk_client *c)
{
	exchange_pump(c);
	if (c->io.fd >= 0 && !c->ex.active && !c->closing)
		client_process(c);
}

void xjk_client_upstream_failed(struct xjk_client *c, int cause_int, const char *detail)
{
	enum xjk_cause cause = (enum xjk_cause)cause_int;
	struct exchange *ex = &c->ex;
	struct xjk_upstream *up = ex->up;
	bool received = up && (ex->head_done || xjk_buf_len(&up->in));
	bool stale = up && up->n_exchanges > 0 && !received && cause == XJK_CAUSE_RESET;
	if (up) {
		up->owner = NULL;
		xjk_upstream_close(up);
		ex->up = NULL;
		xjk_wstate_busy(ex->backend, -1);
	}
	if (stale && !ex->fresh_retry && (!ex->sent || idempotent(&c->req))) {
		/* A pooled connection the backend had already closed: try a new
		 * one to the same backend, which says nothing about its health. */
		ex->fresh_retry = true;
		connect_backend(c);
		return;
	}
	if (ex->backend >= 0 && cause != XJK_CAUSE_BUSY) {
		xjk_wstate_report(ex->backend, cause, detail);
		xjk_warn("worker %s: %s (%s %.*s)", cur_backend(c)->name, detail,
			 xjk_cause_name(cause), (int)c->req.target.len, c->req.target.p);
	}
	/* mod_jk's answers: a backend that cannot be reached is unavailable
	 * (503), one that answered wrongly is a bad gateway (502). */
	ex->fail_status = cause == XJK_CAUSE_TIMEOUT				  ? 504
			  : cause == XJK_CAUSE_BUSY || cause == XJK_CAUSE_CONNECT ? 503
										  : 502;
	/* A plain worker whose pool had no connection for a whole
	 * connection_acquire_timeout gets no second wait: 503, as mod_jk. */
	bool retry = !ex->head_done && ex->replayable && !(cause == XJK_CAUSE_BUSY && ex->lb < 0) &&
		     (!ex->sent || cause == XJK_CAUSE_CONNECT || cause == XJK_CAUSE_BUSY ||
		      idempotent(&c->req));
	if (retry) {
		if (ex->member >= 0)
			ex->failed |= 1ull << ex->member;
		start_attempt(c);
		return;
	}
	if (!ex->head_done) {
		respond_error(c, ex->fail_status, true);
		client_flush(c);
		return;
	}
	if (ex->resp_left == 0 && !ex->chunked_out) {
		/* Every byte the head announced was delivered: only END_RESPONSE
		 * is missing, and the client has its whole answer. */
		finish_exchange(c, false);
		if (client_flush(c) == 0 && !c->ex.active && !c->closing)
			client_process(c);
		return;
	}
	/* The response had started: all the client can learn is a cut-off. */
	client_close(c);
}

/* ---- the connection's main loop ---- */

static void on_client_timer(struct xjk_timer *t)
{
	struct xjk_client *c = container_of(t, struct xjk_client, timer);
	if (!c->ex.active && xjk_buf_len(&c->in) && !c->closing) {
		/* A request head that did not arrive in time. */
		char *w = xjk_buf_reserve(&c->out, 512);
		int n = w ? xjk_http_error_response(w, 512, 408, true) : -1;
		if (n > 0)
			xjk_buf_commit(&c->out, (size_t)n);
		c->closing = true;
		c->writable = true;
		client_flush(c);
		if (c->io.fd >= 0)
			client_close(c); /* it does not read either */
		return;
	}
	client_close(c);
}

/* Parses and starts requests until one is in flight or input runs out. */
static void client_process(struct xjk_client *c)
{
	const struct xjk_config *cfg = c->px->cfg;
	struct xjk_http_limits lim = {(uint32_t)cfg->max_header_size, (uint32_t)cfg->max_headers};
	for (;;) {
		if (c->io.fd < 0 || c->closing)
			return;
		if (c->ex.active) {
			/* Body bytes for the exchange, and a bounded read-ahead. A
			 * client that hangs up while its request waits for a pool
			 * slot leaves the queue: nothing of it reached a backend. */
			if (client_read(c, IN_PIPELINE_MAX) < 0 ||
			    (c->eof && xjk_upstream_waiting(&c->ex.wait)) ||
			    (c->eof && !c->ex.head_done && c->ex.body != BODY_NONE &&
			     xjk_buf_len(&c->in) == 0)) {
				client_close(c);
				return;
			}
			if (!c->ex.sent)
				send_request(c);
			if (c->ex.sent)
				exchange_pump(c);
			if (c->io.fd < 0 || c->ex.active)
				return;
			continue;
		}
		int status = 0;
		int rc = xjk_buf_len(&c->in)
				 ? xjk_http_parse_request(xjk_buf_head(&c->in), xjk_buf_len(&c->in),
							  &lim, c->hdrs, &c->req, &status)
				 : 0;
		if (rc > 0) {
			begin_request(c);
			if (c->io.fd >= 0)
				client_flush(c);
			continue;
		}
		if (rc < 0) {
			memset(&c->req, 0, sizeof(c->req));
			exchange_reset(&c->ex);
			c->ex.active = true;
			respond_error(c, status, true);
			client_flush(c);
			return;
		}
		if (c->eof) {
			client_close(c);
			return;
		}
		size_t before = xjk_buf_len(&c->in);
		if (!c->readable) {
			/* Idle between requests, or a head still on its way. */
			if (!xjk_timer_armed(&c->timer))
				xjk_timer_arm(c->px->loop, &c->timer,
					      (uint64_t)(before ? cfg->request_timeout_ms
								: cfg->keepalive_timeout_ms));
			return;
		}
		if (client_read(c, (size_t)cfg->max_header_size + 1) < 0) {
			client_close(c);
			return;
		}
		if (!before && xjk_buf_len(&c->in))
			xjk_timer_arm(c->px->loop, &c->timer, (uint64_t)cfg->request_timeout_ms);
	}
}

static void on_client_io(struct xjk_io *io, uint32_t events)
{
	struct xjk_client *c = container_of(io, struct xjk_client, io);
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->hup = true;
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		c->writable = true;
	if (events & EPOLLERR) {
		client_close(c);
		return;
	}
	if (client_flush(c) < 0)
		return;
	if (c->io.fd >= 0)
		client_process(c);
}

static void addr_text(const struct sockaddr_storage *ss, char *ip, size_t n, uint16_t *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip, (socklen_t)n);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, ip, (socklen_t)n);
		*port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, ip, (socklen_t)n);
		*port = ntohs(s4->sin_port);
	}
}

void xjk_client_accept(struct xjk_listener *l)
{
	struct xjk_proxy *px = l->px;
	const struct xjk_config *cfg = px->cfg;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(l->io.fd, (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				xjk_warn("accept on %s: %s", l->conf->text, strerror(errno));
			return;
		}
		struct xjk_client *c = calloc(1, sizeof(*c));
		char *head = malloc((size_t)cfg->max_header_size + 1);
		char *path = malloc((size_t)cfg->max_header_size + 1);
		struct xjk_http_header *hdrs = calloc((size_t)cfg->max_headers, sizeof(*hdrs));
		if (!c || !head || !path || !hdrs) {
			free(c);
			free(head);
			free(path);
			free(hdrs);
			close(fd);
			continue;
		}
		xjk_heaptrim_open();
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->io.fd = fd;
		c->io.fn = on_client_io;
		c->px = px;
		c->head = head;
		c->path = path;
		c->hdrs = hdrs;
		c->timer.fn = on_client_timer;
		exchange_reset(&c->ex);
		struct sockaddr_storage local;
		socklen_t llen = sizeof(local);
		getsockname(fd, (struct sockaddr *)&local, &llen);
		addr_text(&peer, c->peer_ip, sizeof(c->peer_ip), &c->peer_port);
		addr_text(&local, c->local_ip, sizeof(c->local_ip), &c->local_port);
		if (xjk_loop_watch(px->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) <
		    0) {
			client_free(c);
			close(fd);
			continue;
		}
		px->n_clients++;
		c->next = px->clients;
		if (c->next)
			c->next->prev = c;
		px->clients = c;
		c->readable = c->writable = true;
		xjk_timer_arm(px->loop, &c->timer, (uint64_t)cfg->request_timeout_ms);
		client_process(c);
	}
}
