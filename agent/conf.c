/* conf.c: loads xjk.conf, an httpd-style file carrying mod_jk's directives
 * (JkWorkersFile, JkMount, ...) plus xjk's own (Xjk*), then the workers and
 * the URI map it points to. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "bpffs.h"
#include "log.h"
#include "props.h"
#include "workers.h"

#define MAX_ARGS	  16
#define MAX_INCLUDE_DEPTH 16
#define MAX_SECTIONS	  16

struct section {
	char name[32];
	bool skip; /* contents ignored (<IfModule !mod_jk.c>) */
};

struct ctx {
	struct xjk_config *cfg;
	struct xjk_props props; /* JkWorkerProperty lines, then JkWorkersFile */
	const char *file;	/* interned; the directive being handled */
	int line;
	char *location; /* inside <Location>, its path; owned */
	struct section sections[MAX_SECTIONS];
	int n_sections;
	int skipping; /* sections nested inside a skipped one */
	int include_depth;
	const char *workers_file_at; /* where JkWorkersFile was given */
	int workers_file_line;
	const char *mount_file_at;
	int mount_file_line;
	bool control_socket_given; /* "XjkControlSocket off" leaves it NULL */
	char *err;
	size_t errlen;
};

struct directive;
typedef int (*handler_fn)(struct ctx *c, const struct directive *d, int argc, char **argv);

struct directive {
	const char *name;
	int min_args, max_args;
	handler_fn fn;
	size_t off;  /* field of struct xjk_config for the generic setters */
	long lo, hi; /* range for set_int; a flag for some handlers */
};

__attribute__((format(printf, 2, 3))) static int cfail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	xjk_props_vfail(c->err, c->errlen, c->file, c->line, fmt, ap);
	va_end(ap);
	return -1;
}

/* Keeps one copy of every file name; properties and workers point into them. */
static const char *intern(struct xjk_config *cfg, const char *path)
{
	for (int i = 0; i < cfg->n_files; i++)
		if (!strcmp(cfg->files[i], path))
			return cfg->files[i];
	char **files = realloc(cfg->files, (size_t)(cfg->n_files + 1) * sizeof(*files));
	if (!files)
		return NULL;
	cfg->files = files;
	files[cfg->n_files] = strdup(path);
	return files[cfg->n_files] ? files[cfg->n_files++] : NULL;
}

/* Relative paths are relative to ServerRoot, as in httpd. Returns a new string. */
static char *root_relative(const struct ctx *c, const char *path)
{
	char *out;
	if (path[0] == '/')
		return strdup(path);
	return asprintf(&out, "%s/%s", c->cfg->server_root, path) < 0 ? NULL : out;
}

static int set_string(struct ctx *c, char **dst, char *value)
{
	if (!value)
		return cfail(c, "out of memory");
	free(*dst);
	*dst = value;
	return 0;
}

/* ---- generic setters: most new directives are one table line using these ---- */

static int set_int(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	long v;
	(void)argc;
	if (xjk_props_parse_int(argv[0], &v) || v < d->lo || v > d->hi)
		return cfail(c, "%s needs a number from %ld to %ld, not '%s'", d->name, d->lo,
			     d->hi, argv[0]);
	*(int *)((char *)c->cfg + d->off) = (int)v;
	return 0;
}

static int set_path(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)argc;
	return set_string(c, (char **)((char *)c->cfg + d->off), root_relative(c, argv[0]));
}

static int set_word(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)argc;
	return set_string(c, (char **)((char *)c->cfg + d->off), strdup(argv[0]));
}

static int notice(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	xjk_info("%s:%d: %s is accepted and ignored by xjk", c->file, c->line, d->name);
	return 0;
}

/* ---- mod_jk and httpd directives ---- */

