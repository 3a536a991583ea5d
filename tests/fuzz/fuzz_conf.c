/* fuzz_conf.c: libFuzzer harness of the xjk.conf loader (agent/conf.c and
 * the directive parsers it dispatches to: listeners, JkMount, health checks,
 * membership, XjkL4Vip, admin). The input is the main file; whatever it
 * includes or names comes from the file system as it would for xjkd -t.
 * Checked: a loaded configuration has listeners and no stray pointers
 * (ASan), the -t summary renders, and a load leaks nothing. */
#include <stdio.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xjk_config cfg;
	char err[1024];

	if (!xjk_config_load(xjk_fuzz_file(".conf", data, size), &cfg, err, sizeof(err))) {
		FUZZ_ASSERT(cfg.n_listens > 0);
		FILE *out = fopen("/dev/null", "w");

		if (!out)
			abort();
		xjk_config_print_summary(&cfg, out);
		fclose(out);
		xjk_config_free(&cfg);
	}
	return 0;
}
