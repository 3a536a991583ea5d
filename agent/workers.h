/* workers.h: builds the worker model (worker.h) from workers.properties. */
#ifndef XJK_WORKERS_H
#define XJK_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

#include "props.h"
#include "worker.h"

#define XJK_DEFAULT_CONNECT_TIMEOUT_MS 1000 /* xjk never waits forever for a connect */

/* Instantiates every worker in worker.list (default "ajp13") and every lb member,
 * with mod_jk's defaults; resolves hosts. p must have its references resolved.
 * On failure returns -1 with "FILE:LINE: message" in err and leaves w empty. */
int xjk_workers_load(struct xjk_workers *w, const struct xjk_props *p, char *err, size_t errlen);
void xjk_workers_free(struct xjk_workers *w);

/* Any instantiated worker (listed or lb member): 0 and *out, or -1. */
int xjk_workers_find(const struct xjk_workers *w, const char *name, struct xjk_worker_ref *out);
/* Whether NAME is in worker.list, i.e. may be mounted. */
bool xjk_workers_listed(const struct xjk_workers *w, const char *name);
const char *xjk_workers_ref_name(const struct xjk_workers *w, struct xjk_worker_ref ref);

const char *xjk_worker_type_name(enum xjk_worker_type type);
const char *xjk_worker_state_name(enum xjk_worker_state state);
const char *xjk_activation_name(enum xjk_activation activation);

#endif
