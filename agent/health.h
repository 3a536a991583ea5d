/* health.h: active health checks of the backends (AJP CPing/CPong, HTTP GET,
 * TCP connect) run on the control loop, and the fail-fast of in-flight
 * exchanges when a backend is declared down.
 *
 *   health_conf.c      the XjkHealthCheck directive and per-backend settings
 *   health_logic.c     rise/fall counting, reply parsing, jittered delays (pure)
 *   health.c           the checks themselves: non-blocking sockets, timers
 *   health_failfast.c  wstate subscriber: a backend entering ERR fails its
 *                      in-flight exchanges on every data loop at once
 *
 * Results go to xjk_wstate_set_down(); wstate stays the one owner of state. */
#ifndef XJK_HEALTH_H
#define XJK_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker.h"

struct xjk_config;
struct xjk_loop;
struct xjk_proxy;

enum xjk_health_type {
	XJK_HEALTH_AUTO, /* by worker type: ajp for ajp13, http for http workers */
	XJK_HEALTH_OFF,
	XJK_HEALTH_AJP,
	XJK_HEALTH_HTTP,
	XJK_HEALTH_TCP,
};

/* Defaults: a silent node is declared down within about a second (see
 * docs/failover.md for the arithmetic). */
#define XJK_HEALTH_INTERVAL_MS 300
#define XJK_HEALTH_TIMEOUT_MS  500
#define XJK_HEALTH_RISE	       2
#define XJK_HEALTH_FALL	       2
#define XJK_HEALTH_JITTER_PCT  10
#define XJK_HEALTH_EXPECT      0 /* any status below 500: the server answers */
#define XJK_HEALTH_PATH_MAX    256

/* Bits of xjk_health_params.set: the options a rule names. */
enum {
	XJK_HEALTH_SET_TYPE = 1 << 0,
	XJK_HEALTH_SET_INTERVAL = 1 << 1,
	XJK_HEALTH_SET_TIMEOUT = 1 << 2,
	XJK_HEALTH_SET_RISE = 1 << 3,
	XJK_HEALTH_SET_FALL = 1 << 4,
	XJK_HEALTH_SET_JITTER = 1 << 5,
	XJK_HEALTH_SET_PATH = 1 << 6,
	XJK_HEALTH_SET_EXPECT = 1 << 7,
	XJK_HEALTH_SET_PORT = 1 << 8,
};

struct xjk_health_params {
	enum xjk_health_type type;
	int interval_ms, timeout_ms, rise, fall;
	int jitter_pct; /* each delay is interval +- this share of it */
	int port;	/* 0: the worker's own port */
	int expect;	/* HTTP status a passing check answers; 0 = any below 500 */
	char path[XJK_HEALTH_PATH_MAX];
	unsigned set; /* XJK_HEALTH_SET_* given by the rule */
};

/* One XjkHealthCheck line. Rules apply in order; each overrides only the
 * options it names, so "XjkHealthCheck * interval=1000" then
 * "XjkHealthCheck w1 off" means every backend but w1 every second. */
struct xjk_health_rule {
	char worker[XJK_NAME_MAX]; /* "*", a backend, or an lb (all its members) */
	struct xjk_health_params p;
	const char *file; /* interned by conf.c */
	int line;
};

struct xjk_health_config {
	struct xjk_health_rule *rules; /* owned */
	int n_rules;
};

/* health_conf.c */
/* XjkHealthCheck WORKER|* [off] [type=ajp|http|tcp] [interval=MS] [timeout=MS]
 * [rise=N] [fall=N] [jitter=P%] [path=/P] [expect=STATUS] [port=N]. Returns 0,
 * or -1 with the message (no file/line) in err. */
int xjk_health_directive(struct xjk_health_config *hc, int argc, char **argv, const char *file,
			 int line, char *err, size_t errlen);
/* Rules naming workers that do not exist, or a status worker: -1 with
 * "FILE:LINE: message" in err. */
int xjk_health_config_check(const struct xjk_health_config *hc, const struct xjk_workers *w,
			    char *err, size_t errlen);
/* The settings for backend B: defaults, then every matching rule in order.
 * An AJP check's timeout never exceeds the worker's ping_timeout. */
void xjk_health_params_for(const struct xjk_health_config *hc, const struct xjk_workers *w, int b,
			   struct xjk_health_params *out);
void xjk_health_config_free(struct xjk_health_config *hc);
const char *xjk_health_type_name(enum xjk_health_type type);

/* health_logic.c */
/* Consecutive results of one backend's checks. */
struct xjk_health_count {
	int passes, fails;
	bool saw_error; /* the backend was in an error state at the last result */
};

enum xjk_health_verdict {
	XJK_HEALTH_KEEP, /* nothing to report */
	XJK_HEALTH_DOWN, /* declare the backend down (ERR) */
	XJK_HEALTH_UP,	 /* bring it back (OK) */
};

/* Counts one result given the backend's current STATE. DOWN after `fall`
 * failures in a row unless it is ERR already (so ERR/REC from recover_time is
 * put back while checks fail); UP after `rise` passes in a row that all came
 * after it entered an error state, whatever put it there. */
enum xjk_health_verdict xjk_health_record(struct xjk_health_count *c,
					  const struct xjk_health_params *p, bool pass,
					  enum xjk_worker_state state);
/* A CPong check's reply: 1 pass, 0 incomplete, -1 anything else. */
int xjk_health_ajp_reply(const uint8_t *p, size_t n);
/* An HTTP check's reply: 1 when the status line says EXPECT, 0 incomplete,
 * -1 another status or no HTTP at all; *status gets the code when known. */
int xjk_health_http_reply(const char *p, size_t n, int expect, int *status);
/* Milliseconds until the next check: interval +- jitter, RND uniform. */
uint64_t xjk_health_delay(const struct xjk_health_params *p, uint32_t rnd);

/* health.c */
struct xjk_health;
/* Starts the checks on LOOP (the control loop); NULL when no backend is
 * checked or memory ran out (errno says which: 0 or ENOMEM). */
struct xjk_health *xjk_health_start(struct xjk_loop *loop, const struct xjk_config *cfg);
void xjk_health_stop(struct xjk_health *h);

/* health_failfast.c */
/* Subscribes to wstate: whenever a backend enters ERR, each of the N data
 * paths runs xjk_proxy_backend_down() for it on its own loop. 0 or -ENOMEM. */
int xjk_health_failfast_start(struct xjk_proxy *const *proxies, int n, int n_backends);
void xjk_health_failfast_stop(void);

#endif
