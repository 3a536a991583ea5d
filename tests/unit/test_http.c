/* test_http.c: unit tests of the HTTP/1.1 head parser, the chunked codec and
 * the response helpers (agent/http.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

#define MAX_HEADERS 16

/* The rest of a request line and a Host header, for building heads. */
#define H11 " HTTP/1.1\r\nHost: h\r\n"

static const struct xjk_http_limits limits = {.max_head = 1024, .max_headers = MAX_HEADERS};
static struct xjk_http_header hdrs[MAX_HEADERS];

static int parse_n(const char *s, size_t len, struct xjk_http_request *req, int *status)
{
	return xjk_http_parse_request(s, len, &limits, hdrs, req, status);
}

/* Parses s and expects a complete, valid head of exactly strlen(s) bytes. */
static void parse_ok(const char *s, struct xjk_http_request *req)
{
	int status = 0;

	assert_int_equal(parse_n(s, strlen(s), req, &status), 1);
	assert_int_equal(req->head_len, strlen(s));
}

static void assert_str(struct xjk_str s, const char *want)
{
	assert_non_null(s.p);
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.p, want, s.len);
}

static void test_get(void **state)
{
	struct xjk_http_request req;

	(void)state;
	parse_ok("GET /app/index.jsp HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: t\r\n\r\n",
		 &req);
	assert_str(req.method, "GET");
	assert_int_equal(req.method_code, 2);
	assert_str(req.target, "/app/index.jsp");
	assert_str(req.path, "/app/index.jsp");
	assert_null(req.query.p);
	assert_str(req.host, "www.example.com");
	assert_int_equal(req.minor, 1);
	assert_int_equal(req.n_headers, 2);
	assert_str(req.headers[1].name, "User-Agent");
	assert_str(req.headers[1].value, "t");
	assert_int_equal(req.content_length, -1);
	assert_false(req.chunked);
	assert_true(req.keep_alive);
	assert_false(req.expect_continue);
}

static void test_post_content_length(void **state)
{
	const char *s = "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
	struct xjk_http_request req;
	int status;

	(void)state;
	assert_int_equal(parse_n(s, strlen(s), &req, &status), 1);
	assert_int_equal(req.method_code, 4);
	assert_int_equal(req.content_length, 5);
	assert_string_equal(s + req.head_len, "hello");
	parse_ok("POST / HTTP/1.1\r\nHost: h\r\ncontent-length: 9223372036854775807\r\n\r\n", &req);
	assert_int_equal(req.content_length, INT64_MAX);
	/* Identical duplicates are merged into one value. */
	parse_ok("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n",
		 &req);
	assert_int_equal(req.content_length, 7);
}

static void test_chunked(void **state)
{
	struct xjk_http_request req;

	(void)state;
	parse_ok("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", &req);
	assert_true(req.chunked);
	assert_int_equal(req.content_length, -1);
	parse_ok("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  ChunKed \t\r\n\r\n", &req);
	assert_true(req.chunked);
}

static void test_pipelined(void **state)
{
	const char *s = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
			"HEAD /two?q HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	struct xjk_http_request req;
	int status;

	(void)state;
	assert_int_equal(parse_n(s, strlen(s), &req, &status), 1);
	assert_str(req.path, "/one");
	assert_true(req.keep_alive);
	s += req.head_len;
	assert_int_equal(parse_n(s, strlen(s), &req, &status), 1);
	assert_int_equal(req.head_len, strlen(s));
	assert_int_equal(req.method_code, 3);
	assert_str(req.path, "/two");
	assert_str(req.query, "q");
	assert_false(req.keep_alive);
}

static void test_http10(void **state)
{
	struct xjk_http_request req;

	(void)state;
	parse_ok("GET / HTTP/1.0\r\n\r\n", &req);
	assert_int_equal(req.minor, 0);
	assert_null(req.host.p);
	/* RFC 9110 §10.1.1: 100-continue means nothing to an HTTP/1.0 request. */
	parse_ok("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", &req);
	assert_false(req.expect_continue);
}

