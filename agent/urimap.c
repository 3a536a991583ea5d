/* urimap.c: mod_jk's URI-to-worker rules (jk_uri_worker_map.c semantics):
 * rule syntax and extensions, precedence sort, matching with exclusions. */
#include "urimap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "props.h"
#include "workers.h"

enum member_list { LIST_ACTIVE, LIST_DISABLED, LIST_STOPPED, LIST_COUNT };

/* Parked activation lists (active=, disabled=, stopped=) per rule, until the
 * lb members are known in xjk_urimap_resolve. Indexed like urimap rules. */
struct pending {
	char *lists[LIST_COUNT];
};

struct xjk_urimap_priv {
	struct xjk_urimap pub;
	struct pending *pending;
	unsigned next_seq;
};

static struct xjk_urimap_priv *priv(struct xjk_urimap *m)
{
	return (struct xjk_urimap_priv *)m;
}

struct xjk_urimap *xjk_urimap_new(void)
{
	struct xjk_urimap_priv *p = calloc(1, sizeof(*p));
	return p ? &p->pub : NULL;
}

static void pending_release(struct pending *p)
{
	for (int i = 0; i < LIST_COUNT; i++) {
		free(p->lists[i]);
		p->lists[i] = NULL;
	}
}

static void mount_release(struct xjk_mount *r)
{
	free(r->pattern);
	free(r->worker);
	free(r->ext.activation);
	free(r->ext.session_cookie);
	free(r->ext.session_path);
	free(r->ext.session_cookie_path);
}

void xjk_urimap_free(struct xjk_urimap *m)
{
	if (!m)
		return;
	struct xjk_urimap_priv *p = priv(m);
	for (int i = 0; i < m->n; i++) {
		mount_release(&m->rules[i]);
		if (p->pending)
			pending_release(&p->pending[i]);
	}
	free(p->pending);
	free(m->rules);
	free(p);
}

static int grow(struct xjk_urimap *m)
{
	struct xjk_urimap_priv *p = priv(m);
	if (m->n < m->cap)
		return 0;
	int cap = m->cap ? m->cap * 2 : 16;
	struct xjk_mount *rules = realloc(m->rules, (size_t)cap * sizeof(*rules));
	if (!rules)
		return -1;
	m->rules = rules;
	struct pending *pend = realloc(p->pending, (size_t)cap * sizeof(*pend));
	if (!pend)
		return -1;
	p->pending = pend;
	m->cap = cap;
	return 0;
}

static bool has_prefix(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);
	if (strncmp(s, prefix, n))
		return false;
	*rest = s + n;
	return true;
}

static int ext_int(const char *v, const char *name, const char *file, int line)
{
	long n;
	if (xjk_props_parse_int(v, &n)) {
		xjk_warn("%s:%d: rule extension %s='%s' is not a number; using 0", file, line, name,
			 v);
		return 0;
	}
	return (int)n;
}

/* A string extension that may appear once; the first one counts, as in mod_jk. */
static int ext_once(char **dst, const char *v, const char *name, const char *file, int line)
{
	if (*dst) {
		xjk_warn("%s:%d: rule extension '%s' only allowed once", file, line, name);
		return 0;
	}
	*dst = strdup(v);
	return *dst ? 0 : -1;
}

static void ext_statuses(struct xjk_mount_ext *e, const char *v, const char *file, int line)
{
	int n;
	char **codes = xjk_props_split(v, &n);
	for (int i = 0; codes && i < n; i++) {
		if (e->n_fail_on_status == XJK_STATUS_LIST_MAX) {
			xjk_warn("%s:%d: more than %d fail_on_status codes; the rest are ignored",
				 file, line, XJK_STATUS_LIST_MAX);
			break;
		}
		e->fail_on_status[e->n_fail_on_status++] =
			ext_int(codes[i], "fail_on_status", file, line);
	}
	xjk_props_split_free(codes, n);
}

