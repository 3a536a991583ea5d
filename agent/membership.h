/* membership.h: Tomcat cluster membership seen from the outside: a passive
 * listener for Tribes multicast beacons, the member table it keeps, and a relay
 * that forwards beacons verbatim between interfaces and to xjk agents on other
 * hosts. The agent never sends beacons of its own (docs/membership.md).
 *
 * Three parts, one header:
 *   membership_conf.c   the Xjk* directives and the member -> worker mapping
 *   membership_table.c  pure logic with an injected clock: members, echo
 *                       suppression, rate limits
 *   membership.c        sockets on the event loop
 *   membership_failover.c  members driving worker states (xjkd only) */
#ifndef XJK_MEMBERSHIP_H
#define XJK_MEMBERSHIP_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evloop.h"
#include "tribes.h"
#include "worker.h"

#define XJK_MEMBERSHIP_DROP_MS	  3000 /* Tomcat's McastService dropTime */
#define XJK_MEMBERSHIP_MAX_SIZE	  4096 /* largest datagram taken for a beacon */
#define XJK_MEMBERSHIP_RELAY_RATE 100  /* beacons per second per relay output */

/* ---- configuration (membership_conf.c) ---- */

struct xjk_cidr {
	uint8_t addr[XJK_TRIBES_HOST_MAX]; /* network order, host bits cleared */
	uint8_t len;			   /* 4 or 16 */
	uint8_t prefix;
};

/* XjkMemberWorker: the Receiver HOST:PORT of a member stands for WORKER. */
struct xjk_member_map {
	uint8_t host[XJK_TRIBES_HOST_MAX];
	uint8_t host_len;
	int32_t port;
	char worker[XJK_NAME_MAX];
};

struct xjk_membership_config {
	bool enabled; /* an XjkMembership directive was given */
	struct sockaddr_in group;
	char ifname[IF_NAMESIZE];
	int drop_ms;
	int max_size;
	struct xjk_cidr *allow; /* owned; none = every sender */
	int n_allow;
	char *domain; /* owned; NULL = any domain */

	struct xjk_member_map *maps; /* owned */
	int n_maps;

	char (*relay_ifaces)[IF_NAMESIZE]; /* owned */
	int n_relay_ifaces;
	bool has_relay_listen;
	struct sockaddr_in relay_listen;
	struct sockaddr_in *relay_peers; /* owned */
	int n_relay_peers;
	int relay_rate;
};

void xjk_membership_config_init(struct xjk_membership_config *mc);
void xjk_membership_config_free(struct xjk_membership_config *mc);

/* Applies directive NAME (XjkMembership, XjkMemberWorker, XjkRelayInterface,
 * XjkRelayListen, XjkRelayPeer, XjkRelayRate; any case) with its ARGC
 * arguments. Returns 0, 1 when NAME is not a membership directive, or -1 with
 * a message in ERR. */
int xjk_membership_directive(struct xjk_membership_config *mc, const char *name, int argc,
			     char **argv, char *err, size_t errlen);

/* Checks what single directives cannot: relay settings without
 * XjkMembership, peers without XjkRelayListen, mappings to unknown workers
 * (WORKERS may be NULL to skip that). 0, or -1 with a message in ERR. */
int xjk_membership_config_check(const struct xjk_membership_config *mc,
				const struct xjk_workers *workers, char *err, size_t errlen);

/* ---- members (membership_table.c) ---- */

struct xjk_member {
	/* identity, as Tomcat's MemberImpl.equals */
	uint8_t host[XJK_TRIBES_HOST_MAX];
	uint8_t host_len;
	int32_t port;
	uint8_t uid[XJK_TRIBES_UID_LEN];

	enum xjk_tribes_format format;
	int64_t alive_ms;	/* the member's own uptime, from its latest beacon */
	uint64_t first_seen_ms; /* loop clock */
	uint64_t last_seen_ms;
	uint64_t beacons;
	char domain[XJK_NAME_MAX];	   /* truncated, for display */
	char addr[XJK_TRIBES_ADDR_STRLEN]; /* "host:port", for display */
};

enum xjk_member_event {
	XJK_MEMBER_JOINED,    /* the first beacon of a new identity */
	XJK_MEMBER_EXPIRED,   /* silent for more than dropTime */
	XJK_MEMBER_SHUTDOWN,  /* sent the shutdown command */
	XJK_MEMBER_RESTARTED, /* a new uniqueId took its host:port */
};

/* "joined", "expired", "shutdown", "restarted". */
const char *xjk_member_event_name(enum xjk_member_event ev);

/* Called when M joined, or is about to be removed for the other events; M is
 * valid only during the call. Exactly one "gone" event follows each join,
 * except when the whole membership is freed. */
typedef void (*xjk_member_fn)(void *ctx, const struct xjk_member *m, enum xjk_member_event ev);

struct xjk_member_table {
	struct xjk_member *v; /* owned */
	int n;
	int cap;
};