static void test_keep_alive(void **state)
{
	static const struct {
		const char *head;
		bool keep_alive;
	} cases[] = {
		{"GET / HTTP/1.0\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
		{"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: h\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, ,CLOSE\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: h\r\nConnection: te\r\nConnection: close\r\n\r\n", false},
	};
	struct xjk_http_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_ok(cases[i].head, &req);
		if (req.keep_alive != cases[i].keep_alive)
			fail_msg("keep_alive %d for %s", req.keep_alive, cases[i].head);
	}
}

static void test_expect_continue(void **state)
{
	struct xjk_http_request req;

	(void)state;
	parse_ok("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n",
		 &req);
	assert_true(req.expect_continue);
	assert_int_equal(req.method_code, 5);
}

/* How request lines split into method code, path, query and host (NULL: absent). */
static void test_request_lines(void **state)
{
	static const struct {
		const char *line;
		int method_code;
		const char *path, *query, *host;
	} cases[] = {
		{"GET /a/b?x=1&y=%20?z HTTP/1.1", 2, "/a/b", "x=1&y=%20?z", "h"},
		{"GET /a? HTTP/1.1", 2, "/a", "", "h"},
		{"DELETE /a;jsessionid=x/b HTTP/1.1", 6, "/a;jsessionid=x/b", NULL, "h"},
		{"GET http://backend.example:8080/p/q?x=1 HTTP/1.1", 2, "/p/q", "x=1",
		 "backend.example:8080"},
		{"TRACE HTTPS://[::1]:8443 HTTP/1.1", 7, "/", NULL, "[::1]:8443"},
		{"PROPFIND http://i?a=b HTTP/1.1", 8, "/", "a=b", "i"},
		{"OPTIONS * HTTP/1.1", 1, "*", NULL, "h"},
		{"VERSION-CONTROL / HTTP/1.1", 17, "/", NULL, "h"},
		{"MKACTIVITY / HTTP/1.1", 27, "/", NULL, "h"},
		{"PATCH / HTTP/1.1", XJK_HTTP_METHOD_OTHER, "/", NULL, "h"},
		/* mod_jk matches method names case-sensitively */
		{"get / HTTP/1.1", XJK_HTTP_METHOD_OTHER, "/", NULL, "h"},
	};
	struct xjk_http_request req;
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s\r\nHost: h\r\n\r\n", cases[i].line);
		parse_ok(buf, &req);
		assert_int_equal(req.method.len, strcspn(cases[i].line, " "));
		assert_int_equal(req.method_code, cases[i].method_code);
		assert_str(req.path, cases[i].path);
		if (cases[i].query)
			assert_str(req.query, cases[i].query);
		else
			assert_null(req.query.p);
		assert_str(req.host, cases[i].host);
	}
}

