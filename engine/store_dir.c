/* store_dir.c - the local directory storage provider (see store.h).
 *
 * Removing a job renames its directory to ROOT/jobs/.rm.N at once (one
 * atomic step: a crash after it never brings the job back) and a thread of
 * the store's own deletes what is under it, so rmdir does not wait for a
 * walk of the job's files. What is left in .rm.* at a crash goes after the
 * next open; close waits until everything renamed is gone.
 *
 * The thread deletes the directories it is handed, one by one; it looks
 * through ROOT/jobs for leftovers (a walk of every job's name, which a
 * removal must not cost) only after an open, and after a removal failed:
 * a writer that looked its path up before the rename can still create a
 * file in the moved directory (a store put's temporary) once it has been
 * emptied. Then it looks again every 100 ms, 5 s at most, and at close.
 *
 * Lock: rm_lock (owner: the store) guards the queue, rm_scan, rm_left and
 * rm_stop; it is never held across a syscall but the condition wait. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

#define TRASH_PREFIX ".rm."

/* The local provider: the public part first. */
struct dir_store {
	struct store pub;
	pthread_t remover;
	bool remover_started;
	pthread_mutex_t rm_lock;
	pthread_cond_t rm_cond;
	struct trash *rm_head, *rm_tail; /* renamed, to delete (FIFO) */
	bool rm_scan, rm_stop;      /* look for leftovers of a crash; finish and exit */
	bool rm_left;               /* a removal failed: look for leftovers again (remover) */
	atomic_ulong rm_serial;     /* names the next .rm.N */
	atomic_ulong put_serial;    /* names the next put's temporary file */
};

struct trash {
	unsigned long serial;       /* ROOT/jobs/.rm.SERIAL */
	struct trash *next;
};

static struct dir_store *dir_of(struct store *s)
{
	return (struct dir_store *)s;
}

static char *dir_path(struct store *s, const char *job, const char *file)
{
	char *p = NULL;
	int n;

	if (job)
		n = asprintf(&p, "%s/jobs/%s%s%s", s->root, job, file ? "/" : "", file ? file : "");
	else
		n = asprintf(&p, "%s%s%s", s->root, file ? "/" : "", file ? file : "");
	return n < 0 ? NULL : p;
}

static int mkdir_p(const char *path)
{
	char *tmp = strdup(path);
	int rc = 0;

	if (!tmp)
		return -ENOMEM;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			rc = -errno;
		*p = '/';
	}
	if (rc == 0 && mkdir(tmp, 0700) < 0) {
		struct stat st;

		if (errno != EEXIST)
			rc = -errno;
		else if (stat(tmp, &st) < 0 || !S_ISDIR(st.st_mode))
			rc = -ENOTDIR; /* a file where the store wants a directory */
	}
	free(tmp);
	return rc;
}

static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	fsync(fd);
	close(fd);
	return 0;
}

/* mkdir, where an existing directory is fine but anything else is not. */
static int make_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return -ENOTDIR; /* a file where the store wants a directory */
	return 0;
}

/* ROOT/jobs exists since store_dir_open: two mkdirs, not a walk from /. */
static int dir_job_create(struct store *s, const char *job)
{
	char *p = dir_path(s, job, NULL), *streams = dir_path(s, job, "streams");
	int rc = p && streams ? make_dir(p) : -ENOMEM;

	if (rc == 0)
		rc = make_dir(streams);
	free(p);
	free(streams);
	return rc;
}

/* Removes everything under the open directory dfd (which it closes). The
 * entries' types come from getdents, so a job's directory goes with one
 * unlinkat per file and no stat. */
