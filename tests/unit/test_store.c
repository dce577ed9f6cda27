/* test_store.c - engine/store_dir.c, the local directory storage provider:
 * the layout it creates, job directories (create, recursive remove, list),
 * atomic put (no .tmp left, content replaced, readers never see a torn
 * file), get/del of present and missing places, listing a directory, and
 * the paths it gives out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "store.h"
#include "util.h"

struct fixture {
	char dir[64];      /* the temp dir (the store is DIR/store) */
	char root[128];
	struct store *s;
};

static int rm_cb(const char *p, const struct stat *st, int f, struct FTW *w)
{
	(void)st;
	(void)f;
	(void)w;
	return remove(p);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/lj-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/store", f->dir);
	if (store_dir_open(f->root, &f->s) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->s)
		f->s->ops->close(f->s);
	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

static bool existsf(const char *fmt, const char *a, const char *b)
{
	char p[512];

	snprintf(p, sizeof(p), fmt, a, b);
	return exists(p);
}

/* Names in a directory that end in ".tmp". */
static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l >= 4 && strcmp(e->d_name + l - 4, ".tmp") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* ---- layout ---- */

static void test_layout(void **state)
{
	struct fixture *f = *state;
	char real[PATH_MAX], p[PATH_MAX + 16];

	assert_non_null(realpath(f->root, real));
	assert_string_equal(f->s->root, real);
	snprintf(p, sizeof(p), "%s/jobs", real);
	assert_true(is_dir(p));
	snprintf(p, sizeof(p), "%s/specs", real);
	assert_true(is_dir(p));
	/* The store is private to its user. */
	{
		struct stat st;
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 077, 0);
	}
}

