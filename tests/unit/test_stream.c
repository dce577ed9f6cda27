/* test_stream.c - engine/stream.c: append-only streams in store files.
 * Opening, appending and counting, reading at any offset, the end and
 * failure states, parked waiters (woken once, without the stream lock, and
 * never after a successful unwait), consumer tasks on a real pool, reset,
 * reopening an existing file, views (stream_share: publish, reset,
 * settle, quota) and consistent counts, concurrent appenders, and a 64 MiB
 * stream read back byte for byte. Every wait is bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "pool.h"
#include "stream.h"
#include "util.h"

struct fixture {
	char dir[64];
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

	strcpy(f->dir, "/tmp/lj-stream-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
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

static char *path_in(void **state, const char *name)
{
	struct fixture *f = *state;
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", f->dir, name) > 0);
	return p;
}

static off_t file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return st.st_size;
}

/* ---- open, append, read ---- */

static void test_open_creates(void **state)
{
	char *p = path_in(state, "s1");
	struct stream *s = NULL;

	assert_int_equal(file_size(p), -1);
	assert_int_equal(stream_open("knead", p, true, &s), 0);
	assert_non_null(s);
	assert_int_equal(file_size(p), 0);
	assert_string_equal(s->name, "knead");
	assert_int_equal(stream_size(s), 0);
	assert_int_equal(atomic_load(&s->records), 0);
	assert_false(stream_ended(s));
	assert_int_equal(stream_error(s), 0);
	{
		int a = stream_fd_get(s), b = stream_fd_get(s);

		assert_true(a >= 0);
		assert_int_equal(a, b);
		stream_fd_put(s);
		stream_fd_put(s);
		/* a finished job's stream closes its fd when nobody uses it */
		stream_set_close_idle(s, true);
		assert_int_equal(s->file.fd, -1);
		assert_true(stream_fd_get(s) >= 0);
		stream_fd_put(s);
		assert_int_equal(s->file.fd, -1);
		stream_set_close_idle(s, false);
	}
	assert_int_equal(stream_sync(s), 0);
	stream_free(s);
	stream_free(NULL);
	free(p);
}

static void test_open_lazy_and_errors(void **state)
{
	char *p = path_in(state, "lazy"), *bad = path_in(state, "no/such/dir/s");
	struct stream *s = NULL;
	char buf[8];

	/* Without create, a missing file is not made until it is needed. */
	assert_int_equal(stream_open("lazy", p, false, &s), 0);
	assert_int_equal(stream_size(s), 0);
	assert_int_equal(file_size(p), -1);
	assert_int_equal(stream_pread(s, buf, sizeof(buf), 0), 0);
	assert_int_equal(stream_sync(s), 0);
	assert_int_equal(stream_append(s, "ab", 2), 0);
	assert_int_equal(file_size(p), 2);
	stream_free(s);

	s = NULL;
	assert_int_equal(stream_open("bad", bad, true, &s), -ENOENT);
	assert_null(s);
	/* Without create, a bad path fails at the first append. */
	assert_int_equal(stream_open("bad", bad, false, &s), 0);
	assert_int_equal(stream_append(s, "x", 1), -ENOENT);
	assert_int_equal(stream_size(s), 0);
	assert_true(stream_fd_get(s) < 0);
	stream_free(s);
	free(p);
	free(bad);
}

static void test_append_counts(void **state)
{
	char *p = path_in(state, "c");
	struct stream *s;

	assert_int_equal(stream_open("c", p, true, &s), 0);
	assert_int_equal(stream_append(s, "a\nb", 3), 0);
	assert_int_equal(stream_size(s), 3);
	assert_int_equal(atomic_load(&s->records), 1);
	assert_int_equal(stream_append(s, "c\n\n", 3), 0);
	assert_int_equal(stream_size(s), 6);
	assert_int_equal(atomic_load(&s->records), 3);
	assert_int_equal(stream_append(s, "", 0), 0);
	assert_int_equal(stream_size(s), 6);
	assert_int_equal(stream_append(s, "\0\0\n", 3), 0);
	assert_int_equal(stream_size(s), 9);
	assert_int_equal(atomic_load(&s->records), 4);
	assert_int_equal(file_size(p), 9);
	stream_free(s);
	free(p);
}

