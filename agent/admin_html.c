/* admin_html.c: the status page: one self-contained HTML document (inline
 * style, no scripts or assets from elsewhere) with jkstatus' columns and
 * POST forms for the actions. */
#include "admin.h"

#include <stdio.h>
#include <string.h>

#include "workers.h"

/* Text into element content or a quoted attribute. */
static int esc(struct xjk_buf *o, const char *s)
{
	int rc = 0;
	for (; !rc && *s; s++) {
		switch (*s) {
		case '<':
			rc = xjk_admin_printf(o, "&lt;");
			break;
		case '>':
			rc = xjk_admin_printf(o, "&gt;");
			break;
		case '&':
			rc = xjk_admin_printf(o, "&amp;");
			break;
		case '"':
			rc = xjk_admin_printf(o, "&quot;");
			break;
		case '\'':
			rc = xjk_admin_printf(o, "&#39;");
			break;
		default:
			rc = xjk_buf_append(o, s, 1);
		}
	}
	return rc;
}

static const char style[] =
	"body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}"
	"h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}"
	"table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 6px;"
	"text-align:left}th{background:#eee}td.n{text-align:right}"
	".good{background:#dfd}.degraded{background:#ffd}.bad{background:#fdd}"
	"form{display:inline;margin:0 2px}input[type=number]{width:5em}"
	".notice{padding:.5em;background:#ffd;border:1px solid #cc9}";

/* Every form posts the token typed once at the top of the page. */
static const char token_script[] =
	"<script>document.addEventListener('submit',function(e){"
	"e.target.elements.token.value=document.getElementById('token').value;});</script>";

static const char *row_class(const struct xjk_admin_backend *b)
{
	if (b->activation == XJK_STOPPED || b->state == XJK_STATE_ERR ||
	    b->state == XJK_STATE_ERR_PRB)
		return "bad";
	if (b->activation == XJK_DISABLED || b->state == XJK_STATE_ERR_REC ||
	    b->state == XJK_STATE_ERR_FRC)
		return "degraded";
	return "good";
}

/* <form> opening with the worker and (empty) token fields. */
static int form_open(struct xjk_buf *o, const struct xjk_admin_page *pg, const char *worker)
{
	int rc = xjk_admin_printf(o, "<form method=\"post\" action=\"/action\">"
				     "<input type=\"hidden\" name=\"worker\" value=\"");
	rc |= esc(o, worker);
	rc |= xjk_admin_printf(o, "\">");
	if (pg->needs_token)
		rc |= xjk_admin_printf(o, "<input type=\"hidden\" name=\"token\">");
	return rc;
}

static int actions(struct xjk_buf *o, const struct xjk_admin_page *pg,
		   const struct xjk_admin_backend *b)
{
	static const char *const verbs[] = {"enable", "disable", "stop"};
	static const char *const labels[] = {"Active", "Disabled", "Stopped"};
	const char *name = b->conf->name;
	int rc = form_open(o, pg, name);
	rc |= xjk_admin_printf(o, "<select name=\"action\" aria-label=\"activation\">");
	for (int a = XJK_ACTIVE; a <= XJK_STOPPED; a++)
		rc |= xjk_admin_printf(o, "<option value=\"%s\"%s>%s</option>", verbs[a],
				       b->activation == (enum xjk_activation)a ? " selected" : "",
				       labels[a]);
	rc |= xjk_admin_printf(o, "</select><button name=\"set\">Set</button></form>");
	rc |= form_open(o, pg, name);
	rc |= xjk_admin_printf(o,
			       "<input type=\"hidden\" name=\"action\" value=\"lbfactor\">"
			       "<input type=\"number\" name=\"value\" min=\"1\" max=\"100000\" "
			       "value=\"%d\" aria-label=\"lbfactor\"><button>Set F</button></form>",
			       b->lbfactor);
	rc |= form_open(o, pg, name);
	rc |= xjk_admin_printf(o, "<input type=\"hidden\" name=\"action\" value=\"reset\">"
				  "<button>Reset</button></form>");
	if (b->state == XJK_STATE_ERR) {
		rc |= form_open(o, pg, name);
		rc |= xjk_admin_printf(o, "<input type=\"hidden\" name=\"action\" "
					  "value=\"recover\"><button>Recover</button></form>");
	}
	return rc;
}

