/* http.c: strict single-pass HTTP/1.1 request head parser (RFC 9112), chunked
 * body decoder and small response helpers for xjkd's client side.
 *
 * Accepted leniencies:
 *   - any number of empty lines before the request line (they count in
 *     head_len and max_head);
 *   - a bare LF as line terminator, in the head and in chunked framing (RFC
 *     9112 §2.2 allows it; the head never reaches a backend as text, only as
 *     AJP13 fields, so there is no second parser to disagree with);
 *   - identical duplicate Content-Length headers (one value results);
 *   - Expect: 100-continue in an HTTP/1.0 request is ignored (RFC 9110 §10.1.1).
 *
 * Rejected shapes (the caller sends the status and closes the connection):
 *   400  request line not exactly "method SP request-target SP HTTP/d.d";
 *        a method that is not a token; control characters (NUL, CR, DEL...)
 *        in the request-target; a request-target that is not origin-form
 *        ("/..."), absolute-form ("http://" or "https://" authority [path]),
 *        or "*" with OPTIONS; an absolute-form authority that is empty or has
 *        characters outside RFC 3986 host[:port] (userinfo "@" included);
 *        a bare CR (CR not followed by LF) anywhere in the head;
 *        obs-fold (a header line starting with SP or HT, also right after the
 *        request line); a header name that is empty or not a token (spaces or
 *        control characters in it, whitespace before the colon);
 *        control characters other than HT in a header value;
 *        a Content-Length that is not 1*DIGIT (signs, spaces, lists such as
 *        "5, 5" included) or above 2^63-1; differing Content-Length headers;
 *        both Content-Length and Transfer-Encoding; Transfer-Encoding in an
 *        HTTP/1.0 request; Transfer-Encoding empty, whose final coding is not
 *        "chunked", or with "chunked" more than once;
 *        HTTP/1.1 without Host; more than one Host; a Host value with
 *        characters outside RFC 3986 host[:port].
 *   414  the request line (with leading empty lines) is longer than max_head.
 *   417  an Expect header other than "100-continue".
 *   431  the head is longer than max_head; more than max_headers headers.
 *   501  Transfer-Encoding with a coding before the final "chunked" (e.g.
 *        "gzip, chunked"): valid, but xjkd does not decode other codings.
 *   505  a well-formed version other than HTTP/1.0 and HTTP/1.1.
 *
 * Chunked bodies fail (-1; the caller answers 400 and closes) on: a size line
 * without hex digits or with a size above 2^63-1; control characters other
 * than HT (bare CR included) in chunk extensions or trailers; data not
 * followed by CRLF; a size line over XJK_CHUNKED_LINE_MAX or trailers over
 * XJK_CHUNKED_TRAILER_MAX bytes. */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 §5.6.2 tchar. */
static const bool tchar[256] = {
	['!'] = 1,	   ['#' ... '\''] = 1, ['*'] = 1,	  ['+'] = 1,
	['-'] = 1,	   ['.'] = 1,	       ['0' ... '9'] = 1, ['A' ... 'Z'] = 1,
	['^' ... '`'] = 1, ['a' ... 'z'] = 1,  ['|'] = 1,	  ['~'] = 1,
};

/* Indexed by AJP13 method code - 1 (modjk-ajp13.md §1.4); matched case-sensitively as mod_jk. */
#define M(s)                                                                                       \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}
static const struct {
	const char *name;
	uint32_t len;
} ajp_methods[] = {
	M("OPTIONS"),
	M("GET"),
	M("HEAD"),
	M("POST"),
	M("PUT"),
	M("DELETE"),
	M("TRACE"),
	M("PROPFIND"),
	M("PROPPATCH"),
	M("MKCOL"),
	M("COPY"),
	M("MOVE"),
	M("LOCK"),
	M("UNLOCK"),
	M("ACL"),
	M("REPORT"),
	M("VERSION-CONTROL"),
	M("CHECKIN"),
	M("CHECKOUT"),
	M("UNCHECKOUT"),
	M("SEARCH"),
	M("MKWORKSPACE"),
	M("UPDATE"),
	M("LABEL"),
	M("MERGE"),
	M("BASELINE-CONTROL"),
	M("MKACTIVITY"),
};
#undef M
_Static_assert(sizeof(ajp_methods) / sizeof(ajp_methods[0]) == 27, "AJP13 has 27 method codes");

