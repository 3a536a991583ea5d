/* l4_vip.h: a VIP's entries in the XDP maps, xjk_vips (the table of record)
 * and its slot in xjk_vip_slots (the program's inlined first try), written
 * and removed together. Used by the l4 agent and the BPF_PROG_RUN fixture. */
#ifndef XJK_L4_VIP_H
#define XJK_L4_VIP_H

#include "xjk_bpf.h"

struct bpf_map;

/* Writes KEY -> META into VIPS, then KEY's slot in SLOTS (taking it from any
 * VIP that shares it: that one is then found in VIPS). 0 or -errno. */
int xjk_l4_vip_write(struct bpf_map *vips, struct bpf_map *slots, const struct xjk_l4_vip_key *key,
		     const struct xjk_l4_vip_meta *meta);
/* Empties KEY's slot when it holds KEY, then deletes KEY from VIPS. */
int xjk_l4_vip_delete(struct bpf_map *vips, struct bpf_map *slots,
		      const struct xjk_l4_vip_key *key);

#endif