/* <th> of every field's label. */
static int heads(struct xjk_buf *o, const struct xjk_admin_field *f, int n)
{
	int rc = 0;
	for (int i = 0; i < n; i++)
		rc |= xjk_admin_printf(o, "<th>%s</th>", f[i].label);
	return rc;
}

/* <td> of every field's value, classed by its key. */
static int cells(struct xjk_buf *o, const struct xjk_admin_field *f, int n)
{
	int rc = 0;
	for (int i = 0; i < n; i++) {
		rc |= xjk_admin_printf(o, "<td class=\"%s%s\">", f[i].key, f[i].number ? " n" : "");
		rc |= esc(o, f[i].value);
		rc |= xjk_admin_printf(o, "</td>");
	}
	return rc;
}

static int worker_row(struct xjk_buf *o, const struct xjk_admin_page *pg,
		      const struct xjk_admin_backend *b)
{
	struct xjk_admin_field f[XJK_ADMIN_WORKER_FIELDS];
	xjk_admin_worker_fields(b, f);
	int rc = xjk_admin_printf(o, "<tr id=\"worker-");
	rc |= esc(o, b->conf->name);
	rc |= xjk_admin_printf(o, "\" class=\"%s\">", row_class(b));
	rc |= cells(o, f, XJK_ADMIN_WORKER_FIELDS);
	if (pg->writable)
		rc |= xjk_admin_printf(o, "<td>") | actions(o, pg, b) |
		      xjk_admin_printf(o, "</td>");
	return rc | xjk_admin_printf(o, "</tr>\n");
}

static int workers_section(struct xjk_buf *o, const struct xjk_admin_model *m,
			   const struct xjk_admin_page *pg)
{
	struct xjk_admin_field f[XJK_ADMIN_WORKER_FIELDS];
	int rc = xjk_admin_printf(o, "<h2>Workers</h2><table id=\"workers\"><tr>");
	if (m->n_backends) {
		xjk_admin_worker_fields(&m->backends[0], f);
		rc |= heads(o, f, XJK_ADMIN_WORKER_FIELDS);
	}
	rc |= xjk_admin_printf(o, "%s</tr>\n", pg->writable ? "<th>Actions</th>" : "");
	for (int b = 0; b < m->n_backends; b++)
		rc |= worker_row(o, pg, &m->backends[b]);
	return rc | xjk_admin_printf(o, "</table>\n");
}

static int lbs_section(struct xjk_buf *o, const struct xjk_admin_model *m)
{
	int rc = xjk_admin_printf(o, "<h2>Load balancers</h2><table><tr><th>Name</th>"
				     "<th>Sticky</th><th>Force</th><th>Good</th><th>Degraded</th>"
				     "<th>Bad</th><th>Members (lb_mult/lb_value)</th></tr>\n");
	for (int l = 0; l < m->n_lbs; l++) {
		const struct xjk_admin_lb *lb = &m->lbs[l];
		rc |= xjk_admin_printf(o, "<tr class=\"%s\"><td>",
				       lb->bad	      ? "bad"
				       : lb->degraded ? "degraded"
						      : "good");
		rc |= esc(o, lb->conf->name);
		rc |= xjk_admin_printf(o,
				       "</td><td>%s</td><td>%s</td><td class=\"n\">%d</td>"
				       "<td class=\"n\">%d</td><td class=\"n\">%d</td><td>",
				       lb->conf->sticky_session ? "on" : "off",
				       lb->conf->sticky_session_force ? "on" : "off", lb->good,
				       lb->degraded, lb->bad);
		for (int k = 0; k < lb->conf->n_members; k++) {
			const struct xjk_admin_member *mem = &lb->members[k];
			const char *name = m->backends[mem->backend].conf->name;
			rc |= esc(o, name);
			rc |= xjk_admin_printf(o, " (%u/%llu", mem->lb_mult,
					       (unsigned long long)mem->lb_value);
			/* a failed member's sessions go elsewhere: say where */
			if (strcmp(mem->routed_to, m->backends[mem->backend].conf->route)) {
				rc |= xjk_admin_printf(o, ", sessions to ");
				rc |= esc(o, mem->routed_to);
			}
			rc |= xjk_admin_printf(o, ") ");
		}
		rc |= xjk_admin_printf(o, "</td></tr>\n");
	}
	return rc | xjk_admin_printf(o, "</table>\n");
}

