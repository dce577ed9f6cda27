/* node.h - a running node of a job's graph, and the helpers operators use
 * to read their inputs and write their outputs. A node is scheduled on the
 * thread pool as one task; op->run() is its activation (see ops/op.h).
 *
 * Reading: each input has its own offset into its stream. node_next_line()
 * returns complete records from any input that has one (several inputs are
 * merged in arrival order); node_read() gives raw bytes of one input.
 * Writing: node_emit() buffers output and the buffer is flushed into the
 * stream at the end of each activation (and when it grows past 256 KiB), so
 * downstream sees data in large appends, not one syscall per record. */
#ifndef LJ_NODE_H
#define LJ_NODE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ops/op.h"
#include "pool.h"
#include "util.h"

struct spec_node;

struct job;
struct env;
struct stream;

#define NODE_LINE_MAX (16u << 20) /* longest record a line reader accepts */

struct line_reader {
	char *buf;          /* bytes read from the stream, not yet returned */
	size_t start, len, cap;
	uint64_t off;       /* next stream offset to read */
	size_t scanned;     /* bytes after start known to hold no '\n' */
	bool eof_seen;      /* stream ended and fully read into buf */
};

struct node_input {
	struct stream *s;
	struct line_reader lr;
	/* Consumed so far. One writer (the node's activation), read by status
	 * readers: relaxed atomics, bumped with counter_add(). */
	_Atomic uint64_t records, bytes;
};

struct node_output {
	struct stream *s;
	struct buf pending;  /* emitted, not yet appended */
};

struct node {
	struct task task;              /* first: pool.h converts back */
	struct job *job;
	const struct op_desc *op;
	const char *name;
	json_t *params;                /* node object after ${} substitution */
	int nin, nout;
	struct node_input *in;
	struct node_output *out;
	void *state;                   /* op->state_size bytes, zeroed */
	int index;                     /* in job->nodes */
	_Atomic int stopping;          /* job cancelled or failed: clean up and return NODE_DONE */
	_Atomic int phase;             /* NODE_PHASE_*: written by the activation, read by status */
	int64_t started_ms, ended_ms;
	int rr;                        /* round-robin cursor over inputs */
	bool op_started;               /* start() was called: stop() is due */
	/* Failure reason (node_fail): set once, by the activation or a reactor
	 * callback, while status reads it under the job lock only. */
	_Atomic(char *) why;
};

enum { NODE_PHASE_WAITING, NODE_PHASE_RUNNING, NODE_PHASE_DONE, NODE_PHASE_FAILED };

/* Add to a counter that has one writer: no locked instruction needed. */
static inline void counter_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

/* Next complete record from any input, in arrival order. The record points
 * into the reader's buffer (valid until the next call) and excludes '\n'.
 * Returns 1 (got one, *which = input number), 0 (none available now),
 * or -1 (every input has ended and been drained). */
int node_next_line(struct node *n, const char **rec, size_t *len, int *which);

/* The same for one input only. */
int node_next_line_from(struct node *n, int i, const char **rec, size_t *len);

/* Raw bytes of input i at its offset: >0 bytes, 0 nothing available now,
 * -1 ended and drained. */
ssize_t node_read(struct node *n, int i, void *buf, size_t cap);

/* Has input i ended and been fully consumed? */
bool node_input_done(struct node *n, int i);
bool node_inputs_done(struct node *n);

/* Bytes available right now on input i (not yet consumed). */
uint64_t node_input_available(struct node *n, int i);

/* An operator whose output is its input (op->output_is_input) runs as a
 * view when the store shares the file (node_forwards()): node_forward()
 * makes all that input 0 holds now part of output port 0, without reading
 * it, and returns a run() value. */
bool node_forwards(struct node *n);
int node_forward(struct node *n);

/* Buffer bytes / a record (adds '\n') for output port `port`. 0 or -errno. */
int node_emit(struct node *n, int port, const void *data, size_t len);
int node_emit_line(struct node *n, int port, const void *rec, size_t len);
/* Append pending output now (also done after every activation). */
int node_flush(struct node *n);

/* Job log line "NODE: message" at INFO / WARN / ERROR level. */
void node_log(struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void node_warn(struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record the reason this node fails (logged as ERROR, becomes the job's
 * error); returns -EIO so run() can `return node_fail(n, ...)`. */
int node_fail(struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fail the node because appending its output returned rc (says why: a
 * full store, max_job_bytes, ...). Returns what node_fail returns. */
int node_output_failed(struct node *n, int rc);

/* Wake this node again from any thread (schedules its task). */
void node_wake(struct node *n);

/* Paths and facts for operators that need them (exec, invoke). */
const char *node_job_name(struct node *n);
const char *node_job_dir(struct node *n);    /* the job's directory in the store */
json_t *node_job_options(struct node *n);    /* effective options object (borrowed) */
struct env *node_env(struct node *n);

/* Engine side (job.c): set up a node over its streams (ins[nin], outs[nout]
 * already opened), and release it once its task is quiesced. */
int node_init(struct node *n, struct job *j, int index, const struct spec_node *sn,
	      struct stream **ins, struct stream **outs);
void node_release(struct node *n);
/* Ask a node to stop (job cancelled or failed) and wake it. */
void node_stop(struct node *n);

#endif
