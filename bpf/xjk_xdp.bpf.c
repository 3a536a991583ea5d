/* xjk_xdp.bpf.c: the XDP L4 fast path. Packets to a configured VIP:port/proto
 * pick a backend (connection table first, then the VIP's weighted Maglev ring)
 * and leave by L2 direct server return: MACs rewritten, XDP_TX or a devmap
 * redirect. Everything else is XDP_PASS. Maps: docs/maps.md; the parsing
 * rules for fragments, options and truncation: docs/maps.md "Packet rules". */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xjk_bpf.h"

#define VLAN_MAX_DEPTH 2      /* 802.1Q, and 802.1ad outer tag */
#define IPV6_EXT_MAX   3      /* hop-by-hop, routing, destination options */
#define IPV4_FRAG_MASK 0x3fff /* MF flag and fragment offset */
#define REFRESH_BITS   6      /* one flow-cache hit in 64 refreshes the LRU entry */

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XJK_L4_MAX_VIPS);
	__type(key, struct xjk_l4_vip_key);
	__type(value, struct xjk_l4_vip_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XJK_L4_VIP_SLOTS);
	__type(key, __u32);
	__type(value, struct xjk_l4_vip_slot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_vip_slots SEC(".maps");

/* Slot vip.index * XJK_L4_RING_STRIDE + (flow hash * vip.ring_size >> 32) holds a real index. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XJK_L4_MAX_VIPS *XJK_L4_RING_STRIDE);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct xjk_l4_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_vip_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XJK_L4_MAX_REALS);
	__type(key, __u32);
	__type(value, struct xjk_l4_real);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_reals SEC(".maps");

/* Connection tables, one per family so that IPv4 flows hash and compare a
 * 16-byte key. Shared by all CPUs (a flow may be steered to another CPU by
 * RSS changes), with per-CPU LRU lists so eviction takes no global lock. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XJK_L4_MAX_FLOWS);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct xjk_l4_flow4_key);
	__type(value, struct xjk_l4_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XJK_L4_MAX_FLOWS6);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct xjk_l4_flow_key);
	__type(value, struct xjk_l4_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_flows6 SEC(".maps");

/* In front of xjk_flows4 for TCP: include/xjk_bpf.h says why and when an
 * entry is valid. Shared, not per CPU: a per-CPU array's slot is reached
 * through a pointer table, two cold lines per flow instead of one, and with
 * many flows it measured slower than the LRU alone (docs/performance.md). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XJK_L4_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct xjk_l4_flow_cache);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_flow_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_flow_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XJK_L4_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xjk_l4_vip_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_vip_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XJK_L4_MAX_REALS);
	__type(key, __u32);
	__type(value, struct xjk_l4_real_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_real_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xjk_l4_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xjk_counters SEC(".maps");

/* ifindex -> ifindex, for backends behind an interface other than the ingress one. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XJK_L4_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
	/* pinned by the agent (l4_bpf.c): the kernel adds BPF_F_RDONLY_PROG to
	 * devmaps, so libbpf's by-name reuse would see a mismatch */
} xjk_tx_ports SEC(".maps");

/* A parsed packet: the flow key of its family, the key's hash (ring slot and
 * cache slot), the L4 header and protocol. */
struct pkt {
	union {
		struct xjk_l4_flow4_key k4;
		struct xjk_l4_flow_key k6;
	};
	void *l4;
	__u32 hash;
	__u8 proto;
};

static __always_inline int verdict(__u64 *counts, enum xjk_l4_reason reason, int action)
{
	counts[reason]++;
	return action;
}

/* Fills the IPv4 key's addresses and proto, sets p->l4. Returns a pass_*
 * reason when the packet is not ours to balance, else -1. */
static __always_inline int parse_ipv4(void *data, void *end, struct pkt *p)
{
	struct iphdr *ip = data;

	if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
		return XJK_L4_pass_malformed;
	/* ihl is 4 bits: the options (up to 40 bytes) are skipped, not rejected */
	__u32 hlen = ip->ihl * 4;
	if (data + hlen > end)
		return XJK_L4_pass_malformed;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return XJK_L4_pass_not_vip;
	if (ip->frag_off & bpf_htons(IPV4_FRAG_MASK))
		return XJK_L4_pass_fragment;
	p->k4 = (struct xjk_l4_flow4_key){
		.src = ip->saddr, .dst = ip->daddr, .proto = ip->protocol};
	p->proto = ip->protocol;
	p->l4 = data + hlen;
	return -1;
}

