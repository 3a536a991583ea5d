/* xjk_bpf.h: the one header of BPF map keys and values shared by the BPF
 * programs (bpf/) and the agent and tools. Fixed-width types only, explicit
 * padding, and layout assertions, so the two sides cannot drift apart.
 * One section per BPF program; add new sections at the end. */
#ifndef XJK_BPF_H
#define XJK_BPF_H

#include <linux/types.h>

#define XJK_BPF_ASSERT_SIZE(type, size)                                                            \
	_Static_assert(sizeof(type) == (size), #type " layout is part of the BPF ABI")
#define XJK_BPF_ASSERT_OFF(type, field, off)                                                       \
	_Static_assert(__builtin_offsetof(type, field) == (off), #type "." #field " moved")

/* Where the agent and xjkctl pin every xjk map (one flat directory). */
#define XJK_BPF_PIN_DIR "/sys/fs/bpf/xjk"

/* ------------------------------------------------------------------------
 * Section: XDP L4 balancer (bpf/xjk_xdp.bpf.c, agent/l4.c, docs/maps.md)
 * ------------------------------------------------------------------------ */

/* Capacities, sized for a 2-core, 24 GiB machine (docs/maps.md). */
#define XJK_L4_MAX_VIPS	   64
#define XJK_L4_MAX_REALS   4096	   /* real 0 is reserved: "no backend" */
#define XJK_L4_RING_STRIDE 65537   /* largest ring size; a VIP owns stride slots */
#define XJK_L4_MAX_FLOWS   1048576 /* IPv4 connection table */
#define XJK_L4_MAX_FLOWS6  262144  /* IPv6 connection table */
#define XJK_L4_CACHE_SLOTS 65536   /* xjk_flow_cache slots, a power of two */
#define XJK_L4_VIP_SLOTS   256	   /* xjk_vip_slots, a power of two */
#define XJK_L4_MAX_IFACES  64
#define XJK_L4_UDP_IDLE_NS (30ULL * 1000000000ULL) /* UDP flow entries expire */
#define XJK_L4_HASH_SEED   0x786a6b31u		   /* fixed: every node must hash flows alike */

#define XJK_L4_FAMILY_V4 4
#define XJK_L4_FAMILY_V6 6

/* An IPv4 address sits in addr[0]; addr[1..3] stay zero. Addresses and ports
 * are in network byte order. */
struct xjk_l4_vip_key {
	__u32 addr[4];
	__u16 port;
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family; /* XJK_L4_FAMILY_V4 or _V6 */
};
XJK_BPF_ASSERT_SIZE(struct xjk_l4_vip_key, 20);
XJK_BPF_ASSERT_OFF(struct xjk_l4_vip_key, port, 16);

struct xjk_l4_vip_meta {
	__u32 index;	 /* VIP number: ring base index * XJK_L4_RING_STRIDE, stats slot */
	__u32 ring_size; /* prime M <= XJK_L4_RING_STRIDE; 0 while not programmed */
};
XJK_BPF_ASSERT_SIZE(struct xjk_l4_vip_meta, 8);

/* xjk_vip_slots: xjk_vips again, direct-mapped by xjk_l4_vip_hash() %
 * XJK_L4_VIP_SLOTS, so that the verifier inlines the lookup (a hash-map lookup
 * is a ~40 ns call here). xjk_vips stays the table of record: a VIP whose slot
 * another VIP took is found there (agent/l4_vip.c writes both). */
struct xjk_l4_vip_slot {
	struct xjk_l4_vip_key key; /* family 0: empty */
	struct xjk_l4_vip_meta meta;
	__u32 check; /* xjk_l4_check(vip hash, index, ring_size, 0): torn copies fail */
};
XJK_BPF_ASSERT_SIZE(struct xjk_l4_vip_slot, 32);

#define XJK_L4_REAL_F_RESOLVED 1 /* next-hop MAC and egress ifindex are known */

/* A backend reached by L2 direct server return: rewrite MACs, send out ifindex. */
struct xjk_l4_real {
	__u32 addr[4];
	__u8 dmac[6];
	__u8 smac[6];
	__u32 ifindex;
	__u8 family;
	__u8 flags; /* XJK_L4_REAL_F_* */
	__u16 pad;
};
XJK_BPF_ASSERT_SIZE(struct xjk_l4_real, 36);
XJK_BPF_ASSERT_OFF(struct xjk_l4_real, ifindex, 28);
/* the program copies dmac + smac to the frame as three 4-byte words */
XJK_BPF_ASSERT_OFF(struct xjk_l4_real, dmac, 16);
XJK_BPF_ASSERT_OFF(struct xjk_l4_real, smac, 22);

/* IPv6 connection table key (xjk_flows6). */
struct xjk_l4_flow_key {
	__u32 src[4];
	__u32 dst[4];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u16 pad;
};
XJK_BPF_ASSERT_SIZE(struct xjk_l4_flow_key, 40);

/* IPv4 connection table key (xjk_flows4): most traffic is IPv4, and the
 * kernel hashes and compares 16 bytes faster than the 40 of the wide key. */
struct xjk_l4_flow4_key {
	__u32 src;
	__u32 dst;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};
XJK_BPF_ASSERT_SIZE(struct xjk_l4_flow4_key, 16);

struct xjk_l4_flow {
	__u32 real;
	__u32 vip;	/* VIP index: a table hit needs no VIP lookup */
	__u64 atime_ns; /* last packet, kept for UDP only (bpf_ktime_get_ns) */
};
XJK_BPF_ASSERT_SIZE(struct xjk_l4_flow, 16);

/* xjk_flow_cache: a direct-mapped copy of the xjk_flows4 entries of IPv4 TCP
 * flows, slot = flow hash % XJK_L4_CACHE_SLOTS, shared by all CPUs. The
 * verifier inlines its lookup; a kernel hash-map lookup is a call that costs
 * ~40 ns here (docs/performance.md). An entry counts only while its gen
 * equals xjk_flow_gen[0], bumped when a flow's backend is rewritten (a SYN of
 * a known tuple after a ring change) or the agent deletes flows, and while
 * check matches the rest: two CPUs filling one slot at once can interleave
 * their 8-byte stores. */
struct xjk_l4_flow_cache {
	struct xjk_l4_flow4_key key;
	__u32 real; /* 0: empty */
	__u32 vip;
	__u32 gen;
	__u32 check; /* xjk_l4_check(flow hash, real, vip, gen) */
};
XJK_BPF_ASSERT_SIZE(struct xjk_l4_flow_cache, 32);
XJK_BPF_ASSERT_OFF(struct xjk_l4_flow_cache, real, 16);

/* The flow hash (ring slot, cache slot) of WORDS 32-bit words of a flow key.
 * Not a cryptographic hash: an xor-multiply-rotate pass and a murmur-style
 * finaliser, so nearby ports spread over the whole ring. Here so that tests
 * can find a flow's slots; the constant trip count lets clang unroll it. */
static inline __u32 xjk_l4_flow_hash(const __u32 *w, const int words)
{
	__u32 h = XJK_L4_HASH_SEED;

	for (int i = 0; i < words; i++) {
		h ^= w[i];
		h *= 0x9e3779b1u;
		h = (h << 13) | (h >> 19);
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* The check word of a flow-cache entry or a VIP slot: the key enters through
 * its hash, then the values A, B, C. Array entries are copied in place, 8
 * bytes at a time at best: an entry whose words come from two writers fails
 * unless both wrote the same. */
static inline __u32 xjk_l4_check(__u32 hash, __u32 a, __u32 b, __u32 c)
{
	return hash ^ (a * 0x9e3779b1u) ^ (b * 0x85ebca6bu) ^ (c * 0xc2b2ae35u);
}

/* A VIP's xjk_vip_slots slot and check: the key's words folded by xor, one
 * multiply and a shift, computed on every SYN. The slot holds the full key,
 * so a collision only sends a VIP to xjk_vips; the flow hash took about 30
 * instructions, as many as the rest of the VIP lookup. */
static inline __u32 xjk_l4_vip_hash(const struct xjk_l4_vip_key *k)
{
	__u32 h = k->addr[0] ^ k->addr[1] ^ k->addr[2] ^ k->addr[3] ^ k->port ^
		  ((__u32)k->proto << 16) ^ ((__u32)k->family << 24);

	h *= 0x9e3779b1u;
	return h ^ (h >> 16);
}

/* How many VIPs listen on a port (index: port in host order), per protocol:
 * lets traffic to other ports pass after one array read. */
struct xjk_l4_port {
	__u16 tcp_vips;
	__u16 udp_vips;
};
XJK_BPF_ASSERT_SIZE(struct xjk_l4_port, 4);

struct xjk_l4_vip_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows; /* packets that went through the ring */
};
XJK_BPF_ASSERT_SIZE(struct xjk_l4_vip_stats, 24);

struct xjk_l4_real_stats {
	__u64 packets;
	__u64 bytes;
};
XJK_BPF_ASSERT_SIZE(struct xjk_l4_real_stats, 16);

/* Every verdict the program reaches, counted once per packet. X-macro so the
 * enum, the BTF-named struct fields and xjkctl's names stay in one place. */
#define XJK_L4_REASONS(X)                                                                          \
	X(tx)		   /* forwarded out of the ingress interface */                            \
	X(redirect)	   /* forwarded through the devmap to another interface */                 \
	X(pass_not_ip)	   /* not IPv4/IPv6 (ARP, LLDP, ...) */                                    \
	X(pass_malformed)  /* bad or truncated Ethernet/IP header: the stack decides */            \
	X(pass_not_vip)	   /* IP traffic not addressed to a configured VIP:port/proto */           \
	X(pass_fragment)   /* IPv4 fragment or IPv6 fragment header: no ports to hash */           \
	X(pass_ext_hdr)	   /* IPv6 extension header chain longer than we walk */                   \
	X(drop_truncated)  /* to a VIP, but the TCP/UDP header is cut short */                     \
	X(drop_no_real)	   /* VIP ring not programmed or slot empty (no backend up) */             \
	X(drop_unresolved) /* chosen backend has no next-hop MAC yet */                            \
	X(drop_redirect)   /* devmap redirect refused */                                           \
	X(lru_hit)	   /* informational: flow found in the connection table */                 \
	X(lru_miss_syn)	   /* informational: new TCP connection or UDP flow */                     \
	X(lru_miss_other)  /* informational: non-SYN without entry (LRU evicted, peer LB) */       \
	X(lru_full)	   /* informational: connection table update failed */

#define XJK_L4_REASON_ENUM(name) XJK_L4_##name,
enum xjk_l4_reason { XJK_L4_REASONS(XJK_L4_REASON_ENUM) XJK_L4_NR_REASONS };
#undef XJK_L4_REASON_ENUM

#define XJK_L4_REASON_FIELD(name) __u64 name;
struct xjk_l4_counters {
	XJK_L4_REASONS(XJK_L4_REASON_FIELD)
};
#undef XJK_L4_REASON_FIELD
XJK_BPF_ASSERT_SIZE(struct xjk_l4_counters, XJK_L4_NR_REASONS * sizeof(__u64));

/* ------------------------------------------------------------------------
 * Section: splice (bpf/xjk_splice.bpf.c, agent/splice*.c, agent/routes.c)
 * ------------------------------------------------------------------------ */

#define XJK_SPLICE_MAX_SOCKS   65536 /* two per spliced connection */
#define XJK_SPLICE_MAX_WORKERS 1024  /* backend indices: wstate and stats slots */
#define XJK_ROUTES_MAX	       4096  /* lb member routes */
#define XJK_ROUTE_NAME_MAX     64    /* = XJK_NAME_MAX (agent/worker.h) */

#define XJK_SPLICE_TO_BACKEND 0 /* the socket is the client's: its bytes go to the backend */
#define XJK_SPLICE_TO_CLIENT  1 /* the socket is the backend's */

/* xjk_sp_peers: socket cookie -> where that socket's bytes go. */
struct xjk_splice_peer {
	__u64 peer;   /* cookie of the other socket of the pair */
	__u64 bytes;  /* redirected so far (the agent's drain check before a shutdown) */
	__u32 worker; /* backend index: the wstate entry and the stats slot */
	__u32 dir;    /* XJK_SPLICE_TO_BACKEND or XJK_SPLICE_TO_CLIENT */
	/* Set by the verdict program when it hands a byte of this socket to
	 * xjkd: every later one goes to xjkd too, so that none overtakes it. */
	__u32 held;
	__u32 pad;
};
XJK_BPF_ASSERT_SIZE(struct xjk_splice_peer, 32);
XJK_BPF_ASSERT_OFF(struct xjk_splice_peer, bytes, 8);
XJK_BPF_ASSERT_OFF(struct xjk_splice_peer, worker, 16);
XJK_BPF_ASSERT_OFF(struct xjk_splice_peer, held, 24);

/* wstate: backend index -> its state as the verdict program needs it. */
struct xjk_wstate_entry {
	__u32 state;	  /* enum xjk_worker_state (agent/worker.h) */
	__u32 activation; /* enum xjk_activation */
	__u32 accept;	  /* 1: spliced client bytes may go on to it; 0: hand them to xjkd */
	__u32 pad;
};
XJK_BPF_ASSERT_SIZE(struct xjk_wstate_entry, 16);

/* xjk_sp_stats (per CPU): backend index -> what the verdict program did. */
struct xjk_splice_stats {
	__u64 to_backend_bytes;
	__u64 to_backend_msgs;
	__u64 to_client_bytes;
	__u64 to_client_msgs;
	__u64 passed_msgs; /* handed to xjkd: member not accepting, or no peer socket */
};
XJK_BPF_ASSERT_SIZE(struct xjk_splice_stats, 40);

/* routes: a session route of an lb -> the backend serving it now. The hash
 * is 64-bit FNV-1a of the route text (xjk_routes_hash); names are kept in the
 * value so that bpftool shows the table in words. */
struct xjk_route_key {
	__u64 hash;
	__u32 lb; /* lb worker index */
	__u32 pad;
};
XJK_BPF_ASSERT_SIZE(struct xjk_route_key, 16);

struct xjk_route {
	__u32 worker; /* backend index now serving the route */
	__u32 owner;  /* backend index whose route it is */
	char route[XJK_ROUTE_NAME_MAX];
	char worker_name[XJK_ROUTE_NAME_MAX];
};
XJK_BPF_ASSERT_SIZE(struct xjk_route, 8 + 2 * XJK_ROUTE_NAME_MAX);
XJK_BPF_ASSERT_OFF(struct xjk_route, route, 8);

#endif
