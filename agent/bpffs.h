/* bpffs.h: the bpf filesystem where xjk pins its maps (XJK_BPF_PIN_DIR):
 * mounting it when missing, and pinning a map by name over an older pin. */
#ifndef XJK_BPFFS_H
#define XJK_BPFFS_H

#include <stddef.h>

/* Mounts bpffs on /sys/fs/bpf when it is not there and creates
 * XJK_BPF_PIN_DIR. 0, or -errno with the reason in ERR. */
int xjk_bpffs_pin_dir(char *err, size_t errlen);
/* Pins FD as XJK_BPF_PIN_DIR/NAME, replacing what was pinned there (the
 * newest xjkd owns the name). 0, or -errno with the reason in ERR. */
int xjk_bpffs_pin(int fd, const char *name, char *err, size_t errlen);
/* Removes XJK_BPF_PIN_DIR/NAME when it still refers to the object FD (a
 * newer process may have pinned its own there since). */
void xjk_bpffs_unpin(int fd, const char *name);

#endif
