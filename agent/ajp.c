/* ajp.c: the AJP13 codec (see ajp.h): FORWARD_REQUEST and body packet
 * encoding, container message decoding. Layouts are in modjk-ajp13.md §1. */
#include <string.h>

#include "ajp.h"

enum {
	XJK_AJP_FORWARD_REQUEST = 2,
	XJK_AJP_ATTR_QUERY_STRING = 0x05,
	XJK_AJP_ATTR_ROUTE = 0x06,
	XJK_AJP_ATTR_REQ_ATTRIBUTE = 0x0A,
	XJK_AJP_ATTR_SECRET = 0x0C,
	XJK_AJP_ATTR_STORED_METHOD = 0x0D,
	XJK_AJP_ARE_DONE = 0xFF,
	XJK_AJP_NULL_STRING = 0xFFFF,
	XJK_AJP_CODE_CONTENT_LENGTH = 0xA008,
};

const uint8_t xjk_ajp_end_packet[4] = {0x12, 0x34, 0x00, 0x00};
const uint8_t xjk_ajp_cping[5] = {0x12, 0x34, 0x00, 0x01, 0x0A};

/* Request header codes are 0xA000 + 1-based index into this table. */
static const struct xjk_str xjk_ajp_req_names[] = {
#define N(s)                                                                                       \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}
	N("accept"),	      N("accept-charset"), N("accept-encoding"),
	N("accept-language"), N("authorization"),  N("connection"),
	N("content-type"),    N("content-length"), N("cookie"),
	N("cookie2"),	      N("host"),	   N("pragma"),
	N("referer"),	      N("user-agent"),
#undef N
};

/* Response header codes, decoded to the names a client expects to see. */
static const struct xjk_str xjk_ajp_resp_names[] = {
#define N(s)                                                                                       \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}
	N("Content-Type"),   N("Content-Language"), N("Content-Length"),   N("Date"),
	N("Last-Modified"),  N("Location"),	    N("Set-Cookie"),	   N("Set-Cookie2"),
	N("Servlet-Engine"), N("Status"),	    N("WWW-Authenticate"),
#undef N
};

#define XJK_AJP_N_RESP_NAMES (sizeof(xjk_ajp_resp_names) / sizeof(xjk_ajp_resp_names[0]))

static const struct xjk_str xjk_ajp_activation_names[] = {
	[XJK_ACTIVE] = {"ACT", 3},
	[XJK_DISABLED] = {"DIS", 3},
	[XJK_STOPPED] = {"STP", 3},
};

/* A cursor over a bounded packet, for writing (out) or reading (in). Going
 * past the end sets bad and every later step does nothing, so callers check
 * for overflow or truncation once at the end. */
struct xjk_ajp_cur {
	uint8_t *out;
	const uint8_t *in;
	size_t pos, len;
	bool bad;
};

static bool xjk_ajp_room(struct xjk_ajp_cur *c, size_t n)
{
	if (c->bad || c->len - c->pos < n)
		c->bad = true;
	return !c->bad;
}

static void xjk_ajp_put_u16_at(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void xjk_ajp_put_u8(struct xjk_ajp_cur *o, unsigned v)
{
	if (xjk_ajp_room(o, 1))
		o->out[o->pos++] = (uint8_t)v;
}

static void xjk_ajp_put_u16(struct xjk_ajp_cur *o, unsigned v)
{
	if (!xjk_ajp_room(o, 2))
		return;
	xjk_ajp_put_u16_at(o->out + o->pos, v);
	o->pos += 2;
}

static void xjk_ajp_put_bytes(struct xjk_ajp_cur *o, const char *p, size_t len)
{
	/* 0xFFFF is the null string; no packet holds one that long anyway */
	if (len >= XJK_AJP_NULL_STRING)
		o->bad = true;
	if (!xjk_ajp_room(o, len + 3))
		return;
	xjk_ajp_put_u16(o, (unsigned)len);
	memcpy(o->out + o->pos, p, len);
	o->pos += len;
	o->out[o->pos++] = 0;
}

static void xjk_ajp_put_str(struct xjk_ajp_cur *o, struct xjk_str s)
{
	if (s.p)
		xjk_ajp_put_bytes(o, s.p, s.len);
	else
		xjk_ajp_put_u16(o, XJK_AJP_NULL_STRING);
}

static void xjk_ajp_put_cstr(struct xjk_ajp_cur *o, const char *z)
{
	xjk_ajp_put_bytes(o, z, strlen(z));
}

/* ASCII-only and inline: libc's strncasecmp, locale-aware, showed up as the
 * encoder's largest cost. lower is already lower case. */
static bool xjk_ajp_caseeq(const char *lower, const char *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char)lower[i])
			return false;
	}
	return true;
}

