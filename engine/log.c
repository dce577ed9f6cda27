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
 * at mount costs a stat each, not a descriptor each. A missing log is made
 * at once, so that a bad place fails here. */
int log_open(const char *path, struct log **out)
{
	struct log *l = calloc(1, sizeof(*l));
	struct stat st;
	bool exists;
	int rc;

	if (!l)
		return -ENOMEM;
	exists = stat(path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) {
		free(l);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if (lazyfd_init(&l->file, path, O_RDWR | O_APPEND) < 0) {
		free(l);
		return -ENOMEM;
	}
	if (!exists) {
		rc = lazyfd_get(&l->file);
		if (rc < 0) {
			lazyfd_destroy(&l->file);
			free(l);
			return rc;
		}
		lazyfd_put(&l->file);
		st.st_size = 0;
	}
	atomic_store(&l->size, (uint64_t)st.st_size);
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return 0;
}

void log_close(struct log *l)
{
	if (!l)
		return;
	lazyfd_destroy(&l->file);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int log_fd_get(struct log *l)
{
	return lazyfd_get(&l->file);
}

void log_fd_put(struct log *l)
{
	lazyfd_put(&l->file);
}

void log_set_close_idle(struct log *l, bool on)
{
	lazyfd_set_close_idle(&l->file, on);
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
	int fd = lazyfd_get_open(&l->file), rc = 0;

	if (fd < 0)
		return 0;
	if (fdatasync(fd) < 0)
		rc = -errno;
	log_fd_put(l);
	return rc;
}
