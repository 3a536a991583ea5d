/* xdp_fixture.c: see xdp_fixture.h. */
#include "xdp_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "l4_vip.h"
#include "maglev.h"
#include "xjk_xdp.skel.h"

static const uint8_t lb_mac[6] = {0x02, 0, 0, 0, 0, 0xaa};
static const uint8_t client_mac[6] = {0x02, 0, 0, 0, 0, 0xcc};

int fx_open(struct fx *fx, uint32_t max_flows4)
{
	struct bpf_map *map;

	fx->skel = xjk_xdp__open();
	if (!fx->skel)
		return -errno;
	/* tests must never touch the agent's pinned maps */
	bpf_object__for_each_map(map, fx->skel->obj) bpf_map__set_pin_path(map, NULL);
	int rc = max_flows4 ? bpf_map__set_max_entries(fx->skel->maps.xjk_flows4, max_flows4) : 0;
	if (!rc)
		rc = xjk_xdp__load(fx->skel);
	if (rc) {
		xjk_xdp__destroy(fx->skel);
		return rc;
	}
	fx->prog_fd = bpf_program__fd(fx->skel->progs.xjk_xdp_lb);
	fx->ncpus = libbpf_num_possible_cpus();
	return 0;
}

void fx_close(struct fx *fx)
{
	xjk_xdp__destroy(fx->skel);
}

struct xjk_l4_vip_key fx_vip4(uint32_t addr, uint16_t port, uint8_t proto)
{
	struct xjk_l4_vip_key k = {.port = htons(port), .proto = proto, .family = 4};
	k.addr[0] = htonl(addr);
	return k;
}

struct xjk_l4_vip_key fx_vip6(const struct in6_addr *addr, uint16_t port, uint8_t proto)
{
	struct xjk_l4_vip_key k = {.port = htons(port), .proto = proto, .family = 6};
	memcpy(k.addr, addr, 16);
	return k;
}

int fx_set_vip(struct fx *fx, const struct xjk_l4_vip_key *key, uint32_t index, uint32_t m)
{
	struct xjk_l4_vip_meta meta = {.index = index, .ring_size = m};
	struct xjk_l4_port vp;
	uint32_t port = ntohs(key->port);
	int exists = bpf_map__lookup_elem(fx->skel->maps.xjk_vips, key, sizeof(*key), &meta,
					  sizeof(meta), 0) == 0;

	meta = (struct xjk_l4_vip_meta){.index = index, .ring_size = m};
	int rc =
		xjk_l4_vip_write(fx->skel->maps.xjk_vips, fx->skel->maps.xjk_vip_slots, key, &meta);
	if (rc || exists)
		return rc;
	rc = bpf_map__lookup_elem(fx->skel->maps.xjk_vip_ports, &port, sizeof(port), &vp,
				  sizeof(vp), 0);
	if (rc)
		return rc;
	if (key->proto == IPPROTO_TCP)
		vp.tcp_vips++;
	else
		vp.udp_vips++;
	return bpf_map__update_elem(fx->skel->maps.xjk_vip_ports, &port, sizeof(port), &vp,
				    sizeof(vp), BPF_ANY);
}

int fx_set_real(struct fx *fx, uint32_t id, const uint8_t dmac[6], uint32_t ifindex, int resolved)
{
	struct xjk_l4_real r = {.ifindex = ifindex, .family = 4};

	r.addr[0] = htonl(0x0a000000 | id);
	memcpy(r.dmac, dmac, 6);
	memcpy(r.smac, lb_mac, 6);
	r.flags = resolved ? XJK_L4_REAL_F_RESOLVED : 0;
	return bpf_map__update_elem(fx->skel->maps.xjk_reals, &id, sizeof(id), &r, sizeof(r),
				    BPF_ANY);
}

int fx_set_ring(struct fx *fx, uint32_t index, uint32_t m, const uint32_t *ids,
		const uint32_t *weights, int n)
{
	struct xjk_maglev_backend b[16];
	char keys[16][16];
	uint32_t *table = calloc(m, sizeof(*table));
	uint32_t *slots = calloc(m, sizeof(*slots));
	int rc = -ENOMEM;

	if (!table || !slots || n > 16)
		goto out;
	for (int i = 0; i < n; i++) {
		snprintf(keys[i], sizeof(keys[i]), "real%u", ids[i]);
		b[i] = (struct xjk_maglev_backend){.key = keys[i], .weight = weights[i]};
	}
	rc = xjk_maglev_build(b, n, m, table);
	if (rc)
		goto out;
	for (uint32_t i = 0; i < m; i++) {
		slots[i] = index * XJK_L4_RING_STRIDE + i;
		table[i] = table[i] == XJK_MAGLEV_EMPTY ? 0 : ids[table[i]];
	}
	uint32_t count = m;
	rc = bpf_map_update_batch(bpf_map__fd(fx->skel->maps.xjk_ring), slots, table, &count, NULL);
out:
	free(table);
	free(slots);
	return rc;
}

