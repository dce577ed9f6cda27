/* test_pool.c - engine/pool.c: the fixed thread pool. Tasks run; a queued
 * task is not queued twice; a running task scheduled again runs once more;
 * a task that returns true runs again; a task never runs on two threads at
 * once; counts are exact with many scheduling threads; pool_quiesce on
 * idle, queued and running tasks; destroy with idle threads; one thread
 * and 10,000 tasks. Every wait is bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "pool.h"
#include "util.h"

/* A task that counts its runs, can be held inside its activation until
 * released, can ask to be run again `again` times, and checks that it is
 * never run concurrently with itself. */
struct ct {
	struct task t;
	_Atomic int runs;
	_Atomic int inside;      /* activations in progress */
	_Atomic int overlap;     /* times inside was > 1 */
	_Atomic int again;       /* return true this many more times */
	_Atomic bool hold;       /* stay inside until cleared (bounded) */
	_Atomic bool entered;    /* set when an activation starts */
	_Atomic int order;       /* global sequence number of the last run */
};

static _Atomic int seq;

static bool ct_run(struct task *t)
{
	struct ct *c = (struct ct *)t;
	int64_t dl = mono_ns() + 5000000000ll;

	if (atomic_fetch_add(&c->inside, 1) != 0)
		atomic_fetch_add(&c->overlap, 1);
	atomic_store(&c->entered, true);
	while (atomic_load(&c->hold) && mono_ns() < dl)
		usleep(100);
	atomic_store(&c->order, atomic_fetch_add(&seq, 1));
	atomic_fetch_add(&c->runs, 1);
	atomic_fetch_sub(&c->inside, 1);
	if (atomic_load(&c->again) > 0) {
		atomic_fetch_sub(&c->again, 1);
		return true;
	}
	return false;
}

static void ct_init(struct ct *c, struct pool *p)
{
	memset(c, 0, sizeof(*c));
	task_init(&c->t, p, ct_run);
}

static void test_create_threads(void **state)
{
	struct pool *p;

	(void)state;
	assert_int_equal(pool_create(3, &p), 0);
	assert_int_equal(pool_threads(p), 3);
	pool_destroy(p);
	/* 0 or fewer threads still gives a working pool of 1. */
	assert_int_equal(pool_create(0, &p), 0);
	assert_int_equal(pool_threads(p), 1);
	{
		struct ct c;
		ct_init(&c, p);
		pool_schedule(&c.t);
		assert_true(WAIT_FOR(atomic_load(&c.runs) == 1, 5000));
		pool_quiesce(&c.t);
	}
	pool_destroy(p);
	assert_int_equal(pool_create(-5, &p), 0);
	assert_int_equal(pool_threads(p), 1);
	pool_destroy(p);
	pool_destroy(NULL);
}

static void test_tasks_run(void **state)
{
	enum { N = 200 };
	struct pool *p;
	struct ct *c = calloc(N, sizeof(*c));

	(void)state;
	assert_int_equal(pool_create(4, &p), 0);
	for (int i = 0; i < N; i++)
		ct_init(&c[i], p);
	for (int i = 0; i < N; i++)
		pool_schedule(&c[i].t);
	for (int i = 0; i < N; i++)
		assert_true(WAIT_FOR(atomic_load(&c[i].runs) == 1, 5000));
	usleep(20000);
	for (int i = 0; i < N; i++) {
		assert_int_equal(atomic_load(&c[i].runs), 1);
		assert_int_equal(atomic_load(&c[i].t.state), 0 /* idle */);
	}
	/* Scheduling an idle task again runs it again. */
	for (int i = 0; i < N; i++)
		pool_schedule(&c[i].t);
	for (int i = 0; i < N; i++)
		assert_true(WAIT_FOR(atomic_load(&c[i].runs) == 2, 5000));
	for (int i = 0; i < N; i++)
		pool_quiesce(&c[i].t);
	pool_destroy(p);
	free(c);
}

