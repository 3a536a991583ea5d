/* xjk_splice.bpf.c: the kernel splice of HTTP backend connections. xjkd puts
 * a client socket and its backend socket in xjk_sp_socks (keyed by socket
 * cookie) and the pairing in xjk_sp_peers; the sk_skb verdict program sends
 * each side's bytes out of the other side. Client bytes for a member that
 * stopped accepting (wstate map) are passed up to xjkd instead, which routes
 * the request again; so are bytes whose peer is not in the sockhash. Either
 * way the rest of that socket's bytes follow them (held). The routes map is
 * written by xjkd only (agent/routes.c); it lives in this object so that it
 * is pinned with the map it serves. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xjk_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, XJK_SPLICE_MAX_SOCKS);
	__type(key, __u64);
	__type(value, __u64);
} xjk_sp_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XJK_SPLICE_MAX_SOCKS);
	__type(key, __u64);
	__type(value, struct xjk_splice_peer);
} xjk_sp_peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XJK_SPLICE_MAX_WORKERS);
	__type(key, __u32);
	__type(value, struct xjk_splice_stats);
} xjk_sp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XJK_SPLICE_MAX_WORKERS);
	__type(key, __u32);
	__type(value, struct xjk_wstate_entry);
} wstate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XJK_ROUTES_MAX);
	__type(key, struct xjk_route_key);
	__type(value, struct xjk_route);
} routes SEC(".maps");

/* Plain "sk_skb": libbpf 1.1 does not know "sk_skb/verdict"; xjkd attaches
 * it as BPF_SK_SKB_VERDICT (no stream parser: every skb as it comes). */
SEC("sk_skb")
int xjk_splice_verdict(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	struct xjk_splice_peer *p = bpf_map_lookup_elem(&xjk_sp_peers, &cookie);
	struct xjk_splice_stats *st;
	__u32 worker;

	/* A FIN comes as an skb without bytes. Redirected, it would make the
	 * peer's egress send nothing, which the kernel takes for a broken pipe
	 * (EPIPE on the peer, its transmit stopped). xjkd passes the hang-up
	 * on itself, once the bytes before it are out. */
	if (!p || !skb->len)
		return SK_PASS; /* not paired (any more), or a FIN: xjkd reads it */
	worker = p->worker;
	st = bpf_map_lookup_elem(&xjk_sp_stats, &worker);
	/* Once a byte went up to xjkd, a later one redirected would reach the
	 * peer before xjkd has written it: the rest of the stream follows. */
	if (p->held)
		goto hold;
	if (p->dir == XJK_SPLICE_TO_BACKEND) {
		struct xjk_wstate_entry *ws = bpf_map_lookup_elem(&wstate, &worker);

		if (!ws || !ws->accept)
			goto hold;
	}
	/* A peer not in the sockhash (not yet inserted: the pairing's window,
	 * or closed) makes the redirect fail; the bytes then go up to xjkd
	 * rather than being dropped. */
	if (bpf_sk_redirect_hash(skb, &xjk_sp_socks, &p->peer, 0) != SK_PASS)
		goto hold;
	__sync_fetch_and_add(&p->bytes, skb->len);
	if (st && p->dir == XJK_SPLICE_TO_BACKEND) {
		st->to_backend_bytes += skb->len;
		st->to_backend_msgs++;
	} else if (st) {
		st->to_client_bytes += skb->len;
		st->to_client_msgs++;
	}
	return SK_PASS;
hold:
	p->held = 1;
	if (st)
		st->passed_msgs++;
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
