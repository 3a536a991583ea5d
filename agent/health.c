/* health.c: runs each backend's active check on the control loop with
 * non-blocking sockets: connect, then a CPing (kept on one persistent AJP
 * connection), an HTTP GET (one connection per check) or nothing (TCP). One
 * timer per backend is either the next check or the running check's deadline. */
#include "health.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "evloop.h"
#include "log.h"
#include "wstate.h"

#define REPLY_MAX 64 /* a CPong or an HTTP status line is all a check reads */

struct checker {
	struct xjk_health *h;
	int backend;
	const struct xjk_backend *be;
	struct xjk_health_params p;
	struct sockaddr_storage addr; /* the backend's, with the check's port */
	socklen_t addrlen;

	struct xjk_io io;	/* fd -1 without a connection */
	struct xjk_timer timer; /* next check, or the running one's deadline */
	bool running, connecting;
	uint64_t started;
	char req[XJK_HEALTH_PATH_MAX + 320];
	size_t req_len, req_sent;
	char in[REPLY_MAX];
	size_t in_len;
	struct xjk_health_count count;
};

struct xjk_health {
	struct xjk_loop *loop;
	struct checker *checkers;
	int n;
	uint32_t rnd; /* xorshift state for jitter */
};

static uint32_t next_rnd(struct xjk_health *h)
{
	uint32_t x = h->rnd;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return h->rnd = x;
}

static void conn_close(struct checker *k)
{
	if (k->io.fd < 0)
		return;
	xjk_loop_unwatch(&k->io);
	close(k->io.fd);
	k->io.fd = -1;
	k->connecting = false;
}

/* Schedules the next check: one interval (with jitter) after the start of the
 * last, or at once when the last one took longer than that. */
static void schedule(struct checker *k)
{
	uint64_t now = xjk_loop_now(k->h->loop);
	uint64_t due = k->started + xjk_health_delay(&k->p, next_rnd(k->h));
	xjk_timer_arm(k->h->loop, &k->timer, due > now ? due - now : 0);
}

static void finish(struct checker *k, bool pass, const char *detail)
{
	k->running = false;
	if (k->p.type != XJK_HEALTH_AJP || !pass)
		conn_close(k);
	else if (k->io.fd >= 0)
		/* Idle between CPings: only a hang-up is news. */
		xjk_loop_watch(k->h->loop, &k->io, EPOLLIN | EPOLLRDHUP);
	if (!pass)
		xjk_debug("worker %s: health check failed: %s", k->be->name, detail);
	switch (xjk_health_record(&k->count, &k->p, pass, xjk_wstate_state(k->backend))) {
	case XJK_HEALTH_DOWN:
		xjk_wstate_set_down(k->backend, true, XJK_CAUSE_HEALTH, detail);
		break;
	case XJK_HEALTH_UP:
		xjk_wstate_set_down(k->backend, false, XJK_CAUSE_HEALTH, "check passed");
		break;
	case XJK_HEALTH_KEEP:
		break;
	}
	schedule(k);
}

static void fail_errno(struct checker *k, const char *what, int err)
{
	char detail[96];
	snprintf(detail, sizeof(detail), "%s: %s", what, strerror(err));
	finish(k, false, detail);
}

