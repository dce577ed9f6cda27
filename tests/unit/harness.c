/* harness.c - see harness.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"

/* ---- time ---- */

int64_t h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the environment ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int h_rm_rf(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int h_env_create(struct h_ctx *c, int threads)
{
	struct env_config cfg;
	int rc;

	memset(c, 0, sizeof(*c));
	/* The daemon ignores SIGPIPE (libfuse's signal handlers do it); exec
	 * writes to the stdin of programs that may have gone away. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(c->store, sizeof(c->store), "%s/ljtest.XXXXXX",
		 getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(c->store))
		return -errno;
	memset(&cfg, 0, sizeof(cfg));
	cfg.store_dir = c->store;
	cfg.threads = threads > 0 ? threads : 2;
	cfg.owner = getuid();
	rc = env_create(&cfg, &c->env);
	if (rc < 0) {
		h_rm_rf(c->store);
		c->env = NULL;
	}
	return rc;
}

void h_env_destroy(struct h_ctx *c)
{
	if (c->env)
		env_destroy(c->env);
	c->env = NULL;
	if (c->store[0])
		h_rm_rf(c->store);
	c->store[0] = '\0';
}

int h_setup(void **state)
{
	struct h_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	if (h_env_create(c, 2) < 0) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

int h_teardown(void **state)
{
	struct h_ctx *c = *state;

	if (c) {
		h_env_destroy(c);
		free(c);
	}
	*state = NULL;
	return 0;
}

/* ---- text helpers ---- */

char *h_jq(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	for (char *p = d; p && *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

char *h_stream_read(struct stream *s, size_t *len)
{
	uint64_t size = stream_size(s), off = 0;
	char *p = malloc((size_t)size + 1);

	*len = 0;
	if (!p)
		return NULL;
	while (off < size) {
		ssize_t n = stream_pread(s, p + off, (size_t)(size - off), off);

		if (n <= 0)
			break;
		off += (uint64_t)n;
	}
	p[off] = '\0';
	*len = (size_t)off;
	return p;
}

char *h_job_log(struct job *j)
{
	uint64_t size = log_size(j->log), off = 0;
	char *p = malloc((size_t)size + 1);

	if (!p)
		return NULL;
	while (off < size) {
		ssize_t n = log_pread(j->log, p + off, (size_t)(size - off), off);

		if (n <= 0)
			break;
		off += (uint64_t)n;
	}
	p[off] = '\0';
	return p;
}

char *h_job_error(struct job *j)
{
	char *e;

	pthread_mutex_lock(&j->lock);
	e = j->error ? strdup(j->error) : NULL;
	pthread_mutex_unlock(&j->lock);
	return e;
}

enum job_state h_job_state(struct job *j)
{
	enum job_state st;

	pthread_mutex_lock(&j->lock);
	st = j->state;
	pthread_mutex_unlock(&j->lock);
	return st;
}

/* ---- feeding inputs ---- */

int h_write_chunks(struct job *j, struct job_input *in, const void *data, size_t len)
{
	/* Small inputs in pieces of 1..11 bytes, so that records arrive cut
	 * anywhere; large ones in odd-sized 64 KiB pieces. */
	static const size_t small[] = {1, 3, 7, 2, 11, 5};
	const char *p = data;
	size_t off = 0;
	int k = 0;

	while (off < len) {
		size_t n = len > 4096 ? 65521 : small[k++ % 6];
		int rc;

		if (n > len - off)
			n = len - off;
		rc = job_input_write(j, in, p + off, n);
		if (rc < 0)
			return rc;
		off += n;
	}
	return 0;
}

int h_feed(struct job *j, const char *tag, const void *data, size_t len)
{
	struct job_input *in;
	int rc = job_input_open(j, tag, false, &in), rc2;

	if (rc < 0)
		return rc;
	rc = h_write_chunks(j, in, data, len);
	rc2 = job_input_close(j, in);
	return rc < 0 ? rc : rc2;
}

/* ---- waiting ---- */

static bool job_is_stopped(struct job *j)
{
	bool done;

	pthread_mutex_lock(&j->lock);
	done = j->stopped && job_state_final(j->state);
	pthread_mutex_unlock(&j->lock);
	return done;
}

/* The job's end waiters are woken at the very end of job_finalize(), once
 * the job lock has been taken for the last time: a test that goes on with
 * the job (restart) after that does not race with the end of the job. */
struct h_waiter {
	struct stream_waiter w; /* first */
	atomic_int woken;
};

static void h_wake(struct stream_waiter *w)
{
	atomic_store(&((struct h_waiter *)w)->woken, 1);
}

static bool job_finalized(struct job *j)
{
	bool done;

	pthread_mutex_lock(&j->lock);
	done = j->stopped && job_state_final(j->state) &&
	       (j->final_status || j->status_stored);
	pthread_mutex_unlock(&j->lock);
	return done;
}

bool h_wait_stopped(struct job *j, int timeout_ms)
{
	int64_t deadline = h_now_ms() + (timeout_ms > 0 ? timeout_ms : H_DEFAULT_TIMEOUT_MS);
	struct h_waiter hw;

	memset(&hw, 0, sizeof(hw));
	hw.w.wake = h_wake;
	atomic_init(&hw.woken, 0);
	if (job_wait(j, &hw.w)) {
		while (!atomic_load(&hw.woken)) {
			if (h_now_ms() >= deadline) {
				if (job_unwait(j, &hw.w))
					return false;
				/* Being woken right now: hw must outlive that. */
				while (!atomic_load(&hw.woken))
					h_sleep_ms(1);
				break;
			}
			h_sleep_ms(2);
		}
		return job_is_stopped(j);
	}
	/* Already stopped (or stopping): wait for the end of job_finalize(),
	 * then a little more for its last unlock. */
	while (!job_finalized(j)) {
		if (h_now_ms() >= deadline)
			return false;
		h_sleep_ms(2);
	}
	h_sleep_ms(5);
	return true;
}

bool h_wait_stream(struct stream *s, uint64_t bytes, int timeout_ms)
{
	int64_t deadline = h_now_ms() + (timeout_ms > 0 ? timeout_ms : H_DEFAULT_TIMEOUT_MS);

	for (;;) {
		if (stream_size(s) >= bytes || stream_ended(s))
			return true;
		if (h_now_ms() >= deadline)
			return false;
		h_sleep_ms(2);
	}
}

/* ---- running a job ---- */

static void collect(struct job_result *r)
{
	struct job *j = r->job;
	const char *tag;

	free(r->error);
	free(r->log);
	r->error = h_job_error(j);
	r->state = h_job_state(j);
	pthread_mutex_lock(&j->lock);
	r->stopped = j->stopped;
	pthread_mutex_unlock(&j->lock);
	r->log = h_job_log(j);
	for (int i = 0; i < r->noutputs; i++) {
		free(r->out[i].tag);
		free(r->out[i].data);
	}
	r->noutputs = 0;
	/* Pinned, as the FUSE layer reads them: a job that has come to rest
	 * is rebuilt from the store for this (job_rest.c). */
	for (int i = 0; r->noutputs < H_MAX_OUTPUTS && (tag = job_output_name(j, i)); i++) {
		struct h_output *o = &r->out[r->noutputs++];
		struct stream *s;

		o->tag = strdup(tag);
		if (job_list_pin(j, JOB_OUTPUTS, i, &s) < 0) {
			o->data = strdup("");
			o->len = 0;
			o->error = EIO;
			continue;
		}
		o->ended = stream_ended(s);
		o->error = stream_error(s);
		o->data = h_stream_read(s, &o->len);
		job_unpin(j);
	}
}

int h_start_job(struct env *e, const char *name, const char *spec_json,
		const char *options_json_or_NULL, struct job_result *r)
{
	char *spec = NULL, *opts = NULL;

	memset(r, 0, sizeof(*r));
	r->state = JOB_NEW;
	r->create_rc = job_create(e, name, getuid(), &r->job);
	if (r->create_rc < 0) {
		r->job = NULL;
		r->submit_rc = r->create_rc;
		return r->create_rc;
	}
	/* The env holds a reference until it is destroyed. */
	job_put(r->job);
	if (options_json_or_NULL) {
		opts = h_jq(options_json_or_NULL);
		r->options_rc = job_submit_options(r->job, opts, strlen(opts));
		free(opts);
	}
	spec = h_jq(spec_json);
	r->elapsed_ms = h_now_ms();
	r->submit_rc = job_submit_spec(r->job, spec, strlen(spec), getuid());
	free(spec);
	if (r->submit_rc < 0) {
		r->elapsed_ms = 0;
		collect(r);
	}
	return r->submit_rc;
}

int h_start_job_open(struct env *e, const char *name, const char *spec_json,
		     const char *options_json_or_NULL, const char *tag, const void *data,
		     size_t len, struct job_input **in, struct job_result *r)
{
	int rc;

	*in = NULL;
	rc = h_start_job(e, name, spec_json, options_json_or_NULL, r);
	if (rc < 0)
		return rc;
	rc = job_input_open(r->job, tag, false, in);
	if (rc < 0) {
		*in = NULL;
		return rc;
	}
	return h_write_chunks(r->job, *in, data, len);
}

int h_finish(struct job_result *r, int timeout_ms)
{
	int64_t started = r->elapsed_ms;

	if (!r->job)
		return r->state;
	if (r->submit_rc < 0) {
		collect(r);
		return r->state;
	}
	if (!h_wait_stopped(r->job, timeout_ms)) {
		r->timed_out = true;
		job_cancel(r->job, "the test timed out");
		h_wait_stopped(r->job, 5000);
	}
	r->elapsed_ms = h_now_ms() - started;
	collect(r);
	return r->state;
}

int run_job(struct env *e, const char *name, const char *spec_json,
	    const char *options_json_or_NULL, const char *const *input_tags,
	    const char *const *input_data, size_t *input_lens, int ninputs, int timeout_ms,
	    struct job_result *out)
{
	if (h_start_job(e, name, spec_json, options_json_or_NULL, out) < 0)
		return out->state;
	for (int i = 0; i < ninputs; i++) {
		size_t len = input_lens ? input_lens[i] : strlen(input_data[i]);
		int rc = h_feed(out->job, input_tags[i], input_data[i], len);

		if (rc < 0 && out->write_rc == 0)
			out->write_rc = rc;
	}
	return h_finish(out, timeout_ms);
}

void job_result_free(struct job_result *r)
{
	for (int i = 0; i < r->noutputs; i++) {
		free(r->out[i].tag);
		free(r->out[i].data);
	}
	free(r->error);
	free(r->log);
	memset(r, 0, sizeof(*r));
}

struct h_output *h_output(struct job_result *r, const char *tag)
{
	for (int i = 0; i < r->noutputs; i++)
		if (strcmp(r->out[i].tag, tag) == 0)
			return &r->out[i];
	return NULL;
}

/* ---- assertions ---- */

static void show(struct job_result *r)
{
	print_error("  job %s: state %s%s, error: %s\n", r->job ? r->job->name : "?",
		    job_state_name(r->state), r->timed_out ? " (TIMED OUT)" : "",
		    r->error ? r->error : "(none)");
	if (r->log)
		print_error("  log:\n%s\n", r->log);
}

/* Printable rendering of bytes for messages (malloc'd). */
static char *esc(const char *p, size_t n)
{
	size_t cap = n * 4 + 1, k = 0;
	char *s = malloc(cap > 4096 * 4 + 32 ? 4096 * 4 + 32 : cap);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n && i < 4096; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n') {
			s[k++] = '\\';
			s[k++] = 'n';
		} else if (c < 0x20 || c >= 0x7f || c == '\\') {
			k += (size_t)sprintf(s + k, "\\x%02x", c);
		} else {
			s[k++] = (char)c;
		}
	}
	if (n > 4096)
		k += (size_t)sprintf(s + k, "...(%zu bytes)", n);
	s[k] = '\0';
	return s;
}

void h_assert_state_at(struct job_result *r, enum job_state st, const char *file, int line)
{
	if (r->submit_rc < 0 && st != JOB_NEW) {
		print_error("%s:%d: spec refused (%d): %s\n", file, line, r->submit_rc,
			    r->error ? r->error : "?");
		show(r);
		_fail(file, line);
	}
	if (r->timed_out || r->state != st) {
		print_error("%s:%d: expected state %s, got %s%s\n", file, line, job_state_name(st),
			    job_state_name(r->state), r->timed_out ? " (timed out)" : "");
		show(r);
		_fail(file, line);
	}
}

void h_assert_output_at(struct job_result *r, const char *tag, const char *expect, size_t n,
			const char *file, int line)
{
	struct h_output *o = h_output(r, tag);

	if (!o) {
		print_error("%s:%d: no output \"%s\"\n", file, line, tag);
		show(r);
		_fail(file, line);
		return;
	}
	if (o->len != n || memcmp(o->data, expect, n) != 0 || !o->ended || o->error) {
		char *a = esc(o->data, o->len), *b = esc(expect, n);

		print_error("%s:%d: output \"%s\" (%zu bytes, %s, error %d):\n  got:      \"%s\"\n"
			    "  expected: \"%s\" (%zu bytes)\n",
			    file, line, tag, o->len, o->ended ? "ended" : "NOT ENDED", o->error,
			    a ? a : "?", b ? b : "?", n);
		free(a);
		free(b);
		show(r);
		_fail(file, line);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines of s (each without '\n'), sorted; *n set. The copy is in *buf. */
static char **sorted_lines(const char *s, size_t len, size_t *n, char **buf)
{
	size_t cap = 1;
	char **v;
	char *p;

	for (size_t i = 0; i < len; i++)
		cap += s[i] == '\n';
	v = calloc(cap + 1, sizeof(*v));
	*buf = malloc(len + 1);
	*n = 0;
	if (!v || !*buf) {
		free(v);
		free(*buf);
		*buf = NULL;
		return NULL;
	}
	memcpy(*buf, s, len);
	(*buf)[len] = '\0';
	p = *buf;
	while (*p) {
		char *nl = strchr(p, '\n');

		v[(*n)++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

void h_assert_output_unordered_at(struct job_result *r, const char *tag, const char *expect,
				  const char *file, int line)
{
	struct h_output *o = h_output(r, tag);
	char **a = NULL, **b = NULL, *ab = NULL, *bb = NULL;
	size_t na = 0, nb = 0;
	bool same;

	if (!o) {
		print_error("%s:%d: no output \"%s\"\n", file, line, tag);
		show(r);
		_fail(file, line);
		return;
	}
	/* Every record ends in '\n': the totals match and so do the lines. */
	same = o->len == strlen(expect) && o->ended && !o->error &&
	       (o->len == 0 || o->data[o->len - 1] == '\n');
	if (same) {
		a = sorted_lines(o->data, o->len, &na, &ab);
		b = sorted_lines(expect, strlen(expect), &nb, &bb);
		same = a && b && na == nb;
		for (size_t i = 0; same && i < na; i++)
			same = strcmp(a[i], b[i]) == 0;
	}
	free(a);
	free(b);
	free(ab);
	free(bb);
	if (!same) {
		char *x = esc(o->data, o->len), *y = esc(expect, strlen(expect));

		print_error("%s:%d: output \"%s\" (%s, error %d) has not the same records:\n"
			    "  got:      \"%s\"\n  expected: \"%s\" (any order)\n",
			    file, line, tag, o->ended ? "ended" : "NOT ENDED", o->error,
			    x ? x : "?", y ? y : "?");
		free(x);
		free(y);
		show(r);
		_fail(file, line);
	}
}

void h_assert_failed_with_at(struct job_result *r, const char *needle, const char *file, int line)
{
	h_assert_state_at(r, JOB_FAILED, file, line);
	if (!r->error || !strstr(r->error, needle)) {
		print_error("%s:%d: the error does not hold \"%s\"\n", file, line, needle);
		show(r);
		_fail(file, line);
	}
}

void h_assert_refused_at(struct job_result *r, const char *needle, const char *file, int line)
{
	if (r->submit_rc != -EINVAL || r->state != JOB_NEW) {
		print_error("%s:%d: expected the spec to be refused with -EINVAL, got %d (state %s)\n",
			    file, line, r->submit_rc, job_state_name(r->state));
		show(r);
		_fail(file, line);
	}
	if (!r->error || !strstr(r->error, needle) || !r->log || !strstr(r->log, needle)) {
		print_error("%s:%d: the error and the log must hold \"%s\"\n", file, line, needle);
		show(r);
		_fail(file, line);
	}
}

void h_assert_contains_at(const char *hay, const char *needle, const char *file, int line)
{
	if (!hay || !strstr(hay, needle)) {
		print_error("%s:%d: \"%s\" not found in:\n%s\n", file, line, needle,
			    hay ? hay : "(null)");
		_fail(file, line);
	}
}

void h_assert_not_contains_at(const char *hay, const char *needle, const char *file, int line)
{
	if (hay && strstr(hay, needle)) {
		print_error("%s:%d: \"%s\" unexpectedly found in:\n%s\n", file, line, needle, hay);
		_fail(file, line);
	}
}

void h_test_filter(void)
{
	const char *f = getenv("LJ_TEST");

	if (f && *f)
		cmocka_set_test_filter(f);
}
