/* test_xdp_progrun.c: BPF_PROG_RUN tests of xjk_xdp_lb with crafted packets.
 * Needs root. Prints "ok - ..." / "not ok - ..." lines for tests/run.sh.
 * Every packet's verdict is checked twice: the XDP action and which global
 * counter (docs/maps.md) moved. Optional argv[1]: a devmap-capable ifindex
 * for the redirect case (30-xdp-progrun.sh passes a veth). */
#include <arpa/inet.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "l4_vip.h"
#include "xdp_fixture.h"
#include "xjk_xdp.skel.h"

#define VIP4   0x0a000064 /* 10.0.0.100 */
#define CLIENT 0xc0a80001 /* 192.168.0.1 */
#define LO_IF  1	  /* BPF_PROG_RUN packets arrive on loopback */
#define M      65537

static const uint8_t mac[4][6] = {
	{0},
	{0x02, 0, 0, 0, 0, 0x01},
	{0x02, 0, 0, 0, 0, 0x02},
	{0x02, 0, 0, 0, 0, 0x03},
};
static const uint8_t mac4[6] = {0x02, 0, 0, 0, 0, 0x04};

static struct fx fx;
static int failures;
static struct in6_addr vip6, client6;

static void report(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failures += !ok;
}

static struct fx_pkt tcp4(uint16_t sport, uint8_t flags)
{
	return (struct fx_pkt){.family = 4,
			       .src4 = CLIENT,
			       .dst4 = VIP4,
			       .sport = sport,
			       .dport = 80,
			       .tcp_flags = flags};
}

/* Runs P (cut to LEN bytes when LEN > 0) and checks action and counter. On
 * XDP_TX/REDIRECT returns the backend number found in the destination MAC. */
static int expect(const struct fx_pkt *p, size_t len, int action, enum xjk_l4_reason reason,
		  const char *what)
{
	uint8_t in[FX_PKT_MAX], out[FX_PKT_MAX];
	struct xjk_l4_counters before, after;
	size_t full = fx_build(p, in);

	fx_counters(&fx, &before);
	int act = fx_run(fx.prog_fd, in, len ? len : full, out, NULL);
	fx_counters(&fx, &after);
	uint64_t moved = ((uint64_t *)&after)[reason] - ((uint64_t *)&before)[reason];
	int ok = act == action && moved == 1;
	int backend = 0;
	if (ok && (action == XDP_TX || action == XDP_REDIRECT)) {
		/* only the MACs change: the rest of the frame is byte for byte the same */
		ok = memcmp(out + 6, (uint8_t[]){0x02, 0, 0, 0, 0, 0xaa}, 6) == 0 &&
		     memcmp(out + 12, in + 12, full - 12) == 0;
		backend = out[5];
	}
	report(ok, "%s (action %d want %d, counter %d moved %llu)", what, act, action, reason,
	       (unsigned long long)moved);
	return backend;
}

static void test_syn_v4_v6_vlan(void)
{
	struct fx_pkt p = tcp4(40000, TH_SYN);
	int b = expect(&p, 0, XDP_TX, XJK_L4_tx, "IPv4 SYN to VIP is sent back out (XDP_TX)");
	report(b >= 1 && b <= 3, "IPv4 SYN got a backend MAC (backend %d)", b);

	p = (struct fx_pkt){
		.family = 6, .src6 = client6, .dst6 = vip6, .sport = 40000, .dport = 80};
	b = expect(&p, 0, XDP_TX, XJK_L4_tx, "IPv6 SYN to VIP is sent back out (XDP_TX)");
	report(b >= 1 && b <= 3, "IPv6 SYN got a backend MAC (backend %d)", b);
	p.tcp_flags = TH_ACK;
	int est = expect(&p, 0, XDP_TX, XJK_L4_lru_hit, "IPv6 ACK of it hits the IPv6 flow table");
	report(est == b, "IPv6 connection keeps its backend (%d, %d)", b, est);

	p = tcp4(40001, TH_SYN);
	p.vlan = 1;
	expect(&p, 0, XDP_TX, XJK_L4_tx, "802.1Q-tagged SYN is balanced, tag kept");
	p.vlan = 2;
	expect(&p, 0, XDP_TX, XJK_L4_tx, "QinQ (two tags) SYN is balanced");
	p = (struct fx_pkt){.family = 4,
			    .proto = IPPROTO_UDP,
			    .src4 = CLIENT,
			    .dst4 = VIP4,
			    .sport = 5353,
			    .dport = 53,
			    .payload = 12};
	int first = expect(&p, 0, XDP_TX, XJK_L4_lru_miss_syn, "first UDP datagram is a new flow");
	int second = expect(&p, 0, XDP_TX, XJK_L4_lru_hit, "next UDP datagram hits the flow table");
	report(first && first == second, "UDP flow keeps its backend (%d, %d)", first, second);
}

