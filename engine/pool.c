/* pool.c - the fixed thread pool that runs node activations (see pool.h).
 *
 * Locking: pool->lock (owner: the pool) guards the run queue only. It is a
 * leaf lock: task functions run without it, and pool_schedule() may be called
 * with any other engine lock held (stream, job), never the reverse. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>

enum { TASK_IDLE, TASK_QUEUED, TASK_RUNNING, TASK_RERUN, TASK_DEAD };

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct task *head, *tail;
	bool stopping;
	int nthreads;
	pthread_t *threads;
};

void task_init(struct task *t, struct pool *p, task_fn fn)
{
	t->fn = fn;
	t->next = NULL;
	t->pool = p;
	atomic_store(&t->state, TASK_IDLE);
}

/* Appends t with the queue lock held by the caller. */
static void append_locked(struct pool *p, struct task *t)
{
	t->next = NULL;
	if (p->tail)
		p->tail->next = t;
	else
		p->head = t;
	p->tail = t;
	pthread_cond_signal(&p->cond);
}

/* The IDLE->QUEUED transition happens under the queue lock so that
 * pool_quiesce() can never free a task that is about to be appended. */
void pool_schedule(struct task *t)
{
	struct pool *p = t->pool;
	int s = atomic_load(&t->state);

	for (;;) {
		if (s == TASK_RUNNING) {
			if (atomic_compare_exchange_weak(&t->state, &s, TASK_RERUN))
				return;
			continue;
		}
		if (s != TASK_IDLE)
			return; /* queued, rerun already pending, or dead */
		pthread_mutex_lock(&p->lock);
		if (atomic_compare_exchange_strong(&t->state, &s, TASK_QUEUED)) {
			append_locked(p, t);
			pthread_mutex_unlock(&p->lock);
			return;
		}
		pthread_mutex_unlock(&p->lock);
	}
}

/* Pops the next task and marks it running, both under the queue lock, so
 * that pool_quiesce() never sees a task that is off the queue but not yet
 * running. */
static struct task *dequeue(struct pool *p)
{
	struct task *t;

	pthread_mutex_lock(&p->lock);
	while (!p->head && !p->stopping)
		pthread_cond_wait(&p->cond, &p->lock);
	t = p->head;
	if (t) {
		p->head = t->next;
		if (!p->head)
			p->tail = NULL;
		atomic_store(&t->state, TASK_RUNNING);
	}
	pthread_mutex_unlock(&p->lock);
	return t;
}

static void run_one(struct task *t)
{
	int s = TASK_RUNNING;
	bool again = t->fn(t);

	if (!again && atomic_compare_exchange_strong(&t->state, &s, TASK_IDLE))
		return;
	/* Budget used up, or woken while running: run once more. */
	pthread_mutex_lock(&t->pool->lock);
	atomic_store(&t->state, TASK_QUEUED);
	append_locked(t->pool, t);
	pthread_mutex_unlock(&t->pool->lock);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct task *t;
	sigset_t pipe;

	/* Tasks write to pipes of exec children that may be gone: the write
	 * must fail with EPIPE, whatever the process does with SIGPIPE. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	pthread_setname_np(pthread_self(), "lj-pool"); /* for top -H, perf, gdb */

	while ((t = dequeue(p)) != NULL)
		run_one(t);
	return NULL;
}

void pool_quiesce(struct task *t)
{
	struct pool *p = t->pool;

	for (;;) {
		int s;

		pthread_mutex_lock(&p->lock);
		s = atomic_load(&t->state);
		if (s == TASK_QUEUED) {
			struct task **pp;

			for (pp = &p->head; *pp; pp = &(*pp)->next) {
				if (*pp == t) {
					*pp = t->next;
					break;
				}
			}
			p->tail = NULL;
			for (struct task *q = p->head; q; q = q->next)
				p->tail = q;
		}
		if (s == TASK_IDLE || s == TASK_QUEUED || s == TASK_DEAD) {
			atomic_store(&t->state, TASK_DEAD);
			pthread_mutex_unlock(&p->lock);
			return;
		}
		pthread_mutex_unlock(&p->lock);
		sched_yield(); /* running: wait for the activation to end */
	}
}

int pool_create(int threads, struct pool **out)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	if (threads < 1)
		threads = 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->threads = calloc((size_t)threads, sizeof(pthread_t));
	if (!p->threads) {
		free(p);
		return -ENOMEM;
	}
	for (int i = 0; i < threads; i++) {
		int rc = pthread_create(&p->threads[i], NULL, worker, p);
		if (rc) {
			p->nthreads = i;
			pool_destroy(p);
			return -rc;
		}
		p->nthreads = i + 1;
	}
	*out = p;
	return 0;
}

void pool_destroy(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	p->head = p->tail = NULL; /* queued activations are dropped at shutdown */
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->threads);
	free(p);
}

int pool_threads(const struct pool *p)
{
	return p->nthreads;
}
