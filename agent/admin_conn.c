/* admin_conn.c: connections that carry one request and one answer (the admin
 * HTTP listener, the control socket), on the control loop: non-blocking
 * reads until the handler has its request, non-blocking writes of the
 * answer, then close. A slow or silent client is cut off by a timer, so no
 * client can hold the control loop or pile up connections. */
#include "admin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define CONN_TIMEOUT_MS 10000
#define CONN_MAX	64
#define RETRY_MS	1000

struct xjk_admin_conn {
	struct xjk_io io;
	struct xjk_timer timer;
	struct xjk_admin_server *srv;
	struct xjk_buf in, out;
	bool answered;
	struct xjk_admin_conn *prev, *next;
};

static void conn_free(void *arg)
{
	struct xjk_admin_conn *c = arg;
	xjk_buf_free(&c->in);
	xjk_buf_free(&c->out);
	free(c);
}

static void conn_close(struct xjk_admin_conn *c)
{
	struct xjk_admin_server *srv = c->srv;
	xjk_loop_unwatch(&c->io);
	xjk_timer_cancel(srv->loop, &c->timer);
	close(c->io.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->n_conns--;
	/* an event of this turn may still name it */
	xjk_loop_defer(srv->loop, conn_free, c);
}

static void conn_write(struct xjk_admin_conn *c)
{
	while (xjk_buf_len(&c->out)) {
		ssize_t n =
			send(c->io.fd, xjk_buf_head(&c->out), xjk_buf_len(&c->out), MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		xjk_buf_consume(&c->out, (size_t)n);
	}
	conn_close(c);
}

static void conn_read(struct xjk_admin_conn *c)
{
	for (;;) {
		char *w = xjk_buf_reserve(&c->in, 4096);
		if (!w) {
			conn_close(c);
			return;
		}
		ssize_t n = recv(c->io.fd, w, 4096, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0 || xjk_buf_len(&c->in) + (size_t)n > c->srv->max_request) {
			conn_close(c);
			return;
		}
		xjk_buf_commit(&c->in, (size_t)n);
		if (c->srv->handle(c->srv, xjk_buf_head(&c->in), xjk_buf_len(&c->in), &c->out)) {
			c->answered = true;
			xjk_loop_watch(c->srv->loop, &c->io, EPOLLOUT);
			conn_write(c);
			return;
		}
	}
}

static void on_conn(struct xjk_io *io, uint32_t events)
{
	struct xjk_admin_conn *c = container_of(io, struct xjk_admin_conn, io);
	if (c->answered)
		conn_write(c);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(c);
}

static void on_timeout(struct xjk_timer *t)
{
	conn_close(container_of(t, struct xjk_admin_conn, timer));
}

static void on_accept(struct xjk_io *io, uint32_t events)
{
	(void)events;
	struct xjk_admin_server *srv = container_of(io, struct xjk_admin_server, io);
	for (;;) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				xjk_warn("admin: accept: %s", strerror(errno));
			return;
		}
		struct xjk_admin_conn *c = srv->n_conns < CONN_MAX ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		c->srv = srv;
		c->io.fd = fd;
		c->io.fn = on_conn;
		c->timer.fn = on_timeout;
		if (xjk_loop_watch(srv->loop, &c->io, EPOLLIN) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = srv->conns;
		if (srv->conns)
			srv->conns->prev = c;
		srv->conns = c;
		srv->n_conns++;
		xjk_timer_arm(srv->loop, &c->timer, CONN_TIMEOUT_MS);
	}
}

/* Serves FD, or -errno from the open function. 1 when the address is in
 * use (retried), 0 when listening, or -errno. */
static int take(struct xjk_admin_server *srv, int fd)
{
	if (fd == -EADDRINUSE) {
		xjk_timer_arm(srv->loop, &srv->retry, RETRY_MS);
		return 1;
	}
	if (fd < 0)
		return fd;
	srv->io.fd = fd;
	int rc = xjk_loop_watch(srv->loop, &srv->io, EPOLLIN);
	if (rc < 0) {
		close(fd);
		srv->io.fd = -1;
		return rc;
	}
	xjk_info("%s: listening", srv->what);
	return 0;
}

static void on_retry(struct xjk_timer *t)
{
	struct xjk_admin_server *srv = container_of(t, struct xjk_admin_server, retry);
	int rc = take(srv, srv->open(srv));
	if (rc < 0)
		xjk_error("%s: %s", srv->what, strerror(-rc));
}

int xjk_admin_server_start(struct xjk_admin_server *srv, struct xjk_loop *loop,
			   xjk_admin_open_fn open, xjk_admin_handler handle, size_t max_request,
			   const char *what)
{
	*srv = (struct xjk_admin_server){
		.io = {.fd = -1, .fn = on_accept},
		.loop = loop,
		.open = open,
		.handle = handle,
		.max_request = max_request,
		.what = what,
		.retry = {.fn = on_retry},
	};
	int rc = take(srv, open(srv));
	if (rc == 1)
		xjk_warn("%s: address in use; trying again every second", what);
	return rc < 0 ? rc : 0;
}

void xjk_admin_server_stop(struct xjk_admin_server *srv)
{
	while (srv->conns)
		conn_close(srv->conns);
	xjk_timer_cancel(srv->loop, &srv->retry);
	if (srv->io.fd >= 0) {
		xjk_loop_unwatch(&srv->io);
		close(srv->io.fd);
	}
}
