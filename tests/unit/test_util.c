/* test_util.c - engine/util.c: the error list (cap and "and N more"),
 * name_ok() on every kind of good and bad name, time stamps, the growable
 * buffer and write_all() (short writes through a pipe, error codes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

/* ---- errs ---- */

static void test_errs_basic(void **state)
{
	struct errs e;
	char *all;

	(void)state;
	errs_init(&e);
	assert_int_equal(e.n, 0);
	assert_int_equal(e.dropped, 0);
	assert_null(errs_join(&e));

	errs_add(&e, "nodes.%s.in: unknown stream \"%s\"", "bake", "baek");
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], "nodes.bake.in: unknown stream \"baek\"");
	all = errs_join(&e);
	assert_string_equal(all, "nodes.bake.in: unknown stream \"baek\"");
	free(all);

	errs_add(&e, "b %d", 2);
	errs_add(&e, "%s", "");
	errs_add(&e, "c");
	assert_int_equal(e.n, 4);
	all = errs_join(&e);
	assert_string_equal(all, "nodes.bake.in: unknown stream \"baek\"; b 2; ; c");
	free(all);

	errs_free(&e);
	assert_int_equal(e.n, 0);
	assert_int_equal(e.dropped, 0);
	assert_null(errs_join(&e));
	/* Usable again after free, and free twice is harmless. */
	errs_add(&e, "again");
	assert_int_equal(e.n, 1);
	errs_free(&e);
	errs_free(&e);
}

static void test_errs_cap(void **state)
{
	struct errs e;
	char *all, expect[64];

	(void)state;
	errs_init(&e);
	for (int i = 0; i < LJ_ERRS_MAX; i++)
		errs_add(&e, "e%d", i);
	assert_int_equal(e.n, LJ_ERRS_MAX);
	assert_int_equal(e.dropped, 0);
	all = errs_join(&e);
	assert_null(strstr(all, "more"));
	assert_non_null(strstr(all, "e0; e1; "));
	snprintf(expect, sizeof(expect), "; e%d", LJ_ERRS_MAX - 1);
	assert_string_equal(all + strlen(all) - strlen(expect), expect);
	free(all);

	for (int i = 0; i < 9; i++)
		errs_add(&e, "extra%d", i);
	assert_int_equal(e.n, LJ_ERRS_MAX);
	assert_int_equal(e.dropped, 9);
	all = errs_join(&e);
	snprintf(expect, sizeof(expect), "; e%d; and 9 more", LJ_ERRS_MAX - 1);
	assert_string_equal(all + strlen(all) - strlen(expect), expect);
	assert_null(strstr(all, "extra"));
	/* Exactly LJ_ERRS_MAX messages, LJ_ERRS_MAX separators (the last one
	 * before "and 9 more"). */
	{
		int seps = 0;
		for (const char *p = all; (p = strstr(p, "; ")) != NULL; p += 2)
			seps++;
		assert_int_equal(seps, LJ_ERRS_MAX);
	}
	free(all);
	errs_free(&e);
	assert_int_equal(e.dropped, 0);
}

static void addv_helper(struct errs *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_addv(e, fmt, ap);
	va_end(ap);
}

static void test_errs_long_and_addv(void **state)
{
	struct errs e;
	char *big = malloc(5001), *all;

	(void)state;
	memset(big, 'q', 5000);
	big[5000] = '\0';
	errs_init(&e);
	addv_helper(&e, "%s:%d", big, 7);
	addv_helper(&e, "tail");
	assert_int_equal(e.n, 2);
	assert_int_equal(strlen(e.msg[0]), 5002);
	all = errs_join(&e);
	assert_int_equal(strlen(all), 5002 + 2 + 4);
	assert_memory_equal(all, big, 5000);
	assert_string_equal(all + 5000, ":7; tail");
	free(all);
	errs_free(&e);
	free(big);
}

/* ---- names ---- */

static void test_name_ok_good(void **state)
{
	static const char *const good[] = {
		"a", "Z", "0", "_", "-", "p1", "pizza", "job.1", "a..b", "a.", "x-y_z.0",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
		"-leading-dash", "_leading_underscore",
	};
	char n255[256];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(name_ok(good[i]));
		assert_true(name_okn(good[i], strlen(good[i])));
	}
	memset(n255, 'a', 255);
	n255[255] = '\0';
	assert_true(name_ok(n255));
	assert_true(name_okn(n255, 255));
	/* name_okn looks at len bytes only. */
	assert_true(name_okn("abc/def", 3));
	assert_true(name_okn("ab\0zz", 2));
}

