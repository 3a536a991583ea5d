/* workers.c: turns workers.properties into struct xjk_workers with mod_jk's
 * defaults (jk_ajp_common.c, jk_lb_worker.c, jk_status.c), except where xjk
 * deliberately differs (docs/configuration.md). */
#include "workers.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define NAME_LIMIT 60 /* mod_jk's limit for names, routes, domains, cookies */

#define DEF_AJP_PORT	   8009
#define DEF_HTTP_PORT	   8080
#define DEF_PACKET_SIZE	   8192
#define MAX_PACKET_SIZE	   65536
#define DEF_PING_TIMEOUT   10000
#define DEF_RETRIES	   2
#define DEF_RETRY_INTERVAL 100
#define DEF_RECOVER_TIME_S 60
#define DEF_MAINTAIN_S	   60

/* Attributes mod_jk knows and xjk accepts but does not act on yet. */
static const char *const unimplemented[] = {
	"source", "socket_buffer", "secretkey", "lock", "set_session_cookie", "session_cookie_path",
};

struct loader {
	struct xjk_workers *w;
	const struct xjk_props *p;
	char *err;
	size_t errlen;
	const char *list_file; /* where worker.list is, for workers without properties */
	int list_line;
};

__attribute__((format(printf, 4, 5))) static int fail(struct loader *l, const char *file, int line,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	xjk_props_vfail(l->err, l->errlen, file, line, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct xjk_prop *attr(struct loader *l, const char *name, const char *a)
{
	return xjk_props_worker(l->p, name, a);
}

/* The first property of worker NAME, i.e. where it is defined; NULL if none. */
static const struct xjk_prop *definition(const struct xjk_props *p, const char *name)
{
	size_t nl = strlen(name);
	for (int i = 0; i < p->n; i++) {
		const char *k = p->items[i].key;
		if (!strncmp(k, "worker.", 7) && !strncmp(k + 7, name, nl) && k[7 + nl] == '.')
			return &p->items[i];
	}
	return NULL;
}

static int copy_limited(struct loader *l, char *dst, const struct xjk_prop *prop, const char *def)
{
	const char *v = prop ? prop->value : def;
	if (strlen(v) > NAME_LIMIT)
		return fail(l, prop->file, prop->line, "%s is longer than %d characters", prop->key,
			    NAME_LIMIT);
	strcpy(dst, v);
	return 0;
}

static char *dup_or_null(const struct xjk_prop *prop)
{
	return prop ? strdup(prop->value) : NULL;
}

static int parse_type(struct loader *l, const char *name, enum xjk_worker_type *out)
{
	static const struct {
		const char *name;
		enum xjk_worker_type type;
	} types[] = {{"ajp13", XJK_WORKER_AJP13},
		     {"http", XJK_WORKER_HTTP},
		     {"lb", XJK_WORKER_LB},
		     {"status", XJK_WORKER_STATUS}};
	const struct xjk_prop *t = attr(l, name, "type");
	if (!t) {
		*out = XJK_WORKER_AJP13;
		return 0;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (!strcmp(t->value, types[i].name)) {
			*out = types[i].type;
			return 0;
		}
	}
	if (!strcmp(t->value, "ajp12") || !strcmp(t->value, "ajp14") || !strcmp(t->value, "jni"))
		return fail(l, t->file, t->line, "worker type '%s' is not supported by xjk",
			    t->value);
	return fail(l, t->file, t->line, "unknown worker type '%s'", t->value);
}

static void warn_unimplemented(struct loader *l, const char *name)
{
	for (size_t i = 0; i < sizeof(unimplemented) / sizeof(unimplemented[0]); i++) {
		const struct xjk_prop *prop = attr(l, name, unimplemented[i]);
		if (prop)
			xjk_warn("%s:%d: %s is not implemented by xjk yet; ignored", prop->file,
				 prop->line, prop->key);
	}
}

/* "host", "host:port", "[v6]" or "[v6]:port"; an embedded port wins over "port". */
static int parse_host(struct loader *l, struct xjk_backend *b, const struct xjk_prop *host,
		      long port)
{
	const char *v = host ? host->value : "localhost";
	const char *file = host ? host->file : b->file;
	int line = host ? host->line : b->line;
	const char *end = v + strlen(v), *colon = strrchr(v, ':');
	if (*v == '[') {
		const char *close = strchr(v, ']');
		if (!close || (close[1] && close[1] != ':'))
			return fail(l, file, line, "bad host '%s'", v);
		colon = close[1] ? close + 1 : NULL;
		end = close;
		v++;
	} else if (colon && strchr(v, ':') != colon) {
		colon = NULL; /* a bare IPv6 literal */
	}
	if (colon) {
		long embedded;
		if (xjk_props_parse_int(colon + 1, &embedded))
			return fail(l, file, line, "bad port in host '%s'", host->value);
		port = embedded;
		if (end > colon)
			end = colon;
	}
	if ((size_t)(end - v) >= sizeof(b->host) || end == v)
		return fail(l, file, line, "bad host '%s'", host ? host->value : v);
	memcpy(b->host, v, (size_t)(end - v));
	b->host[end - v] = '\0';
	if (port < 0 || port > 65535)
		return fail(l, file, line, "port %ld of worker '%s' is out of range", port,
			    b->name);
	b->port = (uint16_t)port;
	return 0;
}

/* mod_jk prefers IPv4 results unless prefer_ipv6 is set. */
static int resolve(struct loader *l, struct xjk_backend *b, bool prefer_ipv6,
		   const struct xjk_prop *where)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *pick = NULL;
	int rc = getaddrinfo(b->host, NULL, &hints, &res);
	if (rc)
		return fail(l, where ? where->file : b->file, where ? where->line : b->line,
			    "cannot resolve host '%s' of worker '%s': %s", b->host, b->name,
			    gai_strerror(rc));
	int want = prefer_ipv6 ? AF_INET6 : AF_INET;
	for (struct addrinfo *a = res; a && !pick; a = a->ai_next)
		if (a->ai_family == want)
			pick = a;
	if (!pick)
		pick = res;
	memcpy(&b->addr, pick->ai_addr, pick->ai_addrlen);
	b->addrlen = pick->ai_addrlen;
	if (pick->ai_family == AF_INET6)
		((struct sockaddr_in6 *)&b->addr)->sin6_port = htons(b->port);
	else
		((struct sockaddr_in *)&b->addr)->sin_port = htons(b->port);
	freeaddrinfo(res);
	return 0;
}

static unsigned parse_ping_mode(const struct xjk_prop *prop)
{
	unsigned mode = 0;
	for (const char *c = prop ? prop->value : ""; *c; c++) {
		switch (*c) {
		case 'C':
		case 'c':
			mode |= XJK_PING_CONNECT;
			break;
		case 'P':
		case 'p':
			mode |= XJK_PING_PREPOST;
			break;
		case 'I':
		case 'i':
			mode |= XJK_PING_INTERVAL;
			break;
		case 'A':
		case 'a':
			mode |= XJK_PING_CONNECT | XJK_PING_PREPOST | XJK_PING_INTERVAL;
			break;
		default:
			xjk_warn("%s:%d: unknown ping_mode letter '%c' ignored", prop->file,
				 prop->line, *c);
		}
	}
	return mode;
}

static int parse_status_list(struct loader *l, struct xjk_backend *b)
{
	const struct xjk_prop *prop = attr(l, b->name, "fail_on_status");
	if (!prop)
		return 0;
	int n;
	char **v = xjk_props_split(prop->value, &n);
	if (!v)
		return fail(l, prop->file, prop->line, "out of memory");
	int rc = 0;
	if (n > XJK_STATUS_LIST_MAX)
		rc = fail(l, prop->file, prop->line, "more than %d fail_on_status codes",
			  XJK_STATUS_LIST_MAX);
	for (int i = 0; !rc && i < n; i++) {
		long code;
		if (xjk_props_parse_int(v[i], &code) || labs(code) < 100 || labs(code) > 999)
			rc = fail(l, prop->file, prop->line, "bad HTTP status '%s' in %s", v[i],
				  prop->key);
		else
			b->fail_on_status[b->n_fail_on_status++] = (int)code;
	}
	xjk_props_split_free(v, n);
	return rc;
}

static enum xjk_activation parse_activation(struct loader *l, const char *name)
{
	const struct xjk_prop *a = attr(l, name, "activation");
	if (a) {
		switch (a->value[0]) {
		case 'A':
		case 'a':
		case '0':
			return XJK_ACTIVE;
		case 'D':
		case 'd':
		case '1':
			return XJK_DISABLED;
		case 'S':
		case 's':
		case '2':
			return XJK_STOPPED;
		}
		xjk_warn("%s:%d: unknown activation '%s'; using Active", a->file, a->line,
			 a->value);
		return XJK_ACTIVE;
	}
	/* The deprecated booleans that activation replaced. */
	if (xjk_props_bool(attr(l, name, "stopped"), false))
		return XJK_STOPPED;
	if (xjk_props_bool(attr(l, name, "disabled"), false))
		return XJK_DISABLED;
	return XJK_ACTIVE;
}

static int clamp_min(long v, int min)
{
	return v < min ? min : (int)v;
}

static unsigned packet_size(long v)
{
	v = (v + 1023) / 1024 * 1024;
	if (v < DEF_PACKET_SIZE)
		return DEF_PACKET_SIZE;
	return v > MAX_PACKET_SIZE ? MAX_PACKET_SIZE : (unsigned)v;
}

/* The CPing timeouts: a mode letter without its timeout takes ping_timeout, a
 * timeout without its letter turns the mode on (mod_jk's ajp_init). */
static void ping_settings(struct loader *l, struct xjk_backend *b)
{
	const char *n = b->name;
	b->ping_mode = parse_ping_mode(attr(l, n, "ping_mode"));
	b->ping_timeout = (int)xjk_props_int(attr(l, n, "ping_timeout"), DEF_PING_TIMEOUT);
	b->connect_timeout = (int)xjk_props_int(attr(l, n, "connect_timeout"), 0);
	b->prepost_timeout = (int)xjk_props_int(attr(l, n, "prepost_timeout"), 0);
	b->connection_ping_interval_s =
		(int)xjk_props_int(attr(l, n, "connection_ping_interval"), 0);
	if ((b->ping_mode & XJK_PING_CONNECT) && b->connect_timeout <= 0)
		b->connect_timeout = b->ping_timeout;
	if ((b->ping_mode & XJK_PING_PREPOST) && b->prepost_timeout <= 0)
		b->prepost_timeout = b->ping_timeout;
	if ((b->ping_mode & XJK_PING_INTERVAL) && b->connection_ping_interval_s <= 0)
		b->connection_ping_interval_s = b->ping_timeout / 100;
	if (b->connect_timeout > 0)
		b->ping_mode |= XJK_PING_CONNECT;
	if (b->prepost_timeout > 0)
		b->ping_mode |= XJK_PING_PREPOST;
	if (b->connection_ping_interval_s > 0)
		b->ping_mode |= XJK_PING_INTERVAL;
}

static const struct xjk_prop *attr2(struct loader *l, const char *name, const char *a,
				    const char *deprecated)
{
	const struct xjk_prop *prop = attr(l, name, a);
	return prop ? prop : attr(l, name, deprecated);
}

static int backend_fill(struct loader *l, struct xjk_backend *b, const char *name,
			enum xjk_worker_type type)
{
	const struct xjk_prop *def = definition(l->p, name);
	strcpy(b->name, name);
	b->type = type;
	b->file = def ? def->file : l->list_file;
	b->line = def ? def->line : l->list_line;

	const struct xjk_prop *host = attr(l, name, "host"), *port = attr(l, name, "port");
	if (parse_host(l, b, host,
		       xjk_props_int(port, type == XJK_WORKER_HTTP ? DEF_HTTP_PORT : DEF_AJP_PORT)))
		return -1;
	b->secret = dup_or_null(attr(l, name, "secret"));
	b->lbfactor = clamp_min(xjk_props_int(attr(l, name, "lbfactor"), 1), 1);
	b->distance = clamp_min(xjk_props_int(attr(l, name, "distance"), 0), 0);
	b->activation = parse_activation(l, name);
	if (b->port == 0)
		b->activation = XJK_STOPPED; /* jkstatus can give it a port later */
	if (copy_limited(l, b->route, attr2(l, name, "route", "jvm_route"), name) ||
	    copy_limited(l, b->domain, attr(l, name, "domain"), "") ||
	    copy_limited(l, b->redirect, attr(l, name, "redirect"), ""))
		return -1;
	char *dot = strchr(b->route, '.');
	if (!b->domain[0] && dot)
		snprintf(b->domain, sizeof(b->domain), "%.*s", (int)(dot - b->route), b->route);

	b->max_packet_size =
		packet_size(xjk_props_int(attr(l, name, "max_packet_size"), DEF_PACKET_SIZE));
	b->pool_size =
		clamp_min(xjk_props_int(attr2(l, name, "connection_pool_size", "cachesize"), 0), 0);
	b->pool_minsize = clamp_min(
		xjk_props_int(attr(l, name, "connection_pool_minsize"), (b->pool_size + 1) / 2), 0);
	b->pool_timeout_s = clamp_min(
		xjk_props_int(attr2(l, name, "connection_pool_timeout", "cache_timeout"), 0), 0);
	const struct xjk_prop *acquire = attr(l, name, "connection_acquire_timeout");
	b->acquire_timeout = acquire ? clamp_min(xjk_props_int(acquire, 0), 0) : -1;
	b->socket_timeout_s = clamp_min(xjk_props_int(attr(l, name, "socket_timeout"), 0), 0);
	b->socket_connect_timeout = (int)xjk_props_int(
		attr(l, name, "socket_connect_timeout"),
		b->socket_timeout_s ? b->socket_timeout_s * 1000 : XJK_DEFAULT_CONNECT_TIMEOUT_MS);
	b->socket_keepalive = xjk_props_bool(attr(l, name, "socket_keepalive"), false);
	ping_settings(l, b);
	b->reply_timeout = clamp_min(xjk_props_int(attr(l, name, "reply_timeout"), 0), 0);
	b->retries = clamp_min(xjk_props_int(attr(l, name, "retries"), DEF_RETRIES), 1);
	b->retry_interval =
		clamp_min(xjk_props_int(attr(l, name, "retry_interval"), DEF_RETRY_INTERVAL), 0);
	b->recovery_options =
		(unsigned)clamp_min(xjk_props_int(attr(l, name, "recovery_options"), 0), 0);
	b->busy_limit = clamp_min(xjk_props_int(attr(l, name, "busy_limit"), 0), 0);
	if (parse_status_list(l, b))
		return -1;
	if (b->port && resolve(l, b, xjk_props_bool(attr(l, name, "prefer_ipv6"), false), host))
		return -1;
	warn_unimplemented(l, name);
	return 0;
}

static bool valid_name(struct loader *l, const char *name, const char *file, int line)
{
	if (strlen(name) <= NAME_LIMIT)
		return true;
	fail(l, file, line, "worker name '%s' is longer than %d characters", name, NAME_LIMIT);
	return false;
}

/* The backend called NAME: an existing one, or a new one. -1 on error. */
static int backend_get(struct loader *l, const char *name, enum xjk_worker_type type,
		       const char *file, int line)
{
	struct xjk_workers *w = l->w;
	for (int i = 0; i < w->n_backends; i++)
		if (!strcmp(w->backends[i].name, name))
			return i;
	if (!valid_name(l, name, file, line))
		return -1;
	struct xjk_backend *nb = realloc(w->backends, (size_t)(w->n_backends + 1) * sizeof(*nb));
	if (!nb)
		return fail(l, file, line, "out of memory");
	w->backends = nb;
	struct xjk_backend *b = &nb[w->n_backends];
	memset(b, 0, sizeof(*b));
	if (backend_fill(l, b, name, type)) {
		free(b->secret);
		return -1;
	}
	return w->n_backends++;
}

static enum xjk_lb_method parse_method(const struct xjk_prop *m)
{
	static const char letters[] = "RTBSN";
	if (!m)
		return XJK_LB_REQUESTS;
	const char *hit = m->value[0] ? strchr(letters, m->value[0] & ~0x20) : NULL;
	if (hit)
		return (enum xjk_lb_method)(hit - letters);
	if (m->value[0] >= '0' && m->value[0] <= '4')
		return (enum xjk_lb_method)(m->value[0] - '0');
	xjk_warn("%s:%d: unknown lb method '%s'; using Request", m->file, m->line, m->value);
	return XJK_LB_REQUESTS;
}

static int lb_member(struct loader *l, struct xjk_lb *lb, const char *member,
		     const struct xjk_prop *where, const char *secret)
{
	if (!definition(l->p, member))
		return fail(
			l, where->file, where->line,
			"member '%s' of lb worker '%s' is not defined (no worker.%s.* property)",
			member, lb->name, member);
	enum xjk_worker_type type;
	if (parse_type(l, member, &type))
		return -1;
	if (type != XJK_WORKER_AJP13 && type != XJK_WORKER_HTTP)
		return fail(l, where->file, where->line,
			    "member '%s' of lb worker '%s' must be of type ajp13 or http", member,
			    lb->name);
	int idx = backend_get(l, member, type, where->file, where->line);
	if (idx < 0)
		return -1;
	struct xjk_backend *b = &l->w->backends[idx];
	for (int i = 0; i < lb->n_members; i++) {
		const struct xjk_backend *o = &l->w->backends[lb->members[i]];
		if (o == b)
			return fail(l, where->file, where->line,
				    "worker '%s' is listed twice in lb worker '%s'", member,
				    lb->name);
		if (!strcmp(o->route, b->route))
			return fail(l, where->file, where->line,
				    "members '%s' and '%s' of lb worker '%s' have the same route "
				    "'%s'",
				    o->name, b->name, lb->name, b->route);
	}
	if (secret && !attr(l, member, "secret")) {
		if (b->secret && strcmp(b->secret, secret))
			return fail(l, where->file, where->line,
				    "member '%s' would inherit different secrets from two lb "
				    "workers; give it its own secret",
				    member);
		free(b->secret);
		b->secret = strdup(secret);
		if (!b->secret)
			return fail(l, where->file, where->line, "out of memory");
	}
	lb->members[lb->n_members++] = idx;
	return 0;
}

static int lb_members(struct loader *l, struct xjk_lb *lb)
{
	const struct xjk_prop *list = attr2(l, lb->name, "balance_workers", "balanced_workers");
	if (!list)
		return fail(l, lb->file, lb->line, "lb worker '%s' has no balance_workers",
			    lb->name);
	int n, rc = 0;
	char **names = xjk_props_split(list->value, &n);
	lb->members = calloc((size_t)n + 1, sizeof(int));
	if (!names || !lb->members)
		rc = fail(l, list->file, list->line, "out of memory");
	const struct xjk_prop *secret = attr(l, lb->name, "secret");
	for (int i = 0; !rc && i < n; i++)
		rc = lb_member(l, lb, names[i], list, secret ? secret->value : NULL);
	xjk_props_split_free(names, n);
	return rc;
}

static int lb_fill(struct loader *l, struct xjk_lb *lb, const char *name)
{
	const struct xjk_prop *def = definition(l->p, name);
	strcpy(lb->name, name);
	lb->file = def->file;
	lb->line = def->line;
	lb->sticky_session = xjk_props_bool(attr(l, name, "sticky_session"), true);
	lb->sticky_session_force = xjk_props_bool(attr(l, name, "sticky_session_force"), false);
	lb->method = parse_method(attr(l, name, "method"));
	lb->retries = clamp_min(xjk_props_int(attr(l, name, "retries"), DEF_RETRIES), 1);
	lb->lb_retries = clamp_min(xjk_props_int(attr(l, name, "lb_retries"), DEF_RETRIES), 1);
	lb->retry_interval =
		clamp_min(xjk_props_int(attr(l, name, "retry_interval"), DEF_RETRY_INTERVAL), 0);
	lb->recover_time_s =
		clamp_min(xjk_props_int(attr(l, name, "recover_time"), DEF_RECOVER_TIME_S), 1);
	lb->error_escalation_time_s = clamp_min(
		xjk_props_int(attr(l, name, "error_escalation_time"), lb->recover_time_s / 2), 0);
	lb->max_reply_timeouts =
		clamp_min(xjk_props_int(attr(l, name, "max_reply_timeouts"), 0), 0);
	if (copy_limited(l, lb->session_cookie, attr(l, name, "session_cookie"), "JSESSIONID") ||
	    copy_limited(l, lb->session_path, attr(l, name, "session_path"), ";jsessionid"))
		return -1;
	warn_unimplemented(l, name);
	return lb_members(l, lb);
}

static int lb_add(struct loader *l, const char *name)
{
	struct xjk_workers *w = l->w;
	struct xjk_lb *nl = realloc(w->lbs, (size_t)(w->n_lbs + 1) * sizeof(*nl));
	if (!nl)
		return fail(l, l->list_file, l->list_line, "out of memory");
	w->lbs = nl;
	struct xjk_lb *lb = &nl[w->n_lbs];
	memset(lb, 0, sizeof(*lb));
	int rc = lb_fill(l, lb, name);
	if (rc)
		free(lb->members);
	else
		w->n_lbs++;
	return rc;
}

static int dup_default(char **dst, const struct xjk_prop *prop, const char *def)
{
	const char *v = prop ? prop->value : def;
	*dst = v ? strdup(v) : NULL;
	return v && !*dst ? -1 : 0;
}

static void status_release(struct xjk_status *s)
{
	free(s->users);
	free(s->css);
	free(s->good);
	free(s->bad);
	free(s->prefix);
	free(s->ns);
	free(s->xmlns);
	free(s->doctype);
}

static int status_add(struct loader *l, const char *name)
{
	struct xjk_workers *w = l->w;
	struct xjk_status *ns = realloc(w->statuses, (size_t)(w->n_statuses + 1) * sizeof(*ns));
	if (!ns)
		return fail(l, l->list_file, l->list_line, "out of memory");
	w->statuses = ns;
	struct xjk_status *s = &ns[w->n_statuses];
	const struct xjk_prop *def = definition(l->p, name);
	memset(s, 0, sizeof(*s));
	strcpy(s->name, name);
	s->file = def->file;
	s->line = def->line;
	s->read_only = xjk_props_bool(attr(l, name, "read_only"), false);
	s->user_case_insensitive = xjk_props_bool(attr(l, name, "user_case_insensitive"), false);
	if (dup_default(&s->users, attr(l, name, "user"), NULL) ||
	    dup_default(&s->css, attr(l, name, "css"), NULL) ||
	    dup_default(&s->good, attr(l, name, "good"), "a.o,a.n,a.b,a.r") ||
	    dup_default(&s->bad, attr(l, name, "bad"), "s,e") ||
	    dup_default(&s->prefix, attr(l, name, "prefix"), "worker") ||
	    dup_default(&s->ns, attr(l, name, "ns"), "jk:") ||
	    dup_default(&s->xmlns, attr(l, name, "xmlns"),
			"xmlns:jk=\"http://tomcat.apache.org\"") ||
	    dup_default(&s->doctype, attr(l, name, "doctype"), NULL)) {
		status_release(s);
		return fail(l, s->file, s->line, "out of memory");
	}
	w->n_statuses++;
	return 0;
}

static int instantiate(struct loader *l, const char *name)
{
	enum xjk_worker_type type;
	if (!valid_name(l, name, l->list_file, l->list_line) || parse_type(l, name, &type))
		return -1;
	switch (type) {
	case XJK_WORKER_LB:
		return lb_add(l, name);
	case XJK_WORKER_STATUS:
		return status_add(l, name);
	default:
		return backend_get(l, name, type, l->list_file, l->list_line) < 0 ? -1 : 0;
	}
}

static int read_list(struct loader *l)
{
	struct xjk_workers *w = l->w;
	const struct xjk_prop *list = xjk_props_get(l->p, "worker.list");
	int n;
	char **names = xjk_props_split(list ? list->value : "ajp13", &n);
	if (!names)
		return fail(l, l->list_file, l->list_line, "out of memory");
	w->list = calloc((size_t)n + 1, sizeof(char *));
	if (!w->list) {
		xjk_props_split_free(names, n);
		return fail(l, l->list_file, l->list_line, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		if (xjk_workers_listed(w, names[i])) {
			xjk_warn("%s:%d: worker '%s' appears twice in worker.list", l->list_file,
				 l->list_line, names[i]);
			free(names[i]);
			continue;
		}
		w->list[w->n_list++] = names[i];
	}
	free(names);
	return 0;
}

int xjk_workers_load(struct xjk_workers *w, const struct xjk_props *p, char *err, size_t errlen)
{
	const struct xjk_prop *list = xjk_props_get(p, "worker.list");
	struct loader l = {w,
			   p,
			   err,
			   errlen,
			   list ? list->file : "(default worker.list)",
			   list ? list->line : 0};
	memset(w, 0, sizeof(*w));
	w->maintain_s =
		clamp_min(xjk_props_int(xjk_props_get(p, "worker.maintain"), DEF_MAINTAIN_S), 1);
	int rc = read_list(&l);
	for (int i = 0; !rc && i < w->n_list; i++)
		rc = instantiate(&l, w->list[i]);
	if (rc)
		xjk_workers_free(w);
	return rc;
}

void xjk_workers_free(struct xjk_workers *w)
{
	for (int i = 0; i < w->n_backends; i++)
		free(w->backends[i].secret);
	free(w->backends);
	for (int i = 0; i < w->n_lbs; i++)
		free(w->lbs[i].members);
	free(w->lbs);
	for (int i = 0; i < w->n_statuses; i++)
		status_release(&w->statuses[i]);
	free(w->statuses);
	for (int i = 0; i < w->n_list; i++)
		free(w->list[i]);
	free(w->list);
	memset(w, 0, sizeof(*w));
}

int xjk_workers_find(const struct xjk_workers *w, const char *name, struct xjk_worker_ref *out)
{
	for (int i = 0; i < w->n_backends; i++) {
		if (!strcmp(w->backends[i].name, name)) {
			*out = (struct xjk_worker_ref){w->backends[i].type, i};
			return 0;
		}
	}
	for (int i = 0; i < w->n_lbs; i++) {
		if (!strcmp(w->lbs[i].name, name)) {
			*out = (struct xjk_worker_ref){XJK_WORKER_LB, i};
			return 0;
		}
	}
	for (int i = 0; i < w->n_statuses; i++) {
		if (!strcmp(w->statuses[i].name, name)) {
			*out = (struct xjk_worker_ref){XJK_WORKER_STATUS, i};
			return 0;
		}
	}
	return -1;
}

bool xjk_workers_listed(const struct xjk_workers *w, const char *name)
{
	for (int i = 0; i < w->n_list; i++)
		if (!strcmp(w->list[i], name))
			return true;
	return false;
}

const char *xjk_workers_ref_name(const struct xjk_workers *w, struct xjk_worker_ref ref)
{
	switch (ref.type) {
	case XJK_WORKER_LB:
		return w->lbs[ref.index].name;
	case XJK_WORKER_STATUS:
		return w->statuses[ref.index].name;
	default:
		return w->backends[ref.index].name;
	}
}

const char *xjk_worker_type_name(enum xjk_worker_type type)
{
	static const char *const names[] = {"ajp13", "http", "lb", "status"};
	return (unsigned)type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

const char *xjk_worker_state_name(enum xjk_worker_state state)
{
	static const char *const names[] = {"OK/IDLE", "OK",  "ERR/REC", "ERR/FRC",
					    "OK/BUSY", "ERR", "ERR/PRB"};
	return (unsigned)state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

const char *xjk_activation_name(enum xjk_activation activation)
{
	static const char *const names[] = {"ACT", "DIS", "STP"};
	return (unsigned)activation < sizeof(names) / sizeof(names[0]) ? names[activation] : "?";
}