static void test_fifo_order(void **state)
{
	enum { N = 50 };
	struct pool *p;
	struct ct blocker, c[N];

	(void)state;
	assert_int_equal(pool_create(1, &p), 0);
	ct_init(&blocker, p);
	atomic_store(&blocker.hold, true);
	pool_schedule(&blocker.t);
	assert_true(WAIT_FOR(atomic_load(&blocker.entered), 5000));
	for (int i = 0; i < N; i++) {
		ct_init(&c[i], p);
		pool_schedule(&c[i].t);
	}
	atomic_store(&blocker.hold, false);
	for (int i = 0; i < N; i++)
		assert_true(WAIT_FOR(atomic_load(&c[i].runs) == 1, 5000));
	/* One thread runs the queue in the order it was filled. */
	for (int i = 1; i < N; i++)
		assert_true(atomic_load(&c[i].order) > atomic_load(&c[i - 1].order));
	pool_quiesce(&blocker.t);
	for (int i = 0; i < N; i++)
		pool_quiesce(&c[i].t);
	pool_destroy(p);
}

static void test_queued_not_twice(void **state)
{
	struct pool *p;
	struct ct blocker, x, after;

	(void)state;
	assert_int_equal(pool_create(1, &p), 0);
	ct_init(&blocker, p);
	ct_init(&x, p);
	ct_init(&after, p);
	atomic_store(&blocker.hold, true);
	pool_schedule(&blocker.t);
	assert_true(WAIT_FOR(atomic_load(&blocker.entered), 5000));
	/* The only thread is busy: x stays queued however often scheduled. */
	for (int i = 0; i < 100; i++)
		pool_schedule(&x.t);
	pool_schedule(&after.t);
	atomic_store(&blocker.hold, false);
	assert_true(WAIT_FOR(atomic_load(&after.runs) == 1, 5000));
	usleep(20000);
	assert_int_equal(atomic_load(&x.runs), 1);
	assert_int_equal(atomic_load(&blocker.runs), 1);
	pool_quiesce(&blocker.t);
	pool_quiesce(&x.t);
	pool_quiesce(&after.t);
	pool_destroy(p);
}

static void test_running_runs_once_more(void **state)
{
	struct pool *p;
	struct ct x;

	(void)state;
	assert_int_equal(pool_create(2, &p), 0);
	ct_init(&x, p);
	atomic_store(&x.hold, true);
	pool_schedule(&x.t);
	assert_true(WAIT_FOR(atomic_load(&x.entered), 5000));
	/* Running: any number of schedules give exactly one more run. */
	for (int i = 0; i < 50; i++)
		pool_schedule(&x.t);
	atomic_store(&x.hold, false);
	assert_true(WAIT_FOR(atomic_load(&x.runs) == 2, 5000));
	usleep(30000);
	assert_int_equal(atomic_load(&x.runs), 2);
	assert_int_equal(atomic_load(&x.overlap), 0);
	pool_quiesce(&x.t);
	pool_destroy(p);
}

static void test_return_true_reruns(void **state)
{
	struct pool *p;
	struct ct x, y;

	(void)state;
	assert_int_equal(pool_create(1, &p), 0);
	ct_init(&x, p);
	ct_init(&y, p);
	atomic_store(&x.again, 9);
	atomic_store(&y.again, 9);
	pool_schedule(&x.t);
	pool_schedule(&y.t);
	assert_true(WAIT_FOR(atomic_load(&x.runs) == 10 && atomic_load(&y.runs) == 10, 5000));
	usleep(20000);
	assert_int_equal(atomic_load(&x.runs), 10);
	assert_int_equal(atomic_load(&y.runs), 10);
	pool_quiesce(&x.t);
	pool_quiesce(&y.t);
	pool_destroy(p);
}

