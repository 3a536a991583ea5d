/* fuzz.h: helpers shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c). */
#ifndef XJK_FUZZ_H
#define XJK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* libFuzzer's entry points, declared so -Wmissing-prototypes stays quiet. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A harness-checked property failed: abort so libFuzzer keeps the input. */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			xjk_fuzz_fail(__FILE__, __LINE__, #cond);                                  \
	} while (0)

void xjk_fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* A harness that needs one-time state defines this; fuzz_common.c's
 * LLVMFuzzerInitialize quiets the log (parsers warn on every odd input) and
 * then calls it. */
void xjk_fuzz_setup(void) __attribute__((weak));

/* Copies data into a fresh NUL-terminated heap string; the caller frees it. */
char *xjk_fuzz_strdup(const uint8_t *data, size_t size);

/* Writes data to a per-process file and returns its path (static storage). */
const char *xjk_fuzz_file(const char *suffix, const uint8_t *data, size_t size);

#endif