static int parse_listen(struct ctx *c, const char *arg, struct xjk_listen *l)
{
	char addr[64] = "0.0.0.0";
	const char *port = arg, *colon = strrchr(arg, ':');
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (!close || close[1] != ':' || (size_t)(close - arg - 1) >= sizeof(addr))
			return cfail(c, "bad Listen '%s' (use [addr]:port for IPv6)", arg);
		snprintf(addr, sizeof(addr), "%.*s", (int)(close - arg - 1), arg + 1);
		port = close + 2;
	} else if (colon) {
		if (strchr(arg, ':') != colon || (size_t)(colon - arg) >= sizeof(addr))
			return cfail(c, "bad Listen '%s' (use [addr]:port for IPv6)", arg);
		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - arg), arg);
		port = colon + 1;
	}
	long p;
	if (xjk_props_parse_int(port, &p) || p < 1 || p > 65535)
		return cfail(c, "bad port in Listen '%s'", arg);
	struct sockaddr_in *in4 = (struct sockaddr_in *)&l->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&l->addr;
	memset(l, 0, sizeof(*l));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		l->addrlen = sizeof(*in4);
		snprintf(l->text, sizeof(l->text), "%s:%ld", addr, p);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		l->addrlen = sizeof(*in6);
		snprintf(l->text, sizeof(l->text), "[%s]:%ld", addr, p);
	} else {
		return cfail(c, "Listen needs a numeric IPv4 or [IPv6] address, not '%s'", addr);
	}
	l->file = c->file;
	l->line = c->line;
	return 0;
}

static int add_listen(struct ctx *c, const char *arg)
{
	struct xjk_config *cfg = c->cfg;
	struct xjk_listen l;
	if (parse_listen(c, arg, &l))
		return -1;
	for (int i = 0; i < cfg->n_listens; i++)
		if (!strcmp(cfg->listens[i].text, l.text))
			return cfail(c, "Listen %s given twice (first at %s:%d)", l.text,
				     cfg->listens[i].file, cfg->listens[i].line);
	struct xjk_listen *nl = realloc(cfg->listens, (size_t)(cfg->n_listens + 1) * sizeof(*nl));
	if (!nl)
		return cfail(c, "out of memory");
	cfg->listens = nl;
	nl[cfg->n_listens++] = l;
	return 0;
}

static int h_listen(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)d;
	(void)argc;
	return add_listen(c, argv[0]);
}

static int h_server_root(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)d;
	(void)argc;
	char *path = root_relative(c, argv[0]), real[PATH_MAX];
	struct stat st;
	if (!path)
		return cfail(c, "out of memory");
	if (stat(path, &st) || !S_ISDIR(st.st_mode) || !realpath(path, real)) {
		cfail(c, "ServerRoot '%s' is not a directory", path);
		free(path);
		return -1;
	}
	free(path);
	return set_string(c, &c->cfg->server_root, strdup(real));
}

static int parse_file(struct ctx *c, const char *path);

/* Include of one matched path; a directory includes every file in it. */
static int include_path(struct ctx *c, const char *path);

static int include_glob(struct ctx *c, const char *pattern, bool optional)
{
	glob_t g;
	int rc = glob(pattern, 0, NULL, &g);
	if (rc == GLOB_NOMATCH)
		return optional ? 0 : cfail(c, "Include: no file matches '%s'", pattern);
	if (rc)
		return cfail(c, "Include: cannot expand '%s'", pattern);
	rc = 0;
	for (size_t i = 0; !rc && i < g.gl_pathc; i++)
		rc = include_path(c, g.gl_pathv[i]);
	globfree(&g);
	return rc;
}

static int include_path(struct ctx *c, const char *path)
{
	struct stat st;
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		char *pattern;
		if (asprintf(&pattern, "%s/*", path) < 0)
			return cfail(c, "out of memory");
		int rc = include_glob(c, pattern, true);
		free(pattern);
		return rc;
	}
	const char *file = c->file;
	int line = c->line;
	int rc = parse_file(c, path);
	c->file = file;
	c->line = line;
	return rc;
}

static int h_include(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)argc;
	if (c->include_depth >= MAX_INCLUDE_DEPTH)
		return cfail(c, "Include nested more than %d deep (a loop?)", MAX_INCLUDE_DEPTH);
	char *pattern = root_relative(c, argv[0]);
	if (!pattern)
		return cfail(c, "out of memory");
	c->include_depth++;
	int rc = include_glob(c, pattern, d->lo);
	c->include_depth--;
	free(pattern);
	return rc;
}

