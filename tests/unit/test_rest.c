/* test_rest.c - engine/job_rest.c: a finished job at rest. Once a job has
 * stopped and nobody uses it, the reaper compacts it; everything a user
 * reads must then come back exactly as before (status bytes, sizes,
 * graph.dot, options, spec, outputs with EOF or EIO at their end), restart
 * must work from the store, a remount must load finished jobs compact with
 * the same files, and many threads pinning, reading, compacting and
 * removing the same job at once must see whole data or ENOENT. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "harness.h"
#include "job.h"
#include "log.h"
#include "store.h"
#include "stream.h"
#include "util.h"

#define UPPER "{'inputs':{'x':{'format':'lines'}},'outputs':{'y':{'from':'u'}}," \
	      "'nodes':{'u':{'op':'upper','in':'x'}}}"
/* Two ports and an option, so that names, options and graph.dot have more to say. */
#define SPLIT "{'options':{'pat':{'type':'string','default':'^a'}}," \
	      "'inputs':{'x':{'format':'lines'}}," \
	      "'outputs':{'hits':{'from':'s.match'},'rest':{'from':'s.rest'},'n':{'from':'c'}}," \
	      "'nodes':{'s':{'op':'split','in':'x','pattern':'${pat}'}," \
	      "'c':{'op':'count','in':'s.rest'}}}"

static bool is_compact(struct job *j)
{
	bool c;

	pthread_mutex_lock(&j->lock);
	c = j->compact;
	pthread_mutex_unlock(&j->lock);
	return c;
}

static bool wait_compact(struct job *j)
{
	int64_t dl = h_now_ms() + WAIT_MS;

	while (!is_compact(j)) {
		if (h_now_ms() > dl)
			return false;
		h_sleep_ms(1);
	}
	return true;
}

/* Everything of the i-th stream of a list, read through a pin: *err is
 * the pin's -errno (NULL returned), or what a reader at the end gets (0,
 * EIO, or -EAGAIN while the stream has not ended). No cmocka asserts:
 * threads call it too. */
static char *pinned_read(struct job *j, enum job_list which, int i, size_t *len, int *err)
{
	struct stream *s;
	char *t;
	int rc = job_list_pin(j, which, i, &s);

	if (rc < 0) {
		*err = rc;
		return NULL;
	}
	*err = stream_ended(s) ? stream_error(s) : -EAGAIN;
	t = h_stream_read(s, len);
	job_unpin(j);
	return t;
}

/* What a user can see of a stopped job, to compare before and after. */
struct view {
	char *status, *graph, *options, *spec;
	size_t status_len, graph_len, options_len, spec_len;
	size_t text_size[4];
	int nlist[3];
	char *names[3][8];
	uint64_t sizes[3][8];
	char *data[3][8];
	int err[3][8];
};

static void view_take(struct job *j, struct view *v)
{
	memset(v, 0, sizeof(*v));
	v->status = job_status_json(j, &v->status_len);
	v->graph = job_graph_dot(j, &v->graph_len);
	v->options = job_options_text(j, &v->options_len);
	v->spec = job_spec_text(j, &v->spec_len);
	for (int t = JOB_TEXT_STATUS; t <= JOB_TEXT_OPTIONS; t++)
		v->text_size[t] = job_text_size(j, (enum job_text)t);
	for (int w = JOB_INPUTS; w <= JOB_STREAMS; w++) {
		const char *n;

		for (int i = 0; i < 8 && (n = job_list_name(j, (enum job_list)w, i)); i++) {
			size_t len;

			v->names[w][i] = strdup(n);
			assert_true(job_list_size(j, (enum job_list)w, i, &v->sizes[w][i]));
			v->data[w][i] = pinned_read(j, (enum job_list)w, i, &len, &v->err[w][i]);
			assert_non_null(v->data[w][i]);
			assert_int_equal(len, v->sizes[w][i]);
			v->nlist[w] = i + 1;
		}
	}
}

static void view_free(struct view *v)
{
	free(v->status);
	free(v->graph);
	free(v->options);
	free(v->spec);
	for (int w = 0; w < 3; w++)
		for (int i = 0; i < 8; i++) {
			free(v->names[w][i]);
			free(v->data[w][i]);
		}
}