#define AJP_METHOD_OPTIONS 1

/* Length of the longest prefix of p[0..n) without a byte below min or DEL,
 * testing 8 bytes at a time: header values and targets are most of a head. */
static size_t span_above(const char *p, size_t n, unsigned char min)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, del;

		memcpy(&x, p + i, 8);
		del = x ^ (ones * 0x7f);
		/* "Has a byte below min" and "has a zero byte" (after the DEL xor),
		 * both exact as existence tests for min <= 0x80. */
		if (((x - ones * min) & ~x & highs) | ((del - ones) & ~del & highs))
			break;
	}
	while (i < n && (unsigned char)p[i] >= min && p[i] != 0x7f)
		i++;
	return i;
}

/* HT, SP, VCHAR and obs-text: what a field value (or chunk extension) may hold. */
static bool value_char(unsigned char c)
{
	return c == '\t' || (c >= ' ' && c != 0x7f);
}

/* RFC 3986 host [":" port]: unreserved, pct-encoded, sub-delims, ':' and the
 * brackets of an IP literal. Anything else in a host could smuggle a path or
 * userinfo into what the backend sees as the server name. */
static const bool host_chars[256] = {
	['!'] = 1, ['$' ... '.'] = 1, ['0' ... ';'] = 1, ['='] = 1, ['A' ... '['] = 1,
	[']'] = 1, ['_'] = 1,	      ['a' ... 'z'] = 1, ['~'] = 1,
};

static bool host_valid(struct xjk_str h)
{
	for (uint32_t i = 0; i < h.len; i++)
		if (!host_chars[(unsigned char)h.p[i]])
			return false;
	return true;
}

static struct xjk_str slice(const char *p, size_t len)
{
	return (struct xjk_str){p, (uint32_t)len};
}

/* Next element of a comma-separated list (RFC 9110 §5.6.1) starting at *pos,
 * without surrounding whitespace; empty elements are skipped as the RFC asks.
 * Returns false when the list is exhausted. */
static bool list_next(struct xjk_str v, uint32_t *pos, struct xjk_str *elem)
{
	uint32_t i = *pos, start, end;

	while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
		i++;
	start = i;
	while (i < v.len && v.p[i] != ',')
		i++;
	end = i;
	while (end > start && (v.p[end - 1] == ' ' || v.p[end - 1] == '\t'))
		end--;
	*pos = i;
	*elem = slice(v.p + start, end - start);
	return start < v.len;
}

/* Finds the line starting at pos within the first max bytes. Returns 1 with
 * the content (terminator excluded) ending at *end and the next line at
 * *next, 0 when the line is incomplete, -1 when it cannot end within max. A
 * CR before the LF is part of the terminator; any other CR stays in the
 * content, where every field check rejects it as a control character. */
static int line_at(const char *buf, size_t len, size_t pos, uint32_t max, size_t *end, size_t *next)
{
	size_t avail = len < max ? len : max;
	const char *lf = pos < avail ? memchr(buf + pos, '\n', avail - pos) : NULL;

	if (!lf)
		return len >= max ? -1 : 0;
	*next = (size_t)(lf - buf) + 1;
	*end = (size_t)(lf - buf);
	if (*end > pos && buf[*end - 1] == '\r')
		(*end)--;
	return 1;
}

