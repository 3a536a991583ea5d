/* main.c: xjkd, the xjk agent. Loads the configuration, starts one data-path
 * event loop per core (threads) and runs the control loop on the main thread:
 * signals, worker-state maintenance, reload and graceful stop. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "bpffs.h"
#include "config.h"
#include "control.h"
#include "evloop.h"
#include "health.h"
#include "l4.h"
#include "lifecycle.h"
#include "log.h"
#include "membership.h"
#include "privdrop.h"
#include "proxy.h"
#include "routes.h"
#include "splice.h"
#include "wstate.h"

#define DRAIN_POLL_MS 100

struct data_thread {
	pthread_t tid;
	struct xjk_loop *loop;
	struct xjk_proxy proxy;
};

struct control {
	struct xjk_loop *loop;
	struct xjk_config *cfg;
	char **argv;
	const char *config_path;
	struct xjk_io signals;
	struct xjk_io reload_ready; /* the new process's readiness pipe */
	struct xjk_timer maintain;
	struct xjk_health *health; /* NULL when no backend is checked */
	struct xjk_timer drain;
	uint64_t drain_deadline;
	bool draining;
	int *listen_fds;
	struct data_thread *threads;
	int n_threads;
	struct xjk_membership *membership; /* NULL without XjkMembership */
	struct xjk_l4 *l4;		   /* NULL without XjkL4Vip */
	int *l4_lbfactor;		   /* per backend, as the rings last saw it */
	pthread_t control_tid;
	struct xjk_admin_src admin_src; /* what the status page and xjkctl show */
	struct xjk_admin *admin;
	struct xjk_control *control;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xjkd [-c FILE] [-t]\n"
		"  -c FILE  configuration (default " XJK_DEFAULT_CONFIG ")\n"
		"  -t       check the configuration, print a summary and exit\n"
		"signals: HUP reload, TERM/INT stop after in-flight requests, USR1 reopen logs\n");
}

static void *data_thread_main(void *arg)
{
	struct data_thread *t = arg;
	xjk_privdrop_thread(t->proxy.cfg);
	int rc = xjk_loop_run(t->loop);
	if (rc < 0)
		xjk_error("event loop failed: %s", strerror(-rc));
	return NULL;
}

static void drain_thread(void *arg)
{
	xjk_proxy_drain(arg);
}

static void on_drain_poll(struct xjk_timer *t)
{
	struct control *ctl = container_of(t, struct control, drain);
	uint64_t open = 0;
	for (int i = 0; i < ctl->n_threads; i++)
		open += ctl->threads[i].proxy.n_clients;
	if (open && xjk_loop_now(ctl->loop) < ctl->drain_deadline) {
		xjk_timer_arm(ctl->loop, &ctl->drain, DRAIN_POLL_MS);
		return;
	}
	if (open)
		xjk_warn("drain timeout: closing %llu connection(s)", (unsigned long long)open);
	for (int i = 0; i < ctl->n_threads; i++)
		xjk_loop_stop(ctl->threads[i].loop);
	xjk_loop_stop(ctl->loop);
}

/* Stops accepting and lets in-flight exchanges finish, up to XjkDrainTimeout. */
static void start_drain(struct control *ctl, const char *why)
{
	if (ctl->draining)
		return;
	ctl->draining = true;
	/* a successor (reload) takes the status page and control socket over */
	xjk_admin_stop(ctl->admin);
	xjk_control_stop(ctl->control);
	ctl->admin = NULL;
	ctl->control = NULL;
	xjk_info("%s: finishing in-flight requests (up to %d ms)", why, ctl->cfg->drain_timeout_ms);
	for (int i = 0; i < ctl->n_threads; i++)
		xjk_loop_post(ctl->threads[i].loop, drain_thread, &ctl->threads[i].proxy);
	ctl->drain_deadline = xjk_loop_now(ctl->loop) + (uint64_t)ctl->cfg->drain_timeout_ms;
	ctl->drain.fn = on_drain_poll;
	xjk_timer_arm(ctl->loop, &ctl->drain, DRAIN_POLL_MS);
}

static void on_reload_ready(struct xjk_io *io, uint32_t events)
{
	(void)events;
	struct control *ctl = container_of(io, struct control, reload_ready);
	char byte;
	ssize_t n = read(io->fd, &byte, 1);
	xjk_loop_unwatch(io);
	close(io->fd);
	io->fd = -1;
	if (n == 1)
		start_drain(ctl, "reload: the new process serves");
	else
		xjk_error("reload failed: the new process exited before serving; this one goes on");
}