static void test_not_ours(void)
{
	struct fx_pkt p = tcp4(40000, TH_SYN);

	p.dst4 = VIP4 + 1;
	expect(&p, 0, XDP_PASS, XJK_L4_pass_not_vip, "other destination address passes");
	p = tcp4(40000, TH_SYN);
	p.dport = 81;
	expect(&p, 0, XDP_PASS, XJK_L4_pass_not_vip, "VIP on another port passes");
	p.dport = 80;
	p.proto = IPPROTO_UDP;
	expect(&p, 0, XDP_PASS, XJK_L4_pass_not_vip, "UDP to a TCP-only VIP passes");
	p.proto = IPPROTO_ICMP;
	expect(&p, 0, XDP_PASS, XJK_L4_pass_not_vip, "ICMP to the VIP passes (the stack answers)");

	uint8_t arp[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0xcc, 0x08, 0x06};
	uint8_t out[FX_PKT_MAX];
	struct xjk_l4_counters before, after;
	fx_counters(&fx, &before);
	int act = fx_run(fx.prog_fd, arp, sizeof(arp), out, NULL);
	fx_counters(&fx, &after);
	report(act == XDP_PASS && after.pass_not_ip == before.pass_not_ip + 1, "ARP passes");
}

static void test_malformed(void)
{
	struct fx_pkt p = tcp4(40002, TH_SYN);

	expect(&p, 14 + 12, XDP_PASS, XJK_L4_pass_malformed,
	       "IPv4 header cut short passes to the stack");
	expect(&p, 14 + 20 + 2, XDP_PASS, XJK_L4_pass_malformed,
	       "ports cut short: VIP unknown, passes");
	expect(&p, 14 + 20 + 10, XDP_DROP, XJK_L4_drop_truncated,
	       "TCP header to a VIP cut short is dropped");
	p.tcp_doff = 3;
	expect(&p, 0, XDP_DROP, XJK_L4_drop_truncated, "TCP data offset < 5 to a VIP is dropped");
	p = tcp4(40002, TH_SYN);
	p.ipv4_ihl = 4;
	expect(&p, 0, XDP_PASS, XJK_L4_pass_malformed, "IPv4 IHL < 5 passes");
	p.ipv4_ihl = 15;
	expect(&p, 14 + 40, XDP_PASS, XJK_L4_pass_malformed, "IPv4 IHL beyond the packet passes");
	p = (struct fx_pkt){.family = 6, .src6 = client6, .dst6 = vip6, .sport = 1, .dport = 80};
	expect(&p, 14 + 30, XDP_PASS, XJK_L4_pass_malformed, "IPv6 header cut short passes");
	p = (struct fx_pkt){.family = 4,
			    .proto = IPPROTO_UDP,
			    .src4 = CLIENT,
			    .dst4 = VIP4,
			    .sport = 5353,
			    .dport = 53};
	expect(&p, 14 + 20 + 6, XDP_DROP, XJK_L4_drop_truncated,
	       "UDP header to a VIP cut short is dropped");
}

static void test_options_fragments(void)
{
	struct fx_pkt p = tcp4(40003, TH_SYN);

	p.ipv4_opt_words = 3;
	expect(&p, 0, XDP_TX, XJK_L4_tx, "IPv4 with options is balanced (options skipped)");
	p.ipv4_opt_words = 10;
	expect(&p, 0, XDP_TX, XJK_L4_tx, "IPv4 with 40 bytes of options is balanced");
	p = tcp4(40003, TH_SYN);
	p.frag_off = 0x2000; /* MF: first fragment */
	expect(&p, 0, XDP_PASS, XJK_L4_pass_fragment, "IPv4 first fragment passes");
	p.frag_off = 0x0010; /* offset 128 */
	expect(&p, 0, XDP_PASS, XJK_L4_pass_fragment, "IPv4 later fragment passes");
	p.frag_off = 0x4000; /* DF only */
	expect(&p, 0, XDP_TX, XJK_L4_tx, "IPv4 with DF is balanced");

	p = (struct fx_pkt){.family = 6,
			    .src6 = client6,
			    .dst6 = vip6,
			    .sport = 40003,
			    .dport = 80,
			    .ipv6_ext = IPPROTO_FRAGMENT};
	expect(&p, 0, XDP_PASS, XJK_L4_pass_fragment, "IPv6 fragment header passes");
	p.ipv6_ext = IPPROTO_HOPOPTS;
	expect(&p, 0, XDP_TX, XJK_L4_tx, "IPv6 hop-by-hop header is walked and balanced");
	p.ipv6_ext = IPPROTO_DSTOPTS;
	expect(&p, 0, XDP_TX, XJK_L4_tx, "IPv6 destination options are walked and balanced");
}