static void test_pread_offsets(void **state)
{
	char *p = path_in(state, "r");
	struct stream *s;
	char buf[64];

	assert_int_equal(stream_open("r", p, true, &s), 0);
	assert_int_equal(stream_pread(s, buf, sizeof(buf), 0), 0);
	assert_int_equal(stream_append(s, "0123456789", 10), 0);

	memset(buf, 0, sizeof(buf));
	assert_int_equal(stream_pread(s, buf, sizeof(buf), 0), 10);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(stream_pread(s, buf, 3, 0), 3);
	assert_memory_equal(buf, "012", 3);
	assert_int_equal(stream_pread(s, buf, 3, 4), 3);
	assert_memory_equal(buf, "456", 3);
	assert_int_equal(stream_pread(s, buf, 100, 7), 3);
	assert_memory_equal(buf, "789", 3);
	assert_int_equal(stream_pread(s, buf, 100, 9), 1);
	assert_int_equal(buf[0], '9');
	assert_int_equal(stream_pread(s, buf, 100, 10), 0);
	assert_int_equal(stream_pread(s, buf, 100, 11), 0);
	assert_int_equal(stream_pread(s, buf, 100, UINT64_MAX), 0);
	assert_int_equal(stream_pread(s, buf, 0, 0), 0);

	/* Reading never consumes. */
	assert_int_equal(stream_pread(s, buf, 10, 0), 10);
	assert_memory_equal(buf, "0123456789", 10);

	/* Bytes past the size in the file (a torn tail) are not visible. */
	{
		int fd = stream_fd_get(s);
		assert_int_equal(pwrite(fd, "XYZ", 3, 10), 3);
		stream_fd_put(s);
		assert_int_equal(stream_pread(s, buf, 100, 8), 2);
		assert_int_equal(stream_pread(s, buf, 100, 10), 0);
		/* and the next append overwrites it */
		assert_int_equal(stream_append(s, "ab", 2), 0);
		assert_int_equal(stream_pread(s, buf, 100, 10), 2);
		assert_memory_equal(buf, "ab", 2);
	}
	stream_free(s);
	free(p);
}

static void test_end_and_fail(void **state)
{
	char *p = path_in(state, "e"), *q = path_in(state, "f"), *r = path_in(state, "g");
	struct stream *s;
	char buf[8];

	assert_int_equal(stream_open("e", p, true, &s), 0);
	assert_int_equal(stream_append(s, "ab", 2), 0);
	stream_end(s);
	assert_true(stream_ended(s));
	assert_int_equal(stream_error(s), 0);
	assert_int_equal(stream_append(s, "c", 1), -EPIPE);
	assert_int_equal(stream_append(s, "", 0), -EPIPE);
	assert_int_equal(stream_size(s), 2);
	assert_int_equal(stream_pread(s, buf, 8, 0), 2);
	stream_end(s); /* twice is harmless */
	assert_true(stream_ended(s));
	/* Failing a stream that ended whole still reports the failure at
	 * its end (a cancelled job's output is not complete); data stays. */
	stream_fail(s, EIO);
	assert_true(stream_ended(s));
	assert_int_equal(stream_error(s), EIO);
	assert_int_equal(stream_size(s), 2);
	assert_int_equal(stream_append(s, "c", 1), -EPIPE);
	stream_free(s);

	assert_int_equal(stream_open("f", q, true, &s), 0);
	assert_int_equal(stream_append(s, "x\n", 2), 0);
	stream_fail(s, EIO);
	assert_true(stream_ended(s));
	assert_int_equal(stream_error(s), EIO);
	assert_int_equal(stream_append(s, "y", 1), -EPIPE);
	assert_int_equal(stream_size(s), 2);
	assert_int_equal(stream_pread(s, buf, 8, 0), 2);
	/* The first error stays. */
	stream_fail(s, ENOSPC);
	assert_int_equal(stream_error(s), EIO);
	stream_end(s);
	assert_int_equal(stream_error(s), EIO);
	stream_free(s);

	assert_int_equal(stream_open("g", r, true, &s), 0);
	stream_fail(s, ECANCELED);
	assert_int_equal(stream_error(s), ECANCELED);
	stream_free(s);
	free(p);
	free(q);
	free(r);
}

/* ---- waiters ---- */

struct tw {
	struct stream_waiter w;
	struct stream *s;
	_Atomic int wakes;
	_Atomic int lock_free;      /* the stream lock was free during wake */
	_Atomic uint64_t size_seen;
	_Atomic bool ended_seen;
	pthread_mutex_t m;
	pthread_cond_t c;
};

static void tw_wake(struct stream_waiter *w)
{
	struct tw *t = (struct tw *)w;

	/* The contract: called with no stream lock held. */
	if (pthread_mutex_trylock(&t->s->lock) == 0) {
		atomic_fetch_add(&t->lock_free, 1);
		pthread_mutex_unlock(&t->s->lock);
	}
	atomic_store(&t->size_seen, stream_size(t->s));
	atomic_store(&t->ended_seen, stream_ended(t->s));
	pthread_mutex_lock(&t->m);
	atomic_fetch_add(&t->wakes, 1);
	pthread_cond_broadcast(&t->c);
	pthread_mutex_unlock(&t->m);
}

static void tw_init(struct tw *t, struct stream *s, uint64_t off)
{
	memset(t, 0, sizeof(*t));
	t->w.wake = tw_wake;
	t->w.off = off;
	t->s = s;
	pthread_mutex_init(&t->m, NULL);
	pthread_cond_init(&t->c, NULL);
}

static void tw_fini(struct tw *t)
{
	pthread_mutex_destroy(&t->m);
	pthread_cond_destroy(&t->c);
}

static void test_wait_not_parked(void **state)
{
	char *p = path_in(state, "w0");
	struct stream *s;
	struct tw t;

	assert_int_equal(stream_open("w0", p, true, &s), 0);
	assert_int_equal(stream_append(s, "abc", 3), 0);
	/* Data already past off: not parked, never woken. */
	for (uint64_t off = 0; off < 3; off++) {
		tw_init(&t, s, off);
		assert_false(stream_wait(s, &t.w));
		assert_false(t.w.parked);
		assert_false(stream_unwait(s, &t.w));
		assert_int_equal(stream_append(s, "", 0), 0);
		assert_int_equal(atomic_load(&t.wakes), 0);
		tw_fini(&t);
	}
	/* An ended stream: not parked at any offset. */
	stream_end(s);
	tw_init(&t, s, 3);
	assert_false(stream_wait(s, &t.w));
	t.w.off = 1000;
	assert_false(stream_wait(s, &t.w));
	assert_int_equal(atomic_load(&t.wakes), 0);
	tw_fini(&t);
	stream_free(s);
	free(p);
}

