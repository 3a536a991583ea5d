/* http.h: zero-copy HTTP/1.1 request head parser, chunked body codec and
 * small response helpers for the client side of xjkd.
 *
 * Nothing here allocates: parsed fields are slices into the caller's buffer,
 * so the buffer must outlive the parsed request. */
#ifndef XJK_HTTP_H
#define XJK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* A slice of someone else's bytes; not NUL-terminated. p == NULL means absent. */
struct xjk_str {
	const char *p;
	uint32_t len;
};

struct xjk_http_header {
	struct xjk_str name, value; /* value without leading/trailing whitespace */
};

struct xjk_http_limits {
	uint32_t max_head;    /* bytes of the whole head, leading empty lines included */
	uint32_t max_headers; /* header fields; the hdrs array must hold this many */
};

#define XJK_HTTP_METHOD_OTHER 0xFF /* AJP13: send the name in attribute 0x0D */

struct xjk_http_request {
	struct xjk_str method;
	struct xjk_str target; /* as received */
	/* path: raw (not %-decoded) path of the target; "*" for OPTIONS *; "/"
	 * (static storage) for an absolute-form target without a path. */
	struct xjk_str path;
	struct xjk_str query; /* without '?'; p == NULL when the target has no '?' */
	/* host: the absolute-form authority when there is one (RFC 9112 §3.2.2),
	 * otherwise the Host header value; p == NULL for HTTP/1.0 without Host. */
	struct xjk_str host;
	int method_code; /* AJP13 method code 1..27 or XJK_HTTP_METHOD_OTHER */
	int minor;	 /* HTTP/1.minor: 0 or 1 */
	struct xjk_http_header *headers;
	uint32_t n_headers;
	int64_t content_length; /* -1 when absent (and always when chunked) */
	bool chunked, keep_alive, expect_continue;
	uint32_t head_len; /* bytes of the head including the final empty line */
};

/* Parses the request head at the start of buf. hdrs has room for
 * lim->max_headers entries and receives the header slices.
 * Returns 1 when the head is complete (req filled; the body or the next
 * pipelined request starts at buf + req->head_len), 0 when more bytes are
 * needed, -1 when the request is invalid with *status set to the response
 * status (400, 414, 417, 431, 501 or 505); the connection must then close. */
int xjk_http_parse_request(const char *buf, size_t len, const struct xjk_http_limits *lim,
			   struct xjk_http_header *hdrs, struct xjk_http_request *req, int *status);

/* First header called name (case-insensitive), or NULL. */
const struct xjk_http_header *xjk_http_find(const struct xjk_http_request *req, const char *name);

/* True when s equals the C string lit, ignoring ASCII case. Inline so that
 * strlen(lit) folds and most calls end at the length test: header names are
 * compared on every request. */
static inline bool xjk_str_caseeq(struct xjk_str s, const char *lit)
{
	size_t n = strlen(lit);

	if (!s.p || n != s.len)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char a = (unsigned char)s.p[i], b = (unsigned char)lit[i];

		if (a != b && ((a | 0x20) != (b | 0x20) || (a | 0x20) < 'a' || (a | 0x20) > 'z'))
			return false;
	}
	return true;
}

/* Standard reason phrase (RFC 9110), or "" for a status it does not know. */
const char *xjk_http_reason(int status);

/* Writes a complete error response (status line, Content-Type text/html,
 * Content-Length, "Connection: close" when close is set, a small HTML body)
 * into buf. Returns its length, or -1 when cap is too small. */
int xjk_http_error_response(char *buf, size_t cap, int status, bool close);

/* Incremental decoder of a chunked request body (RFC 9112 §7.1). Chunk
 * extensions and trailer fields are validated and dropped. */
#define XJK_CHUNKED_LINE_MAX	4096 /* one chunk-size line with extensions and CRLF */
#define XJK_CHUNKED_TRAILER_MAX 8192 /* the whole trailer section */

struct xjk_chunked {
	int state;	    /* private: where in the framing the decoder is */
	uint64_t remaining; /* private: data bytes left in the current chunk */
	uint32_t line_len;  /* private: bytes of the current size line or trailers */
	bool done;	    /* the last chunk and the trailer section were consumed */
};

void xjk_chunked_init(struct xjk_chunked *c);

/* Consumes framing and data from in and writes the decoded body bytes to out
 * (*out_len receives their count). out needs room for len bytes and may be
 * in itself: decoding never writes ahead of what it has read. Stops right
 * after the body ends, so a pipelined request after it is not consumed.
 * Returns the bytes consumed, or -1 on invalid framing (bad or overflowing
 * size, missing CRLF, control characters in extensions or trailers, lines or
 * trailers over the limits above). */
ssize_t xjk_chunked_decode(struct xjk_chunked *c, const char *in, size_t len, char *out,
			   size_t *out_len);

#define XJK_CHUNKED_HEADER_MAX 18 /* 16 hex digits + CRLF */

/* Writes the chunk-size line "<hex n>\r\n" for a response chunk of n bytes
 * into buf (room for XJK_CHUNKED_HEADER_MAX) and returns its length. */
size_t xjk_chunked_header(char *buf, size_t n);

#endif
