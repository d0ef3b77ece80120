/* SPDX-License-Identifier: GPL-2.0 */
/* huskd's log: one line a message on stderr, with a timestamp and a level. */
#ifndef HUSK_LOG_H
#define HUSK_LOG_H

enum husk_log_level { HUSK_LOG_ERR, HUSK_LOG_WARN, HUSK_LOG_INFO, HUSK_LOG_DEBUG };

void husk_log(enum husk_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...) husk_log(HUSK_LOG_ERR, __VA_ARGS__)
#define pr_warn(...) husk_log(HUSK_LOG_WARN, __VA_ARGS__)
#define pr_info(...) husk_log(HUSK_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) husk_log(HUSK_LOG_DEBUG, __VA_ARGS__)

#endif
