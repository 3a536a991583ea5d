/* membership_table.c: the member table, echo suppression and rate limits;
 * pure logic driven by an injected clock so it can be tested without sockets. */
#include "membership.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool same_host(const struct xjk_member *m, const struct xjk_tribes_beacon *b)
{
	return m->host_len == b->host_len && !memcmp(m->host, b->host, b->host_len) &&
	       m->port == b->port;
}

static void copy_domain(char *dst, size_t dstlen, const uint8_t *src, uint32_t len)
{
	size_t n = len < dstlen - 1 ? len : dstlen - 1;
	/* The domain is arbitrary bytes; keep status output printable. */
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	dst[n] = '\0';
}

static void refresh(struct xjk_member *m, const struct xjk_tribes_beacon *b, uint64_t now)
{
	m->alive_ms = b->alive_ms;
	m->last_seen_ms = now;
	m->beacons++;
	copy_domain(m->domain, sizeof(m->domain), b->domain, b->domain_len);
}

const char *xjk_member_event_name(enum xjk_member_event ev)
{
	static const char *const names[] = {"joined", "expired", "shutdown", "restarted"};
	return names[ev];
}

/* Calls FN for member I and takes it out; the order of the table is not kept. */
static void remove_at(struct xjk_member_table *t, int i, enum xjk_member_event ev, xjk_member_fn fn,
		      void *ctx)
{
	fn(ctx, &t->v[i], ev);
	t->v[i] = t->v[--t->n];
}

static int grow(struct xjk_member_table *t)
{
	if (t->n < t->cap)
		return 0;
	int cap = t->cap ? 2 * t->cap : 8;
	struct xjk_member *v = realloc(t->v, (size_t)cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->v = v;
	t->cap = cap;
	return 0;
}

int xjk_membership_table_update(struct xjk_member_table *t, const struct xjk_tribes_beacon *b,
				uint64_t now, xjk_member_fn fn, void *ctx)
{
	bool shutdown = xjk_tribes_is_shutdown(b);
	for (int i = 0; i < t->n; i++) {
		struct xjk_member *m = &t->v[i];
		if (!same_host(m, b))
			continue;
		if (!memcmp(m->uid, b->uid, XJK_TRIBES_UID_LEN)) {
			if (shutdown)
				remove_at(t, i, XJK_MEMBER_SHUTDOWN, fn, ctx);
			else
				refresh(m, b, now);
			return 0;
		}
		/* Only one process can own a Receiver port: a new uniqueId
		 * there means the old member is dead, whatever its last beacon
		 * said. Tomcat would wait for dropTime. */
		remove_at(t, i, XJK_MEMBER_RESTARTED, fn, ctx);
		break;
	}
	/* A shutdown from a member never seen (or just replaced) is news of
	 * nothing. */
	if (shutdown)
		return 0;
	if (grow(t) < 0)
		return -ENOMEM;

	struct xjk_member *m = &t->v[t->n++];
	memset(m, 0, sizeof(*m));
	memcpy(m->host, b->host, b->host_len);
	m->host_len = b->host_len;
	m->port = b->port;
	memcpy(m->uid, b->uid, XJK_TRIBES_UID_LEN);
	m->format = b->format;
	m->first_seen_ms = now;
	xjk_tribes_addr_str(m->host, m->host_len, m->port, m->addr, sizeof(m->addr));
	refresh(m, b, now);
	fn(ctx, m, XJK_MEMBER_JOINED);
	return 0;
}

void xjk_membership_table_expire(struct xjk_member_table *t, uint64_t now, uint64_t drop_ms,
				 xjk_member_fn fn, void *ctx)
{
	for (int i = 0; i < t->n;) {
		if (now - t->v[i].last_seen_ms > drop_ms)
			remove_at(t, i, XJK_MEMBER_EXPIRED, fn, ctx); /* the last one moved to I */
		else
			i++;
	}
}

bool xjk_membership_table_next_expiry(const struct xjk_member_table *t, uint64_t drop_ms,
				      uint64_t *when)
{
	if (!t->n)
		return false;
	uint64_t oldest = t->v[0].last_seen_ms;
	for (int i = 1; i < t->n; i++)
		if (t->v[i].last_seen_ms < oldest)
			oldest = t->v[i].last_seen_ms;
	/* Expiry is strictly "more than dropTime". */
	*when = oldest + drop_ms + 1;
	return true;
}

void xjk_membership_table_free(struct xjk_member_table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* FNV-1a: a collision costs one unforwarded beacon, so speed wins. */
static uint64_t digest(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

bool xjk_membership_seen(struct xjk_seen *s, const void *buf, size_t len, uint64_t now)
{
	uint64_t d = digest(buf, len);
	size_t i = d & (XJK_MEMBERSHIP_SEEN_SLOTS - 1);
	if (s->when[i] && s->digest[i] == d && now - s->when[i] <= XJK_MEMBERSHIP_SEEN_WINDOW)
		return true;
	s->digest[i] = d;
	/* 0 marks an empty slot; a clock at 0 ms is treated as 1. */
	s->when[i] = now ? now : 1;
	return false;
}

void xjk_membership_rate_init(struct xjk_rate *r, int rate, uint64_t now)
{
	r->rate = rate;
	r->tokens = rate;
	r->last_ms = now;
}

bool xjk_membership_rate_take(struct xjk_rate *r, uint64_t now)
{
	r->tokens += (double)(now - r->last_ms) * r->rate / 1000.0;
	if (r->tokens > r->rate)
		r->tokens = r->rate;
	r->last_ms = now;
	if (r->tokens < 1.0)
		return false;
	r->tokens -= 1.0;
	return true;
}

/* Whether the first PREFIX bits of A and B agree. */
static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned bytes = prefix / 8, bits = prefix % 8;
	if (memcmp(a, b, bytes))
		return false;
	if (!bits)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - bits));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

bool xjk_membership_accept(const struct xjk_membership_config *mc,
			   const struct xjk_tribes_beacon *b)
{
	if (mc->domain &&
	    (b->domain_len != strlen(mc->domain) || memcmp(b->domain, mc->domain, b->domain_len)))
		return false;
	if (!mc->n_allow)
		return true;
	for (int i = 0; i < mc->n_allow; i++) {
		const struct xjk_cidr *c = &mc->allow[i];
		if (c->len == b->host_len && prefix_match(c->addr, b->host, c->prefix))
			return true;
	}
	return false;
}
