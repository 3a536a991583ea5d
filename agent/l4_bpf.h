/* l4_bpf.h: loading, pinning and attaching xjk_xdp (internal to the l4
 * module; xjkctl and xjkd go through l4.h). */
#ifndef XJK_L4_BPF_H
#define XJK_L4_BPF_H

#include <stdbool.h>
#include <stddef.h>

struct xjk_xdp;

/* Mounts bpffs when missing, creates the pin directory (agent/bpffs.h), opens
 * and loads the skeleton with every map pinned there (existing pins are
 * reused). */
int xjk_l4_bpf_load(struct xjk_xdp **skel, char *err, size_t errlen);
/* Attaches PROG_FD to IFNAME through a pinned bpf_link, or swaps the program
 * of the link already pinned for IFNAME. Returns the ifindex or -errno. */
int xjk_l4_bpf_attach(int prog_fd, const char *ifname, bool generic, char *err, size_t errlen);

#endif
