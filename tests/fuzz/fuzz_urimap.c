/* fuzz_urimap.c: libFuzzer harness of the URI map (agent/urimap.c): an
 * uriworkermap.properties file read and added as conf.c does (JkMountFile),
 * resolved against a fixed worker set, then every key of the file also
 * normalised and matched as if it were a request path. Checked: normalised
 * paths start with '/' and hold no "//", "/./" or "/../"; a winning rule is a
 * rule of the map and not an exclusion. */
#include <string.h>

#include "fuzz.h"
#include "props.h"
#include "urimap.h"
#include "workers.h"

static struct xjk_workers workers;

static void check_normalized(const char *path)
{
	FUZZ_ASSERT(path[0] == '/');
	FUZZ_ASSERT(!strstr(path, "//") && !strstr(path, "/./") && !strstr(path, "/../"));
}

static void match_all(const struct xjk_urimap *m, const struct xjk_props *map)
{
	for (int i = 0; i < map->n; i++) {
		char *path = strdup(map->items[i].key);

		if (!path)
			abort();
		if (!xjk_uri_normalize(path)) {
			check_normalized(path);
			const struct xjk_mount *r = xjk_urimap_match(m, path);

			FUZZ_ASSERT(!r || (r >= m->rules && r < m->rules + m->n && !r->exclude));
		}
		(void)xjk_urimap_wildcard_match(map->items[i].key, map->items[i].value);
		free(path);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xjk_props map;
	struct xjk_urimap *m = xjk_urimap_new();
	char err[512];
	int rc;

	xjk_props_init(&map, XJK_PROPS_PLAIN);
	rc = xjk_props_read_file(&map, xjk_fuzz_file(".map", data, size), err, sizeof(err));
	for (int i = 0; !rc && i < map.n; i++)
		rc = xjk_urimap_add(m, map.items[i].key, map.items[i].value, XJK_MOUNT_URIMAP,
				    map.items[i].file, map.items[i].line, err, sizeof(err));
	if (!rc && !xjk_urimap_resolve(m, &workers, err, sizeof(err)))
		match_all(m, &map);
	xjk_urimap_free(m);
	xjk_props_free(&map);
	return 0;
}

/* The worker names the seed corpus mounts: two ajp13, an lb of two, a status. */
void xjk_fuzz_setup(void)
{
	static const char *const lines[] = {
		"worker.list=a,b,lb,jk",
		"worker.a.port=8009",
		"worker.b.port=8010",
		"worker.m1.port=8011",
		"worker.m2.port=8012",
		"worker.lb.type=lb",
		"worker.lb.balance_workers=m1,m2",
		"worker.jk.type=status",
	};
	struct xjk_props p;
	char err[512];

	xjk_props_init(&p, XJK_PROPS_WORKERS);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (xjk_props_add_line(&p, lines[i], "fuzz", (int)i + 1, err, sizeof(err)))
			abort();
	if (xjk_props_resolve_references(&p, err, sizeof(err)) ||
	    xjk_workers_load(&workers, &p, err, sizeof(err)))
		abort();
	xjk_props_free(&p);
}