/* Validates the configuration and hands over to a new process; on any error
 * the running one stays as it is. Returns 0, or -1 with the reason in ERR. */
static int reload(struct control *ctl, char *err, size_t errlen)
{
	if (ctl->draining || ctl->reload_ready.fd >= 0) {
		snprintf(err, errlen, "a reload or stop is already under way");
		return -1;
	}
	xjk_notify("RELOADING=1");
	int ready;
	if (xjk_reload_spawn(ctl->config_path, ctl->argv, ctl->cfg, ctl->listen_fds, ctl->n_threads,
			     &ready, err, errlen) < 0) {
		xjk_notify("READY=1");
		return -1;
	}
	ctl->reload_ready.fd = ready;
	ctl->reload_ready.fn = on_reload_ready;
	xjk_loop_watch(ctl->loop, &ctl->reload_ready, EPOLLIN);
	return 0;
}

/* xjkctl reload: the same as SIGHUP. */
static int control_reload(void *arg, char *msg, size_t msglen)
{
	if (reload(arg, msg, msglen) < 0)
		return -1;
	snprintf(msg, msglen, "configuration valid, new process starting");
	return 0;
}

static void on_signal(struct xjk_io *io, uint32_t events)
{
	(void)events;
	struct control *ctl = container_of(io, struct control, signals);
	struct signalfd_siginfo si;
	char err[1024];
	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
			if (ctl->draining) {
				xjk_info("second stop signal: stopping now");
				ctl->drain_deadline = 0;
				break;
			}
			xjk_notify("STOPPING=1");
			start_drain(ctl, "stop signal");
			break;
		case SIGHUP:
			if (reload(ctl, err, sizeof(err)) < 0)
				xjk_error("reload rejected: %s", err);
			else
				xjk_info("reload: configuration valid, new process starting");
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

/* Active checks on the control loop, and the fail-fast of in-flight exchanges
 * on every data loop when a backend goes down. */
static int start_health(struct control *ctl, const struct xjk_config *cfg)
{
	struct xjk_proxy **pxs = calloc((size_t)ctl->n_threads + 1, sizeof(*pxs));
	if (!pxs)
		return -ENOMEM;
	for (int i = 0; i < ctl->n_threads; i++)
		pxs[i] = &ctl->threads[i].proxy;
	int rc = xjk_health_failfast_start(pxs, ctl->n_threads, cfg->workers.n_backends);
	free(pxs);
	if (rc < 0)
		return rc;
	ctl->health = xjk_health_start(ctl->loop, cfg);
	return !ctl->health && errno ? -errno : 0;
}

/* The XDP rings follow worker state: a backend leaves every ring while it is
 * not OK or not active, and comes back with its weight. The l4 module belongs
 * to the control loop (it also follows netlink there): a change decided on a
 * data thread is posted to it, one decided on the control loop applies at once. */
struct l4_change {
	struct control *ctl;
	int backend;
	bool up;
	int lbfactor;
};

static void l4_apply(void *arg)
{
	struct l4_change *ch = arg;
	struct control *ctl = ch->ctl;
	const char *name = ctl->cfg->workers.backends[ch->backend].name;
	/* Only an operator's lbfactor change reweights: a weight written in
	 * XjkL4Vip stays until then. */
	if (ch->lbfactor != ctl->l4_lbfactor[ch->backend]) {
		ctl->l4_lbfactor[ch->backend] = ch->lbfactor;
		if (xjk_l4_set_backend_weight(ctl->l4, name, (uint32_t)ch->lbfactor) > 0)
			xjk_info("l4: %s weight %d", name, ch->lbfactor);
	}
	if (xjk_l4_set_backend_up(ctl->l4, name, ch->up) > 0)
		xjk_info("l4: %s %s the rings", name, ch->up ? "in" : "out of");
	free(ch);
}

static void l4_on_state(void *arg, int backend, enum xjk_worker_state state,
			enum xjk_activation activation)
{
	struct control *ctl = arg;
	struct l4_change *ch = malloc(sizeof(*ch));
	if (!ch)
		return;
	*ch = (struct l4_change){ctl, backend,
				 activation == XJK_ACTIVE &&
					 (state == XJK_STATE_OK || state == XJK_STATE_OK_IDLE ||
					  state == XJK_STATE_OK_BUSY),
				 xjk_wstate_lbfactor(backend)};
	if (pthread_equal(pthread_self(), ctl->control_tid))
		l4_apply(ch);
	else if (xjk_loop_post(ctl->loop, l4_apply, ch) < 0)
		free(ch);
}

/* The control-plane modules the configuration asks for: cluster membership
 * (a member leaving marks its workers down) and the XDP fast path. */
static int start_control_modules(struct control *ctl)
{
	struct xjk_config *cfg = ctl->cfg;
	if (cfg->membership.enabled) {
		ctl->membership = xjk_membership_new(ctl->loop, &cfg->membership,
						     xjk_membership_failover, cfg);
		if (!ctl->membership)
			return -1;
	}
	if (cfg->l4.n_vips) {
		char err[512];
		if (xjk_l4_open(&cfg->l4, &cfg->workers, ctl->loop, &ctl->l4, err, sizeof(err)) <
		    0) {
			xjk_error("XjkL4Vip: %s", err);
			return -1;
		}
		ctl->l4_lbfactor = calloc((size_t)cfg->workers.n_backends + 1, sizeof(int));
		if (!ctl->l4_lbfactor)
			return -1;
		for (int i = 0; i < cfg->workers.n_backends; i++)
			ctl->l4_lbfactor[i] = cfg->workers.backends[i].lbfactor;
		xjk_wstate_subscribe(l4_on_state, ctl);
	}
	return 0;
}

static int start_threads(struct control *ctl)
{
	struct xjk_config *cfg = ctl->cfg;
	ctl->threads = calloc((size_t)cfg->threads, sizeof(*ctl->threads));
	if (!ctl->threads)
		return -ENOMEM;
	for (int i = 0; i < cfg->threads; i++) {
		struct data_thread *t = &ctl->threads[i];
		t->loop = xjk_loop_new();
		if (!t->loop)
			return -ENOMEM;
		int rc = xjk_proxy_start(&t->proxy, i, t->loop, cfg,
					 &ctl->listen_fds[i * cfg->n_listens]);
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
	xjk_reload_exe_init(); /* first: nothing has changed directory yet */
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

	static struct xjk_config cfg;
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
	if (xjk_bpffs_use_dir(cfg.bpf_dir, err, sizeof(err))) {
		fprintf(stderr, "XjkBpfDir: %s\n", err);
		return 1;
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

	static struct control ctl;
	ctl.cfg = &cfg;
	ctl.control_tid = pthread_self();
	ctl.argv = argv;
	ctl.config_path = path;
	ctl.reload_ready.fd = -1;
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
	ctl.listen_fds = xjk_listeners_open(&cfg, cfg.threads);
	if (!ctl.listen_fds)
		return 1;
	int rc = start_threads(&ctl);
	if (rc < 0) {
		xjk_error("cannot start: %s", strerror(-rc));
		return 1;
	}
	rc = start_health(&ctl, &cfg);
	if (rc < 0) {
		xjk_error("cannot start health checks: %s", strerror(-rc));
		return 1;
	}
	if (start_control_modules(&ctl) < 0)
		return 1;
	ctl.maintain.fn = on_maintain;
	xjk_timer_arm(ctl.loop, &ctl.maintain, 1000);
	if (cfg.pid_file && (rc = xjk_pid_file_write(cfg.pid_file)) < 0)
		xjk_warn("%s: %s", cfg.pid_file, strerror(-rc));
	xjk_info("xjkd %d started: %d listener(s), %d worker(s), %d event loop(s)", (int)getpid(),
		 cfg.n_listens, cfg.workers.n_backends + cfg.workers.n_lbs, cfg.threads);
	ctl.admin_src = (struct xjk_admin_src){
		.cfg = &cfg,
		.membership = ctl.membership,
		.membership_conf = &cfg.membership,
		.bpf_dir = xjk_bpffs_dir(),
		.start_s = (uint64_t)time(NULL),
	};
	if (xjk_admin_start(ctl.loop, &ctl.admin_src, &ctl.admin) < 0 ||
	    xjk_control_start(ctl.loop, &ctl.admin_src, control_reload, &ctl, &ctl.control) < 0)
		return 1;
	if (xjk_privdrop(&cfg) < 0) /* bound, loaded and attached: XjkUser from here on */
		return 1;
	xjk_announce_ready();

	xjk_loop_run(ctl.loop);
	xjk_health_stop(ctl.health);
	xjk_control_stop(ctl.control);
	xjk_admin_stop(ctl.admin);
	for (int i = 0; i < ctl.n_threads; i++) {
		pthread_join(ctl.threads[i].tid, NULL);
		xjk_proxy_stop(&ctl.threads[i].proxy);
	}
	xjk_health_failfast_stop();
	xjk_splice_stop();
	xjk_membership_free(ctl.membership);
	xjk_l4_close(ctl.l4);
	xjk_info("xjkd %d stopped", (int)getpid());
	return 0;
}
