/* session.h: sticky-session route extraction from a parsed request, as mod_jk
 * does it (modjk-ajp13.md §3.4). */
#ifndef XJK_SESSION_H
#define XJK_SESSION_H

#include <stdbool.h>

#include "http.h"

#define XJK_SESSION_PATH_DEFAULT   ";jsessionid"
#define XJK_SESSION_COOKIE_DEFAULT "JSESSIONID"

/* Collects the session ids of req: the session_path path parameter (followed
 * by '=', searched in the raw path, value up to '?', ';' or '/') when there is
 * one, otherwise every session_cookie cookie of every Cookie header, in order.
 * For each id with a '.', the text after the first '.' is a route; up to max
 * routes are stored in routes (slices into the request buffer) and their count
 * is returned. *has_session tells whether mod_jk would see a session id at
 * all (one that is not empty), which matters to sticky_session_force even
 * when no route can be found. */
int xjk_session_routes(const struct xjk_http_request *req, const char *session_path,
		       const char *session_cookie, struct xjk_str *routes, int max,
		       bool *has_session);

#endif
