/* splice_bpf.h: xjkd's side of bpf/xjk_splice.bpf.c (internal to the splice_*.c files):
 * the loaded object, the pairing of two sockets and what the kernel moved. */
#ifndef XJK_SPLICE_BPF_H
#define XJK_SPLICE_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xjk_bpf.h"

/* Loads the object, attaches the verdict program to the sockhash, points the
 * route table at its maps and pins routes, wstate and xjk_sp_stats under
 * XJK_BPF_PIN_DIR. 0, or -errno with the reason in ERR (nothing loaded). */
int xjk_splice_bpf_load(char *err, size_t errlen);
void xjk_splice_bpf_unload(void);
/* True between a successful load and the unload. */
int xjk_splice_bpf_loaded(void);

/* The socket cookie of FD, or 0 when it cannot be read. */
uint64_t xjk_splice_bpf_cookie(int fd);
/* Pairs the sockets: both peer entries first, then the backend socket, then
 * the client socket into the sockhash. On failure (-errno) no peer entry is
 * left, so whatever is in the sockhash passes its bytes up to xjkd. */
int xjk_splice_bpf_pair(int client_fd, uint64_t client, int backend_fd, uint64_t backend,
			int worker);
/* Removes COOKIE's peer entry: its socket's bytes come up to xjkd from now on. */
void xjk_splice_bpf_unpair(uint64_t cookie);
/* Bytes the verdict program redirected from COOKIE's socket; 0 when unpaired. */
uint64_t xjk_splice_bpf_redirected(uint64_t cookie);
/* Whether the verdict program handed a byte of COOKIE's socket to xjkd, and
 * so hands it the rest too (xjk_splice_peer.held). */
bool xjk_splice_bpf_held(uint64_t cookie);
/* WORKER's counters summed over the CPUs. 0 or -errno. */
int xjk_splice_bpf_stats(int worker, struct xjk_splice_stats *out);

#endif