static __always_inline int parse_ipv6(void *data, void *end, struct pkt *p)
{
	struct ipv6hdr *ip6 = data;

	if ((void *)(ip6 + 1) > end || ip6->version != 6)
		return XJK_L4_pass_malformed;
	__u8 next = ip6->nexthdr;
	void *cur = ip6 + 1;

#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS)
			break;
		__u8 *ext = cur;
		if ((void *)(ext + 2) > end)
			return XJK_L4_pass_malformed;
		next = ext[0];
		cur += (ext[1] + 1) * 8;
	}
	if (next == IPPROTO_FRAGMENT)
		return XJK_L4_pass_fragment;
	if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS)
		return XJK_L4_pass_ext_hdr;
	if (next != IPPROTO_TCP && next != IPPROTO_UDP)
		return XJK_L4_pass_not_vip;
	p->k6 = (struct xjk_l4_flow_key){.proto = next, .family = XJK_L4_FAMILY_V6};
	__builtin_memcpy(p->k6.src, &ip6->saddr, 16);
	__builtin_memcpy(p->k6.dst, &ip6->daddr, 16);
	p->proto = next;
	p->l4 = cur;
	return -1;
}

/* Each family's table at its own call site, so the verifier inlines both. */
static __always_inline struct xjk_l4_flow *flow_find(const struct pkt *p, const int v6)
{
	return v6 ? bpf_map_lookup_elem(&xjk_flows6, &p->k6)
		  : bpf_map_lookup_elem(&xjk_flows4, &p->k4);
}

static __always_inline int flow_insert(const struct pkt *p, const struct xjk_l4_flow *f,
				       const int v6)
{
	return v6 ? bpf_map_update_elem(&xjk_flows6, &p->k6, f, BPF_ANY)
		  : bpf_map_update_elem(&xjk_flows4, &p->k4, f, BPF_ANY);
}

/* A connection-table hit: the flow's backend and VIP, or 0. Only flows to a
 * VIP are ever inserted, so a hit also proves the packet is to a VIP. */
static __always_inline __u32 flow_lookup(const struct pkt *p, __u32 *vip_index, const int v6)
{
	struct xjk_l4_flow *f = flow_find(p, v6);

	if (!f)
		return 0;
	if (p->proto == IPPROTO_UDP) {
		/* UDP has no end-of-flow signal: idle entries are re-hashed */
		__u64 now = bpf_ktime_get_ns();
		if (now - f->atime_ns >= XJK_L4_UDP_IDLE_NS)
			return 0;
		f->atime_ns = now;
	}
	*vip_index = f->vip;
	return f->real;
}

/* A new flow: the VIP's Maglev ring chooses, the table remembers. An entry
 * that may exist already (a SYN skipped the lookup; an idle UDP flow) is
 * rewritten in place: an LRU update always takes a fresh node, which costs
 * cold memory on every retransmitted SYN. */
static __always_inline __u32 ring_pick(const struct pkt *p, const struct xjk_l4_vip_meta *vip,
				       int may_exist, __u64 *counts, const int v6)
{
	__u32 m = vip->ring_size;
	if (m == 0 || m > XJK_L4_RING_STRIDE)
		return 0;
	/* hash * m / 2^32 spreads the hash over the ring as evenly as hash % m
	 * with one multiply; % is a 64-bit divide here (BPF has no 32-bit one
	 * without alu32) plus the verifier's zero-divisor branch */
	__u32 slot = vip->index * XJK_L4_RING_STRIDE + (__u32)(((__u64)p->hash * m) >> 32);
	__u32 *real = bpf_map_lookup_elem(&xjk_ring, &slot);
	if (!real || *real == 0)
		return 0;

	struct xjk_l4_flow f = {.real = *real, .vip = vip->index};
	if (p->proto == IPPROTO_UDP)
		f.atime_ns = bpf_ktime_get_ns();
	struct xjk_l4_flow *old = may_exist ? flow_find(p, v6) : NULL;
	if (!old) {
		if (flow_insert(p, &f, v6))
			counts[XJK_L4_lru_full]++;
		return f.real;
	}
	__u32 was = old->real;
	*old = f;
	if (was != f.real) {
		/* xjk_flow_cache may hold the old backend: after the entry is
		 * rewritten, so that a fill that sees the new generation also
		 * reads the new entry */
		__u32 zero = 0;
		__u32 *gen = bpf_map_lookup_elem(&xjk_flow_gen, &zero);
		if (gen)
			__sync_fetch_and_add(gen, 1);
	}
	return f.real;
}

/* The cache slot of an IPv4 TCP flow, and in *GEN the generation a valid
 * entry carries. NULL when the maps are missing. */
static __always_inline struct xjk_l4_flow_cache *cache_slot(const struct pkt *p, __u32 *gen)
{
	__u32 zero = 0, slot = p->hash & (XJK_L4_CACHE_SLOTS - 1);
	__u32 *g = bpf_map_lookup_elem(&xjk_flow_gen, &zero);

	if (!g)
		return NULL;
	*gen = *g;
	return bpf_map_lookup_elem(&xjk_flow_cache, &slot);
}

