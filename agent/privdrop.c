/* privdrop.c: XjkUser: switch to an unprivileged user after startup and keep
 * only the capabilities listed in privdrop.h. No libcap: the capset ABI is
 * small and stable, and one fewer library at the edge is one fewer to trust. */
#include "privdrop.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <libgen.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpffs.h"
#include "log.h"
#include "xjk_bpf.h"

static const int keep_caps[] = {CAP_NET_BIND_SERVICE, CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON};
#define N_KEEP (sizeof(keep_caps) / sizeof(keep_caps[0]))

static uid_t owner_uid;
static gid_t owner_gid;

static int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (lchown(path, owner_uid, owner_gid) < 0)
		xjk_warn("XjkUser: chown %s: %s", path, strerror(errno));
	return 0;
}

/* What xjkd (and a reloaded xjkd) writes after the switch. The control
 * socket's directory only when it is xjkd's own default one: handing over
 * a shared directory such as /tmp would be worse than losing xjkctl. */
static void hand_over(const struct xjk_config *cfg, const struct passwd *pw)
{
	const char *files[] = {cfg->log_file, cfg->access_log};

	owner_uid = pw->pw_uid;
	owner_gid = pw->pw_gid;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i])
			chown_entry(files[i], NULL, 0, NULL);
	if (access(xjk_bpffs_dir(), F_OK) == 0)
		nftw(xjk_bpffs_dir(), chown_entry, 8, FTW_PHYS);
	if (cfg->control_socket) {
		char *sock = strdup(cfg->control_socket),
		     *dflt = strdup(XJK_DEFAULT_CONTROL_SOCKET);

		if (sock && dflt && !strcmp(dirname(sock), dirname(dflt)))
			nftw(sock, chown_entry, 8, FTW_PHYS);
		free(sock);
		free(dflt);
	}
}

static int switch_user(const struct passwd *pw)
{
	/* Everything outside keep_caps leaves the bounding set while
	 * CAP_SETPCAP is still there; nothing can regain it, not even exec. */
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
		bool kept = false;

		for (size_t i = 0; i < N_KEEP; i++)
			kept |= keep_caps[i] == cap;
		if (!kept && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(1, &pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		return -1;
	return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

/* permitted = effective = inheritable = keep_caps (what is still permitted),
 * then ambient, so execve (reload) passes them to the new xjkd. */
static int trim_caps(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	/* Zeroed: valgrind's capget marks only the first of the two words as
	 * written, and would see the bpf and perfmon bits as uninitialised. */
	struct __user_cap_data_struct cur[_LINUX_CAPABILITY_U32S_3] = {0},
				      set[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, cur) < 0)
		return -1;
	memset(set, 0, sizeof(set));
	for (size_t i = 0; i < N_KEEP; i++) {
		int w = keep_caps[i] / 32;
		uint32_t bit = 1u << (keep_caps[i] % 32);

		if (cur[w].permitted & bit)
			set[w].permitted = set[w].effective = set[w].inheritable |= bit;
	}
	if (syscall(SYS_capset, &hdr, set) < 0)
		return -1;
	for (size_t i = 0; i < N_KEEP; i++) {
		int w = keep_caps[i] / 32;

		if ((set[w].permitted & (1u << (keep_caps[i] % 32))) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, keep_caps[i], 0, 0) < 0)
			return -1;
	}
	return 0;
}

void xjk_privdrop_thread(const struct xjk_config *cfg)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {0};

	/* As root, keep them: the switch still to come runs setresuid in this
	 * thread too (glibc aborts when that fails in one thread), and the
	 * uid change then clears them here. */
	if (!cfg->user || getuid() == 0)
		return;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    syscall(SYS_capset, &hdr, none) < 0)
		xjk_warn("XjkUser: a data thread keeps its capabilities: %s", strerror(errno));
}

int xjk_privdrop(const struct xjk_config *cfg)
{
	if (!cfg->user)
		return 0;
	errno = 0;
	struct passwd *pw = getpwnam(cfg->user);
	if (!pw) {
		xjk_error("XjkUser %s: %s", cfg->user, errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		xjk_error("XjkUser %s: uid 0 is not a drop", cfg->user);
		return -1;
	}
	if (getuid() != pw->pw_uid) {
		hand_over(cfg, pw);
		if (switch_user(pw) < 0) {
			xjk_error("XjkUser %s: cannot switch: %s", cfg->user, strerror(errno));
			return -1;
		}
	}
	if (trim_caps() < 0) {
		xjk_error("XjkUser %s: cannot set capabilities: %s", cfg->user, strerror(errno));
		return -1;
	}
	/* A switch that could be undone is no switch. */
	if (setuid(0) == 0) {
		xjk_error("XjkUser %s: root is still reachable", cfg->user);
		return -1;
	}
	xjk_info("running as %s (uid %d, gid %d) with %s", cfg->user, (int)pw->pw_uid,
		 (int)pw->pw_gid, XJK_PRIVDROP_CAPS);
	return 0;
}
