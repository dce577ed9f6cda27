/* node.c - a node of a running graph: its activation on the pool, the line
 * readers over its inputs and the buffered writers of its outputs (see
 * node.h). The operator does the work; this file does the plumbing that is
 * the same for every operator, and reports the node's end to its job. */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "job.h"
#include "log.h"
#include "spec.h"
#include "stream.h"

#define READ_MIN (16u << 10)
#define READ_MAX (256u << 10)
#define EMIT_FLUSH (256u << 10)

/* ---- line readers ---------------------------------------------------- */

/* Makes room for at least `want` more bytes after the unread data. */
static int lr_reserve(struct line_reader *lr, size_t want)
{
	size_t need;

	if (lr->start > 0 && lr->cap - lr->start - lr->len < want) {
		memmove(lr->buf, lr->buf + lr->start, lr->len);
		lr->start = 0;
	}
	need = lr->start + lr->len + want;
	if (need > lr->cap) {
		size_t cap = lr->cap ? lr->cap : READ_MIN;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(lr->buf, cap);
		if (!p)
			return -ENOMEM;
		lr->buf = p;
		lr->cap = cap;
	}
	return 0;
}

/* Reads more of the stream into the buffer: >0 bytes, 0 none now, -1 end. */
static ssize_t lr_fill(struct line_reader *lr, struct stream *s)
{
	uint64_t size = stream_size(s);
	bool ended = stream_ended(s);
	size_t want;
	ssize_t n;

	if (lr->off >= size) {
		/* A stream that ended with an error ended the job, not the
		 * data: the node is about to be stopped, so report "nothing
		 * now" rather than a clean end it could act on. */
		if (ended && stream_error(s) == 0 && lr->off >= stream_size(s)) {
			lr->eof_seen = true;
			return -1;
		}
		return 0;
	}
	want = size - lr->off > READ_MAX ? READ_MAX : (size_t)(size - lr->off);
	if (want < READ_MIN)
		want = READ_MIN;
	if (lr_reserve(lr, want) < 0)
		return 0;
	n = stream_pread(s, lr->buf + lr->start + lr->len, lr->cap - lr->start - lr->len, lr->off);
	if (n <= 0)
		return 0;
	lr->off += (uint64_t)n;
	lr->len += (size_t)n;
	return n;
}

/* An idle reader of an idle stream holds no buffer: 1,000 waiting jobs
 * should cost next to nothing. */
static void lr_trim(struct line_reader *lr)
{
	if (lr->len == 0 && lr->buf) {
		free(lr->buf);
		lr->buf = NULL;
		lr->cap = lr->start = lr->scanned = 0;
	}
}

int node_next_line_from(struct node *n, int i, const char **rec, size_t *len)
{
	struct node_input *in = &n->in[i];
	struct line_reader *lr = &in->lr;

	for (;;) {
		char *p = lr->buf ? lr->buf + lr->start : NULL;
		char *nl = lr->len > lr->scanned ?
			memchr(p + lr->scanned, '\n', lr->len - lr->scanned) : NULL;
		size_t take;

		if (nl) {
			*rec = p;
			*len = (size_t)(nl - p);
			take = *len + 1;
		} else if (lr->len > 0 && (lr->eof_seen || lr->len >= NODE_LINE_MAX)) {
			/* A last line without '\n', or an overlong one, is a record. */
			*rec = p;
			*len = lr->len;
			take = lr->len;
		} else {
			ssize_t got;

			lr->scanned = lr->len;
			if (lr->eof_seen)
				return -1;
			got = lr_fill(lr, in->s);
			if (got > 0)
				continue;
			if (got < 0 && lr->len > 0)
				continue; /* the unterminated last record */
			lr_trim(lr);
			return got < 0 ? -1 : 0;
		}
		lr->start += take;
		lr->len -= take;
		lr->scanned = 0;
		counter_add(&in->records, 1);
		counter_add(&in->bytes, take);
		return 1;
	}
}

int node_next_line(struct node *n, const char **rec, size_t *len, int *which)
{
	int ended = 0;

	for (int k = 0; k < n->nin; k++) {
		int i = (n->rr + k) % n->nin;
		int rc = node_next_line_from(n, i, rec, len);

		if (rc == 1) {
			n->rr = i;
			if (which)
				*which = i;
			return 1;
		}
		if (rc < 0)
			ended++;
	}
	return ended == n->nin ? -1 : 0;
}

