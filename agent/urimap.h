/* urimap.h: JkMount / JkUnMount / uriworkermap.properties rules with mod_jk's
 * precedence, and the servlet URI normalisation that precedes matching.
 *
 * Built at configuration load, then read-only; xjk_urimap_match() is on the
 * request path and allocates nothing. */
#ifndef XJK_URIMAP_H
#define XJK_URIMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker.h"

/* Where a rule came from; a higher value wins ties (mod_jk's source order). */
enum xjk_mount_source {
	XJK_MOUNT_WORKERDEF = 1, /* worker.X.mount */
	XJK_MOUNT_JKMOUNT = 2,	 /* JkMount / JkUnMount */
	XJK_MOUNT_URIMAP = 3,	 /* JkMountFile (uriworkermap.properties) */
};

/* Rule extensions (";name=value" after the worker). */
struct xjk_mount_ext {
	int reply_timeout; /* ms; -1 = the worker's own */
	bool sticky_ignore;
	bool stateless;
	int use_server_errors; /* 0 = off, else statuses >= this get xjk's error page */
	int fail_on_status[XJK_STATUS_LIST_MAX];
	int n_fail_on_status; /* 0 = the worker's own list */
	/* Per lb member (parallel to xjk_lb.members): -1 = configured activation,
	 * else an enum xjk_activation. NULL when the rule overrides nothing. Owned. */
	int8_t *activation;
	char *session_cookie; /* NULL = the lb's own; owned */
	char *session_path;
	bool set_session_cookie;
	char *session_cookie_path;
};

struct xjk_mount {
	char *pattern; /* without modifiers; owned */
	size_t pattern_len;
	int slashes;
	bool wildcard; /* contains '*' or '?'; otherwise an exact match */
	/* Literal characters before the first wildcard and after the last '*'
	 * (0 if a '?' follows it): cheap rejections before the full match. */
	size_t head_len;
	size_t tail_len;
	bool disabled;		   /* '-' modifier */
	bool exclude;		   /* '!' modifier or JkUnMount */
	char *worker;		   /* name as written ("*" allowed for exclusions); owned */
	struct xjk_worker_ref ref; /* valid after xjk_urimap_resolve, not for exclusions */
	struct xjk_mount_ext ext;
	enum xjk_mount_source source;
	unsigned seq;	  /* insertion order, the last tie-breaker */
	const char *file; /* borrowed */
	int line;
};

struct xjk_urimap {
	struct xjk_mount *rules; /* sorted by precedence after resolve */
	int n;
	int cap;
};

struct xjk_urimap *xjk_urimap_new(void);
void xjk_urimap_free(struct xjk_urimap *m);

/* Adds "[-][!]/pattern[|suffix]" -> "worker[;ext=val...]". 0, or -1 with
 * "FILE:LINE: message" in err. Unknown extensions only warn. */
int xjk_urimap_add(struct xjk_urimap *m, const char *uri, const char *worker,
		   enum xjk_mount_source source, const char *file, int line, char *err,
		   size_t errlen);

/* Binds every rule to a worker in worker.list (mod_jk's "Could not find worker
 * with name"), applies member activation extensions, and sorts. */
int xjk_urimap_resolve(struct xjk_urimap *m, const struct xjk_workers *w, char *err, size_t errlen);

/* The winning rule for an already normalised path, or NULL (not mapped). */
const struct xjk_mount *xjk_urimap_match(const struct xjk_urimap *m, const char *path);

/* mod_jk's wildcard match: '*' any run (also across '/'), '?' one character. */
bool xjk_urimap_wildcard_match(const char *pattern, const char *s);

/* Servlet normalisation in place: drops ";params" from every segment, collapses
 * "//", removes "/./", resolves "/x/../". -1 when the path leaves the root
 * or does not start with '/' (answer 400). */
int xjk_uri_normalize(char *path);

#endif