/* Tasks that yield (return true) must not starve others on one thread. */
static void test_yield_is_fair(void **state)
{
	struct pool *p;
	struct ct blocker, hog, x;

	(void)state;
	assert_int_equal(pool_create(1, &p), 0);
	ct_init(&blocker, p);
	ct_init(&hog, p);
	ct_init(&x, p);
	/* Queue hog then x while the only thread is held. */
	atomic_store(&blocker.hold, true);
	pool_schedule(&blocker.t);
	assert_true(WAIT_FOR(atomic_load(&blocker.entered), 5000));
	atomic_store(&hog.again, 1000000);
	pool_schedule(&hog.t);
	pool_schedule(&x.t);
	atomic_store(&blocker.hold, false);
	assert_true(WAIT_FOR(atomic_load(&x.runs) == 1, 5000));
	/* A yielding task goes to the back of the queue: hog ran once, then x. */
	assert_int_equal(atomic_load(&x.order) - atomic_load(&blocker.order), 2);
	atomic_store(&hog.again, 0);
	assert_true(WAIT_FOR(atomic_load(&hog.t.state) == 0, 5000));
	pool_quiesce(&blocker.t);
	pool_quiesce(&hog.t);
	pool_quiesce(&x.t);
	pool_destroy(p);
}

/* ---- many threads ---- */

struct sched_arg {
	struct ct *tasks;
	int n;
};

static void *sched_main(void *arg)
{
	struct sched_arg *a = arg;

	for (int i = 0; i < a->n; i++)
		pool_schedule(&a->tasks[i].t);
	return NULL;
}

static void test_many_threads_exact(void **state)
{
	enum { NT = 8, N = 2000 };
	struct pool *p;
	struct ct *c = calloc((size_t)NT * N, sizeof(*c));
	struct sched_arg a[NT];
	pthread_t th[NT];
	long total = 0;

	(void)state;
	assert_int_equal(pool_create(4, &p), 0);
	for (int i = 0; i < NT * N; i++)
		ct_init(&c[i], p);
	for (int i = 0; i < NT; i++) {
		a[i] = (struct sched_arg){.tasks = c + (size_t)i * N, .n = N};
		assert_int_equal(pthread_create(&th[i], NULL, sched_main, &a[i]), 0);
	}
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NT * N; i++)
		assert_true(WAIT_FOR(atomic_load(&c[i].runs) >= 1, 5000));
	usleep(20000);
	for (int i = 0; i < NT * N; i++) {
		assert_int_equal(atomic_load(&c[i].runs), 1);
		total += atomic_load(&c[i].runs);
	}
	assert_int_equal(total, NT * N);
	for (int i = 0; i < NT * N; i++)
		pool_quiesce(&c[i].t);
	pool_destroy(p);
	free(c);
}

/* Many threads hammer the same few tasks: each run starts after the
 * schedule that asked for it, and no task ever runs on two threads. */
struct hammer_arg {
	struct ct *tasks;
	int ntasks, rounds;
};

static void *hammer_main(void *arg)
{
	struct hammer_arg *a = arg;

	for (int r = 0; r < a->rounds; r++) {
		pool_schedule(&a->tasks[r % a->ntasks].t);
		if (r % 64 == 0)
			usleep(10);
	}
	return NULL;
}

static void test_never_concurrent(void **state)
{
	enum { NT = 6, NTASKS = 4, ROUNDS = 20000 };
	struct pool *p;
	struct ct c[NTASKS];
	struct hammer_arg a = {.tasks = c, .ntasks = NTASKS, .rounds = ROUNDS};
	pthread_t th[NT];

	(void)state;
	assert_int_equal(pool_create(4, &p), 0);
	for (int i = 0; i < NTASKS; i++)
		ct_init(&c[i], p);
	for (int i = 0; i < NT; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &a), 0);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	/* After the last schedule, every task runs at least once more and
	 * then goes idle. */
	for (int i = 0; i < NTASKS; i++) {
		int before = atomic_load(&c[i].runs);
		assert_true(WAIT_FOR(atomic_load(&c[i].t.state) == 0, 5000));
		assert_true(atomic_load(&c[i].runs) >= 1);
		assert_true(atomic_load(&c[i].runs) <= ROUNDS * NT / NTASKS + 1);
		(void)before;
	}
	for (int i = 0; i < NTASKS; i++) {
		assert_int_equal(atomic_load(&c[i].overlap), 0);
		pool_quiesce(&c[i].t);
	}
	pool_destroy(p);
}