/* Low bytes of the request codes by name length, so that a name is compared
 * with at most three candidates instead of all fourteen. */
static const uint8_t xjk_ajp_req_by_len[16][3] = {
	[4] = {0x0B},	     [6] = {0x01, 0x09, 0x0C},
	[7] = {0x0A, 0x0D},  [10] = {0x06, 0x0E},
	[12] = {0x07},	     [13] = {0x05},
	[14] = {0x02, 0x08}, [15] = {0x03, 0x04},
};

/* The request header code for name, or 0 when it goes out as a string. */
static unsigned xjk_ajp_req_code(struct xjk_str name)
{
	if (name.len >= 16)
		return 0;
	for (unsigned i = 0; i < 3 && xjk_ajp_req_by_len[name.len][i]; i++) {
		unsigned code = xjk_ajp_req_by_len[name.len][i];

		if (xjk_ajp_caseeq(xjk_ajp_req_names[code - 1].p, name.p, name.len))
			return 0xA000 + code;
	}
	return 0;
}

/* Headers, with the Content-Length rule applied; returns how many went out. */
static unsigned xjk_ajp_put_headers(struct xjk_ajp_cur *o, const struct xjk_ajp_request *req)
{
	unsigned n = 0;
	bool has_length = false;

	for (uint32_t i = 0; i < req->n_headers; i++) {
		const struct xjk_http_header *h = &req->headers[i];
		unsigned code = xjk_ajp_req_code(h->name);

		if (code == XJK_AJP_CODE_CONTENT_LENGTH) {
			if (req->chunked)
				continue;
			has_length = true;
		}
		if (code)
			xjk_ajp_put_u16(o, code);
		else if (h->name.len < 0xA000) /* longer ones would read as a code */
			xjk_ajp_put_bytes(o, h->name.p, h->name.len);
		else
			o->bad = true;
		xjk_ajp_put_str(o, h->value);
		n++;
	}
	if (!req->chunked && !has_length) {
		xjk_ajp_put_u16(o, XJK_AJP_CODE_CONTENT_LENGTH);
		xjk_ajp_put_cstr(o, "0");
		n++;
	}
	return n;
}

static void xjk_ajp_put_req_attribute(struct xjk_ajp_cur *o, const char *name, struct xjk_str v)
{
	xjk_ajp_put_u8(o, XJK_AJP_ATTR_REQ_ATTRIBUTE);
	xjk_ajp_put_cstr(o, name);
	xjk_ajp_put_str(o, v);
}

/* Optional string attributes, only when present. */
static void xjk_ajp_put_attribute(struct xjk_ajp_cur *o, unsigned code, struct xjk_str v)
{
	if (!v.p)
		return;
	xjk_ajp_put_u8(o, code);
	xjk_ajp_put_str(o, v);
}

static struct xjk_str xjk_ajp_port_str(char *buf, uint16_t port)
{
	char *end = buf + 5, *p = end;

	do {
		*--p = (char)('0' + port % 10);
		port /= 10;
	} while (port);
	return (struct xjk_str){p, (uint32_t)(end - p)};
}

