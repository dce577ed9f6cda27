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

int log_open(const char *path, struct log **out)
{
	struct log *l = calloc(1, sizeof(*l));
	struct stat st;

	if (!l)
		return -ENOMEM;
	l->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (l->fd < 0 || fstat(l->fd, &st) < 0) {
		int rc = -errno;
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		return rc;
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
	close(l->fd);
	pthread_mutex_destroy(&l->lock);
	free(l->mirror_who);
	free(l);
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
	if (write_all(l->fd, line, len) == 0)
		atomic_fetch_add(&l->size, len);
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

	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	do
		n = pread(l->fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int log_sync(struct log *l)
{
	return fdatasync(l->fd) < 0 ? -errno : 0;
}