static void assert_text_eq(const char *what, const char *a, size_t la, const char *b, size_t lb)
{
	if (!a || !b || la != lb || memcmp(a, b, la) != 0)
		fail_msg("%s differs:\n--- before (%zu)\n%s\n--- after (%zu)\n%s", what, la,
			 a ? a : "(null)", lb, b ? b : "(null)");
}

static void view_assert_same(struct view *a, struct view *b)
{
	assert_text_eq("status", a->status, a->status_len, b->status, b->status_len);
	assert_text_eq("graph.dot", a->graph, a->graph_len, b->graph, b->graph_len);
	assert_text_eq("options.json", a->options, a->options_len, b->options, b->options_len);
	assert_text_eq("spec.json", a->spec, a->spec_len, b->spec, b->spec_len);
	for (int t = 0; t < 4; t++)
		assert_int_equal(a->text_size[t], b->text_size[t]);
	assert_int_equal(a->text_size[JOB_TEXT_STATUS], a->status_len);
	assert_int_equal(a->text_size[JOB_TEXT_GRAPH], a->graph_len);
	assert_int_equal(a->text_size[JOB_TEXT_OPTIONS], a->options_len);
	assert_int_equal(a->text_size[JOB_TEXT_SPEC], a->spec_len);
	for (int w = 0; w < 3; w++) {
		assert_int_equal(a->nlist[w], b->nlist[w]);
		for (int i = 0; i < a->nlist[w]; i++) {
			assert_string_equal(a->names[w][i], b->names[w][i]);
			assert_int_equal(a->sizes[w][i], b->sizes[w][i]);
			assert_string_equal(a->data[w][i], b->data[w][i]);
			assert_int_equal(a->err[w][i], b->err[w][i]);
		}
	}
}

static struct job *start(struct h_ctx *c, const char *name, const char *spec, const char *opts)
{
	struct job_result r;
	struct job *j;

	assert_int_equal(h_start_job(c->env, name, spec, opts, &r), 0);
	j = r.job;
	job_result_free(&r);
	return j;
}

static void end_input(struct job *j, const char *data)
{
	assert_int_equal(h_feed(j, "x", data, strlen(data)), 0);
	assert_true(h_wait_stopped(j, WAIT_MS));
}

/* The same job seen before it rests, at rest, and rebuilt. */
static void test_compact_same_view(void **state)
{
	struct h_ctx *c = *state;
	struct job *j = start(c, "sp", SPLIT, "{'pat':'^b'}");
	struct view before, after;
	struct stream *s;

	/* A pin held by a reader keeps the graph: no compaction meanwhile. */
	assert_int_equal(job_list_pin(j, JOB_OUTPUTS, 0, &s), 0);
	end_input(j, "apple\nbanana\ncherry\nblue\n");
	assert_int_equal(h_job_state(j), JOB_SUCCEEDED);
	h_sleep_ms(50);
	assert_false(is_compact(j));
	view_take(j, &before);
	job_unpin(j);
	assert_true(wait_compact(j));
	pthread_mutex_lock(&j->lock);
	assert_null(j->spec);
	assert_null(j->streams);
	assert_null(j->nodes);
	assert_null(j->final_status);
	assert_null(j->spec_text);
	pthread_mutex_unlock(&j->lock);
	view_take(j, &after);
	view_assert_same(&before, &after);
	assert_string_equal(before.data[JOB_OUTPUTS][0], "banana\nblue\n");
	assert_string_equal(before.data[JOB_OUTPUTS][2], "2\n");
	/* Reading rebuilt it; the last unpin lets it rest again. */
	assert_true(wait_compact(j));
	view_free(&before);
	view_free(&after);
}

/* A failed job's outputs still end in EIO once it has been compacted. */
static void test_compact_failed(void **state)
{
	struct h_ctx *c = *state;
	struct job *j = start(c, "bad", "{'inputs':{'x':{'format':'lines'}},'outputs':{'y':"
			      "{'from':'e'}},'nodes':{'e':{'op':'exec','in':'x','argv':"
			      "['sh','-c','cat; exit 3']}}}", NULL);
	struct view before, after;

	end_input(j, "one\ntwo\n");
	assert_int_equal(h_job_state(j), JOB_FAILED);
	assert_true(wait_compact(j));
	view_take(j, &after);
	assert_int_equal(after.err[JOB_OUTPUTS][0], EIO);
	assert_int_equal(after.err[JOB_INPUTS][0], EIO);
	h_assert_contains(after.status, "\"state\": \"failed\"");
	/* Twice: a rebuilt graph and a compacted one say the same. */
	assert_true(wait_compact(j));
	view_take(j, &before);
	view_assert_same(&before, &after);
	view_free(&before);
	view_free(&after);
}

