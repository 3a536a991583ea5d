/* test_ajp.c: the AJP13 codec against byte vectors written by hand from the
 * layouts in modjk-ajp13.md §1: FORWARD_REQUEST shapes, body packets, every
 * container message, and malformed or truncated input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ajp.h"

#define S(lit) ((struct xjk_str){lit, sizeof(lit) - 1})
#define H(n, v)                                                                                    \
	{                                                                                          \
		S(n), S(v)                                                                         \
	}
#define VEC(lit) (const uint8_t *)(lit), sizeof(lit) - 1

/* Tail common to the requests below: AJP_REMOTE_PORT 54321, AJP_LOCAL_ADDR
 * 10.0.0.9, JK_LB_ACTIVATION ACT, end of attributes. */
#define TAIL_ATTRS                                                                                 \
	"\x0A\x00\x0F"                                                                             \
	"AJP_REMOTE_PORT\0"                                                                        \
	"\x00\x05"                                                                                 \
	"54321\0"                                                                                  \
	"\x0A\x00\x0E"                                                                             \
	"AJP_LOCAL_ADDR\0"                                                                         \
	"\x00\x08"                                                                                 \
	"10.0.0.9\0"                                                                               \
	"\x0A\x00\x10"                                                                             \
	"JK_LB_ACTIVATION\0"                                                                       \
	"\x00\x03"                                                                                 \
	"ACT\0"                                                                                    \
	"\xFF"

/* Fixed fields after the method code: protocol HTTP/1.1, then (after the
 * URI) remote_addr and remote_host 10.0.0.1, server "web", port 80, no SSL. */
#define PROTO "\x00\x08HTTP/1.1\0"
#define ADDRS                                                                                      \
	"\x00\x08"                                                                                 \
	"10.0.0.1\0"                                                                               \
	"\x00\x08"                                                                                 \
	"10.0.0.1\0"                                                                               \
	"\x00\x03"                                                                                 \
	"web\0"                                                                                    \
	"\x00\x50"                                                                                 \
	"\x00"

static struct xjk_ajp_request base_request(void)
{
	return (struct xjk_ajp_request){
		.method_code = 2,
		.protocol = S("HTTP/1.1"),
		.uri = S("/app/index.jsp"),
		.remote_addr = S("10.0.0.1"),
		.remote_host = S("10.0.0.1"),
		.remote_port = 54321,
		.server_name = S("web"),
		.server_port = 80,
		.local_addr = S("10.0.0.9"),
		.activation = XJK_ACTIVE,
	};
}

/* Encodes into a buffer of exactly max_packet bytes (heap, so that ASan or
 * valgrind see any write past it) and compares with the expected packet. */
static void check_encode(const struct xjk_ajp_request *req, size_t max_packet, const uint8_t *want,
			 size_t want_len)
{
	uint8_t *buf = malloc(max_packet);
	assert_non_null(buf);
	int n = xjk_ajp_encode_request(buf, max_packet, req);
	assert_int_equal(n, want_len);
	assert_memory_equal(buf, want, want_len);
	free(buf);
}

static void test_get_query_cookie_secret(void **state)
{
	(void)state;
	const struct xjk_http_header hdrs[] = {
		H("Host", "web"),
		H("Cookie", "JSESSIONID=AB.node1"),
		H("X-Trace", "7"),
		H("ACCEPT", "*/*"),
	};
	struct xjk_ajp_request req = base_request();
	req.query = S("a=1&b=2");
	req.secret = S("s3cr");
	req.route = S("node1");
	req.headers = hdrs;
	req.n_headers = 4;
	static const char want[] = "\x12\x34\x00\xEA"
				   "\x02\x02" PROTO "\x00\x0E/app/index.jsp\0" ADDRS "\x00\x05"
				   "\xA0\x0B\x00\x03web\0"
				   "\xA0\x09\x00\x13JSESSIONID=AB.node1\0"
				   "\x00\x07X-Trace\0\x00\x01"
				   "7\0"
				   "\xA0\x01\x00\x03*/*\0"
				   "\xA0\x08\x00\x01"
				   "0\0"
				   "\x0C\x00\x04s3cr\0"
				   "\x05\x00\x07"
				   "a=1&b=2\0"
				   "\x06\x00\x05node1\0" TAIL_ATTRS;
	check_encode(&req, XJK_AJP_DEF_PACKET_SIZE, VEC(want));
}