/* Parses ";name=value" extensions; tok is strtok_r state over the worker spec. */
static int parse_extensions(struct xjk_mount *r, struct pending *pend, char **save)
{
	static const char *const list_names[LIST_COUNT] = {"active=", "disabled=", "stopped="};
	struct xjk_mount_ext *e = &r->ext;
	const char *f = r->file, *v;
	int line = r->line, rc = 0;
	for (char *t = strtok_r(NULL, ";", save); t && !rc; t = strtok_r(NULL, ";", save)) {
		int list = -1;
		for (int i = 0; i < LIST_COUNT; i++)
			if (has_prefix(t, list_names[i], &v))
				list = i;
		if (list >= 0) {
			rc = ext_once(&pend->lists[list], v, list_names[list], f, line);
		} else if (has_prefix(t, "reply_timeout=", &v)) {
			e->reply_timeout = ext_int(v, "reply_timeout", f, line);
		} else if (has_prefix(t, "sticky_ignore=", &v)) {
			e->sticky_ignore = ext_int(v, "sticky_ignore", f, line) != 0;
		} else if (has_prefix(t, "stateless=", &v)) {
			e->stateless = ext_int(v, "stateless", f, line) != 0;
		} else if (has_prefix(t, "use_server_errors=", &v)) {
			e->use_server_errors = ext_int(v, "use_server_errors", f, line);
		} else if (has_prefix(t, "fail_on_status=", &v)) {
			if (e->n_fail_on_status)
				xjk_warn("%s:%d: rule extension 'fail_on_status' only allowed once",
					 f, line);
			else
				ext_statuses(e, v, f, line);
		} else if (has_prefix(t, "session_cookie=", &v)) {
			rc = ext_once(&e->session_cookie, v, "session_cookie", f, line);
		} else if (has_prefix(t, "session_path=", &v)) {
			/* "session_path=;jsessionid": the ';' split the value off. */
			char *next = *v ? NULL : strtok_r(NULL, ";", save);
			char buf[XJK_NAME_MAX];
			snprintf(buf, sizeof(buf), ";%s", next ? next : "");
			rc = ext_once(&e->session_path, next ? buf : v, "session_path", f, line);
		} else if (has_prefix(t, "set_session_cookie=", &v)) {
			e->set_session_cookie = ext_int(v, "set_session_cookie", f, line) != 0;
		} else if (has_prefix(t, "session_cookie_path=", &v)) {
			rc = ext_once(&e->session_cookie_path, v, "session_cookie_path", f, line);
		} else {
			xjk_warn("%s:%d: unknown rule extension '%s'", f, line, t);
		}
	}
	return rc;
}

/* One rule, modifiers included, without '|'. */
static int add_one(struct xjk_urimap *m, const char *uri, const char *spec,
		   enum xjk_mount_source source, const char *file, int line, char *err,
		   size_t errlen)
{
	struct xjk_mount r = {.source = source, .file = file, .line = line};
	struct pending pend = {0};
	r.ext.reply_timeout = -1;
	if (*uri == '-') {
		r.disabled = true;
		uri++;
	}
	if (*uri == '!') {
		r.exclude = true;
		uri++;
	}
	if (*uri != '/') {
		snprintf(err, errlen, "%s:%d: invalid URI pattern '%s': does not begin with '/'",
			 file, line, uri);
		return -1;
	}
	char *w = strdup(spec), *save = NULL;
	char *name = w ? strtok_r(w, ";", &save) : NULL;
	if (!name) {
		snprintf(err, errlen, "%s:%d: no worker for '%s'", file, line, uri);
		free(w);
		return -1;
	}
	r.pattern = strdup(uri);
	r.worker = strdup(name);
	r.pattern_len = strlen(uri);
	r.wildcard = strpbrk(uri, "*?") != NULL;
	r.head_len = strcspn(uri, "*?");
	const char *star = strrchr(uri, '*');
	r.tail_len = star && !strchr(star, '?') ? strlen(star + 1) : 0;
	for (const char *c = uri; *c; c++)
		r.slashes += *c == '/';
	int rc = !r.pattern || !r.worker || parse_extensions(&r, &pend, &save) || grow(m);
	free(w);
	if (rc) {
		mount_release(&r);
		pending_release(&pend);
		snprintf(err, errlen, "%s:%d: out of memory", file, line);
		return -1;
	}
	r.seq = priv(m)->next_seq++;
	priv(m)->pending[m->n] = pend;
	m->rules[m->n++] = r;
	return 0;
}

