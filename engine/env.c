/* env.c - the live environment (see env.h): creates the store, logger, pool
 * and reactor of a mount, keeps the job table and the spec registry, and
 * describes itself in .env. */
#include "env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "log.h"
#include "ops/op.h"
#include "pool.h"
#include "reactor.h"
#include "store.h"

struct reactor *env_reactor(struct env *e)
{
	return e->reactor;
}

struct pool *env_pool(struct env *e)
{
	return e->pool;
}

struct log *env_log(struct env *e)
{
	return e->log;
}

/* ---- the job table ------------------------------------------------------- */

static unsigned name_hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % ENV_JOB_BUCKETS;
}

static struct job *find_locked(struct env *e, const char *name)
{
	for (struct job *j = e->by_name[name_hash(name)]; j; j = j->hnext)
		if (strcmp(j->name, name) == 0)
			return j;
	return NULL;
}

int env_job_add(struct env *e, struct job *j)
{
	int rc = 0;

	pthread_mutex_lock(&e->jobs_lock);
	if (find_locked(e, j->name)) {
		rc = -EEXIST;
	} else if (e->cfg.max_jobs > 0 && e->njobs >= e->cfg.max_jobs) {
		rc = -EDQUOT;
	} else if (e->njobs == e->jobs_cap) {
		int cap = e->jobs_cap ? e->jobs_cap * 2 : 64;
		struct job **v = realloc(e->jobs, sizeof(*v) * (size_t)cap);
		if (!v)
			rc = -ENOMEM;
		else {
			e->jobs = v;
			e->jobs_cap = cap;
		}
	}
	if (rc == 0) {
		unsigned h = name_hash(j->name);

		j->serial = ++e->next_serial;
		e->jobs[e->njobs++] = j;
		j->hnext = e->by_name[h];
		e->by_name[h] = j;
		job_get(j);
	}
	pthread_mutex_unlock(&e->jobs_lock);
	return rc;
}

static int serial_index(struct env *e, uint64_t serial)
{
	int lo = 0, hi = e->njobs;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (e->jobs[mid]->serial < serial)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo; /* first index with serial >= the one asked */
}

void env_job_del(struct env *e, struct job *j)
{
	bool found = false;

	pthread_mutex_lock(&e->jobs_lock);
	for (struct job **pp = &e->by_name[name_hash(j->name)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == j) {
			*pp = j->hnext;
			found = true;
			break;
		}
	}
	if (found) {
		int i = serial_index(e, j->serial);
		if (i < e->njobs && e->jobs[i] == j) {
			memmove(&e->jobs[i], &e->jobs[i + 1], sizeof(*e->jobs) * (size_t)(e->njobs - i - 1));
			e->njobs--;
		}
	}
	pthread_mutex_unlock(&e->jobs_lock);
	if (found)
		job_put(j);
}

struct job *env_job_find(struct env *e, const char *name)
{
	struct job *j;

	pthread_mutex_lock(&e->jobs_lock);
	j = find_locked(e, name);
	if (j)
		job_get(j);
	pthread_mutex_unlock(&e->jobs_lock);
	return j;
}

struct job *env_job_by_serial(struct env *e, uint64_t serial)
{
	struct job *j = NULL;
	int i;

	pthread_mutex_lock(&e->jobs_lock);
	i = serial_index(e, serial);
	if (i < e->njobs && e->jobs[i]->serial == serial) {
		j = e->jobs[i];
		job_get(j);
	}
	pthread_mutex_unlock(&e->jobs_lock);
	return j;
}

struct job *env_job_next(struct env *e, uint64_t after)
{
	struct job *j = NULL;
	int i;

	pthread_mutex_lock(&e->jobs_lock);
	i = serial_index(e, after + 1);
	if (i < e->njobs) {
		j = e->jobs[i];
		job_get(j);
	}
	pthread_mutex_unlock(&e->jobs_lock);
	return j;
}

int env_job_count(struct env *e)
{
	int n;

	pthread_mutex_lock(&e->jobs_lock);
	n = e->njobs;
	pthread_mutex_unlock(&e->jobs_lock);
	return n;
}

/* ---- the spec registry ---------------------------------------------------- */

/* "specs/NAME.json"; a name too long for a file name with ".json" keeps
 * its first 200 bytes and gains a hash of the whole (as stream files do). */
