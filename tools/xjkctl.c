/* xjkctl.c: the operator's command line. Each command is one line of the
 * table in main(): local ones work on the kernel directly (attach, detach,
 * maps); commands that talk to a running xjkd over its control socket join
 * the same table. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpffs.h"
#include "control.h"
#include "l4.h"
#include "xjk_bpf.h"

struct command {
	const char *name;
	const char *usage; /* arguments, for the help text */
	int min_args;
	int max_args;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

static int cmd_attach(int argc, char **argv)
{
	char err[256];
	bool generic = false;

	if (argc == 4) {
		if (strcmp(argv[2], "--mode") != 0 ||
		    (strcmp(argv[3], "native") != 0 && strcmp(argv[3], "generic") != 0)) {
			fprintf(stderr, "xjkctl attach: --mode native|generic\n");
			return 2;
		}
		generic = strcmp(argv[3], "generic") == 0;
	} else if (argc != 2) {
		fprintf(stderr, "xjkctl attach: IFACE [--mode native|generic]\n");
		return 2;
	}
	if (xjk_l4_attach(argv[1], generic, err, sizeof(err))) {
		fprintf(stderr, "xjkctl: %s\n", err);
		return 1;
	}
	printf("attached to %s (%s), maps in %s\n", argv[1], generic ? "generic" : "native",
	       xjk_bpffs_dir());
	return 0;
}

static int cmd_detach(int argc, char **argv)
{
	char err[256];

	(void)argc;
	if (xjk_l4_detach(argv[1], err, sizeof(err))) {
		fprintf(stderr, "xjkctl: %s\n", err);
		return 1;
	}
	printf("detached from %s\n", argv[1]);
	return 0;
}

/* ---- maps: summaries of the pinned maps ---- */

static int pinned(const char *name)
{
	char path[128];

	if (xjk_bpffs_path(path, sizeof(path), name))
		return -1;
	int fd = bpf_obj_get(path);
	if (fd < 0)
		fprintf(stderr, "xjkctl: %s: %s\n", path, strerror(errno));
	return fd;
}

/* Sums a per-CPU value of N u64 counters into OUT. */
static int percpu_sum(int fd, uint32_t key, uint64_t *out, int n)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *per = calloc((size_t)ncpus * n, sizeof(uint64_t));
	int rc = per ? bpf_map_lookup_elem(fd, &key, per) : -ENOMEM;

	memset(out, 0, n * sizeof(uint64_t));
	for (int c = 0; rc == 0 && c < ncpus; c++)
		for (int i = 0; i < n; i++)
			out[i] += per[c * n + i];
	free(per);
	return rc;
}

static void addr_text(uint8_t family, const uint32_t *addr, char *buf, size_t len)
{
	inet_ntop(family == XJK_L4_FAMILY_V6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len);
}

static void show_links(void)
{
	DIR *d = opendir(xjk_bpffs_dir());
	struct dirent *e;

	printf("attached:");
	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, "xdp_link_", 9) == 0)
			printf(" %s", e->d_name + 9);
	printf("\n");
	if (d)
		closedir(d);
}