/* A request for /f with the given method and headers. */
static void check_f_request(int method_code, const struct xjk_http_header *hdrs, uint32_t n,
			    bool chunked, const uint8_t *want, size_t want_len)
{
	struct xjk_ajp_request req = base_request();
	req.method_code = method_code;
	req.uri = S("/f");
	req.headers = hdrs;
	req.n_headers = n;
	req.chunked = chunked;
	check_encode(&req, XJK_AJP_DEF_PACKET_SIZE, want, want_len);
}

static void test_post_with_length(void **state)
{
	(void)state;
	const struct xjk_http_header hdrs[] = {
		H("content-type", "text/plain"),
		H("Content-Length", "5"),
	};
	static const char want[] = "\x12\x34\x00\x9B"
				   "\x02\x04" PROTO "\x00\x02/f\0" ADDRS "\x00\x02"
				   "\xA0\x07\x00\x0Atext/plain\0"
				   "\xA0\x08\x00\x01"
				   "5\0" TAIL_ATTRS;
	check_f_request(4, hdrs, 2, false, VEC(want));
}

static void test_chunked_drops_length(void **state)
{
	(void)state;
	const struct xjk_http_header hdrs[] = {
		H("Transfer-Encoding", "chunked"),
		H("Content-Length", "5"),
	};
	static const char want[] = "\x12\x34\x00\xA4"
				   "\x02\x05" PROTO "\x00\x02/f\0" ADDRS "\x00\x01"
				   "\x00\x11Transfer-Encoding\0\x00\x07"
				   "chunked\0" TAIL_ATTRS;
	check_f_request(5, hdrs, 2, true, VEC(want));
}

/* Unknown method: code 0xFF and the name in attribute 0x0D. Also an empty
 * query (00 00 00), a null remote_host (FF FF) and a disabled member. */
static void test_other_method_empty_and_null(void **state)
{
	(void)state;
	struct xjk_ajp_request req = base_request();
	req.method_code = XJK_HTTP_METHOD_OTHER;
	req.method = S("PATCH");
	req.uri = S("/");
	req.query = S("");
	req.remote_host = (struct xjk_str){NULL, 0};
	req.activation = XJK_DISABLED;
	static const char want[] = "\x12\x34\x00\x8F"
				   "\x02\xFF" PROTO "\x00\x01/\0"
				   "\x00\x08"
				   "10.0.0.1\0"
				   "\xFF\xFF"
				   "\x00\x03web\0\x00\x50\x00"
				   "\x00\x01"
				   "\xA0\x08\x00\x01"
				   "0\0"
				   "\x05\x00\x00\0"
				   "\x0D\x00\x05PATCH\0"
				   "\x0A\x00\x0F"
				   "AJP_REMOTE_PORT\0\x00\x05"
				   "54321\0"
				   "\x0A\x00\x0E"
				   "AJP_LOCAL_ADDR\0\x00\x08"
				   "10.0.0.9\0"
				   "\x0A\x00\x10"
				   "JK_LB_ACTIVATION\0\x00\x03"
				   "DIS\0"
				   "\xFF";
	check_encode(&req, XJK_AJP_DEF_PACKET_SIZE, VEC(want));
}

