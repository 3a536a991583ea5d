/* bpffs.h: the bpf filesystem directory where xjk pins its maps and links:
 * choosing it (XjkBpfDir, xjkctl --pin-dir, $XJK_BPF_DIR, else
 * XJK_BPF_PIN_DIR), mounting bpffs when missing, and pinning a map by name
 * over an older pin. */
#ifndef XJK_BPFFS_H
#define XJK_BPFFS_H

#include <stddef.h>

/* Longest pin directory name, terminator included. */
#define XJK_BPFFS_DIR_MAX 96
/* Environment variable that supplies the directory when no DIR is given to
 * xjk_bpffs_use_dir: lets a test give every process it starts its own. */
#define XJK_BPFFS_DIR_ENV "XJK_BPF_DIR"

/* Checks a pin directory name: a directory directly in /sys/fs/bpf, where
 * xjk mounts bpffs ("/sys/fs/bpf/NAME"). 0, or -1 with the reason in ERR. */
int xjk_bpffs_dir_check(const char *dir, char *err, size_t errlen);
/* Chooses this process's pin directory: DIR when not NULL, else
 * $XJK_BPF_DIR when set, else XJK_BPF_PIN_DIR. Call it before any pin is
 * made (xjkd: right after loading its configuration). 0, or -1 with the
 * reason in ERR (the directory stays as it was). */
int xjk_bpffs_use_dir(const char *dir, char *err, size_t errlen);
/* The chosen directory. Until xjk_bpffs_use_dir is called, $XJK_BPF_DIR
 * when valid, else XJK_BPF_PIN_DIR. */
const char *xjk_bpffs_dir(void);
/* Writes "DIR/NAME" for the chosen directory into BUF. 0, or -1 when it
 * does not fit. */
int xjk_bpffs_path(char *buf, size_t len, const char *name);

/* Mounts bpffs on /sys/fs/bpf when it is not there and creates the chosen
 * directory. 0, or -errno with the reason in ERR. */
int xjk_bpffs_pin_dir(char *err, size_t errlen);
/* Pins FD as DIR/NAME, replacing what was pinned there (the newest xjkd
 * owns the name). 0, or -errno with the reason in ERR. */
int xjk_bpffs_pin(int fd, const char *name, char *err, size_t errlen);
/* Removes DIR/NAME when it still refers to the object FD (a newer process
 * may have pinned its own there since). */
void xjk_bpffs_unpin(int fd, const char *name);

#endif
