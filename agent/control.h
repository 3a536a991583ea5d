/* control.h: the control socket (XjkControlSocket, /run/xjk/xjkd.sock unless
 * told otherwise) that xjkctl talks to. One request line per connection:
 *
 *   status [json]              workers, lbs and maps (text or JSON)
 *   members                    Tomcat cluster members
 *   worker NAME VERB [VALUE]   enable|disable|stop|recover|reset|lbfactor N
 *   reload                     re-read the configuration (main.c's hook)
 *
 * The answer's first line is "ok" or "error: REASON"; the rest, up to the
 * close, is the output. Only local users who may open the socket file (mode
 * 0660, root's by default) reach it, so no token is asked. */
#ifndef XJK_CONTROL_H
#define XJK_CONTROL_H

#include <stddef.h>

#include "admin.h"

#define XJK_CONTROL_LINE_MAX 1024

/* Reload: 0 with what happened in MSG, or -1 with the reason (for a bad
 * configuration, its "FILE:LINE: message"). */
typedef int (*xjk_control_reload_fn)(void *ctx, char *msg, size_t msglen);

struct xjk_control;

/* Listens on src->cfg->control_socket (nothing when it is off). A stale
 * socket file is replaced; while another process answers on it (the previous
 * xjkd during a reload) it is retried every second. SRC must outlive it.
 * 0 with *OUT (NULL when off or unavailable: logged), or -1 (no memory). */
int xjk_control_start(struct xjk_loop *loop, const struct xjk_admin_src *src,
		      xjk_control_reload_fn reload, void *reload_ctx, struct xjk_control **out);
/* Closes every connection and removes the socket file. */
void xjk_control_stop(struct xjk_control *c);

#endif
