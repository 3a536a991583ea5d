/* buf.h: a byte buffer with a consumed prefix, used for every socket queue.
 * Bytes live in data[start, end); compaction happens only when space runs out,
 * so the common case of "append, send, consume" never moves memory. */
#ifndef XJK_BUF_H
#define XJK_BUF_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct xjk_buf {
	char *data;
	size_t start, end, cap;
};

static inline size_t xjk_buf_len(const struct xjk_buf *b)
{
	return b->end - b->start;
}

static inline char *xjk_buf_head(const struct xjk_buf *b)
{
	return b->data + b->start;
}

static inline void xjk_buf_consume(struct xjk_buf *b, size_t n)
{
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
}

static inline void xjk_buf_reset(struct xjk_buf *b)
{
	b->start = b->end = 0;
}

static inline void xjk_buf_free(struct xjk_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->start = b->end = b->cap = 0;
}

/* Makes room for N more bytes at the end; returns the write pointer or NULL. */
static inline char *xjk_buf_reserve(struct xjk_buf *b, size_t n)
{
	if (b->cap - b->end >= n)
		return b->data + b->end;
	if (b->start && b->cap - (b->end - b->start) >= n) {
		memmove(b->data, b->data + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
		return b->data + b->end;
	}
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - (b->end - b->start) < n)
		cap *= 2;
	char *data = malloc(cap);
	if (!data)
		return NULL;
	if (b->data)
		memcpy(data, b->data + b->start, b->end - b->start);
	free(b->data);
	b->end -= b->start;
	b->start = 0;
	b->data = data;
	b->cap = cap;
	return b->data + b->end;
}

static inline int xjk_buf_append(struct xjk_buf *b, const void *p, size_t n)
{
	char *w = xjk_buf_reserve(b, n);
	if (!w)
		return -1;
	memcpy(w, p, n);
	b->end += n;
	return 0;
}

static inline void xjk_buf_commit(struct xjk_buf *b, size_t n)
{
	b->end += n;
}

/* Sends what B holds to the non-blocking socket FD while *WRITABLE, clearing
 * it at EAGAIN (an edge-triggered EPOLLOUT sets it again). Returns the bytes
 * sent, or -1 when the socket failed. */
static inline ssize_t xjk_buf_send(int fd, struct xjk_buf *b, bool *writable)
{
	ssize_t sent = 0;
	while (xjk_buf_len(b) && *writable) {
		ssize_t n = send(fd, xjk_buf_head(b), xjk_buf_len(b), MSG_NOSIGNAL);
		if (n > 0) {
			xjk_buf_consume(b, (size_t)n);
			sent += n;
		} else if (n < 0 && errno == EAGAIN) {
			*writable = false;
		} else if (!(n < 0 && errno == EINTR)) {
			return -1;
		}
	}
	return sent;
}

#endif
