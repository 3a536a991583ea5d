/* xdp_fixture.h: shared by the BPF_PROG_RUN tests and the XDP benchmark: loads
 * xjk_xdp unpinned, programs VIPs, reals and rings directly through the
 * xjk_bpf.h structs, crafts packets and runs them one call at a time. */
#ifndef XJK_XDP_FIXTURE_H
#define XJK_XDP_FIXTURE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "xjk_bpf.h"

struct xjk_xdp;

struct fx {
	struct xjk_xdp *skel;
	int prog_fd;
	int ncpus;
};

/* A packet to craft. Zeroed fields take sensible defaults (TCP SYN, no VLAN,
 * no options, no fragment). Addresses and ports are in host order for IPv4. */
struct fx_pkt {
	int family;    /* 4 or 6 */
	int vlan;      /* number of 802.1Q tags, 0..2 */
	uint8_t proto; /* IPPROTO_TCP (default) or IPPROTO_UDP or another */
	uint32_t src4, dst4;
	struct in6_addr src6, dst6;
	uint16_t sport, dport;
	uint8_t tcp_flags;  /* TH_SYN when 0 and proto is TCP */
	int ipv4_opt_words; /* IPv4 options in 32-bit words (NOPs) */
	int ipv4_ihl;	    /* overrides the computed IHL when nonzero (malformed tests) */
	uint16_t frag_off;  /* IPv4 frag_off field, host order */
	uint8_t ipv6_ext;   /* one extension header of this type before L4, or 0 */
	int tcp_doff;	    /* overrides 5 when nonzero */
	int payload;	    /* bytes after the L4 header */
};

#define FX_PKT_MAX 256

/* MAX_FLOWS4: xjk_flows4's size (0: the program's), split over the CPUs as
 * BPF_F_NO_COMMON_LRU does: small tables let tests fill them. */
int fx_open(struct fx *fx, uint32_t max_flows4);
void fx_close(struct fx *fx);

int fx_set_vip(struct fx *fx, const struct xjk_l4_vip_key *key, uint32_t index, uint32_t m);
int fx_set_real(struct fx *fx, uint32_t id, const uint8_t dmac[6], uint32_t ifindex, int resolved);
/* Builds the Maglev table of VIP INDEX (ring size M) over reals IDS with WEIGHTS. */
int fx_set_ring(struct fx *fx, uint32_t index, uint32_t m, const uint32_t *ids,
		const uint32_t *weights, int n);

struct xjk_l4_vip_key fx_vip4(uint32_t addr, uint16_t port, uint8_t proto);
struct xjk_l4_vip_key fx_vip6(const struct in6_addr *addr, uint16_t port, uint8_t proto);

size_t fx_build(const struct fx_pkt *p, uint8_t *buf);

/* One BPF_PROG_RUN call with repeat 1. Returns the XDP action or -errno; OUT
 * (FX_PKT_MAX bytes) receives the packet as the program left it; *NS, when
 * not NULL, the kernel's run time for that call. */
int fx_run(int prog_fd, const uint8_t *pkt, size_t len, uint8_t *out, uint32_t *ns);

/* The global counters summed over CPUs. */
int fx_counters(struct fx *fx, struct xjk_l4_counters *sum);

#endif
