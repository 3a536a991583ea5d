/* bpffs.c: mounting bpffs, and pins that a newer process may take over. */
#include "bpffs.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "xjk_bpf.h"

#define XJK_BPFFS_ROOT "/sys/fs/bpf"

static int xjk_bpffs_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int xjk_bpffs_pin_dir(char *err, size_t errlen)
{
	struct statfs st;

	if (statfs(XJK_BPFFS_ROOT, &st) != 0 || st.f_type != BPF_FS_MAGIC) {
		mkdir(XJK_BPFFS_ROOT, 0700);
		if (mount("bpf", XJK_BPFFS_ROOT, "bpf", 0, "mode=0700") != 0)
			return xjk_bpffs_fail(err, errlen, -errno, "mount bpffs on %s: %s",
					      XJK_BPFFS_ROOT, strerror(errno));
	}
	if (mkdir(XJK_BPF_PIN_DIR, 0700) != 0 && errno != EEXIST)
		return xjk_bpffs_fail(err, errlen, -errno, "mkdir %s: %s", XJK_BPF_PIN_DIR,
				      strerror(errno));
	return 0;
}

static void xjk_bpffs_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", XJK_BPF_PIN_DIR, name);
}

int xjk_bpffs_pin(int fd, const char *name, char *err, size_t errlen)
{
	char path[256];

	xjk_bpffs_path(path, sizeof(path), name);
	if (unlink(path) != 0 && errno != ENOENT)
		return xjk_bpffs_fail(err, errlen, -errno, "unlink %s: %s", path, strerror(errno));
	if (bpf_obj_pin(fd, path) != 0)
		return xjk_bpffs_fail(err, errlen, -errno, "pin %s: %s", path, strerror(errno));
	return 0;
}

static int xjk_bpffs_id(int fd, __u32 *id)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
		return -1;
	*id = info.id;
	return 0;
}

void xjk_bpffs_unpin(int fd, const char *name)
{
	char path[256];
	__u32 mine, pinned;

	xjk_bpffs_path(path, sizeof(path), name);
	int cur = bpf_obj_get(path);
	if (cur < 0)
		return;
	if (xjk_bpffs_id(fd, &mine) == 0 && xjk_bpffs_id(cur, &pinned) == 0 && mine == pinned)
		unlink(path);
	close(cur);
}