/* A schedule that lands while the task runs is never lost: a task that
 * is scheduled after it has read "nothing to do" runs again. */
struct flag_task {
	struct task t;
	_Atomic int pending;   /* set by the producer before pool_schedule */
	_Atomic long consumed;
};

static bool flag_run(struct task *t)
{
	struct flag_task *f = (struct flag_task *)t;

	while (atomic_exchange(&f->pending, 0))
		atomic_fetch_add(&f->consumed, 1);
	return false;
}

static void test_no_lost_wakeup(void **state)
{
	enum { N = 20000 };
	struct pool *p;
	struct flag_task f;

	(void)state;
	assert_int_equal(pool_create(2, &p), 0);
	memset(&f, 0, sizeof(f));
	task_init(&f.t, p, flag_run);
	for (int i = 0; i < N; i++) {
		atomic_store(&f.pending, 1);
		pool_schedule(&f.t);
		/* Wait until consumed: a lost wake-up would hang here (bounded). */
		int64_t dl = mono_ns() + 5000000000ll;
		while (atomic_load(&f.pending) && mono_ns() < dl)
			sched_yield();
		assert_int_equal(atomic_load(&f.pending), 0);
	}
	assert_true(atomic_load(&f.consumed) == N);
	pool_quiesce(&f.t);
	pool_destroy(p);
}

/* A task that schedules another from inside its activation: a chain. */
struct chain {
	struct task t;
	struct chain *next;
	_Atomic int runs;
};

static bool chain_run(struct task *t)
{
	struct chain *c = (struct chain *)t;

	atomic_fetch_add(&c->runs, 1);
	if (c->next)
		pool_schedule(&c->next->t);
	return false;
}

static void test_one_thread_10000(void **state)
{
	enum { N = 10000 };
	struct pool *p;
	struct ct *c = calloc(N, sizeof(*c));
	struct chain *ch = calloc(N, sizeof(*ch));

	(void)state;
	assert_int_equal(pool_create(1, &p), 0);
	for (int i = 0; i < N; i++) {
		ct_init(&c[i], p);
		pool_schedule(&c[i].t);
	}
	assert_true(WAIT_FOR(atomic_load(&c[N - 1].runs) == 1, 5000));
	for (int i = 0; i < N; i++)
		assert_int_equal(atomic_load(&c[i].runs), 1);
	for (int i = 0; i < N; i++)
		assert_true(i == 0 || atomic_load(&c[i].order) > atomic_load(&c[i - 1].order));

	/* 10,000 tasks woken one by the other, on the same single thread. */
	for (int i = 0; i < N; i++) {
		task_init(&ch[i].t, p, chain_run);
		ch[i].next = i + 1 < N ? &ch[i + 1] : NULL;
	}
	pool_schedule(&ch[0].t);
	assert_true(WAIT_FOR(atomic_load(&ch[N - 1].runs) == 1, 5000));
	for (int i = 0; i < N; i++)
		assert_int_equal(atomic_load(&ch[i].runs), 1);
	for (int i = 0; i < N; i++) {
		pool_quiesce(&c[i].t);
		pool_quiesce(&ch[i].t);
	}
	pool_destroy(p);
	free(c);
	free(ch);
}

/* ---- quiesce ---- */