static void test_max_headers(void **state)
{
	char buf[1024];
	size_t n = 0;
	struct xjk_http_request req;

	(void)state;
	n += (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 1; i < MAX_HEADERS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-H%d: v%d\r\n", i, i);
	snprintf(buf + n, sizeof(buf) - n, "\r\n");
	parse_ok(buf, &req);
	assert_int_equal(req.n_headers, MAX_HEADERS);
	assert_str(req.headers[MAX_HEADERS - 1].value, "v15");
}

static void test_leading_empty_lines(void **state)
{
	struct xjk_http_request req;

	(void)state;
	parse_ok("\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n", &req);
	assert_str(req.path, "/x");
}

static void test_lf_only(void **state)
{
	struct xjk_http_request req;

	(void)state;
	parse_ok("GET /lf HTTP/1.1\nHost: h\nA: b\r\n\n", &req);
	assert_str(req.path, "/lf");
	assert_int_equal(req.n_headers, 2);
	assert_str(req.headers[1].value, "b");
}

static void test_header_values(void **state)
{
	struct xjk_http_request req;

	(void)state;
	parse_ok("GET / HTTP/1.1\r\nHost: h\r\nX-A: \t a \tb\t \r\nX-Empty:\r\nX-Utf8: "
		 "\xc3\xa9\r\n\r\n",
		 &req);
	assert_str(req.headers[1].value, "a \tb");
	assert_str(req.headers[2].value, "");
	assert_str(req.headers[3].value, "\xc3\xa9");
}

/* Builds prefix, 40 bytes of 'v' with c at pos, suffix into buf; returns the length. */
static size_t with_byte_at(char *buf, const char *prefix, size_t pos, char c, const char *suffix)
{
	size_t n = strlen(prefix);

	memcpy(buf, prefix, n);
	memset(buf + n, 'v', 40);
	buf[n + pos] = c;
	memcpy(buf + n + 40, suffix, strlen(suffix));
	return n + 40 + strlen(suffix);
}

/* Control bytes are found wherever they sit in long values and targets (the
 * scan tests 8 bytes at a time); HT and obs-text pass anywhere in a value. */
static void test_byte_positions(void **state)
{
	static const char bad[] = {0x00, 0x01, 0x08, 0x0b, 0x1f, 0x7f, '\r'};
	static const char good[] = {'\t', ' ', (char)0x80, (char)0xff};
	char buf[256];
	struct xjk_http_request req;
	int status;
	size_t n;

	(void)state;
	for (size_t pos = 0; pos < 40; pos++) {
		for (size_t b = 0; b < sizeof(bad); b++) {
			n = with_byte_at(buf, "GET /" H11 "X: v", pos, bad[b], "v\r\n\r\n");
			assert_int_equal(parse_n(buf, n, &req, &status), -1);
			assert_int_equal(status, 400);
			n = with_byte_at(buf, "GET /", pos, bad[b], H11 "\r\n");
			assert_int_equal(parse_n(buf, n, &req, &status), -1);
			assert_int_equal(status, 400);
		}
		for (size_t g = 0; g < sizeof(good); g++) {
			n = with_byte_at(buf, "GET /" H11 "X: v", pos, good[g], "v\r\n\r\n");
			assert_int_equal(parse_n(buf, n, &req, &status), 1);
			assert_int_equal(req.headers[1].value.len, 42);
		}
		n = with_byte_at(buf, "GET /", pos, (char)0x80, H11 "\r\n");
		assert_int_equal(parse_n(buf, n, &req, &status), 1);
		assert_int_equal(req.path.len, 41);
	}
}

static void test_find(void **state)
{
	struct xjk_http_request req;

	(void)state;
	parse_ok("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\ncookie: b=2\r\n\r\n", &req);
	assert_ptr_equal(xjk_http_find(&req, "COOKIE"), &req.headers[1]);
	assert_ptr_equal(xjk_http_find(&req, "host"), &req.headers[0]);
	assert_null(xjk_http_find(&req, "Cookie2"));
	assert_null(xjk_http_find(&req, "Cooki"));
}

/* Every proper prefix of a valid head needs more bytes; the whole head parses. */
static void test_every_split(void **state)
{
	const char *s = "\r\nPOST /a;b?c HTTP/1.1\r\nHost: h:80\r\nContent-Length: 3\r\n"
			"Connection: keep-alive\r\n\r\nabc";
	size_t head = strlen(s) - 3;
	struct xjk_http_request req;
	int status = 0;

	(void)state;
	for (size_t i = 0; i < head; i++)
		assert_int_equal(parse_n(s, i, &req, &status), 0);
	for (size_t i = head; i <= strlen(s); i++) {
		assert_int_equal(parse_n(s, i, &req, &status), 1);
		assert_int_equal(req.head_len, head);
		assert_int_equal(req.content_length, 3);
	}
	assert_int_equal(status, 0);
}

static void test_incomplete_over_limit(void **state)
{
	char buf[2048];
	struct xjk_http_request req;
	int status = 0;

	(void)state;
	/* No line end within max_head: a request line that long is 414... */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	assert_int_equal(parse_n(buf, limits.max_head - 1, &req, &status), 0);
	assert_int_equal(parse_n(buf, limits.max_head, &req, &status), -1);
	assert_int_equal(status, 414);
	/* ...and headers that long are 431, even before the head ends. */
	size_t n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: ");
	memset(buf + n, 'v', sizeof(buf) - n);
	assert_int_equal(parse_n(buf, limits.max_head - 1, &req, &status), 0);
	assert_int_equal(parse_n(buf, sizeof(buf), &req, &status), -1);
	assert_int_equal(status, 431);
}

static void test_head_exactly_max(void **state)
{
	char buf[2048];
	struct xjk_http_request req;
	int status = 0;
	size_t n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	size_t fill = limits.max_head - n - 4;

	(void)state;
	memset(buf + n, 'v', fill);
	memcpy(buf + n + fill, "\r\n\r\n", 4);
	assert_int_equal(parse_n(buf, limits.max_head, &req, &status), 1);
	assert_int_equal(req.head_len, limits.max_head);
	/* One more byte of value and the same head is over the limit. */
	memset(buf + n, 'v', fill + 1);
	memcpy(buf + n + fill + 1, "\r\n\r\n", 4);
	assert_int_equal(parse_n(buf, limits.max_head + 1, &req, &status), -1);
	assert_int_equal(status, 431);
}

/* One rejected shape: the whole text must fail with this status. */
struct reject_case {
	const char *text;
	size_t len;
	int status;
};

static void test_reject(void **state)
{
	const struct reject_case *c = *state;
	struct xjk_http_request req;
	int status = 0;

	assert_int_equal(parse_n(c->text, c->len, &req, &status), -1);
	assert_int_equal(status, c->status);
}

#define REJECT(name, text, code)                                                                   \
	{                                                                                          \
		"reject " name, test_reject, NULL, NULL,                                           \
			&(struct reject_case){text, sizeof(text) - 1, code},                       \
	}

/* Valid bodies, each decoded at every split point and in pieces of every size. */
static const struct {
	const char *encoded, *decoded;
} chunked_valid[] = {
	{"5\r\nhello\r\n1;ext=\"a b\"\r\n \r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n",
	 "hello 0123456789abcdef"},
	{"4 ;a=b ; c=\"x;y\"\t\r\nwxyz\r\n0;last\r\nT1: a\r\nT2: b c\r\n\r\n", "wxyz"},
	{"0000A\r\n0123456789\r\nb\r\n0123456789X\r\nF\r\n0123456789abcde\r\n0\r\n\r\n",
	 "01234567890123456789X0123456789abcde"},
	{"3\nabc\n2;x\nde\n0\nT: 1\n\n", "abcde"},
	{"0\r\n\r\n", ""},
};

/* Feeds in to a fresh decoder in pieces of step bytes (decoding in place when
 * in_place) and checks that all of it is consumed and decodes to want. */
static void decode_pieces(const char *in, size_t step, bool in_place, const char *want)
{
	char work[256], out[256];
	size_t len = strlen(in), fill = 0;
	struct xjk_chunked c;

	assert_true(len <= sizeof(work));
	memcpy(work, in, len);
	xjk_chunked_init(&c);
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step, got = 0;
		char *dst = in_place ? work + off : out + fill;

		assert_false(c.done);
		assert_int_equal(xjk_chunked_decode(&c, work + off, n, dst, &got), n);
		memmove(out + fill, dst, got);
		fill += got;
	}
	assert_true(c.done);
	assert_int_equal(fill, strlen(want));
	assert_memory_equal(out, want, fill);
}