/* Each field read once (volatile): another CPU may be rewriting the slot.
 * The key compares as two 8-byte words: it has no holes (pad is zero). */
static __always_inline __u32 cache_find(const volatile struct xjk_l4_flow_cache *c,
					const struct pkt *p, __u32 gen, __u32 *vip_index)
{
	const volatile __u64 *a = (const volatile __u64 *)&c->key;
	const __u64 *b = (const __u64 *)&p->k4;
	__u32 real = c->real, vip = c->vip;

	if (a[0] != b[0] || a[1] != b[1] || c->gen != gen ||
	    c->check != xjk_l4_check(p->hash, real, vip, gen))
		return 0;
	*vip_index = vip;
	return real;
}

/* A flow-cache hit skips xjk_flows4, so without this the LRU would never see
 * its busiest flows used and would evict them first. A lookup marks the entry
 * referenced; one hit in 1 << REFRESH_BITS pays for it. Which hit: the top
 * bits of (this CPU's hit count + flow hash) times an odd constant, a Weyl
 * sequence per flow, so flows that take turns in a fixed pattern are all
 * sampled (the count alone would skip every other flow of two alternating),
 * at the cost of an add, a multiply and a compare: no helper call. */
static __always_inline void flow_refresh(const struct pkt *p, __u64 hits)
{
	if ((((__u32)hits + p->hash) * 0x9e3779b1u) >> (32 - REFRESH_BITS) == 0)
		bpf_map_lookup_elem(&xjk_flows4, &p->k4);
}

/* The VIP of VK into *OUT: its slot in xjk_vip_slots when the slot holds it
 * (fields read once: the agent may be rewriting it), else xjk_vips. */
static __always_inline int vip_find(const struct xjk_l4_vip_key *vk, struct xjk_l4_vip_meta *out)
{
	__u32 h = xjk_l4_vip_hash(vk), slot = h & (XJK_L4_VIP_SLOTS - 1);
	const volatile struct xjk_l4_vip_slot *s = bpf_map_lookup_elem(&xjk_vip_slots, &slot);

	if (s) {
		const volatile __u32 *a = (const volatile __u32 *)&s->key;
		const __u32 *b = (const __u32 *)vk;
		struct xjk_l4_vip_meta m = {.index = s->meta.index, .ring_size = s->meta.ring_size};
		int same = s->check == xjk_l4_check(h, m.index, m.ring_size, 0);

#pragma unroll
		for (int i = 0; i < (int)(sizeof(*vk) / 4); i++)
			same &= a[i] == b[i];
		if (same) {
			*out = m;
			return 1;
		}
	}
	struct xjk_l4_vip_meta *v = bpf_map_lookup_elem(&xjk_vips, vk);
	if (!v)
		return 0;
	*out = *v;
	return 1;
}

static __always_inline void count_traffic(__u32 vip_index, __u32 real, __u32 len, int is_new)
{
	struct xjk_l4_vip_stats *vs = bpf_map_lookup_elem(&xjk_vip_stats, &vip_index);
	if (vs) {
		vs->packets++;
		vs->bytes += len;
		vs->new_flows += is_new;
	}
	struct xjk_l4_real_stats *rs = bpf_map_lookup_elem(&xjk_real_stats, &real);
	if (rs) {
		rs->packets++;
		rs->bytes += len;
	}
}

/* Everything after the IP header, for one family (V6 is a constant). ETH is
 * the frame's start, already bounds-checked; END its end. */