static void test_name_ok_bad(void **state)
{
	static const char *const bad[] = {
		"", ".", "..", ".hidden", "./a", "a/b", "/", "/a", "a/", "a b", " a", "a ",
		"a\tb", "a\nb", "a\rb", "\x01", "a\x1f", "a\x7f", "caf\xc3\xa9", "\xc3\xa9",
		"a\x80", "\xff", "a:b", "a*b", "a?b", "a\\b", "a\"b", "a'b", "$x", "${x}",
		"a,b", "a;b", "a|b", "a=b", "a+b", "a@b", "a#b", "a%b", "(a)", "[a]", "{a}",
		"~", "~a", "a~",
	};
	char n256[257], big[4097];

	(void)state;
	assert_false(name_ok(NULL));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(name_ok(bad[i]));
		assert_false(name_okn(bad[i], strlen(bad[i])));
	}
	memset(n256, 'a', 256);
	n256[256] = '\0';
	assert_false(name_ok(n256));
	assert_false(name_okn(n256, 256));
	memset(big, 'b', 4096);
	big[4096] = '\0';
	assert_false(name_ok(big));
	/* Embedded NUL counted by len. */
	assert_false(name_okn("a\0b", 3));
	assert_false(name_okn("abc", 0));
	/* 255 good bytes then a bad one. */
	memset(n256, 'a', 255);
	n256[255] = '/';
	n256[256] = '\0';
	assert_false(name_ok(n256));
	assert_true(name_okn(n256, 255));
}

/* ---- time ---- */

static bool ts_shape(const char *s)
{
	regex_t re;
	bool ok;

	assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
				 REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static void test_time_fmt(void **state)
{
	char out[64];

	(void)state;
	time_fmt(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	time_fmt(1795926901123LL, out);
	assert_string_equal(out, "2026-11-29T04:35:01.123Z");
	assert_int_equal(strlen(out), 24);
	time_fmt(1795926901000LL, out);
	assert_string_equal(out, "2026-11-29T04:35:01.000Z");
	time_fmt(1795926901999LL, out);
	assert_string_equal(out, "2026-11-29T04:35:01.999Z");
	time_fmt(1795926901007LL, out);
	assert_string_equal(out, "2026-11-29T04:35:01.007Z");
	time_fmt(4102444799999LL, out);
	assert_string_equal(out, "2099-12-31T23:59:59.999Z");
	/* Leap day. */
	time_fmt(951782400000LL, out);
	assert_string_equal(out, "2000-02-29T00:00:00.000Z");

	time_fmt(now_ms(), out);
	assert_true(ts_shape(out));
	/* The format sorts like time, which log readers rely on. */
	{
		char a[64], b[64];
		time_fmt(1795926901123LL, a);
		time_fmt(1795926901124LL, b);
		assert_true(strcmp(a, b) < 0);
	}
}

/* Regression (fixed): util.c time_fmt(): a time before the epoch (negative ms, e.g. from
 * a hand-edited status.json that json_time() parsed as 1969) gives
 * "1970-01-01T00:00:00.-01Z" for -1: the seconds are truncated towards
 * zero and the milliseconds printed negative, so the text is not RFC 3339.
 * Left out of the group below; enable once fixed. */
static void test_time_fmt_negative(void **state)
{
	char out[64];

	(void)state;
	time_fmt(-1, out);
	assert_true(ts_shape(out));
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");
	time_fmt(-1000, out);
	assert_string_equal(out, "1969-12-31T23:59:59.000Z");
}

static void test_clocks(void **state)
{
	int64_t a = mono_ns(), b, w = now_ms();

	(void)state;
	usleep(2000);
	b = mono_ns();
	assert_true(b - a >= 2000000);
	/* A sane wall clock: after 2020, before 2100. */
	assert_true(w > 1577836800000LL);
	assert_true(w < 4102444800000LL);
}

/* ---- buf ---- */

static void test_buf_growth(void **state)
{
	struct buf b = {0};

	(void)state;
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_non_null(b.p);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.p, "");
	for (int i = 0; i < 100000; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(buf_append(&b, &c, 1), 0);
		assert_true(b.cap > b.len);
	}
	assert_int_equal(b.len, 100000);
	assert_int_equal(b.p[b.len], '\0');
	for (int i = 0; i < 100000; i++)
		assert_int_equal(b.p[i], 'a' + i % 26);
	buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);

	/* One large append, binary data with NULs. */
	{
		size_t n = 3u << 20;
		unsigned char *data = malloc(n);
		for (size_t i = 0; i < n; i++)
			data[i] = (unsigned char)(i * 7);
		assert_int_equal(buf_append(&b, "x", 1), 0);
		assert_int_equal(buf_append(&b, data, n), 0);
		assert_int_equal(b.len, n + 1);
		assert_int_equal(b.p[0], 'x');
		assert_memory_equal(b.p + 1, data, n);
		assert_int_equal(b.p[n + 1], '\0');
		free(data);
		buf_free(&b);
	}
}