static void show_vips(int vips, int stats, int ring, int reals)
{
	struct xjk_l4_vip_key k;
	struct xjk_l4_vip_meta meta;
	void *prev = NULL;
	char a[INET6_ADDRSTRLEN];

	printf("\nVIPs (xjk_vips, xjk_vip_stats, xjk_ring):\n");
	while (bpf_map_get_next_key(vips, prev, &k) == 0) {
		prev = &k;
		if (bpf_map_lookup_elem(vips, &k, &meta))
			continue;
		uint64_t s[3];
		percpu_sum(stats, meta.index, s, 3);
		addr_text(k.family, k.addr, a, sizeof(a));
		printf("  %s%s%s:%u/%s index %u ring %u: %llu packets, %llu bytes, %llu new "
		       "flows\n",
		       k.family == 6 ? "[" : "", a, k.family == 6 ? "]" : "", ntohs(k.port),
		       k.proto == IPPROTO_TCP ? "tcp" : "udp", meta.index, meta.ring_size,
		       (unsigned long long)s[0], (unsigned long long)s[1],
		       (unsigned long long)s[2]);
		/* the ring's share per backend, from the slots themselves */
		static uint32_t count[XJK_L4_MAX_REALS];
		memset(count, 0, sizeof(count));
		for (uint32_t i = 0; i < meta.ring_size; i++) {
			uint32_t key = meta.index * XJK_L4_RING_STRIDE + i, id = 0;
			bpf_map_lookup_elem(ring, &key, &id);
			count[id < XJK_L4_MAX_REALS ? id : 0]++;
		}
		for (uint32_t id = 0; id < XJK_L4_MAX_REALS; id++) {
			struct xjk_l4_real r;
			if (!count[id] || (id && bpf_map_lookup_elem(reals, &id, &r)))
				continue;
			if (id)
				addr_text(r.family, r.addr, a, sizeof(a));
			printf("    real %u %s: %u slots (%.2f%%)\n", id, id ? a : "(none)",
			       count[id], 100.0 * count[id] / meta.ring_size);
		}
	}
}

static void show_reals(int reals, int stats)
{
	char a[INET6_ADDRSTRLEN];

	printf("\nbackends (xjk_reals, xjk_real_stats):\n");
	for (uint32_t id = 1; id < XJK_L4_MAX_REALS; id++) {
		struct xjk_l4_real r;
		uint64_t s[2];
		if (bpf_map_lookup_elem(reals, &id, &r) || !r.family)
			continue;
		percpu_sum(stats, id, s, 2);
		addr_text(r.family, r.addr, a, sizeof(a));
		printf("  real %u %s: %s %02x:%02x:%02x:%02x:%02x:%02x ifindex %u: %llu packets, "
		       "%llu bytes\n",
		       id, a, r.flags & XJK_L4_REAL_F_RESOLVED ? "resolved" : "UNRESOLVED",
		       r.dmac[0], r.dmac[1], r.dmac[2], r.dmac[3], r.dmac[4], r.dmac[5], r.ifindex,
		       (unsigned long long)s[0], (unsigned long long)s[1]);
	}
}

/* Entries of a hash map: walking the keys is the only way to count them. */
static long map_entries(int fd, size_t key_size)
{
	char k[64], next[64];
	long n = 0;

	if (key_size > sizeof(k))
		return -1;
	for (void *prev = NULL; bpf_map_get_next_key(fd, prev, next) == 0; prev = k, n++)
		memcpy(k, next, key_size);
	return n;
}

static void show_counters(int counters, int flows4, int flows6)
{
#define XJK_L4_REASON_NAME(name) #name,
	static const char *const names[] = {XJK_L4_REASONS(XJK_L4_REASON_NAME)};
#undef XJK_L4_REASON_NAME
	uint64_t c[XJK_L4_NR_REASONS];

	printf("\nconnection tables: xjk_flows4 %ld of %d entries, xjk_flows6 %ld of %d\n",
	       map_entries(flows4, sizeof(struct xjk_l4_flow4_key)), XJK_L4_MAX_FLOWS,
	       map_entries(flows6, sizeof(struct xjk_l4_flow_key)), XJK_L4_MAX_FLOWS6);
	printf("\nverdicts (xjk_counters):\n");
	percpu_sum(counters, 0, c, XJK_L4_NR_REASONS);
	for (int i = 0; i < XJK_L4_NR_REASONS; i++)
		printf("  %-16s %llu\n", names[i], (unsigned long long)c[i]);
}