/* Restart of a compact job: rebuilt from the store, run again from its
 * stored inputs; `end TAG` on a compact job needs no rebuild. */
static void test_compact_restart_store(void **state)
{
	struct h_ctx *c = *state;
	struct job *j = start(c, "rs2", UPPER, NULL);
	struct job_input *in;
	size_t len;
	int err;
	char *t, *log;

	assert_int_equal(job_input_open(j, "x", false, &in), 0);
	assert_int_equal(job_input_write(j, in, "abc\ndef\n", 8), 0);
	job_cancel(j, NULL);
	assert_int_equal(job_input_close(j, in), 0);
	assert_true(h_wait_stopped(j, WAIT_MS));
	assert_int_equal(h_job_state(j), JOB_CANCELLED);
	assert_true(wait_compact(j));
	t = pinned_read(j, JOB_OUTPUTS, 0, &len, &err);
	assert_int_equal(err, EIO);
	free(t);
	assert_true(wait_compact(j));

	assert_int_equal(job_ctl(j, "end x\n", 6), 0);
	assert_int_equal(job_ctl(j, "end nope\n", 9), -EINVAL);
	assert_true(is_compact(j));
	log = h_job_log(j);
	h_assert_contains(log, "input/x ended by ctl");
	h_assert_contains(log, "ctl: end: no input \"nope\"");
	free(log);

	assert_int_equal(job_ctl(j, "restart\n", 8), 0);
	assert_true(h_wait_stopped(j, WAIT_MS));
	assert_int_equal(h_job_state(j), JOB_SUCCEEDED);
	t = pinned_read(j, JOB_OUTPUTS, 0, &len, &err);
	assert_int_equal(err, 0);
	assert_string_equal(t, "ABC\nDEF\n");
	free(t);
	t = job_status_json(j, &len);
	h_assert_contains(t, "\"state\": \"succeeded\"");
	assert_int_equal(job_text_size(j, JOB_TEXT_STATUS), len);
	free(t);
	log = h_job_log(j);
	h_assert_contains(log, "restarted from its stored inputs");
	free(log);
	/* A succeeded job can't restart, compact or not. */
	assert_true(wait_compact(j));
	assert_int_equal(job_ctl(j, "restart\n", 8), -EINVAL);
}

/* A remount loads finished jobs compact, showing the same files. */
static void test_remount_compact(void **state)
{
	struct h_ctx *c = *state;
	struct job *j = start(c, "rm1", SPLIT, NULL);
	struct env_config cfg = {0};
	struct view before, after;

	end_input(j, "apple\nbanana\navocado\n");
	view_take(j, &before);
	env_destroy(c->env);
	cfg.store_dir = c->store;
	cfg.threads = 2;
	cfg.owner = getuid();
	assert_int_equal(env_create(&cfg, &c->env), 0);
	j = env_job_find(c->env, "rm1");
	assert_non_null(j);
	assert_true(is_compact(j));
	assert_int_equal(h_job_state(j), JOB_SUCCEEDED);
	view_take(j, &after);
	view_assert_same(&before, &after);
	h_assert_contains(after.graph, "finished");
	assert_true(wait_compact(j));
	job_put(j);
	view_free(&before);
	view_free(&after);
}

/* A stored spec that no longer parses: the mount says so and the job is
 * interrupted; one damaged after the mount fails the rebuild with EIO. */
static void test_rebuild_damaged(void **state)
{
	struct h_ctx *c = *state;
	struct job *j = start(c, "dmg", UPPER, NULL);
	struct store *st = c->env->store;
	struct stream *s;
	char *log, *status;
	size_t len;

	end_input(j, "a\n");
	assert_true(wait_compact(j));
	assert_int_equal(st->ops->put(st, "dmg", "spec.json", "{garbage", 8), 0);
	assert_int_equal(job_list_pin(j, JOB_OUTPUTS, 0, &s), -EIO);
	log = h_job_log(j);
	h_assert_contains(log, "store: the job's spec can't be read back");
	free(log);
	status = job_status_json(j, &len);
	h_assert_contains(status, "\"state\": \"succeeded\"");
	free(status);
	assert_true(is_compact(j));
}

