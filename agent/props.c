/* props.c: mod_jk's property-file dialect (jk_map.c behaviour, re-implemented). */
#include "props.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#define REFERENCE_DEPTH_MAX 20 /* mod_jk's JK_MAP_RECURSION */
#define SUBSTITUTIONS_MAX   20

enum attr_flags {
	ATTR_LIST = 1,	     /* duplicates concatenate with ',' */
	ATTR_UNIQUE = 2,     /* duplicates replace, with a warning */
	ATTR_DEPRECATED = 4, /* accepted with a warning */
};

/* Every attribute mod_jk 1.2.51 accepts after "worker.<name>." (jk_util.c's
 * supported_properties), with its duplicate handling. "list" and "maintain"
 * are the globals worker.list and worker.maintain. balanced_workers is a list
 * here although mod_jk joins it with '*' (which then splits wrongly). */
static const struct {
	const char *name;
	unsigned flags;
} attrs[] = {
	{"sysprops", ATTR_DEPRECATED},
	{"stderr", ATTR_DEPRECATED},
	{"stdout", ATTR_DEPRECATED},
	{"secret", ATTR_UNIQUE},
	{"mx", ATTR_DEPRECATED},
	{"ms", ATTR_DEPRECATED},
	{"class_path", ATTR_DEPRECATED},
	{"bridge", ATTR_DEPRECATED},
	{"jvm_lib", ATTR_DEPRECATED},
	{"ld_path", ATTR_DEPRECATED},
	{"cmd_line", ATTR_DEPRECATED},
	{"native_lib", ATTR_DEPRECATED},
	{"reference", ATTR_UNIQUE},
	{"host", ATTR_UNIQUE},
	{"source", ATTR_UNIQUE},
	{"port", ATTR_UNIQUE},
	{"type", ATTR_UNIQUE},
	{"cachesize", ATTR_UNIQUE | ATTR_DEPRECATED},
	{"connection_pool_size", ATTR_UNIQUE},
	{"connection_pool_minsize", ATTR_UNIQUE},
	{"cache_timeout", ATTR_UNIQUE | ATTR_DEPRECATED},
	{"connection_pool_timeout", ATTR_UNIQUE},
	{"connection_acquire_timeout", ATTR_UNIQUE},
	{"recovery_options", ATTR_UNIQUE},
	{"connect_timeout", ATTR_UNIQUE},
	{"prepost_timeout", ATTR_UNIQUE},
	{"ping_timeout", ATTR_UNIQUE},
	{"ping_mode", ATTR_UNIQUE},
	{"reply_timeout", ATTR_UNIQUE},
	{"socket_timeout", ATTR_UNIQUE},
	{"socket_connect_timeout", ATTR_UNIQUE},
	{"socket_buffer", ATTR_UNIQUE},
	{"socket_keepalive", ATTR_UNIQUE},
	{"connection_ping_interval", ATTR_UNIQUE},
	{"recycle_timeout", ATTR_UNIQUE | ATTR_DEPRECATED},
	{"lbfactor", ATTR_UNIQUE},
	{"distance", 0},
	{"balanced_workers", ATTR_LIST | ATTR_DEPRECATED},
	{"balance_workers", ATTR_LIST},
	{"sticky_session", ATTR_UNIQUE},
	{"sticky_session_force", ATTR_UNIQUE},
	{"session_cookie", ATTR_UNIQUE},
	{"session_path", ATTR_UNIQUE},
	{"set_session_cookie", ATTR_UNIQUE},
	{"session_cookie_path", ATTR_UNIQUE},
	{"local_worker", ATTR_UNIQUE | ATTR_DEPRECATED},
	{"local_worker_only", ATTR_UNIQUE | ATTR_DEPRECATED},
	{"jvm_route", ATTR_UNIQUE | ATTR_DEPRECATED},
	{"route", ATTR_UNIQUE},
	{"domain", ATTR_UNIQUE},
	{"redirect", ATTR_UNIQUE},
	{"mount", ATTR_LIST},
	{"method", ATTR_UNIQUE},
	{"lock", ATTR_UNIQUE},
	{"disabled", ATTR_UNIQUE | ATTR_DEPRECATED},
	{"stopped", ATTR_UNIQUE | ATTR_DEPRECATED},
	{"activation", ATTR_UNIQUE},
	{"recover_time", ATTR_UNIQUE},
	{"error_escalation_time", ATTR_UNIQUE},
	{"max_reply_timeouts", ATTR_UNIQUE},
	{"retry_interval", ATTR_UNIQUE},
	{"busy_limit", ATTR_UNIQUE},
	{"max_packet_size", ATTR_UNIQUE},
	{"css", ATTR_UNIQUE},
	{"ns", ATTR_UNIQUE},
	{"xmlns", ATTR_UNIQUE},
	{"doctype", ATTR_UNIQUE},
	{"prefix", ATTR_UNIQUE},
	{"read_only", ATTR_UNIQUE},
	{"user", ATTR_LIST},
	{"user_case_insensitive", ATTR_UNIQUE},
	{"good", ATTR_LIST},
	{"bad", ATTR_LIST},
	{"secretkey", 0},
	{"retries", ATTR_UNIQUE},
	{"lb_retries", ATTR_UNIQUE},
	{"fail_on_status", ATTR_LIST},
	{"list", ATTR_LIST},
	{"maintain", ATTR_UNIQUE},
	{"prefer_ipv6", ATTR_UNIQUE},
};

