/* cfg_fixture.h: helpers for the configuration unit tests (test_props,
 * test_workers, test_urimap, test_conf): scratch files and log capture. */
#ifndef XJK_CFG_FIXTURE_H
#define XJK_CFG_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "props.h"
#include "workers.h"

static char fx_dir[64];
static char fx_log[96];

static inline int fx_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A fresh scratch directory, with the error log captured in it. */
static inline int fx_setup(void **state)
{
	(void)state;
	snprintf(fx_dir, sizeof(fx_dir), "/tmp/xjk-cfg-XXXXXX");
	if (!mkdtemp(fx_dir))
		return -1;
	snprintf(fx_log, sizeof(fx_log), "%s/log", fx_dir);
	xjk_log_set_level(XJK_LOG_INFO);
	return xjk_log_open(fx_log);
}

static inline int fx_teardown(void **state)
{
	(void)state;
	xjk_log_open(NULL);
	return nftw(fx_dir, fx_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* Writes fx_dir/name (creating subdirectories); returns a static path. */
static inline const char *fx_write(const char *name, const char *text)
{
	static char path[4][256];
	static int slot;
	char *p = path[slot++ % 4];
	snprintf(p, 256, "%s/%s", fx_dir, name);
	for (char *s = strchr(p + strlen(fx_dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	FILE *f = fopen(p, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return p;
}

/* Whether the captured log contains needle. */
static inline int fx_logged(const char *needle)
{
	FILE *f = fopen(fx_log, "r");
	char buf[65536];
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* Properties from text, one line per line, as if read from file "t". */
static inline int fx_props(struct xjk_props *p, const char *text, char *err, size_t errlen)
{
	xjk_props_init(p, XJK_PROPS_WORKERS);
	const char *path = fx_write("t.properties", text);
	if (!path || xjk_props_read_file(p, path, err, errlen))
		return -1;
	return xjk_props_resolve_references(p, err, errlen);
}

/* Workers built from workers.properties text. */
static inline int fx_workers(struct xjk_workers *w, const char *text, char *err, size_t errlen)
{
	struct xjk_props p;
	int rc = fx_props(&p, text, err, errlen);
	if (!rc)
		rc = xjk_workers_load(w, &p, err, errlen);
	xjk_props_free(&p);
	return rc;
}

#endif
