/* main.c: xjkd, the xjk agent. Loads the configuration, starts one data-path
 * event loop per core (threads) and runs the control loop on the main thread:
 * signals, worker-state maintenance, and the control-plane modules. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "config.h"
#include "evloop.h"
#include "log.h"
#include "proxy.h"
#include "routes.h"
#include "splice.h"
#include "wstate.h"

struct data_thread {
	pthread_t tid;
	struct xjk_loop *loop;
	struct xjk_proxy proxy;
};

struct control {
	struct xjk_loop *loop;
	struct xjk_io signals;
	struct xjk_timer maintain;
	struct data_thread *threads;
	int n_threads;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: xjkd [-c FILE] [-t]\n"
		     "  -c FILE  configuration (default " XJK_DEFAULT_CONFIG ")\n"
		     "  -t       check the configuration, print a summary and exit\n");
}

static void *data_thread_main(void *arg)
{
	struct data_thread *t = arg;
	int rc = xjk_loop_run(t->loop);
	if (rc < 0)
		xjk_error("event loop failed: %s", strerror(-rc));
	return NULL;
}

static void on_signal(struct xjk_io *io, uint32_t events)
{
	(void)events;
	struct control *ctl = container_of(io, struct control, signals);
	struct signalfd_siginfo si;
	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
			xjk_info("signal %d: shutting down", si.ssi_signo);
			for (int i = 0; i < ctl->n_threads; i++)
				xjk_loop_stop(ctl->threads[i].loop);
			xjk_loop_stop(ctl->loop);
			break;
		case SIGUSR1:
			xjk_log_reopen();
			xjk_info("log reopened");
			break;
		default:
			break;
		}
	}
}

static void on_maintain(struct xjk_timer *t)
{
	struct control *ctl = container_of(t, struct control, maintain);
	xjk_wstate_maintain(xjk_loop_now(ctl->loop));
	xjk_timer_arm(ctl->loop, &ctl->maintain, 1000);
}

static int start_threads(struct control *ctl, struct xjk_config *cfg)
{
	ctl->threads = calloc((size_t)cfg->threads, sizeof(*ctl->threads));
	if (!ctl->threads)
		return -ENOMEM;
	for (int i = 0; i < cfg->threads; i++) {
		struct data_thread *t = &ctl->threads[i];
		t->loop = xjk_loop_new();
		if (!t->loop)
			return -ENOMEM;
		int rc = xjk_proxy_start(&t->proxy, i, t->loop, cfg);
		if (rc < 0)
			return rc;
		rc = pthread_create(&t->tid, NULL, data_thread_main, t);
		if (rc)
			return -rc;
		ctl->n_threads++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = XJK_DEFAULT_CONFIG;
	bool check_only = false;
	int opt;
	while ((opt = getopt(argc, argv, "c:th")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	struct xjk_config cfg;
	char err[1024];
	if (xjk_config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check_only) {
		xjk_config_print_summary(&cfg, stdout);
		printf("Syntax OK\n");
		xjk_config_free(&cfg);
		return 0;
	}
	if (cfg.threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg.threads = n > 0 ? (int)n : 1;
	}
	xjk_log_set_level(cfg.log_level);
	if (cfg.log_file) {
		int rc = xjk_log_open(cfg.log_file);
		if (rc < 0) {
			fprintf(stderr, "%s: %s\n", cfg.log_file, strerror(-rc));
			return 1;
		}
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &mask, NULL); /* inherited by the data threads */
	signal(SIGPIPE, SIG_IGN);

	struct control ctl = {0};
	ctl.loop = xjk_loop_new();
	ctl.signals.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	ctl.signals.fn = on_signal;
	if (!ctl.loop || ctl.signals.fd < 0 ||
	    xjk_loop_watch(ctl.loop, &ctl.signals, EPOLLIN) < 0 ||
	    xjk_wstate_init(&cfg.workers) < 0 || xjk_routes_init(&cfg.workers) < 0) {
		xjk_error("cannot initialise: %s", strerror(errno));
		return 1;
	}
	xjk_splice_init(&cfg);
	int rc = start_threads(&ctl, &cfg);
	if (rc < 0) {
		xjk_error("cannot start: %s", strerror(-rc));
		return 1;
	}
	ctl.maintain.fn = on_maintain;
	xjk_timer_arm(ctl.loop, &ctl.maintain, 1000);
	xjk_info("xjkd started: %d listener(s), %d worker(s), %d event loop(s)", cfg.n_listens,
		 cfg.workers.n_backends + cfg.workers.n_lbs, cfg.threads);

	xjk_loop_run(ctl.loop);
	for (int i = 0; i < ctl.n_threads; i++) {
		pthread_join(ctl.threads[i].tid, NULL);
		xjk_proxy_stop(&ctl.threads[i].proxy);
	}
	xjk_splice_stop();
	xjk_info("xjkd stopped");
	return 0;
}
