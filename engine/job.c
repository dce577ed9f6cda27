/* job.c - the life of a LiveJob (see job.h): creation, spec acceptance and
 * graph building, inputs, the end of a job, cancel/restart, and loading a
 * job back from the store at mount time. Snapshots (status, graph.dot) are
 * in job_view.c; a job at rest (compaction and rebuilding) in job_rest.c. */
#include "job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "env.h"
#include "log.h"
#include "node.h"
#include "schema.h"
#include "store.h"

static void job_check_done(struct job *j);
static void job_end(struct job *j, enum job_state to, const char *why);
static char *get_text(struct job *j, const char *file, size_t *len);

const char *job_state_name(enum job_state s)
{
	static const char *const names[] = {
		"new", "running", "succeeded", "failed", "cancelled", "interrupted",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

void job_log(struct job *j, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(j->log, (enum log_level)level, "job", fmt, ap);
	va_end(ap);
}

/* ---- allocation ---------------------------------------------------------- */

static struct job *job_alloc(struct env *e, const char *name, uid_t uid)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->name = strdup(name);
	if (!j->name) {
		free(j);
		return NULL;
	}
	j->env = e;
	j->uid = uid;
	j->quota.limit = e->cfg.max_job_bytes;
	j->graph_len = j->opts_view_len = -1;
	atomic_store(&j->refs, 1);
	pthread_mutex_init(&j->lock, NULL);
	j->end_waiters.next = j->end_waiters.prev = &j->end_waiters;
	return j;
}

/* Opens the job's log and store directory. */
static int job_attach_store(struct job *j, bool create)
{
	struct store *st = j->env->store;
	char *path;
	int rc;

	if (create && (rc = st->ops->job_create(st, j->name)) < 0)
		return rc;
	j->dir = store_path(st, j->name, NULL);
	path = store_path(st, j->name, "log");
	if (!j->dir || !path) {
		free(path);
		return -ENOMEM;
	}
	rc = log_open(path, &j->log);
	free(path);
	if (rc == 0) {
		j->log->mirror = j->env->log;
		j->log->mirror_who = j->name;
	}
	return rc;
}

void job_take_parts(struct job *j, struct job_parts *p)
{
	p->spec = j->spec;
	p->ninputs = j->ninputs;
	p->inputs = j->inputs;
	p->nstreams = j->nstreams;
	p->streams = j->streams;
	p->output_stream = j->output_stream;
	p->node_stream = j->node_stream;
	p->nnodes = j->nnodes;
	p->nodes = j->nodes;
	j->spec = NULL;
	j->ninputs = j->nstreams = j->nnodes = 0;
	j->inputs = NULL;
	j->streams = NULL;
	j->output_stream = j->node_stream = NULL;
	j->nodes = NULL;
}

void job_put_parts(struct job *j, const struct job_parts *p)
{
	j->spec = p->spec;
	j->ninputs = p->ninputs;
	j->inputs = p->inputs;
	j->nstreams = p->nstreams;
	j->streams = p->streams;
	j->output_stream = p->output_stream;
	j->node_stream = p->node_stream;
	j->nnodes = p->nnodes;
	j->nodes = p->nodes;
}

/* An activation of one node may read every node (the status its job's
 * end writes): none is released before all have stopped running. */
static void release_nodes(struct node *nodes, int n)
{
	for (int i = 0; i < n; i++)
		pool_quiesce(&nodes[i].task);
	for (int i = 0; i < n; i++)
		node_release(&nodes[i]);
}

/* Nodes and the streams only the graph owns; inputs stay. */
static void free_graph(struct job_parts *p)
{
	release_nodes(p->nodes, p->nnodes);
	free(p->nodes);
	p->nodes = NULL;
	p->nnodes = 0;
	/* Input streams belong to p->inputs; the others only to the graph. */
	for (int i = 0; i < p->nstreams; i++) {
		bool is_input = false;
		for (int k = 0; k < p->ninputs; k++)
			is_input |= p->inputs[k]->s == p->streams[i];
		if (!is_input)
			stream_free(p->streams[i]);
	}
	free(p->streams);
	free(p->output_stream);
	free(p->node_stream);
	p->streams = NULL;
	p->output_stream = p->node_stream = NULL;
	p->nstreams = 0;
}

/* Once a job has started, its input tags belong to its shape. */
void job_parts_free(struct job *j, struct job_parts *p)
{
	bool borrowed = job_shape_of(j) != NULL;

	free_graph(p);
	for (int i = 0; i < p->ninputs; i++) {
		stream_free(p->inputs[i]->s);
		if (!borrowed)
			free(p->inputs[i]->tag);
		buf_free(&p->inputs[i]->partial);
		pthread_mutex_destroy(&p->inputs[i]->wlock);
		free(p->inputs[i]);
	}
	free(p->inputs);
	spec_free(p->spec);
	memset(p, 0, sizeof(*p));
}

static void job_free(struct job *j)
{
	struct job_parts p;

	/* A removed job goes when its last reference does, which may be while
	 * its nodes' last activations are still on their way out: they must
	 * end before anything they may read is taken away. */
	release_nodes(j->nodes, j->nnodes);
	job_take_parts(j, &p);
	job_parts_free(j, &p);
	job_shape_free(atomic_load(&j->shape));
	log_close(j->log);
	pthread_mutex_destroy(&j->lock);
	free(j->error);
	free(j->spec_text);
	free(j->opts_text);
	free(j->final_status);
	free(j->dir);
	free(j->name);
	free(j);
}

void job_get(struct job *j)
{
	atomic_fetch_add(&j->refs, 1);
}

/* For code that runs on a job without holding a reference of its own (a
 * node's activation): a job whose last reference went is being freed. */
bool job_tryget(struct job *j)
{
	int n = atomic_load(&j->refs);

	while (n > 0)
		if (atomic_compare_exchange_weak(&j->refs, &n, n + 1))
			return true;
	return false;
}

/* The last reference may be dropped inside one of the job's own node
 * activations (a parked reader woken by its output): freeing there would
 * wait for that very activation. The env's reaper frees it instead. */
void job_put(struct job *j)
{
	if (j && atomic_fetch_sub(&j->refs, 1) == 1) {
		if (!env_reap(j->env, j))
			job_free(j);
	}
}

void job_free_now(struct job *j)
{
	job_free(j);
}

/* ---- persistence ---------------------------------------------------------- */

/* status.json follows the job's state: one thread at a time writes it (the
 * store's files are not written by two at once), and a write asked for
 * meanwhile is done by that thread when it is through, so the last state
 * is what stays, never an older one that was slower to write. A job whose
 * status the store refused keeps everything in memory (it never rests). */
static void job_save_status_with(struct job *j, const struct store_file *with, int nwith)
{
	struct store *st = j->env->store;

	pthread_mutex_lock(&j->lock);
	if (j->status_writing) {
		/* Not ours to write: the files go alone, the status after. */
		j->status_again = true;
		pthread_mutex_unlock(&j->lock);
		if (nwith > 0 && st->ops->put_many(st, j->name, with, nwith) < 0) {
			pthread_mutex_lock(&j->lock);
			j->keep = true;
			pthread_mutex_unlock(&j->lock);
		}
		return;
	}
	j->status_writing = true;
	do {
		struct store_file files[nwith + 1];
		bool removed = j->removed;
		size_t len;
		char *text;
		int rc = 0;

		j->status_again = false;
		pthread_mutex_unlock(&j->lock);
		text = job_status_json(j, &len);
		for (int i = 0; i < nwith; i++)
			files[i] = with[i];
		files[nwith] = (struct store_file){"status.json", text, len};
		if (!removed && (text || nwith > 0))
			rc = st->ops->put_many(st, j->name, files, nwith + (text != NULL));
		free(text);
		nwith = 0;
		pthread_mutex_lock(&j->lock);
		if (rc < 0 || !text)
			j->keep = true;
	} while (j->status_again);
	j->status_writing = false;
	pthread_mutex_unlock(&j->lock);
	job_rest_check(j); /* a job rests only once the store has its last status */
}

static void job_save_status(struct job *j)
{
	job_save_status_with(j, NULL, 0);
}

/* spec.json, options.json and resolved.json are what a compact job is
 * rebuilt from: a job whose store refused one keeps its graph in memory. */
static void job_save_text(struct job *j, const char *file, const char *text, size_t len)
{
	struct store *st = j->env->store;

	if (text && st->ops->put(st, j->name, file, text, len) < 0) {
		pthread_mutex_lock(&j->lock);
		j->keep = true;
		pthread_mutex_unlock(&j->lock);
	}
}

int job_create(struct env *e, const char *name, uid_t uid, struct job **out)
{
	struct job *j;
	int rc;

	if (!name_ok(name))
		return -EINVAL;
	j = job_alloc(e, name, uid);
	if (!j)
		return -ENOMEM;
	j->created_ms = now_ms();
	rc = env_job_add(e, j);
	if (rc < 0) {
		if (rc == -EDQUOT)
			log_msg(e->log, LOG_ERROR, name, "mkdir: refused: the mount holds its "
				"maximum of %d jobs (-o max_jobs)", e->cfg.max_jobs);
		job_put(j);
		return rc;
	}
	rc = job_attach_store(j, true);
	if (rc < 0) {
		env_job_del(e, j);
		job_put(j);
		return rc;
	}
	job_log(j, LOG_INFO, "created");
	log_msg(e->log, LOG_INFO, j->name, "created by uid %u", (unsigned)uid);
	/* No status.json yet: a job directory without one and without a spec
	 * loads as new (job_load), and the first state worth keeping - an
	 * input closed early, a spec, the unmount - writes it. */
	*out = j;
	return 0;
}

/* ---- inputs --------------------------------------------------------------- */

static struct job_input *find_in(struct job_input **v, int n, const char *tag)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i]->tag, tag) == 0)
			return v[i];
	return NULL;
}