static int method_code(struct xjk_str m)
{
	for (size_t i = 0; i < sizeof(ajp_methods) / sizeof(ajp_methods[0]); i++)
		if (ajp_methods[i].len == m.len && !memcmp(ajp_methods[i].name, m.p, m.len))
			return (int)i + 1;
	return XJK_HTTP_METHOD_OTHER;
}

/* Splits [p, p+len) at the first '?' into path and query. */
static void split_query(struct xjk_http_request *req, const char *p, size_t len)
{
	const char *q = memchr(p, '?', len);

	if (!q) {
		req->path = slice(p, len);
		req->query = slice(NULL, 0);
		return;
	}
	req->path = slice(p, (size_t)(q - p));
	req->query = slice(q + 1, len - (size_t)(q - p) - 1);
}

/* Fills path, query and (for absolute-form) host from req->target. 0 or 400. */
static int parse_target(struct xjk_http_request *req)
{
	const char *t = req->target.p;
	size_t n = req->target.len, skip;

	if (t[0] == '/') {
		split_query(req, t, n);
		return 0;
	}
	if (n == 1 && t[0] == '*') {
		if (req->method_code != AJP_METHOD_OPTIONS)
			return 400;
		req->path = req->target;
		req->query = slice(NULL, 0);
		return 0;
	}
	if (n > 7 && !strncasecmp(t, "http://", 7))
		skip = 7;
	else if (n > 8 && !strncasecmp(t, "https://", 8))
		skip = 8;
	else
		return 400;
	const char *auth = t + skip, *stop = auth;

	while (stop < t + n && *stop != '/' && *stop != '?')
		stop++;
	req->host = slice(auth, (size_t)(stop - auth));
	if (!req->host.len || !host_valid(req->host))
		return 400;
	split_query(req, stop, (size_t)(t + n - stop));
	/* RFC 9112 §3.2.4: an empty path in absolute-form means "/". */
	if (!req->path.len)
		req->path = slice("/", 1);
	return 0;
}

/* Parses "method SP target SP HTTP/d.d"; 0 or the error status. */
static int parse_request_line(const char *l, size_t n, struct xjk_http_request *req)
{
	size_t i = 0, t;

	while (i < n && tchar[(unsigned char)l[i]])
		i++;
	if (i == 0 || i == n || l[i] != ' ')
		return 400;
	req->method = slice(l, i);
	req->method_code = method_code(req->method);
	t = ++i;
	i += span_above(l + i, n - i, '!');
	if (i == t || i == n || l[i] != ' ')
		return 400;
	req->target = slice(l + t, i - t);
	l += i + 1;
	n -= i + 1;
	if (n != 8 || memcmp(l, "HTTP/", 5) || l[5] < '0' || l[5] > '9' || l[6] != '.' ||
	    l[7] < '0' || l[7] > '9')
		return 400;
	if (l[5] != '1' || l[7] > '1')
		return 505;
	req->minor = l[7] - '0';
	return parse_target(req);
}

/* What the header pass learns and decides on once the head is complete. */
struct head_facts {
	unsigned hosts;
	struct xjk_str host;
	bool te_present, te_last_chunked, te_other;
	unsigned te_chunked;
	bool conn_close, conn_keep_alive;
	bool expect_other;
};

static int parse_content_length(struct xjk_str v, int64_t *cl)
{
	int64_t n = 0;

	if (!v.len)
		return 400;
	for (uint32_t i = 0; i < v.len; i++) {
		int d = v.p[i] - '0';

		if (d < 0 || d > 9 || n > (INT64_MAX - d) / 10)
			return 400;
		n = n * 10 + d;
	}
	if (*cl >= 0 && *cl != n)
		return 400;
	*cl = n;
	return 0;
}

/* Records what a framing or routing header says; 0 or the error status. */
static int note_header(const struct xjk_http_header *h, struct xjk_http_request *req,
		       struct head_facts *f)
{
	struct xjk_str e;
	uint32_t pos = 0;

