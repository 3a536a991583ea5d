/* admin.h: operating a running xjkd, as jkstatus and HAProxy's stats page do:
 * a model of what is running (workers, lbs, cluster members, pinned BPF
 * maps), its renderings, the runtime actions, and the admin HTTP listener.
 *
 *   admin_model.c   gathers the model from wstate, membership and bpffs
 *   admin_render.c  JSON, Prometheus text and plain text (xjkctl)
 *   admin_html.c    the self-contained HTML status page
 *   admin_action.c  the actions, shared by the page and the control socket
 *   admin_conn.c    one-request connections on the control loop
 *   admin.c         the HTTP listener (GET /, /status.json, /metrics; POST /action)
 *
 * Everything runs on the control loop; nothing here blocks it. */
#ifndef XJK_ADMIN_H
#define XJK_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "evloop.h"
#include "wstate.h"
#include "xjk_bpf.h"

struct xjk_membership;
struct xjk_membership_config;

/* What the model reads; owned by main.c, which fills in the parts it runs. */
struct xjk_admin_src {
	const struct xjk_config *cfg;
	const struct xjk_membership *membership; /* NULL: no cluster membership */
	const struct xjk_membership_config *membership_conf;
	const char *bpf_dir; /* where maps are pinned (XJK_BPF_PIN_DIR) */
	uint64_t start_s;    /* wall clock at start, for uptime */
};

/* ---- the model (admin_model.c) ---- */

struct xjk_admin_backend {
	const struct xjk_backend *conf;
	enum xjk_worker_state state;
	enum xjk_activation activation;
	int lbfactor; /* runtime value */
	struct xjk_backend_stats stats;
};

struct xjk_admin_member {
	int backend; /* index into model backends */
	uint32_t lb_mult;
	uint64_t lb_value;
	char routed_to[XJK_NAME_MAX]; /* route of the member that serves this one's sessions now */
};

struct xjk_admin_lb {
	const struct xjk_lb *conf;
	struct xjk_admin_member *members; /* conf->n_members of them; owned */
	int good, degraded, bad;	  /* jkstatus' rating of the members */
};

/* A Tomcat cluster member, with the backends it stands for. */
struct xjk_admin_peer {
	char addr[64];
	char domain[XJK_NAME_MAX];
	const char *format;
	int64_t alive_ms;
	uint64_t last_seen_ms_ago;
	uint64_t beacons;
	char workers[256]; /* comma-separated backend names */
};

/* A pinned BPF map, summarised without knowing its layout. */
struct xjk_admin_map {
	char name[64];
	const char *type;
	uint32_t key_size, value_size, max_entries;
	int64_t entries; /* hash maps: counted up to XJK_ADMIN_MAP_COUNT_MAX; -1 for arrays */
};

#define XJK_ADMIN_MAP_COUNT_MAX 100000 /* keeps a status request short on a full flow table */
#define XJK_ADMIN_MAPS_MAX	32

struct xjk_admin_model {
	uint64_t now_s, uptime_s;
	struct xjk_admin_backend *backends; /* one per configured backend; owned */
	int n_backends;
	struct xjk_admin_lb *lbs; /* owned */
	int n_lbs;

	bool membership;
	struct xjk_admin_peer *peers; /* owned */
	int n_peers;
	uint64_t beacons, malformed, filtered; /* listener counters */

	struct xjk_admin_map maps[XJK_ADMIN_MAPS_MAX];
	int n_maps; /* 0: nothing pinned */
	bool has_verdicts;
	uint64_t verdicts[XJK_L4_NR_REASONS]; /* xjk_counters summed over CPUs */
};

/* A worker's or cluster member's columns, in the one order every rendering uses. */
#define XJK_ADMIN_WORKER_FIELDS 19
struct xjk_admin_field {
	const char *key;   /* JSON name */
	const char *label; /* column heading */
	bool number;	   /* VALUE is a decimal number */
	char value[260];
};
void xjk_admin_worker_fields(const struct xjk_admin_backend *b,
			     struct xjk_admin_field f[XJK_ADMIN_WORKER_FIELDS]);
