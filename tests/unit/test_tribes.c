/* test_tribes.c: the beacon parser against byte vectors of both wire formats,
 * truncations, lying length fields and the shutdown command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tribes.h"

/* Captured from Tomcat 10.1.60: Receiver 127.0.0.1:4000, domain "dom-A", alive 1012 ms. */
static const uint8_t tc10_beacon[] = {
	0x54, 0x52, 0x49, 0x42, 0x45, 0x53, 0x2d, 0x42, 0x01, 0x00, 0x00, 0x00, 0x00, 0x3a,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xf4, 0x00, 0x00, 0x0f, 0xa0, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x04, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x05, 0x64, 0x6f, 0x6d, 0x2d, 0x41, 0xbb, 0x35, 0x44, 0x4f,
	0x31, 0x69, 0x40, 0x5b, 0x87, 0x7f, 0x02, 0x96, 0x3e, 0x8d, 0xcf, 0x64, 0x00, 0x00,
	0x00, 0x00, 0x54, 0x52, 0x49, 0x42, 0x45, 0x53, 0x2d, 0x45, 0x01, 0x00,
};

/* Tomcat 6 layout, written out by hand from the tc6.0.x MemberImpl field
 * order: 8-byte markers, no UDP port. Receiver 10.0.0.1:4000, alive 500 ms. */
static const uint8_t tc6_beacon[] = {
	'T',  'R',  'I',  'B',	'E',  'S',  '-',  'B',	0x00, 0x00, 0x00, 0x31, /* body 49 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xf4,				/* alive */
	0x00, 0x00, 0x0f, 0xa0, 0xff, 0xff, 0xff, 0xff, /* port, secure port */
	0x04, 0x0a, 0x00, 0x00, 0x01,			/* host */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* command, domain */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x00, 0x00, 0x00, 0x00, /* uid, payload */
	'T',  'R',  'I',  'B',	'E',  'S',  '-',  'E',
};

/* Offsets in tc10_beacon of the length fields a liar would tamper with. */
#define OFF_BODY    10
#define OFF_HOSTLEN 34
#define OFF_CMDLEN  39
#define OFF_DOMLEN  43
#define OFF_PAYLEN  68

static void put_i32(uint8_t *p, int32_t v)
{
	p[0] = (uint8_t)((uint32_t)v >> 24);
	p[1] = (uint8_t)((uint32_t)v >> 16);
	p[2] = (uint8_t)((uint32_t)v >> 8);
	p[3] = (uint8_t)v;
}

/* Parses a heap copy of exactly LEN bytes, so valgrind sees any overread;
 * the pointers in B dangle afterwards. */
static enum xjk_tribes_status parse_copy(const uint8_t *src, size_t len,
					 struct xjk_tribes_beacon *b)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, src, len);
	enum xjk_tribes_status st = xjk_tribes_parse(copy, len, b);
	free(copy);
	return st;
}

static void test_current_format(void **state)
{
	(void)state;
	struct xjk_tribes_beacon b;
	assert_int_equal(xjk_tribes_parse(tc10_beacon, sizeof(tc10_beacon), &b), XJK_TRIBES_OK);
	assert_int_equal(b.format, XJK_TRIBES_CURRENT);
	assert_int_equal(b.alive_ms, 1012);
	assert_int_equal(b.port, 4000);
	assert_int_equal(b.secure_port, -1);
	assert_int_equal(b.udp_port, -1);
	assert_int_equal(b.host_len, 4);
	assert_memory_equal(b.host, "\x7f\x00\x00\x01", 4);
	assert_int_equal(b.command_len, 0);
	assert_int_equal(b.domain_len, 5);
	assert_memory_equal(b.domain, "dom-A", 5);
	assert_int_equal(b.payload_len, 0);
	assert_false(xjk_tribes_is_shutdown(&b));

	char uid[33], addr[XJK_TRIBES_ADDR_STRLEN];
	xjk_tribes_uid_str(b.uid, uid);
	assert_string_equal(uid, "bb35444f3169405b877f02963e8dcf64");
	xjk_tribes_addr_str(b.host, b.host_len, b.port, addr, sizeof(addr));
	assert_string_equal(addr, "127.0.0.1:4000");
}