/* Each of the 14 known request headers, in any case, goes out as its code. */
static void test_every_request_code(void **state)
{
	(void)state;
	static const char *const names[] = {
		"Accept",	   "ACCEPT-CHARSET", "accept-encoding",
		"Accept-Language", "Authorization",  "Connection",
		"Content-Type",	   "Content-Length", "Cookie",
		"Cookie2",	   "Host",	     "Pragma",
		"Referer",	   "User-Agent",
	};
	uint8_t buf[XJK_AJP_DEF_PACKET_SIZE];
	/* the header starts after 02 02, "HTTP/1.1", "/", the addresses and the count */
	const size_t at = 4 + 2 + 11 + 4 + 31 + 2;

	for (unsigned i = 0; i < 14; i++) {
		struct xjk_http_header h = {{names[i], (uint32_t)strlen(names[i])}, S("v")};
		struct xjk_ajp_request req = base_request();
		req.uri = S("/");
		req.headers = &h;
		req.n_headers = 1;
		assert_true(xjk_ajp_encode_request(buf, sizeof(buf), &req) > 0);
		const uint8_t want[] = {0xA0, (uint8_t)(i + 1), 0, 1, 'v', 0};
		assert_memory_equal(buf + at, want, sizeof(want));
	}
}

static void test_bad_method_codes(void **state)
{
	(void)state;
	uint8_t buf[XJK_AJP_DEF_PACKET_SIZE];
	struct xjk_ajp_request req = base_request();

	req.method_code = 0;
	assert_int_equal(xjk_ajp_encode_request(buf, sizeof(buf), &req), -1);
	req.method_code = 28;
	assert_int_equal(xjk_ajp_encode_request(buf, sizeof(buf), &req), -1);
	req.method_code = XJK_HTTP_METHOD_OTHER; /* without a name */
	assert_int_equal(xjk_ajp_encode_request(buf, sizeof(buf), &req), -1);
	req.method_code = 27;
	assert_true(xjk_ajp_encode_request(buf, sizeof(buf), &req) > 0);
}

/* A packet that fits exactly is encoded; one byte less is -1 and nothing is
 * written past the limit. */
static void test_overflow(void **state)
{
	(void)state;
	static char big[9000];
	memset(big, 'x', sizeof(big));
	struct xjk_http_header hdrs[] = {{S("X-Big"), {big, 8000}}};
	struct xjk_ajp_request req = base_request();
	req.headers = hdrs;
	req.n_headers = 1;
	static uint8_t buf[XJK_AJP_MAX_PACKET_SIZE];

	int full = xjk_ajp_encode_request(buf, sizeof(buf), &req);
	assert_true(full > 8000 && full < XJK_AJP_DEF_PACKET_SIZE);
	assert_int_equal(buf[2] << 8 | buf[3], full - 4);
	assert_int_equal(xjk_ajp_encode_request(buf, (size_t)full, &req), full);
	memset(buf, 0xEE, sizeof(buf));
	assert_int_equal(xjk_ajp_encode_request(buf, (size_t)full - 1, &req), -1);
	for (size_t i = (size_t)full - 1; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xEE);

	hdrs[0].value.len = 9000; /* over the default packet size */
	assert_int_equal(xjk_ajp_encode_request(buf, XJK_AJP_DEF_PACKET_SIZE, &req), -1);
	assert_true(xjk_ajp_encode_request(buf, 16384, &req) > 9000);
}

static void test_body_end_cping(void **state)
{
	(void)state;
	uint8_t pkt[XJK_AJP_BODY_HEADER_LEN + 5];
	memcpy(pkt + XJK_AJP_BODY_HEADER_LEN, "hello", 5);
	assert_int_equal(xjk_ajp_body_header(pkt, 5), 11);
	assert_memory_equal(pkt, "\x12\x34\x00\x07\x00\x05hello", 11);

	static uint8_t big[XJK_AJP_DEF_PACKET_SIZE];
	size_t max = XJK_AJP_BODY_MAX(sizeof(big));
	assert_int_equal(max, 8186);
	assert_int_equal(xjk_ajp_body_header(big, max), sizeof(big));
	assert_memory_equal(big, "\x12\x34\x1F\xFC\x1F\xFA", 6);

	assert_memory_equal(xjk_ajp_end_packet, "\x12\x34\x00\x00", 4);
	assert_memory_equal(xjk_ajp_cping, "\x12\x34\x00\x01\x0A", 5);
}

/* Decoding ---------------------------------------------------------------- */

#define MAX_HDRS 8

struct parsed {
	int rc;
	struct xjk_ajp_msg msg;
	struct xjk_http_header hdrs[MAX_HDRS];
};

