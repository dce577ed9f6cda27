/* stream.c - append-only streams backed by store files (see stream.h). */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"

static void waiters_init(struct stream *s)
{
	s->waiters.next = s->waiters.prev = &s->waiters;
}

int stream_open(const char *name, const char *path, bool create, struct stream **out)
{
	struct stream *s = calloc(1, sizeof(*s));
	struct stat st;

	if (!s)
		return -ENOMEM;
	s->name = strdup(name);
	if (!s->name || lazyfd_init(&s->file, path, O_RDWR) < 0) {
		stream_free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->append_lock, NULL);
	pthread_mutex_init(&s->lock, NULL);
	waiters_init(s);
	if (create) {
		int rc = stream_fd_get(s);
		if (rc < 0) {
			stream_free(s);
			return rc;
		}
		stream_fd_put(s);
	}
	if (stat(path, &st) == 0)
		atomic_store(&s->size, (uint64_t)st.st_size);
	*out = s;
	return 0;
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	lazyfd_destroy(&s->file);
	pthread_mutex_destroy(&s->append_lock);
	pthread_mutex_destroy(&s->lock);
	free(s->consumers);
	free(s->name);
	free(s);
}

int stream_fd_get(struct stream *s)
{
	return lazyfd_get(&s->file);
}

void stream_fd_put(struct stream *s)
{
	lazyfd_put(&s->file);
}

void stream_set_close_idle(struct stream *s, bool on)
{
	lazyfd_set_close_idle(&s->file, on);
}

/* Takes the waiters that are due off the list (under s->lock) and wakes
 * them after the lock is dropped. */
static void notify(struct stream *s, bool all)
{
	struct stream_waiter due = {0}, *w, *next;
	uint64_t size = atomic_load(&s->size);

	due.next = due.prev = &due;
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->nconsumers; i++)
		pool_schedule(s->consumers[i]);
	for (w = s->waiters.next; w != &s->waiters; w = next) {
		next = w->next;
		if (!all && w->off >= size)
			continue;
		w->prev->next = w->next;
		w->next->prev = w->prev;
		w->parked = false;
		w->next = &due;
		w->prev = due.prev;
		due.prev->next = w;
		due.prev = w;
	}
	pthread_mutex_unlock(&s->lock);
	for (w = due.next; w != &due; w = next) {
		next = w->next;
		w->wake(w);
	}
}

static uint64_t count_lines(const char *p, size_t len)
{
	uint64_t n = 0;
	const char *end = p + len;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

int stream_append(struct stream *s, const void *data, size_t len)
{
	int fd, rc = 0;
	uint64_t off;

	if (len == 0)
		return atomic_load(&s->ended) ? -EPIPE : 0;
	fd = stream_fd_get(s);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&s->append_lock);
	if (atomic_load(&s->ended)) {
		pthread_mutex_unlock(&s->append_lock);
		stream_fd_put(s);
		return -EPIPE;
	}
	if (s->quota && s->quota->limit &&
	    atomic_load(&s->quota->used) + len > s->quota->limit) {
		pthread_mutex_unlock(&s->append_lock);
		stream_fd_put(s);
		return -EFBIG;
	}
	off = atomic_load(&s->size);
	for (size_t done = 0; done < len;) {
		ssize_t w = pwrite(fd, (const char *)data + done, len - done,
				   (off_t)(off + done));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			/* Keep what was written whole: the size never covers a
			 * torn tail, which the next append overwrites. */
			len = done;
			break;
		}
		done += (size_t)w;
	}
	atomic_fetch_add(&s->records, count_lines(data, len));
	atomic_store(&s->size, off + len);
	if (s->quota)
		atomic_fetch_add(&s->quota->used, len);
	pthread_mutex_unlock(&s->append_lock);
	stream_fd_put(s);
	if (len)
		notify(s, false);
	return rc;
}

void stream_end(struct stream *s)
{
	pthread_mutex_lock(&s->append_lock);
	atomic_store(&s->ended, true);
	pthread_mutex_unlock(&s->append_lock);
	notify(s, true);
}

void stream_fail(struct stream *s, int err)
{
	/* Even a stream that ended whole reports the job's failure at its
	 * end: a reader must not take a cancelled job's output for complete. */
	pthread_mutex_lock(&s->append_lock);
	if (atomic_load(&s->error) == 0)
		atomic_store(&s->error, err);
	atomic_store(&s->ended, true);
	pthread_mutex_unlock(&s->append_lock);
	notify(s, true);
}

int stream_sync(struct stream *s)
{
	int fd = lazyfd_get_open(&s->file), rc = 0;

	if (fd < 0)
		return 0; /* never opened here, or closed after a sync */
	if (fdatasync(fd) < 0)
		rc = -errno;
	stream_fd_put(s);
	return rc;
}

int stream_reset(struct stream *s)
{
	int fd = stream_fd_get(s);

	if (fd < 0)
		return fd;
	pthread_mutex_lock(&s->append_lock);
	if (ftruncate(fd, 0) < 0) {
		int rc = -errno;
		pthread_mutex_unlock(&s->append_lock);
		stream_fd_put(s);
		return rc;
	}
	if (s->quota)
		atomic_fetch_sub(&s->quota->used, atomic_load(&s->size));
	atomic_store(&s->size, 0);
	atomic_store(&s->records, 0);
	atomic_store(&s->error, 0);
	atomic_store(&s->ended, false);
	pthread_mutex_unlock(&s->append_lock);
	stream_fd_put(s);
	return 0;
}

ssize_t stream_pread(struct stream *s, void *buf, size_t len, uint64_t off)
{
	uint64_t size = atomic_load(&s->size);
	int fd;
	ssize_t n;

	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	fd = stream_fd_get(s);
	if (fd < 0)
		return fd;
	do
		n = pread(fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	stream_fd_put(s);
	return n;
}

int stream_subscribe(struct stream *s, struct task *t)
{
	struct task **v;

	pthread_mutex_lock(&s->lock);
	v = realloc(s->consumers, sizeof(*v) * (size_t)(s->nconsumers + 1));
	if (!v) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	v[s->nconsumers++] = t;
	s->consumers = v;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void stream_unsubscribe(struct stream *s, struct task *t)
{
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->nconsumers; i++) {
		if (s->consumers[i] == t) {
			s->consumers[i] = s->consumers[--s->nconsumers];
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

bool stream_wait(struct stream *s, struct stream_waiter *w)
{
	bool parked = false;

	pthread_mutex_lock(&s->lock);
	if (atomic_load(&s->size) <= w->off && !atomic_load(&s->ended)) {
		w->next = &s->waiters;
		w->prev = s->waiters.prev;
		s->waiters.prev->next = w;
		s->waiters.prev = w;
		w->parked = parked = true;
	}
	pthread_mutex_unlock(&s->lock);
	return parked;
}

bool stream_unwait(struct stream *s, struct stream_waiter *w)
{
	bool was = false;

	pthread_mutex_lock(&s->lock);
	if (w->parked) {
		w->prev->next = w->next;
		w->next->prev = w->prev;
		w->parked = false;
		was = true;
	}
	pthread_mutex_unlock(&s->lock);
	return was;
}