static bool ends_with_attr(const char *key, const char *sep, const char *attr)
{
	size_t kl = strlen(key), al = strlen(attr), sl = strlen(sep);
	return kl > al + sl && !memcmp(key + kl - al - sl, sep, sl) && !strcmp(key + kl - al, attr);
}

/* mod_jk matches attributes by suffix, so worker names may contain dots
 * (worker.tomcat-6.0.26-1.port ends in ".port"). -1 when unknown. */
static int attr_lookup(const char *key)
{
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (ends_with_attr(key, ".", attrs[i].name))
			return (int)i;
	return -1;
}

static bool is_worker_key(const char *key)
{
	return !strncmp(key, "worker.", 7);
}

/* The separator used when a non-unique key repeats; 0 means "replace". */
static char duplicate_separator(const char *key)
{
	int a = attr_lookup(key);
	if (a >= 0 && (attrs[a].flags & ATTR_UNIQUE))
		return 0;
	if (a >= 0 && (attrs[a].flags & ATTR_LIST))
		return ',';
	if (ends_with_attr(key, "_", "path"))
		return ':';
	if (ends_with_attr(key, ".", "cmd_line"))
		return ' ';
	return '*';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char *trim(char *s)
{
	while (is_space(*s))
		s++;
	size_t n = strlen(s);
	while (n && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

void xjk_props_init(struct xjk_props *p, enum xjk_props_mode mode)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode;
}

void xjk_props_free(struct xjk_props *p)
{
	for (int i = 0; i < p->n; i++) {
		free(p->items[i].key);
		free(p->items[i].value);
	}
	free(p->items);
	p->items = NULL;
	p->n = p->cap = 0;
}

static int find_index(const struct xjk_props *p, const char *key)
{
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->items[i].key, key))
			return i;
	return -1;
}

const struct xjk_prop *xjk_props_get(const struct xjk_props *p, const char *key)
{
	int i = find_index(p, key);
	return i < 0 ? NULL : &p->items[i];
}

const struct xjk_prop *xjk_props_worker(const struct xjk_props *p, const char *name,
					const char *attr)
{
	char key[XJK_PROPS_LINE_MAX];
	if ((size_t)snprintf(key, sizeof(key), "worker.%s.%s", name, attr) >= sizeof(key))
		return NULL;
	return xjk_props_get(p, key);
}

/* Takes ownership of key and value. */
static int append(struct xjk_props *p, char *key, char *value, const char *file, int line)
{
	if (p->n == p->cap) {
		int cap = p->cap ? p->cap * 2 : 32;
		struct xjk_prop *items = realloc(p->items, (size_t)cap * sizeof(*items));
		if (!items) {
			free(key);
			free(value);
			return -1;
		}
		p->items = items;
		p->cap = cap;
	}
	p->items[p->n++] = (struct xjk_prop){key, value, file, line};
	return 0;
}