#define XJK_ADMIN_PEER_FIELDS 7
void xjk_admin_peer_fields(const struct xjk_admin_peer *p,
			   struct xjk_admin_field f[XJK_ADMIN_PEER_FIELDS]);

/* 0, or -1 when out of memory (M is then empty). */
int xjk_admin_model_build(const struct xjk_admin_src *src, struct xjk_admin_model *m);
void xjk_admin_model_free(struct xjk_admin_model *m);
/* Names of the XDP verdict counters, in xjk_counters order. */
extern const char *const xjk_admin_verdict_names[XJK_L4_NR_REASONS];

/* ---- renderings (admin_render.c, admin_html.c); each appends to OUT, 0 or -1 ---- */

/* printf onto the end of OUT. */
int xjk_admin_printf(struct xjk_buf *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int xjk_admin_render_json(const struct xjk_admin_model *m, struct xjk_buf *out);
int xjk_admin_render_metrics(const struct xjk_admin_model *m, struct xjk_buf *out);

enum xjk_admin_text {
	XJK_ADMIN_TEXT_STATUS,	/* lbs, workers, maps */
	XJK_ADMIN_TEXT_MEMBERS, /* cluster members */
};
int xjk_admin_render_text(const struct xjk_admin_model *m, enum xjk_admin_text what,
			  struct xjk_buf *out);

/* The page. NOTICE (may be NULL) is shown at the top; WRITABLE says whether
 * the action forms are offered; NEEDS_TOKEN adds the token field. */
struct xjk_admin_page {
	const char *notice;
	bool writable;
	bool needs_token;
};
int xjk_admin_render_html(const struct xjk_admin_model *m, const struct xjk_admin_page *page,
			  struct xjk_buf *out);

/* ---- actions (admin_action.c) ---- */

/* Applies VERB to backend NAME: enable|disable|stop (activation), recover
 * (an ERR member goes to ERR/REC now), reset (counters), lbfactor VALUE
 * (1..100000). Returns 0 with what was done in MSG, or a negative HTTP-like
 * status (-400 bad request, -404 unknown worker, -500) with the reason. */
int xjk_admin_action(const struct xjk_workers *w, const char *name, const char *verb,
		     const char *value, char *msg, size_t msglen);

/* ---- one-request connections (admin_conn.c) ---- */

struct xjk_admin_server;

/* Looks at the bytes of a request received so far. Returns 0 when more are
 * needed, or 1 with the whole answer appended to OUT (the connection closes
 * once it is sent). */
typedef int (*xjk_admin_handler)(struct xjk_admin_server *srv, const char *in, size_t len,
				 struct xjk_buf *out);
/* Opens the listening socket (non-blocking): its fd, or -errno. */
typedef int (*xjk_admin_open_fn)(struct xjk_admin_server *srv);

struct xjk_admin_server {
	struct xjk_io io; /* the listening socket; fd -1 while waiting for the address */
	struct xjk_loop *loop;
	xjk_admin_open_fn open;
	xjk_admin_handler handle;
	size_t max_request; /* a request that grows past this gets no answer */
	const char *what;   /* for messages: "admin listener 127.0.0.1:8099" */
	struct xjk_timer retry;
	struct xjk_admin_conn *conns;
	int n_conns;
};

/* Opens the listening socket with OPEN and serves it on LOOP. An address in
 * use (another xjkd, or the previous process during a reload, which lets go
 * when it has drained) is retried every second until it is free. 0 when
 * listening or retrying, or -errno (nothing to stop then). */
int xjk_admin_server_start(struct xjk_admin_server *srv, struct xjk_loop *loop,
			   xjk_admin_open_fn open, xjk_admin_handler handle, size_t max_request,
			   const char *what);
/* Closes the listening socket and every connection. */
void xjk_admin_server_stop(struct xjk_admin_server *srv);

/* ---- the HTTP listener (admin.c) ---- */

struct xjk_admin;

/* Listens on cfg->admin_listen (nothing when it is off). SRC must outlive
 * the listener. 0 with *OUT (NULL when off), or -1 (logged) when an
 * explicit XjkAdminListen cannot be served. */
int xjk_admin_start(struct xjk_loop *loop, const struct xjk_admin_src *src, struct xjk_admin **out);
void xjk_admin_stop(struct xjk_admin *a);

#endif
