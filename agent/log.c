/* log.c: a line-buffered error log shared by all event-loop threads. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error", "emerg"};

static int log_level = XJK_LOG_INFO;
static int log_fd = STDERR_FILENO;
static char *log_path;

int xjk_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcasecmp(name, level_names[i]))
			return (int)i;
	return -1;
}

void xjk_log_set_level(enum xjk_log_level level)
{
	log_level = level;
}

int xjk_log_enabled(enum xjk_log_level level)
{
	return (int)level >= log_level;
}

int xjk_log_open(const char *path)
{
	if (!path) {
		if (log_fd != STDERR_FILENO)
			close(log_fd);
		log_fd = STDERR_FILENO;
		free(log_path);
		log_path = NULL;
		return 0;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	char *copy = strdup(path);
	free(log_path);
	log_path = copy;
	return 0;
}

void xjk_log_reopen(void)
{
	if (log_path) {
		char *path = strdup(log_path);
		if (path)
			xjk_log_open(path);
		free(path);
	}
}

void xjk_log(enum xjk_log_level level, const char *fmt, ...)
{
	if (!xjk_log_enabled(level))
		return;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	int n = (int)strftime(line, sizeof(line), "[%Y-%m-%d %H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ld] [%s] ", ts.tv_nsec / 1000000,
		      level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line keeps lines from different threads whole. */
	if (write(log_fd, line, (size_t)n) < 0)
		return;
}
