/* routes.h: the cookie-hash route table, the one source of truth for sticky
 * routing on the AJP path and the splice path.
 *
 * Every session route of an lb (a member's route) maps to the member serving
 * it now: the member itself while it can take its sessions, else its
 * failover member (redirect, then domain, then the lb choice), back again on
 * recovery. The table follows worker state as a wstate subscriber; the lb
 * choice reads it (xjk_routes_resolve) and, once maps are attached, it is
 * mirrored into the BPF maps `routes` (route hash -> worker) and `wstate`
 * (worker -> state, activation, whether spliced bytes may go to it). */
#ifndef XJK_ROUTES_H
#define XJK_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "worker.h"

/* Session routes a request may carry (more are ignored, as by client.c). */
#define XJK_ROUTES_PER_REQUEST 8

/* 64-bit FNV-1a of a route: the key of the BPF routes map. */
uint64_t xjk_routes_hash(const char *p, size_t len);

/* Builds the table for W (which must outlive it) from the current worker
 * states and subscribes to their changes. Call after xjk_wstate_init. 0 or -1. */
int xjk_routes_init(const struct xjk_workers *w);
void xjk_routes_free(void);

/* From now on the table is also written to the BPF maps ROUTES_FD and
 * WSTATE_FD (written in full now); -1, -1 stops that. Call while no data
 * loop runs. 0, or -errno of the first failed write. */
int xjk_routes_attach_maps(int routes_fd, int wstate_fd);

/* Copies N (at most XJK_ROUTES_PER_REQUEST) session routes of a request to LB
 * into OUT, each member route replaced by the route of the member serving it
 * now. Lock-free; before xjk_routes_init the routes are copied unchanged. */
void xjk_routes_resolve(int lb, const struct xjk_str *in, int n, struct xjk_str *out);

/* The member (index into the lb's members) that serves MEMBER's route now. */
int xjk_routes_target(int lb, int member);

/* Whether a spliced connection may keep sending a member client bytes: not
 * failed, and active (a disabled or stopped member gets its requests through
 * the agent, which routes them again). */
bool xjk_routes_accepts(enum xjk_worker_state state, enum xjk_activation activation);

#endif