static void test_wait_woken_once_on_append(void **state)
{
	char *p = path_in(state, "w1");
	struct stream *s;
	struct tw t;

	assert_int_equal(stream_open("w1", p, true, &s), 0);
	assert_int_equal(stream_append(s, "abc", 3), 0);
	tw_init(&t, s, 3);
	assert_true(stream_wait(s, &t.w));
	assert_true(t.w.parked);
	assert_int_equal(atomic_load(&t.wakes), 0);
	assert_int_equal(stream_append(s, "d", 1), 0);
	assert_int_equal(atomic_load(&t.wakes), 1);
	assert_int_equal(atomic_load(&t.lock_free), 1);
	assert_int_equal(atomic_load(&t.size_seen), 4);
	assert_false(t.w.parked);
	/* Once per wait: more data or the end do not wake it again. */
	assert_int_equal(stream_append(s, "e", 1), 0);
	stream_end(s);
	assert_int_equal(atomic_load(&t.wakes), 1);
	assert_false(stream_unwait(s, &t.w));
	tw_fini(&t);
	stream_free(s);
	free(p);
}

static void test_wait_offset_threshold(void **state)
{
	char *p = path_in(state, "w2");
	struct stream *s;
	struct tw t;

	assert_int_equal(stream_open("w2", p, true, &s), 0);
	/* Waiting for data beyond offset 10: appends up to size 10 don't wake. */
	tw_init(&t, s, 10);
	assert_true(stream_wait(s, &t.w));
	assert_int_equal(stream_append(s, "01234", 5), 0);
	assert_int_equal(atomic_load(&t.wakes), 0);
	assert_int_equal(stream_append(s, "56789", 5), 0);
	assert_int_equal(atomic_load(&t.wakes), 0);
	assert_true(t.w.parked);
	assert_int_equal(stream_append(s, "A", 1), 0);
	assert_int_equal(atomic_load(&t.wakes), 1);
	assert_int_equal(atomic_load(&t.size_seen), 11);
	tw_fini(&t);
	stream_free(s);
	free(p);
}

static void test_wait_woken_on_end_and_fail(void **state)
{
	char *p = path_in(state, "w3"), *q = path_in(state, "w4");
	struct stream *s;
	struct tw a, b, c;

	assert_int_equal(stream_open("w3", p, true, &s), 0);
	assert_int_equal(stream_append(s, "xy", 2), 0);
	tw_init(&a, s, 2);
	tw_init(&b, s, 2);
	tw_init(&c, s, 50);
	assert_true(stream_wait(s, &a.w));
	assert_true(stream_wait(s, &b.w));
	assert_true(stream_wait(s, &c.w));
	stream_end(s);
	assert_int_equal(atomic_load(&a.wakes), 1);
	assert_int_equal(atomic_load(&b.wakes), 1);
	assert_int_equal(atomic_load(&c.wakes), 1);
	assert_true(atomic_load(&a.ended_seen));
	assert_int_equal(atomic_load(&a.lock_free) + atomic_load(&b.lock_free) +
			 atomic_load(&c.lock_free), 3);
	stream_end(s);
	assert_int_equal(atomic_load(&a.wakes), 1);
	tw_fini(&a);
	tw_fini(&b);
	tw_fini(&c);
	stream_free(s);

	assert_int_equal(stream_open("w4", q, true, &s), 0);
	tw_init(&a, s, 0);
	assert_true(stream_wait(s, &a.w));
	stream_fail(s, EIO);
	assert_int_equal(atomic_load(&a.wakes), 1);
	assert_true(atomic_load(&a.ended_seen));
	assert_int_equal(stream_error(s), EIO);
	tw_fini(&a);
	stream_free(s);
	free(p);
	free(q);
}

static void test_unwait(void **state)
{
	char *p = path_in(state, "w5");
	struct stream *s;
	struct tw a, b, c;

	assert_int_equal(stream_open("w5", p, true, &s), 0);
	tw_init(&a, s, 0);
	tw_init(&b, s, 0);
	tw_init(&c, s, 0);
	assert_true(stream_wait(s, &a.w));
	assert_true(stream_wait(s, &b.w));
	assert_true(stream_wait(s, &c.w));
	/* Unpark the middle one: still parked, so true; then never woken. */
	assert_true(stream_unwait(s, &b.w));
	assert_false(b.w.parked);
	assert_false(stream_unwait(s, &b.w));
	assert_int_equal(stream_append(s, "z", 1), 0);
	assert_int_equal(atomic_load(&a.wakes), 1);
	assert_int_equal(atomic_load(&b.wakes), 0);
	assert_int_equal(atomic_load(&c.wakes), 1);
	/* After the wake, unwait says it has been woken. */
	assert_false(stream_unwait(s, &a.w));
	stream_end(s);
	assert_int_equal(atomic_load(&b.wakes), 0);

	/* Park again at the new end, unpark, and end: nothing. */
	stream_reset(s);
	tw_fini(&b);
	tw_init(&b, s, 0);
	assert_true(stream_wait(s, &b.w));
	assert_true(stream_unwait(s, &b.w));
	stream_end(s);
	assert_int_equal(atomic_load(&b.wakes), 0);
	tw_fini(&a);
	tw_fini(&b);
	tw_fini(&c);
	stream_free(s);
	free(p);
}