/* job_output() hands out a bare pointer: that job never rests. */
static void test_kept(void **state)
{
	struct h_ctx *c = *state;
	struct job *j = start(c, "kp", UPPER, NULL);
	struct stream *s = job_output(j, "y");

	end_input(j, "q\n");
	h_sleep_ms(100);
	assert_false(is_compact(j));
	assert_int_equal(stream_size(s), 2);
}

/* Removing a compact job: what was looked up before still reads. */
static void test_remove_compact(void **state)
{
	struct h_ctx *c = *state;
	struct job *j = start(c, "gone", UPPER, NULL);
	size_t len;
	char *t;
	struct stream *s;

	end_input(j, "z\n");
	assert_true(wait_compact(j));
	job_get(j);
	job_remove(j);
	assert_null(env_job_find(c->env, "gone"));
	t = job_status_json(j, &len);
	h_assert_contains(t, "\"state\": \"succeeded\"");
	free(t);
	t = job_spec_text(j, &len);
	assert_non_null(t);
	free(t);
	assert_int_equal(job_list_pin(j, JOB_OUTPUTS, 0, &s), 0);
	t = h_stream_read(s, &len);
	assert_string_equal(t, "Z\n");
	free(t);
	job_unpin(j);
	job_put(j);
}

/* rm -r, then mkdir of a new job of the same name, between a reader's look
 * at a compact job and its read of the store: the reader must still get
 * the removed job's own text, not nothing and not the new job's. */
static struct {
	const struct store_ops *real;
	struct store_ops ops;
	struct job *victim;
	const char *file;
} race;

static int get_after_remove(struct store *s, const char *job, const char *file, char **data,
			    size_t *len)
{
	struct job *j = race.victim;

	if (j && strcmp(file, race.file) == 0 && strcmp(job, j->name) == 0) {
		race.victim = NULL;
		s->ops = race.real; /* job_remove reads through the real store */
		job_remove(j);
		assert_int_equal(s->ops->job_create(s, job), 0);
		assert_int_equal(s->ops->put(s, job, file, "{\"other\": 1}", 12), 0);
		s->ops = &race.ops;
	}
	return race.real->get(s, job, file, data, len);
}

/* A finished job "name", at rest, referenced, with the race armed: the
 * next store read of its `file` runs rm -r and mkdir first. */
static struct job *compact_armed(struct h_ctx *c, const char *name, const char *file)
{
	struct store *st = c->env->store;
	struct job *j = start(c, name, UPPER, NULL);

	end_input(j, "z\n");
	assert_true(wait_compact(j));
	job_get(j);
	race.real = st->ops;
	race.ops = *st->ops;
	race.ops.get = get_after_remove;
	race.victim = j;
	race.file = file;
	st->ops = &race.ops;
	return j;
}

/* Disarms it, and checks that it went off. */
static void race_done(struct h_ctx *c)
{
	c->env->store->ops = race.real;
	assert_null(race.victim);
}

static char *read_while_removed(struct h_ctx *c, const char *name, const char *file)
{
	struct job *j = compact_armed(c, name, file);
	size_t len;
	char *t;

	t = strcmp(file, "status.json") == 0 ? job_status_json(j, &len) : job_spec_text(j, &len);
	race_done(c);
	assert_non_null(t);
	assert_int_equal(strlen(t), len);
	assert_null(strstr(t, "other"));
	job_put(j);
	return t;
}

/* rm -r while a reader's pin rebuilds the graph: job_remove's own pin puts
 * a graph in first, which the reader shares (the removed job stays whole,
 * its output readable to whoever opened it). */
static void test_pin_while_removed(void **state)
{
	struct h_ctx *c = *state;
	struct job *j = compact_armed(c, "rr3", "resolved.json"); /* the rebuild's first read */
	struct stream *s;
	size_t len;
	char *t;

	assert_int_equal(job_list_pin(j, JOB_OUTPUTS, 0, &s), 0);
	race_done(c);
	t = h_stream_read(s, &len);
	assert_string_equal(t, "Z\n");
	free(t);
	job_unpin(j);
	job_put(j);
}