	if (xjk_str_caseeq(h->name, "host")) {
		if (++f->hosts > 1 || !host_valid(h->value))
			return 400;
		f->host = h->value;
	} else if (xjk_str_caseeq(h->name, "content-length")) {
		return parse_content_length(h->value, &req->content_length);
	} else if (xjk_str_caseeq(h->name, "transfer-encoding")) {
		f->te_present = true;
		while (list_next(h->value, &pos, &e)) {
			f->te_last_chunked = xjk_str_caseeq(e, "chunked");
			if (f->te_last_chunked)
				f->te_chunked++;
			else
				f->te_other = true;
		}
	} else if (xjk_str_caseeq(h->name, "connection")) {
		while (list_next(h->value, &pos, &e)) {
			f->conn_close |= xjk_str_caseeq(e, "close");
			f->conn_keep_alive |= xjk_str_caseeq(e, "keep-alive");
		}
	} else if (xjk_str_caseeq(h->name, "expect")) {
		if (xjk_str_caseeq(h->value, "100-continue"))
			req->expect_continue = req->minor == 1;
		else
			f->expect_other = true;
	}
	return 0;
}

/* Checks that need the whole head, in the order of the table at the top. */
static int finish_head(struct xjk_http_request *req, const struct head_facts *f)
{
	if (req->minor == 1 && !f->hosts)
		return 400;
	if (!req->host.p)
		req->host = f->host;
	if (f->te_present) {
		if (req->minor == 0 || req->content_length >= 0 || !f->te_last_chunked ||
		    f->te_chunked > 1)
			return 400;
		if (f->te_other)
			return 501;
		req->chunked = true;
	}
	if (f->expect_other)
		return 417;
	req->keep_alive = req->minor == 1 ? !f->conn_close : f->conn_keep_alive && !f->conn_close;
	return 0;
}

/* Parses one header line [l, l+n) into h; 0 or 400. */
static int parse_header_line(const char *l, size_t n, struct xjk_http_header *h)
{
	size_t i = 0, v, end = n;

	/* A leading SP/HT (obs-fold) fails here too: it is not a tchar. */
	while (i < n && tchar[(unsigned char)l[i]])
		i++;
	if (i == 0 || i == n || l[i] != ':')
		return 400;
	h->name = slice(l, i);
	v = i + 1;
	while (v < n && (l[v] == ' ' || l[v] == '\t'))
		v++;
	while (end > v && (l[end - 1] == ' ' || l[end - 1] == '\t'))
		end--;
	for (size_t j = v; (j += span_above(l + j, end - j, ' ')) < end; j++)
		if (l[j] != '\t')
			return 400;
	h->value = slice(l + v, end - v);
	return 0;
}

static int fail(int *status, int code)
{
	*status = code;
	return -1;
}

int xjk_http_parse_request(const char *buf, size_t len, const struct xjk_http_limits *lim,
			   struct xjk_http_header *hdrs, struct xjk_http_request *req, int *status)
{
	struct head_facts facts = {0};
	size_t pos = 0, end, next;
	int rc;

	*req = (struct xjk_http_request){.content_length = -1, .headers = hdrs};
	for (;;) {
		rc = line_at(buf, len, pos, lim->max_head, &end, &next);
		if (rc <= 0)
			return rc ? fail(status, 414) : 0;
		if (end > pos)
			break;
		pos = next;
	}
	rc = parse_request_line(buf + pos, end - pos, req);
	if (rc)
		return fail(status, rc);
	for (;;) {
		pos = next;
		rc = line_at(buf, len, pos, lim->max_head, &end, &next);
		if (rc <= 0)
			return rc ? fail(status, 431) : 0;
		if (end == pos)
			break;
		if (req->n_headers == lim->max_headers)
			return fail(status, 431);
		struct xjk_http_header *h = &hdrs[req->n_headers++];

		rc = parse_header_line(buf + pos, end - pos, h);
		if (!rc)
			rc = note_header(h, req, &facts);
		if (rc)
			return fail(status, rc);
	}
	rc = finish_head(req, &facts);
	if (rc)
		return fail(status, rc);
	req->head_len = (uint32_t)next;
	return 1;
}