static void test_chunked_pieces(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(chunked_valid) / sizeof(chunked_valid[0]); i++)
		for (size_t step = 1; step <= strlen(chunked_valid[i].encoded); step++) {
			decode_pieces(chunked_valid[i].encoded, step, false,
				      chunked_valid[i].decoded);
			decode_pieces(chunked_valid[i].encoded, step, true,
				      chunked_valid[i].decoded);
		}
}

static void test_chunked_every_split(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(chunked_valid) / sizeof(chunked_valid[0]); i++) {
		const char *in = chunked_valid[i].encoded, *want = chunked_valid[i].decoded;
		size_t len = strlen(in);

		for (size_t split = 0; split <= len; split++) {
			char out[256];
			size_t a = 0, b = 0;
			struct xjk_chunked c;

			xjk_chunked_init(&c);
			assert_int_equal(xjk_chunked_decode(&c, in, split, out, &a), split);
			assert_int_equal(c.done, split == len);
			assert_int_equal(
				xjk_chunked_decode(&c, in + split, len - split, out + a, &b),
				len - split);
			assert_true(c.done);
			assert_int_equal(a + b, strlen(want));
			assert_memory_equal(out, want, a + b);
		}
	}
}

/* Decodes in with a fresh decoder c into scratch space. */
static ssize_t decode_fresh(struct xjk_chunked *c, const char *in, size_t len, size_t *got)
{
	static char out[XJK_CHUNKED_TRAILER_MAX * 2];

	assert_true(len <= sizeof(out));
	xjk_chunked_init(c);
	return xjk_chunked_decode(c, in, len, out, got);
}