static struct job_input *find_input(struct job *j, const char *tag)
{
	return find_in(j->inputs, j->ninputs, tag);
}

/* The store file of a stream: "streams/in-TAG" or "streams/node-NAME.PORT".
 * Names may be 255 bytes, more than a file name may hold with the prefix:
 * a long name keeps its first 200 bytes and gains a hash of the whole. */
static char *stream_file(const char *kind, const char *name, int port)
{
	char *p = NULL, shortname[240];
	const char *use = name;
	size_t len = strlen(name);
	int n;

	if (len > 200) {
		uint64_t h = 1469598103934665603ull;

		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
		snprintf(shortname, sizeof(shortname), "%.200s~%016llx", name, (unsigned long long)h);
		use = shortname;
	}
	n = port < 0 ? asprintf(&p, "streams/%s-%s", kind, use)
		     : asprintf(&p, "streams/%s-%s.%d", kind, use, port);
	return n < 0 ? NULL : p;
}

static char *stream_path(struct job *j, const char *kind, const char *name, int port)
{
	char *file = stream_file(kind, name, port);
	char *path = file ? store_path(j->env->store, j->name, file) : NULL;

	free(file);
	return path;
}

uint64_t job_stream_file_size(struct job *j, const char *kind, const char *name, int port)
{
	char *path = stream_path(j, kind, name, port);
	struct stat st;
	uint64_t size = 0;

	if (path && stat(path, &st) == 0)
		size = (uint64_t)st.st_size;
	free(path);
	return size;
}

/* The job's quota is counted when a graph is put in place (job lock). */
static int open_store_stream(struct job *j, const char *display, const char *kind,
			     const char *name, int port, bool create, struct stream **out)
{
	char *path = stream_path(j, kind, name, port);
	int rc = path ? stream_open(display, path, create, out) : -ENOMEM;

	if (rc == 0)
		(*out)->quota = &j->quota;
	free(path);
	return rc;
}

/* Bytes of all the job's streams, after its graph changed (job lock). */
void job_quota_recount(struct job *j)
{
	uint64_t used = 0;

	for (int i = 0; i < j->nstreams; i++)
		used += stream_size(j->streams[i]);
	for (int i = 0; i < j->ninputs; i++)
		if (!j->inputs[i]->declared || !j->spec)
			used += stream_size(j->inputs[i]->s);
	atomic_store(&j->quota.used, used);
}

/* Adds an input entry to the table (*v, *n), its tag copied, or borrowed
 * from the job's shape. NULL with *err set on failure. Entries are
 * allocated one by one: a writer keeps its entry while the table grows. */
static struct job_input *add_input_to(struct job *j, struct job_input ***v, int *n,
				      const char *tag, bool borrow, bool create, int *err)
{
	struct job_input **nv, *in;
	int rc;

	*err = -ENOMEM;
	nv = realloc(*v, sizeof(*nv) * (size_t)(*n + 1));
	if (!nv)
		return NULL;
	*v = nv;
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->tag = borrow ? (char *)tag : strdup(tag);
	if (!in->tag) {
		free(in);
		return NULL;
	}
	rc = open_store_stream(j, tag, "in", tag, -1, create, &in->s);
	if (rc < 0) {
		if (!borrow)
			free(in->tag);
		free(in);
		*err = rc;
		return NULL;
	}
	pthread_mutex_init(&in->wlock, NULL);
	nv[(*n)++] = in;
	*err = 0;
	return in;
}

struct job_input *job_parts_add_input(struct job *j, struct job_parts *p, const char *tag,
				      bool borrow, bool create, int *err)
{
	return add_input_to(j, &p->inputs, &p->ninputs, tag, borrow, create, err);
}

/* An input of a new job (job lock held). */
static struct job_input *add_input_err(struct job *j, const char *tag, bool create, int *err)
{
	struct job_input *in = add_input_to(j, &j->inputs, &j->ninputs, tag, false, create, err);

	if (in)
		atomic_fetch_add(&j->quota.used, stream_size(in->s));
	return in;
}

static struct job_input *add_input(struct job *j, const char *tag, bool create)
{
	int err;

	return add_input_err(j, tag, create, &err);
}

int job_input_open(struct job *j, const char *tag, bool create, struct job_input **out)
{
	struct job_input *in;
	int rc = 0;

	if (!tag) {
		/* An input the tree showed and no longer lists (its job, new
		 * then, was cancelled): over, as any input of an ended job. */
		pthread_mutex_lock(&j->lock);
		rc = job_state_final(j->state) ? -EPIPE : -ENOENT;
		pthread_mutex_unlock(&j->lock);
		return rc;
	}
	if (!name_ok(tag))
		return -EINVAL;
	pthread_mutex_lock(&j->lock);
	in = find_input(j, tag);
	if (in && !in->declared && j->state != JOB_NEW)
		in = NULL;
	if (!in) {
		if (j->state != JOB_NEW) {
			rc = job_state_final(j->state) ? -EPIPE : -EINVAL;
			if (rc == -EINVAL)
				job_log(j, LOG_ERROR, "input/%s: the spec declares no input \"%s\"",
					tag, tag);
		} else if (!create) {
			rc = -ENOENT;
		} else {
			in = add_input_err(j, tag, true, &rc);
			if (in)
				j->input_dir = true;
		}
	}
	if (rc == 0 && (stream_ended(in->s) || job_state_final(j->state)))
		rc = -EPIPE;
	if (rc == 0) {
		/* A writer holds the input until it closes it: a pin (the job
		 * is new or running here, so never compact). */
		in->s->writers++;
		j->pins++;
		*out = in;
	}
	pthread_mutex_unlock(&j->lock);
	return rc;
}

/* Checks complete NDJSON lines in data[0..len); returns the number of bytes
 * that are good whole lines, and on a bad line writes why. *lines counts
 * good lines. */
static size_t check_json_lines(struct job_input *in, const char *data, size_t len,
			       uint64_t *lines, char *why, size_t cap)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		json_error_t jerr;
		json_t *v = json_loadb(data + pos, end - pos, JSON_DECODE_ANY, &jerr);
		char reason[256];

		if (!v) {
			snprintf(why, cap, "line %llu: not JSON: %s",
				 (unsigned long long)(*lines + 1), jerr.text);
			return pos;
		}
		if (in->schema && !schema_validate(in->schema, v, reason, sizeof(reason))) {
			json_decref(v);
			snprintf(why, cap, "line %llu: %s", (unsigned long long)(*lines + 1), reason);
			return pos;
		}
		json_decref(v);
		(*lines)++;
		pos = nl ? end + 1 : len;
	}
	return pos;
}