/* A growable string for building substituted values. */
struct buf {
	char *s;
	size_t len, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *ns = realloc(b->s, cap);
		if (!ns)
			return -1;
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

/* $(name): an earlier property, then the environment; unknown names stay
 * literal and a substituted value is not scanned again. Returns a new string. */
static char *substitute(const struct xjk_props *p, const char *v)
{
	struct buf b = {0};
	int rounds = 0;
	if (buf_add(&b, "", 0))
		return NULL;
	for (;;) {
		const char *start = strstr(v, "$(");
		const char *end = start ? strchr(start + 2, ')') : NULL;
		if (!end || rounds++ >= SUBSTITUTIONS_MAX)
			break;
		char name[XJK_PROPS_LINE_MAX];
		size_t nl = (size_t)(end - start - 2);
		memcpy(name, start + 2, nl);
		name[nl] = '\0';
		const struct xjk_prop *ref = xjk_props_get(p, name);
		const char *val = ref ? ref->value : getenv(name);
		if (buf_add(&b, v, (size_t)(start - v)) ||
		    (val ? buf_add(&b, val, strlen(val))
			 : buf_add(&b, start, (size_t)(end + 1 - start)))) {
			free(b.s);
			return NULL;
		}
		v = end + 1;
	}
	if (buf_add(&b, v, strlen(v))) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static int store(struct xjk_props *p, const char *key, char *value, const char *file, int line)
{
	int i = find_index(p, key);
	if (i < 0) {
		char *k = strdup(key);
		if (!k) {
			free(value);
			return -1;
		}
		return append(p, k, value, file, line);
	}
	struct xjk_prop *old = &p->items[i];
	char sep = p->mode == XJK_PROPS_WORKERS ? duplicate_separator(key) : 0;
	if (!sep) {
		xjk_warn("%s:%d: duplicate key '%s': previous value '%s' (%s:%d) replaced by '%s'",
			 file, line, key, old->value, old->file, old->line, value);
		free(old->value);
		old->value = value;
		old->file = file;
		old->line = line;
		return 0;
	}
	size_t ol = strlen(old->value), nl = strlen(value);
	char *joined = malloc(ol + nl + 2);
	if (!joined) {
		free(value);
		return -1;
	}
	memcpy(joined, old->value, ol);
	joined[ol] = sep;
	memcpy(joined + ol + 1, value, nl + 1);
	free(value);
	free(old->value);
	old->value = joined;
	return 0;
}

int xjk_props_add_line(struct xjk_props *p, const char *line, const char *file, int lineno,
		       char *err, size_t errlen)
{
	size_t len = strlen(line);
	if (len > XJK_PROPS_LINE_MAX) {
		snprintf(err, errlen, "%s:%d: line too long (%zu > %d characters)", file, lineno,
			 len, XJK_PROPS_LINE_MAX);
		return -1;
	}
	char copy[XJK_PROPS_LINE_MAX + 1];
	memcpy(copy, line, len + 1);
	char *eq = strchr(copy, '=');
	if (!eq)
		return 0;
	*eq = '\0';
	char *key = trim(copy);
	char *value = trim(eq + 1);
	if (!*key || !*value)
		return 0;
	if (p->mode == XJK_PROPS_WORKERS && is_worker_key(key)) {
		int a = attr_lookup(key);
		if (a < 0) {
			snprintf(err, errlen, "%s:%d: The attribute '%s' is not supported", file,
				 lineno, key);
			return -1;
		}
		if (attrs[a].flags & ATTR_DEPRECATED)
			xjk_warn("%s:%d: the attribute '%s' is deprecated", file, lineno, key);
	}
	char *v = substitute(p, value);
	if (!v || store(p, key, v, file, lineno)) {
		snprintf(err, errlen, "%s:%d: out of memory", file, lineno);
		return -1;
	}
	return 0;
}

int xjk_props_read_file(struct xjk_props *p, const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, rc = 0;
	bool warned = false;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (xjk_props_nbsp_to_space(line) && !warned) {
			xjk_warn("%s:%d: no-break spaces (U+00A0) are treated as spaces in this "
				 "file",
				 file, lineno);
			warned = true;
		}
		/* The first '#' ends the line, even inside a value: mod_jk has no quoting. */
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		rc = xjk_props_add_line(p, line, file, lineno, err, errlen);
		if (rc)
			break;
	}
	free(line);
	fclose(f);
	return rc;
}

/* Copies every "<from>.*" property that "<to>.*" lacks. Returns the number of
 * source properties found, or -1 on allocation failure. */
static int inherit(struct xjk_props *p, const char *from, const char *to)
{
	size_t fl = strlen(from);
	int n = p->n, found = 0;
	for (int i = 0; i < n; i++) {
		const struct xjk_prop *src = &p->items[i];
		if (strncmp(src->key, from, fl) || src->key[fl] != '.')
			continue;
		found++;
		/* A reference is resolved, not inherited: copying one would make a
		 * prefix nested in its source (worker.t.x referring to worker.t)
		 * grow a new reference on every pass, without end. */
		if (ends_with_attr(src->key, ".", "reference"))
			continue;
		char *key;
		if (asprintf(&key, "%s%s", to, src->key + fl) < 0)
			return -1;
		if (find_index(p, key) >= 0) {
			free(key);
			continue;
		}
		char *value = strdup(src->value);
		/* src may move when append grows the array: copy its fields first. */
		const char *file = src->file;
		int line = src->line;
		if (!value || append(p, key, value, file, line)) {
			free(key);
			return -1;
		}
	}
	return found;
}

/* prefix is "worker.<name>"; resolves its reference, if any, depth-first. */
static int resolve(struct xjk_props *p, const char *prefix, int depth, char *err, size_t errlen)
{
	char key[XJK_PROPS_LINE_MAX];
	snprintf(key, sizeof(key), "%s.reference", prefix);
	int i = find_index(p, key);
	if (i < 0)
		return 0;
	const char *file = p->items[i].file;
	int line = p->items[i].line;
	if (depth >= REFERENCE_DEPTH_MAX) {
		snprintf(err, errlen, "%s:%d: reference recursion limit %d exceeded at '%s'", file,
			 line, REFERENCE_DEPTH_MAX, key);
		return -1;
	}
	char *from = strdup(p->items[i].value);
	if (!from) {
		snprintf(err, errlen, "%s:%d: out of memory", file, line);
		return -1;
	}
	int rc = resolve(p, from, depth + 1, err, errlen);
	if (!rc) {
		int found = inherit(p, from, prefix);
		if (found < 0)
			snprintf(err, errlen, "%s:%d: out of memory", file, line);
		else if (found == 0)
			snprintf(err, errlen,
				 "%s:%d: Reference '%s' not found (the value must be a full "
				 "prefix such as worker.template)",
				 file, line, from);
		rc = found > 0 ? 0 : -1;
	}
	free(from);
	return rc;
}

int xjk_props_resolve_references(struct xjk_props *p, char *err, size_t errlen)
{
	for (int i = 0; i < p->n; i++) {
		const char *key = p->items[i].key;
		size_t kl = strlen(key);
		if (!is_worker_key(key) || !ends_with_attr(key, ".", "reference") ||
		    kl <= strlen("worker..reference"))
			continue;
		char prefix[XJK_PROPS_LINE_MAX];
		size_t pl = kl - strlen(".reference");
		memcpy(prefix, key, pl);
		prefix[pl] = '\0';
		if (resolve(p, prefix, 0, err, errlen))
			return -1;
	}
	return 0;
}

int xjk_props_parse_int(const char *s, long *out)
{
	char num[32];
	size_t n = strlen(s);
	long mult = 1;
	if (n && (s[n - 1] == 'k' || s[n - 1] == 'K'))
		mult = 1024;
	else if (n && (s[n - 1] == 'm' || s[n - 1] == 'M'))
		mult = 1024 * 1024;
	if (mult > 1)
		n--;
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	char *end;
	errno = 0;
	long v = strtol(num, &end, 10);
	if (errno || *end || v > __INT_MAX__ / mult || v < -__INT_MAX__ / mult)
		return -1;
	*out = v * mult;
	return 0;
}

long xjk_props_int(const struct xjk_prop *prop, long def)
{
	long v;
	if (!prop)
		return def;
	if (xjk_props_parse_int(prop->value, &v)) {
		xjk_warn("%s:%d: '%s' is not a number for %s; using the default %ld", prop->file,
			 prop->line, prop->value, prop->key, def);
		return def;
	}
	return v;
}

bool xjk_props_parse_bool(const char *s, bool def)
{
	if (!*s)
		return def;
	if (!strcasecmp(s, "off") || strchr("fFnN", *s) || !strcmp(s, "0"))
		return false;
	if (!strcasecmp(s, "on") || strchr("tTyY", *s) || !strcmp(s, "1"))
		return true;
	return def;
}

bool xjk_props_bool(const struct xjk_prop *prop, bool def)
{
	return prop ? xjk_props_parse_bool(prop->value, def) : def;
}

char **xjk_props_split(const char *s, int *n)
{
	char *copy = strdup(s);
	char **v = calloc(strlen(s) / 2 + 1, sizeof(*v));
	char *save = NULL;
	*n = 0;
	if (!copy || !v)
		goto fail;
	for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		v[*n] = strdup(t);
		if (!v[*n])
			goto fail;
		(*n)++;
	}
	free(copy);
	return v;
fail:
	xjk_props_split_free(v, *n);
	free(copy);
	return NULL;
}

void xjk_props_split_free(char **v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int xjk_props_nbsp_to_space(char *s)
{
	int n = 0;
	for (; *s; s++) {
		if ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0) {
			s[0] = s[1] = ' ';
			n++;
		}
	}
	return n;
}

int xjk_props_vfail(char *err, size_t errlen, const char *file, int line, const char *fmt,
		    va_list ap)
{
	int n = snprintf(err, errlen, "%s:%d: ", file, line);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -1;
}
