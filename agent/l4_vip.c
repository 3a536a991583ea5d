/* l4_vip.c: see l4_vip.h. The record goes first and leaves last, so a packet
 * that misses the slot always finds the VIP in xjk_vips while it exists. */
#include "l4_vip.h"

#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <string.h>

int xjk_l4_vip_write(struct bpf_map *vips, struct bpf_map *slots, const struct xjk_l4_vip_key *key,
		     const struct xjk_l4_vip_meta *meta)
{
	uint32_t h = xjk_l4_vip_hash(key), slot = h & (XJK_L4_VIP_SLOTS - 1);
	struct xjk_l4_vip_slot s = {.key = *key,
				    .meta = *meta,
				    .check = xjk_l4_check(h, meta->index, meta->ring_size, 0)};
	int rc = bpf_map__update_elem(vips, key, sizeof(*key), meta, sizeof(*meta), BPF_ANY);

	if (rc == 0)
		rc = bpf_map__update_elem(slots, &slot, sizeof(slot), &s, sizeof(s), BPF_ANY);
	return rc;
}

int xjk_l4_vip_delete(struct bpf_map *vips, struct bpf_map *slots, const struct xjk_l4_vip_key *key)
{
	uint32_t slot = xjk_l4_vip_hash(key) & (XJK_L4_VIP_SLOTS - 1);
	struct xjk_l4_vip_slot s;

	if (bpf_map__lookup_elem(slots, &slot, sizeof(slot), &s, sizeof(s), 0) == 0 &&
	    memcmp(&s.key, key, sizeof(*key)) == 0) {
		memset(&s, 0, sizeof(s));
		bpf_map__update_elem(slots, &slot, sizeof(slot), &s, sizeof(s), BPF_ANY);
	}
	return bpf_map__delete_elem(vips, key, sizeof(*key), 0);
}
