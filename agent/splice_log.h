/* splice_log.h: the access log line of a spliced connection. Once the kernel
 * moves the bytes xjkd sees no request or response boundaries, so a spliced
 * connection gets one line when it is torn down: its first request line, the
 * member that served it last, the bytes each way and how long it lasted. */
#ifndef XJK_SPLICE_LOG_H
#define XJK_SPLICE_LOG_H

#include <stddef.h>
#include <stdint.h>

struct xjk_proxy;

struct xjk_splice_log_entry {
	const char *peer_ip;
	const char *request; /* the first request line, without its CRLF */
	size_t request_len;
	const char *worker;
	uint64_t to_backend; /* bytes sent to the backend(s), xjkd's and the kernel's */
	uint64_t to_client;  /* bytes sent to the client, answers of xjkd's own included */
	uint64_t ms;	     /* from the hand-off to the teardown */
};

/* Formats E with TIME (the access log's "[...]" text) into BUF:
 *   IP - - [TIME] "REQUEST" - TO_CLIENT "-" "-" WORKER MS splice to_backend=N
 * The status is "-": the kernel carried the answers. Control characters and
 * quotes of the request line become '?'. Returns the length, or -1 when BUF
 * is too small. */
int xjk_splice_log_format(char *buf, size_t len, const struct xjk_splice_log_entry *e,
			  const char *time);
/* Appends E's line to PX's access log buffer (when an access log is set). */
void xjk_splice_log_write(struct xjk_proxy *px, const struct xjk_splice_log_entry *e);

#endif
