/* splice.h: the data path of http workers (worker.X.type=http, HTTP/1.1
 * backends such as Tomcat's HTTP connector or nginx).
 *
 * client.c reads the first request head and picks the backend; the client
 * connection is then handed over here. xjkd connects to the backend (failing
 * over to another lb member when the connect fails), forwards the bytes it
 * already read, pairs the two sockets in the kernel (bpf/xjk_splice.bpf.c)
 * and steps aside until a side hangs up. Routing is per connection: later
 * requests on it go to the same member, unless that member fails or is
 * disabled, in which case the kernel hands the next request back to xjkd,
 * which routes it again. When the kernel cannot take a pair, xjkd copies the
 * bytes itself. See docs/architecture.md, "Kernel splice". */
#ifndef XJK_SPLICE_H
#define XJK_SPLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "xjk_bpf.h"

struct xjk_proxy;

/* Where the handed-over request goes. */
struct xjk_splice_target {
	int lb;		 /* lb worker index, -1 for a plain http worker */
	int member;	 /* position in the lb's members, -1 for a plain worker */
	int backend;	 /* index into workers.backends */
	uint64_t failed; /* lb members that already failed for this request */
	bool sticky;	 /* session routes count (the mount does not ignore them) */
	bool replayable; /* idempotent: may go to another member that answers */
};

/* How connections went, since start (all threads). */
struct xjk_splice_counters {
	uint64_t spliced;   /* pairs the kernel moved */
	uint64_t copied;    /* connections xjkd copied itself */
	uint64_t fallbacks; /* of those: the kernel refused the pair */
	uint64_t takebacks; /* requests handed back by the kernel and routed again */
	uint64_t aborts;    /* connections cut because their bytes could not be kept in order */
	uint64_t open;	    /* handed-over connections open now */
};

/* Once per process, after xjk_routes_init and before the data loops: loads
 * the BPF side when CFG has an http worker. Without it (no privileges,
 * XJK_SPLICE=copy in the environment) xjkd copies every http connection
 * itself, and says so in the log. */
void xjk_splice_init(const struct xjk_config *cfg);
/* xjkd stops (on PX's thread, from xjk_proxy_drain): each spliced connection
 * of the thread closes once it looks answered and idle; until then it counts
 * in px->n_clients, which the drain waits for. */
void xjk_splice_drain(struct xjk_proxy *px);
/* After the data loops stopped: unloads, and unpins what this process pinned. */
void xjk_splice_stop(void);

/* Takes over client socket FD (the caller has forgotten it) whose request
 * head HEAD (HEAD_LEN bytes) chose TARGET. IN holds the bytes read after the
 * head and OUT the bytes still owed to the client (earlier responses); both
 * are emptied. Never fails: errors are answered to the client. */
void xjk_splice_handoff(struct xjk_proxy *px, int fd, const struct xjk_splice_target *target,
			const char *head, size_t head_len, struct xjk_buf *in, struct xjk_buf *out);

void xjk_splice_counters(struct xjk_splice_counters *out);
/* What the kernel moved for BACKEND (summed over CPUs). 0 or -errno. */
int xjk_splice_worker_stats(int backend, struct xjk_splice_stats *out);

#endif
