/* pool.h - the engine's fixed thread pool. Work is a `struct task`: a
 * function plus an atomic state that makes scheduling idempotent. A task is
 * never run on two threads at once; scheduling a running task makes it run
 * once more after the current activation. Pool threads never wait for
 * input: a task that has nothing to do returns and is woken by
 * pool_schedule() when something changes. */
#ifndef LJ_POOL_H
#define LJ_POOL_H

#include <stdatomic.h>
#include <stdbool.h>

struct pool;
struct task;

/* Returns true to be run again (budget used up), false to go idle. */
typedef bool (*task_fn)(struct task *t);

struct task {
	task_fn fn;
	_Atomic int state;  /* TASK_IDLE, TASK_QUEUED, TASK_RUNNING, TASK_RERUN */
	struct task *next;  /* queue link, owned by the pool */
	struct pool *pool;
};

void task_init(struct task *t, struct pool *p, task_fn fn);

int pool_create(int threads, struct pool **out);
/* Queue t unless it is already queued; if running, run it once more. */
void pool_schedule(struct task *t);
/* Wait until t is neither queued nor running, and keep it from running
 * again (used before freeing a node). */
void pool_quiesce(struct task *t);
/* Stop all threads after the queue drains of running work; frees the pool. */
void pool_destroy(struct pool *p);
int pool_threads(const struct pool *p);

#endif
