/* admin_render.c: the model as JSON (/status.json, xjkctl status --json),
 * Prometheus text (/metrics) and plain text (xjkctl status, members). */
#include "admin.h"

#include <stdarg.h>
#include <stdio.h>

#include "workers.h"

static const char *const method_names[] = {"Request", "Traffic", "Busyness", "Sessions", "Next"};

static const char *method_name(enum xjk_lb_method m)
{
	return (unsigned)m < sizeof(method_names) / sizeof(method_names[0]) ? method_names[m] : "?";
}

int xjk_admin_printf(struct xjk_buf *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *w = n < 0 ? NULL : xjk_buf_reserve(out, (size_t)n + 1);
	if (!w)
		return -1;
	va_start(ap, fmt);
	vsnprintf(w, (size_t)n + 1, fmt, ap);
	va_end(ap);
	xjk_buf_commit(out, (size_t)n);
	return 0;
}

/* The first lb that has backend B, for the metrics' lb label ("" when none). */
static const char *lb_of(const struct xjk_admin_model *m, int b)
{
	for (int l = 0; l < m->n_lbs; l++)
		for (int k = 0; k < m->lbs[l].conf->n_members; k++)
			if (m->lbs[l].members[k].backend == b)
				return m->lbs[l].conf->name;
	return "";
}

/* ---- JSON ---- */

/* A JSON string literal. Configuration strings are bytes; control characters
 * and anything outside ASCII printable are escaped so the output is valid. */
