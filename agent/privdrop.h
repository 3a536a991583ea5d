/* privdrop.h: least privilege for xjkd (XjkUser). Once the listeners are
 * bound and the BPF programs loaded and attached, xjkd switches to an
 * unprivileged user and keeps only the capabilities that its control thread
 * still needs at run time and across a reload (which re-executes xjkd).
 * See docs/security.md. */
#ifndef XJK_PRIVDROP_H
#define XJK_PRIVDROP_H

#include "config.h"

/* Capabilities kept (permitted, effective, inheritable and ambient, so a
 * reloaded xjkd starts with them): CAP_NET_ADMIN and CAP_BPF (load and attach
 * BPF programs, XDP), CAP_PERFMON (the verifier's pointer checks for
 * unprivileged-uid loaders) and CAP_NET_BIND_SERVICE (a reload whose new
 * configuration adds a listener under 1024). Every other capability leaves
 * the bounding set. */
#define XJK_PRIVDROP_CAPS "cap_net_bind_service,cap_net_admin,cap_bpf,cap_perfmon"

/* Switches to cfg->user (no-op when NULL) and trims the capabilities. Files
 * xjkd writes after the switch are handed to the user first: the log files,
 * the BPF pin directory and its pins, and the default control socket
 * directory. A process that already runs as the user (a reload) only trims.
 * Must run on the control thread before other threads depend on privileges:
 * threads that already run lose every capability with the uid change.
 * Returns 0, or -1 after logging why. */
int xjk_privdrop(const struct xjk_config *cfg);

/* With XjkUser set and the switch done (a reloaded xjkd starts as the user,
 * with the kept capabilities in every thread), drops every capability of the
 * calling thread: a data thread reads client bytes and needs none. Threads
 * of a first start lose them with the uid change instead. */
void xjk_privdrop_thread(const struct xjk_config *cfg);

#endif
