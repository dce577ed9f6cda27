/* job.h - a LiveJob: its spec and options, streams, nodes, log and state,
 * from mkdir to removal. The FUSE layer calls these functions; they return 0
 * or a negative errno, and every reason a user needs goes to the job log
 * (and to status "error" when the job is refused or fails).
 *
 * Lifecycle: new -> running -> succeeded | failed | cancelled; a job that
 * was running when the daemon stopped is interrupted; restart runs a
 * failed, cancelled or interrupted job again from its stored inputs.
 *
 * Locks, in the order they may be taken: env->jobs_lock, job->lock,
 * stream->lock, pool queue lock. job->lock (owner: the job) guards state,
 * texts, the input/pending tables and the end-waiter list; it is never held
 * across store I/O that can block for long or across a callback. */
#ifndef LJ_JOB_H
#define LJ_JOB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec.h"
#include "stream.h"

struct env;
struct log;
struct node;

enum job_state {
	JOB_NEW,
	JOB_RUNNING,
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_CANCELLED,
	JOB_INTERRUPTED,
};

/* Per input stream: what a writer's data must look like. */
struct job_input {
	char *tag;
	struct stream *s;
	enum stream_format format;
	json_t *schema;         /* borrowed from the spec */
	struct buf partial;     /* json: bytes of an unfinished line */
	uint64_t lines;         /* json: complete lines accepted */
	bool declared;          /* in the accepted spec */
	pthread_mutex_t wlock;  /* owner: the input's writers; held across
				 * checking and appending one write so that
				 * lines of concurrent writers never mix */
};

struct job {
	struct env *env;
	char *name;
	uint64_t serial;        /* unique in this mount, never reused */
	uid_t uid;
	_Atomic int refs;
	pthread_mutex_t lock;
	_Atomic(enum job_state) state; /* written under lock; read anywhere */
	char *error;
	int64_t created_ms, started_ms, ended_ms;
	char *spec_text;        /* the accepted (or last refused) spec.json */
	size_t spec_len;
	char *opts_text;        /* options.json as written */
	size_t opts_len;
	bool spec_file, opts_file, input_dir; /* visible in the tree */
	struct spec *spec;
	struct log *log;
	char *dir;              /* the job's directory in the store */
	int ninputs;
	struct job_input *inputs;   /* declared tags, then undeclared ones written early */
	int nstreams;
	struct stream **streams;    /* every graph stream: inputs, then node ports */
	int *output_stream;         /* spec output i -> index in streams */
	int *node_stream;           /* node i's port 0 -> index in streams */
	int nnodes;
	struct node *nodes;
	int nodes_left;         /* nodes not finished */
	struct stream_waiter end_waiters; /* parked `wait` readers */
	char *final_status;     /* status text frozen when the job ended */
	size_t final_status_len;
	bool removed;           /* rmdir: delete the store dir once stopped */
	bool finalizing;        /* final state, every node finished: finalize runs */
	_Atomic bool stopped;   /* ... and finalize has run (status frozen, waiters woken) */
	bool restarting;        /* a restart is being set up */
	struct job *parent;     /* invoke: the job whose node runs this one */
	struct job *hnext;      /* env name-hash chain (env->jobs_lock) */
	struct stream_quota quota; /* bytes of all its streams (max_job_bytes) */
};

const char *job_state_name(enum job_state s);
static inline bool job_state_final(enum job_state s)
{
	return s >= JOB_SUCCEEDED;
}

/* mkdir: create a new job (and its store directory). -EEXIST, -EINVAL,
 * -EDQUOT (max_jobs reached). */
int job_create(struct env *e, const char *name, uid_t uid, struct job **out);
/* Load a job from the store at mount time. */
int job_load(struct env *e, const char *name, struct job **out);

void job_get(struct job *j);
void job_put(struct job *j);
/* For the env's reaper: free a job whose last reference is gone. */
void job_free_now(struct job *j);

/* The writer of spec.json closed it: parse, validate, start. 0, or
 * -EINVAL (reasons in log and status), -EBUSY (already started),
 * -EPERM (exec not allowed for this uid). */
int job_submit_spec(struct job *j, const char *text, size_t len, uid_t writer);
/* options.json closed: kept for the spec. -EBUSY after start, -EINVAL if not
 * a JSON object (reason in the log). */
int job_submit_options(struct job *j, const char *text, size_t len);
/* Text of spec.json / options.json (effective options once running). malloc'd. */
char *job_spec_text(struct job *j, size_t *len);
char *job_options_text(struct job *j, size_t *len);

/* Inputs. open: -ENOENT (no such tag and !create), -EPIPE (ended),
 * -EINVAL (bad tag). Each successful open must be closed. */
int job_input_open(struct job *j, const char *tag, bool create, struct job_input **out);
/* Append a writer's bytes. json inputs: complete lines are checked; a bad
 * line makes this return -EINVAL after the good lines before it are kept. */
int job_input_write(struct job *j, struct job_input *in, const char *data, size_t len);
/* A writer closed: the data is made durable; the last writer ends the stream. */
int job_input_close(struct job *j, struct job_input *in);
/* close() of a writer's fd: make its data durable; if it is the only
 * writer, a bad unfinished last NDJSON line fails here with -EINVAL. */
int job_input_sync(struct job *j, struct job_input *in);

/* ctl: one command line ("cancel", "end TAG", "restart"). -EINVAL if unknown. */
int job_ctl(struct job *j, const char *line, size_t len);
void job_cancel(struct job *j, const char *why);

/* Streams by name: outputs by tag, intermediate streams by stream name. */
struct stream *job_output(struct job *j, const char *tag);
struct stream *job_stream(struct job *j, const char *name);
/* Names for readdir: i-th output tag / stream name / input tag, NULL past the end. */
const char *job_output_name(struct job *j, int i);
const char *job_stream_name(struct job *j, int i);
const char *job_input_name(struct job *j, int i);
bool job_started(struct job *j);

/* Snapshots (malloc'd text, *len set). */
char *job_status_json(struct job *j, size_t *len);
char *job_graph_dot(struct job *j, size_t *len);

/* wait: park until the job ends. false when it already has. */
bool job_wait(struct job *j, struct stream_waiter *w);
bool job_unwait(struct job *j, struct stream_waiter *w);

/* rmdir: cancel if running, leave the namespace, delete the store dir when
 * every node has stopped. */
void job_remove(struct job *j);

/* Called by nodes (node.c). */
void job_node_finished(struct job *j, struct node *n, int rc, const char *why);
void job_log(struct job *j, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Daemon shutdown: running jobs become interrupted, state is saved. */
void job_shutdown(struct job *j);

#endif