static void test_no_backend(void)
{
	struct xjk_l4_vip_key k = fx_vip4(VIP4, 8080, IPPROTO_TCP);
	struct fx_pkt p = tcp4(40004, TH_SYN);

	p.dport = 8080;
	fx_set_vip(&fx, &k, 1, 0);
	expect(&p, 0, XDP_DROP, XJK_L4_drop_no_real, "VIP with no ring yet drops");
	uint32_t ids[] = {1}, w0[] = {0};
	fx_set_vip(&fx, &k, 1, 1021);
	fx_set_ring(&fx, 1, 1021, ids, w0, 1);
	expect(&p, 0, XDP_DROP, XJK_L4_drop_no_real, "VIP whose backends all weigh 0 drops");

	uint32_t unresolved[] = {5}, w1[] = {1};
	fx_set_real(&fx, 5, mac[1], LO_IF, 0);
	fx_set_ring(&fx, 1, 1021, unresolved, w1, 1);
	expect(&p, 0, XDP_DROP, XJK_L4_drop_unresolved, "backend without a MAC yet drops");
}

static void test_redirect(int ifindex)
{
	struct xjk_l4_vip_key k = fx_vip4(VIP4, 8081, IPPROTO_TCP);
	struct fx_pkt p = tcp4(40005, TH_SYN);
	uint32_t ids[] = {6}, w[] = {1};

	p.dport = 8081;
	fx_set_vip(&fx, &k, 2, 1021);
	fx_set_ring(&fx, 2, 1021, ids, w, 1);
	fx_set_real(&fx, 6, mac[2], (uint32_t)ifindex, 1);
	expect(&p, 0, XDP_DROP, XJK_L4_drop_redirect,
	       "backend behind an interface missing from the devmap drops");
	uint32_t ifx = (uint32_t)ifindex;
	int rc = bpf_map__update_elem(fx.skel->maps.xjk_tx_ports, &ifx, sizeof(ifx), &ifx,
				      sizeof(ifx), BPF_ANY);
	report(rc == 0, "devmap accepts ifindex %d (%d)", ifindex, rc);
	int b = expect(&p, 0, XDP_REDIRECT, XJK_L4_redirect,
		       "backend behind another interface is redirected through the devmap");
	report(b == 2, "redirected frame carries the backend's MAC");
}

/* Flows opened before a backend joins keep their backend; new SYNs of the
 * same tuples re-hash, which proves the ring really changed under them. */
static void test_established_keeps_backend(void)
{
	enum { FLOWS = 2000 };
	static uint8_t before[FLOWS];
	uint8_t in[FX_PKT_MAX], out[FX_PKT_MAX];
	int kept = 0, resyn_moved = 0, to_new = 0, follow = 0;

	for (int i = 0; i < FLOWS; i++) {
		struct fx_pkt p = tcp4(20000 + i, TH_SYN);
		fx_run(fx.prog_fd, in, fx_build(&p, in), out, NULL);
		before[i] = out[5];
	}
	uint32_t ids[] = {1, 2, 3, 4}, w[] = {1, 1, 2, 1};
	fx_set_real(&fx, 4, mac4, LO_IF, 1);
	fx_set_ring(&fx, 0, M, ids, w, 4);
	for (int i = 0; i < FLOWS; i++) {
		struct fx_pkt p = tcp4(20000 + i, TH_ACK);
		fx_run(fx.prog_fd, in, fx_build(&p, in), out, NULL);
		kept += out[5] == before[i];
		p.tcp_flags = TH_SYN;
		fx_run(fx.prog_fd, in, fx_build(&p, in), out, NULL);
		resyn_moved += out[5] != before[i];
		to_new += out[5] == 4;
		uint8_t now = out[5];
		p.tcp_flags = TH_ACK;
		fx_run(fx.prog_fd, in, fx_build(&p, in), out, NULL);
		follow += out[5] == now;
	}
	report(kept == FLOWS, "established flows keep their backend after one is added (%d/%d)",
	       kept, FLOWS);
	/* Maglev moves a few slots between old backends too: < 1 % of flows */
	report(resyn_moved > 0 && (resyn_moved - to_new) * 100 < FLOWS,
	       "new SYNs of the same tuples move almost only to the added backend (%d moved, %d to "
	       "it)",
	       resyn_moved, to_new);
	/* the first ACKs filled xjk_flow_cache with the old backends */
	report(follow == FLOWS,
	       "ACKs after such a SYN follow its backend, not a cached one (%d/%d)", follow, FLOWS);

	uint32_t ids3[] = {1, 2, 3}, w3[] = {1, 1, 2};
	fx_set_ring(&fx, 0, M, ids3, w3, 3);
}

