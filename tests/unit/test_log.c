/* test_log.c - engine/log.c: the line format
 * "YYYY-MM-DDTHH:MM:SS.mmmZ LEVEL who: message\n" (levels "INFO ", "WARN ",
 * "ERROR"), an exact size after every line, log_pread of any range,
 * control characters shown as '?', long messages cut with "...", reopening
 * an existing log, the ERROR mirror, and concurrent writers whose lines
 * never interleave. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"
#include "util.h"

#define LINE_RE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z (INFO |WARN |ERROR) "
#define TS_LEN 24
#define HEAD_LEN(who) (TS_LEN + 1 + 5 + 1 + strlen(who) + 2)

struct fixture {
	char dir[64];
	char path[128];
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

	strcpy(f->dir, "/tmp/lj-log-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/log", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : st.st_size;
}

/* Checks one line (without '\n') against the format; returns where the
 * message starts, or NULL. */
static const char *check_line(const char *line, const char *level, const char *who)
{
	regex_t re;
	char pat[512];
	int ok;

	snprintf(pat, sizeof(pat), LINE_RE);
	assert_int_equal(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&re, line, 0, NULL, 0) == 0;
	regfree(&re);
	if (!ok)
		return NULL;
	if (level && strncmp(line + TS_LEN + 1, level, 5) != 0)
		return NULL;
	if (line[TS_LEN + 6] != ' ')
		return NULL;
	if (who) {
		size_t n = strlen(who);
		if (strncmp(line + TS_LEN + 7, who, n) != 0 || strncmp(line + TS_LEN + 7 + n, ": ", 2))
			return NULL;
		return line + TS_LEN + 7 + n + 2;
	}
	return strstr(line + TS_LEN + 7, ": ") ? strstr(line + TS_LEN + 7, ": ") + 2 : NULL;
}

static void test_format(void **state)
{
	struct fixture *f = *state;
	struct log *l;
	char *text, *nl, before[64], after[64], ts[64];
	size_t len;
	const char *msg;

	assert_int_equal(log_open(f->path, &l), 0);
	assert_int_equal(log_size(l), 0);
	time_fmt(now_ms(), before);
	log_msg(l, LOG_INFO, "knead", "started %d", 42);
	time_fmt(now_ms(), after);
	text = slurp(f->path, &len);
	assert_int_equal(log_size(l), len);
	nl = strchr(text, '\n');
	assert_non_null(nl);
	assert_int_equal(nl - text + 1, (long)len);
	*nl = '\0';
	msg = check_line(text, "INFO ", "knead");
	assert_non_null(msg);
	assert_string_equal(msg, "started 42");
	/* The exact text around the time stamp. */
	assert_string_equal(text + TS_LEN, " INFO  knead: started 42");
	/* The time stamp is now. */
	memcpy(ts, text, TS_LEN);
	ts[TS_LEN] = '\0';
	assert_true(strcmp(before, ts) <= 0);
	assert_true(strcmp(ts, after) <= 0);
	free(text);
	log_close(l);
	log_close(NULL);
}

static void test_levels_and_sizes(void **state)
{
	struct fixture *f = *state;
	struct log *l;
	char *text, *line, *save = NULL;
	size_t len, expect = 0;
	static const char *const lv[] = {"INFO ", "WARN ", "ERROR"};
	int i = 0;

	assert_int_equal(log_open(f->path, &l), 0);
	log_msg(l, LOG_INFO, "a", "one");
	expect += TS_LEN + 1 + 5 + 1 + strlen("a: one") + 1;
	assert_int_equal(log_size(l), expect);
	assert_int_equal(file_size(f->path), (off_t)expect);
	log_msg(l, LOG_WARN, "bb", "two %s", "words");
	expect += TS_LEN + 1 + 5 + 1 + strlen("bb: two words") + 1;
	assert_int_equal(log_size(l), expect);
	assert_int_equal(file_size(f->path), (off_t)expect);
	log_msg(l, LOG_ERROR, "ccc", "%s", "");
	expect += TS_LEN + 1 + 5 + 1 + strlen("ccc: ") + 1;
	assert_int_equal(log_size(l), expect);
	assert_int_equal(file_size(f->path), (off_t)expect);

	text = slurp(f->path, &len);
	assert_int_equal(len, expect);
	assert_non_null(strstr(text, "Z WARN  bb: two words\n"));
	assert_non_null(strstr(text, "Z ERROR ccc: \n"));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		static const char *const who[] = {"a", "bb", "ccc"};
		static const char *const msg[] = {"one", "two words", ""};
		const char *m = check_line(line, lv[i], who[i]);
		assert_non_null(m);
		assert_string_equal(m, msg[i]);
	}
	assert_int_equal(i, 3);
	free(text);
	log_close(l);
}