static int remove_tree_at(int dfd)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		bool is_dir = e->d_type == DT_DIR;

		if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
			continue;
		if (!is_dir && unlinkat(dirfd(d), n, 0) < 0 && errno != ENOENT) {
			if (errno != EISDIR && errno != EPERM) {
				rc = -errno;
				continue;
			}
			is_dir = true; /* d_type was DT_UNKNOWN */
		}
		if (is_dir) {
			int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int r = sub < 0 ? -errno : remove_tree_at(sub);

			if (r == 0 && unlinkat(dirfd(d), n, AT_REMOVEDIR) < 0 && errno != ENOENT)
				r = -errno;
			if (r < 0 && r != -ENOENT)
				rc = r;
		}
	}
	closedir(d);
	return rc;
}

/* Removes a whole tree at path; a path that is not a directory is unlinked. */
static int remove_tree(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
		return errno == ENOENT ? 0 : -errno;
	}
	rc = remove_tree_at(fd);
	if (rc == 0 && rmdir(path) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

static int purge_one(void *arg, const char *name)
{
	struct store *s = arg;
	char *p;
	int rc;

	if (strncmp(name, TRASH_PREFIX, strlen(TRASH_PREFIX)) != 0)
		return 0;
	p = dir_path(s, name, NULL);
	rc = p ? remove_tree(p) : -ENOMEM;
	free(p);
	return rc;
}

/* Deletes every .rm.* under ROOT/jobs. Returns whether one stayed. */
static bool purge_trash(struct store *s)
{
	char *p = dir_path(s, NULL, "jobs");
	DIR *d = p ? opendir(p) : NULL;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	bool stayed = false;

	free(p);
	if (!d)
		return false;
	/* Collect first: removing while readdir walks the same directory may
	 * skip entries. */
	while ((e = readdir(d)) != NULL) {
		char *copy;

		if (strncmp(e->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX)) != 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*names));
			if (!nn)
				break;
			names = nn;
			cap = ncap;
		}
		copy = strdup(e->d_name);
		if (!copy)
			break;
		names[n++] = copy;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		if (purge_one(s, names[i]) < 0)
			stayed = true;
		free(names[i]);
	}
	free(names);
	return stayed;
}

/* A writer whose path was looked up before the rename may still create
 * a file in the moved directory (a store put's temporary) after it was
 * emptied: the directory is emptied again then. 0, or -ENOTEMPTY when it
 * keeps filling (a later scan takes it), or another -errno. */
static int remove_trash(struct store *s, unsigned long serial)
{
	char name[32], *p;
	int rc = -ENOMEM;

	snprintf(name, sizeof(name), TRASH_PREFIX "%lu", serial);
	p = dir_path(s, name, NULL);
	for (int i = 0; p && i < 3; i++) {
		rc = remove_tree(p);
		if (rc != -ENOTEMPTY)
			break;
	}
	free(p);
	return rc;
}

/* After a removal failed, how often and how long to look again. */
#define RM_RETRY_MS 100
#define RM_RETRIES 50

/* Sleeps until handed work (rm_lock held); after a failed removal, wakes
 * every RM_RETRY_MS to look again, RM_RETRIES times at most. */
static void remover_wait(struct dir_store *ds, int *retries)
{
	while (!ds->rm_scan && !ds->rm_head && !ds->rm_stop) {
		struct timespec ts;

		if (!ds->rm_left || *retries >= RM_RETRIES) {
			pthread_cond_wait(&ds->rm_cond, &ds->rm_lock);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += RM_RETRY_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&ds->rm_cond, &ds->rm_lock, &ts) == ETIMEDOUT) {
			ds->rm_scan = true;
			(*retries)++;
		}
	}
}

