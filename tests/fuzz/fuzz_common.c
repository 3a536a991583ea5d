/* fuzz_common.c: support linked into every harness: start-up (a quiet log),
 * assertions, scratch files, and a getaddrinfo that never leaves the machine (a worker's
 * host comes straight from the fuzzer input, and a DNS lookup per input
 * would make the run a resolver benchmark). */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"

void xjk_fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xjk_log_set_level(XJK_LOG_EMERG);
	if (xjk_fuzz_setup)
		xjk_fuzz_setup();
	return 0;
}

char *xjk_fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

const char *xjk_fuzz_file(const char *suffix, const uint8_t *data, size_t size)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/xjk-fuzz-%d%s", (int)getpid(), suffix);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	return path;
}

int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res);

/* Linked with -Wl,--wrap=getaddrinfo: numeric hosts and /etc/hosts only. */
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	struct addrinfo h = hints ? *hints : (struct addrinfo){0};

	if (node && strcmp(node, "localhost"))
		h.ai_flags |= AI_NUMERICHOST;
	return __real_getaddrinfo(node, service, &h, res);
}
