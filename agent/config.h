/* config.h: the loaded configuration: xjk.conf directives (httpd/mod_jk style),
 * the workers.properties model and the URI map. Loaded by conf.c, read-only after. */
#ifndef XJK_CONFIG_H
#define XJK_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "health.h"
#include "l4.h"
#include "membership.h"
#include "urimap.h"
#include "worker.h"

#define XJK_DEFAULT_CONFIG	   "/etc/xjk/xjk.conf"
#define XJK_DEFAULT_ADMIN_LISTEN   "127.0.0.1:8099"
#define XJK_DEFAULT_CONTROL_SOCKET "/run/xjk/xjkd.sock"

struct xjk_listen {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[80]; /* as written, e.g. "0.0.0.0:80" */
	const char *file;
	int line;
};

struct xjk_config {
	char *main_file;
	char *server_root;

	struct xjk_listen *listens;
	int n_listens;

	char *workers_file;
	char *mount_file; /* JkMountFile (uriworkermap.properties); NULL: none */
	struct xjk_workers workers;
	struct xjk_urimap *urimap;

	char *log_file;	  /* NULL: stderr */
	int log_level;	  /* enum xjk_log_level */
	char *access_log; /* NULL: none */

	/* xjk-only directives (see docs/configuration.md) */
	int threads;		  /* XjkThreads; 0 = one event loop per core */
	int request_timeout_ms;	  /* XjkRequestTimeout: whole request head must arrive (408) */
	int keepalive_timeout_ms; /* XjkKeepAliveTimeout: idle client connection */
	int max_header_size;	  /* XjkMaxHeaderSize: request head bytes (431) */
	int max_headers;	  /* XjkMaxHeaders: request header count (431) */
	struct xjk_health_config health; /* XjkHealthCheck rules (agent/health.h) */
	int drain_timeout_ms; /* XjkDrainTimeout: in-flight work allowed on stop or reload */
	char *pid_file;	      /* XjkPidFile: NULL = none */
	struct xjk_membership_config membership; /* XjkMembership, XjkRelay* (agent/membership.h) */
	struct xjk_l4_config l4;		 /* XjkL4Vip (agent/l4.h) */
	char *bpf_dir; /* XjkBpfDir: NULL = $XJK_BPF_DIR or /sys/fs/bpf/xjk (agent/bpffs.h) */

	/* Operating xjkd (agent/admin.h, agent/control.h). */
	struct xjk_listen admin_listen; /* XjkAdminListen; addrlen 0 = off */
	bool admin_listen_given;	/* explicit: failing to bind it is fatal */
	char *admin_token;		/* XjkAdminToken; NULL = none */
	char *control_socket;		/* XjkControlSocket; NULL = off */
	char *user; /* XjkUser: NULL = keep running as started (agent/privdrop.h) */

	/* Every file name the load read, for diagnostics; owned strings that
	 * xjk_backend.file and friends point into. */
	char **files;
	int n_files;
};

/* Loads PATH and everything it includes. On failure returns -1, leaves cfg
 * empty (nothing to free) and writes "FILE:LINE: message" (or "FILE: message")
 * into err. Warnings and notices are logged as they are found. */
int xjk_config_load(const char *path, struct xjk_config *cfg, char *err, size_t errlen);
void xjk_config_free(struct xjk_config *cfg);
/* The -t summary: listeners, workers (with lb members), mounts. */
void xjk_config_print_summary(const struct xjk_config *cfg, FILE *out);

#endif
