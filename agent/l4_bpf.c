/* l4_bpf.c: bpffs, the skeleton with maps pinned by name, and XDP attachment
 * through bpf_links pinned as DIR/xdp_link_IFNAME (DIR: agent/bpffs.h) so the
 * program outlives the process that attached it. */
#include "bpffs.h"
#include "l4.h"
#include "l4_bpf.h"
#include "l4_fail.h"

#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xjk_xdp.skel.h"

#define LINK_PREFIX "xdp_link_"
#define DEVMAP_PIN  "xjk_tx_ports"

/* The devmap is pinned by hand: the kernel adds BPF_F_RDONLY_PROG to its
 * flags, which libbpf's by-name reuse would take for a different map. */
static int devmap_reuse(struct bpf_map *map)
{
	char path[128];

	if (xjk_bpffs_path(path, sizeof(path), DEVMAP_PIN))
		return -ENAMETOOLONG;
	int fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int rc = bpf_map__reuse_fd(map, fd);
	close(fd);
	return rc;
}

static int devmap_pin(struct bpf_map *map)
{
	char path[128];

	if (xjk_bpffs_path(path, sizeof(path), DEVMAP_PIN))
		return -ENAMETOOLONG;
	if (bpf_obj_pin(bpf_map__fd(map), path) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Maps of earlier versions that nothing reads any more (xjk_flows became
 * xjk_flows4 and xjk_flows6): unpinned once the new program is loaded, so an
 * upgrade does not leave their memory pinned for good. */
static const char *const retired_pins[] = {"xjk_flows"};

static void unpin_retired(void)
{
	char path[128];

	for (size_t i = 0; i < sizeof(retired_pins) / sizeof(retired_pins[0]); i++)
		if (xjk_bpffs_path(path, sizeof(path), retired_pins[i]) == 0)
			unlink(path);
}

int xjk_l4_bpf_load(struct xjk_xdp **out, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = xjk_bpffs_dir());
	int rc = xjk_bpffs_pin_dir(err, errlen);

	if (rc)
		return rc;
	struct xjk_xdp *skel = xjk_xdp__open_opts(&opts);
	if (!skel)
		return xjk_l4_fail(err, errlen, -errno, "open xjk_xdp: %s", strerror(errno));
	rc = devmap_reuse(skel->maps.xjk_tx_ports);
	if (rc == 0)
		rc = xjk_xdp__load(skel);
	if (rc == 0)
		rc = devmap_pin(skel->maps.xjk_tx_ports);
	if (rc) {
		xjk_xdp__destroy(skel);
		/* usually a pinned map from an incompatible build */
		return xjk_l4_fail(err, errlen, rc,
				   "load xjk_xdp: %s (stale maps in %s? 'xjkctl detach' every "
				   "interface to remove them)",
				   strerror(-rc), xjk_bpffs_dir());
	}
	unpin_retired();
	*out = skel;
	return 0;
}

static void link_path(char *buf, size_t len, const char *ifname)
{
	snprintf(buf, len, "%s/%s%s", xjk_bpffs_dir(), LINK_PREFIX, ifname);
}

int xjk_l4_bpf_attach(int prog_fd, const char *ifname, bool generic, char *err, size_t errlen)
{
	char path[128];
	int ifindex = (int)if_nametoindex(ifname);

	if (!ifindex)
		return xjk_l4_fail(err, errlen, -ENODEV, "no interface %s", ifname);
	link_path(path, sizeof(path), ifname);
	int fd = bpf_obj_get(path);
	if (fd >= 0) {
		int rc = bpf_link_update(fd, prog_fd, NULL) ? -errno : 0;
		close(fd);
		if (rc)
			return xjk_l4_fail(err, errlen, rc, "replace the program on %s: %s", ifname,
					   strerror(-rc));
		return ifindex;
	}
	LIBBPF_OPTS(bpf_link_create_opts, lopts,
		    .flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lopts);
	if (fd < 0)
		return xjk_l4_fail(err, errlen, -errno, "attach XDP (%s mode) to %s: %s",
				   generic ? "generic" : "native", ifname, strerror(errno));
	int rc = bpf_obj_pin(fd, path) ? -errno : 0;
	close(fd);
	if (rc)
		return xjk_l4_fail(err, errlen, rc, "pin %s: %s", path, strerror(-rc));
	return ifindex;
}

int xjk_l4_attach(const char *ifname, bool generic, char *err, size_t errlen)
{
	struct xjk_xdp *skel;
	int rc = xjk_l4_bpf_load(&skel, err, errlen);

	if (rc)
		return rc;
	rc = xjk_l4_bpf_attach(bpf_program__fd(skel->progs.xjk_xdp_lb), ifname, generic, err,
			       errlen);
	xjk_xdp__destroy(skel);
	return rc < 0 ? rc : 0;
}

static bool any_link_left(void)
{
	DIR *d = opendir(xjk_bpffs_dir());
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = strncmp(e->d_name, LINK_PREFIX, strlen(LINK_PREFIX)) == 0;
	closedir(d);
	return found;
}

/* Only xjk_xdp's own maps: other xjk programs pin in the same directory. */
static void unpin_maps(void)
{
	struct xjk_xdp *skel = xjk_xdp__open();
	struct bpf_map *map;
	char path[128];

	if (!skel)
		return;
	bpf_object__for_each_map(map, skel->obj)
	{
		if (xjk_bpffs_path(path, sizeof(path), bpf_map__name(map)) == 0)
			unlink(path);
	}
	xjk_xdp__destroy(skel);
	rmdir(xjk_bpffs_dir()); /* fails while other programs' pins are there */
}

int xjk_l4_detach(const char *ifname, char *err, size_t errlen)
{
	char path[128];

	link_path(path, sizeof(path), ifname);
	if (unlink(path) != 0)
		return xjk_l4_fail(err, errlen, -errno, "%s: %s (not attached by xjk?)", path,
				   strerror(errno));
	if (!any_link_left())
		unpin_maps();
	return 0;
}