static void test_chunked_stops_at_end(void **state)
{
	static const char s[] = "2\r\nok\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
	size_t got;
	struct xjk_chunked c;

	(void)state;
	assert_int_equal(decode_fresh(&c, s, strlen(s), &got), strlen("2\r\nok\r\n0\r\n\r\n"));
	assert_true(c.done);
	assert_int_equal(got, 2);
	assert_int_equal(xjk_chunked_decode(&c, "x", 1, (char[1]){0}, &got), 0);
	assert_int_equal(got, 0);
}

/* The largest size is accepted (the data simply has not come yet). */
static void test_chunked_largest_size(void **state)
{
	static const char s[] = "7fffffffffffffff\r\nabc";
	size_t got;
	struct xjk_chunked c;

	(void)state;
	assert_int_equal(decode_fresh(&c, s, strlen(s), &got), strlen(s));
	assert_int_equal(got, 3);
	assert_false(c.done);
	assert_int_equal(c.remaining, INT64_MAX - 3);
}

/* Decodes n filler bytes f between prefix and suffix; returns the result. */
static ssize_t decode_filled(const char *prefix, char f, size_t n, const char *suffix)
{
	static char in[XJK_CHUNKED_TRAILER_MAX * 2];
	size_t len = strlen(prefix), got;
	struct xjk_chunked c;

	assert_true(len + n + strlen(suffix) <= sizeof(in));
	memcpy(in, prefix, len);
	memset(in + len, f, n);
	memcpy(in + len + n, suffix, strlen(suffix));
	return decode_fresh(&c, in, len + n + strlen(suffix), &got);
}

static void test_chunked_line_limits(void **state)
{
	(void)state;
	/* Leading zeros and extensions count towards the size line limit... */
	assert_int_equal(decode_filled("", '0', XJK_CHUNKED_LINE_MAX - 1, "1"),
			 XJK_CHUNKED_LINE_MAX);
	assert_int_equal(decode_filled("", '0', XJK_CHUNKED_LINE_MAX, "1"), -1);
	assert_int_equal(decode_filled("1;", 'e', XJK_CHUNKED_LINE_MAX, "\r\n"), -1);
	/* ...and the whole trailer section towards its own. */
	assert_int_equal(decode_filled("0\r\nT: ", 'v', XJK_CHUNKED_TRAILER_MAX - 7, "\r\n\r\n"),
			 XJK_CHUNKED_TRAILER_MAX + 3);
	assert_int_equal(decode_filled("0\r\nT: ", 'v', XJK_CHUNKED_TRAILER_MAX, "\r\n\r\n"), -1);
}