static struct xjk_l4_flow4_key flow4_key(const struct fx_pkt *p)
{
	return (struct xjk_l4_flow4_key){.src = htonl(p->src4),
					 .dst = htonl(p->dst4),
					 .sport = htons(p->sport),
					 .dport = htons(p->dport),
					 .proto = IPPROTO_TCP};
}

static uint32_t cache_slot_of(const struct xjk_l4_flow4_key *k)
{
	return xjk_l4_flow_hash((const uint32_t *)k, sizeof(*k) / 4) & (XJK_L4_CACHE_SLOTS - 1);
}

/* Writes slot of P's flow in xjk_flow_cache: backend REAL at the current
 * generation, with the check word xor CORRUPT. */
static int cache_write(const struct fx_pkt *p, uint32_t real, uint32_t corrupt)
{
	struct xjk_l4_flow4_key k = flow4_key(p);
	uint32_t zero = 0, gen = 0;
	uint32_t hash = xjk_l4_flow_hash((const uint32_t *)&k, sizeof(k) / 4);
	uint32_t slot = cache_slot_of(&k);

	bpf_map__lookup_elem(fx.skel->maps.xjk_flow_gen, &zero, sizeof(zero), &gen, sizeof(gen), 0);
	struct xjk_l4_flow_cache e = {
		.key = k,
		.real = real,
		.gen = gen,
		.check = xjk_l4_check(hash, real, 0, gen) ^ corrupt,
	};
	return bpf_map__update_elem(fx.skel->maps.xjk_flow_cache, &slot, sizeof(slot), &e,
				    sizeof(e), BPF_ANY);
}

/* The cache answers before the table, and only entries whose check word
 * matches count: the table holds one backend, the cache is made to say
 * another. (That a SYN voids cached backends: test_established_keeps_backend.) */
static void test_flow_cache(void)
{
	struct fx_pkt p = tcp4(45000, TH_SYN);
	int b = expect(&p, 0, XDP_TX, XJK_L4_tx, "SYN opens a flow for the cache tests");
	int other = b == 1 ? 2 : 1;

	p.tcp_flags = TH_ACK;
	report(cache_write(&p, (uint32_t)other, 0x5a5a) == 0, "write a torn cache entry");
	int got = expect(&p, 0, XDP_TX, XJK_L4_lru_hit, "ACK with a torn cache entry");
	report(got == b, "a cache entry failing its check is ignored (backend %d, table %d)", got,
	       b);
	report(cache_write(&p, (uint32_t)other, 0) == 0, "write a valid cache entry");
	got = expect(&p, 0, XDP_TX, XJK_L4_lru_hit, "ACK with a valid cache entry");
	report(got == other, "a valid cache entry answers before the table (backend %d, want %d)",
	       got, other);
}

/* xjk_vip_slots: a VIP that lost its slot to another one is found in
 * xjk_vips, a torn slot is ignored, and a deleted VIP is gone from both. */
