/* membership.c: the multicast listener and beacon relay on the event loop:
 * one socket per interface that joined the group, one unicast UDP socket for
 * relay peers, and a timer that expires silent members. */
#include "membership.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

/* Datagrams read per readiness event, so a flood on one socket cannot starve the loop. */
#define READ_BUDGET 64

/* One interface that joined the group: the membership interface is ports[0],
 * XjkRelayInterface ones follow. */
struct mport {
	struct xjk_io io;
	struct xjk_membership *ms;
	const char *ifname; /* points into the configuration */
	struct xjk_rate rate;
};

struct xjk_membership {
	struct xjk_loop *loop;
	const struct xjk_membership_config *cfg;
	xjk_member_fn on_change;
	void *ctx;

	struct xjk_member_table table;
	struct xjk_timer expiry;

	struct mport *ports; /* owned */
	int n_ports;
	struct xjk_io relay;	     /* fd -1 without XjkRelayListen */
	struct xjk_rate *peer_rates; /* owned, one per XjkRelayPeer */

	struct xjk_seen seen;
	struct xjk_membership_stats stats;
	uint8_t buf[XJK_TRIBES_MAX_DATAGRAM + 1];
};

/* Where a datagram came from: a port index, or FROM_PEER. */
#define FROM_PEER (-1)

static void report(void *ctx, const struct xjk_member *m, enum xjk_member_event ev)
{
	struct xjk_membership *ms = ctx;
	char uid[33];
	xjk_tribes_uid_str(m->uid, uid);
	xjk_log(ev == XJK_MEMBER_JOINED ? XJK_LOG_INFO : XJK_LOG_WARN,
		"membership: member %s uid %s %s (alive %lld ms, %s format%s%s)", m->addr, uid,
		xjk_member_event_name(ev), (long long)m->alive_ms,
		xjk_tribes_format_name(m->format), m->domain[0] ? ", domain " : "", m->domain);
	ms->on_change(ms->ctx, m, ev);
}

static void arm_expiry(struct xjk_membership *ms)
{
	uint64_t when, now = xjk_loop_now(ms->loop);
	if (xjk_timer_armed(&ms->expiry) ||
	    !xjk_membership_table_next_expiry(&ms->table, (uint64_t)ms->cfg->drop_ms, &when))
		return;
	xjk_timer_arm(ms->loop, &ms->expiry, when > now ? when - now : 0);
}

static void on_expiry(struct xjk_timer *timer)
{
	struct xjk_membership *ms = container_of(timer, struct xjk_membership, expiry);
	xjk_membership_table_expire(&ms->table, xjk_loop_now(ms->loop), (uint64_t)ms->cfg->drop_ms,
				    report, ms);
	arm_expiry(ms);
}