static uint8_t *put_eth(const struct fx_pkt *p, uint8_t *b)
{
	memcpy(b, lb_mac, 6);
	memcpy(b + 6, client_mac, 6);
	b += 12;
	for (int i = 0; i < p->vlan; i++) {
		*(uint16_t *)b = htons(ETH_P_8021Q);
		*(uint16_t *)(b + 2) = htons(100 + i);
		b += 4;
	}
	*(uint16_t *)b = htons(p->family == 6 ? ETH_P_IPV6 : ETH_P_IP);
	return b + 2;
}

static size_t l4_len(const struct fx_pkt *p, uint8_t proto)
{
	return (proto == IPPROTO_UDP ? sizeof(struct udphdr) : sizeof(struct tcphdr)) + p->payload;
}

static void put_l4(const struct fx_pkt *p, uint8_t proto, uint8_t *b)
{
	if (proto == IPPROTO_UDP) {
		struct udphdr *u = (struct udphdr *)b;
		u->source = htons(p->sport);
		u->dest = htons(p->dport);
		u->len = htons(l4_len(p, proto));
		return;
	}
	struct tcphdr *t = (struct tcphdr *)b;
	t->source = htons(p->sport);
	t->dest = htons(p->dport);
	t->doff = p->tcp_doff ? p->tcp_doff : 5;
	uint8_t flags = p->tcp_flags ? p->tcp_flags : TH_SYN;
	b[13] = flags;
	t->window = htons(65535);
}

size_t fx_build(const struct fx_pkt *p, uint8_t *buf)
{
	uint8_t proto = p->proto ? p->proto : IPPROTO_TCP;
	size_t l4 = l4_len(p, proto);

	memset(buf, 0, FX_PKT_MAX);
	uint8_t *b = put_eth(p, buf);
	if (p->family == 6) {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)b;
		size_t ext = p->ipv6_ext ? 8 : 0;
		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_plen = htons(ext + l4);
		ip6->ip6_nxt = p->ipv6_ext ? p->ipv6_ext : proto;
		ip6->ip6_hlim = 64;
		ip6->ip6_src = p->src6;
		ip6->ip6_dst = p->dst6;
		b += sizeof(*ip6);
		if (ext) {
			b[0] = proto; /* next header; length 0 means 8 bytes */
			b += ext;
		}
	} else {
		struct iphdr *ip = (struct iphdr *)b;
		size_t hlen = 20 + 4 * p->ipv4_opt_words;
		ip->version = 4;
		ip->ihl = p->ipv4_ihl ? (unsigned)p->ipv4_ihl : hlen / 4;
		ip->tot_len = htons(hlen + l4);
		ip->frag_off = htons(p->frag_off);
		ip->ttl = 64;
		ip->protocol = proto;
		ip->saddr = htonl(p->src4);
		ip->daddr = htonl(p->dst4);
		memset(b + 20, 1 /* NOP */, hlen - 20);
		b += hlen;
	}
	put_l4(p, proto, b);
	return (size_t)(b - buf) + l4;
}

int fx_run(int prog_fd, const uint8_t *pkt, size_t len, uint8_t *out, uint32_t *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len, .data_out = out,
		    .data_size_out = FX_PKT_MAX, .repeat = 1);

	int rc = bpf_prog_test_run_opts(prog_fd, &opts);
	if (rc)
		return -errno;
	if (ns)
		*ns = opts.duration;
	return (int)opts.retval;
}

int fx_counters(struct fx *fx, struct xjk_l4_counters *sum)
{
	struct xjk_l4_counters per[fx->ncpus];
	uint32_t zero = 0;

	int rc = bpf_map__lookup_elem(fx->skel->maps.xjk_counters, &zero, sizeof(zero), per,
				      sizeof(per), 0);
	if (rc)
		return rc;
	uint64_t *s = (uint64_t *)sum;
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < fx->ncpus; c++)
		for (int r = 0; r < XJK_L4_NR_REASONS; r++)
			s[r] += ((uint64_t *)&per[c])[r];
	return 0;
}