static int h_workers_file(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)d;
	(void)argc;
	if (c->workers_file_at)
		return cfail(c, "JkWorkersFile only allowed once (first at %s:%d)",
			     c->workers_file_at, c->workers_file_line);
	c->workers_file_at = c->file;
	c->workers_file_line = c->line;
	return set_string(c, &c->cfg->workers_file, root_relative(c, argv[0]));
}

static int h_mount_file(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)d;
	(void)argc;
	if (c->mount_file_at)
		xjk_warn("%s:%d: JkMountFile replaces the one given at %s:%d", c->file, c->line,
			 c->mount_file_at, c->mount_file_line);
	c->mount_file_at = c->file;
	c->mount_file_line = c->line;
	return set_string(c, &c->cfg->mount_file, root_relative(c, argv[0]));
}

/* JkMount /uri worker, or JkMount worker inside <Location /uri> (exact match). */
static int h_mount(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	const char *uri = argc == 2 ? argv[0] : c->location;
	const char *worker = argv[argc - 1];
	if (!uri)
		return cfail(c, "%s with one argument is only allowed inside <Location>", d->name);
	if (uri[0] != '/')
		return cfail(c, "%s context should start with /", d->name);
	char rule[PATH_MAX + 1];
	if ((size_t)snprintf(rule, sizeof(rule), "%s%s", d->lo ? "!" : "", uri) >= sizeof(rule))
		return cfail(c, "%s path too long", d->name);
	return xjk_urimap_add(c->cfg->urimap, rule, worker, XJK_MOUNT_JKMOUNT, c->file, c->line,
			      c->err, c->errlen);
}

static int h_worker_property(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)d;
	(void)argc;
	return xjk_props_add_line(&c->props, argv[0], c->file, c->line, c->err, c->errlen);
}

static int h_log_file(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	if (argv[0][0] == '|')
		return cfail(c, "piped logs are not supported by xjk; give a file name");
	return set_path(c, d, argc, argv);
}

static int h_log_level(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)d;
	(void)argc;
	int level = xjk_log_level_parse(argv[0]);
	if (level < 0)
		return cfail(c, "JkLogLevel must be trace, debug, info, warn, error or emerg");
	c->cfg->log_level = level;
	return 0;
}

static int h_admin_listen(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)d;
	(void)argc;
	c->cfg->admin_listen_given = true;
	if (!strcasecmp(argv[0], "off")) {
		c->cfg->admin_listen.addrlen = 0;
		return 0;
	}
	return parse_listen(c, argv[0], &c->cfg->admin_listen);
}

static int h_control_socket(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	c->control_socket_given = true;
	if (strcasecmp(argv[0], "off"))
		return set_path(c, d, argc, argv);
	free(c->cfg->control_socket);
	c->cfg->control_socket = NULL;
	return 0;
}

static int h_health_check(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	(void)d;
	char msg[256];
	if (xjk_health_directive(&c->cfg->health, argc, argv, c->file, c->line, msg, sizeof(msg)))
		return cfail(c, "%s", msg);
	return 0;
}

/* XjkMembership, XjkMemberWorker, XjkRelay*: parsed in membership_conf.c. */
static int h_membership(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	char msg[256] = "";
	if (xjk_membership_directive(&c->cfg->membership, d->name, argc, argv, msg, sizeof(msg)))
		return cfail(c, "%s: %s", d->name, msg);
	return 0;
}

static int h_l4_vip(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	char msg[256] = "";
	if (xjk_l4_parse_directive(&c->cfg->l4, argc, argv, msg, sizeof(msg)) < 0)
		return cfail(c, "%s: %s", d->name, msg);
	return 0;
}

/* XjkBpfDir: checked here so that xjkd -t reports it (agent/bpffs.h). */
static int h_bpf_dir(struct ctx *c, const struct directive *d, int argc, char **argv)
{
	char msg[256] = "";
	if (xjk_bpffs_dir_check(argv[0], msg, sizeof(msg)))
		return cfail(c, "%s: %s", d->name, msg);
	return set_word(c, d, argc, argv);
}

#define CFG(field) offsetof(struct xjk_config, field)

