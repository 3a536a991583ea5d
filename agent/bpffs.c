/* bpffs.c: the pin directory of this process, mounting bpffs, and pins that
 * a newer process may take over. */
#include "bpffs.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Process-wide: chosen once at startup, before any thread pins or reads. */
static char xjk_bpffs_chosen[XJK_BPFFS_DIR_MAX] = XJK_BPF_PIN_DIR;
static bool xjk_bpffs_decided;

int xjk_bpffs_dir_check(const char *dir, char *err, size_t errlen)
{
	const char *prefix = XJK_BPFFS_ROOT "/";
	size_t n = strlen(prefix);
	const char *name = dir + n;

	if (strncmp(dir, prefix, n) != 0 || !*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return xjk_bpffs_fail(err, errlen, -1,
				      "'%s' is not a directory directly in %s (%s/NAME)", dir,
				      XJK_BPFFS_ROOT, XJK_BPFFS_ROOT);
	if (strlen(dir) >= XJK_BPFFS_DIR_MAX)
		return xjk_bpffs_fail(err, errlen, -1, "'%s' is longer than %d characters", dir,
				      XJK_BPFFS_DIR_MAX - 1);
	return 0;
}

int xjk_bpffs_use_dir(const char *dir, char *err, size_t errlen)
{
	const char *env = getenv(XJK_BPFFS_DIR_ENV);
	const char *want = dir ? dir : env && *env ? env : XJK_BPF_PIN_DIR;

	if (xjk_bpffs_dir_check(want, err, errlen))
		return -1;
	strcpy(xjk_bpffs_chosen, want);
	xjk_bpffs_decided = true;
	return 0;
}

const char *xjk_bpffs_dir(void)
{
	char ignored[160];

	if (!xjk_bpffs_decided && xjk_bpffs_use_dir(NULL, ignored, sizeof(ignored)))
		xjk_bpffs_decided = true; /* a bad $XJK_BPF_DIR: the default stays */
	return xjk_bpffs_chosen;
}

int xjk_bpffs_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", xjk_bpffs_dir(), name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int xjk_bpffs_pin_dir(char *err, size_t errlen)
{
	struct statfs st;
	const char *dir = xjk_bpffs_dir();

	if (statfs(XJK_BPFFS_ROOT, &st) != 0 || st.f_type != BPF_FS_MAGIC) {
		mkdir(XJK_BPFFS_ROOT, 0700);
		if (mount("bpf", XJK_BPFFS_ROOT, "bpf", 0, "mode=0700") != 0)
			return xjk_bpffs_fail(err, errlen, -errno, "mount bpffs on %s: %s",
					      XJK_BPFFS_ROOT, strerror(errno));
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return xjk_bpffs_fail(err, errlen, -errno, "mkdir %s: %s", dir, strerror(errno));
	return 0;
}

int xjk_bpffs_pin(int fd, const char *name, char *err, size_t errlen)
{
	char path[256];

	if (xjk_bpffs_path(path, sizeof(path), name))
		return xjk_bpffs_fail(err, errlen, -ENAMETOOLONG, "pin %s: name too long", name);
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

	if (xjk_bpffs_path(path, sizeof(path), name))
		return;
	int cur = bpf_obj_get(path);
	if (cur < 0)
		return;
	if (xjk_bpffs_id(fd, &mine) == 0 && xjk_bpffs_id(cur, &pinned) == 0 && mine == pinned)
		unlink(path);
	close(cur);
}