int xjk_ajp_encode_request(uint8_t *buf, size_t max_packet, const struct xjk_ajp_request *req)
{
	struct xjk_ajp_cur o = {.out = buf, .len = max_packet};
	const bool other = req->method_code == XJK_HTTP_METHOD_OTHER;
	char port[5];
	size_t n_headers_at;

	if (other ? !req->method.p : req->method_code < 1 || req->method_code > 27)
		return -1;
	if ((unsigned)req->activation > XJK_STOPPED)
		return -1;
	xjk_ajp_put_u16(&o, 0x1234);
	xjk_ajp_put_u16(&o, 0); /* payload length, known at the end */
	xjk_ajp_put_u8(&o, XJK_AJP_FORWARD_REQUEST);
	xjk_ajp_put_u8(&o, (unsigned)req->method_code);
	xjk_ajp_put_str(&o, req->protocol);
	xjk_ajp_put_str(&o, req->uri);
	xjk_ajp_put_str(&o, req->remote_addr);
	xjk_ajp_put_str(&o, req->remote_host);
	xjk_ajp_put_str(&o, req->server_name);
	xjk_ajp_put_u16(&o, req->server_port);
	xjk_ajp_put_u8(&o, req->is_ssl);
	n_headers_at = o.pos;
	xjk_ajp_put_u16(&o, 0); /* header count, known after the Content-Length rule */
	unsigned n_headers = xjk_ajp_put_headers(&o, req);

	/* mod_jk's order; Tomcat checks the secret before anything else */
	xjk_ajp_put_attribute(&o, XJK_AJP_ATTR_SECRET, req->secret);
	xjk_ajp_put_attribute(&o, XJK_AJP_ATTR_QUERY_STRING, req->query);
	xjk_ajp_put_attribute(&o, XJK_AJP_ATTR_ROUTE, req->route);
	if (other)
		xjk_ajp_put_attribute(&o, XJK_AJP_ATTR_STORED_METHOD, req->method);
	xjk_ajp_put_req_attribute(&o, "AJP_REMOTE_PORT", xjk_ajp_port_str(port, req->remote_port));
	xjk_ajp_put_req_attribute(&o, "AJP_LOCAL_ADDR", req->local_addr);
	xjk_ajp_put_req_attribute(&o, "JK_LB_ACTIVATION",
				  xjk_ajp_activation_names[req->activation]);
	xjk_ajp_put_u8(&o, XJK_AJP_ARE_DONE);
	if (o.bad)
		return -1;
	xjk_ajp_put_u16_at(buf + 2, (unsigned)(o.pos - XJK_AJP_HEADER_LEN));
	xjk_ajp_put_u16_at(buf + n_headers_at, n_headers);
	return (int)o.pos;
}

size_t xjk_ajp_body_header(uint8_t *hdr, size_t len)
{
	hdr[0] = 0x12;
	hdr[1] = 0x34;
	xjk_ajp_put_u16_at(hdr + 2, (unsigned)(len + 2));
	xjk_ajp_put_u16_at(hdr + 4, (unsigned)len);
	return len + XJK_AJP_BODY_HEADER_LEN;
}

static unsigned xjk_ajp_get_u8(struct xjk_ajp_cur *in)
{
	return xjk_ajp_room(in, 1) ? in->in[in->pos++] : 0;
}

static unsigned xjk_ajp_peek_u16(struct xjk_ajp_cur *in)
{
	return xjk_ajp_room(in, 2) ? (unsigned)in->in[in->pos] << 8 | in->in[in->pos + 1] : 0;
}

static unsigned xjk_ajp_get_u16(struct xjk_ajp_cur *in)
{
	unsigned v = xjk_ajp_peek_u16(in);

	if (!in->bad)
		in->pos += 2;
	return v;
}

/* A string, or p == NULL for the null string. */
static struct xjk_str xjk_ajp_get_str(struct xjk_ajp_cur *in)
{
	struct xjk_str s = {NULL, 0};
	unsigned len = xjk_ajp_get_u16(in);

	if (in->bad || len == XJK_AJP_NULL_STRING)
		return s;
	if (!xjk_ajp_room(in, (size_t)len + 1) || in->in[in->pos + len] != 0) {
		in->bad = true;
		return s;
	}
	s.p = (const char *)in->in + in->pos;
	s.len = len;
	in->pos += (size_t)len + 1;
	return s;
}

/* Bytes that must never reach the client inside a header line: CR, LF and
 * NUL anywhere, and in a name also the ':' and blanks that would end it. */
enum { XJK_AJP_BAD_VALUE = 1, XJK_AJP_BAD_NAME = 2 };

static const uint8_t xjk_ajp_bad[256] = {
	['\0'] = XJK_AJP_BAD_VALUE | XJK_AJP_BAD_NAME,
	['\r'] = XJK_AJP_BAD_VALUE | XJK_AJP_BAD_NAME,
	['\n'] = XJK_AJP_BAD_VALUE | XJK_AJP_BAD_NAME,
	[':'] = XJK_AJP_BAD_NAME,
	[' '] = XJK_AJP_BAD_NAME,
	['\t'] = XJK_AJP_BAD_NAME,
};