static void test_tomcat6_format(void **state)
{
	(void)state;
	struct xjk_tribes_beacon b;
	assert_int_equal(parse_copy(tc6_beacon, sizeof(tc6_beacon), &b), XJK_TRIBES_OK);
	assert_int_equal(b.format, XJK_TRIBES_TC6);
	assert_string_equal(xjk_tribes_format_name(b.format), "tomcat6");
	assert_int_equal(b.alive_ms, 500);
	assert_int_equal(b.port, 4000);
	assert_int_equal(b.secure_port, -1);
	assert_int_equal(b.udp_port, -1);
	assert_memory_equal(b.host, "\x0a\x00\x00\x01", 4);
	assert_int_equal(b.domain_len, 0);
	for (int i = 0; i < XJK_TRIBES_UID_LEN; i++)
		assert_int_equal(b.uid[i], i);
}

/* A Tomcat 6 beacon is not a current one with a missing field: a current
 * parser must not accept its bytes, and vice versa (they differ in markers). */
static void test_formats_do_not_mix(void **state)
{
	(void)state;
	struct xjk_tribes_beacon b;
	uint8_t buf[sizeof(tc10_beacon)];

	/* current body and end marker behind a Tomcat 6 begin marker */
	memcpy(buf, tc10_beacon, sizeof(buf));
	buf[8] = 0;
	assert_int_equal(parse_copy(buf, sizeof(buf), &b), XJK_TRIBES_MALFORMED);

	/* Tomcat 6 beacon whose end marker carries version bytes */
	uint8_t tc6[sizeof(tc6_beacon) + 2];
	memcpy(tc6, tc6_beacon, sizeof(tc6_beacon));
	tc6[sizeof(tc6_beacon)] = 1;
	tc6[sizeof(tc6_beacon) + 1] = 0;
	assert_int_equal(parse_copy(tc6, sizeof(tc6), &b), XJK_TRIBES_OK);
	assert_int_equal(b.format, XJK_TRIBES_TC6);
}

static void test_shutdown(void **state)
{
	(void)state;
	/* The 82-byte beacon with command "BABY-ALEX" (9 bytes) instead of none. */
	uint8_t buf[sizeof(tc10_beacon) + 9];
	memcpy(buf, tc10_beacon, OFF_CMDLEN);
	put_i32(buf + OFF_CMDLEN, 9);
	memcpy(buf + OFF_CMDLEN + 4, "BABY-ALEX", 9);
	memcpy(buf + OFF_CMDLEN + 13, tc10_beacon + OFF_CMDLEN + 4,
	       sizeof(tc10_beacon) - OFF_CMDLEN - 4);
	put_i32(buf + OFF_BODY, 58 + 9);

	struct xjk_tribes_beacon b;
	assert_int_equal(xjk_tribes_parse(buf, sizeof(buf), &b), XJK_TRIBES_OK);
	assert_true(xjk_tribes_is_shutdown(&b));
	assert_int_equal(b.domain_len, 5);
	assert_memory_equal(b.domain, "dom-A", 5);

	/* another command of the same length is not a shutdown */
	buf[OFF_CMDLEN + 4] = 'C';
	assert_int_equal(xjk_tribes_parse(buf, sizeof(buf), &b), XJK_TRIBES_OK);
	assert_false(xjk_tribes_is_shutdown(&b));
}

static void test_truncated(void **state)
{
	(void)state;
	struct xjk_tribes_beacon b;
	for (size_t len = 0; len < sizeof(tc10_beacon); len++) {
		enum xjk_tribes_status want = len < 8 ? XJK_TRIBES_OTHER : XJK_TRIBES_MALFORMED;
		assert_int_equal(parse_copy(tc10_beacon, len, &b), want);
	}
	for (size_t len = 8; len < sizeof(tc6_beacon); len++)
		assert_int_equal(parse_copy(tc6_beacon, len, &b), XJK_TRIBES_MALFORMED);
}

static void test_trailing_bytes_ignored(void **state)
{
	(void)state;
	uint8_t buf[sizeof(tc10_beacon) + 3];
	memcpy(buf, tc10_beacon, sizeof(tc10_beacon));
	memcpy(buf + sizeof(tc10_beacon), "xyz", 3);
	struct xjk_tribes_beacon b;
	assert_int_equal(parse_copy(buf, sizeof(buf), &b), XJK_TRIBES_OK);
	assert_int_equal(b.port, 4000);
}

/* Sets the int32 at OFF to V in a copy of the 82-byte beacon and parses it. */
static enum xjk_tribes_status parse_with_i32(size_t off, int32_t v)
{
	uint8_t buf[sizeof(tc10_beacon)];
	memcpy(buf, tc10_beacon, sizeof(buf));
	put_i32(buf + off, v);
	struct xjk_tribes_beacon b;
	return parse_copy(buf, sizeof(buf), &b);
}

