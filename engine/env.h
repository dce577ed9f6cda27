/* env.h - the live environment: the one object that holds everything a
 * mount shares (thread pool, reactor, store, operator registry, job table,
 * limits, daemon log). There is no other global mutable state: every engine
 * function reaches shared things through an env. */
#ifndef LJ_ENV_H
#define LJ_ENV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct env;
struct reactor;
struct pool;
struct store;
struct log;

struct env_config {
	const char *store_dir;  /* store root */
	int threads;            /* pool size (>= 1) */
	bool allow_other;       /* other uids may use the mount */
	bool exec_any;          /* -o exec=any: any uid may run exec */
	uid_t owner;            /* the daemon's uid */
	int max_jobs;           /* -o max_jobs: 0 = no limit */
	uint64_t max_job_bytes; /* -o max_job_bytes: all streams of one job; 0 = no limit */
	int rest_whole;         /* jobs at rest kept whole before the oldest is
				 * compacted (job_rest.c); 0 = compact at once */
};

#include <pthread.h>
#include <stddef.h>

#include "spec.h"

struct job;

#define ENV_JOB_BUCKETS 16384

/* Locks: jobs_lock (owner: env) guards the job table and serial counter; it
 * is taken before any job lock and never held across I/O. specs_lock (owner:
 * env) serialises registry writes. */
struct env {
	struct env_config cfg;
	struct store *store;
	struct pool *pool;
	struct reactor *reactor;
	struct log *log;
	int64_t started_ms;
	pthread_mutex_t jobs_lock;
	struct job **jobs;          /* sorted by serial */
	int njobs, jobs_cap;
	struct job *by_name[ENV_JOB_BUCKETS];
	uint64_t next_serial;
	pthread_mutex_t specs_lock;
	struct spec_ctx spec_ctx;   /* resolves {"use": NAME} through the registry */
	/* The reaper frees jobs whose last reference went (see job_put), and
	 * compacts jobs that came to rest (job_rest.c). reap_lock (owner: env)
	 * guards both lists; a leaf lock. */
	pthread_t reaper;
	bool reaper_running, reap_stop;
	pthread_mutex_t reap_lock;
	pthread_cond_t reap_cond;
	struct job *reap_list;
	struct job *compact_head, *compact_tail; /* each holds a job reference */
	int compact_len;            /* jobs on that queue */
	/* End-of-job wake-ups running now (job.c): a woken waiter may live in
	 * another job's node, which the reaper frees only once they are done. */
	_Atomic int end_wakes;
};

int env_create(const struct env_config *cfg, struct env **out);
/* Hand a job without references to the reaper thread; false when there is
 * none (before start, after stop): then the caller frees it. */
bool env_reap(struct env *e, struct job *j);
/* Have the reaper compact j (it takes a reference); false when there is
 * no reaper (before start, after stop) or j's last reference is gone. */
bool env_compact_later(struct env *e, struct job *j);
/* Take j off the reaper's compaction queue, if it is there (rmdir: a
 * removed job never rests, and must not linger there holding its files). */
void env_compact_forget(struct env *e, struct job *j);
/* Reaper side, before freeing nodes: wait until no end-of-job wake-up runs. */
void env_wait_end_wakes(struct env *e);
/* Stop: running jobs become interrupted, everything is flushed. */
void env_destroy(struct env *e);

/* The job table. find/by_serial/next return a reference (job_put it). */
/* -EEXIST, or -EDQUOT when max_jobs jobs exist. */
int env_job_add(struct env *e, struct job *j);
void env_job_del(struct env *e, struct job *j);
struct job *env_job_find(struct env *e, const char *name);
struct job *env_job_by_serial(struct env *e, uint64_t serial);
struct job *env_job_next(struct env *e, uint64_t after_serial);
int env_job_count(struct env *e);

/* The spec registry (.specs/NAME.json). put validates: 0 or -EINVAL with
 * the reasons in the daemon log; get returns malloc'd text. */
int env_spec_put(struct env *e, const char *name, const char *text, size_t len);
char *env_spec_get(struct env *e, const char *name, size_t *len);
int env_spec_del(struct env *e, const char *name);
/* Calls cb for each registered name (without ".json"). */
int env_spec_list(struct env *e, int (*cb)(void *arg, const char *name), void *arg);

/* The .env document (malloc'd). */
char *env_json(struct env *e, size_t *len);

struct reactor *env_reactor(struct env *e);
struct pool *env_pool(struct env *e);
struct log *env_log(struct env *e);         /* the daemon log (.log) */

#endif
