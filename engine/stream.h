/* stream.h - an append-only stream kept in the store: an input, a node's
 * output port, or a job output. One producer appends; any number of
 * consumers read at their own offsets and are never consumed from. The
 * bytes live in a store file (the kernel page cache is the bounded memory
 * window), so a 10 GiB stream passes with the daemon's memory flat.
 *
 * Two kinds of listeners are told when a stream grows or ends:
 *  - consumer tasks (nodes reading it), scheduled on the pool;
 *  - waiters (parked readers of the FUSE layer), called once each with
 *    no stream lock held, from the thread that appended or ended.
 *
 * Locks: `append_lock` (owner: the writers) serialises appends and is held
 * across the file write, because appends must land in order; only writers
 * of the same stream ever wait for it. `lock` (owner: the stream) guards the
 * listener lists and end state; it is held only for list updates, never
 * across I/O or a callback, and may be taken with a job lock held. */
#ifndef LJ_STREAM_H
#define LJ_STREAM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lazyfd.h"

struct task;

struct stream_waiter {
	void (*wake)(struct stream_waiter *w); /* called at most once per wait */
	uint64_t off;                          /* wake when size > off, or at end */
	struct stream_waiter *prev, *next;     /* owned by the stream while queued */
	bool parked;                           /* on the list (stream lock) */
};

/* A byte budget shared by the streams of one job (-o max_job_bytes). */
struct stream_quota {
	_Atomic uint64_t used;
	uint64_t limit;        /* 0: no limit */
};

struct stream {
	char *name;            /* "knead", "split.match", "dough" */
	struct stream_quota *quota; /* or NULL */
	struct lazyfd file;    /* the store file */
	/* A view (see stream_share) holds the first `size` bytes of this
	 * stream's file, which is its own file too; set before the stream is
	 * seen and never changed, so fd users always go to the same lazyfd. */
	struct stream *shared;
	pthread_mutex_t append_lock;
	pthread_mutex_t lock;
	_Atomic uint64_t size;
	_Atomic uint64_t records;  /* '\n'-terminated records appended */
	_Atomic unsigned counts_seq; /* odd while size and records change (append_lock) */
	_Atomic bool ended;
	_Atomic int error;     /* 0, or the errno readers at the end get (EIO) */
	int writers;           /* open input writers (job lock) */
	struct task **consumers;
	int nconsumers;
	struct stream_waiter waiters; /* list head */
};

/* Create a stream backed by the file `path` (created if missing; its
 * current length is the stream's size). 0 or -errno. */
int stream_open(const char *name, const char *path, bool create, struct stream **out);
void stream_free(struct stream *s);

/* Append len bytes. -EPIPE if the stream has ended, -EFBIG past the
 * quota, -errno (ENOSPC, ...) on store errors. */
int stream_append(struct stream *s, const void *data, size_t len);
/* Mark the end; readers at the end get EOF (error == 0) or the error. */
void stream_end(struct stream *s);
void stream_fail(struct stream *s, int err);
/* Make appended data durable (fdatasync). */
int stream_sync(struct stream *s);
/* Forget all data (restart): size 0, not ended, no error. */
int stream_reset(struct stream *s);

static inline uint64_t stream_size(struct stream *s) { return atomic_load(&s->size); }
static inline bool stream_ended(struct stream *s) { return atomic_load(&s->ended); }
static inline int stream_error(struct stream *s) { return atomic_load(&s->error); }

/* Views. A node whose output is exactly its input (pass) needs no copy:
 * stream_share() makes the store file of s, a new or reset stream, a hard
 * link to src's file, and s then grows only by stream_publish(), which
 * makes the first `size` bytes of that file s's own. Returns 0 when s is
 * a view of src (also when it already was one: the same file, found at a
 * mount), or -errno when it is not (then s is an ordinary stream). `fresh`:
 * s was just made empty and nobody has seen it. */
int stream_share(struct stream *s, struct stream *src, bool fresh);
/* size and records as one consistent pair (both only grow between resets). */
void stream_counts(struct stream *s, uint64_t *size, uint64_t *records);
/* A view grows to size bytes holding `records` records. -EPIPE after the
 * end, -EFBIG past the quota; a size at or below the current one is a no-op. */
int stream_publish(struct stream *s, uint64_t size, uint64_t records);
/* A view that ended short of its file (a failed or cancelled job) gets a
 * store file of its own with just its bytes, so that a later mount finds
 * what the job produced. No-op for other streams. 0 or -errno. */
int stream_settle(struct stream *s);
/* At a mount, before the stream is seen: a view of a job that was running
 * when the daemon stopped is cut back to `size`, what the store last
 * recorded it had produced (its file shows all of its source), and
 * settled. No-op for other streams and sizes at or above the current one.
 * 0 or -errno. */
int stream_view_trim(struct stream *s, uint64_t size);

/* Read up to len bytes at off (never past the current size). Returns the
 * byte count (0 at the current end) or -errno. */
ssize_t stream_pread(struct stream *s, void *buf, size_t len, uint64_t off);
/* The store file's fd for zero-copy replies (opens it if needed), or
 * -errno; every successful stream_fd_get() is paired with stream_fd_put(). */
int stream_fd_get(struct stream *s);
void stream_fd_put(struct stream *s);
/* A finished job's streams keep no fd open while nobody reads them, so that
 * thousands of finished jobs cost no descriptors. */
void stream_set_close_idle(struct stream *s, bool on);

/* Schedule t whenever the stream grows or ends. */
int stream_subscribe(struct stream *s, struct task *t);
void stream_unsubscribe(struct stream *s, struct task *t);

/* Park w until size > w->off or the stream ends. Returns true if parked,
 * false if that is already the case (then w->wake is not called). */
bool stream_wait(struct stream *s, struct stream_waiter *w);
/* Unpark w. Returns true if it was still parked (its wake will not be
 * called), false if it has been or is being woken. */
bool stream_unwait(struct stream *s, struct stream_waiter *w);

#endif