/* A waiter parked by another thread is woken from the appending thread. */
struct parked_reader {
	struct tw t;
	_Atomic bool parked;
	bool woke;
};

static void *reader_main(void *arg)
{
	struct parked_reader *r = arg;
	struct timespec dl;

	pthread_mutex_lock(&r->t.m);
	if (stream_wait(r->t.s, &r->t.w)) {
		atomic_store(&r->parked, true);
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 5;
		while (atomic_load(&r->t.wakes) == 0)
			if (pthread_cond_timedwait(&r->t.c, &r->t.m, &dl) != 0)
				break;
	}
	r->woke = atomic_load(&r->t.wakes) == 1;
	if (!r->woke)
		stream_unwait(r->t.s, &r->t.w);
	pthread_mutex_unlock(&r->t.m);
	return NULL;
}

static void test_wait_cross_thread(void **state)
{
	char *p = path_in(state, "w6");
	struct stream *s;
	struct parked_reader r[8];
	pthread_t th[8];

	assert_int_equal(stream_open("w6", p, true, &s), 0);
	for (int i = 0; i < 8; i++) {
		tw_init(&r[i].t, s, (uint64_t)i);
		atomic_store(&r[i].parked, false);
		r[i].woke = false;
		assert_int_equal(pthread_create(&th[i], NULL, reader_main, &r[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		assert_true(WAIT_FOR(atomic_load(&r[i].parked), 5000));
	/* One byte at a time: reader i wakes when the size passes i. */
	for (int i = 0; i < 8; i++) {
		assert_int_equal(stream_append(s, "x", 1), 0);
		assert_true(WAIT_FOR(atomic_load(&r[i].t.wakes) == 1, 5000));
		for (int k = i + 1; k < 8; k++)
			assert_int_equal(atomic_load(&r[k].t.wakes), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_true(r[i].woke);
		assert_int_equal(atomic_load(&r[i].t.wakes), 1);
		tw_fini(&r[i].t);
	}
	stream_free(s);
	free(p);
}

/* ---- consumers on a real pool ---- */

struct ctask {
	struct task t;
	_Atomic int runs;
};

static bool count_run(struct task *t)
{
	atomic_fetch_add(&((struct ctask *)t)->runs, 1);
	return false;
}

static void test_subscribe(void **state)
{
	char *p = path_in(state, "sub");
	struct stream *s;
	struct pool *pl;
	struct ctask a, b;
	int n;

	assert_int_equal(pool_create(2, &pl), 0);
	task_init(&a.t, pl, count_run);
	task_init(&b.t, pl, count_run);
	atomic_store(&a.runs, 0);
	atomic_store(&b.runs, 0);
	assert_int_equal(stream_open("sub", p, true, &s), 0);
	assert_int_equal(stream_subscribe(s, &a.t), 0);
	assert_int_equal(stream_subscribe(s, &b.t), 0);
	assert_int_equal(s->nconsumers, 2);

	assert_int_equal(stream_append(s, "1", 1), 0);
	assert_true(WAIT_FOR(atomic_load(&a.runs) >= 1 && atomic_load(&b.runs) >= 1, 5000));
	/* An empty append changes nothing and schedules nothing. */
	usleep(20000);
	n = atomic_load(&a.runs);
	assert_int_equal(stream_append(s, "", 0), 0);
	usleep(50000);
	assert_int_equal(atomic_load(&a.runs), n);

	stream_unsubscribe(s, &b.t);
	assert_int_equal(s->nconsumers, 1);
	stream_unsubscribe(s, &b.t); /* not subscribed: no-op */
	assert_int_equal(s->nconsumers, 1);
	n = atomic_load(&b.runs);
	{
		int na = atomic_load(&a.runs);
		assert_int_equal(stream_append(s, "2", 1), 0);
		assert_true(WAIT_FOR(atomic_load(&a.runs) > na, 5000));
	}
	usleep(50000);
	assert_int_equal(atomic_load(&b.runs), n);

	/* The end schedules consumers too. */
	{
		int na;
		usleep(20000);
		na = atomic_load(&a.runs);
		stream_end(s);
		assert_true(WAIT_FOR(atomic_load(&a.runs) > na, 5000));
	}
	stream_unsubscribe(s, &a.t);
	assert_int_equal(s->nconsumers, 0);
	pool_quiesce(&a.t);
	pool_quiesce(&b.t);
	pool_destroy(pl);
	stream_free(s);
	free(p);
}

static void test_subscribe_fail_schedules(void **state)
{
	char *p = path_in(state, "subf");
	struct stream *s;
	struct pool *pl;
	struct ctask a;

	assert_int_equal(pool_create(1, &pl), 0);
	task_init(&a.t, pl, count_run);
	atomic_store(&a.runs, 0);
	assert_int_equal(stream_open("subf", p, true, &s), 0);
	assert_int_equal(stream_subscribe(s, &a.t), 0);
	stream_fail(s, EIO);
	assert_true(WAIT_FOR(atomic_load(&a.runs) >= 1, 5000));
	stream_unsubscribe(s, &a.t);
	pool_quiesce(&a.t);
	pool_destroy(pl);
	stream_free(s);
	free(p);
}

/* ---- reset, reopen ---- */

static void test_reset(void **state)
{
	char *p = path_in(state, "reset");
	struct stream *s;
	char buf[16];

	assert_int_equal(stream_open("reset", p, true, &s), 0);
	assert_int_equal(stream_append(s, "one\ntwo\n", 8), 0);
	stream_fail(s, EIO);
	assert_int_equal(stream_reset(s), 0);
	assert_int_equal(stream_size(s), 0);
	assert_int_equal(atomic_load(&s->records), 0);
	assert_false(stream_ended(s));
	assert_int_equal(stream_error(s), 0);
	assert_int_equal(file_size(p), 0);
	assert_int_equal(stream_pread(s, buf, sizeof(buf), 0), 0);
	assert_int_equal(stream_append(s, "new\n", 4), 0);
	assert_int_equal(stream_size(s), 4);
	assert_int_equal(atomic_load(&s->records), 1);
	assert_int_equal(stream_pread(s, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "new\n", 4);
	stream_end(s);
	assert_int_equal(stream_reset(s), 0);
	assert_false(stream_ended(s));
	assert_int_equal(stream_append(s, "x", 1), 0);
	stream_free(s);
	free(p);
}

static void test_reopen_existing(void **state)
{
	char *p = path_in(state, "exist");
	struct stream *s;
	char buf[200];
	int fd;

	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);

	assert_int_equal(stream_open("exist", p, false, &s), 0);
	assert_int_equal(stream_size(s), 100);
	assert_int_equal(stream_pread(s, buf, sizeof(buf), 95), 5);
	assert_memory_equal(buf, "56789", 5);
	stream_free(s);

	/* create=true must not truncate what is there. */
	assert_int_equal(stream_open("exist", p, true, &s), 0);
	assert_int_equal(stream_size(s), 100);
	assert_int_equal(file_size(p), 100);
	assert_int_equal(stream_append(s, "tail\n", 5), 0);
	assert_int_equal(stream_size(s), 105);
	assert_int_equal(stream_pread(s, buf, sizeof(buf), 0), 105);
	assert_memory_equal(buf + 100, "tail\n", 5);
	stream_free(s);

	assert_int_equal(stream_open("exist", p, false, &s), 0);
	assert_int_equal(stream_size(s), 105);
	stream_free(s);
	free(p);
}

/* ---- views: a stream that is its source's first bytes (pass) ---- */

static bool same_inode(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino;
}

static void test_view_publish(void **state)
{
	char *ps = path_in(state, "src"), *pv = path_in(state, "view");
	struct stream *src, *v;
	uint64_t size, records;
	char buf[32];

	assert_int_equal(stream_open("src", ps, true, &src), 0);
	assert_int_equal(stream_append(src, "one\ntwo\nthr", 11), 0);
	assert_int_equal(stream_open("view", pv, true, &v), 0);
	assert_int_equal(stream_share(v, src, true), 0);
	assert_ptr_equal(v->shared, src);
	assert_true(same_inode(ps, pv)); /* one file, two names */
	assert_int_equal(stream_size(v), 0);
	assert_int_equal(stream_pread(v, buf, sizeof(buf), 0), 0);
	/* A view is never appended to. */
	assert_int_equal(stream_append(v, "x", 1), -EINVAL);

	stream_counts(src, &size, &records);
	assert_int_equal(size, 11);
	assert_int_equal(records, 2);
	assert_int_equal(stream_publish(v, 8, 2), 0);
	assert_int_equal(stream_size(v), 8);
	assert_int_equal(atomic_load(&v->records), 2);
	assert_int_equal(stream_pread(v, buf, sizeof(buf), 0), 8);
	assert_memory_equal(buf, "one\ntwo\n", 8);
	/* Never shrinks; growing to what the source holds is visible. */
	assert_int_equal(stream_publish(v, 4, 1), 0);
	assert_int_equal(stream_size(v), 8);
	assert_int_equal(stream_publish(v, 11, 2), 0);
	assert_int_equal(stream_pread(v, buf, sizeof(buf), 5), 6);
	assert_memory_equal(buf, "wo\nthr", 6);
	/* Its fd is the source's file. */
	{
		int fd = stream_fd_get(v);
		struct stat st;

		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(st.st_size, 11);
		stream_fd_put(v);
	}
	/* Sharing again with the same source is fine, with another is not. */
	assert_int_equal(stream_share(v, src, false), 0);
	assert_int_equal(stream_share(v, v, false), -EINVAL);
	stream_end(v);
	assert_int_equal(stream_publish(v, 12, 3), -EPIPE);
	stream_free(v);
	stream_free(src);
	free(ps);
	free(pv);
}

/* A view with bytes of its own (an output of an earlier run, at a mount)
 * stays an ordinary stream; the same file found at a mount is a view. */
static void test_view_refused_and_found(void **state)
{
	char *ps = path_in(state, "src"), *pv = path_in(state, "view");
	struct stream *src, *v;

	assert_int_equal(stream_open("src", ps, true, &src), 0);
	assert_int_equal(stream_append(src, "abc\n", 4), 0);
	assert_int_equal(stream_open("view", pv, true, &v), 0);
	assert_int_equal(stream_append(v, "old\n", 4), 0);
	assert_int_equal(stream_share(v, src, true), -EEXIST);
	assert_null(v->shared);
	assert_false(same_inode(ps, pv));
	stream_free(v);

	/* Not fresh: an empty stream of a loaded job is not linked either. */
	assert_int_equal(unlink(pv), 0);
	assert_int_equal(stream_open("view", pv, true, &v), 0);
	assert_int_equal(stream_share(v, src, false), -EEXIST);
	stream_free(v);

	/* The same file (a mount of a job that ran as a view). */
	assert_int_equal(unlink(pv), 0);
	assert_int_equal(link(ps, pv), 0);
	assert_int_equal(stream_open("view", pv, false, &v), 0);
	assert_int_equal(stream_size(v), 4);
	assert_int_equal(stream_share(v, src, false), 0);
	assert_ptr_equal(v->shared, src);
	stream_free(v);
	stream_free(src);
	free(ps);
	free(pv);
}

/* A restart resets a view without truncating its source; a view that ended
 * short of its source is settled into a file of its own, which a reset
 * links back. */
static void test_view_reset_and_settle(void **state)
{
	char *ps = path_in(state, "src"), *pv = path_in(state, "view");
	struct stream *src, *v;
	char buf[32];
	int fd;

	assert_int_equal(stream_open("src", ps, true, &src), 0);
	assert_int_equal(stream_open("view", pv, true, &v), 0);
	assert_int_equal(stream_share(v, src, true), 0);
	assert_int_equal(stream_append(src, "one\ntwo\nthree\n", 14), 0);
	assert_int_equal(stream_publish(v, 8, 2), 0);

	/* Settled: the view's name holds its 8 bytes only, the source keeps 14. */
	stream_fail(v, EIO);
	assert_int_equal(stream_settle(v), 0);
	assert_false(same_inode(ps, pv));
	assert_int_equal(file_size(pv), 8);
	assert_int_equal(file_size(ps), 14);
	fd = open(pv, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "one\ntwo\n", 8);
	close(fd);
	/* Reads still see the same bytes. */
	assert_int_equal(stream_pread(v, buf, sizeof(buf), 0), 8);
	assert_int_equal(stream_settle(v), 0); /* nothing more to do */
	assert_int_equal(file_size(pv), 8);

	/* Reset: nothing of the source is lost, and the view is a link again. */
	assert_int_equal(stream_reset(v), 0);
	assert_int_equal(file_size(ps), 14);
	assert_true(same_inode(ps, pv));
	assert_int_equal(stream_size(v), 0);
	assert_false(stream_ended(v));
	assert_int_equal(stream_publish(v, 14, 3), 0);
	assert_int_equal(stream_pread(v, buf, sizeof(buf), 0), 14);
	assert_memory_equal(buf, "one\ntwo\nthree\n", 14);
	/* A view that has all of its source is left linked by settle. */
	stream_end(v);
	assert_int_equal(stream_settle(v), 0);
	assert_true(same_inode(ps, pv));
	/* An ordinary stream is untouched by settle. */
	assert_int_equal(stream_settle(src), 0);
	stream_free(v);
	stream_free(src);
	free(ps);
	free(pv);
}

/* When the store refuses: no link (here: the source's file is gone), and
 * the view stays an ordinary stream with its own empty file; no file of
 * its own for a settle (here: a directory in the way), and the view keeps
 * the link, its bytes intact. */
static void test_view_store_refuses(void **state)
{
	char *ps = path_in(state, "src"), *pv = path_in(state, "view"), *part = NULL;
	struct stream *src, *v;
	char buf[16];

	assert_int_equal(stream_open("src", ps, true, &src), 0);
	assert_int_equal(stream_open("view", pv, true, &v), 0);
	assert_int_equal(unlink(ps), 0);
	assert_int_equal(stream_share(v, src, true), -ENOENT);
	assert_null(v->shared);
	assert_int_equal(stream_append(v, "own\n", 4), 0);
	assert_int_equal(file_size(pv), 4);
	stream_free(v);
	stream_free(src);
	assert_int_equal(unlink(pv), 0);

	assert_int_equal(stream_open("src", ps, true, &src), 0);
	assert_int_equal(stream_open("view", pv, true, &v), 0);
	assert_int_equal(stream_share(v, src, true), 0);
	assert_int_equal(stream_append(src, "one\ntwo\n", 8), 0);
	assert_int_equal(stream_publish(v, 4, 1), 0);
	stream_fail(v, EIO);
	assert_true(asprintf(&part, "%s.part", pv) > 0);
	assert_int_equal(mkdir(part, 0700), 0);
	assert_int_equal(stream_settle(v), -EISDIR);
	assert_true(same_inode(ps, pv));
	assert_int_equal(file_size(ps), 8);
	assert_int_equal(stream_pread(v, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "one\n", 4);
	assert_int_equal(rmdir(part), 0);
	stream_free(v);
	stream_free(src);
	free(part);
	free(ps);
	free(pv);
}

/* max_job_bytes counts a view's bytes as if they were copied. */
static void test_view_quota(void **state)
{
	char *ps = path_in(state, "src"), *pv = path_in(state, "view");
	struct stream_quota q = {.limit = 12};
	struct stream *src, *v;

	assert_int_equal(stream_open("src", ps, true, &src), 0);
	assert_int_equal(stream_open("view", pv, true, &v), 0);
	src->quota = v->quota = &q;
	assert_int_equal(stream_share(v, src, true), 0);
	assert_int_equal(stream_append(src, "12345678", 8), 0);
	assert_int_equal(stream_publish(v, 4, 0), 0);
	assert_int_equal(atomic_load(&q.used), 12);
	assert_int_equal(stream_publish(v, 8, 0), -EFBIG);
	assert_int_equal(stream_size(v), 4);
	stream_free(v);
	stream_free(src);
	free(ps);
	free(pv);
}

/* stream_counts() never pairs a size with the records of another size,
 * while a writer appends lines of 1 to 9 records. */
static void *append_lines(void *arg)
{
	struct stream *s = arg;
	char line[64];

	for (int i = 0; i < 20000; i++) {
		int k = 1 + i % 9;

		for (int r = 0; r < k; r++)
			line[2 * r] = 'a', line[2 * r + 1] = '\n';
		stream_append(s, line, (size_t)(2 * k));
	}
	stream_end(s);
	return NULL;
}

static void test_counts_consistent(void **state)
{
	char *p = path_in(state, "counts");
	struct stream *s;
	pthread_t t;
	uint64_t size = 0, records;

	assert_int_equal(stream_open("counts", p, true, &s), 0);
	assert_int_equal(pthread_create(&t, NULL, append_lines, s), 0);
	do {
		stream_counts(s, &size, &records);
		assert_int_equal(size, 2 * records); /* every record is "a\n" */
	} while (!atomic_load(&s->ended));
	pthread_join(t, NULL);
	stream_free(s);
	free(p);
}

/* ---- the job byte quota (-o max_job_bytes) ---- */

static void test_quota(void **state)
{
	char *p = path_in(state, "qa"), *q = path_in(state, "qb");
	struct stream *a, *b;
	struct stream_quota quota = {.limit = 10};
	char buf[16];

	assert_int_equal(stream_open("qa", p, true, &a), 0);
	assert_int_equal(stream_open("qb", q, true, &b), 0);
	a->quota = &quota;
	b->quota = &quota;
	assert_int_equal(stream_append(a, "123456", 6), 0);
	assert_int_equal(stream_append(b, "abcd", 4), 0);
	assert_int_equal(atomic_load(&quota.used), 10);
	/* Full: refused whole, nothing written, the stream goes on. */
	assert_int_equal(stream_append(a, "x", 1), -EFBIG);
	assert_int_equal(stream_append(b, "xyz", 3), -EFBIG);
	assert_int_equal(stream_size(a), 6);
	assert_int_equal(stream_size(b), 4);
	assert_false(stream_ended(a));
	assert_int_equal(stream_error(a), 0);
	assert_int_equal(atomic_load(&quota.used), 10);
	assert_int_equal(stream_pread(a, buf, sizeof(buf), 0), 6);
	/* Empty appends are not refused. */
	assert_int_equal(stream_append(a, "", 0), 0);
	/* A reset gives its bytes back. */
	assert_int_equal(stream_reset(a), 0);
	assert_int_equal(atomic_load(&quota.used), 4);
	assert_int_equal(stream_append(a, "123456", 6), 0);
	assert_int_equal(stream_append(a, "7", 1), -EFBIG);
	/* No limit: anything goes. */
	quota.limit = 0;
	assert_int_equal(stream_append(a, "789", 3), 0);
	assert_int_equal(stream_size(a), 9);
	stream_free(a);
	stream_free(b);
	free(p);
	free(q);
}

/* ---- concurrency and size ---- */

struct appender {
	struct stream *s;
	int id, n;
	int fails;
};

static void *append_main(void *arg)
{
	struct appender *a = arg;
	char line[64];

	for (int i = 0; i < a->n; i++) {
		/* Lines of different lengths, each one append. */
		int len = snprintf(line, sizeof(line), "T%d-%06d-%.*s\n", a->id, i, i % 17,
				   "xxxxxxxxxxxxxxxxxxxxxxxx");
		if (stream_append(a->s, line, (size_t)len) != 0)
			a->fails++;
	}
	return NULL;
}

static void test_concurrent_appends(void **state)
{
	enum { NT = 6, N = 3000 };
	char *p = path_in(state, "conc");
	struct stream *s;
	struct appender a[NT];
	pthread_t th[NT];
	char *all, *line, *save = NULL;
	uint64_t size;
	int next[NT] = {0}, lines = 0;

	assert_int_equal(stream_open("conc", p, true, &s), 0);
	for (int i = 0; i < NT; i++) {
		a[i] = (struct appender){.s = s, .id = i, .n = N};
		assert_int_equal(pthread_create(&th[i], NULL, append_main, &a[i]), 0);
	}
	for (int i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(a[i].fails, 0);
	}
	size = stream_size(s);
	assert_int_equal(atomic_load(&s->records), NT * N);
	assert_int_equal((uint64_t)file_size(p), size);
	all = malloc(size + 1);
	assert_int_equal(stream_pread(s, all, size, 0), (ssize_t)size);
	all[size] = '\0';
	/* Every line whole, and each writer's lines in its order. */
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int id, i, n = 0;
		char expect[64];

		assert_int_equal(sscanf(line, "T%d-%d-%n", &id, &i, &n), 2);
		assert_in_range(id, 0, NT - 1);
		assert_int_equal(i, next[id]);
		next[id]++;
		snprintf(expect, sizeof(expect), "T%d-%06d-%.*s", id, i, i % 17,
			 "xxxxxxxxxxxxxxxxxxxxxxxx");
		assert_string_equal(line, expect);
		lines++;
	}
	assert_int_equal(lines, NT * N);
	free(all);
	stream_free(s);
	free(p);
}

static void fill_chunk(unsigned char *b, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i += 4) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		memcpy(b + i, &x, 4);
	}
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void test_64mib(void **state)
{
	const size_t chunk = 1u << 20;
	const int nchunks = 64;
	char *p = path_in(state, "big");
	struct stream *s;
	unsigned char *w = malloc(chunk), *r = malloc(chunk + 4096);
	uint64_t hw = 1469598103934665603ull, hr = hw, nl = 0;
	int64_t t0 = mono_ns();

	assert_int_equal(stream_open("big", p, true, &s), 0);
	for (int i = 0; i < nchunks; i++) {
		fill_chunk(w, chunk, (uint32_t)i);
		hw = fnv(hw, w, chunk);
		for (size_t k = 0; k < chunk; k++)
			nl += w[k] == '\n';
		assert_int_equal(stream_append(s, w, chunk), 0);
	}
	stream_end(s);
	assert_int_equal(stream_size(s), (uint64_t)nchunks * chunk);
	assert_int_equal(atomic_load(&s->records), nl);
	assert_int_equal((uint64_t)file_size(p), (uint64_t)nchunks * chunk);
	/* Read back in reads that straddle the chunk boundaries. */
	{
		uint64_t off = 0, total = (uint64_t)nchunks * chunk;
		while (off < total) {
			ssize_t n = stream_pread(s, r, chunk + 4096, off);
			assert_true(n > 0);
			hr = fnv(hr, r, (size_t)n);
			off += (uint64_t)n;
		}
		assert_int_equal(off, total);
		assert_int_equal(stream_pread(s, r, chunk, total), 0);
	}
	assert_true(hw == hr);
	/* Spot checks by content. */
	for (int i = 0; i < nchunks; i += 21) {
		fill_chunk(w, chunk, (uint32_t)i);
		assert_int_equal(stream_pread(s, r, chunk, (uint64_t)i * chunk), (ssize_t)chunk);
		assert_memory_equal(r, w, chunk);
	}
	print_message("64 MiB stream: %.0f ms\n", (double)(mono_ns() - t0) / 1e6);
	stream_free(s);
	unlink(p);
	free(w);
	free(r);
	free(p);
}

/* A reader chasing a writer: every byte is seen exactly once, in order. */
struct chase {
	struct stream *s;
	uint64_t got;
	uint64_t sum;
	bool ok;
};

static void *chase_main(void *arg)
{
	struct chase *c = arg;
	unsigned char buf[8192];
	int64_t dl = mono_ns() + 10 * 1000000000ll;

	c->ok = false;
	while (mono_ns() < dl) {
		bool ended = stream_ended(c->s);
		ssize_t n = stream_pread(c->s, buf, sizeof(buf), c->got);
		if (n < 0)
			return NULL;
		for (ssize_t i = 0; i < n; i++)
			c->sum = c->sum * 31 + buf[i];
		c->got += (uint64_t)n;
		if (n == 0 && ended) {
			c->ok = true;
			return NULL;
		}
		if (n == 0)
			usleep(100);
	}
	return NULL;
}

static void test_reader_chases_writer(void **state)
{
	char *p = path_in(state, "chase");
	struct stream *s;
	struct chase c = {0};
	pthread_t th;
	uint64_t sum = 0, total = 0;
	unsigned char buf[3000];

	assert_int_equal(stream_open("chase", p, true, &s), 0);
	c.s = s;
	assert_int_equal(pthread_create(&th, NULL, chase_main, &c), 0);
	for (int i = 0; i < 2000; i++) {
		size_t n = (size_t)(1 + (i * 7919) % sizeof(buf));
		for (size_t k = 0; k < n; k++) {
			buf[k] = (unsigned char)(i + k);
			sum = sum * 31 + buf[k];
		}
		assert_int_equal(stream_append(s, buf, n), 0);
		total += n;
	}
	stream_end(s);
	pthread_join(th, NULL);
	assert_true(c.ok);
	assert_int_equal(c.got, total);
	assert_true(c.sum == sum);
	stream_free(s);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_lazy_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pread_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_and_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_not_parked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_woken_once_on_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_offset_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_woken_on_end_and_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_cross_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_fail_schedules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_refused_and_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_reset_and_settle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_store_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_consistent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_64mib, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_chases_writer, setup, teardown),
	};

	h_test_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