static char *spec_file(const char *name)
{
	char *p = NULL;
	size_t len = strlen(name);

	if (len > 200) {
		uint64_t h = 1469598103934665603ull;

		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
		return asprintf(&p, "specs/%.200s~%016llx.json", name, (unsigned long long)h) < 0
			       ? NULL : p;
	}
	return asprintf(&p, "specs/%s.json", name) < 0 ? NULL : p;
}

char *env_spec_get(struct env *e, const char *name, size_t *len)
{
	char *file, *data = NULL;

	if (!name_ok(name) || !(file = spec_file(name)))
		return NULL;
	if (e->store->ops->get(e->store, NULL, file, &data, len) < 0)
		data = NULL;
	free(file);
	return data;
}

static char *registered(void *arg, const char *name, size_t *len)
{
	return env_spec_get(arg, name, len);
}

int env_spec_put(struct env *e, const char *name, const char *text, size_t len)
{
	struct errs errs;
	char *file;
	int rc;

	if (!name_ok(name))
		return -EINVAL;
	errs_init(&errs);
	rc = spec_check_registered(text, len, &e->spec_ctx, &errs);
	if (rc < 0) {
		for (int i = 0; i < errs.n; i++)
			log_msg(e->log, LOG_ERROR, ".specs", "%s.json: %s", name, errs.msg[i]);
		errs_free(&errs);
		return -EINVAL;
	}
	errs_free(&errs);
	file = spec_file(name);
	if (!file)
		return -ENOMEM;
	pthread_mutex_lock(&e->specs_lock);
	rc = e->store->ops->put(e->store, NULL, file, text, len);
	pthread_mutex_unlock(&e->specs_lock);
	free(file);
	if (rc == 0)
		log_msg(e->log, LOG_INFO, ".specs", "registered %s", name);
	return rc;
}

int env_spec_del(struct env *e, const char *name)
{
	char *file;
	size_t len;
	char *old = env_spec_get(e, name, &len);
	int rc;

	if (!old)
		return -ENOENT;
	free(old);
	file = spec_file(name);
	if (!file)
		return -ENOMEM;
	pthread_mutex_lock(&e->specs_lock);
	rc = e->store->ops->del(e->store, NULL, file);
	pthread_mutex_unlock(&e->specs_lock);
	free(file);
	if (rc == 0)
		log_msg(e->log, LOG_INFO, ".specs", "removed %s", name);
	return rc;
}

struct list_ctx {
	int (*cb)(void *, const char *);
	void *arg;
};

static int list_one(void *arg, const char *file)
{
	struct list_ctx *c = arg;
	size_t n = strlen(file);
	char name[256];

	if (n <= 5 || n - 5 >= sizeof(name) || strcmp(file + n - 5, ".json") != 0)
		return 0;
	memcpy(name, file, n - 5);
	name[n - 5] = '\0';
	return name_ok(name) ? c->cb(c->arg, name) : 0;
}

int env_spec_list(struct env *e, int (*cb)(void *, const char *), void *arg)
{
	struct list_ctx c = {cb, arg};

	return e->store->ops->list(e->store, "specs", list_one, &c);
}

/* ---- .env ------------------------------------------------------------------ */

char *env_json(struct env *e, size_t *len)
{
	json_t *o = json_object(), *counts = json_object(), *ops = json_array();
	int by_state[JOB_INTERRUPTED + 1] = {0};
	char *text;

	pthread_mutex_lock(&e->jobs_lock);
	for (int i = 0; i < e->njobs; i++)
		by_state[e->jobs[i]->state]++;
	json_object_set_new(o, "jobs", json_integer(e->njobs));
	pthread_mutex_unlock(&e->jobs_lock);
	for (int s = JOB_NEW; s <= JOB_INTERRUPTED; s++)
		json_object_set_new(counts, job_state_name(s), json_integer(by_state[s]));
	for (const struct op_desc *const *op = op_all(); *op; op++)
		json_array_append_new(ops, json_string((*op)->name));
	json_object_set_new(o, "version", json_string(LJ_VERSION));
	json_object_set_new(o, "store", json_string(e->store->root));
	json_object_set_new(o, "threads", json_integer(pool_threads(e->pool)));
	json_object_set_new(o, "uptime_s", json_real((double)(now_ms() - e->started_ms) / 1000.0));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "allow_other", json_boolean(e->cfg.allow_other));
	json_object_set_new(o, "exec_any", json_boolean(e->cfg.exec_any));
	json_object_set_new(o, "job_states", counts);
	json_object_set_new(o, "operators", ops);
	text = json_text(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER, len);
	json_decref(o);
	return text;
}

