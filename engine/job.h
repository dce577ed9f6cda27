/* job.h - a LiveJob: its spec and options, streams, nodes, log and state,
 * from mkdir to removal. The FUSE layer calls these functions; they return 0
 * or a negative errno, and every reason a user needs goes to the job log
 * (and to status "error" when the job is refused or fails).
 *
 * Lifecycle: new -> running -> succeeded | failed | cancelled; a job that
 * was running when the daemon stopped is interrupted; restart runs a
 * failed, cancelled or interrupted job again from its stored inputs.
 *
 * A job at rest (stopped in a final state, nobody using its graph) is
 * compact: it keeps its record (name, owner, state, times, error, log) and
 * its shape (the names and sizes the tree lists), and drops its spec,
 * streams, nodes and texts, which the store holds. job_pin() rebuilds them
 * from the store when someone needs them (job_rest.c).
 *
 * Locks, in the order they may be taken: env->jobs_lock, job->lock,
 * stream->lock, pool queue lock; env->reap_lock is a leaf. job->lock
 * (owner: the job) guards state, texts, the input/pending tables, the
 * end-waiter list, the pin count, the rest flags (compact, keep,
 * compact_queued, status_writing) and the graph pointers (spec, inputs,
 * streams, nodes) once they may change, i.e. once the job may stop; it is
 * never held across store I/O that can block for long or across a
 * callback. No new lock: a pin is a count under job->lock, not a lock.
 *
 * Pins: whoever uses the graph outside job->lock on a job that may stop
 * holds a pin (an open stream file, an input writer, ctl end/restart,
 * rmdir, a spec being accepted, a job being ended). Compaction takes the
 * graph out only under job->lock with no pin, on the reaper thread, which
 * holds a job reference while it works; job references and pins are
 * separate: a reference keeps the struct, a pin keeps the graph. */
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

/* What the tree shows of a job that has started: the names of its inputs,
 * outputs and streams, and the streams' sizes while its graph is dropped.
 * Made once, when the spec is accepted or the job is loaded, and kept for
 * the job's life, so that a name handed out stays valid as long as the job
 * reference it came with. Stream i of the shape is stream i of the graph. */
