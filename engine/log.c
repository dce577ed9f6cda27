/* log.c - see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define LOG_LINE_MAX 8192 /* longer messages are cut, with "..." */

static const char *const level_names[] = {"INFO ", "WARN ", "ERROR"};

/* The file is opened when first needed: loading thousands of finished jobs
 * at mount costs a stat each, not a descriptor each. */
int log_open(const char *path, struct log **out)
{
	struct log *l = calloc(1, sizeof(*l));
	struct stat st;
	int fd;

	if (!l)
		return -ENOMEM;
	l->fd = -1;
	l->path = strdup(path);
	if (!l->path) {
		free(l);
		return -ENOMEM;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		free(l->path);
		free(l);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if (stat(path, &st) < 0) {
		fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0) {
			int rc = -errno;
			free(l->path);
			free(l);
			return rc;
		}
		l->fd = fd;
		st.st_size = 0;
	}
	atomic_store(&l->size, (uint64_t)st.st_size);
	pthread_mutex_init(&l->lock, NULL);
	pthread_mutex_init(&l->fd_lock, NULL);
	*out = l;
	return 0;
}

void log_close(struct log *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->fd_lock);
	free(l->mirror_who);
	free(l->path);
	free(l);
}

int log_fd_get(struct log *l)
{
	int fd;

	pthread_mutex_lock(&l->fd_lock);
	if (l->fd < 0)
		l->fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	fd = l->fd < 0 ? -errno : l->fd;
	if (fd >= 0)
		l->fd_users++;
	pthread_mutex_unlock(&l->fd_lock);
	return fd;
}

static void close_if_idle(struct log *l)
{
	if (l->close_idle && l->fd_users == 0 && l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
}

void log_fd_put(struct log *l)
{
	pthread_mutex_lock(&l->fd_lock);
	l->fd_users--;
	close_if_idle(l);
	pthread_mutex_unlock(&l->fd_lock);
}

void log_set_close_idle(struct log *l, bool on)
{
	pthread_mutex_lock(&l->fd_lock);
	l->close_idle = on;
	close_if_idle(l);
	pthread_mutex_unlock(&l->fd_lock);
}

/* Control characters (a child's stderr may hold anything) would break the
 * one-line-per-entry format that grep relies on: show them as '?'. */
static void sanitize(char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f)
			p[i] = '?';
	}
}

void log_vmsg(struct log *l, enum log_level lv, const char *who, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], ts[64];
	int head, n;
	size_t len;
	va_list copy;

	if (!l)
		return;
	time_fmt(now_ms(), ts);
	head = snprintf(line, sizeof(line), "%s %s %s: ", ts, level_names[lv], who);
	if (head < 0 || (size_t)head >= sizeof(line) - 8)
		return;
	va_copy(copy, ap);
	n = vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	len = (size_t)head + (size_t)n;
	if (len > sizeof(line) - 5) {
		len = sizeof(line) - 5;
		memcpy(line + len, "...", 3);
		len += 3;
	}
	sanitize(line + head, len - (size_t)head);
	line[len++] = '\n';
	pthread_mutex_lock(&l->lock);
	{
		int fd = log_fd_get(l);

		if (fd >= 0) {
			if (write_all(fd, line, len) == 0)
				atomic_fetch_add(&l->size, len);
			log_fd_put(l);
		}
	}
	pthread_mutex_unlock(&l->lock);
	if (lv == LOG_ERROR && l->mirror) {
		line[len - 1] = '\0';
		log_msg(l->mirror, lv, l->mirror_who ? l->mirror_who : who, "%s", line + head);
	}
}

void log_msg(struct log *l, enum log_level lv, const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(l, lv, who, fmt, ap);
	va_end(ap);
}

ssize_t log_pread(struct log *l, void *buf, size_t len, uint64_t off)
{
	uint64_t size = atomic_load(&l->size);
	ssize_t n;
	int fd;

	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	fd = log_fd_get(l);
	if (fd < 0)
		return fd;
	do
		n = pread(fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	log_fd_put(l);
	return n;
}

int log_sync(struct log *l)
{
	int fd, rc = 0;

	pthread_mutex_lock(&l->fd_lock);
	fd = l->fd;
	if (fd >= 0)
		l->fd_users++;
	pthread_mutex_unlock(&l->fd_lock);
	if (fd < 0)
		return 0;
	if (fdatasync(fd) < 0)
		rc = -errno;
	log_fd_put(l);
	return rc;
}