static void *remover_main(void *arg)
{
	struct dir_store *ds = arg;
	int retries = 0;
	bool last_look = false;

	pthread_setname_np(pthread_self(), "lj-store-rm");
	pthread_mutex_lock(&ds->rm_lock);
	for (;;) {
		struct trash *t;
		int rc;

		remover_wait(ds, &retries);
		if (ds->rm_scan) {
			ds->rm_scan = false;
			pthread_mutex_unlock(&ds->rm_lock);
			rc = purge_trash(&ds->pub);
			pthread_mutex_lock(&ds->rm_lock);
			ds->rm_left = rc;
			continue;
		}
		t = ds->rm_head;
		if (!t) {
			/* Stopping: one last look if a removal failed. */
			if (ds->rm_left && !last_look) {
				last_look = true;
				ds->rm_scan = true;
				continue;
			}
			break;
		}
		ds->rm_head = t->next;
		if (!ds->rm_head)
			ds->rm_tail = NULL;
		pthread_mutex_unlock(&ds->rm_lock);
		rc = remove_trash(&ds->pub, t->serial);
		free(t);
		pthread_mutex_lock(&ds->rm_lock);
		if (rc < 0) {
			ds->rm_left = true;
			retries = 0;
		}
	}
	pthread_mutex_unlock(&ds->rm_lock);
	return NULL;
}

static int dir_job_remove(struct store *s, const char *job)
{
	struct dir_store *ds = dir_of(s);
	char *p = dir_path(s, job, NULL), *trash = NULL, name[32];
	struct trash *t = calloc(1, sizeof(*t));
	int rc = 0;

	if (!p || !t) {
		free(p);
		free(t);
		return -ENOMEM;
	}
	t->serial = atomic_fetch_add(&ds->rm_serial, 1);
	snprintf(name, sizeof(name), TRASH_PREFIX "%lu", t->serial);
	trash = dir_path(s, name, NULL);
	if (!trash) {
		rc = -ENOMEM;
	} else if (!ds->remover_started || rename(p, trash) < 0) {
		/* No remover, or the rename failed (a leftover .rm.N of a
		 * crash has the name): remove it here and now. */
		if (ds->remover_started && errno == ENOENT)
			rc = 0;
		else
			rc = remove_tree(p);
	} else {
		pthread_mutex_lock(&ds->rm_lock);
		if (ds->rm_tail)
			ds->rm_tail->next = t;
		else
			ds->rm_head = t;
		ds->rm_tail = t;
		t = NULL;
		pthread_cond_signal(&ds->rm_cond);
		pthread_mutex_unlock(&ds->rm_lock);
	}
	free(t);
	free(trash);
	free(p);
	return rc;
}

