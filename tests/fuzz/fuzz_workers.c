/* fuzz_workers.c: libFuzzer harness of the workers.properties reader and the
 * worker model builder (agent/props.c, agent/workers.c), the way conf.c loads
 * JkWorkersFile: read the file, resolve worker.X.reference, build workers.
 * Checked: a built model is consistent (lb members index real backends, lists
 * name instantiated workers) and everything is freed (LeakSanitizer). */
#include <string.h>

#include "fuzz.h"
#include "props.h"
#include "workers.h"

static void check_model(const struct xjk_workers *w)
{
	struct xjk_worker_ref ref;

	for (int i = 0; i < w->n_lbs; i++)
		for (int j = 0; j < w->lbs[i].n_members; j++)
			FUZZ_ASSERT(w->lbs[i].members[j] >= 0 &&
				    w->lbs[i].members[j] < w->n_backends);
	for (int i = 0; i < w->n_list; i++) {
		FUZZ_ASSERT(xjk_workers_find(w, w->list[i], &ref) == 0);
		FUZZ_ASSERT(xjk_workers_listed(w, w->list[i]));
		FUZZ_ASSERT(!strcmp(xjk_workers_ref_name(w, ref), w->list[i]));
	}
	for (int i = 0; i < w->n_backends; i++) {
		FUZZ_ASSERT(memchr(w->backends[i].name, '\0', sizeof(w->backends[i].name)));
		FUZZ_ASSERT(memchr(w->backends[i].route, '\0', sizeof(w->backends[i].route)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xjk_props p;
	struct xjk_workers w;
	char err[512];
	const char *file = xjk_fuzz_file(".properties", data, size);

	xjk_props_init(&p, XJK_PROPS_WORKERS);
	if (!xjk_props_read_file(&p, file, err, sizeof(err)) &&
	    !xjk_props_resolve_references(&p, err, sizeof(err))) {
		memset(&w, 0, sizeof(w));
		if (!xjk_workers_load(&w, &p, err, sizeof(err))) {
			check_model(&w);
			xjk_workers_free(&w);
		}
	}
	FUZZ_ASSERT(memchr(err, '\0', sizeof(err)));
	xjk_props_free(&p);
	return 0;
}
