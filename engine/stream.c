/* stream.c - append-only streams backed by store files (see stream.h). */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
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
		int fd = stream_fd_get(s);

		if (fd < 0) {
			stream_free(s);
			return fd;
		}
		if (fstat(fd, &st) == 0)
			atomic_store(&s->size, (uint64_t)st.st_size);
		stream_fd_put(s);
	} else if (stat(path, &st) == 0) {
		atomic_store(&s->size, (uint64_t)st.st_size);
	}
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

/* The lazyfd that reads s's bytes: a view reads its source's file. */
static struct lazyfd *file_of(struct stream *s)
{
	while (s->shared)
		s = s->shared;
	return &s->file;
}

int stream_fd_get(struct stream *s)
{
	return lazyfd_get(file_of(s));
}

void stream_fd_put(struct stream *s)
{
	lazyfd_put(file_of(s));
}

void stream_set_close_idle(struct stream *s, bool on)
{
	/* A view's own fd is never used: its source's is. */
	lazyfd_set_close_idle(&s->file, on || s->shared);
}

/* Writers of size and records hold append_lock; stream_counts() reads the
 * pair without it, retrying while an update is under way (a seqlock). */
static void counts_begin(struct stream *s)
{
	atomic_fetch_add(&s->counts_seq, 1);
}

static void counts_end(struct stream *s)
{
	atomic_fetch_add(&s->counts_seq, 1);
}

void stream_counts(struct stream *s, uint64_t *size, uint64_t *records)
{
	for (;;) {
		unsigned seq = atomic_load(&s->counts_seq);

		if (seq & 1) {
			sched_yield();
			continue;
		}
		*records = atomic_load(&s->records);
		*size = atomic_load(&s->size);
		if (atomic_load(&s->counts_seq) == seq)
			return;
	}
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

	if (s->shared)
		return -EINVAL; /* a view grows by stream_publish() only */
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
	counts_begin(s);
	atomic_fetch_add(&s->records, count_lines(data, len));
	atomic_store(&s->size, off + len);
	counts_end(s);
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
	int fd = lazyfd_get_open(file_of(s)), rc = 0;

	if (fd < 0)
		return 0; /* never opened here, or closed after a sync */
	if (fdatasync(fd) < 0)
		rc = -errno;
	stream_fd_put(s);
	return rc;
}

/* Replaces the file at `path` by a hard link to `target`, atomically (a
 * new name, then a rename over the old one). 0 or -errno. */
static int link_over(const char *target, const char *path)
{
	char tmp[PATH_MAX];
	int rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.link", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	if (link(target, tmp) < 0)
		return -errno;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		unlink(tmp);
	}
	return rc;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int stream_reset(struct stream *s)
{
	int fd = stream_fd_get(s), rc = 0;

	if (fd < 0)
		return fd;
	pthread_mutex_lock(&s->append_lock);
	if (s->shared) {
		/* Never truncate: the file is the source's. A view that was
		 * settled into a file of its own goes back to the link. */
		if (!same_file(s->file.path, file_of(s)->path))
			rc = link_over(file_of(s)->path, s->file.path);
	} else if (ftruncate(fd, 0) < 0) {
		rc = -errno;
	}
	if (rc < 0) {
		pthread_mutex_unlock(&s->append_lock);
		stream_fd_put(s);
		return rc;
	}
	if (s->quota)
		atomic_fetch_sub(&s->quota->used, atomic_load(&s->size));
	counts_begin(s);
	atomic_store(&s->size, 0);
	atomic_store(&s->records, 0);
	counts_end(s);
	atomic_store(&s->error, 0);
	atomic_store(&s->ended, false);
	pthread_mutex_unlock(&s->append_lock);
	stream_fd_put(s);
	return 0;
}

