/* admin.c: the admin HTTP listener (XjkAdminListen, 127.0.0.1:8099 unless
 * told otherwise): GET / (status page), /status.json and /metrics, and
 * POST /action for the page's forms. A listener on a non-loopback address
 * accepts changes only with XjkAdminToken, which is then required wherever
 * the listener is. Small HTTP/1.1, one request per connection. */
#include "admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "log.h"

#define MAX_HEAD    8192
#define MAX_HEADERS 64
#define MAX_BODY    4096
#define FIELD_MAX   256

struct xjk_admin {
	struct xjk_admin_server server;
	const struct xjk_admin_src *src;
	bool loopback; /* the listener is on a loopback address */
	char what[128];
};

/* ---- answers ---- */

static const char page_policy[] = "default-src 'none'; style-src 'unsafe-inline'; "
				  "script-src 'unsafe-inline'; form-action 'self'; "
				  "frame-ancestors 'none'";

static void respond(struct xjk_buf *out, int status, const char *type, const struct xjk_buf *body,
		    bool head_only, const char *extra_headers)
{
	size_t len = body ? xjk_buf_len(body) : 0;
	if (xjk_admin_printf(out,
			     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
			     "Content-Security-Policy: %s\r\n%sConnection: close\r\n\r\n",
			     status, xjk_http_reason(status), type, len, page_policy,
			     extra_headers ? extra_headers : "") == 0 &&
	    len && !head_only)
		xjk_buf_append(out, xjk_buf_head(body), len);
}

static void respond_text(struct xjk_buf *out, int status, const char *text)
{
	struct xjk_buf body = {0};
	if (xjk_admin_printf(&body, "%s\n", text) == 0)
		respond(out, status, "text/plain; charset=utf-8", &body, false, NULL);
	else
		respond(out, 500, "text/plain", NULL, false, NULL);
	xjk_buf_free(&body);
}

/* ---- GET ---- */

enum view { VIEW_HTML, VIEW_JSON, VIEW_METRICS };

static void get(struct xjk_admin *a, enum view view, bool head_only, struct xjk_buf *out)
{
	static const char *const types[] = {
		[VIEW_HTML] = "text/html; charset=utf-8",
		[VIEW_JSON] = "application/json",
		[VIEW_METRICS] = "text/plain; version=0.0.4; charset=utf-8",
	};
	const struct xjk_config *cfg = a->src->cfg;
	struct xjk_admin_model m;
	struct xjk_buf body = {0};
	int rc = xjk_admin_model_build(a->src, &m);
	if (!rc && view == VIEW_HTML) {
		struct xjk_admin_page page = {
			.writable = a->loopback || cfg->admin_token,
			.needs_token = cfg->admin_token != NULL,
			.notice = a->loopback || cfg->admin_token
					  ? NULL
					  : "Read-only: this listener is not on loopback and no "
					    "XjkAdminToken is set.",
		};
		rc = xjk_admin_render_html(&m, &page, &body);
	} else if (!rc) {
		rc = view == VIEW_JSON ? xjk_admin_render_json(&m, &body)
				       : xjk_admin_render_metrics(&m, &body);
	}
	if (rc)
		respond_text(out, 500, "out of memory");
	else
		respond(out, 200, types[view], &body, head_only, NULL);
	xjk_admin_model_free(&m);
	xjk_buf_free(&body);
}

/* ---- POST /action ---- */

static int hexval(char c)
{
	return c >= '0' && c <= '9'			? c - '0'
	       : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
							: -1;
}

/* Copies form field NAME of an application/x-www-form-urlencoded BODY into
 * OUT, decoded. False when absent, malformed or too long. */
static bool form_field(const char *body, size_t len, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && body[end] != '&')
			end++;
		if (end - i > nl && !memcmp(body + i, name, nl) && body[i + nl] == '=') {
			size_t o = 0;
			for (size_t j = i + nl + 1; j < end; j++) {
				int c = body[j] == '+' ? ' ' : body[j];
				if (c == '%') {
					int hi = j + 2 < end ? hexval(body[j + 1]) : -1;
					int lo = hi >= 0 ? hexval(body[j + 2]) : -1;
					if (lo < 0)
						return false;
					c = hi << 4 | lo;
					j += 2;
				}
				if (o + 1 >= cap || c == 0)
					return false;
				out[o++] = (char)c;
			}
			out[o] = '\0';
			return true;
		}
		i = end + 1;
	}
	return false;
}

/* Compares without an early exit, so the time taken says nothing of the token. */
static bool token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return !diff;
}

static bool token_ok(const struct xjk_admin *a, const struct xjk_http_request *req,
		     const char *body, size_t len)
{
	const char *want = a->src->cfg->admin_token;
	char got[FIELD_MAX];
	const struct xjk_http_header *h = xjk_http_find(req, "Authorization");
	if (h && h->value.len > 7 && h->value.len - 7 < sizeof(got) &&
	    !strncasecmp(h->value.p, "Bearer ", 7)) {
		memcpy(got, h->value.p + 7, h->value.len - 7);
		got[h->value.len - 7] = '\0';
		return token_equal(got, want);
	}
	return form_field(body, len, "token", got, sizeof(got)) && token_equal(got, want);
}

/* A browser that sends Origin must send this listener's own: another site's
 * page cannot make the operator's browser post actions. */
static bool origin_ok(const struct xjk_http_request *req)
{
	const struct xjk_http_header *o = xjk_http_find(req, "Origin");
	if (!o)
		return true;
	if (!req->host.p || o->value.len != req->host.len + 7 ||
	    strncasecmp(o->value.p, "http://", 7))
		return false;
	return !strncasecmp(o->value.p + 7, req->host.p, req->host.len);
}