static int dir_list(struct store *s, const char *dir, int (*cb)(void *, const char *), void *arg)
{
	char *p = dir_path(s, NULL, dir);
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (!p)
		return -ENOMEM;
	d = opendir(p);
	free(p);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		rc = cb(arg, e->d_name);
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

static int dir_job_list(struct store *s, int (*cb)(void *, const char *), void *arg)
{
	return dir_list(s, "jobs", cb, arg);
}

/* Writes the file at path p atomically: a temporary of its own next to it
 * (hidden, and short whatever the target's name, so that two puts of the
 * same file at once never write into one temporary: the last rename wins,
 * whole), written, synced and renamed over p. Its directory is not synced.
 * 0 or -errno. */
static int put_file(struct store *s, const char *p, const void *data, size_t len)
{
	const char *slash = strrchr(p, '/');
	char *tmp = NULL;
	int fd, rc;

	if (!slash || asprintf(&tmp, "%.*s/.put.%lu.tmp", (int)(slash - p), p,
			       atomic_fetch_add(&dir_of(s)->put_serial, 1)) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, p) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Syncs the directory that holds path p. */
static void sync_parent(char *p)
{
	char *slash = strrchr(p, '/');

	if (slash) {
		*slash = '\0';
		fsync_dir(p);
		*slash = '/';
	}
}

static int dir_put(struct store *s, const char *job, const char *file, const void *data, size_t len)
{
	char *p = dir_path(s, job, file);
	int rc;

	if (!p)
		return -ENOMEM;
	rc = put_file(s, p, data, len);
	if (rc == 0)
		sync_parent(p);
	free(p);
	return rc;
}

/* Every directory that got a file is synced once, after all the renames:
 * one sync makes all of its new entries durable. */
static int dir_put_many(struct store *s, const char *job, const struct store_file *files, int n)
{
	char *paths[n > 0 ? n : 1];
	int done = 0, rc = 0;

	for (; done < n && rc == 0; done++) {
		paths[done] = dir_path(s, job, files[done].name);
		rc = paths[done] ? put_file(s, paths[done], files[done].data, files[done].len)
				 : -ENOMEM;
	}
	for (int i = 0; i < done; i++) {
		bool seen = false;
		char *slash = paths[i] ? strrchr(paths[i], '/') : NULL;

		for (int k = 0; slash && k < i && !seen; k++)
			seen = paths[k] && strncmp(paths[k], paths[i], (size_t)(slash - paths[i] + 1)) == 0 &&
			       !strchr(paths[k] + (slash - paths[i]) + 1, '/');
		if (rc == 0 && slash && !seen)
			sync_parent(paths[i]);
	}
	for (int i = 0; i < done; i++)
		free(paths[i]);
	return rc;
}

static int dir_get(struct store *s, const char *job, const char *file, char **data, size_t *len)
{
	char *p = dir_path(s, job, file);
	struct stat st;
	char *buf;
	int fd, rc = 0;
	ssize_t n;

	if (!p)
		return -ENOMEM;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n < 0) {
		rc = -errno;
		free(buf);
		close(fd);
		return rc;
	}
	close(fd);
	buf[n] = '\0';
	*data = buf;
	*len = (size_t)n;
	return 0;
}

static int dir_del(struct store *s, const char *job, const char *file)
{
	char *p = dir_path(s, job, file);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	if (unlink(p) < 0 && errno != ENOENT)
		rc = -errno;
	free(p);
	return rc;
}

static void dir_close(struct store *s)
{
	struct dir_store *ds = dir_of(s);

	if (ds->remover_started) {
		pthread_mutex_lock(&ds->rm_lock);
		ds->rm_stop = true;
		pthread_cond_signal(&ds->rm_cond);
		pthread_mutex_unlock(&ds->rm_lock);
		pthread_join(ds->remover, NULL);
	}
	pthread_mutex_destroy(&ds->rm_lock);
	pthread_cond_destroy(&ds->rm_cond);
	free(s->root);
	free(ds);
}

static const struct store_ops dir_ops = {
	.job_create = dir_job_create,
	.job_remove = dir_job_remove,
	.job_list = dir_job_list,
	.path = dir_path,
	.put = dir_put,
	.put_many = dir_put_many,
	.get = dir_get,
	.del = dir_del,
	.list = dir_list,
	.close = dir_close,
};

int store_dir_open(const char *root, struct store **out)
{
	struct dir_store *ds = calloc(1, sizeof(*ds));
	struct store *s = &ds->pub;
	char *sub;
	int rc;

	if (!ds)
		return -ENOMEM;
	s->ops = &dir_ops;
	pthread_mutex_init(&ds->rm_lock, NULL);
	pthread_cond_init(&ds->rm_cond, NULL);
	s->root = realpath(root, NULL);
	if (!s->root) {
		rc = mkdir_p(root);
		if (rc == 0)
			s->root = realpath(root, NULL);
		if (!s->root) {
			dir_close(s);
			return rc ? rc : -errno;
		}
	}
	for (int i = 0; i < 2; i++) {
		sub = dir_path(s, NULL, i ? "specs" : "jobs");
		rc = sub ? mkdir_p(sub) : -ENOMEM;
		free(sub);
		if (rc < 0) {
			dir_close(s);
			return rc;
		}
	}
	/* Removals a crash interrupted go first, in the background: a mount
	 * does not wait for them. */
	ds->rm_scan = true;
	ds->remover_started = pthread_create(&ds->remover, NULL, remover_main, ds) == 0;
	if (!ds->remover_started)
		purge_trash(s);
	*out = s;
	return 0;
}