/* json input: appends the complete good lines of partial+data, keeps an
 * unfinished last line. Called with in->wlock held. */
static int write_json(struct job *j, struct job_input *in, const char *data, size_t len, bool last)
{
	struct buf *p = &in->partial;
	const char *all;
	size_t total, whole, good;
	char why[512] = "";
	int rc;

	if ((rc = buf_append(p, data, len)) < 0)
		return rc;
	all = p->p;
	total = p->len;
	whole = total;
	if (!last) {
		while (whole > 0 && all[whole - 1] != '\n')
			whole--;
	}
	good = check_json_lines(in, all, whole, &in->lines, why, sizeof(why));
	rc = good ? stream_append(in->s, all, good) : 0;
	if (rc == 0 && good < whole) {
		job_log(j, LOG_ERROR, "input/%s: %s", in->tag, why);
		rc = -EINVAL;
		total = whole = good; /* the bad line and the rest of this write are dropped */
		p->len = good;
	}
	memmove(p->p, all + whole, total - whole);
	p->len = total - whole;
	if (p->len == 0 && p->cap > 65536)
		buf_free(p);
	return rc;
}

/* The store refused an input's bytes (ENOSPC, EIO): the job can't have
 * its input whole any more, so it fails, saying why. */
static void input_store_failed(struct job *j, struct job_input *in, int rc)
{
	char why[512];

	snprintf(why, sizeof(why), "input/%s: the store refused a write: %s", in->tag,
		 strerror(-rc));
	if (j->state == JOB_RUNNING)
		job_end(j, JOB_FAILED, why);
	else
		job_log(j, LOG_ERROR, "%s", why);
}

int job_input_write(struct job *j, struct job_input *in, const char *data, size_t len)
{
	int rc;

	pthread_mutex_lock(&in->wlock);
	if (stream_ended(in->s))
		rc = -EPIPE;
	else if (in->format == FORMAT_JSON)
		rc = write_json(j, in, data, len, false);
	else
		rc = stream_append(in->s, data, len);
	pthread_mutex_unlock(&in->wlock);
	if (rc == -EFBIG)
		job_log(j, LOG_ERROR, "input/%s: write refused: the job would hold more than "
			"%llu bytes (-o max_job_bytes)", in->tag, (unsigned long long)j->quota.limit);
	else if (rc < 0 && rc != -EPIPE && rc != -EINVAL)
		input_store_failed(j, in, rc);
	return rc;
}

/* close() of a writer: when it is the only writer, its unfinished last
 * NDJSON line is final now, so a bad one fails this close (cp sees it);
 * then the data is made durable. */
int job_input_sync(struct job *j, struct job_input *in)
{
	int rc = 0;
	bool only;

	pthread_mutex_lock(&j->lock);
	only = in->s->writers == 1;
	pthread_mutex_unlock(&j->lock);
	pthread_mutex_lock(&in->wlock);
	if (only && in->format == FORMAT_JSON && in->partial.len && !stream_ended(in->s))
		rc = write_json(j, in, "", 0, true);
	pthread_mutex_unlock(&in->wlock);
	if (rc == 0)
		rc = stream_sync(in->s);
	return rc;
}

int job_input_close(struct job *j, struct job_input *in)
{
	int rc = 0;
	bool end;

	pthread_mutex_lock(&in->wlock);
	if (in->format == FORMAT_JSON && in->partial.len && !stream_ended(in->s))
		rc = write_json(j, in, "", 0, true);
	pthread_mutex_unlock(&in->wlock);
	pthread_mutex_lock(&j->lock);
	end = --in->s->writers == 0;
	pthread_mutex_unlock(&j->lock);
	if (end && !stream_ended(in->s)) {
		stream_end(in->s);
		if (j->state == JOB_NEW)
			job_save_status(j); /* remember the end across mounts */
		job_check_done(j);
	}
	job_unpin(j);
	return rc;
}

/* ---- building the graph ------------------------------------------------------ */

/* The output of a node that copies its only input (pass) is a view of
 * that input's store file: no byte is copied or stored twice. Found again
 * at a mount (the same file), so that a restart never truncates the input
 * through it. Where the store can't share (no hard links, an output of an
 * older run), the node copies as usual. */
static void share_views(struct job_parts *p, struct spec *sp, bool create)
{
	for (int i = 0; i < sp->nnodes; i++) {
		struct spec_node *sn = &sp->nodes[i];
		struct stream_ref r;

		if (!sn->op->output_is_input || sn->nin != 1 || sn->nout < 1)
			continue;
		r = sn->in[0];
		stream_share(p->streams[p->node_stream[i]],
			     p->streams[r.node < 0 ? r.index : p->node_stream[r.node] + r.index], create);
	}
}

int job_build_parts(struct job *j, struct job_parts *p, struct spec *sp, bool with_nodes,
		    bool create)
{
	int total = sp->ninputs, rc = 0, k;

	for (int i = 0; i < sp->nnodes; i++)
		total += sp->nodes[i].nout;
	p->streams = calloc((size_t)total + 1, sizeof(*p->streams));
	p->output_stream = calloc((size_t)sp->noutputs + 1, sizeof(int));
	p->node_stream = calloc((size_t)sp->nnodes + 1, sizeof(int));
	if (!p->streams || !p->output_stream || !p->node_stream)
		return -ENOMEM;
	for (int i = 0; i < sp->ninputs; i++) {
		struct job_input *in = find_in(p->inputs, p->ninputs, sp->inputs[i].tag);

		if (!in && !(in = add_input_to(j, &p->inputs, &p->ninputs, sp->inputs[i].tag,
					       false, create, &rc)))
			return rc;
		in->declared = true;
		in->format = sp->inputs[i].format;
		in->schema = sp->inputs[i].schema;
		p->streams[p->nstreams++] = in->s;
	}
	for (int i = 0; i < sp->nnodes; i++) {
		p->node_stream[i] = p->nstreams;
		for (int port = 0; port < sp->nodes[i].nout; port++) {
			char name[600];
			struct stream *s;

			spec_stream_name(sp, (struct stream_ref){.node = i, .index = port}, name,
					 sizeof(name));
			rc = open_store_stream(j, name, "node", sp->nodes[i].name, port, create, &s);
			if (rc < 0)
				return rc;
			p->streams[p->nstreams++] = s;
		}
	}
	for (int i = 0; i < sp->noutputs; i++) {
		struct stream_ref r = sp->outputs[i].from;
		p->output_stream[i] = r.node < 0 ? r.index : p->node_stream[r.node] + r.index;
	}
	share_views(p, sp, create);
	if (!with_nodes)
		return 0;
	p->nodes = calloc((size_t)sp->nnodes + 1, sizeof(*p->nodes));
	if (!p->nodes)
		return -ENOMEM;
	for (k = 0; k < sp->nnodes; k++) {
		struct spec_node *sn = &sp->nodes[k];
		struct stream *ins[sn->nin + 1], *outs[sn->nout + 1];

		for (int i = 0; i < sn->nin; i++) {
			struct stream_ref r = sn->in[i];
			ins[i] = p->streams[r.node < 0 ? r.index : p->node_stream[r.node] + r.index];
		}
		for (int port = 0; port < sn->nout; port++)
			outs[port] = p->streams[p->node_stream[k] + port];
		rc = node_init(&p->nodes[k], j, k, sn, ins, outs);
		if (rc < 0)
			break;
	}
	p->nnodes = k < sp->nnodes ? k + 1 : k; /* a half-made node is released too */
	return rc;
}

/* Under allow_other, exec runs as the daemon's user: only the daemon's own
 * uid may use it unless the mount says exec=any. Invoked registered specs
 * count too (their child jobs are submitted as this job's owner, so they
 * are checked again when they start). Params are read after ${}
 * substitution, as they will run. */
