/* test_splice_log.c: unit tests of the access log line of a spliced
 * connection (agent/splice_log.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "splice_log.h"

#define TIME "25/Nov/2026:12:00:00 +0000"

static struct xjk_splice_log_entry entry(const char *request)
{
	return (struct xjk_splice_log_entry){
		.peer_ip = "10.0.0.9",
		.request = request,
		.request_len = strlen(request),
		.worker = "t1",
		.to_backend = 78,
		.to_client = 104857900,
		.ms = 1234,
	};
}

static void test_fields(void **state)
{
	(void)state;
	struct xjk_splice_log_entry e = entry("GET /big.do?bytes=1 HTTP/1.1");
	char buf[512];
	int n = xjk_splice_log_format(buf, sizeof(buf), &e, TIME);

	assert_string_equal(buf, "10.0.0.9 - - [" TIME "] \"GET /big.do?bytes=1 HTTP/1.1\" - "
				 "104857900 \"-\" \"-\" t1 1234 splice to_backend=78\n");
	assert_int_equal(n, (int)strlen(buf));
}

/* Only the request line's own bytes count, and none may split the line. */
static void test_request_sanitized(void **state)
{
	(void)state;
	struct xjk_splice_log_entry e = entry("GET /a\"b\tc HTTP/1.1\r\nHost: x");
	char buf[512];

	e.request_len = strlen("GET /a\"b\tc HTTP/1.1");
	assert_true(xjk_splice_log_format(buf, sizeof(buf), &e, TIME) > 0);
	assert_non_null(strstr(buf, "\"GET /a?b?c HTTP/1.1\" - "));
	assert_null(strchr(buf, '\r'));
	assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

static void test_long_request_cut(void **state)
{
	(void)state;
	char target[2000];
	memset(target, 'a', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	struct xjk_splice_log_entry e = entry(target);
	char buf[2048];

	assert_true(xjk_splice_log_format(buf, sizeof(buf), &e, TIME) > 0);
	assert_true(strlen(buf) < 1024);
	assert_non_null(strstr(buf, "\" - 104857900 "));
}

static void test_too_small(void **state)
{
	(void)state;
	struct xjk_splice_log_entry e = entry("GET / HTTP/1.1");
	char buf[40];

	assert_int_equal(xjk_splice_log_format(buf, sizeof(buf), &e, TIME), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_request_sanitized),
		cmocka_unit_test(test_long_request_cut),
		cmocka_unit_test(test_too_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