static void test_quiesce_idle(void **state)
{
	struct pool *p;
	struct ct x;

	(void)state;
	assert_int_equal(pool_create(2, &p), 0);
	ct_init(&x, p);
	pool_quiesce(&x.t); /* never scheduled */
	pool_schedule(&x.t);
	usleep(50000);
	assert_int_equal(atomic_load(&x.runs), 0);

	ct_init(&x, p);
	pool_schedule(&x.t);
	assert_true(WAIT_FOR(atomic_load(&x.runs) == 1 && atomic_load(&x.t.state) == 0, 5000));
	pool_quiesce(&x.t);
	pool_quiesce(&x.t); /* twice is fine */
	for (int i = 0; i < 10; i++)
		pool_schedule(&x.t);
	usleep(50000);
	assert_int_equal(atomic_load(&x.runs), 1);
	pool_destroy(p);
}

static void test_quiesce_queued(void **state)
{
	struct pool *p;
	struct ct blocker, a, x, b, y, c;

	(void)state;
	assert_int_equal(pool_create(1, &p), 0);
	ct_init(&blocker, p);
	ct_init(&a, p);
	ct_init(&x, p);
	ct_init(&b, p);
	ct_init(&y, p);
	ct_init(&c, p);
	atomic_store(&blocker.hold, true);
	pool_schedule(&blocker.t);
	assert_true(WAIT_FOR(atomic_load(&blocker.entered), 5000));
	/* Queue: a x b y; take out x (middle) and y (tail). */
	pool_schedule(&a.t);
	pool_schedule(&x.t);
	pool_schedule(&b.t);
	pool_schedule(&y.t);
	pool_quiesce(&x.t);
	pool_quiesce(&y.t);
	/* The queue still works behind the removed tail. */
	pool_schedule(&c.t);
	pool_schedule(&x.t);
	atomic_store(&blocker.hold, false);
	assert_true(WAIT_FOR(atomic_load(&a.runs) == 1 && atomic_load(&b.runs) == 1 &&
			     atomic_load(&c.runs) == 1, 5000));
	usleep(30000);
	assert_int_equal(atomic_load(&x.runs), 0);
	assert_int_equal(atomic_load(&y.runs), 0);
	assert_true(atomic_load(&a.order) < atomic_load(&b.order));
	assert_true(atomic_load(&b.order) < atomic_load(&c.order));

	/* Remove the only queued task (head == tail), then queue another. */
	atomic_store(&blocker.hold, true);
	atomic_store(&blocker.entered, false);
	pool_schedule(&blocker.t);
	assert_true(WAIT_FOR(atomic_load(&blocker.entered), 5000));
	pool_schedule(&a.t);
	pool_quiesce(&a.t);
	pool_schedule(&b.t);
	atomic_store(&blocker.hold, false);
	assert_true(WAIT_FOR(atomic_load(&b.runs) == 2, 5000));
	usleep(20000);
	assert_int_equal(atomic_load(&a.runs), 1);

	pool_quiesce(&blocker.t);
	pool_quiesce(&b.t);
	pool_quiesce(&c.t);
	pool_destroy(p);
}

struct quiesce_arg {
	struct task *t;
	_Atomic bool done;
};

static void *quiesce_main(void *arg)
{
	struct quiesce_arg *q = arg;

	pool_quiesce(q->t);
	atomic_store(&q->done, true);
	return NULL;
}

