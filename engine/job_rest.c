/* job_rest.c - a job at rest. A job that has stopped in a final state and
 * that nobody uses is compact: it keeps its record (name, owner, state,
 * times, error, log) and its shape (the names the tree lists, the sizes of
 * its streams), and drops its spec, graph and texts, which the store holds.
 * A finished job then holds about a kilobyte of heap (struct job, name,
 * log, shape) instead of its whole graph.
 *
 * Whoever needs the graph pins the job (job_pin). A compact job's graph is
 * then rebuilt from the store - resolved.json or spec.json, options.json,
 * status.json and the stream files - as it was when the job stopped: the
 * same streams, ended, failing with EIO at their end unless the job
 * succeeded, with the record counts of its final status. When the last pin
 * goes, the env's reaper thread compacts it again.
 *
 * Concurrency: the graph of a job that has stopped is put in or taken out
 * only under the job lock, and taken out only while nobody holds a pin. A
 * rebuild reads the store holding no lock; two threads may rebuild at once:
 * the first to put its graph in wins, the other frees its own. Compaction
 * frees the old graph after dropping the lock, on the reaper thread, which
 * may wait for the nodes' last activations (a pool thread could not). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "job.h"
#include "log.h"
#include "node.h"

struct job_shape *job_shape_of(struct job *j)
{
	return atomic_load_explicit(&j->shape, memory_order_acquire);
}

bool job_started(struct job *j)
{
	return job_shape_of(j) != NULL;
}

/* ---- the shape ------------------------------------------------------------ */

/* One block: the struct, the sizes, the name pointers, the indexes, then
 * `names` bytes for output tags and stream names (returned in *names).
 * Input tags are apart: the inputs of a graph borrow them. */
static struct job_shape *shape_alloc(int ni, int no, int ns, size_t names, char **text)
{
	size_t sz = sizeof(struct job_shape) + (size_t)ns * sizeof(uint64_t) +
		    (size_t)(ni + no + ns) * sizeof(char *) + (size_t)(ni + no) * sizeof(int) + names;
	struct job_shape *sh = calloc(1, sz);
	char *p;

	if (!sh)
		return NULL;
	p = (char *)(sh + 1);
	sh->ninputs = ni;
	sh->noutputs = no;
	sh->nstreams = ns;
	sh->size = (uint64_t *)p;
	p += (size_t)ns * sizeof(uint64_t);
	sh->input = (char **)p;
	p += (size_t)ni * sizeof(char *);
	sh->output = (const char **)p;
	p += (size_t)no * sizeof(char *);
	sh->stream = (const char **)p;
	p += (size_t)ns * sizeof(char *);
	sh->input_stream = (int *)p;
	p += (size_t)ni * sizeof(int);
	sh->output_stream = (int *)p;
	p += (size_t)no * sizeof(int);
	*text = p;
	return sh;
}

void job_shape_free(struct job_shape *sh)
{
	if (!sh)
		return;
	for (int i = 0; i < sh->ninputs; i++)
		free(sh->input[i]);
	free(sh);
}

static const char *put_name(char **text, const char *name)
{
	const char *at = *text;

	*text = stpcpy(*text, name) + 1;
	return at;
}

struct job_shape *job_shape_from_parts(const struct job_parts *p)
{
	size_t names = 0;
	struct job_shape *sh;
	char *text;

	for (int i = 0; i < p->spec->noutputs; i++)
		names += strlen(p->spec->outputs[i].tag) + 1;
	for (int i = 0; i < p->nstreams; i++)
		names += strlen(p->streams[i]->name) + 1;
	sh = shape_alloc(p->ninputs, p->spec->noutputs, p->nstreams, names, &text);
	if (!sh)
		return NULL;
	for (int i = 0; i < p->nstreams; i++) {
		sh->stream[i] = put_name(&text, p->streams[i]->name);
		sh->size[i] = stream_size(p->streams[i]);
	}
	for (int i = 0; i < p->spec->noutputs; i++) {
		sh->output[i] = put_name(&text, p->spec->outputs[i].tag);
		sh->output_stream[i] = p->output_stream[i];
	}
	for (int i = 0; i < p->ninputs; i++) {
		sh->input[i] = p->inputs[i]->tag; /* taken: the input borrows it now */
		sh->input_stream[i] = -1;
		for (int k = 0; k < p->nstreams; k++)
			if (p->streams[k] == p->inputs[i]->s)
				sh->input_stream[i] = k;
	}
	return sh;
}