/* JkWorkerProperty takes the rest of the line as one argument (see split_args). */
static const struct directive directives[] = {
	{"Listen", 1, 1, h_listen, 0, 0, 0},
	{"ServerRoot", 1, 1, h_server_root, 0, 0, 0},
	{"Include", 1, 1, h_include, 0, 0, 0},
	{"IncludeOptional", 1, 1, h_include, 0, 1, 0},
	{"LoadModule", 2, 2, notice, 0, 0, 0},
	{"JkWorkersFile", 1, 1, h_workers_file, 0, 0, 0},
	{"JkWorkerProperty", 1, 1, h_worker_property, 0, 0, 0},
	{"JkMount", 1, 2, h_mount, 0, 0, 0},
	{"JkUnMount", 1, 2, h_mount, 0, 1, 0},
	{"JkMountFile", 1, 1, h_mount_file, 0, 0, 0},
	{"JkLogFile", 1, 1, h_log_file, CFG(log_file), 0, 0},
	{"JkLogLevel", 1, 1, h_log_level, 0, 0, 0},
	{"JkShmFile", 1, 1, notice, 0, 0, 0},
	{"JkShmSize", 1, 1, notice, 0, 0, 0},
	{"JkOptions", 1, MAX_ARGS, notice, 0, 0, 0},
	{"JkLogStampFormat", 1, 1, notice, 0, 0, 0},
	{"JkRequestLogFormat", 1, 1, notice, 0, 0, 0},
	{"JkWatchdogInterval", 1, 1, notice, 0, 0, 0},
	{"JkMountCopy", 1, 1, notice, 0, 0, 0},
	{"JkMountFileReload", 1, 1, notice, 0, 0, 0},
	{"JkStripSession", 1, 2, notice, 0, 0, 0},
	{"JkEnvVar", 1, 2, notice, 0, 0, 0},
	{"XjkThreads", 1, 1, set_int, CFG(threads), 0, 1024},
	{"XjkAccessLog", 1, 1, set_path, CFG(access_log), 0, 0},
	{"XjkRequestTimeout", 1, 1, set_int, CFG(request_timeout_ms), 1, 3600000},
	{"XjkKeepAliveTimeout", 1, 1, set_int, CFG(keepalive_timeout_ms), 0, 3600000},
	{"XjkMaxHeaderSize", 1, 1, set_int, CFG(max_header_size), 1024, 1048576},
	{"XjkMaxHeaders", 1, 1, set_int, CFG(max_headers), 1, 10000},
	{"XjkHealthCheck", 2, MAX_ARGS, h_health_check, 0, 0, 0},
	{"XjkDrainTimeout", 1, 1, set_int, CFG(drain_timeout_ms), 0, 3600000},
	{"XjkPidFile", 1, 1, set_path, CFG(pid_file), 0, 0},
	{"XjkAdminListen", 1, 1, h_admin_listen, 0, 0, 0},
	{"XjkAdminToken", 1, 1, set_word, CFG(admin_token), 0, 0},
	{"XjkUser", 1, 1, set_word, CFG(user), 0, 0},
	{"XjkControlSocket", 1, 1, h_control_socket, CFG(control_socket), 0, 0},
	{"XjkMembership", 2, MAX_ARGS, h_membership, 0, 0, 0},
	{"XjkMemberWorker", 2, 2, h_membership, 0, 0, 0},
	{"XjkRelayInterface", 1, MAX_ARGS, h_membership, 0, 0, 0},
	{"XjkRelayListen", 1, 1, h_membership, 0, 0, 0},
	{"XjkRelayPeer", 1, MAX_ARGS, h_membership, 0, 0, 0},
	{"XjkRelayRate", 1, 1, h_membership, 0, 0, 0},
	{"XjkL4Vip", 4, MAX_ARGS, h_l4_vip, 0, 0, 0},
	{"XjkBpfDir", 1, 1, h_bpf_dir, CFG(bpf_dir), 0, 0},
};

static const struct directive *find_directive(const char *name)
{
	for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (!strcasecmp(directives[i].name, name))
			return &directives[i];
	return NULL;
}

/* ---- lexer ---- */

