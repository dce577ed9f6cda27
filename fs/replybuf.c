/* replybuf.c - a pool of resident 1 MiB buffers for read replies.
 *
 * A read below a stream's end is answered from its store file. Small
 * replies are spliced by libfuse (no copy here). A 1 MiB reply is not:
 * its header and data need more than a pipe of the default maximum size
 * (/proc/sys/fs/pipe-max-size, 1 MiB) and growing a pipe past that needs
 * CAP_SYS_RESOURCE, so libfuse falls back to a buffer it mallocs for each
 * request - above glibc's mmap threshold, an mmap and munmap and 256 fresh
 * zeroed pages per MiB. Instead, such reads pread into one of these buffers,
 * reply from it and give it back. The pool holds as many buffers as there
 * were reads at once, at most KEEP_MAX; the rest are freed. The data is
 * page-aligned: the kernel copies into it about twice as fast. */
#include "replybuf.h"

#include <stdlib.h>
#include <unistd.h>

#define KEEP_MAX 8

static struct replybuf *replybuf_new(void)
{
	struct replybuf *b = malloc(sizeof(*b));
	void *data;

	if (!b)
		return NULL;
	if (posix_memalign(&data, (size_t)sysconf(_SC_PAGESIZE), REPLYBUF_SIZE) != 0) {
		free(b);
		return NULL;
	}
	b->data = data;
	b->next = NULL;
	return b;
}

void replybuf_pool_init(struct replybuf_pool *p)
{
	pthread_mutex_init(&p->lock, NULL);
	p->free = NULL;
	p->count = 0;
}

void replybuf_pool_destroy(struct replybuf_pool *p)
{
	struct replybuf *b;

	while ((b = p->free)) {
		p->free = b->next;
		free(b->data);
		free(b);
	}
	p->count = 0;
	pthread_mutex_destroy(&p->lock);
}

struct replybuf *replybuf_get(struct replybuf_pool *p)
{
	struct replybuf *b;

	pthread_mutex_lock(&p->lock);
	b = p->free;
	if (b) {
		p->free = b->next;
		p->count--;
	}
	pthread_mutex_unlock(&p->lock);
	if (!b)
		b = replybuf_new();
	return b;
}

void replybuf_put(struct replybuf_pool *p, struct replybuf *b)
{
	pthread_mutex_lock(&p->lock);
	if (p->count < KEEP_MAX) {
		b->next = p->free;
		p->free = b;
		p->count++;
		b = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	if (b) {
		free(b->data);
		free(b);
	}
}
