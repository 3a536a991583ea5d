/* conf_summary.c: the human-readable listing behind "xjkd -t". */
#include <arpa/inet.h>
#include <stdio.h>

#include "config.h"
#include "workers.h"

static const char *source_name(enum xjk_mount_source s)
{
	switch (s) {
	case XJK_MOUNT_WORKERDEF:
		return "worker mount";
	case XJK_MOUNT_JKMOUNT:
		return "JkMount";
	default:
		return "JkMountFile";
	}
}

static void print_backend(const struct xjk_backend *b, const char *indent, FILE *out)
{
	char addr[INET6_ADDRSTRLEN] = "-";
	if (b->addrlen && b->addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&b->addr)->sin6_addr, addr,
			  sizeof(addr));
	else if (b->addrlen)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&b->addr)->sin_addr, addr,
			  sizeof(addr));
	fprintf(out, "%s%s  %s %s:%u (%s) lbfactor=%d route=%s", indent, b->name,
		xjk_worker_type_name(b->type), b->host, b->port, addr, b->lbfactor, b->route);
	if (b->domain[0])
		fprintf(out, " domain=%s", b->domain);
	if (b->redirect[0])
		fprintf(out, " redirect=%s", b->redirect);
	if (b->distance)
		fprintf(out, " distance=%d", b->distance);
	fprintf(out, " %s%s  (%s:%d)\n", xjk_activation_name(b->activation),
		b->secret ? " secret" : "", b->file, b->line);
}

static void print_workers(const struct xjk_workers *w, FILE *out)
{
	fprintf(out, "Workers (worker.list:");
	for (int i = 0; i < w->n_list; i++)
		fprintf(out, " %s", w->list[i]);
	fprintf(out, "):\n");
	for (int i = 0; i < w->n_lbs; i++) {
		const struct xjk_lb *lb = &w->lbs[i];
		fprintf(out,
			"  %s  lb method=%c sticky_session=%d sticky_session_force=%d "
			"retries=%d recover_time=%ds  (%s:%d)\n",
			lb->name, "RTBSN"[lb->method], lb -> sticky_session,
			lb -> sticky_session_force, lb -> retries, lb -> recover_time_s, lb -> file,
			lb -> line);
		for (int m = 0; m < lb->n_members; m++)
			print_backend(&w->backends[lb->members[m]], "    member ", out);
	}
	for (int i = 0; i < w->n_backends; i++)
		if (xjk_workers_listed(w, w->backends[i].name))
			print_backend(&w->backends[i], "  ", out);
	for (int i = 0; i < w->n_statuses; i++)
		fprintf(out, "  %s  status%s  (%s:%d)\n", w->statuses[i].name,
			w->statuses[i].read_only ? " read_only" : "", w->statuses[i].file,
			w->statuses[i].line);
}

void xjk_config_print_summary(const struct xjk_config *cfg, FILE *out)
{
	fprintf(out, "Configuration %s (ServerRoot %s)\n", cfg->main_file, cfg->server_root);
	fprintf(out, "Listen:\n");
	for (int i = 0; i < cfg->n_listens; i++)
		fprintf(out, "  %s  (%s:%d)\n", cfg->listens[i].text, cfg->listens[i].file,
			cfg->listens[i].line);
	print_workers(&cfg->workers, out);
	fprintf(out, "Mounts (in match order; exclusions are checked after a match):\n");
	for (int i = 0; i < cfg->urimap->n; i++) {
		const struct xjk_mount *r = &cfg->urimap->rules[i];
		fprintf(out, "  %s%s%s -> %s  %s, %s  (%s:%d)\n", r->disabled ? "-" : "",
			r->exclude ? "!" : "", r->pattern, r->worker,
			r->wildcard ? "wildcard" : "exact", source_name(r->source), r->file,
			r->line);
	}
}