static void test_pread(void **state)
{
	struct fixture *f = *state;
	struct log *l;
	char *text, buf[256];
	size_t len;

	assert_int_equal(log_open(f->path, &l), 0);
	assert_int_equal(log_pread(l, buf, sizeof(buf), 0), 0);
	log_msg(l, LOG_INFO, "x", "first");
	log_msg(l, LOG_INFO, "x", "second");
	text = slurp(f->path, &len);
	assert_int_equal(log_size(l), len);

	assert_int_equal(log_pread(l, buf, sizeof(buf), 0), (ssize_t)len);
	assert_memory_equal(buf, text, len);
	assert_int_equal(log_pread(l, buf, 10, 0), 10);
	assert_memory_equal(buf, text, 10);
	assert_int_equal(log_pread(l, buf, 10, 5), 10);
	assert_memory_equal(buf, text + 5, 10);
	assert_int_equal(log_pread(l, buf, sizeof(buf), len - 3), 3);
	assert_memory_equal(buf, text + len - 3, 3);
	assert_int_equal(log_pread(l, buf, sizeof(buf), len), 0);
	assert_int_equal(log_pread(l, buf, sizeof(buf), len + 100), 0);
	assert_int_equal(log_pread(l, buf, 0, 0), 0);
	/* Reading every byte one at a time gives the same text. */
	for (size_t off = 0; off < len; off++) {
		assert_int_equal(log_pread(l, buf, 1, off), 1);
		assert_int_equal(buf[0], text[off]);
	}
	assert_int_equal(log_sync(l), 0);
	free(text);
	log_close(l);
}

static void test_control_chars(void **state)
{
	struct fixture *f = *state;
	struct log *l;
	char *text;
	size_t len;

	assert_int_equal(log_open(f->path, &l), 0);
	log_msg(l, LOG_WARN, "sh", "a\nb\tc\x01" "d\x7f" "e\rf\x1b[31mg");
	log_msg(l, LOG_INFO, "sh", "%s", "caf\xc3\xa9 \xff ok"); /* bytes >= 0x80 pass */
	log_msg(l, LOG_INFO, "sh", "end\n");
	text = slurp(f->path, &len);
	assert_int_equal(log_size(l), len);
	{
		char *l1 = text, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
		assert_memory_equal(l1 + TS_LEN, " WARN  sh: a?b?c?d?e?f?[31mg\n",
				    strlen(" WARN  sh: a?b?c?d?e?f?[31mg\n"));
		assert_memory_equal(l2 + TS_LEN, " INFO  sh: caf\xc3\xa9 \xff ok\n",
				    strlen(" INFO  sh: caf\xc3\xa9 \xff ok\n"));
		assert_memory_equal(l3 + TS_LEN, " INFO  sh: end?\n", strlen(" INFO  sh: end?\n"));
		assert_int_equal(l3 + TS_LEN + strlen(" INFO  sh: end?\n"), text + len);
	}
	/* Exactly three lines. */
	{
		int n = 0;
		for (size_t i = 0; i < len; i++)
			n += text[i] == '\n';
		assert_int_equal(n, 3);
	}
	free(text);
	log_close(l);
}

