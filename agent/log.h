/* log.h: the agent's error log (JkLogFile/JkLogLevel) with mod_jk's level names. */
#ifndef XJK_LOG_H
#define XJK_LOG_H

enum xjk_log_level {
	XJK_LOG_TRACE,
	XJK_LOG_DEBUG,
	XJK_LOG_INFO,
	XJK_LOG_WARN,
	XJK_LOG_ERROR,
	XJK_LOG_EMERG,
};

/* Parses a JkLogLevel name (trace, debug, info, warn, error, emerg); -1 when unknown. */
int xjk_log_level_parse(const char *name);
void xjk_log_set_level(enum xjk_log_level level);
/* Sends the log to PATH (appending), or to stderr when PATH is NULL. 0 or -errno. */
int xjk_log_open(const char *path);
/* Reopens the current log file (SIGUSR1, log rotation). */
void xjk_log_reopen(void);
int xjk_log_enabled(enum xjk_log_level level);

void xjk_log(enum xjk_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define xjk_debug(...) xjk_log(XJK_LOG_DEBUG, __VA_ARGS__)
#define xjk_info(...)  xjk_log(XJK_LOG_INFO, __VA_ARGS__)
#define xjk_warn(...)  xjk_log(XJK_LOG_WARN, __VA_ARGS__)
#define xjk_error(...) xjk_log(XJK_LOG_ERROR, __VA_ARGS__)

#endif