/* Bytes in stream k's store file; false if status.json recorded more (a
 * cut store: the job is then loaded the long way, which says so). */
static bool size_ok(struct job *j, struct job_shape *sh, json_t *streams, int k,
		    const char *kind, const char *name, int port)
{
	json_t *bytes = json_object_get(json_object_get(streams, sh->stream[k]), "bytes");

	sh->size[k] = job_stream_file_size(j, kind, name, port);
	return !json_is_integer(bytes) || sh->size[k] >= (uint64_t)json_integer_value(bytes);
}

/* Streams in graph order: the inputs, then each node's ports, as
 * job_build_parts() opens them. */
struct job_shape *job_shape_from_spec(struct job *j, const struct spec *sp, json_t *status)
{
	json_t *streams = json_object_get(status, "streams");
	int ns = sp->ninputs, k = 0, first[sp->nnodes + 1];
	struct job_shape *sh;
	size_t names = 0;
	char name[600], *text;

	for (int i = 0; i < sp->noutputs; i++)
		names += strlen(sp->outputs[i].tag) + 1;
	for (int i = 0; i < sp->ninputs; i++)
		names += strlen(sp->inputs[i].tag) + 1;
	for (int i = 0; i < sp->nnodes; i++) {
		first[i] = ns;
		ns += sp->nodes[i].nout;
		for (int port = 0; port < sp->nodes[i].nout; port++) {
			spec_stream_name(sp, (struct stream_ref){.node = i, .index = port}, name,
					 sizeof(name));
			names += strlen(name) + 1;
		}
	}
	sh = shape_alloc(sp->ninputs, sp->noutputs, ns, names, &text);
	if (!sh)
		return NULL;
	for (int i = 0; i < sp->ninputs; i++, k++) {
		sh->stream[k] = put_name(&text, sp->inputs[i].tag);
		sh->input[i] = strdup(sp->inputs[i].tag);
		sh->input_stream[i] = k;
		if (!sh->input[i] || !size_ok(j, sh, streams, k, "in", sp->inputs[i].tag, -1))
			goto fail;
	}
	for (int i = 0; i < sp->nnodes; i++) {
		for (int port = 0; port < sp->nodes[i].nout; port++, k++) {
			spec_stream_name(sp, (struct stream_ref){.node = i, .index = port}, name,
					 sizeof(name));
			sh->stream[k] = put_name(&text, name);
			if (!size_ok(j, sh, streams, k, "node", sp->nodes[i].name, port))
				goto fail;
		}
	}
	for (int i = 0; i < sp->noutputs; i++) {
		struct stream_ref r = sp->outputs[i].from;

		sh->output[i] = put_name(&text, sp->outputs[i].tag);
		sh->output_stream[i] = r.node < 0 ? r.index : first[r.node] + r.index;
	}
	return sh;
fail:
	job_shape_free(sh);
	return NULL;
}

/* ---- what the tree reads ------------------------------------------------------ */

/* Input i of a job that has not started (job lock held): as it was shown
 * before the spec came, or nothing once the job ended new. */
static struct job_input *unstarted_input(struct job *j, int i)
{
	for (int k = 0; k < j->ninputs; k++) {
		if (j->state != JOB_NEW && !j->inputs[k]->declared)
			continue;
		if (i-- == 0)
			return j->inputs[k];
	}
	return NULL;
}

const char *job_list_name(struct job *j, enum job_list which, int i)
{
	struct job_shape *sh = job_shape_of(j);
	struct job_input *in;
	const char *name = NULL;

	if (i < 0)
		return NULL;
	if (sh) {
		if (which == JOB_INPUTS)
			return i < sh->ninputs ? sh->input[i] : NULL;
		if (which == JOB_OUTPUTS)
			return i < sh->noutputs ? sh->output[i] : NULL;
		return i < sh->nstreams ? sh->stream[i] : NULL;
	}
	if (which != JOB_INPUTS)
		return NULL;
	/* The tag outlives the lock: the job frees it only with itself, or,
	 * once started, hands it to its shape. */
	pthread_mutex_lock(&j->lock);
	in = unstarted_input(j, i);
	if (in)
		name = in->tag;
	pthread_mutex_unlock(&j->lock);
	return name;
}