static void test_vip_slots(void)
{
	struct xjk_l4_vip_key home = fx_vip4(VIP4, 80, IPPROTO_TCP), k;
	uint32_t slot = xjk_l4_vip_hash(&home) & (XJK_L4_VIP_SLOTS - 1);
	uint16_t port = 1000;
	struct bpf_map *slots = fx.skel->maps.xjk_vip_slots;

	do
		k = fx_vip4(VIP4 + 1, ++port, IPPROTO_TCP);
	while ((xjk_l4_vip_hash(&k) & (XJK_L4_VIP_SLOTS - 1)) != slot);
	report(fx_set_vip(&fx, &k, 0, M) == 0, "a second VIP (port %u) takes the first one's slot",
	       port);
	struct fx_pkt p = tcp4(46000, TH_SYN);
	expect(&p, 0, XDP_TX, XJK_L4_tx, "the VIP that lost its slot is found in xjk_vips");
	p.dst4 = VIP4 + 1;
	p.dport = port;
	expect(&p, 0, XDP_TX, XJK_L4_tx, "the VIP holding the slot is balanced");

	struct xjk_l4_vip_slot torn = {.key = k, .meta = {.index = 0, .ring_size = 0}};
	torn.check = xjk_l4_check(xjk_l4_vip_hash(&k), 0, M, 0); /* the old ring size's */
	bpf_map__update_elem(slots, &slot, sizeof(slot), &torn, sizeof(torn), BPF_ANY);
	expect(&p, 0, XDP_TX, XJK_L4_tx,
	       "a slot failing its check is ignored (ring size 0 not read)");

	report(fx_set_vip(&fx, &k, 0, M) == 0 &&
		       xjk_l4_vip_delete(fx.skel->maps.xjk_vips, slots, &k) == 0,
	       "rewrite the second VIP's slot, then delete the VIP");
	expect(&p, 0, XDP_PASS, XJK_L4_pass_not_vip, "a deleted VIP passes");
	report(fx_set_vip(&fx, &home, 0, M) == 0, "the first VIP takes its slot back");
}

static int program(struct fx *f)
{
	struct xjk_l4_vip_key k4 = fx_vip4(VIP4, 80, IPPROTO_TCP);
	struct xjk_l4_vip_key k6 = fx_vip6(&vip6, 80, IPPROTO_TCP);
	struct xjk_l4_vip_key ku = fx_vip4(VIP4, 53, IPPROTO_UDP);
	uint32_t ids[] = {1, 2, 3}, w[] = {1, 1, 2};
	int rc = fx_set_vip(f, &k4, 0, M) || fx_set_vip(f, &k6, 0, M) || fx_set_vip(f, &ku, 0, M);

	for (uint32_t i = 1; i <= 3; i++)
		rc = rc || fx_set_real(f, i, mac[i], LO_IF, 1);
	return rc || fx_set_ring(f, 0, M, ids, w, 3);
}

/* A full xjk_flows4 with new flows pushing old ones out: a flow whose
 * segments all hit xjk_flow_cache must keep its table entry (the cache slot
 * may be taken by another flow at any time). One CPU, because each CPU
 * evicts from its own LRU list. Without the sampled refresh the entry is the
 * oldest unreferenced one and goes within the first table's worth of flows. */
static void test_lru_refresh(void)
{
	enum { PER_CPU = 512, HOT_PER_NEW = 4 };
	uint8_t in[FX_PKT_MAX], out[FX_PKT_MAX];
	struct fx small;
	struct xjk_l4_flow f;
	cpu_set_t was, one;

	sched_getaffinity(0, sizeof(was), &was);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	if (fx_open(&small, PER_CPU * (uint32_t)libbpf_num_possible_cpus()) || program(&small)) {
		report(0, "load and program a %d-flow-per-CPU table", PER_CPU);
		sched_setaffinity(0, sizeof(was), &was);
		return;
	}
	struct fx_pkt hot = tcp4(30000, TH_SYN), cold = tcp4(0, TH_SYN);
	struct xjk_l4_flow4_key hk = flow4_key(&hot), first;
	fx_run(small.prog_fd, in, fx_build(&hot, in), out, NULL);
	hot.tcp_flags = TH_ACK;
	size_t hot_len = fx_build(&hot, in);
	uint8_t hot_pkt[FX_PKT_MAX];
	memcpy(hot_pkt, in, hot_len);
	struct xjk_l4_counters before, after;
	fx_counters(&small, &before);
	cold.src4 = CLIENT + 1;
	cold.sport = 1024;
	for (int i = 0; i < 4 * PER_CPU; i++, cold.sport++) {
		struct xjk_l4_flow4_key ck = flow4_key(&cold);
		if (cache_slot_of(&ck) == cache_slot_of(&hk)) {
			i--; /* its ACK would refresh the busy flow by a cache miss */
			continue;
		}
		if (i == 0)
			first = ck;
		/* a handshake: the SYN inserts, the ACK (a cache miss) references */
		cold.tcp_flags = TH_SYN;
		fx_run(small.prog_fd, in, fx_build(&cold, in), out, NULL);
		cold.tcp_flags = TH_ACK;
		fx_run(small.prog_fd, in, fx_build(&cold, in), out, NULL);
		for (int j = 0; j < HOT_PER_NEW; j++)
			fx_run(small.prog_fd, hot_pkt, hot_len, out, NULL);
	}
	fx_counters(&small, &after);
	struct bpf_map *t = small.skel->maps.xjk_flows4;
	int first_gone = bpf_map__lookup_elem(t, &first, sizeof(first), &f, sizeof(f), 0) != 0;
	int hot_kept = bpf_map__lookup_elem(t, &hk, sizeof(hk), &f, sizeof(f), 0) == 0;
	report(first_gone, "%d new flows overflow a %d-flow-per-CPU table (the first is evicted)",
	       4 * PER_CPU, PER_CPU);
	report(after.lru_hit - before.lru_hit == 4 * PER_CPU * (HOT_PER_NEW + 1) &&
		       after.lru_miss_other == before.lru_miss_other,
	       "every ACK, the busy flow's and the handshakes', hit (%llu hits)",
	       (unsigned long long)(after.lru_hit - before.lru_hit));
	report(hot_kept, "the busy flow, answered from the flow cache, keeps its LRU entry");
	fx_close(&small);
	sched_setaffinity(0, sizeof(was), &was);
}