static __always_inline int balance(struct xdp_md *ctx, struct ethhdr *eth, void *end, struct pkt *p,
				   __u64 *counts, const int v6)
{

	/* Both TCP and UDP start with the two ports. */
	__be16 *ports = p->l4;
	if ((void *)(ports + 2) > end)
		return verdict(counts, XJK_L4_pass_malformed, XDP_PASS);
	__be16 dport = ports[1];
	if (v6) {
		p->k6.sport = ports[0];
		p->k6.dport = dport;
	} else {
		p->k4.sport = ports[0];
		p->k4.dport = dport;
	}

	__u32 port = bpf_ntohs(dport);
	struct xjk_l4_port *vp = bpf_map_lookup_elem(&xjk_vip_ports, &port);
	if (!vp || !(p->proto == IPPROTO_TCP ? vp->tcp_vips : vp->udp_vips))
		return verdict(counts, XJK_L4_pass_not_vip, XDP_PASS);

	/* Malformed packets to a VIP port are dropped, never routed: the port is
	 * ours on every VIP address, whatever the stack would do with them. */
	int syn = 0;
	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *th = p->l4;
		if ((void *)(th + 1) > end || th->doff < 5)
			return verdict(counts, XJK_L4_drop_truncated, XDP_DROP);
		syn = th->syn && !th->ack;
	} else if ((void *)((struct udphdr *)p->l4 + 1) > end) {
		return verdict(counts, XJK_L4_drop_truncated, XDP_DROP);
	}

	p->hash = v6 ? xjk_l4_flow_hash((const __u32 *)&p->k6, sizeof(p->k6) / 4)
		     : xjk_l4_flow_hash((const __u32 *)&p->k4, sizeof(p->k4) / 4);
	__u32 gen = 0, vip_index = 0, real = 0;
	struct xjk_l4_flow_cache *c = NULL;
	/* SYNs always ask the ring, so a retried handshake follows ring changes.
	 * They leave the cache alone: a SYN's flow may never send another packet,
	 * and a flood of them would evict the established flows. */
	if (!v6 && !syn && p->proto == IPPROTO_TCP)
		c = cache_slot(p, &gen);
	if (c && (real = cache_find(c, p, gen, &vip_index)) != 0) {
		c = NULL; /* nothing to write back */
		flow_refresh(p, counts[XJK_L4_lru_hit]);
	} else if (!syn)
		real = flow_lookup(p, &vip_index, v6);
	int is_new = !real;
	if (real) {
		counts[XJK_L4_lru_hit]++;
	} else {
		struct xjk_l4_vip_key vk = {.port = dport, .proto = p->proto};
		if (v6) {
			__builtin_memcpy(vk.addr, p->k6.dst, sizeof(vk.addr));
			vk.family = XJK_L4_FAMILY_V6;
		} else {
			vk.addr[0] = p->k4.dst;
			vk.family = XJK_L4_FAMILY_V4;
		}
		struct xjk_l4_vip_meta vip;
		if (!vip_find(&vk, &vip))
			return verdict(counts, XJK_L4_pass_not_vip, XDP_PASS);
		int may_exist = syn || p->proto == IPPROTO_UDP;
		counts[may_exist ? XJK_L4_lru_miss_syn : XJK_L4_lru_miss_other]++;
		vip_index = vip.index;
		real = ring_pick(p, &vip, may_exist, counts, v6);
	}
	if (c && real)
		*c = (struct xjk_l4_flow_cache){
			.key = p->k4,
			.real = real,
			.vip = vip_index,
			.gen = gen,
			.check = xjk_l4_check(p->hash, real, vip_index, gen)};
	struct xjk_l4_real *r = real ? bpf_map_lookup_elem(&xjk_reals, &real) : NULL;
	if (!r)
		return verdict(counts, XJK_L4_drop_no_real, XDP_DROP);
	if (!(r->flags & XJK_L4_REAL_F_RESOLVED))
		return verdict(counts, XJK_L4_drop_unresolved, XDP_DROP);

	count_traffic(vip_index, real, (__u32)(end - (void *)eth), is_new);
	/* dmac and smac lie side by side as h_dest and h_source do (xjk_bpf.h
	 * asserts it): three 4-byte words, where memcpy would be twelve byte
	 * copies (clang cannot know the frame's alignment; x86 needs none) */
	__u32 *to = (__u32 *)eth;
	const __u32 *from = (const __u32 *)r->dmac;
	to[0] = from[0];
	to[1] = from[1];
	to[2] = from[2];
	if (r->ifindex == ctx->ingress_ifindex)
		return verdict(counts, XJK_L4_tx, XDP_TX);
	int act = bpf_redirect_map(&xjk_tx_ports, r->ifindex, XDP_DROP);
	return verdict(counts, act == XDP_REDIRECT ? XJK_L4_redirect : XJK_L4_drop_redirect, act);
}

SEC("xdp")
int xjk_xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0;
	/* one counters pointer for the whole packet: every path counts once */
	__u64 *counts = bpf_map_lookup_elem(&xjk_counters, &zero);
	struct pkt p;
	int reason;

	if (!counts)
		return XDP_PASS;
	if ((void *)(eth + 1) > end)
		return verdict(counts, XJK_L4_pass_malformed, XDP_PASS);
	__be16 proto = eth->h_proto;
	void *l3 = eth + 1;

#pragma unroll
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		struct vlan_hdr *vh = l3;
		if ((void *)(vh + 1) > end)
			return verdict(counts, XJK_L4_pass_malformed, XDP_PASS);
		proto = vh->proto;
		l3 = vh + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		reason = parse_ipv4(l3, end, &p);
		if (reason >= 0)
			return verdict(counts, reason, XDP_PASS);
		return balance(ctx, eth, end, &p, counts, 0);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		reason = parse_ipv6(l3, end, &p);
		if (reason >= 0)
			return verdict(counts, reason, XDP_PASS);
		return balance(ctx, eth, end, &p, counts, 1);
	}
	return verdict(counts, XJK_L4_pass_not_ip, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