static uint64_t count_newlines(const char *p, size_t len)
{
	const char *end = p + len;
	uint64_t k = 0;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

ssize_t node_read(struct node *n, int i, void *buf, size_t cap)
{
	struct node_input *in = &n->in[i];
	struct line_reader *lr = &in->lr;
	ssize_t got;

	if (lr->len > 0) {
		size_t take = lr->len < cap ? lr->len : cap;

		memcpy(buf, lr->buf + lr->start, take);
		lr->start += take;
		lr->len -= take;
		lr->scanned = 0;
		counter_add(&in->bytes, take);
		counter_add(&in->records, count_newlines(buf, take));
		lr_trim(lr);
		return (ssize_t)take;
	}
	got = stream_pread(in->s, buf, cap, lr->off);
	if (got > 0) {
		lr->off += (uint64_t)got;
		counter_add(&in->bytes, (uint64_t)got);
		counter_add(&in->records, count_newlines(buf, (size_t)got));
		return got;
	}
	if (stream_ended(in->s) && stream_error(in->s) == 0 && lr->off >= stream_size(in->s)) {
		lr->eof_seen = true;
		return -1;
	}
	return 0;
}

bool node_input_done(struct node *n, int i)
{
	struct node_input *in = &n->in[i];

	return in->lr.len == 0 && stream_ended(in->s) && stream_error(in->s) == 0 &&
	       in->lr.off >= stream_size(in->s);
}

bool node_inputs_done(struct node *n)
{
	for (int i = 0; i < n->nin; i++)
		if (!node_input_done(n, i))
			return false;
	return true;
}

uint64_t node_input_available(struct node *n, int i)
{
	struct node_input *in = &n->in[i];

	return in->lr.len + (stream_size(in->s) - in->lr.off);
}

bool node_forwards(struct node *n)
{
	return n->nin == 1 && n->nout >= 1 && n->out[0].s->shared == n->in[0].s;
}

int node_forward(struct node *n)
{
	struct node_input *in = &n->in[0];
	struct stream *out = n->out[0].s;
	uint64_t size, records, had;
	int rc;

	if (n->stopping)
		return NODE_DONE;
	stream_counts(in->s, &size, &records);
	if (size > in->lr.off) {
		had = atomic_load(&out->records);
		rc = stream_publish(out, size, records);
		if (rc < 0)
			return node_output_failed(n, rc);
		counter_add(&in->bytes, size - in->lr.off);
		counter_add(&in->records, records - had);
		in->lr.off = size;
	}
	if (node_input_done(n, 0)) {
		in->lr.eof_seen = true;
		return NODE_DONE;
	}
	return NODE_IDLE;
}

/* ---- output ----------------------------------------------------------- */

static int flush_port(struct node *n, int port)
{
	struct node_output *o = &n->out[port];
	int rc = 0;

	if (o->pending.len) {
		rc = stream_append(o->s, o->pending.p, o->pending.len);
		o->pending.len = 0;
	}
	return rc;
}

int node_flush(struct node *n)
{
	int rc = 0;

	for (int i = 0; i < n->nout; i++) {
		int r = flush_port(n, i);
		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

int node_emit(struct node *n, int port, const void *data, size_t len)
{
	struct node_output *o = &n->out[port];
	int rc;

	if (len >= EMIT_FLUSH && o->pending.len == 0)
		return stream_append(o->s, data, len); /* large chunk: no copy */
	rc = buf_append(&o->pending, data, len);
	if (rc == 0 && o->pending.len >= EMIT_FLUSH)
		rc = flush_port(n, port);
	return rc;
}

int node_emit_line(struct node *n, int port, const void *rec, size_t len)
{
	struct node_output *o = &n->out[port];
	int rc = buf_append(&o->pending, rec, len);

	if (rc == 0)
		rc = buf_append(&o->pending, "\n", 1);
	if (rc == 0 && o->pending.len >= EMIT_FLUSH)
		rc = flush_port(n, port);
	return rc;
}

/* ---- logging ---------------------------------------------------------- */

void node_log(struct node *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(n->job->log, LOG_INFO, n->name, fmt, ap);
	va_end(ap);
}

void node_warn(struct node *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(n->job->log, LOG_WARN, n->name, fmt, ap);
	va_end(ap);
}

int node_fail(struct node *n, const char *fmt, ...)
{
	va_list ap;
	char *why = NULL, *none = NULL;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		why = NULL;
	va_end(ap);
	if (atomic_compare_exchange_strong(&n->why, &none, why))
		why = NULL;
	if (!n->stopping) {
		const char *said = atomic_load(&n->why);

		log_msg(n->job->log, LOG_ERROR, n->name, "%s", said ? said : "failed");
	}
	free(why);
	return -EIO;
}

int node_output_failed(struct node *n, int rc)
{
	if (rc == -EFBIG)
		return node_fail(n, "output refused: the job would hold more than %llu bytes "
				 "(-o max_job_bytes)", (unsigned long long)n->job->quota.limit);
	return node_fail(n, "cannot write output: %s", strerror(-rc));
}

void node_wake(struct node *n)
{
	pool_schedule(&n->task);
}

const char *node_job_name(struct node *n)
{
	return n->job->name;
}

const char *node_job_dir(struct node *n)
{
	return n->job->dir;
}

json_t *node_job_options(struct node *n)
{
	return n->job->spec ? n->job->spec->options : NULL;
}

struct env *node_env(struct node *n)
{
	return n->job->env;
}

/* ---- activation --------------------------------------------------------- */

static void node_finish(struct node *n, int rc)
{
	uint64_t rin = 0, bin = 0, rout = 0, bout = 0;
	bool stopped = n->stopping, ok;

	/* An input that ended with an error ended the job, not the data. */
	for (int i = 0; i < n->nin; i++)
		stopped = stopped || stream_error(n->in[i].s) != 0;
	ok = rc == NODE_DONE && !n->why && !stopped;

	if (n->op_started && n->op->stop)
		n->op->stop(n);
	n->op_started = false;
	if (ok) {
		if (node_flush(n) < 0 && !n->stopping)
			ok = false;
		for (int i = 0; i < n->nout; i++)
			stream_end(n->out[i].s);
	}
	for (int i = 0; i < n->nin; i++) {
		stream_unsubscribe(n->in[i].s, &n->task);
		rin += n->in[i].records;
		bin += n->in[i].bytes;
		free(n->in[i].lr.buf);
		memset(&n->in[i].lr, 0, sizeof(n->in[i].lr));
	}
	for (int i = 0; i < n->nout; i++) {
		rout += atomic_load(&n->out[i].s->records);
		bout += stream_size(n->out[i].s);
		buf_free(&n->out[i].pending);
	}
	n->ended_ms = now_ms();
	n->phase = ok || (stopped && !n->why) ? NODE_PHASE_DONE : NODE_PHASE_FAILED;
	if (ok || !stopped)
		node_log(n, "ended: in %llu records %llu bytes, out %llu records %llu bytes",
			 (unsigned long long)rin, (unsigned long long)bin,
			 (unsigned long long)rout, (unsigned long long)bout);
	if (!ok && !n->why && !stopped)
		n->why = strdup(rc < 0 ? strerror(-rc) : "failed");
	job_node_finished(n->job, n, n->why ? -EIO : 0, n->why);
}

static bool node_activate(struct task *t)
{
	struct node *n = (struct node *)t;
	int rc;

	if (n->phase == NODE_PHASE_DONE || n->phase == NODE_PHASE_FAILED)
		return false;
	if (n->phase == NODE_PHASE_WAITING) {
		if (n->stopping) {
			node_finish(n, NODE_DONE);
			return false;
		}
		n->phase = NODE_PHASE_RUNNING;
		n->started_ms = now_ms();
		node_log(n, "started");
		n->op_started = true;
		rc = n->op->start ? n->op->start(n) : 0;
		if (rc < 0) {
			node_finish(n, rc);
			return false;
		}
	}
	rc = n->op->run(n);
	if (rc >= 0 && !n->stopping) {
		int frc = node_flush(n);

		if (frc < 0)
			rc = node_output_failed(n, frc);
	}
	if (rc == NODE_AGAIN)
		return true;
	if (rc == NODE_DONE || rc < 0) {
		node_finish(n, rc);
		return false;
	}
	return false;
}

int node_init(struct node *n, struct job *j, int index, const struct spec_node *sn,
	      struct stream **ins, struct stream **outs)
{
	memset(n, 0, sizeof(*n));
	task_init(&n->task, env_pool(j->env), node_activate);
	n->job = j;
	n->op = sn->op;
	n->name = sn->name;
	n->params = sn->params;
	n->index = index;
	n->nin = sn->nin;
	n->nout = sn->nout;
	n->in = calloc((size_t)(n->nin ? n->nin : 1), sizeof(*n->in));
	n->out = calloc((size_t)(n->nout ? n->nout : 1), sizeof(*n->out));
	n->state = n->op->state_size ? calloc(1, n->op->state_size) : NULL;
	if (!n->in || !n->out || (n->op->state_size && !n->state)) {
		node_release(n);
		return -ENOMEM;
	}
	for (int i = 0; i < n->nin; i++)
		n->in[i].s = ins[i];
	for (int i = 0; i < n->nout; i++)
		n->out[i].s = outs[i];
	for (int i = 0; i < n->nin; i++) {
		int rc = stream_subscribe(ins[i], &n->task);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void node_stop(struct node *n)
{
	n->stopping = 1;
	pool_schedule(&n->task);
}

void node_release(struct node *n)
{
	pool_quiesce(&n->task);
	if (n->op_started && n->op->stop)
		n->op->stop(n);
	n->op_started = false;
	for (int i = 0; n->in && i < n->nin; i++) {
		if (n->in[i].s)
			stream_unsubscribe(n->in[i].s, &n->task);
		free(n->in[i].lr.buf);
	}
	for (int i = 0; n->out && i < n->nout; i++)
		buf_free(&n->out[i].pending);
	free(n->in);
	free(n->out);
	free(n->state);
	free(n->why);
	n->in = NULL;
	n->out = NULL;
	n->state = NULL;
	n->why = NULL;
}
