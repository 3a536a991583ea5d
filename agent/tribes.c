/* tribes.c: bounds-checked parser for Tomcat Tribes membership beacons (both formats). */
#include "tribes.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const uint8_t begin_marker[] = {'T', 'R', 'I', 'B', 'E', 'S', '-', 'B', 1, 0};
static const uint8_t end_marker[] = {'T', 'R', 'I', 'B', 'E', 'S', '-', 'E', 1, 0};
static const uint8_t shutdown_command[] = {'B', 'A', 'B', 'Y', '-', 'A', 'L', 'E', 'X'};

/* The Tomcat 6 markers are the current ones without the two version bytes. */
#define TC6_MARKER_LEN	   8
#define CURRENT_MARKER_LEN sizeof(begin_marker)

/* A cursor over the body; any read past END sets BAD and yields nothing, so
 * lying length fields cannot make the parser read outside the datagram. */
struct cursor {
	const uint8_t *p;
	size_t off;
	size_t end;
	bool bad;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
	if (c->bad || n > c->end - c->off) {
		c->bad = true;
		return NULL;
	}
	const uint8_t *at = c->p + c->off;
	c->off += n;
	return at;
}

static uint32_t take_u32(struct cursor *c)
{
	const uint8_t *q = take(c, 4);
	if (!q)
		return 0;
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static int32_t take_i32(struct cursor *c)
{
	return (int32_t)take_u32(c);
}

static int64_t take_i64(struct cursor *c)
{
	uint64_t hi = take_u32(c);
	return (int64_t)(hi << 32 | take_u32(c));
}

/* A Java int length: negative values are as invalid as ones that overrun. */
static const uint8_t *take_counted(struct cursor *c, uint32_t *len)
{
	int32_t n = take_i32(c);
	if (n < 0) {
		c->bad = true;
		return NULL;
	}
	*len = (uint32_t)n;
	return take(c, (size_t)n);
}

enum xjk_tribes_status xjk_tribes_parse(const void *buf, size_t len, struct xjk_tribes_beacon *b)
{
	const uint8_t *p = buf;

	if (len < TC6_MARKER_LEN || memcmp(p, begin_marker, TC6_MARKER_LEN))
		return XJK_TRIBES_OTHER;
	if (len > XJK_TRIBES_MAX_DATAGRAM)
		return XJK_TRIBES_MALFORMED;

	/* Version bytes 01 00 after "TRIBES-B" mean the current format; in the
	 * Tomcat 6 format those two bytes start the body length, which would
	 * then exceed any datagram, so the two cannot be confused. */
	size_t marker = TC6_MARKER_LEN;
	memset(b, 0, sizeof(*b));
	b->format = XJK_TRIBES_TC6;
	if (len >= CURRENT_MARKER_LEN && !memcmp(p, begin_marker, CURRENT_MARKER_LEN)) {
		marker = CURRENT_MARKER_LEN;
		b->format = XJK_TRIBES_CURRENT;
	}

	struct cursor c = {.p = p, .off = marker, .end = len};
	int32_t body = take_i32(&c);
	if (c.bad || body < 0 || (size_t)body + marker > len - c.off)
		return XJK_TRIBES_MALFORMED;
	size_t body_end = c.off + (size_t)body;
	if (memcmp(p + body_end, end_marker, marker))
		return XJK_TRIBES_MALFORMED;
	/* The fields must fill the body exactly; anything after the end
	 * marker is ignored, as Tomcat does. */
	c.end = body_end;

	b->alive_ms = take_i64(&c);
	b->port = take_i32(&c);
	b->secure_port = take_i32(&c);
	b->udp_port = b->format == XJK_TRIBES_CURRENT ? take_i32(&c) : -1;
	const uint8_t *hl = take(&c, 1);
	b->host_len = hl ? *hl : 0;
	const uint8_t *host = take(&c, b->host_len);
	b->command = take_counted(&c, &b->command_len);
	b->domain = take_counted(&c, &b->domain_len);
	const uint8_t *uid = take(&c, XJK_TRIBES_UID_LEN);
	b->payload = take_counted(&c, &b->payload_len);

	if (c.bad || c.off != body_end)
		return XJK_TRIBES_MALFORMED;
	if (b->host_len != 4 && b->host_len != 16)
		return XJK_TRIBES_MALFORMED;
	if (b->port <= 0 || b->port > 65535)
		return XJK_TRIBES_MALFORMED;
	memcpy(b->host, host, b->host_len);
	memcpy(b->uid, uid, XJK_TRIBES_UID_LEN);
	return XJK_TRIBES_OK;
}

bool xjk_tribes_is_shutdown(const struct xjk_tribes_beacon *b)
{
	return b->command_len == sizeof(shutdown_command) &&
	       !memcmp(b->command, shutdown_command, sizeof(shutdown_command));
}

void xjk_tribes_addr_str(const uint8_t *host, uint8_t host_len, int32_t port, char *out,
			 size_t outlen)
{
	char ip[INET6_ADDRSTRLEN];
	bool v6 = host_len == 16;
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, host, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(out, outlen, v6 ? "[%s]:%d" : "%s:%d", ip, (int)port);
}

void xjk_tribes_uid_str(const uint8_t uid[XJK_TRIBES_UID_LEN], char out[33])
{
	for (int i = 0; i < XJK_TRIBES_UID_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", uid[i]);
}

const char *xjk_tribes_format_name(enum xjk_tribes_format format)
{
	return format == XJK_TRIBES_TC6 ? "tomcat6" : "current";
}