/* httpd's argument words: whitespace separated, "..." or '...' quoted with
 * backslash escaping the quote. Writes NUL-terminated words in place. */
static int split_args(struct ctx *c, char *s, char **argv)
{
	int argc = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return argc;
		if (argc == MAX_ARGS)
			return cfail(c, "more than %d arguments", MAX_ARGS);
		char *out = s, quote = 0;
		argv[argc++] = out;
		if (*s == '"' || *s == '\'')
			quote = *s++;
		while (*s && (quote ? *s != quote : (*s != ' ' && *s != '\t'))) {
			if (quote && *s == '\\' && s[1] == quote)
				s++;
			*out++ = *s++;
		}
		if (quote && !*s)
			return cfail(c, "unterminated quote");
		if (*s)
			s++;
		*out = '\0';
		/* JkWorkerProperty's argument is the rest of the line, as in mod_jk. */
		if (argc == 1 && !strcasecmp(argv[0], "JkWorkerProperty")) {
			while (*s == ' ' || *s == '\t')
				s++;
			if (*s)
				argv[argc++] = s;
			return argc;
		}
	}
}

static bool is_jk_module(const char *name)
{
	return !strcmp(name, "mod_jk.c") || !strcmp(name, "jk_module");
}

static int open_section(struct ctx *c, int argc, char **argv)
{
	char *name = argv[0] + 1;
	char *last = argv[argc - 1];
	size_t ll = strlen(last);
	if (!ll || last[ll - 1] != '>')
		return cfail(c, "<%s> section line is missing its '>'", name);
	last[ll - 1] = '\0';
	if (!*argv[argc - 1] && argc > 1)
		argc--; /* a lone ">" */
	if (c->n_sections == MAX_SECTIONS)
		return cfail(c, "sections nested too deep");
	if (c->skipping) {
		c->skipping++;
		return 0;
	}
	struct section *s = &c->sections[c->n_sections];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->skip = false;
	if (!strcasecmp(name, "IfModule")) {
		if (argc != 2)
			return cfail(c, "<IfModule> needs one module name");
		/* xjk reads what is inside, except blocks meant for when mod_jk is absent. */
		s->skip = argv[1][0] == '!' && is_jk_module(argv[1] + 1);
	} else if (!strcasecmp(name, "Location")) {
		if (argc != 2)
			return cfail(c, "<Location> needs one path");
		if (c->location)
			return cfail(c, "<Location> cannot be nested");
		c->location = strdup(argv[1]);
		if (!c->location)
			return cfail(c, "out of memory");
	} else {
		return cfail(c, "unknown directive '<%s'", name);
	}
	c->n_sections++;
	if (s->skip)
		c->skipping = 1;
	return 0;
}

static int close_section(struct ctx *c, int argc, char *word)
{
	char *name = word + 2;
	size_t nl = strlen(name);
	if (argc != 1 || !nl || name[nl - 1] != '>')
		return cfail(c, "bad section end '%s'", word);
	name[nl - 1] = '\0';
	if (c->skipping > 1) {
		c->skipping--;
		return 0;
	}
	if (!c->n_sections || strcasecmp(c->sections[c->n_sections - 1].name, name))
		return cfail(c, "</%s> without matching <%s>", name, name);
	c->n_sections--;
	c->skipping = 0;
	if (!strcasecmp(name, "Location")) {
		free(c->location);
		c->location = NULL;
	}
	return 0;
}

static int handle_line(struct ctx *c, char *line)
{
	char *argv[MAX_ARGS];
	int argc = split_args(c, line, argv);
	if (argc <= 0)
		return argc;
	if (!strncmp(argv[0], "</", 2))
		return close_section(c, argc, argv[0]);
	if (argv[0][0] == '<')
		return open_section(c, argc, argv);
	if (c->skipping)
		return 0;
	const struct directive *d = find_directive(argv[0]);
	if (!d)
		return cfail(c, "unknown directive '%s'", argv[0]);
	if (argc - 1 < d->min_args || argc - 1 > d->max_args)
		return cfail(c, "%s takes %d to %d arguments", d->name, d->min_args, d->max_args);
	return d->fn(c, d, argc - 1, argv + 1);
}