const char *job_input_name(struct job *j, int i)
{
	return job_list_name(j, JOB_INPUTS, i);
}

const char *job_output_name(struct job *j, int i)
{
	return job_list_name(j, JOB_OUTPUTS, i);
}

const char *job_stream_name(struct job *j, int i)
{
	return job_list_name(j, JOB_STREAMS, i);
}

static int stream_index(const struct job_shape *sh, enum job_list which, int i)
{
	if (which == JOB_INPUTS)
		return i >= 0 && i < sh->ninputs ? sh->input_stream[i] : -1;
	if (which == JOB_OUTPUTS)
		return i >= 0 && i < sh->noutputs ? sh->output_stream[i] : -1;
	return i >= 0 && i < sh->nstreams ? i : -1;
}

/* The stream object (job lock held, graph present). */
static struct stream *list_stream(struct job *j, struct job_shape *sh, enum job_list which, int i)
{
	int k;

	if (!sh) {
		struct job_input *in = which == JOB_INPUTS ? unstarted_input(j, i) : NULL;
		return in ? in->s : NULL;
	}
	k = stream_index(sh, which, i);
	return k >= 0 && k < j->nstreams ? j->streams[k] : NULL;
}

bool job_list_size(struct job *j, enum job_list which, int i, uint64_t *size)
{
	struct job_shape *sh = job_shape_of(j);
	struct stream *s;
	bool ok = false;

	pthread_mutex_lock(&j->lock);
	if (sh && j->compact) {
		int k = stream_index(sh, which, i);

		if (k >= 0) {
			*size = sh->size[k];
			ok = true;
		}
	} else if ((s = list_stream(j, sh, which, i)) != NULL) {
		*size = stream_size(s);
		ok = true;
	}
	pthread_mutex_unlock(&j->lock);
	return ok;
}

int job_list_pin(struct job *j, enum job_list which, int i, struct stream **out)
{
	struct stream *s;
	int rc = job_pin(j);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&j->lock);
	s = list_stream(j, job_shape_of(j), which, i);
	pthread_mutex_unlock(&j->lock);
	if (!s) {
		job_unpin(j);
		return -ENOENT;
	}
	*out = s;
	return 0;
}

/* ---- rebuilding ------------------------------------------------------------------ */

/* A part of the final status ("nodes", "streams"), or NULL. */
static json_t *final_status_part(struct job *j, const char *key)
{
	size_t len;
	char *t = job_status_json(j, &len);
	json_t *st = t ? json_loadb(t, len, 0, NULL) : NULL, *part;

	free(t);
	part = json_incref(json_object_get(st, key));
	json_decref(st);
	return part;
}

json_t *job_final_node_states(struct job *j)
{
	return final_status_part(j, "nodes");
}

static bool same_shape(const struct job_shape *sh, const struct job_parts *p)
{
	if (p->nstreams != sh->nstreams || p->ninputs != sh->ninputs ||
	    p->spec->noutputs != sh->noutputs)
		return false;
	for (int k = 0; k < sh->nstreams; k++)
		if (strcmp(p->streams[k]->name, sh->stream[k]) != 0)
			return false;
	for (int i = 0; i < sh->noutputs; i++)
		if (p->output_stream[i] != sh->output_stream[i])
			return false;
	for (int i = 0; i < sh->ninputs; i++)
		if (sh->input_stream[i] < 0 || p->inputs[i]->s != p->streams[sh->input_stream[i]])
			return false;
	return true;
}