static bool xjk_ajp_clean(struct xjk_str s, unsigned bad)
{
	for (uint32_t i = 0; i < s.len; i++) {
		if (xjk_ajp_bad[(unsigned char)s.p[i]] & bad)
			return false;
	}
	return true;
}

static void xjk_ajp_get_header(struct xjk_ajp_cur *in, struct xjk_http_header *h)
{
	unsigned code = xjk_ajp_peek_u16(in);

	if ((code >> 8) == 0xA0) {
		code &= 0xFF;
		in->pos += 2;
		if (code < 1 || code > XJK_AJP_N_RESP_NAMES)
			in->bad = true;
		else
			h->name = xjk_ajp_resp_names[code - 1];
	} else {
		h->name = xjk_ajp_get_str(in);
		if (!h->name.p || !h->name.len || !xjk_ajp_clean(h->name, XJK_AJP_BAD_NAME))
			in->bad = true;
	}
	h->value = xjk_ajp_get_str(in);
	if (!h->value.p || !xjk_ajp_clean(h->value, XJK_AJP_BAD_VALUE))
		in->bad = true;
}

static void xjk_ajp_get_headers_msg(struct xjk_ajp_cur *in, struct xjk_ajp_msg *out,
				    struct xjk_http_header *hdrs, unsigned max_hdrs)
{
	out->status = (int)xjk_ajp_get_u16(in);
	out->reason = xjk_ajp_get_str(in);
	out->n_headers = xjk_ajp_get_u16(in);
	out->headers = hdrs;
	if (out->status < 100 || out->status > 999 || out->n_headers > max_hdrs)
		in->bad = true;
	for (uint32_t i = 0; i < out->n_headers && !in->bad; i++)
		xjk_ajp_get_header(in, &hdrs[i]);
}

static void xjk_ajp_get_body_msg(struct xjk_ajp_cur *in, struct xjk_ajp_msg *out)
{
	unsigned len = xjk_ajp_get_u16(in);

	/* mod_jk's bound (type, length and the trailing NUL): a chunk may not
	 * claim bytes beyond its message, or we would send out stale memory */
	if (in->bad || len > in->len - 3) {
		in->bad = true;
		return;
	}
	out->body.p = (const char *)in->in + in->pos;
	out->body.len = len;
}

int xjk_ajp_parse(const uint8_t *buf, size_t len, size_t max_packet, struct xjk_ajp_msg *out,
		  struct xjk_http_header *hdrs, unsigned max_hdrs)
{
	struct xjk_ajp_cur in = {.in = buf + XJK_AJP_HEADER_LEN};
	size_t plen;

	/* a wrong magic fails as soon as its bytes are there */
	if ((len >= 1 && buf[0] != 'A') || (len >= 2 && buf[1] != 'B'))
		return -1;
	if (len < XJK_AJP_HEADER_LEN)
		return 0;
	plen = (size_t)buf[2] << 8 | buf[3];
	if (plen == 0 || plen > max_packet - XJK_AJP_HEADER_LEN)
		return -1;
	if (len - XJK_AJP_HEADER_LEN < plen)
		return 0;
	in.len = plen;
	memset(out, 0, sizeof(*out));
	out->type = (enum xjk_ajp_type)xjk_ajp_get_u8(&in);
	switch (out->type) {
	case XJK_AJP_SEND_HEADERS:
		xjk_ajp_get_headers_msg(&in, out, hdrs, max_hdrs);
		break;
	case XJK_AJP_SEND_BODY_CHUNK:
		xjk_ajp_get_body_msg(&in, out);
		break;
	case XJK_AJP_END_RESPONSE:
		out->reuse = xjk_ajp_get_u8(&in) != 0;
		break;
	case XJK_AJP_GET_BODY_CHUNK:
		out->requested = (uint16_t)xjk_ajp_get_u16(&in);
		break;
	case XJK_AJP_CPONG:
		break;
	default:
		return -1;
	}
	return in.bad ? -1 : (int)(XJK_AJP_HEADER_LEN + plen);
}
