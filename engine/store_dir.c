/* store_dir.c - the local directory storage provider (see store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

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

static int dir_job_create(struct store *s, const char *job)
{
	char *p = dir_path(s, job, "streams");
	int rc;

	if (!p)
		return -ENOMEM;
	rc = mkdir_p(p);
	free(p);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int dir_job_remove(struct store *s, const char *job)
{
	char *p = dir_path(s, job, NULL);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	if (nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		rc = -errno;
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

static int dir_put(struct store *s, const char *job, const char *file, const void *data, size_t len)
{
	char *p = dir_path(s, job, file), *tmp = NULL, *slash;
	int fd = -1, rc = 0;

	if (!p || asprintf(&tmp, "%s.tmp", p) < 0) {
		free(p);
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, p) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		goto out;
	}
	slash = strrchr(p, '/');
	if (slash) {
		*slash = '\0';
		fsync_dir(p);
	}
out:
	free(tmp);
	free(p);
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
	free(s->root);
	free(s);
}

static const struct store_ops dir_ops = {
	.job_create = dir_job_create,
	.job_remove = dir_job_remove,
	.job_list = dir_job_list,
	.path = dir_path,
	.put = dir_put,
	.get = dir_get,
	.del = dir_del,
	.list = dir_list,
	.close = dir_close,
};

int store_dir_open(const char *root, struct store **out)
{
	struct store *s = calloc(1, sizeof(*s));
	char *sub;
	int rc;

	if (!s)
		return -ENOMEM;
	s->ops = &dir_ops;
	s->root = realpath(root, NULL);
	if (!s->root) {
		rc = mkdir_p(root);
		if (rc == 0)
			s->root = realpath(root, NULL);
		if (!s->root) {
			free(s);
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
	*out = s;
	return 0;
}