static bool registered_uses_exec(struct env *e, const char *name, int depth)
{
	size_t len;
	char *text = name_ok(name) ? env_spec_get(e, name, &len) : NULL;
	struct spec *sp = NULL;
	struct errs errs;
	bool yes = false;

	if (!text)
		return false;
	errs_init(&errs);
	if (spec_parse(text, len, NULL, 0, &e->spec_ctx, &sp, &errs) == 0) {
		for (int i = 0; i < sp->nnodes && !yes; i++) {
			const char *op = sp->nodes[i].op->name;
			yes = strcmp(op, "exec") == 0 ||
			      (strcmp(op, "invoke") == 0 &&
			       (depth > 8 || registered_uses_exec(e, json_string_value(
					json_object_get(sp->nodes[i].params, "spec")), depth + 1)));
		}
	} else {
		/* Can't tell without values for its options: assume it may. */
		yes = strstr(text, "\"exec\"") != NULL;
	}
	errs_free(&errs);
	spec_free(sp);
	free(text);
	return yes;
}

static bool uses_exec(struct env *e, const struct spec *sp)
{
	for (int i = 0; i < sp->nnodes; i++) {
		const char *op = sp->nodes[i].op->name;

		if (strcmp(op, "exec") == 0)
			return true;
		if (strcmp(op, "invoke") == 0 &&
		    registered_uses_exec(e, json_string_value(json_object_get(sp->nodes[i].params,
										"spec")), 0))
			return true;
	}
	return false;
}

void job_set_error(struct job *j, const char *why)
{
	free(j->error);
	j->error = why ? strdup(why) : NULL;
	if (j->error)
		utf8_sanitize(j->error);
}

static void start_nodes(struct job *j)
{
	for (int i = 0; i < j->nnodes; i++)
		pool_schedule(&j->nodes[i].task);
	job_check_done(j);
}

static void log_accepted(struct job *j)
{
	char *opts = json_dumps(j->spec->options, JSON_COMPACT | JSON_SORT_KEYS);

	job_log(j, LOG_INFO, "spec accepted: %d nodes", j->spec->nnodes);
	job_log(j, LOG_INFO, "options %s", opts ? opts : "{}");
	free(opts);
}

int job_submit_spec(struct job *j, const char *text, size_t len, uid_t writer)
{
	struct env *e = j->env;
	struct job_parts parts = {0};
	struct job_shape *shape = NULL;
	struct spec *sp = NULL;
	struct errs errs;
	struct store_file files[4];
	char *opts = NULL, *copy, *resolved = NULL;
	size_t opts_len = 0;
	int nfiles = 0, rc;

	copy = memdup0(text, len, NULL);
	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&j->lock);
	if (j->state != JOB_NEW) {
		pthread_mutex_unlock(&j->lock);
		free(copy);
		job_log(j, LOG_ERROR, "spec.json: the job has started; its spec can't be rewritten");
		return -EBUSY;
	}
	if (j->opts_text) {
		opts = strndup(j->opts_text, j->opts_len);
		opts_len = j->opts_len;
	}
	free(j->spec_text);
	j->spec_text = copy;
	j->spec_len = len;
	j->spec_file = true;
	pthread_mutex_unlock(&j->lock);

	errs_init(&errs);
	rc = spec_parse(text, len, opts, opts_len, &e->spec_ctx, &sp, &errs);
	free(opts);
	if (rc == 0 && e->cfg.allow_other && !e->cfg.exec_any && writer != e->cfg.owner &&
	    uses_exec(e, sp)) {
		errs_add(&errs, "spec.json: nodes: the exec operator is not allowed for uid %u on "
			 "this mount (the daemon runs as uid %u; mount with -o exec=any to allow it)",
			 (unsigned)writer, (unsigned)e->cfg.owner);
		rc = -EPERM;
	}
	if (rc < 0) {
		char *all = errs_join(&errs);

		for (int i = 0; i < errs.n; i++)
			job_log(j, LOG_ERROR, "%s", errs.msg[i]);
		pthread_mutex_lock(&j->lock);
		job_set_error(j, all ? all : "spec.json: invalid");
		pthread_mutex_unlock(&j->lock);
		free(all);
		errs_free(&errs);
		spec_free(sp);
		job_save_text(j, "spec.json", text, len);
		job_save_status(j);
		return rc == -EPERM ? -EPERM : -EINVAL;
	}
	errs_free(&errs);

	pthread_mutex_lock(&j->lock);
	/* Inputs written before the spec must be ones it declares. */
	for (int i = 0; i < j->ninputs; i++) {
		bool found = false;
		for (int k = 0; k < sp->ninputs; k++)
			found |= strcmp(sp->inputs[k].tag, j->inputs[i]->tag) == 0;
		if (!found) {
			char why[400];
			snprintf(why, sizeof(why), "spec.json: inputs: input/%s was written but the "
				 "spec declares no input \"%s\"", j->inputs[i]->tag, j->inputs[i]->tag);
			job_set_error(j, why);
			pthread_mutex_unlock(&j->lock);
			job_log(j, LOG_ERROR, "%s", why);
			spec_free(sp);
			job_save_status(j);
			return -EINVAL;
		}
	}
	if (j->state != JOB_NEW) {
		pthread_mutex_unlock(&j->lock);
		spec_free(sp);
		return -EBUSY;
	}
	parts.ninputs = j->ninputs;
	parts.inputs = j->inputs;
	rc = job_build_parts(j, &parts, sp, true, true);
	parts.spec = sp;
	if (rc == 0 && !(shape = job_shape_from_parts(&parts)))
		rc = -ENOMEM;
	if (rc < 0) {
		free_graph(&parts);
		j->ninputs = parts.ninputs;
		j->inputs = parts.inputs;
		pthread_mutex_unlock(&j->lock);
		spec_free(sp);
		job_log(j, LOG_ERROR, "spec.json: cannot set up the graph: %s", strerror(-rc));
		return rc;
	}
	job_set_error(j, NULL);
	job_put_parts(j, &parts);
	j->nodes_left = parts.nnodes;
	job_quota_recount(j);
	/* Published last: the tree shows output/ once the graph is whole. */
	atomic_store_explicit(&j->shape, shape, memory_order_release);
	j->state = JOB_RUNNING;
	j->started_ms = now_ms();
	j->input_dir = true;
	j->pins++; /* the graph is used below, and a cancel may end the job meanwhile */
	pthread_mutex_unlock(&j->lock);

	/* What a compact job is rebuilt from, with its status: one commit. */
	files[nfiles++] = (struct store_file){"spec.json", text, len};
	if (sp->use) {
		resolved = json_dumps(sp->root, JSON_COMPACT);
		if (resolved) {
			files[nfiles++] = (struct store_file){"resolved.json", resolved,
							      strlen(resolved)};
		} else {
			pthread_mutex_lock(&j->lock);
			j->keep = true;
			pthread_mutex_unlock(&j->lock);
		}
	}
	if (j->opts_text)
		files[nfiles++] = (struct store_file){"options.json", j->opts_text, j->opts_len};
	log_accepted(j);
	log_msg(e->log, LOG_INFO, j->name, "running");
	job_save_status_with(j, files, nfiles);
	free(resolved);
	start_nodes(j);
	job_unpin(j);
	return 0;
}

int job_submit_options(struct job *j, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *v;
	char *copy;

	pthread_mutex_lock(&j->lock);
	if (j->state != JOB_NEW) {
		pthread_mutex_unlock(&j->lock);
		job_log(j, LOG_ERROR, "options.json: the job has started; options can't change");
		return -EBUSY;
	}
	pthread_mutex_unlock(&j->lock);
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v || !json_is_object(v)) {
		if (v)
			job_log(j, LOG_ERROR, "options.json: must be a JSON object");
		else
			job_log(j, LOG_ERROR, "options.json: line %d, column %d: %s", jerr.line,
				jerr.column, jerr.text);
		json_decref(v);
		return -EINVAL;
	}
	json_decref(v);
	copy = memdup0(text, len, NULL);
	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&j->lock);
	if (j->state != JOB_NEW) {
		/* The spec was accepted meanwhile, with the options it found. */
		pthread_mutex_unlock(&j->lock);
		free(copy);
		job_log(j, LOG_ERROR, "options.json: the job has started; options can't change");
		return -EBUSY;
	}
	free(j->opts_text);
	j->opts_text = copy;
	j->opts_len = len;
	j->opts_file = true;
	pthread_mutex_unlock(&j->lock);
	job_save_text(j, "options.json", text, len);
	return 0;
}

