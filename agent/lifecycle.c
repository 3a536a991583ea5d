/* lifecycle.c: listener inheritance across re-exec, readiness, sd_notify. */
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "proxy.h"

#define ENV_LISTEN_FDS "XJK_LISTEN_FDS" /* "fd=addr fd=addr ..." */
#define ENV_READY_FD   "XJK_READY_FD"

/* The binary a reload executes; xjk_reload_exe_init replaces the fallback. */
static char reload_exe[PATH_MAX] = "/proc/self/exe";

int xjk_reload_exe_path(const char *execfn, const char *cwd, char *out, size_t outlen)
{
	int n;

	if (!execfn || !strchr(execfn, '/'))
		return -1;
	if (execfn[0] == '/') {
		n = snprintf(out, outlen, "%s", execfn);
	} else if (cwd) {
		/* "./xjkd" (valgrind passes it on as typed) names CWD/xjkd, which
		 * is what the messages that quote the path should say. */
		while (!strncmp(execfn, "./", 2))
			execfn += 2;
		n = snprintf(out, outlen, "%s/%s", cwd, execfn);
	} else {
		return -1;
	}
	return n >= 0 && (size_t)n < outlen ? 0 : -1;
}

void xjk_reload_exe_init(void)
{
	char cwd[PATH_MAX], exe[sizeof(reload_exe)];
	/* AT_EXECFN rather than argv[0]: it is what execve was given (a shell's
	 * PATH search included), while argv[0] is whatever the caller chose. */
	const char *execfn = (const char *)getauxval(AT_EXECFN);

	if (xjk_reload_exe_path(execfn, getcwd(cwd, sizeof(cwd)), exe, sizeof(exe)) < 0) {
		xjk_warn("a reload will execute %s: no absolute path from '%s'", reload_exe,
			 execfn ? execfn : "");
		return;
	}
	memcpy(reload_exe, exe, sizeof(exe));
}

/* Takes an inherited socket for TEXT out of the list, or returns -1. */
static int take_inherited(char *list, const char *text)
{
	char *p = list;
	while (p && *p) {
		char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *eq = memchr(p, '=', len);
		if (eq && (size_t)(p + len - eq - 1) == strlen(text) &&
		    !memcmp(eq + 1, text, strlen(text)) && *p != '-') {
			int fd = atoi(p);
			*p = '-'; /* taken */
			return fd;
		}
		p = end ? end + 1 : NULL;
	}
	return -1;
}

/* Closes the inherited sockets the new configuration no longer listens on. */
static void close_untaken(const char *list)
{
	const char *p = list;
	while (p && *p) {
		if (*p != '-')
			close(atoi(p));
		p = strchr(p, ' ');
		p = p ? p + 1 : NULL;
	}
}

int *xjk_listeners_open(const struct xjk_config *cfg, int n_threads)
{
	int n = cfg->n_listens * n_threads;
	int *fds = calloc((size_t)n + 1, sizeof(*fds));
	const char *env = getenv(ENV_LISTEN_FDS);
	char *inherited = env ? strdup(env) : NULL;
	if (!fds)
		return NULL;
	for (int t = 0; t < n_threads; t++) {
		for (int i = 0; i < cfg->n_listens; i++) {
			const struct xjk_listen *l = &cfg->listens[i];
			int fd = inherited ? take_inherited(inherited, l->text) : -1;
			if (fd >= 0) {
				fcntl(fd, F_SETFD, FD_CLOEXEC);
			} else {
				fd = xjk_listen_open(l);
				if (fd < 0) {
					xjk_error("%s:%d: cannot listen on %s: %s", l->file,
						  l->line, l->text, strerror(-fd));
					for (int k = 0; k < t * cfg->n_listens + i; k++)
						close(fds[k]);
					free(fds);
					free(inherited);
					return NULL;
				}
			}
			fds[t * cfg->n_listens + i] = fd;
		}
	}
	if (inherited)
		close_untaken(inherited);
	free(inherited);
	unsetenv(ENV_LISTEN_FDS);
	return fds;
}

/* The environment for the new process: ours plus the inherited descriptors. */
static char **child_env(const char *listen_fds, int ready_fd)
{
	extern char **environ;
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], ENV_LISTEN_FDS "=", sizeof(ENV_LISTEN_FDS)) &&
		    strncmp(environ[i], ENV_READY_FD "=", sizeof(ENV_READY_FD)))
			env[k++] = environ[i];
	if (asprintf(&env[k++], ENV_LISTEN_FDS "=%s", listen_fds) < 0 ||
	    asprintf(&env[k++], ENV_READY_FD "=%d", ready_fd) < 0) {
		free(env);
		return NULL;
	}
	return env;
}

int xjk_reload_spawn(const char *path, char *const argv[], const struct xjk_config *running,
		     const int *fds, int n_threads, int *ready_fd, char *err, size_t errlen)
{
	struct xjk_config check;
	if (xjk_config_load(path, &check, err, errlen) < 0)
		return -1;
	xjk_config_free(&check);
	/* Checked here, where the reason reaches xjkctl: after the fork, a
	 * failed exec only shows as a new process that never served. */
	if (access(reload_exe, X_OK) < 0) {
		snprintf(err, errlen, "cannot execute %s: %s", reload_exe, strerror(errno));
		return -1;
	}

	int n = running->n_listens * n_threads;
	size_t cap = (size_t)n * 96 + 1, used = 0;
	char *list = malloc(cap);
	if (!list) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	list[0] = 0;
	for (int i = 0; i < n; i++)
		used += (size_t)snprintf(list + used, cap - used, "%s%d=%s", i ? " " : "", fds[i],
					 running->listens[i % running->n_listens].text);
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		free(list);
		return -1;
	}
	char **env = child_env(list, pipefd[1]);
	free(list);
	pid_t pid = env ? fork() : -1;
	if (pid == 0) {
		/* Only async-signal-safe calls between fork and exec. */
		for (int i = 0; i < n; i++)
			fcntl(fds[i], F_SETFD, 0);
		fcntl(pipefd[1], F_SETFD, 0);
		execve(reload_exe, argv, env);
		_exit(127);
	}
	int saved = errno;
	close(pipefd[1]);
	if (env) {
		/* Only the two strings we added are ours. */
		size_t k = 0;
		while (env[k])
			k++;
		free(env[k - 1]);
		free(env[k - 2]);
		free(env);
	}
	if (pid < 0) {
		close(pipefd[0]);
		snprintf(err, errlen, "cannot start the new process: %s", strerror(saved));
		return -1;
	}
	*ready_fd = pipefd[0];
	return 0;
}

void xjk_notify(const char *state)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	if (!sock || (sock[0] != '/' && sock[0] != '@'))
		return;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(sock);
	if (len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, sock, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0; /* abstract namespace */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

void xjk_announce_ready(void)
{
	const char *env = getenv(ENV_READY_FD);
	if (env) {
		int fd = atoi(env);
		if (write(fd, "R", 1) < 0)
			xjk_warn("cannot tell the previous process that this one serves: %s",
				 strerror(errno));
		close(fd);
		unsetenv(ENV_READY_FD);
	}
	char state[64];
	snprintf(state, sizeof(state), "READY=1\nMAINPID=%d", (int)getpid());
	xjk_notify(state);
}

int xjk_pid_file_write(const char *path)
{
	/* Written aside and renamed, so a reader never sees it empty. */
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) || rename(tmp, path)) {
		int err = errno;
		unlink(tmp);
		return -err;
	}
	return 0;
}