int stream_share(struct stream *s, struct stream *src, bool fresh)
{
	int rc;

	if (s->shared)
		return s->shared == src ? 0 : -EINVAL;
	if (!same_file(s->file.path, file_of(src)->path)) {
		if (!fresh || stream_size(s) != 0)
			return -EEXIST; /* bytes of its own, from an earlier run */
		rc = link_over(file_of(src)->path, s->file.path);
		if (rc < 0)
			return rc; /* no hard links here: s stays a copy */
	}
	s->shared = src;
	lazyfd_set_close_idle(&s->file, true);
	return 0;
}

int stream_publish(struct stream *s, uint64_t size, uint64_t records)
{
	uint64_t old;

	pthread_mutex_lock(&s->append_lock);
	if (atomic_load(&s->ended)) {
		pthread_mutex_unlock(&s->append_lock);
		return -EPIPE;
	}
	old = atomic_load(&s->size);
	if (size <= old) {
		pthread_mutex_unlock(&s->append_lock);
		return 0;
	}
	if (s->quota && s->quota->limit &&
	    atomic_load(&s->quota->used) + (size - old) > s->quota->limit) {
		pthread_mutex_unlock(&s->append_lock);
		return -EFBIG;
	}
	counts_begin(s);
	atomic_store(&s->records, records);
	atomic_store(&s->size, size);
	counts_end(s);
	if (s->quota)
		atomic_fetch_add(&s->quota->used, size - old);
	pthread_mutex_unlock(&s->append_lock);
	notify(s, false);
	return 0;
}

/* Copies bytes [off, len) of `in` to the same offsets of `out`: in the
 * kernel where it can, else through a buffer. 0 or -errno. */
static int copy_range(int in, int out, uint64_t off, uint64_t len)
{
	bool in_kernel = true;

	while (off < len) {
		size_t want = len - off > (1u << 20) ? 1u << 20 : (size_t)(len - off);
		ssize_t n;

		if (in_kernel) {
			loff_t a = (loff_t)off, b = (loff_t)off;

			n = copy_file_range(in, &a, out, &b, want, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
				      errno == EOPNOTSUPP)) {
				in_kernel = false;
				continue;
			}
		} else {
			char buf[1 << 16];

			n = pread(in, buf, want < sizeof(buf) ? want : sizeof(buf), (off_t)off);
			for (ssize_t done = 0; n > 0 && done < n;) {
				ssize_t w = pwrite(out, buf + done, (size_t)(n - done),
						   (off_t)off + done);

				if (w < 0 && errno != EINTR)
					return -errno;
				if (w > 0)
					done += w;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file is shorter than it should be */
		off += (uint64_t)n;
	}
	return 0;
}

/* Replaces the file at path by a new one holding the first len bytes of
 * fd (write, fsync, rename). 0 or -errno. */
static int write_prefix(int fd, uint64_t len, const char *path)
{
	char tmp[PATH_MAX];
	int out, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.part", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return -errno;
	rc = copy_range(fd, out, 0, len);
	if (rc == 0 && fsync(out) < 0)
		rc = -errno;
	close(out);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int stream_settle(struct stream *s)
{
	struct stat st;
	int fd, rc = 0;

	if (!s->shared)
		return 0;
	fd = stream_fd_get(s);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&s->append_lock);
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if ((uint64_t)st.st_size > stream_size(s) && same_file(s->file.path, file_of(s)->path))
		rc = write_prefix(fd, stream_size(s), s->file.path);
	pthread_mutex_unlock(&s->append_lock);
	stream_fd_put(s);
	return rc;
}

int stream_view_trim(struct stream *s, uint64_t size)
{
	if (!s->shared)
		return 0;
	pthread_mutex_lock(&s->append_lock);
	if (size < atomic_load(&s->size)) {
		counts_begin(s);
		atomic_store(&s->size, size);
		atomic_store(&s->records, 0); /* not known: the store keeps no count */
		counts_end(s);
	}
	pthread_mutex_unlock(&s->append_lock);
	return stream_settle(s);
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