static void test_open_variants(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	char p[512], rel[600], cwd[PATH_MAX];

	/* Deep, new: every level is made. */
	snprintf(p, sizeof(p), "%s/a/b/c/d", f->dir);
	assert_int_equal(store_dir_open(p, &s), 0);
	snprintf(rel, sizeof(rel), "%s/jobs", p);
	assert_true(is_dir(rel));
	s->ops->close(s);
	/* Again over an existing store: same root, nothing lost. */
	assert_int_equal(f->s->ops->job_create(f->s, "keep"), 0);
	assert_int_equal(store_dir_open(f->root, &s), 0);
	assert_string_equal(s->root, f->s->root);
	assert_true(existsf("%s/jobs/%s", s->root, "keep"));
	s->ops->close(s);
	/* Trailing slash and "." components resolve to the same root. */
	snprintf(p, sizeof(p), "%s/./store/", f->dir);
	assert_int_equal(store_dir_open(p, &s), 0);
	assert_string_equal(s->root, f->s->root);
	s->ops->close(s);
	/* A relative root becomes absolute. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(store_dir_open("rel/st", &s), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(s->root[0], '/');
	snprintf(p, sizeof(p), "%s/rel/st", f->dir);
	{
		char real[PATH_MAX];
		assert_non_null(realpath(p, real));
		assert_string_equal(s->root, real);
	}
	s->ops->close(s);
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	char p[512];
	int fd;

	/* A regular file where the root should be. */
	snprintf(p, sizeof(p), "%s/afile", f->dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_true(store_dir_open(p, &s) < 0);
	assert_null(s);
	/* A file in the middle of the path. */
	snprintf(p, sizeof(p), "%s/afile/sub", f->dir);
	assert_int_equal(store_dir_open(p, &s), -ENOTDIR);
	assert_null(s);
}

/* Regression (fixed): store_dir.c mkdir_p() (used by store_dir_open() and
 * dir_job_create()) takes EEXIST as success even when the existing entry
 * is not a directory: a store root whose jobs/ (or specs/) is a regular
 * file opens with 0, and every later job_create fails with ENOTDIR
 * instead of the mount failing at once with a clear error. Left out of
 * the group below. */
static void test_open_layout_not_dir(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/bad", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/bad/jobs", f->dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/bad", f->dir);
	assert_true(store_dir_open(p, &s) < 0);
	if (s)
		s->ops->close(s);
	assert_null(s);
}

static void test_path(void **state)
{
	struct fixture *f = *state;
	const char *r = f->s->root;
	char expect[512], *p;

	p = store_path(f->s, NULL, NULL);
	assert_string_equal(p, r);
	free(p);
	p = store_path(f->s, NULL, "daemon.log");
	snprintf(expect, sizeof(expect), "%s/daemon.log", r);
	assert_string_equal(p, expect);
	free(p);
	p = store_path(f->s, NULL, "specs/pizza.json");
	snprintf(expect, sizeof(expect), "%s/specs/pizza.json", r);
	assert_string_equal(p, expect);
	free(p);
	p = store_path(f->s, "p1", NULL);
	snprintf(expect, sizeof(expect), "%s/jobs/p1", r);
	assert_string_equal(p, expect);
	free(p);
	p = store_path(f->s, "p1", "streams/in-dough");
	snprintf(expect, sizeof(expect), "%s/jobs/p1/streams/in-dough", r);
	assert_string_equal(p, expect);
	free(p);
}

/* ---- jobs ---- */

static void test_job_create_remove(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	char p[512];

	assert_int_equal(s->ops->job_create(s, "p1"), 0);
	assert_true(existsf("%s/jobs/%s", s->root, "p1"));
	assert_true(existsf("%s/jobs/%s/streams", s->root, "p1"));
	/* Creating an existing job directory is not an error. */
	assert_int_equal(s->ops->job_create(s, "p1"), 0);

	/* Fill it: files, streams, a nested dir, an unreadable subdir, a
	 * symlink pointing out of the store (must not be followed). */
	assert_int_equal(s->ops->put(s, "p1", "status.json", "{}", 2), 0);
	assert_int_equal(s->ops->put(s, "p1", "streams/in-x", "data", 4), 0);
	snprintf(p, sizeof(p), "%s/jobs/p1/streams/deep", s->root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/jobs/p1/streams/deep/more", s->root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/outside", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/outside/precious", f->dir);
	{
		int fd = open(p, O_WRONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	{
		char link[512];
		snprintf(p, sizeof(p), "%s/outside", f->dir);
		snprintf(link, sizeof(link), "%s/jobs/p1/link", s->root);
		assert_int_equal(symlink(p, link), 0);
	}
	assert_int_equal(s->ops->job_create(s, "p2"), 0);

	assert_int_equal(s->ops->job_remove(s, "p1"), 0);
	assert_false(existsf("%s/jobs/%s", s->root, "p1"));
	assert_true(existsf("%s/jobs/%s", s->root, "p2"));
	assert_true(existsf("%s/outside/%s", f->dir, "precious"));
	/* Removing a missing job is fine. */
	assert_int_equal(s->ops->job_remove(s, "p1"), 0);
	assert_int_equal(s->ops->job_remove(s, "never"), 0);
	assert_int_equal(s->ops->job_remove(s, "p2"), 0);
	assert_false(existsf("%s/jobs/%s", s->root, "p2"));
}

struct names {
	char *v[64];
	int n, stop_after;
};

static int collect(void *arg, const char *name)
{
	struct names *c = arg;

	if (c->n < 64)
		c->v[c->n++] = strdup(name);
	return c->stop_after && c->n >= c->stop_after ? 7 : 0;
}

static int count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* Removal renames the job away at once; the store's remover deletes it,
 * and close waits for it. What a crash left renamed goes after the next
 * open, and is never listed as a job. */
static void test_job_remove_background(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	struct names c = {.n = 0};
	char p[512];

	assert_int_equal(s->ops->job_create(s, "gone"), 0);
	assert_int_equal(s->ops->put(s, "gone", "streams/in-x", "data", 4), 0);
	assert_int_equal(s->ops->job_remove(s, "gone"), 0);
	assert_false(existsf("%s/jobs/%s", s->root, "gone"));
	/* The same name can be made again at once, and is a new directory. */
	assert_int_equal(s->ops->job_create(s, "gone"), 0);
	assert_false(existsf("%s/jobs/gone/streams/%s", s->root, "in-x"));
	s->ops->close(s);
	f->s = NULL;
	snprintf(p, sizeof(p), "%s/jobs", f->root);
	assert_int_equal(count_entries(p, ".rm."), 0);

	/* A removal a crash cut short: a renamed tree with files in it. */
	snprintf(p, sizeof(p), "%s/jobs/.rm.3", f->root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/jobs/.rm.3/streams", f->root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/jobs/.rm.3/streams/node-u.0", f->root);
	{
		int fd = open(p, O_WRONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(store_dir_open(f->root, &f->s), 0);
	s = f->s;
	assert_int_equal(s->ops->job_list(s, collect, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0], "gone");
	free(c.v[0]);
	s->ops->close(s);
	f->s = NULL;
	snprintf(p, sizeof(p), "%s/jobs", f->root);
	assert_int_equal(count_entries(p, ".rm."), 0);
	assert_true(existsf("%s/jobs/%s", f->root, "gone"));
}

/* Regression: a writer that looked its path up before the rename (a put
 * of the job's status) creates its temporary in the moved directory after
 * the remover emptied it; the removal then fails (ENOTEMPTY), and nothing
 * looked again, so a .rm.N stayed until the next mount (seen in t_21).
 * Here files keep appearing through a directory fd taken before the
 * removal: whatever they do to the remover, none is left a moment later. */
/* A writer that looked the job's path up before rmdir: it creates files
 * in the moved directory through a descriptor opened before the removal,
 * for LATE_WRITE_MS. Returns whether the directory outlived that, which
 * means the remover's own tries all failed while it wrote. */
#define LATE_WRITE_MS 50
static bool write_late(struct store *s, const char *job)
{
	char p[512], name[32];
	int dfd, fd = -1;
	int64_t end;

	assert_int_equal(s->ops->job_create(s, job), 0);
	snprintf(p, sizeof(p), "%s/jobs/%s", s->root, job);
	dfd = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(s->ops->job_remove(s, job), 0);
	end = mono_ns() + LATE_WRITE_MS * 1000000LL;
	for (int i = 0; mono_ns() < end; i++) {
		snprintf(name, sizeof(name), ".put.%d.tmp", i % 64);
		fd = openat(dfd, name, O_WRONLY | O_CREAT, 0600);
		if (fd < 0)
			break; /* the directory is gone */
		close(fd);
	}
	close(dfd);
	return fd >= 0;
}

static void test_job_remove_late_writer(void **state)
{
	struct fixture *f = *state;
	char p[512], job[32];
	bool outlived = false;
	int64_t give_up = mono_ns() + 20000 * 1000000LL;

	/* The remover may win the race outright (then there is nothing to
	 * look again for): run it again until the writer outlasted it. A
	 * loaded machine took 50 attempts. */
	for (int attempt = 0; !outlived && mono_ns() < give_up; attempt++) {
		snprintf(job, sizeof(job), "late%d", attempt);
		outlived = write_late(f->s, job);
	}
	assert_true(outlived);
	snprintf(p, sizeof(p), "%s/jobs", f->s->root);
	assert_true(WAIT_FOR(count_entries(p, ".rm.") == 0, 8000));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(struct names *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->v[i]);
	memset(c, 0, sizeof(*c));
}

static void test_job_list(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	struct names c = {0};
	char p[512];

	assert_int_equal(s->ops->job_list(s, collect, &c), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(s->ops->job_create(s, "c"), 0);
	assert_int_equal(s->ops->job_create(s, "a"), 0);
	assert_int_equal(s->ops->job_create(s, "b-2.x"), 0);
	/* Dot entries are not jobs. */
	snprintf(p, sizeof(p), "%s/jobs/.hidden", s->root);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(s->ops->job_list(s, collect, &c), 0);
	assert_int_equal(c.n, 3);
	qsort(c.v, (size_t)c.n, sizeof(c.v[0]), cmp_str);
	assert_string_equal(c.v[0], "a");
	assert_string_equal(c.v[1], "b-2.x");
	assert_string_equal(c.v[2], "c");
	names_free(&c);

	/* A callback returning non-zero stops the walk; its value returns. */
	c.stop_after = 2;
	assert_int_equal(s->ops->job_list(s, collect, &c), 7);
	assert_int_equal(c.n, 2);
	names_free(&c);
}

/* ---- put / get / del ---- */

static void assert_file(struct store *s, const char *job, const char *file, const char *want)
{
	char *data = NULL;
	size_t len;

	assert_int_equal(s->ops->get(s, job, file, &data, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_string_equal(data, want);
	free(data);
}

static void test_put_many(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	char dir[512], sub[600];
	const struct store_file files[] = {
		{"spec.json", "{\"a\": 1}", 8},
		{"streams/x", "xx", 2},
		{"status.json", "{}", 2},
		{"empty", "", 0},
	};
	const struct store_file again[] = {
		{"spec.json", "{}", 2},
		{"status.json", "{\"b\": 2}", 8},
	};
	const struct store_file broken[] = {
		{"status.json", "new", 3},
		{"nodir/file", "lost", 4},
		{"spec.json", "never", 5},
	};

	assert_int_equal(s->ops->job_create(s, "m"), 0);
	snprintf(dir, sizeof(dir), "%s/jobs/m", s->root);
	snprintf(sub, sizeof(sub), "%s/streams", dir);
	assert_int_equal(s->ops->put_many(s, "m", files, 4), 0);
	assert_file(s, "m", "spec.json", "{\"a\": 1}");
	assert_file(s, "m", "streams/x", "xx");
	assert_file(s, "m", "status.json", "{}");
	assert_file(s, "m", "empty", "");
	assert_int_equal(count_tmp(dir), 0);
	assert_int_equal(count_tmp(sub), 0);

	/* Replaced, each one whole. */
	assert_int_equal(s->ops->put_many(s, "m", again, 2), 0);
	assert_file(s, "m", "spec.json", "{}");
	assert_file(s, "m", "status.json", "{\"b\": 2}");

	/* Nothing to put is fine. */
	assert_int_equal(s->ops->put_many(s, "m", NULL, 0), 0);

	/* An error stops it: the files before are replaced, the ones after
	 * are not, and no temporary stays. */
	assert_int_equal(s->ops->put_many(s, "m", broken, 3), -ENOENT);
	assert_file(s, "m", "status.json", "new");
	assert_file(s, "m", "spec.json", "{}");
	assert_int_equal(count_tmp(dir), 0);

	/* A job that is gone. */
	assert_int_equal(s->ops->put_many(s, "gone", again, 2), -ENOENT);
}

static void test_put_get(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	char *data = NULL, dir[512];
	size_t len = 99;

	assert_int_equal(s->ops->job_create(s, "j"), 0);
	snprintf(dir, sizeof(dir), "%s/jobs/j", s->root);

	assert_int_equal(s->ops->get(s, "j", "status.json", &data, &len), -ENOENT);
	assert_null(data);
	assert_int_equal(s->ops->put(s, "j", "status.json", "{\"state\":\"new\"}", 15), 0);
	assert_int_equal(s->ops->get(s, "j", "status.json", &data, &len), 0);
	assert_int_equal(len, 15);
	assert_string_equal(data, "{\"state\":\"new\"}");
	free(data);
	assert_int_equal(count_tmp(dir), 0);

	/* Replaced by shorter content: no stale tail, no .tmp. */
	assert_int_equal(s->ops->put(s, "j", "status.json", "{}", 2), 0);
	assert_int_equal(s->ops->get(s, "j", "status.json", &data, &len), 0);
	assert_int_equal(len, 2);
	assert_string_equal(data, "{}");
	free(data);
	assert_int_equal(count_tmp(dir), 0);

	/* Empty content, and binary content with NULs. */
	assert_int_equal(s->ops->put(s, "j", "empty", "", 0), 0);
	assert_int_equal(s->ops->get(s, "j", "empty", &data, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	{
		unsigned char bin[1000];
		for (int i = 0; i < 1000; i++)
			bin[i] = (unsigned char)(i % 7 == 0 ? 0 : i);
		assert_int_equal(s->ops->put(s, "j", "bin", bin, sizeof(bin)), 0);
		assert_int_equal(s->ops->get(s, "j", "bin", &data, &len), 0);
		assert_int_equal(len, sizeof(bin));
		assert_memory_equal(data, bin, sizeof(bin));
		assert_int_equal(data[len], '\0');
		free(data);
	}
	/* A large file. */
	{
		size_t n = 3u << 20;
		char *big = malloc(n);
		for (size_t i = 0; i < n; i++)
			big[i] = (char)('a' + i % 26);
		assert_int_equal(s->ops->put(s, NULL, "specs/big.json", big, n), 0);
		assert_int_equal(s->ops->get(s, NULL, "specs/big.json", &data, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(data, big, n);
		free(data);
		free(big);
	}
	/* At the root and in streams/. */
	assert_int_equal(s->ops->put(s, NULL, "daemon.x", "r", 1), 0);
	assert_int_equal(s->ops->get(s, NULL, "daemon.x", &data, &len), 0);
	assert_string_equal(data, "r");
	free(data);
	assert_int_equal(s->ops->put(s, "j", "streams/node-u.0", "abc", 3), 0);
	assert_true(existsf("%s/jobs/j/streams/%s", s->root, "node-u.0"));
	assert_int_equal(count_tmp(dir), 0);
	snprintf(dir, sizeof(dir), "%s/jobs/j/streams", s->root);
	assert_int_equal(count_tmp(dir), 0);
	snprintf(dir, sizeof(dir), "%s/specs", s->root);
	assert_int_equal(count_tmp(dir), 0);
	/* The file is private. */
	{
		struct stat st;
		char p[512];
		snprintf(p, sizeof(p), "%s/jobs/j/status.json", s->root);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 077, 0);
	}
}

/* Two puts of the same file at once: each writes its own temporary, so the
 * file is always one of the two versions, whole (they shared FILE.tmp once,
 * and a rename could move the other's half-written file into place). */
struct put_arg {
	struct store *s;
	char fill;
	int bad;
};

static void *put_many(void *arg)
{
	struct put_arg *a = arg;
	char data[64 << 10];

	memset(data, a->fill, sizeof(data));
	for (int i = 0; i < 300; i++) {
		char *got = NULL;
		size_t len = 0;

		if (a->s->ops->put(a->s, "j", "options.json", data, sizeof(data)) < 0)
			a->bad++;
		if (a->s->ops->get(a->s, "j", "options.json", &got, &len) < 0 ||
		    len != sizeof(data) || (got[0] != 'a' && got[0] != 'b') ||
		    memchr(got, got[0] == 'a' ? 'b' : 'a', len) != NULL)
			a->bad++;
		free(got);
	}
	return NULL;
}

static void test_put_concurrent(void **state)
{
	struct fixture *f = *state;
	struct put_arg a = {f->s, 'a', 0}, b = {f->s, 'b', 0};
	pthread_t ta, tb;
	char dir[512];

	assert_int_equal(f->s->ops->job_create(f->s, "j"), 0);
	assert_int_equal(pthread_create(&ta, NULL, put_many, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, put_many, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.bad, 0);
	assert_int_equal(b.bad, 0);
	snprintf(dir, sizeof(dir), "%s/jobs/j", f->s->root);
	assert_int_equal(count_tmp(dir), 0);
}

static void test_put_get_errors(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	char *data = NULL, p[512];
	size_t len;

	/* In a job that does not exist: an error, and no .tmp anywhere. */
	assert_int_equal(s->ops->put(s, "nojob", "status.json", "{}", 2), -ENOENT);
	assert_false(existsf("%s/jobs/%s", s->root, "nojob"));
	assert_int_equal(s->ops->get(s, "nojob", "status.json", &data, &len), -ENOENT);
	assert_int_equal(s->ops->get(s, NULL, "specs/none.json", &data, &len), -ENOENT);
	assert_null(data);
	/* A directory where the file should be: put fails, the dir stays. */
	assert_int_equal(s->ops->job_create(s, "j"), 0);
	snprintf(p, sizeof(p), "%s/jobs/j/adir", s->root);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_true(s->ops->put(s, "j", "adir", "x", 1) < 0);
	assert_true(is_dir(p));
	snprintf(p, sizeof(p), "%s/jobs/j", s->root);
	assert_int_equal(count_tmp(p), 0);
	/* get of a directory fails cleanly. */
	assert_true(s->ops->get(s, "j", "adir", &data, &len) < 0);
	assert_null(data);
}

static void test_del(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	char *data = NULL;
	size_t len;

	assert_int_equal(s->ops->job_create(s, "j"), 0);
	assert_int_equal(s->ops->put(s, "j", "options.json", "{}", 2), 0);
	assert_int_equal(s->ops->del(s, "j", "options.json"), 0);
	assert_int_equal(s->ops->get(s, "j", "options.json", &data, &len), -ENOENT);
	assert_false(existsf("%s/jobs/%s/options.json", s->root, "j"));
	/* Deleting what is not there is fine. */
	assert_int_equal(s->ops->del(s, "j", "options.json"), 0);
	assert_int_equal(s->ops->del(s, "nojob", "x"), 0);
	assert_int_equal(s->ops->put(s, NULL, "specs/a.json", "{}", 2), 0);
	assert_int_equal(s->ops->del(s, NULL, "specs/a.json"), 0);
	assert_int_equal(s->ops->get(s, NULL, "specs/a.json", &data, &len), -ENOENT);
	/* A directory is not deleted by del. */
	assert_true(s->ops->del(s, "j", "streams") < 0);
	assert_true(existsf("%s/jobs/%s/streams", s->root, "j"));
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	struct names c = {0};
	char p[512];

	assert_int_equal(s->ops->list(s, "specs", collect, &c), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(s->ops->put(s, NULL, "specs/pizza.json", "{}", 2), 0);
	assert_int_equal(s->ops->put(s, NULL, "specs/upper.json", "{}", 2), 0);
	snprintf(p, sizeof(p), "%s/specs/.dot", s->root);
	{
		int fd = open(p, O_WRONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(s->ops->list(s, "specs", collect, &c), 0);
	assert_int_equal(c.n, 2);
	qsort(c.v, (size_t)c.n, sizeof(c.v[0]), cmp_str);
	assert_string_equal(c.v[0], "pizza.json");
	assert_string_equal(c.v[1], "upper.json");
	names_free(&c);
	/* A directory that does not exist lists nothing, without error. */
	assert_int_equal(s->ops->list(s, "nothere", collect, &c), 0);
	assert_int_equal(c.n, 0);
	/* Early stop. */
	c.stop_after = 1;
	assert_int_equal(s->ops->list(s, "specs", collect, &c), 7);
	assert_int_equal(c.n, 1);
	names_free(&c);
	/* A job's streams directory. */
	assert_int_equal(s->ops->job_create(s, "j"), 0);
	assert_int_equal(s->ops->put(s, "j", "streams/in-x", "", 0), 0);
	assert_int_equal(s->ops->list(s, "jobs/j/streams", collect, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0], "in-x");
	names_free(&c);
}

/* put is atomic: concurrent readers only ever see one whole version. */
struct atomic_reader {
	struct store *s;
	_Atomic bool stop;
	_Atomic long reads, torn;
};

static void *atomic_reader_main(void *arg)
{
	struct atomic_reader *r = arg;

	while (!atomic_load(&r->stop)) {
		char *data = NULL;
		size_t len = 0;
		bool ok = true;

		if (r->s->ops->get(r->s, "j", "status.json", &data, &len) < 0) {
			atomic_fetch_add(&r->torn, 1); /* the file must always exist */
			continue;
		}
		if (len == 1000) {
			for (size_t i = 0; i < len; i++)
				ok &= data[i] == 'a';
		} else if (len == 3000) {
			for (size_t i = 0; i < len; i++)
				ok &= data[i] == 'b';
		} else {
			ok = false;
		}
		if (!ok)
			atomic_fetch_add(&r->torn, 1);
		atomic_fetch_add(&r->reads, 1);
		free(data);
	}
	return NULL;
}

static void test_put_atomic(void **state)
{
	struct fixture *f = *state;
	struct store *s = f->s;
	char a[1000], b[3000], dir[512];
	struct atomic_reader r[2] = {{.s = s}, {.s = s}}; /* one each: no shared counters */
	pthread_t th[2];

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	assert_int_equal(s->ops->job_create(s, "j"), 0);
	assert_int_equal(s->ops->put(s, "j", "status.json", a, sizeof(a)), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, atomic_reader_main, &r[i]), 0);
	/* Both readers are reading before the first replacement. */
	for (int i = 0; i < 2; i++) {
		int64_t dl = mono_ns() + 5000000000ll;
		while (atomic_load(&r[i].reads) == 0 && mono_ns() < dl)
			usleep(100);
	}
	for (int i = 0; i < 200; i++) {
		if (i % 2)
			assert_int_equal(s->ops->put(s, "j", "status.json", a, sizeof(a)), 0);
		else
			assert_int_equal(s->ops->put(s, "j", "status.json", b, sizeof(b)), 0);
	}
	for (int i = 0; i < 2; i++)
		atomic_store(&r[i].stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(atomic_load(&r[i].torn), 0);
		assert_true(atomic_load(&r[i].reads) > 0);
	}
	snprintf(dir, sizeof(dir), "%s/jobs/j", s->root);
	assert_int_equal(count_tmp(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_create_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_remove_background, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_remove_late_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_get_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_layout_not_dir, setup, teardown),
	};

	h_test_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
