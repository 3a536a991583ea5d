/* bench_xdp_progrun.c: per-packet cost of xjk_xdp_lb under BPF_PROG_RUN, one
 * packet per call (repeat = 1, so a frame rewritten by one run never feeds the
 * next), beside the xjk_noop counting program measured the same way in the
 * same run. Paths: "syn" (new flow every call: ring lookup + table insert into
 * cold memory), "syn_same" (one SYN again and again, as fixture-based
 * benchmarks such as Katran's run it: ring lookup + update of a warm entry),
 * "established" (one flow, table hit) and "established_10k" (segments of
 * MANY_FLOWS open flows in turn, so the flow cache and the table are read
 * from cold memory as with real traffic). Rounds interleave the paths so
 * that frequency drift hits them alike. Prints "name mean_ns median_ns calls"
 * lines. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "xdp_fixture.h"
#include "xjk_noop.skel.h"
#include "xjk_xdp.skel.h"

#define VIP4	   0x0a000064
#define CLIENT	   0x0b000000
#define ROUNDS	   20
#define MANY_FLOWS 10000

struct path {
	const char *name;
	uint32_t *samples; /* per-call kernel time, for the median */
	uint64_t ns;
	uint64_t calls;
	int errors;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void measure(struct path *pa, int prog_fd, const uint8_t *pkt, size_t len, int want)
{
	uint8_t out[FX_PKT_MAX];
	uint32_t ns;

	if (fx_run(prog_fd, pkt, len, out, &ns) != want) {
		pa->errors++;
		return;
	}
	pa->ns += ns;
	pa->samples[pa->calls++] = ns;
}

int main(int argc, char **argv)
{
	int per_round = (argc > 1 ? atoi(argv[1]) : 200000) / ROUNDS;
	struct fx fx;
	struct xjk_noop *noop = xjk_noop__open_and_load();

	if (!noop || fx_open(&fx, 0)) {
		fprintf(stderr, "cannot load the XDP programs (root needed)\n");
		return 1;
	}
	struct xjk_l4_vip_key k = fx_vip4(VIP4, 80, IPPROTO_TCP);
	uint32_t ids[] = {1, 2, 3}, w[] = {1, 1, 2};
	for (uint32_t i = 1; i <= 3; i++)
		fx_set_real(&fx, i, (uint8_t[]){2, 0, 0, 0, 0, (uint8_t)i}, 1, 1);
	if (fx_set_vip(&fx, &k, 0, 65537) || fx_set_ring(&fx, 0, 65537, ids, w, 3)) {
		fprintf(stderr, "cannot program the maps\n");
		return 1;
	}

	static uint8_t many[MANY_FLOWS][FX_PKT_MAX];
	size_t many_len = 0;
	uint8_t est[FX_PKT_MAX], syn[FX_PKT_MAX], syn1[FX_PKT_MAX];
	struct fx_pkt p = {.family = 4, .src4 = CLIENT, .dst4 = VIP4, .sport = 1, .dport = 80};
	size_t syn_len = fx_build(&p, syn);
	size_t syn1_len = fx_build(&p, syn1);
	uint8_t out[FX_PKT_MAX];
	fx_run(fx.prog_fd, syn, syn_len, out, NULL); /* opens the established flow */
	p.tcp_flags = TH_ACK;
	p.payload = 64;
	size_t est_len = fx_build(&p, est);
	for (uint32_t f = 0; f < MANY_FLOWS; f++) {
		struct fx_pkt q = {.family = 4,
				   .src4 = CLIENT - 1,
				   .dst4 = VIP4,
				   .sport = 1024 + f,
				   .dport = 80};
		fx_run(fx.prog_fd, many[f], fx_build(&q, many[f]), out, NULL);
		q.tcp_flags = TH_ACK;
		q.payload = 64;
		many_len = fx_build(&q, many[f]);
	}

	struct path noop_p = {.name = "noop"}, est_p = {.name = "established"},
		    many_p = {.name = "established_10k"}, syn_p = {.name = "syn"},
		    syn1_p = {.name = "syn_same"};
	int noop_fd = bpf_program__fd(noop->progs.xjk_xdp_noop);
	struct path *all[] = {&noop_p, &est_p, &many_p, &syn_p, &syn1_p};
	const int n_paths = sizeof(all) / sizeof(all[0]);
	for (int i = 0; i < n_paths; i++)
		all[i]->samples = calloc((size_t)per_round * ROUNDS, sizeof(uint32_t));
	uint32_t flow = 0;
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < per_round; i++)
			measure(&noop_p, noop_fd, est, est_len, XDP_PASS);
		for (int i = 0; i < per_round; i++)
			measure(&est_p, fx.prog_fd, est, est_len, XDP_TX);
		for (int i = 0; i < per_round; i++)
			measure(&many_p, fx.prog_fd, many[i % MANY_FLOWS], many_len, XDP_TX);
		for (int i = 0; i < per_round; i++)
			measure(&syn1_p, fx.prog_fd, syn1, syn1_len, XDP_TX);
		for (int i = 0; i < per_round; i++, flow++) {
			p = (struct fx_pkt){.family = 4,
					    .src4 = CLIENT + 1 + flow / 50000,
					    .dst4 = VIP4,
					    .sport = 1024 + flow % 50000,
					    .dport = 80};
			syn_len = fx_build(&p, syn);
			measure(&syn_p, fx.prog_fd, syn, syn_len, XDP_TX);
		}
	}
	struct xjk_l4_counters c;
	fx_counters(&fx, &c);
	int rc = 0;
	for (int i = 0; i < n_paths; i++) {
		qsort(all[i]->samples, all[i]->calls, sizeof(uint32_t), cmp_u32);
		printf("%s %.1f %u %llu\n", all[i]->name, (double)all[i]->ns / all[i]->calls,
		       all[i]->samples[all[i]->calls / 2], (unsigned long long)all[i]->calls);
		rc |= all[i]->errors != 0;
		free(all[i]->samples);
	}
	/* the paths really were the ones named: every SYN a table miss, every ACK a hit */
	if (c.lru_miss_syn != syn_p.calls + syn1_p.calls + 1 + MANY_FLOWS ||
	    c.lru_hit != est_p.calls + many_p.calls) {
		fprintf(stderr, "path mix wrong: %llu misses, %llu hits\n",
			(unsigned long long)c.lru_miss_syn, (unsigned long long)c.lru_hit);
		rc = 1;
	}
	fx_close(&fx);
	xjk_noop__destroy(noop);
	return rc;
}