/* A compact job's spec.json is read back from the store. */
char *job_spec_text(struct job *j, size_t *len)
{
	char *t = NULL;
	bool stored;

	pthread_mutex_lock(&j->lock);
	if (j->spec_text)
		t = memdup0(j->spec_text, j->spec_len, len);
	stored = !j->spec_text && j->spec_file && job_shape_of(j);
	pthread_mutex_unlock(&j->lock);
	if (stored)
		t = job_store_text(j, "spec.json", &j->spec_text, &j->spec_len, len);
	return t;
}

/* A started job shows its effective options, which need its spec: a
 * compact job's graph is rebuilt for them (then its size is remembered). */
char *job_options_text(struct job *j, size_t *len)
{
	bool pinned = job_started(j) && job_pin(j) == 0;
	char *t = NULL;

	pthread_mutex_lock(&j->lock);
	if (j->spec && j->spec->options) {
		t = json_text(j->spec->options, JSON_INDENT(2) | JSON_SORT_KEYS, len);
	} else if (j->opts_text) {
		t = memdup0(j->opts_text, j->opts_len, len);
	}
	pthread_mutex_unlock(&j->lock);
	if (pinned)
		job_unpin(j);
	return t;
}

/* ---- the end of a job -------------------------------------------------------- */

/* Outputs first, inputs last: a node woken by its failed input must find
 * its own output failed already, never end it as if it were complete. */
static void fail_streams(struct job *j, int err)
{
	for (int i = j->nstreams - 1; i >= 0; i--)
		stream_fail(j->streams[i], err);
	for (int i = 0; i < j->ninputs; i++)
		stream_fail(j->inputs[i]->s, err);
}

static void stop_nodes(struct job *j)
{
	for (int i = 0; i < j->nnodes; i++)
		node_stop(&j->nodes[i]);
}

static void wake_end_waiters(struct job *j)
{
	struct stream_waiter due, *w, *next;

	due.next = due.prev = &due;
	pthread_mutex_lock(&j->lock);
	j->stopped = true;
	for (w = j->end_waiters.next; w != &j->end_waiters; w = next) {
		next = w->next;
		w->parked = false;
		w->next = &due;
		w->prev = due.prev;
		due.prev->next = w;
		due.prev = w;
	}
	j->end_waiters.next = j->end_waiters.prev = &j->end_waiters;
	/* Counted before `stopped` can be seen: a node that waited for this
	 * job (invoke) may stop, and its job be freed or compacted, while
	 * its waiter is still being woken here. */
	atomic_fetch_add(&j->env->end_wakes, 1);
	pthread_mutex_unlock(&j->lock);
	for (w = due.next; w != &due; w = next) {
		next = w->next;
		w->wake(w);
	}
	atomic_fetch_sub(&j->env->end_wakes, 1);
}

/* A job at rest keeps no descriptors open while nobody reads it. */
void job_set_idle(struct job *j, bool on)
{
	for (int i = 0; i < j->nstreams; i++)
		stream_set_close_idle(j->streams[i], on);
	for (int i = 0; i < j->ninputs; i++)
		stream_set_close_idle(j->inputs[i]->s, on);
	log_set_close_idle(j->log, on);
}

/* Runs once every node has stopped after the job reached a final state. */
static void job_finalize(struct job *j)
{
	size_t len;
	char *status;

	for (int i = 0; i < j->nstreams; i++) {
		int rc = stream_settle(j->streams[i]);

		if (rc < 0)
			log_msg(j->log, LOG_WARN, j->streams[i]->name,
				"store: cannot keep this stream's bytes apart from its source (%s): "
				"after a remount it may show more than was produced", strerror(-rc));
		stream_sync(j->streams[i]);
	}
	job_set_idle(j, true);
	status = job_status_json(j, &len);
	pthread_mutex_lock(&j->lock);
	free(j->final_status);
	j->final_status = status;
	j->final_status_len = status ? len : 0;
	if (!status)
		j->keep = true; /* no frozen status to rest with */
	pthread_mutex_unlock(&j->lock);
	job_save_status(j);
	wake_end_waiters(j);
	job_rest_check(j);
}

static bool outputs_ended(struct job *j)
{
	for (int i = 0; j->spec && i < j->spec->noutputs; i++)
		if (!stream_ended(j->streams[j->output_stream[i]]))
			return false;
	return true;
}

static void job_check_done(struct job *j)
{
	bool succeeded = false, finalize = false;

	pthread_mutex_lock(&j->lock);
	if (j->state == JOB_RUNNING && j->nodes_left == 0 && outputs_ended(j)) {
		j->state = JOB_SUCCEEDED;
		j->ended_ms = now_ms();
		succeeded = true;
	}
	if (job_state_final(j->state) && j->nodes_left == 0 && !j->finalizing) {
		j->finalizing = true;
		finalize = true;
	}
	pthread_mutex_unlock(&j->lock);
	if (succeeded) {
		/* Inputs nobody will read again: writing them now is EPIPE. */
		for (int i = 0; i < j->ninputs; i++)
			stream_end(j->inputs[i]->s);
		job_log(j, LOG_INFO, "succeeded in %.3f s", (double)(j->ended_ms - j->started_ms) / 1000);
		log_msg(j->env->log, LOG_INFO, j->name, "succeeded");
	}
	if (finalize)
		job_finalize(j);
}

/* Moves a running (or new) job to a final state and stops everything. */
static void job_end(struct job *j, enum job_state to, const char *why)
{
	double secs;

	pthread_mutex_lock(&j->lock);
	if (job_state_final(j->state)) {
		pthread_mutex_unlock(&j->lock);
		return;
	}
	j->state = to;
	j->ended_ms = now_ms();
	if (to != JOB_CANCELLED || why)
		job_set_error(j, why);
	j->pins++; /* its streams and nodes are used below; it may stop meanwhile */
	pthread_mutex_unlock(&j->lock);
	secs = j->started_ms ? (double)(j->ended_ms - j->started_ms) / 1000 : 0;
	if (to == JOB_FAILED) {
		job_log(j, LOG_ERROR, "failed: %s (after %.3f s)", why, secs);
		log_msg(j->env->log, LOG_INFO, j->name, "failed: %s", why);
	} else if (to == JOB_CANCELLED) {
		job_log(j, LOG_INFO, "cancelled%s%s (after %.3f s)", why ? ": " : "", why ? why : "", secs);
	} else {
		job_log(j, LOG_WARN, "interrupted: %s (after %.3f s)", why, secs);
	}
	fail_streams(j, EIO);
	stop_nodes(j);
	job_check_done(j);
	job_unpin(j);
}

void job_node_finished(struct job *j, struct node *n, int rc, const char *why)
{
	char reason[1024];
	bool fail;

	pthread_mutex_lock(&j->lock);
	j->nodes_left--;
	fail = rc < 0 && j->state == JOB_RUNNING;
	pthread_mutex_unlock(&j->lock);
	if (fail) {
		snprintf(reason, sizeof(reason), "%s: %s", n->name, why ? why : "failed");
		job_end(j, JOB_FAILED, reason);
		return;
	}
	job_check_done(j);
}

void job_cancel(struct job *j, const char *why)
{
	job_end(j, JOB_CANCELLED, why);
}

void job_shutdown(struct job *j)
{
	if (j->state == JOB_RUNNING)
		job_end(j, JOB_INTERRUPTED, "the daemon stopped while the job was running");
	else if (j->state == JOB_NEW)
		job_save_status(j); /* inputs written early, open or not */
}

/* Texts a compact job left in the store, back in memory. */
static void restore_texts(struct job *j)
{
	size_t tlen = 0, slen = 0;
	char *status = NULL, *spec = NULL;
	bool need_status, need_spec;

	pthread_mutex_lock(&j->lock);
	need_status = !j->final_status && j->status_stored;
	need_spec = !j->spec_text && j->spec_file && job_shape_of(j);
	pthread_mutex_unlock(&j->lock);
	if (need_status)
		status = get_text(j, "status.json", &tlen);
	if (need_spec)
		spec = get_text(j, "spec.json", &slen);
	pthread_mutex_lock(&j->lock);
	if (status && !j->final_status && j->status_stored) {
		j->final_status = status;
		j->final_status_len = tlen;
		j->status_stored = false;
		status = NULL;
	}
	if (spec && !j->spec_text) {
		j->spec_text = spec;
		j->spec_len = slen;
		spec = NULL;
	}
	pthread_mutex_unlock(&j->lock);
	free(status);
	free(spec);
}