static void rtrim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
}

/* One logical line: a trailing backslash joins the next physical line.
 * 1 when a line was read, 0 at end of file, -1 out of memory. */
static int read_logical(FILE *f, char **buf, size_t *cap, int *lineno)
{
	char *part = NULL;
	size_t pcap = 0, len = 0;
	bool any = false, more = true;
	while (more && getline(&part, &pcap, f) >= 0) {
		any = true;
		(*lineno)++;
		rtrim(part);
		size_t pl = strlen(part);
		more = pl && part[pl - 1] == '\\';
		if (more)
			part[--pl] = '\0';
		if (!*buf || len + pl + 1 > *cap) {
			char *nb = realloc(*buf, len + pl + 1);
			if (!nb) {
				free(part);
				return -1;
			}
			*buf = nb;
			*cap = len + pl + 1;
		}
		memcpy(*buf + len, part, pl + 1);
		len += pl;
	}
	free(part);
	return any;
}

static int parse_file(struct ctx *c, const char *path)
{
	const char *file = intern(c->cfg, path);
	if (!file)
		return cfail(c, "out of memory");
	FILE *f = fopen(file, "r");
	if (!f) {
		snprintf(c->err, c->errlen, "%s: cannot open: %s", file, strerror(errno));
		return -1;
	}
	int sections = c->n_sections, lineno = 0, rc = 0;
	char *buf = NULL;
	size_t cap = 0;
	bool warned = false;
	while (!rc) {
		c->file = file;
		c->line = lineno + 1;
		int got = read_logical(f, &buf, &cap, &lineno);
		if (got < 0)
			rc = cfail(c, "out of memory");
		if (got <= 0)
			break;
		if (xjk_props_nbsp_to_space(buf) && !warned) {
			xjk_warn("%s:%d: no-break spaces (U+00A0) are treated as spaces in this "
				 "file",
				 file, c->line);
			warned = true;
		}
		char *s = buf;
		while (*s == ' ' || *s == '\t')
			s++;
		/* httpd comments: '#' first on the line only. */
		if (*s && *s != '#')
			rc = handle_line(c, s);
	}
	free(buf);
	fclose(f);
	if (!rc && c->n_sections != sections) {
		c->file = file;
		c->line = lineno;
		rc = cfail(c, "<%s> is not closed in this file",
			   c->sections[c->n_sections - 1].name);
	}
	return rc;
}

/* ---- after the directives: workers, mounts ---- */

static void set_defaults(struct xjk_config *cfg)
{
	cfg->log_level = XJK_LOG_INFO;
	cfg->threads = 0;
	cfg->request_timeout_ms = 10000;
	cfg->keepalive_timeout_ms = 5000;
	cfg->max_header_size = 16384;
	cfg->max_headers = 100;
	cfg->drain_timeout_ms = 30000;
	xjk_membership_config_init(&cfg->membership);
}

static int main_paths(struct xjk_config *cfg, const char *path)
{
	cfg->main_file = strdup(path);
	char *copy = strdup(path);
	if (!cfg->main_file || !copy) {
		free(copy);
		return -1;
	}
	char real[PATH_MAX];
	const char *dir = dirname(copy);
	cfg->server_root = strdup(realpath(dir, real) ? real : dir);
	free(copy);
	return cfg->server_root ? 0 : -1;
}

static int load_workers(struct ctx *c)
{
	struct xjk_config *cfg = c->cfg;
	if (!cfg->workers_file && !c->props.n) {
		/* mod_jk's default when neither JkWorkersFile nor JkWorkerProperty is given. */
		if (asprintf(&cfg->workers_file, "%s/conf/workers.properties", cfg->server_root) <
		    0)
			return cfail(c, "out of memory");
	}
	if (cfg->workers_file) {
		const char *file = intern(cfg, cfg->workers_file);
		if (!file)
			return cfail(c, "out of memory");
		if (xjk_props_read_file(&c->props, file, c->err, c->errlen))
			return -1;
	}
	if (xjk_props_resolve_references(&c->props, c->err, c->errlen))
		return -1;
	return xjk_workers_load(&cfg->workers, &c->props, c->err, c->errlen);
}

