/* store.h - the storage provider: where every stream, log and state file of
 * a mount lives, so data survives unmount and memory stays bounded. The
 * engine reaches it only through this interface; store_dir.c is the local
 * directory provider. Layout of the local provider:
 *     ROOT/daemon.log
 *     ROOT/specs/NAME.json              registered specs
 *     ROOT/jobs/JOB/{spec.json,options.json,status.json,log}
 *     ROOT/jobs/JOB/streams/NAME        one file per stream
 * State files are replaced atomically (write, fsync, rename). Every name
 * passed in has been checked with name_ok(), so no path escapes the root. */
#ifndef LJ_STORE_H
#define LJ_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct store;

/* One file of put_many(). */
struct store_file {
	const char *name;      /* as put()'s file */
	const void *data;
	size_t len;
};

/* A "place" is (job, file): job NULL means the store root. file may contain
 * one '/' (e.g. "streams/knead", "specs/pizza.json"). */
struct store_ops {
	int (*job_create)(struct store *s, const char *job);
	int (*job_remove)(struct store *s, const char *job);
	/* Calls cb for every job; stops early when cb returns non-zero. */
	int (*job_list)(struct store *s, int (*cb)(void *arg, const char *job), void *arg);
	/* Absolute path of a place, malloc'd (for fds, exec's cwd). */
	char *(*path)(struct store *s, const char *job, const char *file);
	int (*put)(struct store *s, const char *job, const char *file, const void *data, size_t len);
	/* Several files of one job, each replaced atomically, all durable when
	 * it returns 0, for one commit of their directory instead of one per
	 * file (a job's spec.json and status.json when it starts). On an error,
	 * the files before the failing one may have been replaced. */
	int (*put_many)(struct store *s, const char *job, const struct store_file *files, int n);
	int (*get)(struct store *s, const char *job, const char *file, char **data, size_t *len);
	int (*del)(struct store *s, const char *job, const char *file);
	/* Names of the files in a directory place (e.g. "specs"). */
	int (*list)(struct store *s, const char *dir, int (*cb)(void *arg, const char *name), void *arg);
	void (*close)(struct store *s);
};

struct store {
	const struct store_ops *ops;
	char *root;
};

/* Open (creating) a local directory store at root. 0 or -errno. */
int store_dir_open(const char *root, struct store **out);

static inline char *store_path(struct store *s, const char *job, const char *file)
{
	return s->ops->path(s, job, file);
}

#endif