/* The store directory goes at once, while the name is still taken, so a
 * job made again under the same name never shares or loses files with this
 * one; nodes still stopping keep their open files until they close them. */
void job_remove(struct job *j)
{
	bool graph;

	/* Whoever looked a file of the job up just before may open it after
	 * the store is gone: a compact job is made whole again first, and it
	 * stays so (a removed job is never compacted). */
	graph = job_pin(j) == 0;
	restore_texts(j);
	pthread_mutex_lock(&j->lock);
	j->removed = true;
	pthread_mutex_unlock(&j->lock);
	job_cancel(j, "the job was removed");
	/* Like an unlinked file, what readers have open stays readable until
	 * they close it: every file is opened now, before it goes. */
	log_set_close_idle(j->log, false);
	if (graph) {
		job_set_idle(j, false);
		for (int i = 0; i < j->nstreams + j->ninputs; i++) {
			struct stream *s = i < j->nstreams ? j->streams[i]
							   : j->inputs[i - j->nstreams]->s;
			if (stream_fd_get(s) >= 0)
				stream_fd_put(s);
		}
	}
	if (log_fd_get(j->log) >= 0)
		log_fd_put(j->log);
	j->env->store->ops->job_remove(j->env->store, j->name);
	env_job_del(j->env, j);
	env_compact_forget(j->env, j);
	log_msg(j->env->log, LOG_INFO, j->name, "removed");
	if (graph)
		job_unpin(j);
}

bool job_wait(struct job *j, struct stream_waiter *w)
{
	bool parked = false;

	pthread_mutex_lock(&j->lock);
	if (!j->stopped) {
		w->next = &j->end_waiters;
		w->prev = j->end_waiters.prev;
		j->end_waiters.prev->next = w;
		j->end_waiters.prev = w;
		w->parked = parked = true;
	}
	pthread_mutex_unlock(&j->lock);
	return parked;
}

bool job_unwait(struct job *j, struct stream_waiter *w)
{
	bool was = false;

	pthread_mutex_lock(&j->lock);
	if (w->parked) {
		w->prev->next = w->next;
		w->next->prev = w->prev;
		w->parked = false;
		was = true;
	}
	pthread_mutex_unlock(&j->lock);
	return was;
}

/* ---- ctl ------------------------------------------------------------------------ */

/* A text of the job: its copy in memory, or, once a started job has
 * dropped it (compaction), the store's (malloc'd, or NULL when none). */
static char *text_copy(struct job *j, const char *file, char *const *mem, const size_t *mlen,
		       size_t *len)
{
	char *t = NULL;
	bool stored;

	*len = 0;
	pthread_mutex_lock(&j->lock);
	if (*mem)
		t = memdup0(*mem, *mlen, len);
	stored = !*mem && job_shape_of(j);
	pthread_mutex_unlock(&j->lock);
	return stored ? job_store_text(j, file, mem, mlen, len) : t;
}

/* The spec of a job that has run, as it ran: a registered spec is taken as
 * it was then (resolved.json), not as the registry has it now. */
int job_reparse(struct job *j, struct spec **sp, struct errs *errs)
{
	size_t rlen = 0, slen, olen;
	char *resolved = get_text(j, "resolved.json", &rlen);
	char *spec = resolved ? NULL : text_copy(j, "spec.json", &j->spec_text, &j->spec_len, &slen);
	char *opts = text_copy(j, "options.json", &j->opts_text, &j->opts_len, &olen);
	int rc;

	errs_init(errs);
	if (resolved)
		rc = spec_parse(resolved, rlen, opts, olen, &j->env->spec_ctx, sp, errs);
	else if (spec)
		rc = spec_parse(spec, slen, opts, olen, &j->env->spec_ctx, sp, errs);
	else
		rc = -EINVAL;
	free(resolved);
	free(spec);
	free(opts);
	return rc;
}

/* Restart keeps every stream object (open files and readers may hold
 * them): inputs as they are, complete; the others emptied; new nodes.
 * Called without the job lock: quiescing old node tasks may wait for them
 * to leave job code that takes that lock. */
static int rebuild_nodes(struct job *j, struct spec *sp)
{
	struct node *old, *fresh;
	int nold, total = sp->ninputs, k, rc = 0;

	for (int i = 0; i < sp->nnodes; i++)
		total += sp->nodes[i].nout;
	if (total != j->nstreams || sp->nnodes != (j->spec ? j->spec->nnodes : -1))
		return -EINVAL;
	pthread_mutex_lock(&j->lock);
	old = j->nodes;
	nold = j->nnodes;
	j->nodes = NULL;
	j->nnodes = 0;
	pthread_mutex_unlock(&j->lock);
	release_nodes(old, nold);
	free(old);
	for (int i = 0; i < j->ninputs; i++) {
		struct stream *s = j->inputs[i]->s;
		atomic_store(&s->error, 0);
		atomic_store(&s->ended, true);
		j->inputs[i]->partial.len = 0;
	}
	for (int i = sp->ninputs; i < j->nstreams && rc == 0; i++)
		rc = stream_reset(j->streams[i]);
	fresh = calloc((size_t)sp->nnodes + 1, sizeof(*fresh));
	if (rc < 0 || !fresh) {
		free(fresh);
		return rc < 0 ? rc : -ENOMEM;
	}
	/* The nodes are made from the job's own spec, which the tree reads
	 * without a lock: it is never swapped, and the new parse (the same
	 * text) only checked that the job can still run. */
	for (k = 0; k < sp->nnodes; k++) {
		struct spec_node *sn = &j->spec->nodes[k];
		struct stream *ins[sn->nin + 1], *outs[sn->nout + 1];

		for (int i = 0; i < sn->nin; i++) {
			struct stream_ref r = sn->in[i];
			ins[i] = j->streams[r.node < 0 ? r.index : j->node_stream[r.node] + r.index];
		}
		for (int p = 0; p < sn->nout; p++)
			outs[p] = j->streams[j->node_stream[k] + p];
		rc = node_init(&fresh[k], j, k, sn, ins, outs);
		if (rc < 0) {
			release_nodes(fresh, k + 1);
			free(fresh);
			return rc;
		}
	}
	pthread_mutex_lock(&j->lock);
	j->nodes = fresh;
	j->nnodes = j->nodes_left = k;
	pthread_mutex_unlock(&j->lock);
	return 0;
}

static int job_restart(struct job *j)
{
	struct spec *sp = NULL;
	struct errs errs;
	int rc;

	pthread_mutex_lock(&j->lock);
	if (!(j->state == JOB_FAILED || j->state == JOB_CANCELLED ||
	      j->state == JOB_INTERRUPTED) || !j->stopped || j->removed || j->restarting) {
		pthread_mutex_unlock(&j->lock);
		job_log(j, LOG_ERROR, "ctl: restart: only a failed, cancelled or interrupted job "
			"can restart (this one is %s)", job_state_name(j->state));
		return -EINVAL;
	}
	j->restarting = true;
	pthread_mutex_unlock(&j->lock);
	/* Restarting keeps the job from being compacted; its graph is held
	 * (and rebuilt from the store if it was compact) until it runs. */
	rc = job_pin(j);
	if (rc < 0) {
		pthread_mutex_lock(&j->lock);
		j->restarting = false;
		pthread_mutex_unlock(&j->lock);
		if (rc != -ENOENT)
			job_log(j, LOG_ERROR, "ctl: restart: the job can't be read back from the store");
		return rc;
	}
	rc = job_reparse(j, &sp, &errs);
	if (rc < 0) {
		for (int i = 0; i < errs.n; i++)
			job_log(j, LOG_ERROR, "ctl: restart: %s", errs.msg[i]);
		rc = -EINVAL;
	}
	errs_free(&errs);
	if (rc == 0)
		job_set_idle(j, false);
	if (rc == 0 && (rc = rebuild_nodes(j, sp)) < 0)
		job_log(j, LOG_ERROR, "ctl: restart: %s", strerror(-rc));
	spec_free(sp);
	pthread_mutex_lock(&j->lock);
	j->restarting = false;
	if (rc == 0) {
		j->state = JOB_RUNNING;
		j->stopped = j->finalizing = false;
		job_set_error(j, NULL);
		j->started_ms = now_ms();
		j->ended_ms = 0;
		free(j->final_status);
		j->final_status = NULL;
		j->final_status_len = 0;
		j->status_stored = false;
		j->runs++;
		j->graph_len = j->opts_view_len = -1;
	}
	pthread_mutex_unlock(&j->lock);
	if (rc < 0) {
		job_unpin(j);
		return rc;
	}
	job_log(j, LOG_INFO, "restarted from its stored inputs");
	log_accepted(j);
	job_save_status(j);
	start_nodes(j);
	job_unpin(j);
	return 0;
}