/* Builds, without any lock, the graph the job had when it stopped. */
static int rebuild(struct job *j, struct job_parts *p)
{
	struct job_shape *sh = job_shape_of(j);
	enum job_state state = atomic_load(&j->state);
	struct spec *sp = NULL;
	struct errs errs;
	json_t *streams;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = job_reparse(j, &sp, &errs);
	if (rc < 0) {
		job_log(j, LOG_ERROR, "store: the job's spec can't be read back: %s",
			errs.n ? errs.msg[0] : strerror(-rc));
		errs_free(&errs);
		return -EIO;
	}
	errs_free(&errs);
	p->spec = sp;
	/* Inputs in the order the tree lists them, their tags the shape's. */
	for (int i = 0; i < sh->ninputs && rc == 0; i++)
		if (!job_parts_add_input(j, p, sh->input[i], true, false, &rc))
			break;
	if (rc == 0)
		rc = job_build_parts(j, p, sp, false, false);
	if (rc == 0 && !same_shape(sh, p)) {
		job_log(j, LOG_ERROR, "store: the stored spec no longer matches the job's streams");
		rc = -EIO;
	} else if (rc < 0) {
		job_log(j, LOG_ERROR, "store: the job's streams can't be opened: %s", strerror(-rc));
		rc = -EIO;
	}
	if (rc < 0) {
		for (int i = sh->ninputs; i < p->ninputs; i++)
			free(p->inputs[i]->tag); /* the spec's own, not the shape's */
		job_parts_free(j, p);
		return rc;
	}
	streams = final_status_part(j, "streams");
	for (int k = 0; k < p->nstreams; k++) {
		struct stream *s = p->streams[k];
		json_t *rec = json_object_get(json_object_get(streams, s->name), "records");

		atomic_store(&s->ended, true);
		atomic_store(&s->error, state == JOB_SUCCEEDED ? 0 : EIO);
		if (json_is_integer(rec))
			atomic_store(&s->records, (uint64_t)json_integer_value(rec));
		stream_set_close_idle(s, true);
	}
	json_decref(streams);
	return 0;
}

int job_pin(struct job *j)
{
	struct job_parts p;
	bool built;
	int rc;

	pthread_mutex_lock(&j->lock);
	if (!j->compact) {
		j->pins++;
		pthread_mutex_unlock(&j->lock);
		return 0;
	}
	rc = j->removed ? -ENOENT : 0;
	pthread_mutex_unlock(&j->lock);
	if (rc < 0)
		return rc;
	rc = rebuild(j, &p);
	built = rc == 0;
	pthread_mutex_lock(&j->lock);
	if (!j->compact) {
		/* Another thread put its graph in first: share it. job_remove's
		 * own pin may be that thread, and this rebuild may have failed
		 * on the store it took away; a removed job stays whole. */
		j->pins++;
		rc = 0;
	} else if (j->removed) {
		rc = -ENOENT;
	} else if (built) {
		job_put_parts(j, &p);
		job_quota_recount(j);
		j->compact = false;
		j->pins++;
		built = false; /* the job's now */
	}
	pthread_mutex_unlock(&j->lock);
	if (built)
		job_parts_free(j, &p);
	return rc;
}

void job_unpin(struct job *j)
{
	pthread_mutex_lock(&j->lock);
	j->pins--;
	pthread_mutex_unlock(&j->lock);
	job_rest_check(j);
}

/* ---- compacting ------------------------------------------------------------------- */

/* Job lock held. A job handed bare graph pointers (keep), or run by an
 * invoke node of another job (parent, which holds its streams), never
 * rests; neither does a removed one, whose store is gone. */
static bool at_rest(struct job *j)
{
	return j->stopped && job_state_final(j->state) && !j->compact && j->pins == 0 &&
	       !j->keep && !j->parent && !j->removed && !j->restarting && job_shape_of(j) &&
	       (j->final_status || j->status_stored) && !j->status_writing;
}

void job_rest_check(struct job *j)
{
	bool queue;

	pthread_mutex_lock(&j->lock);
	queue = at_rest(j) && !j->compact_queued;
	if (queue)
		j->compact_queued = true;
	pthread_mutex_unlock(&j->lock);
	if (queue && !env_compact_later(j->env, j)) {
		pthread_mutex_lock(&j->lock);
		j->compact_queued = false;
		pthread_mutex_unlock(&j->lock);
	}
}

/* Sizes of the generated files stay valid while the job is stopped; those
 * of an earlier run (restart bumps `runs`) are not kept. */
static void remember_size(struct job *j, int64_t *field, size_t len, unsigned runs)
{
	pthread_mutex_lock(&j->lock);
	if (j->runs == runs && j->stopped)
		*field = (int64_t)len;
	pthread_mutex_unlock(&j->lock);
}