/* Parses a heap copy of exactly len bytes so any overread is caught; the
 * slices in p point into freed memory afterwards, so callers that look at
 * them use parse_in() instead. */
static int parse_copy(const uint8_t *src, size_t len, unsigned max_hdrs)
{
	struct xjk_ajp_msg msg;
	struct xjk_http_header hdrs[MAX_HDRS];
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, src, len);
	int rc = xjk_ajp_parse(copy, len, XJK_AJP_DEF_PACKET_SIZE, &msg, hdrs, max_hdrs);
	free(copy);
	return rc;
}

static void parse_in(const uint8_t *buf, size_t len, struct parsed *p)
{
	p->rc = xjk_ajp_parse(buf, len, XJK_AJP_DEF_PACKET_SIZE, &p->msg, p->hdrs, MAX_HDRS);
}

/* Every strict prefix of a message is incomplete; the whole is rc. */
static void check_prefixes(const uint8_t *buf, size_t len, int rc)
{
	for (size_t k = 0; k < len; k++)
		assert_int_equal(parse_copy(buf, k, MAX_HDRS), 0);
	assert_int_equal(parse_copy(buf, len, MAX_HDRS), rc);
}

static void assert_str(struct xjk_str s, const char *z)
{
	assert_non_null(s.p);
	assert_int_equal(s.len, strlen(z));
	assert_memory_equal(s.p, z, s.len);
}

static const char send_headers[] = "AB\x00\x3C"
				   "\x04\x00\xC8\x00\x03"
				   "200\0"
				   "\x00\x03"
				   "\xA0\x01\x00\x09text/html\0"
				   "\xA0\x07\x00\x10id=AB.n1; Path=/\0"
				   "\x00\x05X-Foo\0\x00\x03"
				   "bar\0";

static void test_send_headers(void **state)
{
	(void)state;
	struct parsed p;
	parse_in(VEC(send_headers), &p);
	assert_int_equal(p.rc, sizeof(send_headers) - 1);
	assert_int_equal(p.msg.type, XJK_AJP_SEND_HEADERS);
	assert_int_equal(p.msg.status, 200);
	assert_str(p.msg.reason, "200");
	assert_ptr_equal(p.msg.headers, p.hdrs);
	assert_int_equal(p.msg.n_headers, 3);
	assert_str(p.hdrs[0].name, "Content-Type");
	assert_str(p.hdrs[0].value, "text/html");
	assert_str(p.hdrs[1].name, "Set-Cookie");
	assert_str(p.hdrs[1].value, "id=AB.n1; Path=/");
	assert_str(p.hdrs[2].name, "X-Foo");
	assert_str(p.hdrs[2].value, "bar");
	/* slices point into the input, not into copies */
	assert_ptr_equal(p.hdrs[2].value.p, send_headers + sizeof(send_headers) - 5);
	check_prefixes(VEC(send_headers), p.rc);
}

static void test_every_response_code(void **state)
{
	(void)state;
	static const char *const names[] = {
		"Content-Type",	  "Content-Language", "Content-Length",	  "Date",
		"Last-Modified",  "Location",	      "Set-Cookie",	  "Set-Cookie2",
		"Servlet-Engine", "Status",	      "WWW-Authenticate",
	};
	for (unsigned i = 0; i < 11; i++) {
		uint8_t m[] = {
			'A', 'B', 0,   13, 4, 0x01, 0x94, 0xFF, 0xFF, 0, 1, 0xA0, (uint8_t)(i + 1),
			0,   1,	  'v', 0};
		struct parsed p;
		parse_in(m, sizeof(m), &p);
		assert_int_equal(p.rc, sizeof(m));
		assert_int_equal(p.msg.status, 404);
		assert_null(p.msg.reason.p); /* null string */
		assert_str(p.hdrs[0].name, names[i]);
		assert_str(p.hdrs[0].value, "v");
	}
}