/* `end TAG` on a compact job: every input of a job that stopped has ended
 * already, so there is nothing to rebuild. True when it was handled. */
static bool end_at_rest(struct job *j, const char *tag, int *rc)
{
	struct job_shape *sh = job_shape_of(j);
	bool compact, found = false;

	pthread_mutex_lock(&j->lock);
	compact = j->compact;
	pthread_mutex_unlock(&j->lock);
	if (!compact || !sh)
		return false;
	for (int i = 0; i < sh->ninputs && !found; i++)
		found = strcmp(sh->input[i], tag) == 0;
	if (found)
		job_log(j, LOG_INFO, "input/%s ended by ctl", tag);
	else
		job_log(j, LOG_ERROR, "ctl: end: no input \"%s\"", tag);
	*rc = found ? 0 : -EINVAL;
	return true;
}

int job_ctl(struct job *j, const char *line, size_t len)
{
	struct ctl_cmd cmd;
	char why[256];
	struct job_input *in;
	int rc;

	if (ctl_parse(line, len, &cmd, why, sizeof(why)) < 0) {
		job_log(j, LOG_ERROR, "ctl: %s", why);
		return -EINVAL;
	}
	switch (cmd.verb) {
	case CTL_NONE:
		return 0;
	case CTL_CANCEL:
		if (job_state_final(j->state)) {
			job_log(j, LOG_ERROR, "ctl: cancel: the job has already ended (%s)",
				job_state_name(j->state));
			return -EINVAL;
		}
		job_cancel(j, NULL);
		return 0;
	case CTL_RESTART:
		return job_restart(j);
	case CTL_END:
		break;
	}
	if (end_at_rest(j, cmd.tag, &rc))
		return rc;
	/* The input is used outside the job lock: hold the graph. */
	if ((rc = job_pin(j)) < 0) {
		if (rc != -ENOENT)
			job_log(j, LOG_ERROR, "ctl: end: the job can't be read back from the store");
		return rc;
	}
	pthread_mutex_lock(&j->lock);
	in = find_input(j, cmd.tag);
	pthread_mutex_unlock(&j->lock);
	if (!in) {
		job_unpin(j);
		job_log(j, LOG_ERROR, "ctl: end: no input \"%s\"", cmd.tag);
		return -EINVAL;
	}
	pthread_mutex_lock(&in->wlock);
	if (in->format == FORMAT_JSON && in->partial.len && !stream_ended(in->s))
		write_json(j, in, "", 0, true);
	pthread_mutex_unlock(&in->wlock);
	stream_end(in->s);
	job_log(j, LOG_INFO, "input/%s ended by ctl", cmd.tag);
	job_check_done(j);
	job_unpin(j);
	return 0;
}

/* ---- streams by name ---------------------------------------------------------- */

/* A bare stream pointer outlives any pin: the job keeps its graph for good. */
static struct stream *kept_stream(struct job *j, bool output, const char *name)
{
	struct stream *s = NULL;

	if (!job_started(j) || job_pin(j) < 0)
		return NULL;
	pthread_mutex_lock(&j->lock);
	j->keep = true;
	for (int i = 0; output && j->spec && i < j->spec->noutputs && !s; i++)
		if (strcmp(j->spec->outputs[i].tag, name) == 0)
			s = j->streams[j->output_stream[i]];
	for (int i = 0; !output && j->spec && i < j->nstreams && !s; i++)
		if (strcmp(j->streams[i]->name, name) == 0)
			s = j->streams[i];
	pthread_mutex_unlock(&j->lock);
	job_unpin(j);
	return s;
}

struct stream *job_output(struct job *j, const char *tag)
{
	return kept_stream(j, true, tag);
}

struct stream *job_stream(struct job *j, const char *name)
{
	return kept_stream(j, false, name);
}

/* ---- loading from the store ----------------------------------------------------- */

static char *get_text(struct job *j, const char *file, size_t *len)
{
	char *data = NULL;

	*len = 0;
	if (j->env->store->ops->get(j->env->store, j->name, file, &data, len) < 0)
		return NULL;
	return data;
}

/* A text a compact job keeps in the store, read without the job lock. rm -r
 * may take the store away meanwhile, and mkdir may make a new job's under
 * the same name: job_remove brings the text back into memory (*kept) before
 * it marks the job removed, so from then on only that copy is this job's. */
char *job_store_text(struct job *j, const char *file, char *const *kept, const size_t *kept_len,
		     size_t *len)
{
	char *t = get_text(j, file, len);

	pthread_mutex_lock(&j->lock);
	if (j->removed) {
		free(t);
		t = *kept ? memdup0(*kept, *kept_len, len) : NULL;
	}
	pthread_mutex_unlock(&j->lock);
	return t;
}

