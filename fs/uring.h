/* uring.h - FUSE over io_uring: requests served on the CPU that made them.
 *
 * With /dev/fuse every request wakes a daemon thread that may sit on another
 * CPU, and its reply wakes the caller back: two cross-CPU wakeups, about
 * 20 us of the 29 us a stat costs on a 2-CPU VM. Linux 6.14 and later can
 * hand requests to the daemon through one io_uring queue per CPU instead
 * (the fuse module's `enable_uring` parameter): the queue's thread is pinned
 * to that CPU, so the caller and the daemon take turns on it (10 us). Debian
 * 12's libfuse (3.14) knows nothing of it; this file adds it underneath,
 * through fuse_session_custom_io(): the INIT reply asks for it, requests
 * from the rings go to fuse_session_process_buf() like those read from
 * /dev/fuse, and every reply that libfuse writes is routed to the ring
 * entry its request came on. Where the kernel says no, nothing changes.
 *
 * Locks: each queue's commit_lock (owner: the queue) guards the commits
 * other threads hand to the queue's thread (only it submits to its ring);
 * map_lock (owner: uring) guards the table of requests in flight. Neither
 * is held across a request's handling or a syscall. */
#ifndef LJ_URING_H
#define LJ_URING_H

#include <stdbool.h>
#include <stddef.h>

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

struct uring;

/* Sets the session's I/O up for FUSE over io_uring, once it is mounted.
 * `want`: false keeps /dev/fuse alone (-o uring=off). 0 or -errno. */
int uring_attach(struct fuse_session *se, bool want, struct uring **out);
/* Whether requests come over the rings (the kernel accepted them). */
bool uring_active(const struct uring *u);
/* For a READ being served on a queue's own thread: where its reply's bytes
 * can be put so that they are not copied again, and how many fit; NULL
 * otherwise (not over a ring, another thread, not a READ). */
void *uring_reply_space(struct uring *u, size_t *cap);
/* Stops the queue threads once the session loop has ended: replies made
 * after it go to /dev/fuse (the connection is gone by then). */
void uring_stop(struct uring *u);
/* Frees it all (stopping first), once nothing can reply any more: after the
 * engine is gone. */
void uring_free(struct uring *u);

#endif
