/* xjk-members.c: runs the membership listener and relay alone, for operators
 * and tests: prints members as they join and leave, the table and counters on
 * SIGUSR1, and the counters on exit.
 *
 *   xjk-members [-v] 'XjkMembership 228.0.0.4:45564 eth0 dropTime=3000' ['XjkRelayPeer ...' ...]
 *
 * Each argument is one configuration directive, as in xjk.conf. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "membership.h"

#define MAX_WORDS 32

struct tool {
	struct xjk_loop *loop;
	struct xjk_membership *ms;
	struct xjk_io sig;
	uint64_t start_ms;
};

static void on_change(void *ctx, const struct xjk_member *m, enum xjk_member_event ev)
{
	struct tool *t = ctx;
	char uid[33];
	xjk_tribes_uid_str(m->uid, uid);
	printf("%llu %s %s uid=%s alive=%lld format=%s domain=%s\n",
	       (unsigned long long)(xjk_loop_now(t->loop) - t->start_ms), xjk_member_event_name(ev),
	       m->addr, uid, (long long)m->alive_ms, xjk_tribes_format_name(m->format), m->domain);
}

static void print_stats(const struct xjk_membership *ms)
{
	const struct xjk_membership_stats *s = xjk_membership_stats(ms);
	printf("stats datagrams=%llu beacons=%llu other=%llu malformed=%llu oversized=%llu "
	       "filtered=%llu echoes=%llu peer_refused=%llu relayed=%llu rate_limited=%llu "
	       "send_errors=%llu\n",
	       (unsigned long long)s->datagrams, (unsigned long long)s->beacons,
	       (unsigned long long)s->other, (unsigned long long)s->malformed,
	       (unsigned long long)s->oversized, (unsigned long long)s->filtered,
	       (unsigned long long)s->echoes, (unsigned long long)s->peer_refused,
	       (unsigned long long)s->relayed, (unsigned long long)s->rate_limited,
	       (unsigned long long)s->send_errors);
}

static void print_members(const struct tool *t)
{
	uint64_t now = xjk_loop_now(t->loop);
	int n = xjk_membership_count(t->ms);
	printf("members %d\n", n);
	for (int i = 0; i < n; i++) {
		const struct xjk_member *m = xjk_membership_member(t->ms, i);
		char uid[33];
		xjk_tribes_uid_str(m->uid, uid);
		printf("member %s uid=%s alive=%lld last_seen_ms_ago=%llu beacons=%llu domain=%s\n",
		       m->addr, uid, (long long)m->alive_ms,
		       (unsigned long long)(now - m->last_seen_ms), (unsigned long long)m->beacons,
		       m->domain);
	}
}

static void on_signal(struct xjk_io *io, uint32_t events)
{
	(void)events;
	struct tool *t = container_of(io, struct tool, sig);
	struct signalfd_siginfo si;
	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			print_members(t);
			print_stats(t->ms);
		} else {
			xjk_loop_stop(t->loop);
		}
	}
}

/* Splits ARG at blanks (in place) and applies it as one directive. */
static int apply(struct xjk_membership_config *mc, char *arg)
{
	char *words[MAX_WORDS], *save = NULL, err[256];
	int n = 0;
	for (char *w = strtok_r(arg, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_WORDS) {
			fprintf(stderr, "xjk-members: too many words in a directive\n");
			return -1;
		}
		words[n++] = w;
	}
	int rc = n ? xjk_membership_directive(mc, words[0], n - 1, words + 1, err, sizeof(err)) : 1;
	if (rc == 1)
		snprintf(err, sizeof(err), "'%s' is not a membership directive", n ? words[0] : "");
	if (rc != 0) {
		fprintf(stderr, "xjk-members: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct xjk_membership_config mc;
	struct tool t = {.sig.fd = -1};
	char err[256];
	int first = 1, rc = 1;

	if (argc > 1 && !strcmp(argv[1], "-v")) {
		xjk_log_set_level(XJK_LOG_DEBUG);
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: xjk-members [-v] 'XjkMembership GROUP:PORT IFACE ...' "
				"['XjkRelay... ...' ...]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	xjk_membership_config_init(&mc);
	for (int i = first; i < argc; i++)
		if (apply(&mc, argv[i]) < 0)
			goto out;
	if (!mc.enabled) {
		fprintf(stderr, "xjk-members: no XjkMembership directive\n");
		goto out;
	}
	if (xjk_membership_config_check(&mc, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "xjk-members: %s\n", err);
		goto out;
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	t.loop = xjk_loop_new();
	if (!t.loop)
		goto out;
	t.start_ms = xjk_loop_now(t.loop);
	t.sig.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	t.sig.fn = on_signal;
	if (t.sig.fd < 0 || xjk_loop_watch(t.loop, &t.sig, EPOLLIN) < 0) {
		fprintf(stderr, "xjk-members: signalfd: %s\n", strerror(errno));
		goto out;
	}
	t.ms = xjk_membership_new(t.loop, &mc, on_change, &t);
	if (!t.ms)
		goto out;
	printf("listening\n");
	if (xjk_loop_run(t.loop) == 0)
		rc = 0;
	print_stats(t.ms);
out:
	xjk_membership_free(t.ms);
	if (t.sig.fd >= 0) {
		xjk_loop_unwatch(&t.sig);
		close(t.sig.fd);
	}
	if (t.loop)
		xjk_loop_free(t.loop);
	xjk_membership_config_free(&mc);
	return rc;
}
