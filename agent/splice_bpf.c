/* splice_bpf.c: loading xjk_splice and the map operations of a splice. One
 * object per xjkd process: its sockets and pairs are private; routes,
 * wstate and the counters are pinned for bpftool, the newest process owning
 * the pins. */
#include "splice_bpf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpffs.h"
#include "routes.h"
#include "xjk_splice.skel.h"

static struct xjk_splice *xjk_sp_skel;
static int xjk_sp_socks_fd = -1, xjk_sp_peers_fd = -1, xjk_sp_stats_fd = -1;

/* The maps bpftool users look for, by pin name. */
static const char *const xjk_sp_pins[] = {"routes", "wstate", "xjk_sp_stats"};

static int xjk_splice_bpf_pin_fd(int i)
{
	switch (i) {
	case 0:
		return bpf_map__fd(xjk_sp_skel->maps.routes);
	case 1:
		return bpf_map__fd(xjk_sp_skel->maps.wstate);
	default:
		return xjk_sp_stats_fd;
	}
}

int xjk_splice_bpf_load(char *err, size_t errlen)
{
	int rc;

	xjk_sp_skel = xjk_splice__open_and_load();
	if (!xjk_sp_skel) {
		rc = -errno;
		snprintf(err, errlen, "load xjk_splice: %s", strerror(-rc));
		return rc;
	}
	xjk_sp_socks_fd = bpf_map__fd(xjk_sp_skel->maps.xjk_sp_socks);
	xjk_sp_peers_fd = bpf_map__fd(xjk_sp_skel->maps.xjk_sp_peers);
	xjk_sp_stats_fd = bpf_map__fd(xjk_sp_skel->maps.xjk_sp_stats);
	if (bpf_prog_attach(bpf_program__fd(xjk_sp_skel->progs.xjk_splice_verdict), xjk_sp_socks_fd,
			    BPF_SK_SKB_VERDICT, 0) != 0) {
		rc = -errno;
		snprintf(err, errlen, "attach the verdict program: %s", strerror(-rc));
		goto fail;
	}
	rc = xjk_routes_attach_maps(bpf_map__fd(xjk_sp_skel->maps.routes),
				    bpf_map__fd(xjk_sp_skel->maps.wstate));
	if (rc) {
		snprintf(err, errlen, "write the route map: %s", strerror(-rc));
		goto fail;
	}
	rc = xjk_bpffs_pin_dir(err, errlen);
	for (size_t i = 0; !rc && i < sizeof(xjk_sp_pins) / sizeof(*xjk_sp_pins); i++)
		rc = xjk_bpffs_pin(xjk_splice_bpf_pin_fd((int)i), xjk_sp_pins[i], err, errlen);
	if (rc)
		goto fail;
	return 0;
fail:
	xjk_splice_bpf_unload();
	return rc;
}

void xjk_splice_bpf_unload(void)
{
	if (!xjk_sp_skel)
		return;
	xjk_routes_attach_maps(-1, -1);
	for (size_t i = 0; i < sizeof(xjk_sp_pins) / sizeof(*xjk_sp_pins); i++)
		xjk_bpffs_unpin(xjk_splice_bpf_pin_fd((int)i), xjk_sp_pins[i]);
	xjk_splice__destroy(xjk_sp_skel);
	xjk_sp_skel = NULL;
	xjk_sp_socks_fd = xjk_sp_peers_fd = xjk_sp_stats_fd = -1;
}

int xjk_splice_bpf_loaded(void)
{
	return xjk_sp_skel != NULL;
}

uint64_t xjk_splice_bpf_cookie(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0)
		return 0;
	return cookie;
}

int xjk_splice_bpf_pair(int client_fd, uint64_t client, int backend_fd, uint64_t backend,
			int worker)
{
	struct xjk_splice_peer to_backend = {
		.peer = backend, .worker = (__u32)worker, .dir = XJK_SPLICE_TO_BACKEND};
	struct xjk_splice_peer to_client = {
		.peer = client, .worker = (__u32)worker, .dir = XJK_SPLICE_TO_CLIENT};
	__u64 bfd = (__u64)backend_fd, cfd = (__u64)client_fd;

	if (!xjk_sp_skel || !client || !backend)
		return -EOPNOTSUPP;
	/* Peers first: a socket's bytes are redirected from its insertion on,
	 * and the backend first: its redirect target must be there. */
	if (bpf_map_update_elem(xjk_sp_peers_fd, &client, &to_backend, BPF_ANY) != 0 ||
	    bpf_map_update_elem(xjk_sp_peers_fd, &backend, &to_client, BPF_ANY) != 0 ||
	    bpf_map_update_elem(xjk_sp_socks_fd, &backend, &bfd, BPF_NOEXIST) != 0 ||
	    bpf_map_update_elem(xjk_sp_socks_fd, &client, &cfd, BPF_NOEXIST) != 0) {
		int rc = -errno;

		xjk_splice_bpf_unpair(client);
		xjk_splice_bpf_unpair(backend);
		return rc;
	}
	return 0;
}

void xjk_splice_bpf_unpair(uint64_t cookie)
{
	if (xjk_sp_skel)
		bpf_map_delete_elem(xjk_sp_peers_fd, &cookie);
}

/* COOKIE's peer entry, zeroed when there is none. */
static struct xjk_splice_peer xjk_splice_bpf_peer(uint64_t cookie)
{
	struct xjk_splice_peer p;

	if (!xjk_sp_skel || bpf_map_lookup_elem(xjk_sp_peers_fd, &cookie, &p) != 0)
		memset(&p, 0, sizeof(p));
	return p;
}

uint64_t xjk_splice_bpf_redirected(uint64_t cookie)
{
	return xjk_splice_bpf_peer(cookie).bytes;
}

bool xjk_splice_bpf_held(uint64_t cookie)
{
	return xjk_splice_bpf_peer(cookie).held != 0;
}

int xjk_splice_bpf_stats(int worker, struct xjk_splice_stats *out)
{
	int n = libbpf_num_possible_cpus();
	__u32 key = (__u32)worker;

	memset(out, 0, sizeof(*out));
	if (!xjk_sp_skel)
		return -ENOENT;
	if (n <= 0)
		return n ? n : -EINVAL;
	struct xjk_splice_stats *per = calloc((size_t)n, sizeof(*per));
	if (!per)
		return -ENOMEM;
	int rc = bpf_map_lookup_elem(xjk_sp_stats_fd, &key, per) ? -errno : 0;
	for (int i = 0; !rc && i < n; i++) {
		out->to_backend_bytes += per[i].to_backend_bytes;
		out->to_backend_msgs += per[i].to_backend_msgs;
		out->to_client_bytes += per[i].to_client_bytes;
		out->to_client_msgs += per[i].to_client_msgs;
		out->passed_msgs += per[i].passed_msgs;
	}
	free(per);
	return rc;
}