/* Applies beacon B heard at NOW: adds, refreshes, or removes on shutdown. A
 * new uniqueId at a known host:port is a restart: the old member goes first.
 * 0, or -ENOMEM (the table is unchanged then). */
int xjk_membership_table_update(struct xjk_member_table *t, const struct xjk_tribes_beacon *b,
				uint64_t now, xjk_member_fn fn, void *ctx);
/* Removes members not heard from for more than DROP_MS, as Tomcat does. */
void xjk_membership_table_expire(struct xjk_member_table *t, uint64_t now, uint64_t drop_ms,
				 xjk_member_fn fn, void *ctx);
/* When the next member would expire; false when the table is empty. */
bool xjk_membership_table_next_expiry(const struct xjk_member_table *t, uint64_t drop_ms,
				      uint64_t *when);
void xjk_membership_table_free(struct xjk_member_table *t);

/* Recently handled datagrams, by digest: a relayed beacon comes back as an
 * echo (multicast loopback, another relay on the segment), and forwarding it
 * again would loop. Tomcat patches the alive time into every beacon, so two
 * genuine beacons never share a digest. Direct-mapped, so a lookup costs one
 * slot whatever the rate: a colliding beacon evicts an entry, and the evicted
 * beacon's echo is then forwarded once more, after which its own echo is
 * caught. */
#define XJK_MEMBERSHIP_SEEN_SLOTS  4096 /* a power of two */
#define XJK_MEMBERSHIP_SEEN_WINDOW 5000 /* ms */
struct xjk_seen {
	uint64_t digest[XJK_MEMBERSHIP_SEEN_SLOTS];
	uint64_t when[XJK_MEMBERSHIP_SEEN_SLOTS]; /* 0 = empty */
};
/* True when BUF was seen within the window; otherwise records it at NOW. */
bool xjk_membership_seen(struct xjk_seen *s, const void *buf, size_t len, uint64_t now);

/* A token bucket of RATE per second with a burst of one second's worth. */
struct xjk_rate {
	int rate;
	double tokens;
	uint64_t last_ms;
};
void xjk_membership_rate_init(struct xjk_rate *r, int rate, uint64_t now);
/* True when one unit may pass at NOW (and takes it). */
bool xjk_membership_rate_take(struct xjk_rate *r, uint64_t now);

/* True when the beacon passes the configured allow-list and domain filter. */
bool xjk_membership_accept(const struct xjk_membership_config *mc,
			   const struct xjk_tribes_beacon *b);

/* ---- mapping to workers (membership_conf.c) ---- */

/* The backends (indices into WORKERS->backends) member M stands for, at most
 * MAX of them into OUT; returns how many. XjkMemberWorker lines for M's host
 * decide alone when there are any; otherwise every ajp13/http backend whose
 * resolved address is M's host matches. */
int xjk_membership_workers(const struct xjk_membership_config *mc,
			   const struct xjk_workers *workers, const struct xjk_member *m, int *out,
			   int max);

/* ---- failover control (membership_failover.c) ---- */

struct xjk_config;

/* The xjk_member_fn xjkd uses, with CTX the loaded struct xjk_config: when a
 * member leaves (expired, shutdown, restarted) the workers it stands for go
 * down (ERR, cause "membership"); when it joins they may recover (ERR/REC),
 * and the health checks or a probe request bring them back. */
void xjk_membership_failover(void *ctx, const struct xjk_member *m, enum xjk_member_event ev);

/* ---- the listener and relay (membership.c) ---- */

struct xjk_membership_stats {
	uint64_t datagrams; /* every datagram read */
	uint64_t beacons;   /* valid beacons taken into the table */
	uint64_t other;	    /* not a beacon (Tribes channel broadcasts) */
	uint64_t malformed;
	uint64_t oversized;
	uint64_t filtered;     /* refused by allow-list or domain */
	uint64_t echoes;       /* already seen: relay echoes and loops */
	uint64_t peer_refused; /* relay datagrams from hosts that are no peer */
	uint64_t relayed;      /* copies sent */
	uint64_t rate_limited; /* copies not sent because of XjkRelayRate */
	uint64_t send_errors;
};

struct xjk_membership;

/* Joins the group on the configured interfaces and opens the relay socket.
 * CFG must outlive the returned object. NULL on failure (logged). */
struct xjk_membership *xjk_membership_new(struct xjk_loop *loop,
					  const struct xjk_membership_config *cfg,
					  xjk_member_fn on_change, void *ctx);
/* Leaves the group without reporting members as gone. */
void xjk_membership_free(struct xjk_membership *ms);

/* For status output: member I (0 <= I < count), in no particular order. */
int xjk_membership_count(const struct xjk_membership *ms);
const struct xjk_member *xjk_membership_member(const struct xjk_membership *ms, int i);
const struct xjk_membership_stats *xjk_membership_stats(const struct xjk_membership *ms);

#endif