static void test_read_while_removed(void **state)
{
	char *t = read_while_removed(*state, "rr1", "status.json");

	h_assert_contains(t, "\"state\": \"succeeded\"");
	free(t);
	t = read_while_removed(*state, "rr2", "spec.json");
	h_assert_contains(t, "upper");
	free(t);
}

/* ---- many threads at once ---- */

struct hammer {
	struct job *j;
	atomic_int stop, reads, gone;
	int bad;
	const char *want;
};

static void *reader_main(void *arg)
{
	struct hammer *h = arg;

	while (!atomic_load(&h->stop)) {
		size_t len;
		int err;
		char *t = pinned_read(h->j, JOB_OUTPUTS, 0, &len, &err);

		if (!t) {
			if (err != -ENOENT)
				h->bad = __LINE__;
			atomic_fetch_add(&h->gone, 1);
			h_sleep_ms(1);
			continue;
		}
		if (strcmp(t, h->want) != 0 || err != 0)
			h->bad = __LINE__;
		free(t);
		atomic_fetch_add(&h->reads, 1);
	}
	return NULL;
}

static void *viewer_main(void *arg)
{
	struct hammer *h = arg;

	while (!atomic_load(&h->stop)) {
		size_t len, glen;
		char *st = job_status_json(h->j, &len);
		char *g = job_graph_dot(h->j, &glen);
		uint64_t size;

		if (!st || job_text_size(h->j, JOB_TEXT_STATUS) != len ||
		    !strstr(st, "\"succeeded\""))
			h->bad = __LINE__;
		if (!g || !strstr(g, "digraph"))
			h->bad = __LINE__;
		if (job_list_size(h->j, JOB_OUTPUTS, 0, &size) && size != strlen(h->want))
			h->bad = __LINE__;
		free(st);
		free(g);
	}
	return NULL;
}

static void hammer(struct h_ctx *c, const char *name, bool remove)
{
	struct job *j = start(c, name, UPPER, NULL);
	struct hammer h = {.j = j, .want = "HELLO\nWORLD\n"};
	pthread_t t[6];
	int64_t dl;

	end_input(j, "hello\nworld\n");
	assert_true(wait_compact(j));
	job_get(j);
	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, i < 4 ? reader_main : viewer_main, &h);
	/* Long enough for many rebuilds and compactions to interleave. */
	dl = h_now_ms() + 300;
	while (h_now_ms() < dl && atomic_load(&h.reads) < 200)
		h_sleep_ms(5);
	if (remove)
		job_remove(j);
	h_sleep_ms(50);
	atomic_store(&h.stop, 1);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	if (h.bad)
		fail_msg("a thread saw something wrong (test_rest.c:%d)", h.bad);
	assert_true(atomic_load(&h.reads) > 0);
	if (!remove)
		assert_true(wait_compact(j));
	job_put(j);
}

static void test_concurrent_pins(void **state)
{
	hammer(*state, "ham", false);
}

static void test_concurrent_remove(void **state)
{
	hammer(*state, "ham2", true);
}

/* Looks at a job whose state changes under it: every snapshot must be
 * whole JSON / a whole graph, every pinned stream readable. */
static void *churn_main(void *arg)
{
	struct hammer *h = arg;

	while (!atomic_load(&h->stop)) {
		size_t len, glen;
		char *st = job_status_json(h->j, &len);
		char *g = job_graph_dot(h->j, &glen);
		json_t *v = st ? json_loadb(st, len, 0, NULL) : NULL;
		struct stream *s;

		if (!json_is_object(v) || !g || !strstr(g, "digraph"))
			h->bad = __LINE__;
		if (job_list_pin(h->j, JOB_OUTPUTS, 0, &s) == 0) {
			free(h_stream_read(s, &len));
			job_unpin(h->j);
		}
		(void)job_text_size(h->j, JOB_TEXT_GRAPH);
		(void)job_text_size(h->j, JOB_TEXT_OPTIONS);
		json_decref(v);
		free(st);
		free(g);
	}
	return NULL;
}

/* Pins and unpins while the reaper compacts: whatever the interleaving,
 * the job comes to rest once the last pin goes (an unpin that found it
 * queued must not be lost when the queued compaction finds it pinned). */
static void *pinner_main(void *arg)
{
	struct hammer *h = arg;

	while (!atomic_load(&h->stop)) {
		if (job_pin(h->j) == 0) {
			job_unpin(h->j);
			atomic_fetch_add(&h->reads, 1);
		}
	}
	return NULL;
}