static void test_lying_lengths(void **state)
{
	(void)state;
	const size_t fields[] = {OFF_BODY, OFF_CMDLEN, OFF_DOMLEN, OFF_PAYLEN};
	const int32_t lies[] = {-1, INT32_MIN, INT32_MAX, 65535, 1000};
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		for (size_t l = 0; l < sizeof(lies) / sizeof(lies[0]); l++)
			assert_int_equal(parse_with_i32(fields[f], lies[l]), XJK_TRIBES_MALFORMED);

	/* Off by one either way: the end marker is no longer where the body ends. */
	assert_int_equal(parse_with_i32(OFF_BODY, 57), XJK_TRIBES_MALFORMED);
	assert_int_equal(parse_with_i32(OFF_BODY, 59), XJK_TRIBES_MALFORMED);
	/* Domain one shorter: the fields no longer fill the body exactly. */
	assert_int_equal(parse_with_i32(OFF_DOMLEN, 4), XJK_TRIBES_MALFORMED);
	assert_int_equal(parse_with_i32(OFF_DOMLEN, 6), XJK_TRIBES_MALFORMED);
	/* The untouched value still parses, so the failures above are the lies. */
	assert_int_equal(parse_with_i32(OFF_DOMLEN, 5), XJK_TRIBES_OK);
}

static void test_bad_host_and_port(void **state)
{
	(void)state;
	struct xjk_tribes_beacon b;
	uint8_t buf[sizeof(tc10_beacon)];

	memcpy(buf, tc10_beacon, sizeof(buf));
	buf[OFF_HOSTLEN] = 0xff; /* a negative Java byte, and past the body */
	assert_int_equal(parse_copy(buf, sizeof(buf), &b), XJK_TRIBES_MALFORMED);

	assert_int_equal(parse_with_i32(22, 0), XJK_TRIBES_MALFORMED);
	assert_int_equal(parse_with_i32(22, 65536), XJK_TRIBES_MALFORMED);
	assert_int_equal(parse_with_i32(22, 65535), XJK_TRIBES_OK);

	memcpy(buf, tc10_beacon, sizeof(buf));
	buf[sizeof(buf) - 3] = 'X'; /* end marker */
	assert_int_equal(parse_copy(buf, sizeof(buf), &b), XJK_TRIBES_MALFORMED);
}

static void test_ipv6_host(void **state)
{
	(void)state;
	/* The 82-byte beacon with a 16-byte host ::1 instead of 127.0.0.1. */
	uint8_t buf[sizeof(tc10_beacon) + 12];
	memcpy(buf, tc10_beacon, OFF_HOSTLEN);
	buf[OFF_HOSTLEN] = 16;
	memset(buf + OFF_HOSTLEN + 1, 0, 16);
	buf[OFF_HOSTLEN + 16] = 1;
	memcpy(buf + OFF_HOSTLEN + 17, tc10_beacon + OFF_HOSTLEN + 5,
	       sizeof(tc10_beacon) - OFF_HOSTLEN - 5);
	put_i32(buf + OFF_BODY, 58 + 12);

	struct xjk_tribes_beacon b;
	assert_int_equal(xjk_tribes_parse(buf, sizeof(buf), &b), XJK_TRIBES_OK);
	assert_int_equal(b.host_len, 16);
	char addr[XJK_TRIBES_ADDR_STRLEN];
	xjk_tribes_addr_str(b.host, b.host_len, b.port, addr, sizeof(addr));
	assert_string_equal(addr, "[::1]:4000");
	assert_memory_equal(b.domain, "dom-A", 5);
}

static void test_not_a_beacon(void **state)
{
	(void)state;
	struct xjk_tribes_beacon b;
	/* a Tribes channel broadcast on the same group starts with FLT2002 */
	static const char flt[] = "FLT2002\0\0\0\x03\x06\x02\x03TLF2003";
	assert_int_equal(xjk_tribes_parse(flt, sizeof(flt) - 1, &b), XJK_TRIBES_OTHER);
	assert_int_equal(xjk_tribes_parse("TRIBES-E", 8, &b), XJK_TRIBES_OTHER);
	assert_int_equal(xjk_tribes_parse("", 0, &b), XJK_TRIBES_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_current_format),
		cmocka_unit_test(test_tomcat6_format),
		cmocka_unit_test(test_formats_do_not_mix),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing_bytes_ignored),
		cmocka_unit_test(test_lying_lengths),
		cmocka_unit_test(test_bad_host_and_port),
		cmocka_unit_test(test_ipv6_host),
		cmocka_unit_test(test_not_a_beacon),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
