/* health_failfast.c: when a backend enters ERR (a health check, a cluster
 * member leaving, a failed request, an operator), every data loop fails the
 * exchanges it is running on that backend at once instead of letting them
 * wait for a reply timeout. A wstate subscriber; the work itself runs on each
 * data loop's own thread (xjk_loop_post), since exchanges are thread-owned. */
#include "health.h"

#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "proxy.h"
#include "wstate.h"

/* One per (data loop, backend), made once, so a transition under the wstate
 * lock only queues posts and never allocates a message of its own. */
struct target {
	struct xjk_proxy *px;
	int backend;
};

static struct {
	struct target *targets; /* n_proxies * n_backends, owned */
	int n_proxies, n_backends;
} ff;

static void run_on_loop(void *arg)
{
	struct target *t = arg;
	/* The backend may have come back while the post was queued. */
	if (xjk_wstate_state(t->backend) == XJK_STATE_ERR)
		xjk_proxy_backend_down(t->px, t->backend);
}

static void on_state(void *ctx, int backend, enum xjk_worker_state state,
		     enum xjk_activation activation)
{
	(void)ctx;
	(void)activation;
	if (state != XJK_STATE_ERR)
		return;
	/* Only a verdict on the node, not on one request: a reply timeout, a
	 * protocol error or fail_on_status says nothing about the exchanges
	 * that are going well on it. */
	switch (xjk_wstate_cause(backend)) {
	case XJK_CAUSE_HEALTH:
	case XJK_CAUSE_MEMBERSHIP:
	case XJK_CAUSE_OPERATOR:
	case XJK_CAUSE_CONNECT:
	case XJK_CAUSE_RESET:
		break;
	default:
		return;
	}
	for (int i = 0; i < ff.n_proxies; i++) {
		struct target *t = &ff.targets[i * ff.n_backends + backend];
		if (xjk_loop_post(t->px->loop, run_on_loop, t) < 0)
			xjk_warn("worker %s: cannot tell data loop %d it is down",
				 t->px->cfg->workers.backends[backend].name, i);
	}
}

int xjk_health_failfast_start(struct xjk_proxy *const *proxies, int n, int n_backends)
{
	ff.targets = calloc((size_t)n * (size_t)n_backends + 1, sizeof(*ff.targets));
	if (!ff.targets)
		return -ENOMEM;
	ff.n_proxies = n;
	ff.n_backends = n_backends;
	for (int i = 0; i < n; i++)
		for (int b = 0; b < n_backends; b++)
			ff.targets[i * n_backends + b] = (struct target){proxies[i], b};
	xjk_wstate_subscribe(on_state, NULL);
	return 0;
}

void xjk_health_failfast_stop(void)
{
	/* Only after the data loops stopped: no post can be pending, and no
	 * transition can happen any more (the subscriber stays registered). */
	free(ff.targets);
	ff.targets = NULL;
	ff.n_proxies = 0;
}