/* ---- the reaper ------------------------------------------------------------------ */

bool env_reap(struct env *e, struct job *j)
{
	bool taken = false;

	if (!e)
		return false;
	pthread_mutex_lock(&e->reap_lock);
	if (e->reaper_running && !e->reap_stop) {
		j->hnext = e->reap_list;
		e->reap_list = j;
		pthread_cond_signal(&e->reap_cond);
		taken = true;
	}
	pthread_mutex_unlock(&e->reap_lock);
	return taken;
}

bool env_compact_later(struct env *e, struct job *j)
{
	bool taken = false;

	if (!job_tryget(j))
		return false; /* on its way to the reaper already */
	pthread_mutex_lock(&e->reap_lock);
	if (e->reaper_running && !e->reap_stop) {
		j->cnext = NULL;
		if (e->compact_tail)
			e->compact_tail->cnext = j;
		else
			e->compact_head = j;
		e->compact_tail = j;
		if (++e->compact_len > e->cfg.rest_whole)
			pthread_cond_signal(&e->reap_cond);
		taken = true;
	}
	pthread_mutex_unlock(&e->reap_lock);
	if (!taken)
		job_put(j);
	return taken;
}

void env_compact_forget(struct env *e, struct job *j)
{
	struct job *prev = NULL;
	bool found = false;

	pthread_mutex_lock(&e->reap_lock);
	for (struct job **pp = &e->compact_head; *pp; prev = *pp, pp = &(*pp)->cnext) {
		if (*pp == j) {
			*pp = j->cnext;
			if (e->compact_tail == j)
				e->compact_tail = prev;
			e->compact_len--;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&e->reap_lock);
	if (!found)
		return;
	pthread_mutex_lock(&j->lock);
	j->compact_queued = false;
	pthread_mutex_unlock(&j->lock);
	job_put(j);
}

void env_wait_end_wakes(struct env *e)
{
	while (atomic_load(&e->end_wakes) > 0)
		usleep(50);
}

/* Frees come first: they are what compactions may hand over. Once stopping,
 * queued compactions are dropped (the jobs are going anyway). The newest
 * cfg.rest_whole jobs that came to rest stay whole: a job is most often read
 * or removed just after it ends (cat of its output, rm -r), and compacting
 * it then would only have it rebuilt from the store at once. */
static void *reaper_main(void *arg)
{
	struct env *e = arg;

	pthread_setname_np(pthread_self(), "lj-reaper");
	pthread_mutex_lock(&e->reap_lock);
	for (;;) {
		struct job *j = e->reap_list, *c = e->compact_head;

		if (c && e->compact_len <= e->cfg.rest_whole && !e->reap_stop)
			c = NULL;

		if (j) {
			e->reap_list = j->hnext;
			pthread_mutex_unlock(&e->reap_lock);
			env_wait_end_wakes(e);
			job_free_now(j);
		} else if (c) {
			bool stopping = e->reap_stop;

			e->compact_head = c->cnext;
			if (!e->compact_head)
				e->compact_tail = NULL;
			e->compact_len--;
			pthread_mutex_unlock(&e->reap_lock);
			if (!stopping)
				job_compact(c);
			job_put(c);
		} else if (e->reap_stop) {
			break;
		} else {
			pthread_cond_wait(&e->reap_cond, &e->reap_lock);
			continue;
		}
		pthread_mutex_lock(&e->reap_lock);
	}
	pthread_mutex_unlock(&e->reap_lock);
	return NULL;
}

static void reaper_stop(struct env *e)
{
	if (!e->reaper_running)
		return;
	pthread_mutex_lock(&e->reap_lock);
	e->reap_stop = true;
	pthread_cond_signal(&e->reap_cond);
	pthread_mutex_unlock(&e->reap_lock);
	pthread_join(e->reaper, NULL);
	e->reaper_running = false;
}

/* ---- life --------------------------------------------------------------------- */

static int load_one(void *arg, const char *name)
{
	struct env *e = arg;
	struct job *j;

	if (job_load(e, name, &j) < 0)
		return 0;
	if (env_job_add(e, j) < 0)
		log_msg(e->log, LOG_ERROR, name, "store: cannot load the job");
	job_put(j);
	return 0;
}

static int cmp_created(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a, *y = *(struct job *const *)b;

	if (x->created_ms != y->created_ms)
		return x->created_ms < y->created_ms ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Jobs come back in creation order, so `ls` lists them as before. */
static void renumber(struct env *e)
{
	if (e->njobs > 1)
		qsort(e->jobs, (size_t)e->njobs, sizeof(*e->jobs), cmp_created);
	for (int i = 0; i < e->njobs; i++)
		e->jobs[i]->serial = (uint64_t)i + 1;
	e->next_serial = (uint64_t)e->njobs;
}

int env_create(const struct env_config *cfg, struct env **out)
{
	struct env *e = calloc(1, sizeof(*e));
	char *path;
	int rc;

	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	e->started_ms = now_ms();
	pthread_mutex_init(&e->jobs_lock, NULL);
	pthread_mutex_init(&e->specs_lock, NULL);
	pthread_mutex_init(&e->reap_lock, NULL);
	pthread_cond_init(&e->reap_cond, NULL);
	e->spec_ctx.registered = registered;
	e->spec_ctx.arg = e;
	rc = store_dir_open(cfg->store_dir, &e->store);
	if (rc < 0)
		goto fail;
	path = store_path(e->store, NULL, "daemon.log");
	rc = path ? log_open(path, &e->log) : -ENOMEM;
	free(path);
	if (rc < 0)
		goto fail;
	rc = pool_create(cfg->threads, &e->pool);
	if (rc < 0)
		goto fail;
	rc = reactor_create(&e->reactor);
	if (rc < 0)
		goto fail;
	rc = -pthread_create(&e->reaper, NULL, reaper_main, e);
	if (rc < 0)
		goto fail;
	e->reaper_running = true;
	log_msg(e->log, LOG_INFO, "livejobfs", "started: version %s, store %s, %d threads",
		LJ_VERSION, e->store->root, cfg->threads);
	e->store->ops->job_list(e->store, load_one, e);
	renumber(e);
	if (e->njobs)
		log_msg(e->log, LOG_INFO, "livejobfs", "loaded %d jobs from the store", e->njobs);
	*out = e;
	return 0;
fail:
	env_destroy(e);
	return rc;
}

/* Waits (bounded) until every job's nodes have stopped: exec children get
 * SIGTERM, then SIGKILL after their grace time. */
static void wait_stopped(struct env *e)
{
	for (int tries = 0; tries < 1000; tries++) {
		bool all = true;

		pthread_mutex_lock(&e->jobs_lock);
		for (int i = 0; i < e->njobs && all; i++) {
			pthread_mutex_lock(&e->jobs[i]->lock);
			all = e->jobs[i]->nodes_left == 0;
			pthread_mutex_unlock(&e->jobs[i]->lock);
		}
		pthread_mutex_unlock(&e->jobs_lock);
		if (all)
			return;
		usleep(10000);
	}
}

void env_destroy(struct env *e)
{
	if (!e)
		return;
	if (e->pool) {
		for (int i = 0; i < e->njobs; i++)
			job_shutdown(e->jobs[i]);
		wait_stopped(e);
	}
	while (e->njobs > 0)
		env_job_del(e, e->jobs[e->njobs - 1]);
	reaper_stop(e); /* frees what it was handed, then ends */
	if (e->pool)
		pool_destroy(e->pool);
	e->pool = NULL;
	if (e->reactor)
		reactor_destroy(e->reactor);
	if (e->log) {
		log_msg(e->log, LOG_INFO, "livejobfs", "stopped");
		log_sync(e->log);
		log_close(e->log);
	}
	if (e->store)
		e->store->ops->close(e->store);
	free(e->jobs);
	pthread_mutex_destroy(&e->jobs_lock);
	pthread_mutex_destroy(&e->specs_lock);
	pthread_mutex_destroy(&e->reap_lock);
	pthread_cond_destroy(&e->reap_cond);
	free(e);
}