static void post_action(struct xjk_admin *a, const struct xjk_http_request *req, const char *body,
			size_t len, struct xjk_buf *out)
{
	const struct xjk_config *cfg = a->src->cfg;
	char worker[FIELD_MAX], verb[FIELD_MAX], value[FIELD_MAX], msg[512];
	if (!origin_ok(req)) {
		respond_text(out, 403, "cross-origin request refused");
		return;
	}
	if (!cfg->admin_token && !a->loopback) {
		respond_text(out, 403, "read-only: set XjkAdminToken to allow changes here");
		return;
	}
	if (cfg->admin_token && !token_ok(a, req, body, len)) {
		xjk_warn("admin: action refused: missing or wrong token");
		respond_text(out, 403, "missing or wrong access token");
		return;
	}
	bool has_value = form_field(body, len, "value", value, sizeof(value));
	if (!form_field(body, len, "worker", worker, sizeof(worker)) ||
	    !form_field(body, len, "action", verb, sizeof(verb))) {
		respond_text(out, 400, "the form needs worker and action");
		return;
	}
	int rc = xjk_admin_action(&cfg->workers, worker, verb, has_value ? value : NULL, msg,
				  sizeof(msg));
	if (rc < 0) {
		respond_text(out, -rc, msg);
		return;
	}
	xjk_info("admin: %s", msg);
	/* back to the page, which now shows the change */
	struct xjk_buf body_out = {0};
	if (xjk_admin_printf(&body_out, "%s\n", msg) == 0)
		respond(out, 303, "text/plain; charset=utf-8", &body_out, false, "Location: /\r\n");
	xjk_buf_free(&body_out);
}

/* ---- dispatch ---- */

static int handle(struct xjk_admin_server *srv, const char *in, size_t len, struct xjk_buf *out)
{
	struct xjk_admin *a = container_of(srv, struct xjk_admin, server);
	static const struct xjk_http_limits lim = {MAX_HEAD, MAX_HEADERS};
	struct xjk_http_header hdrs[MAX_HEADERS];
	struct xjk_http_request req;
	int status;
	int rc = xjk_http_parse_request(in, len, &lim, hdrs, &req, &status);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		respond_text(out, status, xjk_http_reason(status));
		return 1;
	}
	bool get_like = xjk_str_caseeq(req.method, "GET") || xjk_str_caseeq(req.method, "HEAD");
	bool head_only = xjk_str_caseeq(req.method, "HEAD");
	if (get_like && xjk_str_caseeq(req.path, "/"))
		get(a, VIEW_HTML, head_only, out);
	else if (get_like && xjk_str_caseeq(req.path, "/status.json"))
		get(a, VIEW_JSON, head_only, out);
	else if (get_like && xjk_str_caseeq(req.path, "/metrics"))
		get(a, VIEW_METRICS, head_only, out);
	else if (xjk_str_caseeq(req.method, "POST") && xjk_str_caseeq(req.path, "/action")) {
		if (req.chunked || req.content_length < 0 || req.content_length > MAX_BODY) {
			respond_text(out, 411, "POST /action needs a Content-Length up to 4096");
			return 1;
		}
		if (len - req.head_len < (size_t)req.content_length)
			return 0;
		post_action(a, &req, in + req.head_len, (size_t)req.content_length, out);
	} else if (xjk_str_caseeq(req.path, "/") || xjk_str_caseeq(req.path, "/status.json") ||
		   xjk_str_caseeq(req.path, "/metrics") || xjk_str_caseeq(req.path, "/action")) {
		respond_text(out, 405, "method not allowed");
	} else {
		respond_text(out, 404, "not found (/, /status.json, /metrics, POST /action)");
	}
	return 1;
}

/* ---- listener ---- */

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static int open_listener(struct xjk_admin_server *srv)
{
	const struct xjk_listen *l =
		&container_of(srv, struct xjk_admin, server)->src->cfg->admin_listen;
	int one = 1;
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) || listen(fd, 64)) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int xjk_admin_start(struct xjk_loop *loop, const struct xjk_admin_src *src, struct xjk_admin **out)
{
	const struct xjk_config *cfg = src->cfg;
	const struct xjk_listen *l = &cfg->admin_listen;
	*out = NULL;
	if (!l->addrlen)
		return 0;
	struct xjk_admin *a = calloc(1, sizeof(*a));
	if (!a) {
		xjk_error("admin listener: out of memory");
		return -1;
	}
	a->src = src;
	a->loopback = is_loopback(&l->addr);
	snprintf(a->what, sizeof(a->what), "admin listener http://%s/", l->text);
	int rc = xjk_admin_server_start(&a->server, loop, open_listener, handle,
					MAX_HEAD + MAX_BODY, a->what);
	if (rc < 0) {
		/* the default listener is a convenience; an explicit one is required */
		xjk_log(cfg->admin_listen_given ? XJK_LOG_ERROR : XJK_LOG_WARN, "%s: %s%s", a->what,
			strerror(-rc),
			cfg->admin_listen_given ? "" : " (no status page; see XjkAdminListen)");
		free(a);
		return cfg->admin_listen_given ? -1 : 0;
	}
	if (!a->loopback && !cfg->admin_token)
		xjk_warn("%s is not on loopback and XjkAdminToken is not set: the status page is "
			 "read-only",
			 a->what);
	*out = a;
	return 0;
}

void xjk_admin_stop(struct xjk_admin *a)
{
	if (!a)
		return;
	xjk_admin_server_stop(&a->server);
	free(a);
}
