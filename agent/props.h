/* props.h: workers.properties / uriworkermap.properties reader with mod_jk's
 * jk_map rules (comments, trimming, duplicates, $(var), reference inheritance).
 *
 * A property set owns its keys and values; the file names it records are
 * borrowed and must outlive it (conf.c keeps them in xjk_config.files). */
#ifndef XJK_PROPS_H
#define XJK_PROPS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define XJK_PROPS_LINE_MAX 8192 /* mod_jk's LENGTH_OF_LINE */

enum xjk_props_mode {
	/* workers.properties and JkWorkerProperty: worker.* keys are validated,
	 * list properties concatenate, unique ones are replaced with a warning. */
	XJK_PROPS_WORKERS,
	/* uriworkermap.properties: a repeated key replaces the old value (warning). */
	XJK_PROPS_PLAIN,
};

struct xjk_prop {
	char *key;
	char *value;
	const char *file; /* borrowed */
	int line;
};

struct xjk_props {
	struct xjk_prop *items; /* in order of first definition */
	int n;
	int cap;
	enum xjk_props_mode mode;
};

void xjk_props_init(struct xjk_props *p, enum xjk_props_mode mode);
void xjk_props_free(struct xjk_props *p);

/* Adds one "key = value" line (no comment stripping: JkWorkerProperty keeps '#').
 * Lines without '=' or with an empty key or value are ignored. Returns 0, or -1
 * with "FILE:LINE: message" in err. */
int xjk_props_add_line(struct xjk_props *p, const char *line, const char *file, int lineno,
		       char *err, size_t errlen);
/* Reads a properties file; FILE is recorded in every property it defines. */
int xjk_props_read_file(struct xjk_props *p, const char *file, char *err, size_t errlen);
/* Applies worker.X.reference=worker.Y inheritance (recursive, depth 20). */
int xjk_props_resolve_references(struct xjk_props *p, char *err, size_t errlen);

const struct xjk_prop *xjk_props_get(const struct xjk_props *p, const char *key);
/* worker.<name>.<attr>; NULL when unset. */
const struct xjk_prop *xjk_props_worker(const struct xjk_props *p, const char *name,
					const char *attr);

/* mod_jk value rules. A NULL prop yields def. Integers accept k/K (1024) and
 * m/M (1048576) suffixes; unparsable numbers warn and yield def. Booleans:
 * on/t/y/1 true, off/f/n/0 false, anything else def. */
long xjk_props_int(const struct xjk_prop *prop, long def);
bool xjk_props_bool(const struct xjk_prop *prop, bool def);
/* Same rules on a bare string (uriworkermap extensions, directives). */
int xjk_props_parse_int(const char *s, long *out);
/* Splits a mod_jk list value at spaces, tabs and commas. Returns an owned array
 * of owned strings (free with xjk_props_split_free), or NULL when out of memory. */
char **xjk_props_split(const char *s, int *n);
void xjk_props_split_free(char **v, int n);
/* Writes "FILE:LINE: message" into err (the form every configuration error
 * takes) and returns -1. */
int xjk_props_vfail(char *err, size_t errlen, const char *file, int line, const char *fmt,
		    va_list ap) __attribute__((format(printf, 5, 0)));

/* Turns each UTF-8 no-break space (U+00A0) into two ASCII spaces, in place, so
 * configurations pasted from web pages parse; returns how many were replaced. */
int xjk_props_nbsp_to_space(char *s);
bool xjk_props_parse_bool(const char *s, bool def);

#endif
