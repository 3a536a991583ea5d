/* worker.h: the worker model that workers.properties describes (types only).
 *
 * Built once per configuration load by workers_load() (workers.c) and then
 * read-only; runtime state (worker states, lb values, pools) lives elsewhere,
 * indexed by the same backend and lb indices. */
#ifndef XJK_WORKER_H
#define XJK_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define XJK_NAME_MAX	    64 /* mod_jk limits names, routes and domains to 60 */
#define XJK_STATUS_LIST_MAX 16

enum xjk_worker_type {
	XJK_WORKER_AJP13,
	XJK_WORKER_HTTP,
	XJK_WORKER_LB,
	XJK_WORKER_STATUS,
};

/* Activation, as mod_jk's activation attribute (A/D/S) and jkstatus (ACT/DIS/STP). */
enum xjk_activation {
	XJK_ACTIVE,
	XJK_DISABLED,
	XJK_STOPPED,
};

/* lb method, first letter as in mod_jk. */
enum xjk_lb_method {
	XJK_LB_REQUESTS, /* R */
	XJK_LB_TRAFFIC,	 /* T */
	XJK_LB_BUSYNESS, /* B */
	XJK_LB_SESSIONS, /* S */
	XJK_LB_NEXT,	 /* N */
};

/* Runtime state of a backend, with mod_jk's codes and jkstatus names
 * (OK/IDLE, OK, ERR/REC, ERR/FRC, OK/BUSY, ERR, ERR/PRB). */
enum xjk_worker_state {
	XJK_STATE_OK_IDLE,
	XJK_STATE_OK,
	XJK_STATE_ERR_REC,
	XJK_STATE_ERR_FRC,
	XJK_STATE_OK_BUSY,
	XJK_STATE_ERR,
	XJK_STATE_ERR_PRB,
};

enum xjk_ping_mode {
	XJK_PING_CONNECT = 1,  /* C: CPing after a new connection */
	XJK_PING_PREPOST = 2,  /* P: CPing before each request */
	XJK_PING_INTERVAL = 4, /* I: CPing idle pooled connections */
};

/* An ajp13 or http worker: one backend server. lb members are backends too. */
struct xjk_backend {
	char name[XJK_NAME_MAX];
	enum xjk_worker_type type; /* XJK_WORKER_AJP13 or XJK_WORKER_HTTP */
	char host[256];
	uint16_t port;
	struct sockaddr_storage addr; /* resolved when the configuration is loaded */
	socklen_t addrlen;
	char *secret; /* NULL when unset; owned */

	/* lb member attributes */
	int lbfactor;
	int distance;
	enum xjk_activation activation;
	char route[XJK_NAME_MAX]; /* defaults to name */
	char domain[XJK_NAME_MAX];
	char redirect[XJK_NAME_MAX];

	/* connection handling; times in milliseconds unless named _s */
	unsigned max_packet_size;
	int pool_size;
	int pool_minsize;
	int pool_timeout_s;
	int acquire_timeout; /* connection_acquire_timeout; -1 unset: xjkd's default (proxy.h) */
	int socket_connect_timeout;
	int socket_timeout_s;
	bool socket_keepalive;
	unsigned ping_mode; /* enum xjk_ping_mode bits */
	int ping_timeout;
	int connect_timeout; /* CPing after connect */
	int prepost_timeout; /* CPing before a request */
	int connection_ping_interval_s;
	int reply_timeout;
	int retries;
	int retry_interval;
	unsigned recovery_options;
	int busy_limit;
	int fail_on_status[XJK_STATUS_LIST_MAX]; /* negative = soft, as in mod_jk */
	int n_fail_on_status;

	const char *file; /* where the worker was first defined, for messages */
	int line;
};

struct xjk_lb {
	char name[XJK_NAME_MAX];
	int *members; /* indices into xjk_workers.backends; owned */
	int n_members;
	bool sticky_session;
	bool sticky_session_force;
	enum xjk_lb_method method;
	int retries;
	int lb_retries;
	int retry_interval;
	int recover_time_s;
	int error_escalation_time_s;
	int max_reply_timeouts;
	char session_cookie[XJK_NAME_MAX];
	char session_path[XJK_NAME_MAX];
	const char *file;
	int line;
};

/* A status worker (jkstatus). Strings are mod_jk's raw values; owned. */
struct xjk_status {
	char name[XJK_NAME_MAX];
	bool read_only;
	bool user_case_insensitive;
	char *users;   /* user list ("a,b"); NULL = anyone */
	char *css;     /* NULL = none */
	char *good;    /* rating rules, default "a.o,a.n,a.b,a.r" */
	char *bad;     /* default "s,e" */
	char *prefix;  /* properties output key prefix, default "worker" */
	char *ns;      /* XML namespace prefix, default "jk:" ("-" = none) */
	char *xmlns;   /* default xmlns:jk="http://tomcat.apache.org" ("-" = none) */
	char *doctype; /* NULL = none */
	const char *file;
	int line;
};

/* A name that JkMount can refer to. */
struct xjk_worker_ref {
	enum xjk_worker_type type;
	int index; /* into backends (ajp13/http), lbs (lb) or statuses (status) */
};

struct xjk_workers {
	struct xjk_backend *backends;
	int n_backends;
	struct xjk_lb *lbs;
	int n_lbs;
	struct xjk_status *statuses;
	int n_statuses;
	char **list; /* worker.list, in order, without repeats; owned */
	int n_list;
	int maintain_s;
};

#endif
