/* proxy.c: sets up one event-loop thread's data path: its own SO_REUSEPORT
 * listening sockets (the kernel spreads connections over the threads), its
 * connection pools, and the access log buffer. */
#include "proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "splice.h"

static void on_listener(struct xjk_io *io, uint32_t events)
{
	(void)events;
	xjk_client_accept(container_of(io, struct xjk_listener, io));
}

static void on_tick(struct xjk_timer *t)
{
	struct xjk_proxy *px = container_of(t, struct xjk_proxy, tick);
	xjk_access_flush(px);
	xjk_timer_arm(px->loop, &px->tick, 1000);
}

int xjk_listen_open(const struct xjk_listen *l)
{
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) < 0 || listen(fd, 4096) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int xjk_proxy_start(struct xjk_proxy *px, int id, struct xjk_loop *loop,
		    const struct xjk_config *cfg, const int *listen_fds)
{
	memset(px, 0, sizeof(*px));
	px->id = id;
	px->loop = loop;
	px->cfg = cfg;
	px->access_fd = -1;
	px->started = (uint64_t)time(NULL);
	px->pools = calloc((size_t)cfg->workers.n_backends + 1, sizeof(*px->pools));
	px->listeners = calloc((size_t)cfg->n_listens + 1, sizeof(*px->listeners));
	if (!px->pools || !px->listeners)
		return -ENOMEM;
	int threads = cfg->threads > 0 ? cfg->threads : 1;
	for (int i = 0; i < cfg->workers.n_backends; i++)
		xjk_upstream_pool_init(px, i, threads);
	if (cfg->access_log) {
		px->access_fd =
			open(cfg->access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (px->access_fd < 0)
			return -errno;
	}
	for (int i = 0; i < cfg->n_listens; i++) {
		struct xjk_listener *l = &px->listeners[i];
		l->io.fd = listen_fds[i];
		l->io.fn = on_listener;
		l->px = px;
		l->conf = &cfg->listens[i];
		px->n_listeners++;
		int rc = xjk_loop_watch(loop, &l->io, EPOLLIN);
		if (rc < 0)
			return rc;
	}
	px->tick.fn = on_tick;
	xjk_timer_arm(loop, &px->tick, 1000);
	return 0;
}

static void close_listeners(struct xjk_proxy *px)
{
	for (int i = 0; i < px->n_listeners; i++) {
		xjk_loop_unwatch(&px->listeners[i].io);
		close(px->listeners[i].io.fd);
	}
	px->n_listeners = 0;
}

void xjk_proxy_drain(struct xjk_proxy *px)
{
	/* A reload's new process holds the same listening sockets, so closing
	 * ours loses nothing from their accept queues. */
	close_listeners(px);
	px->draining = true;
	xjk_clients_drain(px);
	xjk_splice_drain(px);
}

void xjk_proxy_stop(struct xjk_proxy *px)
{
	close_listeners(px);
	xjk_access_flush(px);
	if (px->access_fd >= 0)
		close(px->access_fd);
	xjk_buf_free(&px->access);
	free(px->listeners);
	px->listeners = NULL;
}
