/* replybuf.h - resident buffers for large read replies (see replybuf.c). */
#ifndef LJ_REPLYBUF_H
#define LJ_REPLYBUF_H

#include <pthread.h>
#include <stddef.h>

/* The largest reply we are asked for: max_write and max_readahead are 1 MiB,
 * and the kernel's max_pages follows max_write. */
#define REPLYBUF_SIZE ((size_t)1 << 20)

/* Replies up to this size are spliced from the store file by libfuse: the
 * header and the data pages fit a pipe of the default maximum size. */
#define REPLYBUF_SPLICE_MAX (REPLYBUF_SIZE - 2 * 4096)

struct replybuf {
	struct replybuf *next;
	char *data;                 /* REPLYBUF_SIZE bytes, page-aligned */
};

/* Lock: lock (owner: the pool) guards free and count; never held across a
 * syscall or a reply. */
struct replybuf_pool {
	pthread_mutex_t lock;
	struct replybuf *free;
	int count;                  /* buffers on the free list */
};

void replybuf_pool_init(struct replybuf_pool *p);
void replybuf_pool_destroy(struct replybuf_pool *p);
struct replybuf *replybuf_get(struct replybuf_pool *p);  /* NULL if out of memory */
void replybuf_put(struct replybuf_pool *p, struct replybuf *b);

#endif
