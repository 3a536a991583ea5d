/* health_conf.c: the XjkHealthCheck directive and the settings it gives each
 * backend (defaults, then matching rules in order). */
#include "health.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "props.h"
#include "workers.h"

static const char *const type_names[] = {
	[XJK_HEALTH_AUTO] = "auto", [XJK_HEALTH_OFF] = "off", [XJK_HEALTH_AJP] = "ajp",
	[XJK_HEALTH_HTTP] = "http", [XJK_HEALTH_TCP] = "tcp",
};

const char *xjk_health_type_name(enum xjk_health_type type)
{
	return type_names[type];
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The integer options: name, where it goes, its bit, and its range. */
struct int_option {
	const char *name;
	size_t off;
	unsigned bit;
	long lo, hi;
};

#define PARAM(field) offsetof(struct xjk_health_params, field)

static const struct int_option int_options[] = {
	{"interval", PARAM(interval_ms), XJK_HEALTH_SET_INTERVAL, 10, 3600000},
	{"timeout", PARAM(timeout_ms), XJK_HEALTH_SET_TIMEOUT, 10, 3600000},
	{"rise", PARAM(rise), XJK_HEALTH_SET_RISE, 1, 1000},
	{"fall", PARAM(fall), XJK_HEALTH_SET_FALL, 1, 1000},
	{"expect", PARAM(expect), XJK_HEALTH_SET_EXPECT, 100, 599},
	{"port", PARAM(port), XJK_HEALTH_SET_PORT, 1, 65535},
};

static int parse_type(struct xjk_health_params *p, const char *v, char *err, size_t errlen)
{
	for (int t = XJK_HEALTH_AJP; t <= XJK_HEALTH_TCP; t++) {
		if (!strcasecmp(v, type_names[t])) {
			p->type = t;
			p->set |= XJK_HEALTH_SET_TYPE;
			return 0;
		}
	}
	return fail(err, errlen, "XjkHealthCheck: type must be ajp, http or tcp, not '%s'", v);
}

static int parse_jitter(struct xjk_health_params *p, const char *v, char *err, size_t errlen)
{
	char num[16];
	size_t n = strlen(v);
	if (n && v[n - 1] == '%')
		n--;
	long pct;
	if (!n || n >= sizeof(num))
		return fail(err, errlen, "XjkHealthCheck: jitter must be 0%% to 50%%, not '%s'", v);
	memcpy(num, v, n);
	num[n] = '\0';
	if (xjk_props_parse_int(num, &pct) || pct < 0 || pct > 50)
		return fail(err, errlen, "XjkHealthCheck: jitter must be 0%% to 50%%, not '%s'", v);
	p->jitter_pct = (int)pct;
	p->set |= XJK_HEALTH_SET_JITTER;
	return 0;
}

static int parse_path(struct xjk_health_params *p, const char *v, char *err, size_t errlen)
{
	if (v[0] != '/' || strlen(v) >= sizeof(p->path) || strpbrk(v, " \t\r\n"))
		return fail(err, errlen,
			    "XjkHealthCheck: path must start with '/', have no spaces and fewer "
			    "than %zu bytes",
			    sizeof(p->path));
	strcpy(p->path, v);
	p->set |= XJK_HEALTH_SET_PATH;
	return 0;
}

static int parse_option(struct xjk_health_params *p, const char *arg, char *err, size_t errlen)
{
	if (!strcasecmp(arg, "off")) {
		p->type = XJK_HEALTH_OFF;
		p->set |= XJK_HEALTH_SET_TYPE;
		return 0;
	}
	const char *eq = strchr(arg, '=');
	if (!eq)
		return fail(err, errlen, "XjkHealthCheck: '%s' is not off or NAME=VALUE", arg);
	size_t klen = (size_t)(eq - arg);
	const char *v = eq + 1;
#define KEY(k) (klen == strlen(k) && !strncasecmp(arg, k, klen))
	if (KEY("type"))
		return parse_type(p, v, err, errlen);
	if (KEY("jitter"))
		return parse_jitter(p, v, err, errlen);
	if (KEY("path"))
		return parse_path(p, v, err, errlen);
	for (size_t i = 0; i < sizeof(int_options) / sizeof(int_options[0]); i++) {
		const struct int_option *o = &int_options[i];
		long n;
		if (!KEY(o->name))
			continue;
		if (xjk_props_parse_int(v, &n) || n < o->lo || n > o->hi)
			return fail(err, errlen,
				    "XjkHealthCheck: %s needs a number from %ld to %ld, "
				    "not '%s'",
				    o->name, o->lo, o->hi, v);
		*(int *)((char *)p + o->off) = (int)n;
		p->set |= o->bit;
		return 0;
	}
#undef KEY
	return fail(err, errlen, "XjkHealthCheck: unknown option '%.*s'", (int)klen, arg);
}

int xjk_health_directive(struct xjk_health_config *hc, int argc, char **argv, const char *file,
			 int line, char *err, size_t errlen)
{
	if (argc < 2)
		return fail(err, errlen,
			    "XjkHealthCheck takes WORKER|* and off or NAME=VALUE options");
	struct xjk_health_rule r = {.file = file, .line = line};
	if (strlen(argv[0]) >= sizeof(r.worker))
		return fail(err, errlen, "XjkHealthCheck: worker name '%s' too long", argv[0]);
	strcpy(r.worker, argv[0]);
	for (int i = 1; i < argc; i++)
		if (parse_option(&r.p, argv[i], err, errlen))
			return -1;
	struct xjk_health_rule *rules =
		realloc(hc->rules, (size_t)(hc->n_rules + 1) * sizeof(*rules));
	if (!rules)
		return fail(err, errlen, "out of memory");
	hc->rules = rules;
	rules[hc->n_rules++] = r;
	return 0;
}

int xjk_health_config_check(const struct xjk_health_config *hc, const struct xjk_workers *w,
			    char *err, size_t errlen)
{
	for (int i = 0; i < hc->n_rules; i++) {
		const struct xjk_health_rule *r = &hc->rules[i];
		struct xjk_worker_ref ref;
		if (!strcmp(r->worker, "*"))
			continue;
		if (xjk_workers_find(w, r->worker, &ref))
			return fail(err, errlen, "%s:%d: XjkHealthCheck: no worker '%s'", r->file,
				    r->line, r->worker);
		if (ref.type == XJK_WORKER_STATUS)
			return fail(err, errlen,
				    "%s:%d: XjkHealthCheck: '%s' is a status worker, nothing to "
				    "check",
				    r->file, r->line, r->worker);
	}
	return 0;
}

static bool rule_matches(const struct xjk_health_rule *r, const struct xjk_workers *w, int b)
{
	struct xjk_worker_ref ref;
	if (!strcmp(r->worker, "*"))
		return true;
	if (xjk_workers_find(w, r->worker, &ref))
		return false;
	if (ref.type == XJK_WORKER_AJP13 || ref.type == XJK_WORKER_HTTP)
		return ref.index == b;
	if (ref.type != XJK_WORKER_LB)
		return false;
	const struct xjk_lb *lb = &w->lbs[ref.index];
	for (int m = 0; m < lb->n_members; m++)
		if (lb->members[m] == b)
			return true;
	return false;
}

static void apply(struct xjk_health_params *out, const struct xjk_health_params *p)
{
	if (p->set & XJK_HEALTH_SET_TYPE)
		out->type = p->type;
	for (size_t i = 0; i < sizeof(int_options) / sizeof(int_options[0]); i++)
		if (p->set & int_options[i].bit)
			*(int *)((char *)out + int_options[i].off) =
				*(const int *)((const char *)p + int_options[i].off);
	if (p->set & XJK_HEALTH_SET_JITTER)
		out->jitter_pct = p->jitter_pct;
	if (p->set & XJK_HEALTH_SET_PATH)
		strcpy(out->path, p->path);
	out->set |= p->set;
}

void xjk_health_params_for(const struct xjk_health_config *hc, const struct xjk_workers *w, int b,
			   struct xjk_health_params *out)
{
	const struct xjk_backend *be = &w->backends[b];
	*out = (struct xjk_health_params){
		.type = XJK_HEALTH_AUTO,
		.interval_ms = XJK_HEALTH_INTERVAL_MS,
		.timeout_ms = XJK_HEALTH_TIMEOUT_MS,
		.rise = XJK_HEALTH_RISE,
		.fall = XJK_HEALTH_FALL,
		.jitter_pct = XJK_HEALTH_JITTER_PCT,
		.expect = XJK_HEALTH_EXPECT,
		.path = "/",
	};
	for (int i = 0; i < hc->n_rules; i++)
		if (rule_matches(&hc->rules[i], w, b))
			apply(out, &hc->rules[i].p);
	if (out->type == XJK_HEALTH_AUTO)
		out->type = be->type == XJK_WORKER_HTTP ? XJK_HEALTH_HTTP : XJK_HEALTH_AJP;
	/* mod_jk's ping_timeout is how long a CPong may take on this worker; a
	 * health CPing that waited longer would call a node healthy that the
	 * data path calls broken. A larger ping_timeout (the default is 10 s)
	 * must not slow detection down, so it only ever lowers the timeout. */
	if (out->type == XJK_HEALTH_AJP && !(out->set & XJK_HEALTH_SET_TIMEOUT) &&
	    be->ping_timeout > 0 && be->ping_timeout < out->timeout_ms)
		out->timeout_ms = be->ping_timeout;
}

void xjk_health_config_free(struct xjk_health_config *hc)
{
	free(hc->rules);
	hc->rules = NULL;
	hc->n_rules = 0;
}