static void test_buf_printf(void **state)
{
	struct buf b = {0};
	char *big;

	(void)state;
	assert_int_equal(buf_printf(&b, "%s=%d", "n", 42), 0);
	assert_string_equal(b.p, "n=42");
	assert_int_equal(b.len, 4);
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 4);
	/* Exactly around the 512-byte stack buffer of buf_printf. */
	for (int n = 509; n <= 514; n++) {
		struct buf c = {0};
		char *s = malloc((size_t)n + 1);
		memset(s, 'z', (size_t)n);
		s[n] = '\0';
		assert_int_equal(buf_printf(&c, "<%s>", s), 0);
		assert_int_equal(c.len, (size_t)n + 2);
		assert_int_equal(c.p[0], '<');
		assert_int_equal(c.p[n + 1], '>');
		assert_int_equal(c.p[n + 2], '\0');
		assert_memory_equal(c.p + 1, s, (size_t)n);
		free(s);
		buf_free(&c);
	}
	/* A long formatted string (the heap path) after short ones. */
	big = malloc(100001);
	memset(big, 'Q', 100000);
	big[100000] = '\0';
	assert_int_equal(buf_printf(&b, "[%s|%d]", big, -7), 0);
	assert_int_equal(b.len, 4 + 1 + 100000 + 4);
	assert_memory_equal(b.p, "n=42[", 5);
	assert_memory_equal(b.p + 5, big, 100000);
	assert_string_equal(b.p + 5 + 100000, "|-7]");
	free(big);
	buf_free(&b);
}

/* ---- write_all ---- */

struct drain {
	int fd;
	size_t got;
	unsigned sum;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	char buf[4096];
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			d->sum = d->sum * 31 + (unsigned char)buf[i];
		d->got += (size_t)n;
		usleep(n == sizeof(buf) ? 0 : 100); /* let the writer fill the pipe */
	}
	return NULL;
}

static void test_write_all_pipe(void **state)
{
	int p[2];
	size_t n = 4u << 20;
	char *data = malloc(n);
	unsigned sum = 0;
	struct drain d = {0};
	pthread_t th;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		data[i] = (char)(i % 251);
		sum = sum * 31 + (unsigned char)data[i];
	}
	assert_int_equal(pipe(p), 0);
	/* A small pipe makes the kernel take the data in pieces. */
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	d.fd = p[0];
	assert_int_equal(pthread_create(&th, NULL, drain_main, &d), 0);
	assert_int_equal(write_all(p[1], data, n), 0);
	assert_int_equal(write_all(p[1], data, 0), 0);
	close(p[1]);
	pthread_join(th, NULL);
	close(p[0]);
	assert_int_equal(d.got, n);
	assert_int_equal(d.sum, sum);
	free(data);
}

static void test_write_all_file_and_errors(void **state)
{
	char dir[] = "/tmp/lj-util-XXXXXX", path[256];
	int fd, p[2];
	char back[16];
	struct sigaction sa = {0}, old;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, "hello", 5), 0);
	assert_int_equal(write_all(fd, " world", 6), 0);
	assert_int_equal(pread(fd, back, sizeof(back), 0), 11);
	assert_memory_equal(back, "hello world", 11);
	close(fd);

	/* Error paths: a closed fd, a read-only fd, a pipe with no reader. */
	assert_int_equal(write_all(fd, "x", 1), -EBADF);
	assert_int_equal(write_all(-1, "x", 1), -EBADF);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, "x", 1), -EBADF);
	close(fd);

	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(write_all(p[1], "x", 1), -EPIPE);
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);

	/* A non-blocking full pipe reports EAGAIN instead of spinning. */
	assert_int_equal(pipe(p), 0);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	{
		size_t n = 1u << 20;
		char *big = calloc(1, n);
		assert_int_equal(write_all(p[1], big, n), -EAGAIN);
		free(big);
	}
	close(p[0]);
	close(p[1]);

	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errs_basic),
		cmocka_unit_test(test_errs_cap),
		cmocka_unit_test(test_errs_long_and_addv),
		cmocka_unit_test(test_name_ok_good),
		cmocka_unit_test(test_name_ok_bad),
		cmocka_unit_test(test_time_fmt),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_write_all_pipe),
		cmocka_unit_test(test_write_all_file_and_errors),
		cmocka_unit_test(test_time_fmt_negative),
	};

	h_test_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