static void test_body_chunk(void **state)
{
	(void)state;
	static const char chunk[] = "AB\x00\x08\x03\x00\x04"
				    "abcd\0";
	struct parsed p;
	parse_in(VEC(chunk), &p);
	assert_int_equal(p.rc, 12);
	assert_int_equal(p.msg.type, XJK_AJP_SEND_BODY_CHUNK);
	assert_ptr_equal(p.msg.body.p, chunk + 7);
	assert_int_equal(p.msg.body.len, 4);
	check_prefixes(VEC(chunk), 12);

	/* without the trailing NUL the chunk still fits its message */
	parse_in(VEC("AB\x00\x07\x03\x00\x04"
		     "abcd"),
		 &p);
	assert_int_equal(p.rc, 11);
	assert_int_equal(p.msg.body.len, 4);

	/* empty chunk: flush */
	parse_in(VEC("AB\x00\x04\x03\x00\x00\0"), &p);
	assert_int_equal(p.rc, 8);
	assert_int_equal(p.msg.type, XJK_AJP_SEND_BODY_CHUNK);
	assert_int_equal(p.msg.body.len, 0);
}

static void test_end_get_cpong(void **state)
{
	(void)state;
	struct parsed p;

	parse_in(VEC("AB\x00\x02\x05\x01"), &p);
	assert_int_equal(p.rc, 6);
	assert_int_equal(p.msg.type, XJK_AJP_END_RESPONSE);
	assert_true(p.msg.reuse);
	check_prefixes(VEC("AB\x00\x02\x05\x01"), 6);

	parse_in(VEC("AB\x00\x02\x05\x00"), &p);
	assert_int_equal(p.rc, 6);
	assert_false(p.msg.reuse);

	parse_in(VEC("AB\x00\x03\x06\x1F\xFA"), &p);
	assert_int_equal(p.rc, 7);
	assert_int_equal(p.msg.type, XJK_AJP_GET_BODY_CHUNK);
	assert_int_equal(p.msg.requested, 8186);
	check_prefixes(VEC("AB\x00\x03\x06\x1F\xFA"), 7);

	parse_in(VEC("AB\x00\x01\x09"), &p);
	assert_int_equal(p.rc, 5);
	assert_int_equal(p.msg.type, XJK_AJP_CPONG);
	check_prefixes(VEC("AB\x00\x01\x09"), 5);
}

/* Two messages in one read: the first is consumed, the rest starts after. */
static void test_back_to_back(void **state)
{
	(void)state;
	static const char two[] = "AB\x00\x06\x03\x00\x02hi\0"
				  "AB\x00\x02\x05\x01";
	struct parsed p;
	parse_in(VEC(two), &p);
	assert_int_equal(p.rc, 10);
	assert_str(p.msg.body, "hi");
	parse_in((const uint8_t *)two + p.rc, sizeof(two) - 1 - 10, &p);
	assert_int_equal(p.rc, 6);
	assert_int_equal(p.msg.type, XJK_AJP_END_RESPONSE);
}

static void test_bad_framing(void **state)
{
	(void)state;
	/* wrong magic fails as soon as the byte is there */
	assert_int_equal(parse_copy(VEC("A"), MAX_HDRS), 0);
	assert_int_equal(parse_copy(VEC("\x12"), MAX_HDRS), -1);
	assert_int_equal(parse_copy(VEC("AC"), MAX_HDRS), -1);
	assert_int_equal(parse_copy(VEC("\x12\x34\x00\x01\x09"), MAX_HDRS), -1);
	/* the payload may be at most max_packet - 4 */
	assert_int_equal(parse_copy(VEC("AB\x1F\xFD"), MAX_HDRS), -1);
	assert_int_equal(parse_copy(VEC("AB\x1F\xFC\x03"), MAX_HDRS), 0);
	assert_int_equal(parse_copy(VEC("AB\xFF\xFF"), MAX_HDRS), -1);
	/* no type byte, unknown and web-server types */
	assert_int_equal(parse_copy(VEC("AB\x00\x00"), MAX_HDRS), -1);
	assert_int_equal(parse_copy(VEC("AB\x00\x01\x07"), MAX_HDRS), -1);
	assert_int_equal(parse_copy(VEC("AB\x00\x01\x02"), MAX_HDRS), -1);
	assert_int_equal(parse_copy(VEC("AB\x00\x01\x0A"), MAX_HDRS), -1);
}