static int64_t json_time(json_t *v)
{
	const char *s = json_string_value(v);
	struct tm tm = {0};
	int ms = 0;

	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static enum job_state state_from_name(const char *s)
{
	for (int i = JOB_NEW; i <= JOB_INTERRUPTED; i++)
		if (s && strcmp(s, job_state_name(i)) == 0)
			return i;
	return JOB_INTERRUPTED;
}

/* Restores inputs of a job that never started, with their end marks. */
static void load_pending_inputs(struct job *j, json_t *status)
{
	json_t *inputs = json_object_get(status, "inputs"), *v;
	const char *tag;

	json_object_foreach(inputs, tag, v) {
		struct job_input *in;

		if (!name_ok(tag) || !(in = add_input(j, tag, false)))
			continue;
		if (json_is_true(json_object_get(v, "ended")))
			atomic_store(&in->s->ended, true);
	}
	j->input_dir = j->ninputs > 0;
}

/* A stream file shorter than status.json recorded was cut (a torn store):
 * its job can't be trusted as it was. Returns the first such stream's
 * description in why, or false. */
static bool find_torn(struct job *j, json_t *st, char *why, size_t cap)
{
	json_t *streams = json_object_get(st, "streams"), *inputs = json_object_get(st, "inputs");

	for (int i = 0; i < j->nstreams + j->ninputs; i++) {
		struct stream *s = i < j->nstreams ? j->streams[i] : j->inputs[i - j->nstreams]->s;
		json_t *rec = json_object_get(streams, s->name);
		uint64_t want;

		if (!rec && i >= j->nstreams)
			rec = json_object_get(inputs, j->inputs[i - j->nstreams]->tag);
		if (!json_is_integer(json_object_get(rec, "bytes")))
			continue;
		want = (uint64_t)json_integer_value(json_object_get(rec, "bytes"));
		if (stream_size(s) < want) {
			snprintf(why, cap, "stream %s has %llu bytes in the store, status.json "
				 "recorded %llu: the store was cut", s->name,
				 (unsigned long long)stream_size(s), (unsigned long long)want);
			return true;
		}
	}
	return false;
}

/* The common case at mount: a job that ended, with a whole status.json.
 * Its spec is checked (a damaged one is found and said here, the long
 * way) and its stream files are measured, but its graph is not built: it
 * comes back compact. Takes `text` when it returns true. */
static bool load_at_rest(struct job *j, json_t *st, char *text, size_t len)
{
	struct job_shape *sh = NULL;
	struct spec *sp = NULL;
	struct errs errs;

	if (job_reparse(j, &sp, &errs) == 0)
		sh = job_shape_from_spec(j, sp, st);
	errs_free(&errs);
	spec_free(sp);
	if (!sh)
		return false;
	atomic_store(&j->shape, sh);
	free(j->spec_text);
	free(j->opts_text);
	j->spec_text = j->opts_text = NULL;
	free(text);
	j->final_status_len = len;
	j->status_stored = true;
	j->compact = true;
	j->input_dir = sh->ninputs > 0;
	j->stopped = j->finalizing = true;
	log_set_close_idle(j->log, true);
	return true;
}

/* Everything else that started: its spec is parsed and its streams opened
 * (a damaged store is found and said here); then it is compacted. Takes
 * `text` (the stored status, or NULL when it can't be used). */

/* A job whose store is damaged: said in .log and its log, and loaded as
 * interrupted (it was "running" until the end of job_load) with why. */
static void load_damaged(struct job *j, const char *prefix, const char *why, char **text,
			 bool *was_running)
{
	log_msg(j->env->log, LOG_ERROR, j->name, "%s%s; the job is loaded as interrupted", prefix, why);
	job_log(j, LOG_ERROR, "%s%s (found at mount)", prefix, why);
	job_set_error(j, why);
	j->state = JOB_RUNNING; /* becomes interrupted below */
	*was_running = true;
	free(*text);
	*text = NULL;
}

/* A pass node's output is a view that shows its whole source from the
 * store file: of a job the daemon stopped while it ran, it shows what
 * status.json last recorded, as an ordinary stream would (a restart links
 * it again). */
static void trim_views(struct job *j, struct job_parts *p, json_t *st)
{
	json_t *streams = json_object_get(st, "streams");

	for (int i = 0; i < p->nstreams; i++) {
		struct stream *s = p->streams[i];
		json_t *bytes = json_object_get(json_object_get(streams, s->name), "bytes");
		int rc;

		if (!s->shared)
			continue;
		rc = stream_view_trim(s, json_is_integer(bytes) ?
				      (uint64_t)json_integer_value(bytes) : 0);
		if (rc < 0)
			log_msg(j->log, LOG_WARN, s->name, "store: cannot cut this stream back to "
				"what it had produced (%s): it shows all of its input", strerror(-rc));
	}
}

static void load_whole(struct job *j, json_t *st, char *text, size_t len)
{
	struct env *e = j->env;
	struct job_parts p = {0};
	struct job_shape *sh = NULL;
	struct errs errs;
	struct spec *sp = NULL;
	bool was_running = j->state == JOB_RUNNING, keep = false;
	char torn[512];
	int rc;

	rc = job_reparse(j, &sp, &errs);
	errs_free(&errs);
	p.spec = sp;
	if (rc == 0)
		rc = job_build_parts(j, &p, sp, false, false);
	if (rc == 0 && was_running)
		trim_views(j, &p, st);
	if (rc == 0 && !(sh = job_shape_from_parts(&p)))
		rc = -ENOMEM;
	if (rc < 0) {
		char why[256];

		job_parts_free(j, &p);
		/* Only this job is affected: without its spec it can't
		 * show its streams, so it comes back interrupted. */
		snprintf(why, sizeof(why), "store: the stored spec can't be loaded (%s)",
			 strerror(-rc));
		load_damaged(j, "", why, &text, &was_running);
	} else {
		job_put_parts(j, &p);
		job_quota_recount(j);
		atomic_store(&j->shape, sh);
	}
	if (find_torn(j, st, torn, sizeof(torn)))
		load_damaged(j, "store: ", torn, &text, &was_running);
	if (j->state == JOB_RUNNING) {
		/* A damaged store says so; otherwise the daemon stopped. */
		char *why = strdup(j->error && !text ? j->error
			: "the daemon stopped while the job was running");

		j->state = JOB_INTERRUPTED;
		j->ended_ms = now_ms();
		job_set_error(j, why);
		job_log(j, LOG_WARN, "interrupted: %s", why ? why : "");
		free(why);
	}
	for (int i = 0; i < j->nstreams; i++) {
		atomic_store(&j->streams[i]->ended, true);
		if (j->state != JOB_SUCCEEDED)
			atomic_store(&j->streams[i]->error, EIO);
	}
	for (int i = 0; i < j->ninputs; i++)
		j->inputs[i]->declared = true;
	j->input_dir = j->ninputs > 0;
	j->stopped = j->finalizing = true;
	job_set_idle(j, true);
	if (was_running) {
		/* Its stored status says running: say what became of it. */
		free(text);
		text = job_status_json(j, &len);
		keep = !text || e->store->ops->put(e->store, j->name, "status.json", text, len) < 0;
	}
	j->final_status = text;
	j->final_status_len = text ? len : 0;
	j->keep = keep;
	/* Nobody else knows the job yet: it is compacted here and now. */
	j->compact_queued = true;
	job_compact(j);
}

static bool store_has(struct job *j, const char *file)
{
	char *p = store_path(j->env->store, j->name, file);
	bool has = p && access(p, F_OK) == 0;

	free(p);
	return has;
}

/* When the job's store directory was last changed, or now. */
static int64_t store_mtime_ms(struct job *j)
{
	char *p = store_path(j->env->store, j->name, NULL);
	struct stat st;
	int64_t ms = now_ms();

	if (p && stat(p, &st) == 0)
		ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	free(p);
	return ms;
}

int job_load(struct env *e, const char *name, struct job **out)
{
	struct job *j;
	json_t *st;
	json_error_t jerr;
	size_t len = 0;
	char *text;
	int rc;

	if (!name_ok(name))
		return -EINVAL;
	j = job_alloc(e, name, 0);
	if (!j)
		return -ENOMEM;
	rc = job_attach_store(j, false);
	text = rc == 0 ? get_text(j, "status.json", &len) : NULL;
	if (rc < 0) {
		log_msg(e->log, LOG_ERROR, name, "store: the job's directory can't be used (%s); "
			"the job is not loaded", strerror(-rc));
		job_put(j);
		return rc;
	}
	st = text ? json_loadb(text, len, 0, &jerr) : NULL;
	if (!text && !store_has(j, "spec.json")) {
		/* Made with mkdir and never given a spec or an input that was
		 * closed: the daemon stopped before anything of it was worth a
		 * status.json. It is new, owned by the mount's owner (who made
		 * it is not kept), made when its directory was. */
		st = json_pack("{s:s, s:{}}", "state", "new", "inputs");
		j->created_ms = store_mtime_ms(j);
		j->uid = e->cfg.owner;
	} else if (!st || !json_is_object(json_object_get(st, "inputs"))) {
		/* Only this job is affected: it comes back interrupted, with the
		 * reason, and can be restarted from its spec and inputs. */
		const char *why = text ? "torn" : "missing";

		log_msg(e->log, LOG_ERROR, name, "store: status.json is %s; the job is loaded "
			"as interrupted", why);
		job_log(j, LOG_ERROR, "store: status.json was %s at mount", why);
		json_decref(st);
		st = json_pack("{s:s, s:s+}", "state", "running", "error",
			       "status.json in the store was ", why);
		free(text);
		text = NULL;
		j->created_ms = now_ms();
	}
	if (json_object_get(st, "uid"))
		j->uid = (uid_t)json_integer_value(json_object_get(st, "uid"));
	j->state = state_from_name(json_string_value(json_object_get(st, "state")));
	if (json_string_value(json_object_get(st, "error")))
		j->error = strdup(json_string_value(json_object_get(st, "error")));
	if (json_object_get(st, "created"))
		j->created_ms = json_time(json_object_get(st, "created"));
	j->started_ms = json_time(json_object_get(st, "started"));
	j->ended_ms = json_time(json_object_get(st, "ended"));
	j->spec_text = get_text(j, "spec.json", &j->spec_len);
	j->opts_text = get_text(j, "options.json", &j->opts_len);
	j->spec_file = j->spec_text != NULL;
	j->opts_file = j->opts_text != NULL;
	if (j->state == JOB_NEW) {
		load_pending_inputs(j, st);
		j->stopped = false;
		free(text);
	} else if (!text || !job_state_final(j->state) || !load_at_rest(j, st, text, len)) {
		load_whole(j, st, text, len);
	}
	json_decref(st);
	*out = j;
	return 0;
}