int xjk_urimap_add(struct xjk_urimap *m, const char *uri, const char *worker,
		   enum xjk_mount_source source, const char *file, int line, char *err,
		   size_t errlen)
{
	const char *bar = strchr(uri, '|');
	if (!bar)
		return add_one(m, uri, worker, source, file, line, err, errlen);
	/* "X|Y" is two rules, X and XY: "/app|/x" mounts /app and /app/x. */
	size_t n = strlen(uri);
	char *joined = malloc(n);
	if (!joined) {
		snprintf(err, errlen, "%s:%d: out of memory", file, line);
		return -1;
	}
	memcpy(joined, uri, (size_t)(bar - uri));
	memcpy(joined + (bar - uri), bar + 1, n - (size_t)(bar - uri));
	char *first = strndup(uri, (size_t)(bar - uri));
	int rc = !first ? -1 : add_one(m, first, worker, source, file, line, err, errlen);
	if (!rc)
		rc = add_one(m, joined, worker, source, file, line, err, errlen);
	free(first);
	free(joined);
	return rc;
}

static int member_index(const struct xjk_workers *w, const struct xjk_lb *lb, const char *name)
{
	for (int i = 0; i < lb->n_members; i++)
		if (!strcmp(w->backends[lb->members[i]].name, name))
			return i;
	return -1;
}

static int apply_activation(struct xjk_mount *r, struct pending *pend, const struct xjk_workers *w)
{
	static const enum xjk_activation values[LIST_COUNT] = {XJK_ACTIVE, XJK_DISABLED,
							       XJK_STOPPED};
	for (int l = 0; l < LIST_COUNT; l++) {
		if (!pend->lists[l])
			continue;
		if (r->ref.type != XJK_WORKER_LB) {
			xjk_warn("%s:%d: worker '%s' is not of type lb; activation extension "
				 "ignored",
				 r->file, r->line, r->worker);
			continue;
		}
		const struct xjk_lb *lb = &w->lbs[r->ref.index];
		if (!r->ext.activation) {
			r->ext.activation = malloc((size_t)lb->n_members + 1);
			if (!r->ext.activation)
				return -1;
			memset(r->ext.activation, -1, (size_t)lb->n_members + 1);
		}
		int n;
		char **names = xjk_props_split(pend->lists[l], &n);
		if (!names)
			return -1;
		for (int i = 0; i < n; i++) {
			int idx = member_index(w, lb, names[i]);
			if (idx < 0)
				xjk_warn("%s:%d: could not find member %s of load balancer %s",
					 r->file, r->line, names[i], lb->name);
			else if (r->ext.activation[idx] >= 0)
				xjk_warn("%s:%d: inconsistent activation overwrite for member %s "
					 "of load balancer %s",
					 r->file, r->line, names[i], lb->name);
			if (idx >= 0)
				r->ext.activation[idx] = (int8_t)values[l];
		}
		xjk_props_split_free(names, n);
	}
	return 0;
}

static void check_session_ext(const struct xjk_mount *r)
{
	if (r->ref.type == XJK_WORKER_LB)
		return;
	if (r->ext.session_cookie || r->ext.session_path || r->ext.session_cookie_path ||
	    r->ext.set_session_cookie)
		xjk_warn("%s:%d: worker '%s' is not of type lb; session extensions ignored",
			 r->file, r->line, r->worker);
}

/* Most '/' first, then the longer pattern, then the higher source, then the
 * order of definition (mod_jk leaves that last tie undefined). */