static int json_str(struct xjk_buf *out, const char *s)
{
	int rc = xjk_buf_append(out, "\"", 1);
	for (; !rc && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			rc = xjk_admin_printf(out, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			rc = xjk_admin_printf(out, "\\u%04x", ch);
		else
			rc = xjk_buf_append(out, s, 1);
	}
	return rc ? rc : xjk_buf_append(out, "\"", 1);
}

/* {"key":value,...} */
static int json_fields(struct xjk_buf *o, const struct xjk_admin_field *f, int n)
{
	int rc = 0;
	for (int i = 0; i < n; i++) {
		rc |= xjk_admin_printf(o, "%s\"%s\":", i ? "," : "{", f[i].key);
		rc |= f[i].number ? xjk_admin_printf(o, "%s", f[i].value) : json_str(o, f[i].value);
	}
	return rc | xjk_admin_printf(o, "}");
}

static int json_worker(struct xjk_buf *o, const struct xjk_admin_backend *b)
{
	struct xjk_admin_field f[XJK_ADMIN_WORKER_FIELDS];
	xjk_admin_worker_fields(b, f);
	return json_fields(o, f, XJK_ADMIN_WORKER_FIELDS);
}

static int json_lb(struct xjk_buf *o, const struct xjk_admin_model *m,
		   const struct xjk_admin_lb *lb)
{
	int rc = xjk_admin_printf(o, "{\"name\":");
	rc |= json_str(o, lb->conf->name);
	rc |= xjk_admin_printf(
		o,
		",\"method\":\"%s\",\"sticky_session\":%s,"
		"\"sticky_session_force\":%s,\"good\":%d,\"degraded\":%d,"
		"\"bad\":%d,\"members\":[",
		method_name(lb->conf->method), lb->conf->sticky_session ? "true" : "false",
		lb->conf->sticky_session_force ? "true" : "false", lb->good, lb->degraded, lb->bad);
	for (int k = 0; k < lb->conf->n_members; k++) {
		rc |= xjk_admin_printf(o, "%s{\"worker\":", k ? "," : "");
		rc |= json_str(o, m->backends[lb->members[k].backend].conf->name);
		rc |= xjk_admin_printf(o, ",\"lb_mult\":%u,\"lb_value\":%llu,\"routed_to\":",
				       lb->members[k].lb_mult,
				       (unsigned long long)lb->members[k].lb_value);
		rc |= json_str(o, lb->members[k].routed_to);
		rc |= xjk_admin_printf(o, "}");
	}
	return rc | xjk_admin_printf(o, "]}");
}

static int json_peer(struct xjk_buf *o, const struct xjk_admin_peer *p)
{
	struct xjk_admin_field f[XJK_ADMIN_PEER_FIELDS];
	xjk_admin_peer_fields(p, f);
	return json_fields(o, f, XJK_ADMIN_PEER_FIELDS);
}

static int json_maps(struct xjk_buf *o, const struct xjk_admin_model *m)
{
	int rc = xjk_admin_printf(o, ",\"bpf_maps\":[");
	for (int i = 0; i < m->n_maps; i++) {
		const struct xjk_admin_map *map = &m->maps[i];
		rc |= xjk_admin_printf(o, "%s{\"name\":", i ? "," : "");
		rc |= json_str(o, map->name);
		rc |= xjk_admin_printf(o, ",\"type\":");
		rc |= json_str(o, map->type ? map->type : "?");
		rc |= xjk_admin_printf(o, ",\"key_size\":%u,\"value_size\":%u,\"max_entries\":%u",
				       map->key_size, map->value_size, map->max_entries);
		rc |= map->entries < 0
			      ? 0
			      : xjk_admin_printf(o, ",\"entries\":%lld", (long long)map->entries);
		rc |= xjk_admin_printf(o, "}");
	}
	rc |= xjk_admin_printf(o, "]");
	if (!m->has_verdicts)
		return rc;
	rc |= xjk_admin_printf(o, ",\"xdp_verdicts\":{");
	for (int i = 0; i < XJK_L4_NR_REASONS; i++)
		rc |= xjk_admin_printf(o, "%s\"%s\":%llu", i ? "," : "", xjk_admin_verdict_names[i],
				       (unsigned long long)m->verdicts[i]);
	return rc | xjk_admin_printf(o, "}");
}

int xjk_admin_render_json(const struct xjk_admin_model *m, struct xjk_buf *o)
{
	int rc = xjk_admin_printf(o, "{\"time\":%llu,\"uptime_s\":%llu,\"lbs\":[",
				  (unsigned long long)m->now_s, (unsigned long long)m->uptime_s);
	for (int l = 0; l < m->n_lbs; l++)
		rc |= (l ? xjk_admin_printf(o, ",") : 0) | json_lb(o, m, &m->lbs[l]);
	rc |= xjk_admin_printf(o, "],\"workers\":[");
	for (int i = 0; i < m->n_backends; i++)
		rc |= (i ? xjk_admin_printf(o, ",") : 0) | json_worker(o, &m->backends[i]);
	rc |= xjk_admin_printf(o, "]");
	if (m->membership) {
		rc |= xjk_admin_printf(o,
				       ",\"cluster\":{\"beacons\":%llu,\"malformed\":%llu,"
				       "\"filtered\":%llu,\"members\":[",
				       (unsigned long long)m->beacons,
				       (unsigned long long)m->malformed,
				       (unsigned long long)m->filtered);
		for (int i = 0; i < m->n_peers; i++)
			rc |= (i ? xjk_admin_printf(o, ",") : 0) | json_peer(o, &m->peers[i]);
		rc |= xjk_admin_printf(o, "]}");
	}
	rc |= json_maps(o, m);
	return rc | xjk_admin_printf(o, "}\n");
}

/* ---- Prometheus text format 0.0.4 ---- */

/* A label value: backslash, double quote and newline are escaped. */
static int prom_label(struct xjk_buf *o, const char *s)
{
	int rc = 0;
	for (; !rc && *s; s++)
		rc = *s == '\\'	  ? xjk_admin_printf(o, "\\\\")
		     : *s == '"'  ? xjk_admin_printf(o, "\\\"")
		     : *s == '\n' ? xjk_admin_printf(o, "\\n")
				  : xjk_buf_append(o, s, 1);
	return rc;
}

static int prom_head(struct xjk_buf *o, const char *name, const char *type, const char *help)
{
	return xjk_admin_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* NAME{worker="W",lb="L"[,EXTRA="V"]} */
static int prom_worker(struct xjk_buf *o, const struct xjk_admin_model *m, int b, const char *name,
		       const char *extra, const char *extra_value)
{
	int rc = xjk_admin_printf(o, "%s{worker=\"", name);
	rc |= prom_label(o, m->backends[b].conf->name);
	rc |= xjk_admin_printf(o, "\",lb=\"");
	rc |= prom_label(o, lb_of(m, b));
	if (extra)
		rc |= xjk_admin_printf(o, "\",%s=\"%s", extra, extra_value);
	return rc | xjk_admin_printf(o, "\"} ");
}

/* Per-worker series: one metric family at a time, as the format wants. */
struct prom_counter {
	const char *name, *type, *help;
	size_t off; /* into struct xjk_backend_stats; SIZE_MAX: lbfactor */
	bool is_signed;
};

#define STAT(f) offsetof(struct xjk_backend_stats, f)
static const struct prom_counter worker_series[] = {
	{"xjk_worker_requests_total", "counter", "Requests forwarded to the worker.",
	 STAT(requests), false},
	{"xjk_worker_errors_total", "counter",
	 "Failed exchanges with the worker (connect, timeout, reset, protocol, fail_on_status).",
	 STAT(errors), false},
	{"xjk_worker_client_errors_total", "counter", "Requests that failed on the client side.",
	 STAT(client_errors), false},
	{"xjk_worker_bytes_sent_total", "counter", "Request body bytes sent to the worker.",
	 STAT(bytes_in), false},
	{"xjk_worker_bytes_received_total", "counter",
	 "Response body bytes received from the worker.", STAT(bytes_out), false},
	{"xjk_worker_busy", "gauge", "Requests in flight on the worker.", STAT(busy), true},
	{"xjk_worker_busy_max", "gauge", "Most requests in flight at once since the last reset.",
	 STAT(max_busy), true},
	{"xjk_worker_waiting", "gauge",
	 "Requests waiting for a pooled connection (connection_acquire_timeout).", STAT(waiting),
	 true},
};
#undef STAT

static int prom_workers(struct xjk_buf *o, const struct xjk_admin_model *m)
{
	int rc = 0;
	for (size_t s = 0; s < sizeof(worker_series) / sizeof(worker_series[0]); s++) {
		const struct prom_counter *pc = &worker_series[s];
		rc |= prom_head(o, pc->name, pc->type, pc->help);
		for (int b = 0; b < m->n_backends; b++) {
			const char *p = (const char *)&m->backends[b].stats + pc->off;
			rc |= prom_worker(o, m, b, pc->name, NULL, NULL);
			rc |= pc->is_signed
				      ? xjk_admin_printf(o, "%lld\n",
							 (long long)*(const int64_t *)p)
				      : xjk_admin_printf(o, "%llu\n",
							 (unsigned long long)*(const uint64_t *)p);
		}
	}
	rc |= prom_head(o, "xjk_worker_lbfactor", "gauge", "The worker's runtime lbfactor.");
	for (int b = 0; b < m->n_backends; b++)
		rc |= prom_worker(o, m, b, "xjk_worker_lbfactor", NULL, NULL) |
		      xjk_admin_printf(o, "%d\n", m->backends[b].lbfactor);
	rc |= prom_head(o, "xjk_worker_state", "gauge",
			"1 for the worker's current state (mod_jk names), 0 for the others.");
	for (int b = 0; b < m->n_backends; b++)
		for (int st = XJK_STATE_OK_IDLE; st <= XJK_STATE_ERR_PRB; st++)
			rc |= prom_worker(o, m, b, "xjk_worker_state", "state",
					  xjk_worker_state_name(st)) |
			      xjk_admin_printf(o, "%d\n", (int)m->backends[b].state == st);
	rc |= prom_head(o, "xjk_worker_activation", "gauge",
			"1 for the worker's activation (ACT, DIS, STP), 0 for the others.");
	for (int b = 0; b < m->n_backends; b++)
		for (int a = XJK_ACTIVE; a <= XJK_STOPPED; a++)
			rc |= prom_worker(o, m, b, "xjk_worker_activation", "activation",
					  xjk_activation_name(a)) |
			      xjk_admin_printf(o, "%d\n", (int)m->backends[b].activation == a);
	return rc;
}

static int prom_lbs(struct xjk_buf *o, const struct xjk_admin_model *m)
{
	int rc = prom_head(o, "xjk_lb_members", "gauge",
			   "lb members by jkstatus rating (good, degraded, bad).");
	for (int l = 0; l < m->n_lbs; l++) {
		const struct xjk_admin_lb *lb = &m->lbs[l];
		const int counts[] = {lb->good, lb->degraded, lb->bad};
		const char *const names[] = {"good", "degraded", "bad"};
		for (int r = 0; r < 3; r++) {
			rc |= xjk_admin_printf(o, "xjk_lb_members{lb=\"");
			rc |= prom_label(o, lb->conf->name);
			rc |= xjk_admin_printf(o, "\",rating=\"%s\"} %d\n", names[r], counts[r]);
		}
	}
	rc |= prom_head(o, "xjk_lb_member_value", "gauge",
			"The member's lb_value (lowest is picked next).");
	for (int l = 0; l < m->n_lbs; l++)
		for (int k = 0; k < m->lbs[l].conf->n_members; k++) {
			rc |= xjk_admin_printf(o, "xjk_lb_member_value{lb=\"");
			rc |= prom_label(o, m->lbs[l].conf->name);
			rc |= xjk_admin_printf(o, "\",worker=\"");
			rc |= prom_label(o, m->backends[m->lbs[l].members[k].backend].conf->name);
			rc |= xjk_admin_printf(o, "\"} %llu\n",
					       (unsigned long long)m->lbs[l].members[k].lb_value);
		}
	return rc;
}

static int prom_cluster_and_maps(struct xjk_buf *o, const struct xjk_admin_model *m)
{
	int rc = 0;
	if (m->membership) {
		rc |= prom_head(o, "xjk_cluster_members", "gauge",
				"Tomcat cluster members heard from.");
		rc |= xjk_admin_printf(o, "xjk_cluster_members %d\n", m->n_peers);
		rc |= prom_head(o, "xjk_cluster_beacons_total", "counter",
				"Valid membership beacons received.");
		rc |= xjk_admin_printf(o, "xjk_cluster_beacons_total %llu\n",
				       (unsigned long long)m->beacons);
	}
	if (m->n_maps) {
		rc |= prom_head(o, "xjk_bpf_map_max_entries", "gauge",
				"Capacity of each pinned BPF map.");
		for (int i = 0; i < m->n_maps; i++)
			rc |= xjk_admin_printf(o, "xjk_bpf_map_max_entries{map=\"%s\"} %u\n",
					       m->maps[i].name, m->maps[i].max_entries);
		rc |= prom_head(o, "xjk_bpf_map_entries", "gauge",
				"Entries in each pinned hash map (counted up to 100000).");
		for (int i = 0; i < m->n_maps; i++)
			if (m->maps[i].entries >= 0)
				rc |= xjk_admin_printf(o, "xjk_bpf_map_entries{map=\"%s\"} %lld\n",
						       m->maps[i].name,
						       (long long)m->maps[i].entries);
	}
	if (m->has_verdicts) {
		rc |= prom_head(o, "xjk_xdp_packets_total", "counter",
				"Packets seen by the XDP program, by verdict.");
		for (int i = 0; i < XJK_L4_NR_REASONS; i++)
			rc |= xjk_admin_printf(o, "xjk_xdp_packets_total{verdict=\"%s\"} %llu\n",
					       xjk_admin_verdict_names[i],
					       (unsigned long long)m->verdicts[i]);
	}
	return rc;
}

int xjk_admin_render_metrics(const struct xjk_admin_model *m, struct xjk_buf *o)
{
	int rc = prom_head(o, "xjk_uptime_seconds", "gauge", "Seconds since xjkd started.");
	rc |= xjk_admin_printf(o, "xjk_uptime_seconds %llu\n", (unsigned long long)m->uptime_s);
	return rc | prom_workers(o, m) | prom_lbs(o, m) | prom_cluster_and_maps(o, m);
}

/* ---- plain text for xjkctl ---- */

static int text_status(const struct xjk_admin_model *m, struct xjk_buf *o)
{
	int rc = xjk_admin_printf(o, "xjkd up %llu s\n", (unsigned long long)m->uptime_s);
	for (int l = 0; l < m->n_lbs; l++) {
		const struct xjk_admin_lb *lb = &m->lbs[l];
		rc |= xjk_admin_printf(
			o, "lb %s: method %s, sticky_session %s: %d good, %d degraded, %d bad\n",
			lb->conf->name, method_name(lb->conf->method),
			lb->conf->sticky_session ? "on" : "off", lb->good, lb->degraded, lb->bad);
		for (int k = 0; k < lb->conf->n_members; k++)
			rc |= xjk_admin_printf(o, "  member %s lb_mult %u lb_value %llu route %s\n",
					       m->backends[lb->members[k].backend].conf->name,
					       lb->members[k].lb_mult,
					       (unsigned long long)lb->members[k].lb_value,
					       lb->members[k].routed_to);
	}
	rc |= xjk_admin_printf(
		o, "%-20s %-22s %-16s %-4s %-8s %6s %10s %6s %6s %5s %5s %5s %12s %12s\n", "WORKER",
		"ADDRESS", "ROUTE", "ACT", "STATE", "F", "REQUESTS", "ERR", "CE", "BUSY", "MAX",
		"WAIT", "SENT", "RECEIVED");
	for (int b = 0; b < m->n_backends; b++) {
		const struct xjk_admin_backend *be = &m->backends[b];
		char addr[300];
		snprintf(addr, sizeof(addr), "%s:%u", be->conf->host, be->conf->port);
		rc |= xjk_admin_printf(
			o,
			"%-20s %-22s %-16s %-4s %-8s %6d %10llu %6llu %6llu %5lld %5lld %5lld "
			"%12llu %12llu\n",
			be->conf->name, addr, be->conf->route, xjk_activation_name(be->activation),
			xjk_worker_state_name(be->state), be->lbfactor,
			(unsigned long long)be->stats.requests,
			(unsigned long long)be->stats.errors,
			(unsigned long long)be->stats.client_errors, (long long)be->stats.busy,
			(long long)be->stats.max_busy, (long long)be->stats.waiting,
			(unsigned long long)be->stats.bytes_in,
			(unsigned long long)be->stats.bytes_out);
	}
	for (int i = 0; i < m->n_maps; i++) {
		const struct xjk_admin_map *map = &m->maps[i];
		rc |= xjk_admin_printf(o, "bpf map %s (%s): ", map->name,
				       map->type ? map->type : "?");
		rc |= map->entries >= 0
			      ? xjk_admin_printf(o, "%lld of %u entries\n", (long long)map->entries,
						 map->max_entries)
			      : xjk_admin_printf(o, "%u slots\n", map->max_entries);
	}
	return rc;
}

static int text_members(const struct xjk_admin_model *m, struct xjk_buf *o)
{
	if (!m->membership)
		return xjk_admin_printf(o,
					"cluster membership is not configured (XjkMembership)\n");
	int rc =
		xjk_admin_printf(o, "%d member(s), %llu beacons, %llu malformed, %llu filtered\n",
				 m->n_peers, (unsigned long long)m->beacons,
				 (unsigned long long)m->malformed, (unsigned long long)m->filtered);
	rc |= xjk_admin_printf(o, "%-28s %-16s %-8s %10s %8s %8s  %s\n", "MEMBER", "DOMAIN",
			       "FORMAT", "ALIVE_S", "SEEN_MS", "BEACONS", "WORKERS");
	for (int i = 0; i < m->n_peers; i++) {
		const struct xjk_admin_peer *p = &m->peers[i];
		rc |= xjk_admin_printf(
			o, "%-28s %-16s %-8s %10lld %8llu %8llu  %s\n", p->addr,
			p->domain[0] ? p->domain : "-", p->format, (long long)(p->alive_ms / 1000),
			(unsigned long long)p->last_seen_ms_ago, (unsigned long long)p->beacons,
			p->workers[0] ? p->workers : "-");
	}
	return rc;
}

int xjk_admin_render_text(const struct xjk_admin_model *m, enum xjk_admin_text what,
			  struct xjk_buf *out)
{
	return what == XJK_ADMIN_TEXT_MEMBERS ? text_members(m, out) : text_status(m, out);
}
