/* proxy.c: sets up one event-loop thread's data path: its own SO_REUSEPORT
 * listening sockets, the hand-out of what they accept to the least busy loop,
 * its connection pools, and the access log buffer. */
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

/* A connection accepted on one loop, on its way to another. */
struct handoff {
	struct xjk_proxy *to;
	int fd;
	struct sockaddr_storage peer;
};

static void adopt_handoff(void *arg)
{
	struct handoff *h = arg;
	xjk_client_adopt(h->to, h->fd, &h->peer);
	free(h);
}

/* SO_REUSEPORT hashes connections over the loops' listeners: wrk's 32
 * keep-alive connections split 20/12 or 22/10 as often as 16/16, and the
 * busier loop's requests wait longer, which sets the p99. The loop with the
 * fewest open connections takes the next one instead; this one on a tie, so
 * a single loop never posts. */
static struct xjk_proxy *least_busy(struct xjk_proxy *px)
{
	struct xjk_proxy *best = px;
	for (int i = 0; i < px->n_peers; i++)
		if (px->peers[i]->n_clients < best->n_clients)
			best = px->peers[i];
	return best;
}

static void hand_out(struct xjk_proxy *px, int fd, const struct sockaddr_storage *peer)
{
	struct xjk_proxy *to = least_busy(px);
	to->n_clients++;
	if (to != px) {
		struct handoff *h = malloc(sizeof(*h));
		if (h) {
			*h = (struct handoff){.to = to, .fd = fd, .peer = *peer};
			if (!xjk_loop_post(to->loop, adopt_handoff, h))
				return;
			free(h);
		}
		to->n_clients--;
		px->n_clients++;
	}
	xjk_client_adopt(px, fd, peer);
}

static void on_listener(struct xjk_io *io, uint32_t events)
{
	(void)events;
	struct xjk_listener *l = container_of(io, struct xjk_listener, io);
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(io->fd, (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				xjk_warn("accept on %s: %s", l->conf->text, strerror(errno));
			return;
		}
		hand_out(l->px, fd, &peer);
	}
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
		    const struct xjk_config *cfg, const int *listen_fds,
		    struct xjk_proxy *const *peers, int n_peers)
{
	memset(px, 0, sizeof(*px));
	px->id = id;
	px->loop = loop;
	px->cfg = cfg;
	px->peers = peers;
	px->n_peers = n_peers;
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
