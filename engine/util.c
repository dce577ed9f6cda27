/* util.c - see util.h. */
#include "util.h"

#include <jansson.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void errs_init(struct errs *e)
{
	memset(e, 0, sizeof(*e));
}

void errs_addv(struct errs *e, const char *fmt, va_list ap)
{
	char *m = NULL;

	if (e->n >= LJ_ERRS_MAX) {
		e->dropped++;
		return;
	}
	if (vasprintf(&m, fmt, ap) < 0) {
		e->dropped++;
		return;
	}
	e->msg[e->n++] = m;
}

void errs_add(struct errs *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_addv(e, fmt, ap);
	va_end(ap);
}

void errs_free(struct errs *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->msg[i]);
	errs_init(e);
}

char *errs_join(const struct errs *e)
{
	struct buf b = {0};

	if (e->n == 0)
		return NULL;
	for (int i = 0; i < e->n; i++)
		buf_printf(&b, "%s%s", i ? "; " : "", e->msg[i]);
	if (e->dropped)
		buf_printf(&b, "; and %d more", e->dropped);
	return b.p;
}

bool name_okn(const char *name, size_t len)
{
	if (len < 1 || len > 255 || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool name_ok(const char *name)
{
	return name && name_okn(name, strnlen(name, 256));
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void time_fmt(int64_t ms, char out[64])
{
	time_t sec;
	struct tm tm;

	/* floor division, so that -1 ms is 1969-12-31T23:59:59.999Z */
	sec = (time_t)(ms / 1000);
	if (ms % 1000 < 0) {
		sec -= 1;
		ms = ms % 1000 + 1000;
	}

	gmtime_r(&sec, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ms % 1000));
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + len + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	{
		char *big = malloc((size_t)n + 1);
		int rc;

		if (!big)
			return -ENOMEM;
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		rc = buf_append(b, big, (size_t)n);
		free(big);
		return rc;
	}
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

void utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = *p < 0x80 ? 1 : (*p >> 5) == 0x6 ? 2 : (*p >> 4) == 0xe ? 3 :
			   (*p >> 3) == 0x1e ? 4 : 0;
		size_t i;

		for (i = 1; n && i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				n = 0;
		if (n == 0) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

char *json_text(const json_t *v, size_t flags, size_t *len)
{
	char *text = json_dumps(v, flags), *t;
	size_t n;

	if (!text)
		return NULL;
	n = strlen(text);
	t = realloc(text, n + 2);
	if (!t) {
		free(text);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*len = n + 1;
	return t;
}

char *memdup0(const void *p, size_t len, size_t *out_len)
{
	char *c = malloc(len + 1);

	if (!c)
		return NULL;
	memcpy(c, p, len);
	c[len] = '\0';
	if (out_len)
		*out_len = len;
	return c;
}
