/* lifecycle.h: how xjkd starts, reloads and stops without dropping requests.
 *
 * A reload re-executes xjkd with the same arguments. The new process inherits
 * the listening sockets (XJK_LISTEN_FDS), so connections waiting in their
 * accept queues are served by whichever process accepts them; when it is up
 * it tells the old one (XJK_READY_FD), which stops accepting, finishes the
 * exchanges in flight and exits. A configuration that does not load is
 * rejected before anything changes.
 *
 * The new process is the binary this one was started as, by the path it was
 * started by (as nginx and HAProxy do): after an upgrade that replaced the
 * file, a reload runs the new version. */
#ifndef XJK_LIFECYCLE_H
#define XJK_LIFECYCLE_H

#include <stddef.h>

#include "config.h"

/* Listening sockets for N_THREADS event loops: fds[t * cfg->n_listens + i] is
 * thread t's socket for cfg->listens[i], inherited from a previous process
 * when it had one for the same address, opened otherwise. Returns the array
 * (owned by the caller) or NULL after logging the FILE:LINE of the failure. */
int *xjk_listeners_open(const struct xjk_config *cfg, int n_threads);

/* Makes EXECFN, the path a process was executed by, absolute against CWD
 * into OUT (a leading "./" dropped). Symbolic links stay: a link that names another version after
 * an upgrade is followed at the reload. -1 when EXECFN has no slash (it was found in a search path
 * this process cannot repeat) or OUT is too small. */
int xjk_reload_exe_path(const char *execfn, const char *cwd, char *out, size_t outlen);

/* Remembers the binary a reload executes: this process's own path
 * (AT_EXECFN) through xjk_reload_exe_path. Call it at start-up, before
 * anything changes the current directory. Without it, or when the path
 * cannot be made absolute, a reload executes /proc/self/exe, the running
 * file even if it was replaced. */
void xjk_reload_exe_init(void);

/* Validates PATH, then starts a new xjkd (the binary xjk_reload_exe_init
 * remembered, with ARGV) that inherits FDS, the
 * listeners of the RUNNING configuration as xjk_listeners_open laid them out.
 * Returns 0 when the new process was started, -1 with the reason in ERR
 * ("FILE:LINE: message" for a configuration that does not load). READY_FD
 * receives the read end of a pipe the new process writes to once it serves,
 * and closes without a byte when it fails. */
int xjk_reload_spawn(const char *path, char *const argv[], const struct xjk_config *running,
		     const int *fds, int n_threads, int *ready_fd, char *err, size_t errlen);

/* Called once xjkd serves: tells the previous process (after a reload) and
 * systemd (Type=notify) that this process is ready. */
void xjk_announce_ready(void);
/* Tells systemd the service is stopping or reloading. */
void xjk_notify(const char *state);

int xjk_pid_file_write(const char *path);

#endif