static int cluster_section(struct xjk_buf *o, const struct xjk_admin_model *m)
{
	if (!m->membership)
		return xjk_admin_printf(o, "<h2>Cluster members</h2><p>Cluster membership is "
					   "not configured (XjkMembership).</p>\n");
	struct xjk_admin_field f[XJK_ADMIN_PEER_FIELDS];
	int rc = xjk_admin_printf(o,
				  "<h2>Cluster members</h2><p>%llu beacons, %llu malformed, "
				  "%llu filtered</p><table id=\"members\">",
				  (unsigned long long)m->beacons, (unsigned long long)m->malformed,
				  (unsigned long long)m->filtered);
	for (int i = 0; i < m->n_peers; i++) {
		xjk_admin_peer_fields(&m->peers[i], f);
		if (i == 0)
			rc |= xjk_admin_printf(o, "<tr>") | heads(o, f, XJK_ADMIN_PEER_FIELDS) |
			      xjk_admin_printf(o, "</tr>\n");
		rc |= xjk_admin_printf(o, "<tr>") | cells(o, f, XJK_ADMIN_PEER_FIELDS) |
		      xjk_admin_printf(o, "</tr>\n");
	}
	return rc | xjk_admin_printf(o, "</table>\n");
}

static int maps_section(struct xjk_buf *o, const struct xjk_admin_model *m)
{
	if (!m->n_maps)
		return xjk_admin_printf(o, "<h2>BPF maps</h2><p>No maps pinned.</p>\n");
	int rc = xjk_admin_printf(o, "<h2>BPF maps</h2><table id=\"maps\"><tr><th>Map</th>"
				     "<th>Type</th><th>Key</th><th>Value</th><th>Entries</th>"
				     "<th>Max</th></tr>\n");
	for (int i = 0; i < m->n_maps; i++) {
		const struct xjk_admin_map *map = &m->maps[i];
		rc |= xjk_admin_printf(o, "<tr><td>");
		rc |= esc(o, map->name);
		rc |= xjk_admin_printf(o,
				       "</td><td>%s</td><td class=\"n\">%u</td>"
				       "<td class=\"n\">%u</td><td class=\"n\">",
				       map->type ? map->type : "?", map->key_size, map->value_size);
		rc |= map->entries >= 0 ? xjk_admin_printf(o, "%lld", (long long)map->entries) : 0;
		rc |= xjk_admin_printf(o, "</td><td class=\"n\">%u</td></tr>\n", map->max_entries);
	}
	rc |= xjk_admin_printf(o, "</table>\n");
	if (!m->has_verdicts)
		return rc;
	rc |= xjk_admin_printf(o, "<h2>XDP verdicts</h2><table>");
	for (int i = 0; i < XJK_L4_NR_REASONS; i++)
		rc |= xjk_admin_printf(o, "<tr><td>%s</td><td class=\"n\">%llu</td></tr>",
				       xjk_admin_verdict_names[i],
				       (unsigned long long)m->verdicts[i]);
	return rc | xjk_admin_printf(o, "</table>\n");
}

int xjk_admin_render_html(const struct xjk_admin_model *m, const struct xjk_admin_page *pg,
			  struct xjk_buf *o)
{
	int rc = xjk_admin_printf(
		o,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>xjk status</title><style>%s</style></head><body>"
		"<h1>xjk status</h1><p>Up %llu s. <a href=\"/status.json\">JSON</a> "
		"<a href=\"/metrics\">metrics</a></p>\n",
		style, (unsigned long long)m->uptime_s);
	if (pg->notice) {
		rc |= xjk_admin_printf(o, "<p class=\"notice\">");
		rc |= esc(o, pg->notice);
		rc |= xjk_admin_printf(o, "</p>\n");
	}
	if (pg->writable && pg->needs_token)
		rc |= xjk_admin_printf(o,
				       "<p><label>Access token <input type=\"password\" "
				       "id=\"token\"></label> (needed for changes)</p>%s\n",
				       token_script);
	rc |= lbs_section(o, m);
	rc |= workers_section(o, m, pg);
	rc |= cluster_section(o, m);
	rc |= maps_section(o, m);
	return rc | xjk_admin_printf(o, "</body></html>\n");
}