static void test_chunked_bad(void **state)
{
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
#define BAD(s) {s, sizeof(s) - 1}
		BAD("x\r\n"),		      /* not hex */
		BAD("\r\n"),		      /* no digits */
		BAD(";a\r\n"),		      /* extension without size */
		BAD("-1\r\n"),		      /* sign */
		BAD("8000000000000000\r\n"),  /* 2^63 */
		BAD("10000000000000000\r\n"), /* 2^64 */
		BAD("5\r\nhelloX\r\n"),	      /* no CRLF after data */
		BAD("5\r\nhello\rX"),	      /* CR without LF after data */
		BAD("5\rX\n"),		      /* bare CR in size line */
		BAD("5;a\rb\r\nhello\r\n"),   /* bare CR in extension */
		BAD("5;a\x01\r\nhello\r\n"),  /* control in extension */
		BAD("5;\0\r\nhello\r\n"),     /* NUL in extension */
		BAD("0\r\nT: a\rb\r\n\r\n"),  /* bare CR in trailer */
		BAD("0\r\nT: \x01\r\n\r\n"),  /* control in trailer */
		BAD("0\r\n\rX"),	      /* CR without LF at the end */
		/* found by tests/integ/80-smuggling.sh: text after the size
		 * without ';' was taken as an extension, so "0x5" read as the
		 * last chunk and the rest of the body as the next request */
		BAD("0x5\r\nhello\r\n0\r\n\r\n"),
		BAD("5 x\r\nhello\r\n"), /* text after BWS, no ';' */
#undef BAD
	};
	size_t got;
	struct xjk_chunked c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (decode_fresh(&c, bad[i].s, bad[i].len, &got) != -1)
			fail_msg("case %zu (%s) was accepted", i, bad[i].s);
	}
}

static void test_chunked_header(void **state)
{
	char buf[XJK_CHUNKED_HEADER_MAX];

	(void)state;
	assert_int_equal(xjk_chunked_header(buf, 0), 3);
	assert_memory_equal(buf, "0\r\n", 3);
	assert_int_equal(xjk_chunked_header(buf, 0x1f40), 6);
	assert_memory_equal(buf, "1f40\r\n", 6);
	assert_int_equal(xjk_chunked_header(buf, SIZE_MAX), 18);
	assert_memory_equal(buf, "ffffffffffffffff\r\n", 18);
}

