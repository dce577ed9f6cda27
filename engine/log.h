/* log.h - the logger: a job's `log` file or the daemon's `.log`. Lines are
 * "2026-11-29T04:35:01.123Z INFO  who: message\n", appended to a store file
 * and read back with snapshot semantics (size is exact at every moment).
 * Locks: `lock` (owner: the log) serialises appends, held across the
 * append write so lines never interleave; readers never take it. */
#ifndef LJ_LOG_H
#define LJ_LOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lazyfd.h"

enum log_level { LOG_INFO, LOG_WARN, LOG_ERROR };

struct log {
	pthread_mutex_t lock;
	struct lazyfd file;   /* opened when needed; closed when idle once the job is done */
	_Atomic uint64_t size;
	struct log *mirror; /* also receives ERROR lines prefixed with `mirror_who` */
	const char *mirror_who; /* borrowed: the owner (the job's name) outlives the log */
};

/* Open (create) the log file at path. 0 or -errno. */
int log_open(const char *path, struct log **out);
void log_close(struct log *l);

void log_msg(struct log *l, enum log_level lv, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void log_vmsg(struct log *l, enum log_level lv, const char *who, const char *fmt, va_list ap);

static inline uint64_t log_size(struct log *l) { return atomic_load(&l->size); }
ssize_t log_pread(struct log *l, void *buf, size_t len, uint64_t off);
int log_sync(struct log *l);
/* The fd for a zero-copy reply; pair with log_fd_put(). */
int log_fd_get(struct log *l);
void log_fd_put(struct log *l);
void log_set_close_idle(struct log *l, bool on);

#endif