static int precedence(const void *a, const void *b)
{
	const struct xjk_mount *x = a, *y = b;
	if (x->slashes != y->slashes)
		return y->slashes - x->slashes;
	if (x->pattern_len != y->pattern_len)
		return x->pattern_len < y->pattern_len ? 1 : -1;
	if (x->source != y->source)
		return (int)y->source - (int)x->source;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int xjk_urimap_resolve(struct xjk_urimap *m, const struct xjk_workers *w, char *err, size_t errlen)
{
	struct xjk_urimap_priv *p = priv(m);
	for (int i = 0; i < m->n; i++) {
		struct xjk_mount *r = &m->rules[i];
		if (r->exclude)
			continue;
		if (!xjk_workers_listed(w, r->worker) || xjk_workers_find(w, r->worker, &r->ref)) {
			snprintf(err, errlen, "%s:%d: Could not find worker with name '%s'",
				 r->file, r->line, r->worker);
			return -1;
		}
		if (apply_activation(r, &p->pending[i], w)) {
			snprintf(err, errlen, "%s:%d: out of memory", r->file, r->line);
			return -1;
		}
		check_session_ext(r);
	}
	for (int i = 0; i < m->n; i++)
		pending_release(&p->pending[i]);
	if (m->n) /* an empty map has rules == NULL, which qsort must not get */
		qsort(m->rules, (size_t)m->n, sizeof(*m->rules), precedence);
	return 0;
}

bool xjk_urimap_wildcard_match(const char *p, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*p == '?' || (*p && *p == *s && *p != '*')) {
			p++;
			s++;
		} else if (*p == '*') {
			star = p++;
			resume = s;
		} else if (star) {
			/* Let the last '*' swallow one more character and retry. */
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

static bool rule_matches(const struct xjk_mount *r, const char *path, size_t len)
{
	if (!r->wildcard)
		return len == r->pattern_len && !memcmp(r->pattern, path, len);
	if (len < r->head_len + r->tail_len || memcmp(r->pattern, path, r->head_len) ||
	    memcmp(r->pattern + r->pattern_len - r->tail_len, path + len - r->tail_len,
		   r->tail_len))
		return false;
	return xjk_urimap_wildcard_match(r->pattern + r->head_len, path + r->head_len);
}

const struct xjk_mount *xjk_urimap_match(const struct xjk_urimap *m, const char *path)
{
	const struct xjk_mount *win = NULL;
	size_t len = strlen(path);
	for (int i = 0; i < m->n && !win; i++) {
		const struct xjk_mount *r = &m->rules[i];
		if (!r->disabled && !r->exclude && rule_matches(r, path, len))
			win = r;
	}
	if (!win)
		return NULL;
	/* Exclusions for the winner's worker (or "*") veto; no other rule is tried. */
	for (int i = 0; i < m->n; i++) {
		const struct xjk_mount *r = &m->rules[i];
		if (!r->exclude || r->disabled)
			continue;
		if (strcmp(r->worker, win->worker) && strcmp(r->worker, "*"))
			continue;
		if (rule_matches(r, path, len))
			return NULL;
	}
	return win;
}

int xjk_uri_normalize(char *path)
{
	if (path[0] != '/')
		return -1;
	/* Output never outruns input: o stays at or before the '/' being read. */
	size_t o = 0;
	const char *in = path;
	bool slash_end = false;
	while (*in) {
		while (*in == '/')
			in++;
		const char *seg = in;
		while (*in && *in != '/' && *in != ';')
			in++;
		size_t len = (size_t)(in - seg);
		while (*in && *in != '/')
			in++; /* path parameters */
		if (len == 0 || (len == 1 && seg[0] == '.')) {
			slash_end = true;
			continue;
		}
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			if (o == 0)
				return -1;
			while (path[o - 1] != '/')
				o--;
			o--;
			slash_end = true;
			continue;
		}
		path[o] = '/';
		memmove(path + o + 1, seg, len);
		o += len + 1;
		slash_end = false;
	}
	if (o == 0 || slash_end)
		path[o++] = '/';
	path[o] = '\0';
	return 0;
}