/* Sends what is left of the request; false when the check already failed. */
static bool send_request(struct checker *k)
{
	while (k->req_sent < k->req_len) {
		ssize_t n = send(k->io.fd, k->req + k->req_sent, k->req_len - k->req_sent,
				 MSG_NOSIGNAL);
		if (n > 0) {
			k->req_sent += (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			xjk_loop_watch(k->h->loop, &k->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
			return true;
		} else if (!(n < 0 && errno == EINTR)) {
			fail_errno(k, "send", n < 0 ? errno : EPIPE);
			return false;
		}
	}
	xjk_loop_watch(k->h->loop, &k->io, EPOLLIN | EPOLLRDHUP);
	return true;
}

static void build_request(struct checker *k)
{
	static const uint8_t cping[] = {0x12, 0x34, 0x00, 0x01, 0x0a};
	k->req_sent = 0;
	k->in_len = 0;
	if (k->p.type == XJK_HEALTH_AJP) {
		memcpy(k->req, cping, sizeof(cping));
		k->req_len = sizeof(cping);
	} else if (k->p.type == XJK_HEALTH_HTTP) {
		int n = snprintf(k->req, sizeof(k->req),
				 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: xjk-health\r\n"
				 "Connection: close\r\n\r\n",
				 k->p.path, k->be->host);
		k->req_len = n > 0 && (size_t)n < sizeof(k->req) ? (size_t)n : 0;
	} else {
		k->req_len = 0;
	}
}

/* The connection is up: a TCP check passed, the others send their request. */
static void connected(struct checker *k)
{
	k->connecting = false;
	if (k->p.type == XJK_HEALTH_TCP) {
		finish(k, true, NULL);
		return;
	}
	send_request(k);
}

static void read_reply(struct checker *k, uint32_t events)
{
	for (;;) {
		ssize_t n = recv(k->io.fd, k->in + k->in_len, sizeof(k->in) - k->in_len, 0);
		if (n > 0) {
			k->in_len += (size_t)n;
			int status = 0;
			int v = k->p.type == XJK_HEALTH_AJP
					? xjk_health_ajp_reply((const uint8_t *)k->in, k->in_len)
					: xjk_health_http_reply(k->in, k->in_len, k->p.expect,
								&status);
			if (v > 0) {
				finish(k, true, NULL);
			} else if (v < 0) {
				char detail[64];
				if (status)
					snprintf(detail, sizeof(detail), "status %d", status);
				else
					snprintf(detail, sizeof(detail), "unexpected %s reply",
						 k->p.type == XJK_HEALTH_AJP ? "CPing" : "HTTP");
				finish(k, false, detail);
			} else if (k->in_len < sizeof(k->in)) {
				continue;
			} else {
				finish(k, false, "reply too long");
			}
			return;
		}
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			fail_errno(k, "closed before the reply", n == 0 ? ECONNRESET : errno);
			return;
		}
		if (n < 0 && errno == EAGAIN) {
			if (events & (EPOLLHUP | EPOLLERR))
				fail_errno(k, "connection", ECONNRESET);
			return;
		}
	}
}

static void on_io(struct xjk_io *io, uint32_t events)
{
	struct checker *k = container_of(io, struct checker, io);
	if (!k->running) {
		/* The idle CPing connection was closed or sent something
		 * unasked: drop it and check at once on a new one. Not from
		 * here: an event still queued for the old fd in this turn must
		 * not reach the new one, and timers run after the turn's events. */
		conn_close(k);
		xjk_timer_arm(k->h->loop, &k->timer, 0);
		return;
	}
	if (k->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			fail_errno(k, "connect", err ? err : ECONNREFUSED);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		connected(k);
		return;
	}
	if ((events & EPOLLOUT) && k->req_sent < k->req_len && !send_request(k))
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		read_reply(k, events);
}

static void start_connect(struct checker *k)
{
	int fd = socket(k->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail_errno(k, "socket", errno);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&k->addr, k->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		int err = errno;
		close(fd);
		fail_errno(k, "connect", err);
		return;
	}
	k->io.fd = fd;
	k->connecting = true;
	int rc = xjk_loop_watch(k->h->loop, &k->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	if (rc < 0) {
		conn_close(k);
		fail_errno(k, "epoll", -rc);
	}
}

static void on_timer(struct xjk_timer *t)
{
	struct checker *k = container_of(t, struct checker, timer);
	if (k->running) {
		char detail[64];
		snprintf(detail, sizeof(detail), "%s after %d ms",
			 k->connecting		       ? "connect timeout"
			 : k->p.type == XJK_HEALTH_AJP ? "no CPong"
						       : "no HTTP reply",
			 k->p.timeout_ms);
		finish(k, false, detail);
		return;
	}
	k->running = true;
	k->started = xjk_loop_now(k->h->loop);
	xjk_timer_arm(k->h->loop, &k->timer, (uint64_t)k->p.timeout_ms);
	build_request(k);
	if (k->io.fd >= 0)
		send_request(k); /* the persistent CPing connection */
	else
		start_connect(k);
}

static void checker_init(struct xjk_health *h, struct checker *k, const struct xjk_config *cfg,
			 int b)
{
	k->h = h;
	k->backend = b;
	k->be = &cfg->workers.backends[b];
	xjk_health_params_for(&cfg->health, &cfg->workers, b, &k->p);
	k->addr = k->be->addr;
	k->addrlen = k->be->addrlen;
	if (k->p.port) {
		uint16_t port = htons((uint16_t)k->p.port);
		if (k->addr.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&k->addr)->sin6_port = port;
		else
			((struct sockaddr_in *)&k->addr)->sin_port = port;
	}
	k->io.fd = -1;
	k->io.fn = on_io;
	k->timer.fn = on_timer;
}

struct xjk_health *xjk_health_start(struct xjk_loop *loop, const struct xjk_config *cfg)
{
	const struct xjk_workers *w = &cfg->workers;
	struct xjk_health *h = calloc(1, sizeof(*h));
	struct checker *k = calloc((size_t)w->n_backends + 1, sizeof(*k));
	if (!h || !k) {
		free(h);
		free(k);
		errno = ENOMEM;
		return NULL;
	}
	h->loop = loop;
	h->checkers = k;
	h->rnd = (uint32_t)xjk_clock_ms() | 1;
	for (int b = 0; b < w->n_backends; b++) {
		struct checker *c = &h->checkers[h->n];
		checker_init(h, c, cfg, b);
		if (c->p.type == XJK_HEALTH_OFF)
			continue;
		xjk_info("worker %s: %s health check every %d ms, timeout %d ms, rise %d, fall %d",
			 c->be->name, xjk_health_type_name(c->p.type), c->p.interval_ms,
			 c->p.timeout_ms, c->p.rise, c->p.fall);
		/* Spread the first checks over one interval. */
		xjk_timer_arm(loop, &c->timer, next_rnd(h) % (uint64_t)c->p.interval_ms);
		h->n++;
	}
	if (!h->n) {
		free(h->checkers);
		free(h);
		errno = 0;
		return NULL;
	}
	return h;
}

void xjk_health_stop(struct xjk_health *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->n; i++) {
		xjk_timer_cancel(h->loop, &h->checkers[i].timer);
		conn_close(&h->checkers[i]);
	}
	free(h->checkers);
	free(h);
}