static int cmd_maps(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const char *names[] = {"xjk_vips",	 "xjk_vip_stats", "xjk_ring",	"xjk_reals",
			       "xjk_real_stats", "xjk_counters",  "xjk_flows4", "xjk_flows6"};
	enum { N = sizeof(names) / sizeof(names[0]) };
	int fds[N];
	int rc = 0;

	for (int i = 0; i < N; i++)
		if ((fds[i] = pinned(names[i])) < 0)
			rc = 1;
	if (rc == 0) {
		show_links();
		show_vips(fds[0], fds[1], fds[2], fds[3]);
		show_reals(fds[3], fds[4]);
		show_counters(fds[5], fds[6], fds[7]);
	}
	for (int i = 0; i < N; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

/* ---- commands answered by xjkd over its control socket (agent/control.h) ---- */

static const char *control_path = XJK_DEFAULT_CONTROL_SOCKET;

/* Sends ARGV as one request line ("--json" as "json"), prints the output and
 * says whether xjkd answered "ok". */
static int cmd_remote(int argc, char **argv)
{
	char line[XJK_CONTROL_LINE_MAX];
	size_t len = 0;
	for (int i = 0; i < argc; i++) {
		const char *w = strcmp(argv[i], "--json") ? argv[i] : "json";
		int n = snprintf(line + len, sizeof(line) - len, "%s%s", i ? " " : "", w);
		if (n < 0 || (size_t)n >= sizeof(line) - len - 1) {
			fprintf(stderr, "xjkctl: request too long\n");
			return 2;
		}
		len += (size_t)n;
	}
	line[len++] = '\n';

	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", control_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, line, len) != (ssize_t)len) {
		fprintf(stderr, "xjkctl: %s: %s (is xjkd running?)\n", control_path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	FILE *in = fdopen(fd, "r");
	char *first = NULL, buf[4096];
	size_t cap = 0, n;
	int rc = 1;
	if (in && getline(&first, &cap, in) > 0) {
		rc = strcmp(first, "ok\n") != 0;
		if (rc)
			fprintf(stderr, "xjkctl: %s",
				strncmp(first, "error: ", 7) ? first : first + 7);
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, stdout);
	} else {
		fprintf(stderr, "xjkctl: no answer from %s\n", control_path);
	}
	free(first);
	if (in)
		fclose(in);
	else
		close(fd);
	return rc;
}

static const struct command commands[] = {
	{"attach", "IFACE [--mode native|generic]", 1, 3, cmd_attach},
	{"detach", "IFACE", 1, 1, cmd_detach},
	{"maps", "", 0, 0, cmd_maps},
	{"status", "[--json]", 0, 1, cmd_remote},
	{"worker", "NAME enable|disable|stop|recover|reset|lbfactor N", 2, 3, cmd_remote},
	{"members", "", 0, 0, cmd_remote},
	{"reload", "", 0, 0, cmd_remote},
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xjkctl [-s SOCKET] [--pin-dir DIR] COMMAND [ARGS]\n"
		"  -s SOCKET      xjkd's control socket (default " XJK_DEFAULT_CONTROL_SOCKET ")\n"
		"  --pin-dir DIR  BPF pin directory of attach, detach and maps (XjkBpfDir;\n"
		"                 default $" XJK_BPFFS_DIR_ENV " or " XJK_BPF_PIN_DIR ")\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  xjkctl %s %s\n", commands[i].name, commands[i].usage);
}

int main(int argc, char **argv)
{
	const char *pin_dir = NULL;
	char err[160];

	while (argc > 2 && (strcmp(argv[1], "-s") == 0 || strcmp(argv[1], "--pin-dir") == 0)) {
		if (argv[1][1] == 's')
			control_path = argv[2];
		else
			pin_dir = argv[2];
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	if (xjk_bpffs_use_dir(pin_dir, err, sizeof(err))) {
		fprintf(stderr, "xjkctl: pin directory %s\n", err);
		return 2;
	}
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		if (strcmp(argv[1], c->name) != 0)
			continue;
		int nargs = argc - 2;
		if (nargs < c->min_args || nargs > c->max_args) {
			fprintf(stderr, "usage: xjkctl %s %s\n", c->name, c->usage);
			return 2;
		}
		return c->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "xjkctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