static void test_long_messages(void **state)
{
	struct fixture *f = *state;
	struct log *l;
	char *text, *big;
	size_t len, head = HEAD_LEN("w"), prev = 0;

	big = malloc(100001);
	memset(big, 'x', 100000);
	big[100000] = '\0';
	assert_int_equal(log_open(f->path, &l), 0);

	/* Far too long: cut, ends in "...\n", and still one line. */
	log_msg(l, LOG_INFO, "w", "%s", big);
	text = slurp(f->path, &len);
	assert_int_equal(log_size(l), len);
	assert_true(len < 8200);
	assert_true(len > 8000);
	assert_memory_equal(text + len - 4, "...\n", 4);
	assert_non_null(check_line(text, "INFO ", "w"));
	for (size_t i = head; i < len - 4; i++)
		assert_int_equal(text[i], 'x');
	assert_ptr_equal(memchr(text, '\n', len), text + len - 1);
	prev = len;
	free(text);

	/* A message that fits is never cut; find the largest that fits and
	 * check that one byte more is cut to the same line length. */
	{
		size_t n, fit = 0, cut_len = prev;
		for (n = 8100; n < 8200; n++) {
			size_t before = log_size(l), line;
			big[n] = '\0';
			log_msg(l, LOG_INFO, "w", "%s", big);
			big[n] = 'x';
			line = log_size(l) - before;
			if (line == head + n + 1)
				fit = n;
			else {
				/* cut: same length as the first cut line */
				assert_int_equal(line, cut_len);
				break;
			}
		}
		assert_true(fit > 8000);
		assert_int_equal(n, fit + 1);
		text = slurp(f->path, &len);
		assert_int_equal(log_size(l), len);
		/* The last line is cut, the one before is whole. */
		assert_memory_equal(text + len - 4, "...\n", 4);
		assert_memory_equal(text + len - cut_len - 2, "x\n", 2);
		free(text);
	}
	/* A long message with control characters: cut and sanitized. */
	{
		size_t before = log_size(l);
		for (size_t i = 0; i < 100000; i += 100)
			big[i] = '\n';
		log_msg(l, LOG_ERROR, "w", "%s", big);
		text = slurp(f->path, &len);
		assert_int_equal(log_size(l), len);
		assert_int_equal(len - before, prev);
		assert_ptr_equal(memchr(text + before, '\n', len - before), text + len - 1);
		free(text);
	}
	free(big);
	log_close(l);
}

static void test_reopen_continues(void **state)
{
	struct fixture *f = *state;
	struct log *l;
	char *text, *line, *save = NULL;
	size_t len, s1;
	int n = 0;

	assert_int_equal(log_open(f->path, &l), 0);
	log_msg(l, LOG_INFO, "a", "one");
	log_msg(l, LOG_INFO, "a", "two");
	s1 = log_size(l);
	log_close(l);

	assert_int_equal(log_open(f->path, &l), 0);
	assert_int_equal(log_size(l), s1);
	log_msg(l, LOG_WARN, "b", "three");
	assert_int_equal(log_size(l), (uint64_t)file_size(f->path));
	text = slurp(f->path, &len);
	assert_int_equal(len, log_size(l));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(check_line(line, NULL, NULL));
		n++;
	}
	assert_int_equal(n, 3);
	free(text);
	{
		char buf[64];
		assert_int_equal(log_pread(l, buf, 5, 0), 5);
	}
	log_close(l);

	/* A log file that was torn (no final newline) is continued at its
	 * size: the size stays exact. */
	{
		int fd = open(f->path, O_WRONLY | O_APPEND);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "torn", 4), 4);
		close(fd);
	}
	assert_int_equal(log_open(f->path, &l), 0);
	assert_int_equal(log_size(l), (uint64_t)file_size(f->path));
	log_msg(l, LOG_INFO, "c", "four");
	assert_int_equal(log_size(l), (uint64_t)file_size(f->path));
	log_close(l);
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	struct log *l = NULL;
	char p[200];

	snprintf(p, sizeof(p), "%s/no/such/log", f->dir);
	assert_int_equal(log_open(p, &l), -ENOENT);
	assert_null(l);
	assert_int_equal(log_open(f->dir, &l), -EISDIR);
	/* A NULL log is ignored. */
	log_msg(NULL, LOG_ERROR, "x", "nothing");
}

static void test_mirror(void **state)
{
	struct fixture *f = *state;
	struct log *l, *m;
	char mp[200], *text;
	size_t len;

	snprintf(mp, sizeof(mp), "%s/daemon.log", f->dir);
	assert_int_equal(log_open(f->path, &l), 0);
	assert_int_equal(log_open(mp, &m), 0);
	l->mirror = m;
	l->mirror_who = "p1";
	log_msg(l, LOG_INFO, "job", "created");
	log_msg(l, LOG_WARN, "job", "careful");
	assert_int_equal(log_size(m), 0);
	log_msg(l, LOG_ERROR, "knead", "bad\tthing");
	text = slurp(mp, &len);
	assert_int_equal(log_size(m), len);
	assert_memory_equal(text + TS_LEN, " ERROR p1: bad?thing\n", strlen(" ERROR p1: bad?thing\n"));
	assert_int_equal(len, TS_LEN + strlen(" ERROR p1: bad?thing\n"));
	free(text);
	text = slurp(f->path, &len);
	assert_non_null(strstr(text, " ERROR knead: bad?thing\n"));
	free(text);
	/* Without mirror_who the writer's own name is used. */
	l->mirror_who = NULL;
	log_msg(l, LOG_ERROR, "bake", "%s", "oops");
	text = slurp(mp, &len);
	assert_non_null(strstr(text, " ERROR bake: oops\n"));
	free(text);
	log_close(l);
	log_close(m);
}