/* worker.X.mount, for workers in worker.list. */
static int load_worker_mounts(struct ctx *c)
{
	const struct xjk_workers *w = &c->cfg->workers;
	for (int i = 0; i < w->n_list; i++) {
		const struct xjk_prop *m = xjk_props_worker(&c->props, w->list[i], "mount");
		if (!m)
			continue;
		int n, rc = 0;
		char **uris = xjk_props_split(m->value, &n);
		if (!uris)
			return cfail(c, "out of memory");
		for (int j = 0; !rc && j < n; j++)
			rc = xjk_urimap_add(c->cfg->urimap, uris[j], w->list[i],
					    XJK_MOUNT_WORKERDEF, m->file, m->line, c->err,
					    c->errlen);
		xjk_props_split_free(uris, n);
		if (rc)
			return -1;
	}
	return 0;
}

static int load_mount_file(struct ctx *c)
{
	struct xjk_props map;
	const char *file = intern(c->cfg, c->cfg->mount_file);
	if (!file)
		return cfail(c, "out of memory");
	xjk_props_init(&map, XJK_PROPS_PLAIN);
	int rc = xjk_props_read_file(&map, file, c->err, c->errlen);
	for (int i = 0; !rc && i < map.n; i++)
		rc = xjk_urimap_add(c->cfg->urimap, map.items[i].key, map.items[i].value,
				    XJK_MOUNT_URIMAP, map.items[i].file, map.items[i].line, c->err,
				    c->errlen);
	xjk_props_free(&map);
	return rc;
}

static int finish(struct ctx *c)
{
	if (!c->cfg->n_listens) {
		c->file = c->cfg->files[0];
		c->line = 0;
		if (add_listen(c, "0.0.0.0:80"))
			return -1;
	}
	c->file = c->cfg->files[0];
	c->line = 0;
	if (!c->cfg->admin_listen_given &&
	    parse_listen(c, XJK_DEFAULT_ADMIN_LISTEN, &c->cfg->admin_listen))
		return -1;
	if (!c->control_socket_given &&
	    set_string(c, &c->cfg->control_socket, strdup(XJK_DEFAULT_CONTROL_SOCKET)))
		return -1;
	if (load_workers(c) || load_worker_mounts(c) ||
	    xjk_health_config_check(&c->cfg->health, &c->cfg->workers, c->err, c->errlen) ||
	    xjk_membership_config_check(&c->cfg->membership, &c->cfg->workers, c->err, c->errlen))
		return -1;
	if (c->cfg->mount_file && load_mount_file(c))
		return -1;
	return xjk_urimap_resolve(c->cfg->urimap, &c->cfg->workers, c->err, c->errlen);
}

int xjk_config_load(const char *path, struct xjk_config *cfg, char *err, size_t errlen)
{
	struct ctx c = {.cfg = cfg, .err = err, .errlen = errlen, .file = path};
	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
	xjk_props_init(&c.props, XJK_PROPS_WORKERS);
	cfg->urimap = xjk_urimap_new();
	int rc = !cfg->urimap || main_paths(cfg, path) ? cfail(&c, "out of memory") : 0;
	if (!rc)
		rc = parse_file(&c, path);
	if (!rc)
		rc = finish(&c);
	xjk_props_free(&c.props);
	free(c.location);
	if (rc)
		xjk_config_free(cfg);
	return rc;
}

void xjk_config_free(struct xjk_config *cfg)
{
	free(cfg->main_file);
	free(cfg->server_root);
	free(cfg->listens);
	free(cfg->workers_file);
	free(cfg->mount_file);
	xjk_workers_free(&cfg->workers);
	xjk_urimap_free(cfg->urimap);
	xjk_health_config_free(&cfg->health);
	xjk_membership_config_free(&cfg->membership);
	free(cfg->log_file);
	free(cfg->access_log);
	free(cfg->pid_file);
	xjk_l4_config_free(&cfg->l4);
	free(cfg->bpf_dir);
	free(cfg->admin_token);
	free(cfg->control_socket);
	free(cfg->user);
	for (int i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	free(cfg->files);
	memset(cfg, 0, sizeof(*cfg));
}