static void send_copy(struct xjk_membership *ms, int fd, struct xjk_rate *rate,
		      const struct sockaddr_in *to, const void *buf, size_t len)
{
	if (!xjk_membership_rate_take(rate, xjk_loop_now(ms->loop))) {
		ms->stats.rate_limited++;
		return;
	}
	if (sendto(fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0) {
		ms->stats.send_errors++;
		xjk_debug("membership: relay to %s:%u: %s", inet_ntoa(to->sin_addr),
			  ntohs(to->sin_port), strerror(errno));
		return;
	}
	ms->stats.relayed++;
}

/* Verbatim copies to every other interface, and to the peers when the
 * beacon was heard locally. What comes from a peer is never passed on to
 * other peers: relays form a full mesh, and split horizon keeps beacons from
 * circling through it. */
static void forward(struct xjk_membership *ms, const void *buf, size_t len, int from)
{
	const struct xjk_membership_config *cfg = ms->cfg;
	for (int i = 0; i < ms->n_ports; i++)
		if (i != from)
			send_copy(ms, ms->ports[i].io.fd, &ms->ports[i].rate, &cfg->group, buf,
				  len);
	if (from == FROM_PEER)
		return;
	for (int i = 0; i < cfg->n_relay_peers; i++)
		send_copy(ms, ms->relay.fd, &ms->peer_rates[i], &cfg->relay_peers[i], buf, len);
}

static void handle(struct xjk_membership *ms, size_t len, int from)
{
	struct xjk_tribes_beacon b;
	ms->stats.datagrams++;
	if (len > (size_t)ms->cfg->max_size) {
		ms->stats.oversized++;
		return;
	}
	switch (xjk_tribes_parse(ms->buf, len, &b)) {
	case XJK_TRIBES_OTHER:
		ms->stats.other++;
		return;
	case XJK_TRIBES_MALFORMED:
		ms->stats.malformed++;
		return;
	case XJK_TRIBES_OK:
		break;
	}
	if (!xjk_membership_accept(ms->cfg, &b)) {
		ms->stats.filtered++;
		return;
	}
	uint64_t now = xjk_loop_now(ms->loop);
	if (xjk_membership_seen(&ms->seen, ms->buf, len, now)) {
		ms->stats.echoes++;
		return;
	}
	ms->stats.beacons++;
	if (xjk_membership_table_update(&ms->table, &b, now, report, ms) < 0)
		xjk_error("membership: out of memory for a new member");
	arm_expiry(ms);
	forward(ms, ms->buf, len, from);
}

/* Reads one datagram into ms->buf; its real length (MSG_TRUNC tells even when
 * it did not fit), or -1 when there is nothing more to read. */
static ssize_t read_one(struct xjk_membership *ms, int fd, struct sockaddr_in *src)
{
	socklen_t srclen = sizeof(*src);
	ssize_t n =
		recvfrom(fd, ms->buf, sizeof(ms->buf), MSG_TRUNC, (struct sockaddr *)src, &srclen);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		xjk_warn("membership: recv: %s", strerror(errno));
	return n;
}

static void on_mcast(struct xjk_io *io, uint32_t events)
{
	(void)events;
	struct mport *p = container_of(io, struct mport, io);
	struct xjk_membership *ms = p->ms;
	struct sockaddr_in src;
	for (int i = 0; i < READ_BUDGET; i++) {
		ssize_t n = read_one(ms, io->fd, &src);
		if (n < 0)
			return;
		handle(ms, (size_t)n, (int)(p - ms->ports));
	}
}

static bool is_peer(const struct xjk_membership_config *cfg, const struct sockaddr_in *src)
{
	/* By address only: NAT may change the source port. */
	for (int i = 0; i < cfg->n_relay_peers; i++)
		if (cfg->relay_peers[i].sin_addr.s_addr == src->sin_addr.s_addr)
			return true;
	return false;
}

static void on_relay(struct xjk_io *io, uint32_t events)
{
	(void)events;
	struct xjk_membership *ms = container_of(io, struct xjk_membership, relay);
	struct sockaddr_in src;
	for (int i = 0; i < READ_BUDGET; i++) {
		ssize_t n = read_one(ms, io->fd, &src);
		if (n < 0)
			return;
		if (src.sin_family != AF_INET || !is_peer(ms->cfg, &src)) {
			ms->stats.peer_refused++;
			continue;
		}
		handle(ms, (size_t)n, FROM_PEER);
	}
}

static int set_opt(int fd, int level, int name, const void *val, socklen_t len, const char *what)
{
	if (setsockopt(fd, level, name, val, len) == 0)
		return 0;
	xjk_error("membership: %s: %s", what, strerror(errno));
	return -1;
}

/* A socket that receives the group only from IFNAME and sends to it there. */
static int open_mcast(const struct sockaddr_in *group, const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		xjk_error("membership: interface %s: %s", ifname, strerror(errno));
		return -1;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		xjk_error("membership: socket: %s", strerror(errno));
		return -1;
	}
	int one = 1, zero = 0;
	struct ip_mreqn mr = {.imr_multiaddr = group->sin_addr, .imr_ifindex = ifindex};
	/* SO_REUSEADDR: Tomcat and other listeners on this host share the
	 * port. Binding the group address keeps unicast to the port out.
	 * IP_MULTICAST_ALL off: without it Linux hands this socket the group's
	 * traffic from every interface where anyone joined it, and a relay
	 * could not tell where a beacon came from. */
	if (set_opt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one), "SO_REUSEADDR") < 0 ||
	    set_opt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero), "IP_MULTICAST_ALL") < 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)group, sizeof(*group)) < 0) {
		xjk_error("membership: bind %s:%u: %s", inet_ntoa(group->sin_addr),
			  ntohs(group->sin_port), strerror(errno));
		goto fail;
	}
	if (set_opt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr), "joining the group") < 0 ||
	    set_opt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr), "IP_MULTICAST_IF") < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static int open_relay(const struct sockaddr_in *listen)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		xjk_error("membership: socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)listen, sizeof(*listen)) < 0) {
		xjk_error("membership: XjkRelayListen %s:%u: %s", inet_ntoa(listen->sin_addr),
			  ntohs(listen->sin_port), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int watch(struct xjk_membership *ms, struct xjk_io *io, int fd, xjk_io_fn fn)
{
	io->fd = fd;
	io->fn = fn;
	int rc = xjk_loop_watch(ms->loop, io, EPOLLIN);
	if (rc == 0)
		return 0;
	xjk_error("membership: epoll: %s", strerror(-rc));
	return -1;
}

struct xjk_membership *xjk_membership_new(struct xjk_loop *loop,
					  const struct xjk_membership_config *cfg,
					  xjk_member_fn on_change, void *ctx)
{
	struct xjk_membership *ms = calloc(1, sizeof(*ms));
	if (!ms)
		return NULL;
	ms->loop = loop;
	ms->cfg = cfg;
	ms->on_change = on_change;
	ms->ctx = ctx;
	ms->expiry.fn = on_expiry;
	ms->relay.fd = -1;
	uint64_t now = xjk_loop_now(loop);

	ms->ports = calloc((size_t)cfg->n_relay_ifaces + 1, sizeof(*ms->ports));
	ms->peer_rates = calloc((size_t)cfg->n_relay_peers + 1, sizeof(*ms->peer_rates));
	if (!ms->ports || !ms->peer_rates)
		goto fail;
	for (int i = 0; i <= cfg->n_relay_ifaces; i++) {
		struct mport *p = &ms->ports[i];
		p->ms = ms;
		p->ifname = i ? cfg->relay_ifaces[i - 1] : cfg->ifname;
		xjk_membership_rate_init(&p->rate, cfg->relay_rate, now);
		int fd = open_mcast(&cfg->group, p->ifname);
		if (fd < 0)
			goto fail;
		ms->n_ports++;
		if (watch(ms, &p->io, fd, on_mcast) < 0)
			goto fail;
	}
	for (int i = 0; i < cfg->n_relay_peers; i++)
		xjk_membership_rate_init(&ms->peer_rates[i], cfg->relay_rate, now);
	if (cfg->has_relay_listen) {
		int fd = open_relay(&cfg->relay_listen);
		if (fd < 0 || watch(ms, &ms->relay, fd, on_relay) < 0) {
			ms->relay.fd = fd;
			goto fail;
		}
	}
	xjk_info("membership: listening to %s:%u on %s%s%s", inet_ntoa(cfg->group.sin_addr),
		 ntohs(cfg->group.sin_port), cfg->ifname, ms->n_ports > 1 ? ", relaying" : "",
		 cfg->n_relay_peers ? ", relay peers" : "");
	return ms;
fail:
	xjk_membership_free(ms);
	return NULL;
}

static void close_io(struct xjk_io *io)
{
	if (io->fd < 0)
		return;
	xjk_loop_unwatch(io);
	close(io->fd);
	io->fd = -1;
}

void xjk_membership_free(struct xjk_membership *ms)
{
	if (!ms)
		return;
	xjk_timer_cancel(ms->loop, &ms->expiry);
	for (int i = 0; i < ms->n_ports; i++)
		close_io(&ms->ports[i].io);
	close_io(&ms->relay);
	free(ms->ports);
	free(ms->peer_rates);
	xjk_membership_table_free(&ms->table);
	free(ms);
}

int xjk_membership_count(const struct xjk_membership *ms)
{
	return ms->table.n;
}

const struct xjk_member *xjk_membership_member(const struct xjk_membership *ms, int i)
{
	return &ms->table.v[i];
}

const struct xjk_membership_stats *xjk_membership_stats(const struct xjk_membership *ms)
{
	return &ms->stats;
}