struct job_shape {
	int ninputs, noutputs, nstreams;
	char **input;           /* input tags, each malloc'd; inputs' tag fields borrow them */
	const char **output;    /* output tags */
	const char **stream;    /* stream names */
	int *input_stream;      /* input i -> stream index */
	int *output_stream;     /* output i -> stream index */
	uint64_t *size;         /* stream bytes, kept when the graph is dropped (job lock) */
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
	char *spec_text;        /* the accepted (or last refused) spec.json; NULL when compact */
	size_t spec_len;        /* its length, kept when compact */
	char *opts_text;        /* options.json as written; NULL when compact */
	size_t opts_len;
	bool spec_file, opts_file, input_dir; /* visible in the tree */
	struct spec *spec;
	struct log *log;
	char *dir;              /* the job's directory in the store */
	int ninputs;
	struct job_input **inputs;  /* declared tags, then undeclared ones written early;
				     * each entry stays where it is while the table grows */
	int nstreams;
	struct stream **streams;    /* every graph stream: inputs, then node ports */
	int *output_stream;         /* spec output i -> index in streams */
	int *node_stream;           /* node i's port 0 -> index in streams */
	int nnodes;
	struct node *nodes;
	int nodes_left;         /* nodes not finished */
	struct stream_waiter end_waiters; /* parked `wait` readers */
	char *final_status;     /* status text frozen when the job ended; NULL when compact */
	size_t final_status_len; /* its length, kept when compact */
	bool removed;           /* rmdir: delete the store dir once stopped */
	bool finalizing;        /* final state, every node finished: finalize runs */
	_Atomic bool stopped;   /* ... and finalize has run (status frozen, waiters woken) */
	bool restarting;        /* a restart is being set up */
	struct job *parent;     /* invoke: the job whose node runs this one */
	struct job *hnext;      /* env name-hash chain (env->jobs_lock) */
	struct stream_quota quota; /* bytes of all its streams (max_job_bytes) */
	/* At rest (job_rest.c), all under the job lock but `shape`. */
	_Atomic(struct job_shape *) shape; /* set once when it starts; NULL while new */
	int pins;               /* users of the graph: job_pin() .. job_unpin() */
	bool compact;           /* graph, spec and texts dropped; the store has them */
	bool keep;              /* never compact: bare graph pointers were handed out,
				 * or the store lacks what a rebuild needs */
	bool compact_queued;    /* on the env's compaction list */
	bool status_stored;     /* the final status is in the store only (read back) */
	bool status_writing, status_again; /* job_save_status(): one writer, and a rewrite due */
	unsigned runs;          /* bumped by restart: cached sizes of older runs are stale */
	int64_t graph_len, opts_view_len; /* graph.dot / options.json sizes of a stopped job, -1 unknown */
	struct job *cnext;      /* env compaction list (env->reap_lock) */
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
bool job_tryget(struct job *j); /* false: the last reference is gone */
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

/* Which list of streams the tree shows. */
enum job_list { JOB_INPUTS, JOB_OUTPUTS, JOB_STREAMS };

/* i-th name of a list (input tag / output tag / stream name), NULL past the
 * end. Valid as long as the caller's reference to the job. */
const char *job_list_name(struct job *j, enum job_list which, int i);
const char *job_output_name(struct job *j, int i);
const char *job_stream_name(struct job *j, int i);
const char *job_input_name(struct job *j, int i);
bool job_started(struct job *j);
/* Bytes in the i-th stream of a list, without touching the store. false if
 * there is no such stream. */
bool job_list_size(struct job *j, enum job_list which, int i, uint64_t *size);
/* The i-th stream of a list with the job's graph pinned (rebuilt from the
 * store if the job was compact): 0, -ENOENT, or -EIO when the store can't
 * give it back (the job log says why). Pair with job_unpin(). */
int job_list_pin(struct job *j, enum job_list which, int i, struct stream **out);

/* Streams by name, for the engine (invoke) and tests: outputs by tag,
 * intermediate streams by stream name. The caller keeps a bare pointer, so
 * the job keeps its graph for good (it is never compacted). */
struct stream *job_output(struct job *j, const char *tag);
struct stream *job_stream(struct job *j, const char *name);

/* Hold the job's graph (spec, inputs, streams, nodes), rebuilding it from
 * the store if the job is compact: 0, -ENOENT (removed) or -EIO (the log
 * says why). The last unpin of a job at rest hands it to the env's reaper,
 * which compacts it. */
int job_pin(struct job *j);
void job_unpin(struct job *j);
/* Reaper side: drop the graph of a job at rest (no-op if it is not). */
void job_compact(struct job *j);

/* Generated files and their exact sizes (a stopped job's come from its
 * record, without touching the store). */
enum job_text { JOB_TEXT_STATUS, JOB_TEXT_GRAPH, JOB_TEXT_SPEC, JOB_TEXT_OPTIONS };
size_t job_text_size(struct job *j, enum job_text t);

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

/* ---- shared by job.c, job_rest.c and job_view.c only ---------------------- */

/* A job's graph: what a started job needs to run or to be read, and what
 * a job at rest drops. Moved in and out of struct job under its lock. */
struct job_parts {
	struct spec *spec;
	int ninputs;
	struct job_input **inputs;
	int nstreams;
	struct stream **streams;
	int *output_stream, *node_stream;
	int nnodes;
	struct node *nodes;
};

void job_take_parts(struct job *j, struct job_parts *p);
void job_put_parts(struct job *j, const struct job_parts *p);
/* Frees a graph taken out of j (nodes are quiesced first). */
void job_parts_free(struct job *j, struct job_parts *p);
/* Opens the streams of spec sp into p (inputs already in p are reused),
 * and with_nodes, sets up its nodes. On failure p holds what was made. */
int job_build_parts(struct job *j, struct job_parts *p, struct spec *sp, bool with_nodes,
		    bool create);
struct job_input *job_parts_add_input(struct job *j, struct job_parts *p, const char *tag,
				      bool borrow, bool create, int *err);
void job_quota_recount(struct job *j);
/* The spec of a job that has run, as it ran (spec and options from memory
 * or from the store). */
int job_reparse(struct job *j, struct spec **sp, struct errs *errs);
/* A store file of a compact job (malloc'd), or NULL; once the job is
 * removed, the copy *kept (under the job lock) that job_remove restored. */
char *job_store_text(struct job *j, const char *file, char *const *kept, const size_t *kept_len,
		     size_t *len);
/* Size of a stream's store file (0 when missing). */
uint64_t job_stream_file_size(struct job *j, const char *kind, const char *name, int port);
void job_set_idle(struct job *j, bool on);
void job_set_error(struct job *j, const char *why);

/* job_rest.c */
struct job_shape *job_shape_of(struct job *j);
/* The shape of the graph in p; input tags are taken from p's inputs,
 * which borrow them from then on. */
struct job_shape *job_shape_from_parts(const struct job_parts *p);
/* The shape of spec sp, with sizes from the store's files; NULL when one
 * is shorter than the stored status says (or memory ran out). */
struct job_shape *job_shape_from_spec(struct job *j, const struct spec *sp, json_t *status);
void job_shape_free(struct job_shape *sh);
/* A job that just came to rest: queue it for compaction. */
void job_rest_check(struct job *j);
/* Node states recorded in the final status (name -> state), or NULL. */
json_t *job_final_node_states(struct job *j);

#endif