static void test_reason(void **state)
{
	(void)state;
	assert_string_equal(xjk_http_reason(200), "OK");
	assert_string_equal(xjk_http_reason(404), "Not Found");
	assert_string_equal(xjk_http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(xjk_http_reason(503), "Service Unavailable");
	assert_string_equal(xjk_http_reason(599), "");
}

static void test_error_response(void **state)
{
	char buf[512];
	int n;
	const char *body;
	long cl;

	(void)state;
	n = xjk_http_error_response(buf, sizeof(buf), 400, true);
	assert_true(n > 0);
	assert_int_equal(strlen(buf), n);
	assert_memory_equal(buf, "HTTP/1.1 400 Bad Request\r\n", 26);
	assert_non_null(strstr(buf, "\r\nContent-Type: text/html\r\n"));
	assert_non_null(strstr(buf, "\r\nConnection: close\r\n"));
	body = strstr(buf, "\r\n\r\n") + 4;
	assert_non_null(strstr(body, "Bad Request"));
	assert_int_equal(sscanf(strstr(buf, "Content-Length: "), "Content-Length: %ld", &cl), 1);
	assert_int_equal(cl, strlen(body));

	n = xjk_http_error_response(buf, sizeof(buf), 503, false);
	assert_true(n > 0);
	assert_memory_equal(buf, "HTTP/1.1 503 Service Unavailable\r\n", 34);
	assert_null(strstr(buf, "Connection:"));

	assert_int_equal(xjk_http_error_response(buf, 40, 400, true), -1);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_get),
	cmocka_unit_test(test_post_content_length),
	cmocka_unit_test(test_chunked),
	cmocka_unit_test(test_pipelined),
	cmocka_unit_test(test_http10),
	cmocka_unit_test(test_keep_alive),
	cmocka_unit_test(test_expect_continue),
	cmocka_unit_test(test_request_lines),
	cmocka_unit_test(test_max_headers),
	cmocka_unit_test(test_leading_empty_lines),
	cmocka_unit_test(test_lf_only),
	cmocka_unit_test(test_header_values),
	cmocka_unit_test(test_byte_positions),
	cmocka_unit_test(test_find),
	cmocka_unit_test(test_every_split),
	cmocka_unit_test(test_incomplete_over_limit),
	cmocka_unit_test(test_head_exactly_max),
	REJECT("CL and TE", "POST /" H11 "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	       400),
	REJECT("TE and CL", "POST /" H11 "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
	       400),
	REJECT("differing CL", "POST /" H11 "Content-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
	REJECT("CL list", "POST /" H11 "Content-Length: 3, 3\r\n\r\n", 400),
	REJECT("CL letters", "POST /" H11 "Content-Length: 1a\r\n\r\n", 400),
	REJECT("CL sign", "POST /" H11 "Content-Length: +3\r\n\r\n", 400),
	REJECT("CL negative", "POST /" H11 "Content-Length: -1\r\n\r\n", 400),
	REJECT("CL inner space", "POST /" H11 "Content-Length: 1 2\r\n\r\n", 400),
	REJECT("CL empty", "POST /" H11 "Content-Length:\r\n\r\n", 400),
	REJECT("CL overflow", "POST /" H11 "Content-Length: 9223372036854775808\r\n\r\n", 400),
	REJECT("CL huge", "POST /" H11 "Content-Length: 99999999999999999999999\r\n\r\n", 400),
	REJECT("TE gzip, chunked", "POST /" H11 "Transfer-Encoding: gzip, chunked\r\n\r\n", 501),
	REJECT("TE gzip then chunked headers",
	       "POST /" H11 "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
	REJECT("TE gzip", "POST /" H11 "Transfer-Encoding: gzip\r\n\r\n", 400),
	REJECT("TE chunked, gzip", "POST /" H11 "Transfer-Encoding: chunked, gzip\r\n\r\n", 400),
	REJECT("TE chunked twice", "POST /" H11 "Transfer-Encoding: chunked, chunked\r\n\r\n", 400),
	REJECT("TE chunked in two headers",
	       "POST /" H11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	       400),
	REJECT("TE empty", "POST /" H11 "Transfer-Encoding: \r\n\r\n", 400),
	REJECT("TE with parameter", "POST /" H11 "Transfer-Encoding: chunked;q=1\r\n\r\n", 400),
	REJECT("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
	REJECT("obs-fold", "GET /" H11 "X-A: a\r\n b\r\n\r\n", 400),
	REJECT("obs-fold with HT", "GET /" H11 "X-A: a\r\n\tb\r\n\r\n", 400),
	REJECT("whitespace after request line", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400),
	REJECT("bare CR in request line", "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	REJECT("bare CR ending request line", "GET / HTTP/1.1\r\rHost: h\r\n\r\n", 400),
	REJECT("bare CR in header value", "GET /" H11 "X-A: a\rb\r\n\r\n", 400),
	REJECT("bare CR ending header", "GET /" H11 "X-A: a\r\r\n\r\n", 400),
	REJECT("bare CR in header name", "GET /" H11 "X\r-A: a\r\n\r\n", 400),
	REJECT("bare CR line", "GET /" H11 "\r\r\n\r\n", 400),
	REJECT("space in header name", "GET /" H11 "X A: a\r\n\r\n", 400),
	REJECT("space before colon", "GET /" H11 "X-A : a\r\n\r\n", 400),
	REJECT("HT before colon", "GET /" H11 "Host\t: a\r\n\r\n", 400),
	REJECT("NUL in header name", "GET /" H11 "X\0A: a\r\n\r\n", 400),
	REJECT("control in header name", "GET /" H11 "X\x01: a\r\n\r\n", 400),
	REJECT("separator in header name", "GET /" H11 "X(A): a\r\n\r\n", 400),
	REJECT("empty header name", "GET /" H11 ": a\r\n\r\n", 400),
	REJECT("header without colon", "GET /" H11 "X-A a\r\n\r\n", 400),
	REJECT("NUL in header value", "GET /" H11 "X-A: a\0b\r\n\r\n", 400),
	REJECT("control in header value", "GET /" H11 "X-A: a\x1b b\r\n\r\n", 400),
	REJECT("DEL in header value", "GET /" H11 "X-A: a\x7f\r\n\r\n", 400),
	REJECT("non-token method", "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	REJECT("control in method", "G\x01T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	REJECT("empty method", " / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	REJECT("two spaces after method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	REJECT("two spaces before version", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	REJECT("HT as separator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
	REJECT("trailing space after version", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400),
	REJECT("no version (HTTP/0.9)", "GET /\r\n\r\n", 400),
	REJECT("lowercase protocol", "GET / http/1.1\r\nHost: h\r\n\r\n", 400),
	REJECT("two-digit minor", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400),
	REJECT("version without dot", "GET / HTTP/11\r\nHost: h\r\n\r\n", 400),
	REJECT("HTTP/1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505),
	REJECT("HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
	REJECT("HTTP/0.9 versioned", "GET / HTTP/0.9\r\n\r\n", 505),
	REJECT("relative target", "GET index.html" H11 "\r\n", 400),
	REJECT("asterisk with GET", "GET *" H11 "\r\n", 400),
	REJECT("authority-form", "CONNECT h:443" H11 "\r\n", 400),
	REJECT("other scheme", "GET ftp://h/x" H11 "\r\n", 400),
	REJECT("empty authority", "GET http:///x" H11 "\r\n", 400),
	REJECT("userinfo in authority", "GET http://u@h/x" H11 "\r\n", 400),
	REJECT("scheme only", "GET http://" H11 "\r\n", 400),
	REJECT("NUL in target", "GET /a\0b" H11 "\r\n", 400),
	REJECT("control in target", "GET /a\x01" H11 "\r\n", 400),
	REJECT("DEL in target", "GET /a\x7f" H11 "\r\n", 400),
	REJECT("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX-A: a\r\n\r\n", 400),
	REJECT("two Host headers", "GET /" H11 "Host: h\r\n\r\n", 400),
	REJECT("two differing Host headers", "GET /" H11 "host: i\r\n\r\n", 400),
	REJECT("slash in Host", "GET / HTTP/1.1\r\nHost: h/x\r\n\r\n", 400),
	REJECT("space in Host", "GET / HTTP/1.1\r\nHost: h x\r\n\r\n", 400),
	REJECT("userinfo in Host", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", 400),
	REJECT("too many headers",
	       "GET /" H11 "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n"
	       "I: 9\r\nJ: 10\r\nK: 11\r\nL: 12\r\nM: 13\r\nN: 14\r\nO: 15\r\nP: 16\r\n\r\n",
	       431),
	REJECT("Expect other", "GET /" H11 "Expect: 200-ok\r\n\r\n", 417),
	REJECT("Expect list", "GET /" H11 "Expect: 100-continue, x\r\n\r\n", 417),
	cmocka_unit_test(test_chunked_pieces),
	cmocka_unit_test(test_chunked_every_split),
	cmocka_unit_test(test_chunked_stops_at_end),
	cmocka_unit_test(test_chunked_largest_size),
	cmocka_unit_test(test_chunked_line_limits),
	cmocka_unit_test(test_chunked_bad),
	cmocka_unit_test(test_chunked_header),
	cmocka_unit_test(test_reason),
	cmocka_unit_test(test_error_response),
};

int main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
