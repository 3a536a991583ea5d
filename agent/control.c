/* control.c: the Unix control socket for xjkctl (protocol in control.h). */
#include "control.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define MAX_WORDS 5

struct xjk_control {
	struct xjk_admin_server server;
	const struct xjk_admin_src *src;
	xjk_control_reload_fn reload;
	void *reload_ctx;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char what[160];
	ino_t inode; /* of the socket file we made: a successor may have replaced it */
};

static void answer_error(struct xjk_buf *out, const char *msg)
{
	xjk_admin_printf(out, "error: %s\n", msg);
}

static void answer_model(struct xjk_control *c, bool json, enum xjk_admin_text what,
			 struct xjk_buf *out)
{
	struct xjk_admin_model m;
	if (xjk_admin_model_build(c->src, &m) < 0) {
		answer_error(out, "out of memory");
		return;
	}
	struct xjk_buf body = {0};
	int rc = json ? xjk_admin_render_json(&m, &body) : xjk_admin_render_text(&m, what, &body);
	xjk_admin_model_free(&m);
	if (rc || xjk_admin_printf(out, "ok\n") ||
	    xjk_buf_append(out, xjk_buf_head(&body), xjk_buf_len(&body))) {
		xjk_buf_reset(out);
		answer_error(out, "out of memory");
	}
	xjk_buf_free(&body);
}

static void answer_worker(struct xjk_control *c, int argc, char **argv, struct xjk_buf *out)
{
	char msg[512];
	if (argc < 3 || argc > 4) {
		answer_error(out,
			     "usage: worker NAME enable|disable|stop|recover|reset|lbfactor N");
		return;
	}
	if (xjk_admin_action(&c->src->cfg->workers, argv[1], argv[2], argc == 4 ? argv[3] : NULL,
			     msg, sizeof(msg)) < 0) {
		answer_error(out, msg);
		return;
	}
	xjk_info("control: %s", msg);
	xjk_admin_printf(out, "ok\n%s\n", msg);
}

static void answer_reload(struct xjk_control *c, struct xjk_buf *out)
{
	char msg[1024] = "";
	if (c->reload(c->reload_ctx, msg, sizeof(msg)) < 0)
		answer_error(out, msg);
	else
		xjk_admin_printf(out, "ok\n%s\n", msg);
}

/* Splits LINE (NUL-terminated, modified) at blanks. */
static int split(char *line, char **argv)
{
	int argc = 0;
	for (char *save = NULL, *w = strtok_r(line, " \t\r", &save); w && argc < MAX_WORDS;
	     w = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = w;
	return argc;
}

static int handle(struct xjk_admin_server *srv, const char *in, size_t len, struct xjk_buf *out)
{
	struct xjk_control *c = container_of(srv, struct xjk_control, server);
	const char *nl = memchr(in, '\n', len);
	if (!nl)
		return 0;
	char line[XJK_CONTROL_LINE_MAX], *argv[MAX_WORDS + 1];
	size_t n = (size_t)(nl - in);
	if (n >= sizeof(line)) {
		answer_error(out, "request line too long");
		return 1;
	}
	memcpy(line, in, n);
	line[n] = '\0';
	int argc = split(line, argv);
	if (argc == 0)
		answer_error(out, "empty request");
	else if (!strcmp(argv[0], "status") && argc <= 2 && (argc == 1 || !strcmp(argv[1], "json")))
		answer_model(c, argc == 2, XJK_ADMIN_TEXT_STATUS, out);
	else if (!strcmp(argv[0], "members") && argc == 1)
		answer_model(c, false, XJK_ADMIN_TEXT_MEMBERS, out);
	else if (!strcmp(argv[0], "worker"))
		answer_worker(c, argc, argv, out);
	else if (!strcmp(argv[0], "reload") && argc == 1)
		answer_reload(c, out);
	else
		answer_error(out, "unknown request (status [json], members, worker NAME VERB "
				  "[VALUE], reload)");
	return 1;
}

/* A socket file that nobody answers on is left over from a crash. */
static bool socket_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live = fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	if (fd >= 0)
		close(fd);
	return live;
}

static int open_socket(struct xjk_admin_server *srv)
{
	struct xjk_control *c = container_of(srv, struct xjk_control, server);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	if (socket_in_use(&sa))
		return -EADDRINUSE;
	unlink(c->path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) || chmod(c->path, 0660) ||
	    listen(fd, 16) || stat(c->path, &st)) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	c->inode = st.st_ino;
	return fd;
}

int xjk_control_start(struct xjk_loop *loop, const struct xjk_admin_src *src,
		      xjk_control_reload_fn reload, void *reload_ctx, struct xjk_control **out)
{
	const char *path = src->cfg->control_socket;
	*out = NULL;
	if (!path)
		return 0;
	struct xjk_control *c = calloc(1, sizeof(*c));
	char *dir = strdup(path);
	if (!c || !dir) {
		free(c);
		free(dir);
		xjk_error("control socket: out of memory");
		return -1;
	}
	c->src = src;
	c->reload = reload;
	c->reload_ctx = reload_ctx;
	/* /run/xjk does not survive a reboot */
	int rc = mkdir(dirname(dir), 0755) && errno != EEXIST ? -errno : 0;
	free(dir);
	if (strlen(path) >= sizeof(c->path))
		rc = -ENAMETOOLONG;
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(c->what, sizeof(c->what), "control socket %s", c->path);
	if (!rc)
		rc = xjk_admin_server_start(&c->server, loop, open_socket, handle,
					    XJK_CONTROL_LINE_MAX, c->what);
	if (rc < 0) {
		/* traffic does not depend on it: run on without xjkctl */
		xjk_warn("%s: %s", c->what, strerror(-rc));
		free(c);
		return 0;
	}
	*out = c;
	return 0;
}

void xjk_control_stop(struct xjk_control *c)
{
	if (!c)
		return;
	xjk_admin_server_stop(&c->server);
	struct stat st;
	if (c->inode && !stat(c->path, &st) && st.st_ino == c->inode)
		unlink(c->path);
	free(c);
}
