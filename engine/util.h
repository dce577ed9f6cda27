/* util.h - small helpers shared by every engine module: the error list that
 * validation fills (each entry "PLACE: reason"), name checks, time stamps and
 * a growable byte buffer. Nothing here knows about jobs or FUSE. */
#ifndef LJ_UTIL_H
#define LJ_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LJ_ERRS_MAX 32 /* more errors than this are summarised as "and N more" */

/* A list of user-facing messages, e.g. "nodes.bake.in: unknown stream \"baek\"". */
struct errs {
	char *msg[LJ_ERRS_MAX];
	int n;       /* entries stored */
	int dropped; /* entries beyond LJ_ERRS_MAX */
};

void errs_init(struct errs *e);
void errs_add(struct errs *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void errs_addv(struct errs *e, const char *fmt, va_list ap);
void errs_free(struct errs *e);
/* All messages joined with "; " (malloc'd), or NULL when there are none. */
char *errs_join(const struct errs *e);

/* Names of jobs, tags, nodes and registered specs: 1..255 bytes of
 * [A-Za-z0-9._-], not starting with '.'. */
bool name_ok(const char *name);
bool name_okn(const char *name, size_t len);

/* Wall clock in milliseconds since the epoch, and a monotonic clock in ns. */
int64_t now_ms(void);
int64_t mono_ns(void);
/* RFC 3339 UTC with milliseconds: "2026-11-29T04:35:01.123Z" (24 chars + NUL; the buffer is 64 bytes). */
void time_fmt(int64_t ms, char out[64]);

/* A growable byte buffer. */
struct buf {
	char *p;
	size_t len, cap;
};
int buf_append(struct buf *b, const void *data, size_t len); /* 0 or -ENOMEM */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

/* Replace every byte that is not part of a whole UTF-8 sequence with '?'
 * (a message cut in the middle of a character, a program's raw bytes), so
 * the text can go into JSON. */
void utf8_sanitize(char *s);

/* A malloc'd copy of len bytes plus a NUL (and *out_len = len if given). */
char *memdup0(const void *p, size_t len, size_t *out_len);

/* A JSON document as text ending in a newline, the way the snapshot files
 * show it (malloc'd, *len set), or NULL. */
struct json_t;
char *json_text(const struct json_t *v, size_t flags, size_t *len);

/* Write all of data to fd (retries short writes and EINTR). 0 or -errno. */
int write_all(int fd, const void *data, size_t len);

#endif