const struct xjk_http_header *xjk_http_find(const struct xjk_http_request *req, const char *name)
{
	for (uint32_t i = 0; i < req->n_headers; i++)
		if (xjk_str_caseeq(req->headers[i].name, name))
			return &req->headers[i];
	return NULL;
}

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{100, "Continue"},
	{101, "Switching Protocols"},
	{200, "OK"},
	{201, "Created"},
	{202, "Accepted"},
	{203, "Non-Authoritative Information"},
	{204, "No Content"},
	{205, "Reset Content"},
	{206, "Partial Content"},
	{300, "Multiple Choices"},
	{301, "Moved Permanently"},
	{302, "Found"},
	{303, "See Other"},
	{304, "Not Modified"},
	{305, "Use Proxy"},
	{307, "Temporary Redirect"},
	{308, "Permanent Redirect"},
	{400, "Bad Request"},
	{401, "Unauthorized"},
	{402, "Payment Required"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{405, "Method Not Allowed"},
	{406, "Not Acceptable"},
	{407, "Proxy Authentication Required"},
	{408, "Request Timeout"},
	{409, "Conflict"},
	{410, "Gone"},
	{411, "Length Required"},
	{412, "Precondition Failed"},
	{413, "Content Too Large"},
	{414, "URI Too Long"},
	{415, "Unsupported Media Type"},
	{416, "Range Not Satisfiable"},
	{417, "Expectation Failed"},
	{421, "Misdirected Request"},
	{422, "Unprocessable Content"},
	{426, "Upgrade Required"},
	{428, "Precondition Required"},
	{429, "Too Many Requests"},
	{431, "Request Header Fields Too Large"},
	{451, "Unavailable For Legal Reasons"},
	{500, "Internal Server Error"},
	{501, "Not Implemented"},
	{502, "Bad Gateway"},
	{503, "Service Unavailable"},
	{504, "Gateway Timeout"},
	{505, "HTTP Version Not Supported"},
	{511, "Network Authentication Required"},
};

const char *xjk_http_reason(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "";
}