static void test_rest_after_pins(void **state)
{
	struct h_ctx *c = *state;
	struct job *j = start(c, "pins", UPPER, NULL);
	struct hammer h = {.j = j};
	pthread_t t[2];

	end_input(j, "a\n");
	assert_true(wait_compact(j));
	for (int round = 0; round < 20; round++) {
		atomic_store(&h.stop, 0);
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, pinner_main, &h);
		h_sleep_ms(10);
		atomic_store(&h.stop, 1);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		if (!wait_compact(j))
			fail_msg("round %d: not at rest after %d pins", round, atomic_load(&h.reads));
	}
}

/* Restarts racing with readers and with compaction: the job ends
 * succeeded with the output of its stored input. */
static void test_concurrent_restart(void **state)
{
	struct h_ctx *c = *state;
	struct job *j = start(c, "cr", UPPER, NULL);
	struct job_input *in;
	struct hammer h = {.j = j};
	pthread_t t[3];
	size_t len;
	int err;
	char *out;

	assert_int_equal(job_input_open(j, "x", false, &in), 0);
	assert_int_equal(job_input_write(j, in, "hi\n", 3), 0);
	job_cancel(j, NULL);
	assert_int_equal(job_input_close(j, in), 0);
	assert_true(h_wait_stopped(j, WAIT_MS));
	assert_int_equal(h_job_state(j), JOB_CANCELLED);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, churn_main, &h);
	/* Until one run gets through uncancelled: the input is small. */
	for (int round = 0; round < 10 && h_job_state(j) != JOB_SUCCEEDED && !h.bad; round++) {
		if (round % 2)
			wait_compact(j);
		if (job_ctl(j, "restart\n", 8) < 0)
			h.bad = __LINE__;
		if (round < 9)
			job_cancel(j, NULL); /* a no-op if it succeeded already */
		if (!h_wait_stopped(j, WAIT_MS))
			h.bad = __LINE__;
	}
	atomic_store(&h.stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	if (h.bad)
		fail_msg("something went wrong (test_rest.c:%d)", h.bad);
	assert_int_equal(h_job_state(j), JOB_SUCCEEDED);
	out = pinned_read(j, JOB_OUTPUTS, 0, &len, &err);
	assert_string_equal(out, "HI\n");
	assert_int_equal(err, 0);
	free(out);
	assert_true(wait_compact(j));
}

/* The daemon keeps the newest jobs at rest whole (cfg.rest_whole): a job
 * is most often read or removed just after it ends. Only older ones are
 * compacted, oldest first. */
static void test_rest_whole(void **state)
{
	struct h_ctx *c = *state;
	struct job *j[4];
	const char *names[4] = {"w0", "w1", "w2", "w3"};

	/* No job exists yet, so the reaper has nothing to look at. */
	pthread_mutex_lock(&c->env->reap_lock);
	c->env->cfg.rest_whole = 2;
	pthread_mutex_unlock(&c->env->reap_lock);
	for (int i = 0; i < 3; i++) {
		j[i] = start(c, names[i], UPPER, NULL);
		end_input(j[i], "a\n");
	}
	assert_true(wait_compact(j[0]));
	h_sleep_ms(100);
	assert_false(is_compact(j[1]));
	assert_false(is_compact(j[2]));
	j[3] = start(c, names[3], UPPER, NULL);
	end_input(j[3], "b\n");
	assert_true(wait_compact(j[1]));
	h_sleep_ms(100);
	assert_false(is_compact(j[2]));
	assert_false(is_compact(j[3]));
	/* Whole or compact, the output is the same. */
	for (int i = 0; i < 4; i++) {
		size_t len;
		int err;
		char *t = pinned_read(j[i], JOB_OUTPUTS, 0, &len, &err);

		assert_non_null(t);
		assert_int_equal(err, 0);
		assert_string_equal(t, i < 3 ? "A\n" : "B\n");
		free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_compact_same_view, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_rest_whole, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_compact_failed, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_compact_restart_store, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_remount_compact, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_damaged, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_kept, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_remove_compact, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_read_while_removed, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_pin_while_removed, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_pins, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_remove, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_restart, h_setup, h_teardown),
		cmocka_unit_test_setup_teardown(test_rest_after_pins, h_setup, h_teardown),
	};

	h_test_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