/* graph.dot and options.json of a stopped job, made once to know their
 * sizes, with the graph held across both: one rebuild, not two. */
static void remember_sizes(struct job *j)
{
	bool graph, opts, pinned = job_pin(j) == 0;
	unsigned runs;
	size_t len;
	char *t;

	pthread_mutex_lock(&j->lock);
	runs = j->runs;
	graph = j->graph_len < 0;
	opts = j->opts_view_len < 0;
	pthread_mutex_unlock(&j->lock);
	if (graph) {
		t = job_graph_dot(j, &len);
		remember_size(j, &j->graph_len, t ? len : 0, runs);
		free(t);
	}
	if (opts) {
		t = job_options_text(j, &len);
		remember_size(j, &j->opts_view_len, t ? len : 0, runs);
		free(t);
	}
	if (pinned)
		job_unpin(j);
}

void job_compact(struct job *j)
{
	struct job_parts p;
	char *texts[3];
	bool go, rest;

	/* compact_queued stays set meanwhile: the pins this takes don't queue it again. */
	pthread_mutex_lock(&j->lock);
	go = at_rest(j);
	pthread_mutex_unlock(&j->lock);
	if (go)
		remember_sizes(j); /* so that stat never rebuilds it */
	pthread_mutex_lock(&j->lock);
	j->compact_queued = false;
	rest = at_rest(j);
	if (!go || !rest) {
		pthread_mutex_unlock(&j->lock);
		/* Pinned at the first look and unpinned since: that unpin found
		 * the job queued and left it to this call, so queue it anew. */
		if (rest)
			job_rest_check(j);
		return;
	}
	for (int k = 0; k < j->nstreams && k < job_shape_of(j)->nstreams; k++)
		job_shape_of(j)->size[k] = stream_size(j->streams[k]);
	job_take_parts(j, &p);
	texts[0] = j->spec_text;
	texts[1] = j->opts_text;
	texts[2] = j->final_status;
	j->spec_text = j->opts_text = j->final_status = NULL;
	j->status_stored = true;
	j->compact = true;
	atomic_store(&j->quota.used, 0);
	pthread_mutex_unlock(&j->lock);
	if (p.nnodes)
		env_wait_end_wakes(j->env);
	job_parts_free(j, &p);
	for (int i = 0; i < 3; i++)
		free(texts[i]);
}

/* ---- sizes of the generated files ------------------------------------------------ */

size_t job_text_size(struct job *j, enum job_text t)
{
	int64_t known = -1, *cache = NULL;
	unsigned runs;
	size_t len = 0;
	char *text;

	pthread_mutex_lock(&j->lock);
	runs = j->runs;
	switch (t) {
	case JOB_TEXT_STATUS:
		if (j->stopped && (j->final_status || j->status_stored))
			known = (int64_t)j->final_status_len;
		break;
	case JOB_TEXT_GRAPH:
		cache = j->stopped ? &j->graph_len : NULL;
		known = cache ? *cache : -1;
		break;
	case JOB_TEXT_SPEC:
		known = j->spec_text || (job_shape_of(j) && j->spec_file) ? (int64_t)j->spec_len : 0;
		break;
	case JOB_TEXT_OPTIONS:
		if (!job_shape_of(j))
			known = j->opts_text ? (int64_t)j->opts_len : 0;
		cache = j->stopped && job_shape_of(j) ? &j->opts_view_len : NULL;
		if (cache)
			known = *cache;
		break;
	}
	pthread_mutex_unlock(&j->lock);
	if (known < 0 && cache) {
		remember_sizes(j);
		pthread_mutex_lock(&j->lock);
		if (j->runs == runs)
			known = *cache;
		pthread_mutex_unlock(&j->lock);
	}
	if (known >= 0)
		return (size_t)known;
	switch (t) {
	case JOB_TEXT_STATUS: text = job_status_json(j, &len); break;
	case JOB_TEXT_GRAPH: text = job_graph_dot(j, &len); break;
	case JOB_TEXT_SPEC: text = job_spec_text(j, &len); break;
	default: text = job_options_text(j, &len); break;
	}
	if (!text)
		len = 0;
	free(text);
	return len;
}
