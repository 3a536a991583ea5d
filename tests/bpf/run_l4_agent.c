/* run_l4_agent.c: the l4 module on its own, as xjkd runs it, for the netns
 * lab (31-xdp-lab.sh) until xjkd's main loop carries it. Reads XjkL4Vip lines
 * from CONF (members by address), then serves commands on stdin, one per
 * line, through the failover API: "down NAME", "up NAME", "weight NAME W".
 * Exits on SIGTERM/SIGINT or end of input, leaving the program attached. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evloop.h"
#include "l4.h"
#include "log.h"

#define MAX_ARGS 64

struct agent {
	struct xjk_l4 *l4;
	struct xjk_loop *loop;
	struct xjk_io in;
	char buf[4096];
	size_t len;
};

static struct xjk_loop *the_loop;

static void on_signal(int sig)
{
	(void)sig;
	xjk_loop_stop(the_loop);
}

static int split(char *line, char **argv)
{
	int argc = 0;

	for (char *t = strtok(line, " \t\r\n"); t && argc < MAX_ARGS; t = strtok(NULL, " \t\r\n"))
		argv[argc++] = t;
	return argc;
}

static int load(const char *path, struct xjk_l4_config *cfg)
{
	FILE *f = fopen(path, "r");
	char line[1024], err[256], *argv[MAX_ARGS];
	int lineno = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		int argc = split(line, argv);
		if (argc == 0 || argv[0][0] == '#')
			continue;
		if (strcmp(argv[0], "XjkL4Vip") != 0 ||
		    xjk_l4_parse_directive(cfg, argc - 1, argv + 1, err, sizeof(err))) {
			fprintf(stderr, "%s:%d: %s\n", path, lineno,
				strcmp(argv[0], "XjkL4Vip") ? "only XjkL4Vip here" : err);
			fclose(f);
			return -EINVAL;
		}
	}
	fclose(f);
	return 0;
}

static void command(struct agent *a, char *line)
{
	char *argv[4];
	int argc = split(line, argv), rc = -EINVAL;

	if (argc == 2 && strcmp(argv[0], "down") == 0)
		rc = xjk_l4_set_backend_up(a->l4, argv[1], false);
	else if (argc == 2 && strcmp(argv[0], "up") == 0)
		rc = xjk_l4_set_backend_up(a->l4, argv[1], true);
	else if (argc == 3 && strcmp(argv[0], "weight") == 0)
		rc = xjk_l4_set_backend_weight(a->l4, argv[1], (uint32_t)atoi(argv[2]));
	printf("%s\n", rc > 0 ? "done" : strerror(-rc));
	fflush(stdout);
}

static void on_stdin(struct xjk_io *io, uint32_t events)
{
	struct agent *a = container_of(io, struct agent, in);
	(void)events;
	ssize_t n = read(io->fd, a->buf + a->len, sizeof(a->buf) - 1 - a->len);

	if (n <= 0) {
		xjk_loop_unwatch(io);
		xjk_loop_stop(a->loop);
		return;
	}
	a->len += (size_t)n;
	a->buf[a->len] = '\0';
	char *nl;
	while ((nl = strchr(a->buf, '\n'))) {
		*nl = '\0';
		command(a, a->buf);
		a->len -= (size_t)(nl + 1 - a->buf);
		memmove(a->buf, nl + 1, a->len + 1);
	}
}

int main(int argc, char **argv)
{
	struct xjk_l4_config cfg = {0};
	struct agent a = {0};
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: run_l4_agent CONF\n");
		return 2;
	}
	xjk_log_set_level(XJK_LOG_INFO);
	if (load(argv[1], &cfg))
		return 1;
	a.loop = the_loop = xjk_loop_new();
	if (!a.loop || xjk_l4_open(&cfg, NULL, a.loop, &a.l4, err, sizeof(err))) {
		fprintf(stderr, "run_l4_agent: %s\n", err);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	a.in.fd = 0;
	a.in.fn = on_stdin;
	xjk_loop_watch(a.loop, &a.in, EPOLLIN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	xjk_loop_run(a.loop);
	xjk_l4_close(a.l4);
	xjk_l4_config_free(&cfg);
	xjk_loop_free(a.loop);
	return 0;
}
