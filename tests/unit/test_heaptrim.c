/* test_heaptrim.c: when heaptrim gives memory back (never below
 * XJK_HEAPTRIM_MIN connections, each time three quarters of the peak have
 * gone), and that freed connection memory held between live allocations
 * really leaves the resident set. The counts live on between cases (they are
 * the thread's): every case closes all it opens and ends with a peak below
 * the minimum, where a case that opens more starts afresh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "heaptrim.h"

/* Opens N connections, closes them all; returns how many closes trimmed and
 * stores the 1-based index of the first that did in *FIRST (0: none). */
static int surge(int n, int *first)
{
	int trims = 0;
	*first = 0;
	for (int i = 0; i < n; i++)
		xjk_heaptrim_open();
	for (int i = 1; i <= n; i++) {
		if (xjk_heaptrim_close()) {
			trims++;
			if (!*first)
				*first = i;
		}
	}
	return trims;
}

static void test_few_connections(void **state)
{
	(void)state;
	int first;
	assert_int_equal(surge(XJK_HEAPTRIM_MIN - 1, &first), 0);
	assert_int_equal(surge(XJK_HEAPTRIM_MIN - 1, &first), 0);
}

static void test_quarter_of_peak(void **state)
{
	(void)state;
	int first;
	/* 100 open: the trim comes when 25 are left (the 75th close); the peak
	 * is then 25, below the minimum, so no second one. */
	assert_int_equal(surge(100, &first), 1);
	assert_int_equal(first, 75);
}

static void test_geometric(void **state)
{
	(void)state;
	int first;
	/* 10000 -> 2500 -> 625 -> 156 -> 39 -> 9: five trims, then the peak
	 * (9) is below the minimum. */
	assert_int_equal(surge(10000, &first), 5);
	assert_int_equal(first, 7500);
}

static void test_peak_follows_growth(void **state)
{
	(void)state;
	int first;
	/* 40 open, 20 close (no trim), 60 more open: the peak is 80 and the
	 * trim waits until 20 are left. */
	for (int i = 0; i < 40; i++)
		xjk_heaptrim_open();
	for (int i = 0; i < 20; i++)
		assert_false(xjk_heaptrim_close());
	assert_int_equal(surge(60, &first), 1);
	assert_int_equal(first, 60); /* 80 - 60 = 20 left */
	for (int i = 0; i < 20; i++)
		assert_false(xjk_heaptrim_close());
}

static long rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &pages, &rss), 2);
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

#define BLOCKS 2000
#define BLOCK  (16 * 1024)

/* Connection buffers with a small live allocation after each, as the
 * connections that stay open leave between the freed ones: glibc's own trim
 * of the heap's top cannot return them, only malloc_trim can. */
static void test_pages_return(void **state)
{
	(void)state;
#ifdef __SANITIZE_ADDRESS__
	/* ASan's allocator (quarantine, no glibc arenas) decides alone when
	 * pages go back; there is nothing of glibc's to test. */
	skip();
#endif
	static char *block[BLOCKS], *pin[BLOCKS];
	long before = rss_kb();
	for (int i = 0; i < BLOCKS; i++) {
		block[i] = malloc(BLOCK);
		pin[i] = malloc(64);
		assert_non_null(block[i]);
		assert_non_null(pin[i]);
		memset(block[i], 1, BLOCK);
		xjk_heaptrim_open();
	}
	long peak = rss_kb();
	assert_true(peak - before >= BLOCKS * (BLOCK / 1024) * 9 / 10);
	for (int i = 0; i < BLOCKS; i++) {
		free(block[i]);
		xjk_heaptrim_close();
	}
	long after = rss_kb();
	print_message("rss: %ld kB before, %ld kB with the blocks, %ld kB after\n", before, peak,
		      after);
	/* Without a trim all of it stays. With one, the page of each pin and
	 * the partly used page before it stay: half at most. */
	assert_true(after - before <= (peak - before) / 2);
	for (int i = 0; i < BLOCKS; i++)
		free(pin[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_few_connections), cmocka_unit_test(test_quarter_of_peak),
		cmocka_unit_test(test_geometric),	cmocka_unit_test(test_peak_follows_growth),
		cmocka_unit_test(test_pages_return),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