/* ---- concurrency ---- */

struct writer {
	struct log *l;
	int id, n;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char who[16];

	snprintf(who, sizeof(who), "w%d", w->id);
	for (int i = 0; i < w->n; i++)
		log_msg(w->l, (enum log_level)(i % 3), who, "line %d of %d %.*s", i, w->id,
			(i * 37) % 300, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	enum { NT = 8, N = 1500 };
	struct fixture *f = *state;
	struct log *l;
	struct writer w[NT];
	pthread_t th[NT];
	char *text, *line, *save = NULL;
	size_t len;
	int next[NT] = {0}, total = 0;
	static const char *const lv[] = {"INFO ", "WARN ", "ERROR"};

	assert_int_equal(log_open(f->path, &l), 0);
	for (int i = 0; i < NT; i++) {
		w[i] = (struct writer){.l = l, .id = i, .n = N};
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	text = slurp(f->path, &len);
	assert_int_equal(log_size(l), len);
	assert_int_equal(text[len - 1], '\n');
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int id = -1, i = -1, id2 = -1, k = 0;
		const char *m;
		char expect[400];

		assert_int_equal(sscanf(line + TS_LEN + 7, "w%d: %n", &id, &k), 1);
		assert_in_range(id, 0, NT - 1);
		m = line + TS_LEN + 7 + k;
		assert_int_equal(sscanf(m, "line %d of %d", &i, &id2), 2);
		assert_int_equal(id2, id);
		assert_int_equal(i, next[id]);
		next[id]++;
		{
			char who[16];
			snprintf(who, sizeof(who), "w%d", id);
			assert_non_null(check_line(line, lv[i % 3], who));
		}
		snprintf(expect, sizeof(expect), "line %d of %d %.*s", i, id, (i * 37) % 300,
			 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
		assert_string_equal(m, expect);
		total++;
	}
	assert_int_equal(total, NT * N);
	free(text);
	log_close(l);
}

/* Readers see whole lines only up to the size (snapshot semantics): a
 * reader polling log_size while writers append never sees a torn line. */
struct snap_reader {
	struct log *l;
	_Atomic bool stop;
	_Atomic long checks;
	_Atomic bool bad;
};

static void *snap_main(void *arg)
{
	struct snap_reader *r = arg;
	char *buf = malloc(1 << 20);

	while (!atomic_load(&r->stop)) {
		uint64_t size = log_size(r->l);
		ssize_t n;

		if (size == 0 || size > (1 << 20))
			continue;
		n = log_pread(r->l, buf, (size_t)size, 0);
		if (n != (ssize_t)size || buf[n - 1] != '\n')
			atomic_store(&r->bad, true);
		atomic_fetch_add(&r->checks, 1);
	}
	free(buf);
	return NULL;
}

static void test_snapshot_reader(void **state)
{
	struct fixture *f = *state;
	struct log *l;
	struct writer w[3];
	pthread_t th[3], rt;
	struct snap_reader r = {0};

	assert_int_equal(log_open(f->path, &l), 0);
	log_msg(l, LOG_INFO, "first", "line");
	r.l = l;
	assert_int_equal(pthread_create(&rt, NULL, snap_main, &r), 0);
	/* The reader is reading before the writers start, and after. */
	assert_true(WAIT_FOR(atomic_load(&r.checks) > 0, 5000));
	for (int i = 0; i < 3; i++) {
		w[i] = (struct writer){.l = l, .id = i, .n = 1000};
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	{
		long c = atomic_load(&r.checks);
		assert_true(WAIT_FOR(atomic_load(&r.checks) > c + 10, 5000));
	}
	atomic_store(&r.stop, true);
	pthread_join(rt, NULL);
	assert_false(atomic_load(&r.bad));
	log_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_levels_and_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_chars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_reader, setup, teardown),
	};

	h_test_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
