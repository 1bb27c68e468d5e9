#pragma once
/*
 * log.h - the server log, in Redis's line format:
 *   "<pid>:M 24 Nov 2026 17:00:00.123 * message"
 * Levels as Redis: debug, verbose, notice, warning. Any thread.
 */
#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING };

/* Send lines to path ("" or NULL = stdout). 0 or -errno. */
int log_open(const char *path);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "debug"/"verbose"/"notice"/"warning"; false if unknown. */
bool log_parse_level(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_msg(LOG_VERBOSE, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
