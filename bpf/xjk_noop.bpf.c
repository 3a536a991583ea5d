/* xjk_noop.bpf.c: a counting XDP_PASS program. It is the baseline that
 * tools/bench/bench-xdp.sh measures beside xjk_xdp_lb, and the program the
 * netns labs put on veth peers so that XDP_TX/REDIRECT frames are received. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xjk_noop_count SEC(".maps");

SEC("xdp")
int xjk_xdp_noop(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&xjk_noop_count, &zero);

	(void)ctx;
	if (n)
		(*n)++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
