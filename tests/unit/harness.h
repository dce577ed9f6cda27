/* harness.h - a small harness for unit tests that run real jobs on a real
 * engine (no FUSE): a live environment over a temporary store, a job run
 * from spec text to its final state with every output collected, and a few
 * helpers for tests that drive a job live (inputs kept open, streams read
 * while the job runs).
 *
 * Every wait is bounded: a job that does not stop by its deadline is
 * cancelled and reported as timed out, never waited for forever.
 *
 * Typical use (cmocka):
 *
 *     static int setup(void **state) { return h_setup(state); }
 *     ...
 *     struct h_ctx *c = *state;
 *     struct job_result r;
 *     const char *tags[] = {"text"}, *data[] = {"a\nb\n"};
 *     run_job(c->env, "j", SPEC, NULL, tags, data, NULL, 1, 5000, &r);
 *     h_assert_succeeded(&r);
 *     h_assert_output(&r, "out", "A\nB\n");
 *     job_result_free(&r);
 *
 * Specs may be written with ' for " (see h_jq()); run_job() converts them.
 *
 * This file and harness.c are linked into every unit test binary: they hold
 * no main() and depend on nothing but the engine, jansson and cmocka. */
#ifndef LJ_TEST_HARNESS_H
#define LJ_TEST_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <unistd.h>

#include "env.h"
#include "job.h"
#include "stream.h"
#include "util.h"

#define H_MAX_OUTPUTS 16
/* Sanitized builds run several times slower: give them room, not flakes.
 * (gcc says so with __SANITIZE_*__, clang with __has_feature.) */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define H_SLOW_BUILD 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__) || defined(H_SLOW_BUILD)
#define H_DEFAULT_TIMEOUT_MS 60000
#define WAIT_MS 30000
#else
#define H_DEFAULT_TIMEOUT_MS 10000
#define WAIT_MS 5000
#endif

/* Whether cond became true within ms milliseconds (checked every 0.2 ms). */
#define WAIT_FOR(cond, ms)                                                  \
	({                                                                  \
		int64_t dl_ = mono_ns() + (int64_t)(ms) * 1000000;          \
		bool ok_;                                                   \
		while (!(ok_ = (cond)) && mono_ns() < dl_)                  \
			usleep(200);                                        \
		ok_;                                                        \
	})

/* One environment per test: the env and its temporary store root. */
struct h_ctx {
	struct env *env;
	char store[256];
};

/* Call first in main(): with LJ_TEST set (a cmocka glob such as
 * 'test_exec*'), only the tests whose names match run. */
void h_test_filter(void);

/* cmocka setup/teardown: *state becomes a struct h_ctx. Threads: 2. */
int h_setup(void **state);
int h_teardown(void **state);

/* The same without cmocka's state pointer. 0 or -errno. */
int h_env_create(struct h_ctx *c, int threads);
/* env_destroy, then remove the store directory recursively. */
void h_env_destroy(struct h_ctx *c);

/* Remove a directory tree (nftw, no symlink following). 0 or -errno. */
int h_rm_rf(const char *path);

struct h_output {
	char *tag;
	char *data;      /* the stream's bytes (NUL-terminated copy) */
	size_t len;
	bool ended;
	int error;       /* stream_error(): 0 or EIO */
};

struct job_result {
	struct job *job;        /* borrowed: the env keeps it until h_env_destroy */
	int create_rc;          /* job_create */
	int options_rc;         /* job_submit_options (0 when none given) */
	int submit_rc;          /* job_submit_spec */
	int write_rc;           /* the first failing job_input_open/write/close, or 0 */
	enum job_state state;   /* final state (or new when refused) */
	bool stopped;           /* every node has finished */
	bool timed_out;         /* not stopped by the deadline: then cancelled */
	char *error;            /* j->error copy, or NULL */
	char *log;              /* the job's log text ("" when empty) */
	int64_t elapsed_ms;     /* from submitting the spec to the stop */
	int noutputs;
	struct h_output out[H_MAX_OUTPUTS];
};

/* ' -> " in a copy (malloc'd), so that specs can be written readably. */
char *h_jq(const char *s);

/* Create job `name`, submit options (if not NULL) and spec (both may use '
 * for "), write each input (in irregular chunks, so that records arrive cut
 * in pieces) and close it, in array order, then wait until the job stops
 * (at most timeout_ms; <= 0 means H_DEFAULT_TIMEOUT_MS) and collect state,
 * error, log and every output. input_lens may be NULL (strlen of each
 * input) or give lengths for binary data. Returns the final state, or
 * JOB_NEW when the spec was refused (submit_rc says why). */