static void test_mid_flow_without_entry(void)
{
	struct fx_pkt p = tcp4(50000, TH_ACK);

	expect(&p, 0, XDP_TX, XJK_L4_lru_miss_other,
	       "mid-flow packet with no table entry (LB restart, eviction) re-hashes");
	expect(&p, 0, XDP_TX, XJK_L4_lru_hit, "... and is remembered");
}

static void test_weights(void)
{
	enum { FLOWS = 30000 };
	uint8_t in[FX_PKT_MAX], out[FX_PKT_MAX];
	int count[4] = {0};

	for (int i = 0; i < FLOWS; i++) {
		struct fx_pkt p = tcp4(1024 + i % 60000, TH_SYN);
		p.src4 = CLIENT + (uint32_t)(i / 60000) + 7;
		fx_run(fx.prog_fd, in, fx_build(&p, in), out, NULL);
		if (out[5] >= 1 && out[5] <= 3)
			count[out[5]]++;
	}
	const double want[4] = {0, 0.25, 0.25, 0.5};
	int ok = 1;
	for (int b = 1; b <= 3; b++) {
		double share = (double)count[b] / FLOWS;
		ok &= share > want[b] * 0.95 && share < want[b] * 1.05;
	}
	report(ok, "30000 SYNs split 1:1:2 within 5%% (%d %d %d)", count[1], count[2], count[3]);

	struct xjk_l4_vip_stats vs[fx.ncpus];
	struct xjk_l4_real_stats rs[fx.ncpus];
	uint32_t zero = 0, one = 1;
	uint64_t flows = 0, pkts = 0;
	bpf_map__lookup_elem(fx.skel->maps.xjk_vip_stats, &zero, sizeof(zero), vs, sizeof(vs), 0);
	bpf_map__lookup_elem(fx.skel->maps.xjk_real_stats, &one, sizeof(one), rs, sizeof(rs), 0);
	for (int c = 0; c < fx.ncpus; c++) {
		flows += vs[c].new_flows;
		pkts += rs[c].packets;
	}
	report(flows >= FLOWS && pkts >= (uint64_t)count[1],
	       "per-VIP and per-backend counters count (%llu new flows, backend 1: %llu pkts)",
	       (unsigned long long)flows, (unsigned long long)pkts);
}

int main(int argc, char **argv)
{
	inet_pton(AF_INET6, "fd00::100", &vip6);
	inet_pton(AF_INET6, "fd00:1::1", &client6);
	if (fx_open(&fx, 0)) {
		printf("not ok - load xjk_xdp (are you root?)\n");
		return 1;
	}
	report(program(&fx) == 0, "program VIPs, reals and a 65537-slot ring");

	test_syn_v4_v6_vlan();
	test_not_ours();
	test_malformed();
	test_options_fragments();
	test_no_backend();
	if (argc > 1)
		test_redirect(atoi(argv[1]));
	test_mid_flow_without_entry();
	test_flow_cache();
	test_lru_refresh();
	test_vip_slots();
	test_established_keeps_backend();
	test_weights();
	fx_close(&fx);
	return failures ? 1 : 0;
}
