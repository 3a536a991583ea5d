/* splice_log.c: access log lines for spliced connections (splice_log.h). */
#include "splice_log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proxy.h"

#define XJK_SPLICE_LOG_REQUEST_MAX 512 /* longer request lines are cut */
#define XJK_SPLICE_LOG_LINE_MAX	   (XJK_SPLICE_LOG_REQUEST_MAX + 512)

int xjk_splice_log_format(char *buf, size_t len, const struct xjk_splice_log_entry *e,
			  const char *time)
{
	char req[XJK_SPLICE_LOG_REQUEST_MAX + 1];
	size_t n = e->request_len < XJK_SPLICE_LOG_REQUEST_MAX ? e->request_len
							       : XJK_SPLICE_LOG_REQUEST_MAX;

	/* The line was parsed as a request line, but a log reader splits on
	 * quotes and newlines: none may come from the client. */
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)e->request[i];
		req[i] = ch < 0x20 || ch == 0x7f || ch == '"' ? '?' : (char)ch;
	}
	req[n] = '\0';
	int w = snprintf(buf, len,
			 "%s - - [%s] \"%s\" - %llu \"-\" \"-\" %s %llu splice to_backend=%llu\n",
			 e->peer_ip, time, req, (unsigned long long)e->to_client, e->worker,
			 (unsigned long long)e->ms, (unsigned long long)e->to_backend);
	return w < 0 || (size_t)w >= len ? -1 : w;
}

void xjk_splice_log_write(struct xjk_proxy *px, const struct xjk_splice_log_entry *e)
{
	char when[40];
	struct tm tm;
	time_t now = time(NULL);

	if (px->access_fd < 0)
		return;
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
	char *w = xjk_buf_reserve(&px->access, XJK_SPLICE_LOG_LINE_MAX);
	int n = w ? xjk_splice_log_format(w, XJK_SPLICE_LOG_LINE_MAX, e, when) : -1;
	if (n > 0)
		xjk_buf_commit(&px->access, (size_t)n);
	if (xjk_buf_len(&px->access) > 32768)
		xjk_access_flush(px);
}
