/* session.c: finds the sticky-session routes of a request the way mod_jk's lb
 * worker does (path parameter first, else all matching cookies; route = text
 * after the first '.' of each id), without copying any byte. */
#include "session.h"

#include <string.h>

struct candidates {
	struct xjk_str *routes;
	int max;
	int n_routes;
	unsigned n_ids;
	bool nonempty;
};

static void add_id(struct candidates *c, const char *p, size_t len)
{
	const char *dot = memchr(p, '.', len);

	c->n_ids++;
	c->nonempty |= len > 0;
	/* An empty route can match no member, so it is not worth a slot. */
	if (!dot || dot + 1 == p + len || c->n_routes == c->max)
		return;
	c->routes[c->n_routes++] = (struct xjk_str){dot + 1, (uint32_t)(p + len - dot - 1)};
}

/* The first "<name>=" with something after it in the path. Returns whether
 * one was found: then mod_jk never looks at cookies, even if the id is empty. */
static bool find_path_param(struct xjk_str path, const char *name, struct candidates *c)
{
	size_t nlen = strlen(name);
	const char *end = path.p + path.len, *p = path.p, *v, *e;

	for (; nlen && p < end && (p = memmem(p, (size_t)(end - p), name, nlen)); p++) {
		v = p + nlen;
		if (end - v < 2 || *v != '=')
			continue;
		for (e = ++v; e < end && *e != '?' && *e != ';' && *e != '/'; e++)
			;
		add_id(c, v, (size_t)(e - v));
		return true;
	}
	return false;
}

static bool is_ws(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Every "<name>=value" in one Cookie header value. The name must start the
 * value or follow ';', ',' or whitespace (so XJSESSIONID is not JSESSIONID);
 * spaces may precede the '='; the value ends at ';' or ','. */
static void find_cookies(struct xjk_str hv, const char *name, struct candidates *c)
{
	size_t nlen = strlen(name);
	const char *end = hv.p + hv.len, *p = hv.p, *v, *e;

	while (nlen && p < end && (p = memmem(p, (size_t)(end - p), name, nlen))) {
		if (p != hv.p && p[-1] != ';' && p[-1] != ',' && !is_ws(p[-1])) {
			p++;
			continue;
		}
		for (v = p + nlen; v < end && is_ws(*v); v++)
			;
		if (end - v < 2 || *v != '=') {
			p++;
			continue;
		}
		for (e = ++v; e < end && *e != ';' && *e != ','; e++)
			;
		/* Quoted cookie values (RFC 6265) carry the same id (BZ55683). */
		if (e - v >= 2 && *v == '"' && e[-1] == '"')
			add_id(c, v + 1, (size_t)(e - v - 2));
		else
			add_id(c, v, (size_t)(e - v));
		p = e;
	}
}

int xjk_session_routes(const struct xjk_http_request *req, const char *session_path,
		       const char *session_cookie, struct xjk_str *routes, int max,
		       bool *has_session)
{
	struct candidates c = {.routes = routes, .max = max};

	if (!find_path_param(req->path, session_path, &c))
		for (uint32_t i = 0; i < req->n_headers; i++)
			if (xjk_str_caseeq(req->headers[i].name, "cookie"))
				find_cookies(req->headers[i].value, session_cookie, &c);
	/* mod_jk joins all ids with ';': the joined id is empty only when there
	 * is a single empty id (or none). */
	*has_session = c.n_ids > 1 || c.nonempty;
	return c.n_routes;
}