/* Messages whose declared length is honest but whose inside is not: 0 for
 * every prefix, -1 once the declared length is there. */
static void test_inconsistent_inside(void **state)
{
	(void)state;
	static const struct {
		const char *m;
		size_t len;
	} bad[] = {
#define B(lit) {lit, sizeof(lit) - 1}
		/* reason length runs past the message */
		B("AB\x00\x0B\x04\x00\xC8\x00\x50"
		  "200\0\x00\x00"),
		/* reason not NUL-terminated */
		B("AB\x00\x0B\x04\x00\xC8\x00\x03"
		  "200X\x00\x00"),
		/* header count with no headers behind it */
		B("AB\x00\x0B\x04\x00\xC8\x00\x03"
		  "200\0\x00\x01"),
		/* header value length runs past the message */
		B("AB\x00\x0E\x04\x00\xC8\x00\x00\0\x00\x01\xA0\x01\x00\x09x\0"),
		/* header codes out of range */
		B("AB\x00\x0E\x04\x00\xC8\x00\x00\0\x00\x01\xA0\x0C\x00\x01x\0"),
		B("AB\x00\x0E\x04\x00\xC8\x00\x00\0\x00\x01\xA0\x00\x00\x01x\0"),
		/* null header value, empty header name */
		B("AB\x00\x0C\x04\x00\xC8\x00\x00\0\x00\x01\xA0\x01\xFF\xFF"),
		B("AB\x00\x0F\x04\x00\xC8\x00\x00\0\x00\x01\x00\x00\0\x00\x01x\0"),
		/* response splitting: CR/LF in a value, ':' or blank in a name */
		B("AB\x00\x12\x04\x00\xC8\x00\x00\0\x00\x01\xA0\x01\x00\x05x\r\nY:\0"),
		B("AB\x00\x11\x04\x00\xC8\x00\x00\0\x00\x01\x00\x02X:\0\x00\x01x\0"),
		B("AB\x00\x11\x04\x00\xC8\x00\x00\0\x00\x01\x00\x02X \0\x00\x01x\0"),
		B("AB\x00\x11\x04\x00\xC8\x00\x00\0\x00\x01\x00\x02X\t\0\x00\x01x\0"),
		/* status out of range */
		B("AB\x00\x08\x04\x00\x00\x00\x00\0\x00\x00"),
		/* chunk length over message length - 3 */
		B("AB\x00\x07\x03\x00\x05"
		  "abcd"),
		B("AB\x00\x03\x03\xFF\xFF"),
		/* fields cut short inside the message */
		B("AB\x00\x02\x03\x00"),
		B("AB\x00\x01\x05"),
		B("AB\x00\x02\x06\x1F"),
#undef B
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const uint8_t *m = (const uint8_t *)bad[i].m;
		/* the declared length is honest: only the inside is wrong */
		assert_int_equal((size_t)(m[2] << 8 | m[3]) + 4, bad[i].len);
		check_prefixes(m, bad[i].len, -1);
	}
}

static void test_too_many_headers(void **state)
{
	(void)state;
	assert_int_equal(parse_copy(VEC(send_headers), 3), sizeof(send_headers) - 1);
	assert_int_equal(parse_copy(VEC(send_headers), 2), -1);
	assert_int_equal(parse_copy(VEC(send_headers), 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_query_cookie_secret),
		cmocka_unit_test(test_post_with_length),
		cmocka_unit_test(test_chunked_drops_length),
		cmocka_unit_test(test_other_method_empty_and_null),
		cmocka_unit_test(test_every_request_code),
		cmocka_unit_test(test_bad_method_codes),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_body_end_cping),
		cmocka_unit_test(test_send_headers),
		cmocka_unit_test(test_every_response_code),
		cmocka_unit_test(test_body_chunk),
		cmocka_unit_test(test_end_get_cpong),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_bad_framing),
		cmocka_unit_test(test_inconsistent_inside),
		cmocka_unit_test(test_too_many_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