static void test_quiesce_running(void **state)
{
	struct pool *p;
	struct ct x;
	struct quiesce_arg q;
	pthread_t th;
	int runs;

	(void)state;
	assert_int_equal(pool_create(2, &p), 0);
	ct_init(&x, p);
	atomic_store(&x.hold, true);
	pool_schedule(&x.t);
	assert_true(WAIT_FOR(atomic_load(&x.entered), 5000));
	pool_schedule(&x.t); /* a rerun is pending too */
	q.t = &x.t;
	atomic_store(&q.done, false);
	assert_int_equal(pthread_create(&th, NULL, quiesce_main, &q), 0);
	usleep(50000);
	/* It waits for the activation to end. */
	assert_false(atomic_load(&q.done));
	assert_int_equal(atomic_load(&x.runs), 0);
	atomic_store(&x.hold, false);
	assert_true(WAIT_FOR(atomic_load(&q.done), 5000));
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&x.inside), 0);
	runs = atomic_load(&x.runs);
	assert_in_range(runs, 1, 2);
	/* Once quiesced, it never runs again. */
	pool_schedule(&x.t);
	usleep(50000);
	assert_int_equal(atomic_load(&x.runs), runs);

	/* A task that keeps returning true is stopped by quiesce too. */
	ct_init(&x, p);
	atomic_store(&x.again, 1 << 30);
	pool_schedule(&x.t);
	assert_true(WAIT_FOR(atomic_load(&x.runs) > 100, 5000));
	pool_quiesce(&x.t);
	runs = atomic_load(&x.runs);
	usleep(30000);
	assert_int_equal(atomic_load(&x.runs), runs);
	assert_int_equal(atomic_load(&x.inside), 0);
	pool_destroy(p);
}

/* ---- destroy ---- */

static void *release_later(void *arg)
{
	struct ct *c = arg;

	usleep(50000);
	atomic_store(&c->hold, false);
	return NULL;
}

static void test_destroy(void **state)
{
	struct pool *p;
	struct ct x;
	int64_t t0;

	(void)state;
	/* Idle threads. */
	t0 = mono_ns();
	assert_int_equal(pool_create(8, &p), 0);
	pool_destroy(p);
	assert_true(mono_ns() - t0 < 2000000000ll);

	/* After work, with the threads idle again. */
	assert_int_equal(pool_create(4, &p), 0);
	ct_init(&x, p);
	pool_schedule(&x.t);
	assert_true(WAIT_FOR(atomic_load(&x.runs) == 1, 5000));
	assert_true(WAIT_FOR(atomic_load(&x.t.state) == 0, 5000));
	usleep(10000);
	pool_destroy(p);

	/* Many create/destroy cycles do not leak or hang. */
	for (int i = 0; i < 50; i++) {
		assert_int_equal(pool_create(1 + i % 4, &p), 0);
		pool_destroy(p);
	}

	/* Destroy while a task runs: it waits for the activation. */
	assert_int_equal(pool_create(2, &p), 0);
	ct_init(&x, p);
	atomic_store(&x.hold, true);
	pool_schedule(&x.t);
	assert_true(WAIT_FOR(atomic_load(&x.entered), 5000));
	{
		pthread_t th;
		int64_t t1 = mono_ns();

		assert_int_equal(pthread_create(&th, NULL, release_later, &x), 0);
		pool_destroy(p);
		/* destroy returned only after the activation ended */
		assert_int_equal(atomic_load(&x.runs), 1);
		assert_int_equal(atomic_load(&x.inside), 0);
		assert_true(mono_ns() - t1 >= 40000000ll);
		pthread_join(th, NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_threads),
		cmocka_unit_test(test_tasks_run),
		cmocka_unit_test(test_fifo_order),
		cmocka_unit_test(test_queued_not_twice),
		cmocka_unit_test(test_running_runs_once_more),
		cmocka_unit_test(test_return_true_reruns),
		cmocka_unit_test(test_yield_is_fair),
		cmocka_unit_test(test_many_threads_exact),
		cmocka_unit_test(test_never_concurrent),
		cmocka_unit_test(test_no_lost_wakeup),
		cmocka_unit_test(test_one_thread_10000),
		cmocka_unit_test(test_quiesce_idle),
		cmocka_unit_test(test_quiesce_queued),
		cmocka_unit_test(test_quiesce_running),
		cmocka_unit_test(test_destroy),
	};

	h_test_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