int xjk_http_error_response(char *buf, size_t cap, int status, bool close)
{
	const char *reason = xjk_http_reason(status);
	char body[256];
	int blen, n;

	blen = snprintf(body, sizeof(body),
			"<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
			"<body><h1>%d %s</h1></body></html>\n",
			status, reason, status, reason);
	n = snprintf(buf, cap,
		     "HTTP/1.1 %d %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\n%s\r\n%s",
		     status, reason, blen, close ? "Connection: close\r\n" : "", body);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

enum chunked_state {
	CH_SIZE_FIRST, /* first hex digit of a chunk size */
	CH_SIZE,       /* more hex digits, or the end of them */
	CH_SIZE_BWS,   /* blanks after the size: only ';' or the line end may follow */
	CH_EXT,	       /* chunk extensions up to the line end */
	CH_SIZE_LF,    /* LF after the size line's CR */
	CH_DATA,
	CH_DATA_END, /* CRLF after chunk data */
	CH_DATA_LF,
	CH_TRAILER_START, /* start of a trailer line, or of the final empty line */
	CH_TRAILER,
	CH_TRAILER_LF,
	CH_END_LF, /* LF of the final empty line */
	CH_DONE,
};

void xjk_chunked_init(struct xjk_chunked *c)
{
	*c = (struct xjk_chunked){.state = CH_SIZE_FIRST};
}

static int hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Consumes one framing byte; false on invalid framing. */
static bool chunked_step(struct xjk_chunked *c, unsigned char ch)
{
	int hex;

	if (++c->line_len >
	    (c->state >= CH_TRAILER_START ? XJK_CHUNKED_TRAILER_MAX : XJK_CHUNKED_LINE_MAX))
		return false;
	switch (c->state) {
	case CH_SIZE_FIRST:
	case CH_SIZE:
		hex = hex_value(ch);
		if (hex >= 0) {
			if (c->remaining > (uint64_t)(INT64_MAX - hex) / 16)
				return false;
			c->remaining = c->remaining * 16 + (uint64_t)hex;
			c->state = CH_SIZE;
			return true;
		}
		if (c->state == CH_SIZE_FIRST)
			return false;
		/* RFC 9112 §7.1.1: BWS, then ';' starts the extensions. Anything
		 * else ("0x5", "5 x") is not a size another parser would agree on
		 * (a smuggling shape: "0x5" would otherwise read as size 0). */
		c->state = CH_SIZE_BWS;
		__attribute__((fallthrough));
	case CH_SIZE_BWS:
		if (ch == ' ' || ch == '\t')
			return true;
		if (ch == ';') {
			c->state = CH_EXT;
			return true;
		}
		if (ch != '\r' && ch != '\n')
			return false;
		c->state = CH_EXT;
		__attribute__((fallthrough));
	case CH_EXT:
		if (ch == '\r')
			c->state = CH_SIZE_LF;
		else if (ch == '\n')
			break;
		else if (!value_char(ch))
			return false;
		return true;
	case CH_SIZE_LF:
		if (ch != '\n')
			return false;
		break;
	case CH_DATA_END:
		if (ch == '\r') {
			c->state = CH_DATA_LF;
			return true;
		}
		/* A bare LF ends the data as well. */
		__attribute__((fallthrough));
	case CH_DATA_LF:
		if (ch != '\n')
			return false;
		c->state = CH_SIZE_FIRST;
		c->line_len = 0;
		return true;
	case CH_TRAILER_START:
	case CH_TRAILER:
		if (ch == '\r')
			c->state = c->state == CH_TRAILER_START ? CH_END_LF : CH_TRAILER_LF;
		else if (ch == '\n')
			c->state = c->state == CH_TRAILER_START ? CH_DONE : CH_TRAILER_START;
		else if (value_char(ch))
			c->state = CH_TRAILER;
		else
			return false;
		c->done = c->state == CH_DONE;
		return true;
	case CH_TRAILER_LF:
	case CH_END_LF:
		if (ch != '\n')
			return false;
		c->state = c->state == CH_END_LF ? CH_DONE : CH_TRAILER_START;
		c->done = c->state == CH_DONE;
		return true;
	default:
		return false;
	}
	/* The size line ended: a zero size starts the trailer section. */
	c->state = c->remaining ? CH_DATA : CH_TRAILER_START;
	c->line_len = 0;
	return true;
}

ssize_t xjk_chunked_decode(struct xjk_chunked *c, const char *in, size_t len, char *out,
			   size_t *out_len)
{
	size_t i = 0, o = 0;

	while (i < len && c->state != CH_DONE) {
		if (c->state == CH_DATA) {
			size_t n = len - i < c->remaining ? len - i : (size_t)c->remaining;

			/* memmove: out may be in, with o <= i always. */
			memmove(out + o, in + i, n);
			o += n;
			i += n;
			c->remaining -= n;
			if (!c->remaining)
				c->state = CH_DATA_END;
			continue;
		}
		if (!chunked_step(c, (unsigned char)in[i]))
			return -1;
		i++;
	}
	*out_len = o;
	return (ssize_t)i;
}

size_t xjk_chunked_header(char *buf, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t len = 1;

	for (size_t v = n >> 4; v; v >>= 4)
		len++;
	for (size_t i = len; i-- > 0; n >>= 4)
		buf[i] = digits[n & 15];
	buf[len] = '\r';
	buf[len + 1] = '\n';
	return len + 2;
}