int run_job(struct env *e, const char *name, const char *spec_json,
	    const char *options_json_or_NULL, const char *const *input_tags,
	    const char *const *input_data, size_t *input_lens, int ninputs, int timeout_ms,
	    struct job_result *out);
void job_result_free(struct job_result *r);

/* ---- live jobs ---- */

/* Create and start a job (options may be NULL); r->job is set and
 * create/options/submit rc recorded. Returns submit_rc (or the first
 * failing rc). Inputs are then fed with h_feed() or h_input_*(). */
int h_start_job(struct env *e, const char *name, const char *spec_json,
		const char *options_json_or_NULL, struct job_result *r);
/* The live variant of run_job(): start the job, open input `tag` and
 * write `data` to it (in chunks) but keep it open, so that the test can
 * look at the job while its input is live; *in is the open input (NULL
 * when opening failed), to be closed with job_input_close() before
 * h_finish(). Returns 0 or the first -errno (-EPIPE: the job already
 * ended and took no more input). */
int h_start_job_open(struct env *e, const char *name, const char *spec_json,
		     const char *options_json_or_NULL, const char *tag, const void *data,
		     size_t len, struct job_input **in, struct job_result *r);
/* Open, write (in chunks), and close one input. 0 or the first -errno. */
int h_feed(struct job *j, const char *tag, const void *data, size_t len);
/* Write in irregular chunks to an already open input. 0 or -errno. */
int h_write_chunks(struct job *j, struct job_input *in, const void *data, size_t len);
/* Wait until the job has stopped, at most timeout_ms; false on timeout. */
bool h_wait_stopped(struct job *j, int timeout_ms);
/* Wait until stream s holds at least `bytes` bytes or has ended. */
bool h_wait_stream(struct stream *s, uint64_t bytes, int timeout_ms);
/* Wait (<= timeout_ms) until the job stops, cancel it on timeout, and
 * collect everything into r (which h_start_job filled). Returns the state. */
int h_finish(struct job_result *r, int timeout_ms);
/* Everything stream s holds now (malloc'd, NUL-terminated, *len set). */
char *h_stream_read(struct stream *s, size_t *len);
/* The job's log now (malloc'd, NUL-terminated). */
char *h_job_log(struct job *j);
/* A copy of j->error (malloc'd) or NULL. */
char *h_job_error(struct job *j);
enum job_state h_job_state(struct job *j);

/* ---- results ---- */

struct h_output *h_output(struct job_result *r, const char *tag);
int64_t h_now_ms(void);
void h_sleep_ms(int ms);

/* Assertions (cmocka failures with a readable message). */
#define h_assert_state(r, st) h_assert_state_at((r), (st), __FILE__, __LINE__)
#define h_assert_succeeded(r) h_assert_state_at((r), JOB_SUCCEEDED, __FILE__, __LINE__)
/* Output `tag` is exactly `expect` (strlen bytes), ended, without error. */
#define h_assert_output(r, tag, expect) \
	h_assert_output_at((r), (tag), (expect), strlen(expect), __FILE__, __LINE__)
#define h_assert_output_n(r, tag, expect, n) \
	h_assert_output_at((r), (tag), (expect), (n), __FILE__, __LINE__)
/* The same records (lines) as `expect`, in any order. */
#define h_assert_output_unordered(r, tag, expect) \
	h_assert_output_unordered_at((r), (tag), (expect), __FILE__, __LINE__)
/* The job failed and its error holds `needle`. */
#define h_assert_failed_with(r, needle) h_assert_failed_with_at((r), (needle), __FILE__, __LINE__)
/* The spec was refused with -EINVAL, the job stayed new, and both its
 * error and its log hold `needle`. */
#define h_assert_refused(r, needle) h_assert_refused_at((r), (needle), __FILE__, __LINE__)
#define h_assert_contains(hay, needle) h_assert_contains_at((hay), (needle), __FILE__, __LINE__)
#define h_assert_not_contains(hay, needle) \
	h_assert_not_contains_at((hay), (needle), __FILE__, __LINE__)

void h_assert_state_at(struct job_result *r, enum job_state st, const char *file, int line);
void h_assert_output_at(struct job_result *r, const char *tag, const char *expect, size_t n,
			const char *file, int line);
void h_assert_output_unordered_at(struct job_result *r, const char *tag, const char *expect,
				  const char *file, int line);
void h_assert_failed_with_at(struct job_result *r, const char *needle, const char *file, int line);
void h_assert_refused_at(struct job_result *r, const char *needle, const char *file, int line);
void h_assert_contains_at(const char *hay, const char *needle, const char *file, int line);
void h_assert_not_contains_at(const char *hay, const char *needle, const char *file, int line);

#endif
