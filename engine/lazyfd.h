/* lazyfd.h - a store file opened only while it is used. Streams and logs
 * of running jobs keep their file open; those of finished jobs close it
 * whenever nobody uses it ("close when idle"), so thousands of finished
 * jobs cost no descriptors. Every successful lazyfd_get() is paired with a
 * lazyfd_put(). `lock` (owner: the lazyfd) is a leaf lock held only around
 * the open/close bookkeeping, never across reads or writes. */
#ifndef LJ_LAZYFD_H
#define LJ_LAZYFD_H

#include <pthread.h>
#include <stdbool.h>

struct lazyfd {
	pthread_mutex_t lock;
	char *path;
	int flags;       /* open(2) flags; O_CREAT and O_CLOEXEC are added */
	int fd;          /* -1 when closed */
	int users;
	bool close_idle;
};

int lazyfd_init(struct lazyfd *f, const char *path, int flags); /* 0 or -ENOMEM */
void lazyfd_destroy(struct lazyfd *f);
/* The fd, opened if needed, or -errno. */
int lazyfd_get(struct lazyfd *f);
/* The fd if it is open now (then paired with lazyfd_put), else -1. */
int lazyfd_get_open(struct lazyfd *f);
void lazyfd_put(struct lazyfd *f);
void lazyfd_set_close_idle(struct lazyfd *f, bool on);

#endif
