/* job_view.c - the snapshots of a job that users read: `status` (JSON) and
 * `graph.dot` (Graphviz with live record counts). Both are built fresh on
 * every read; a job that has ended serves the status frozen at its end, so
 * the same bytes come back after a remount, and, once it rests compact,
 * from the store (status.json holds exactly those bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "node.h"

static json_t *time_json(int64_t ms)
{
	char ts[64];

	if (!ms)
		return json_null();
	time_fmt(ms, ts);
	return json_string(ts);
}

static json_t *stream_json(struct stream *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "bytes", json_integer((json_int_t)stream_size(s)));
	json_object_set_new(o, "records", json_integer((json_int_t)atomic_load(&s->records)));
	json_object_set_new(o, "ended", json_boolean(stream_ended(s)));
	return o;
}

static const char *node_state(const struct node *n)
{
	switch (atomic_load(&n->phase)) {
	case NODE_PHASE_WAITING:
		return n->stopping ? "stopped" : "waiting";
	case NODE_PHASE_RUNNING:
		return n->stopping ? "stopping" : "running";
	case NODE_PHASE_DONE:
		return n->stopping ? "stopped" : "finished";
	default:
		return n->stopping && !atomic_load(&n->why) ? "stopped" : "failed";
	}
}

static json_t *node_json(struct job *j, int i)
{
	struct node *n = &j->nodes[i];
	json_t *o = json_object();
	uint64_t rin = 0, bin = 0, rout = 0, bout = 0;
	const char *why = atomic_load(&n->why);

	for (int k = 0; n->in && k < n->nin; k++) {
		rin += n->in[k].records;
		bin += n->in[k].bytes;
	}
	for (int k = 0; n->out && k < n->nout; k++) {
		rout += atomic_load(&n->out[k].s->records);
		bout += stream_size(n->out[k].s);
	}
	json_object_set_new(o, "op", json_string(n->op->name));
	json_object_set_new(o, "state", json_string(node_state(n)));
	json_object_set_new(o, "records_in", json_integer((json_int_t)rin));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)bin));
	json_object_set_new(o, "records_out", json_integer((json_int_t)rout));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)bout));
	json_object_set_new(o, "error", why ? json_string(why) : json_null());
	return o;
}

static char *dump(json_t *o, size_t *len)
{
	char *t = json_text(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII, len);

	json_decref(o);
	return t;
}

char *job_status_json(struct job *j, size_t *len)
{
	json_t *o, *inputs, *outputs, *nodes, *streams;

	pthread_mutex_lock(&j->lock);
	if (j->final_status || j->status_stored) {
		char *t = j->final_status ? memdup0(j->final_status, j->final_status_len, len) : NULL;
		bool stored = !j->final_status;

		pthread_mutex_unlock(&j->lock);
		return stored ? job_store_text(j, "status.json", &j->final_status,
					       &j->final_status_len, len) : t;
	}
	o = json_object();
	json_object_set_new(o, "job", json_string(j->name));
	json_object_set_new(o, "state", json_string(job_state_name(j->state)));
	json_object_set_new(o, "error", j->error ? json_stringn_nocheck(j->error, strlen(j->error))
						 : json_null());
	json_object_set_new(o, "created", time_json(j->created_ms));
	json_object_set_new(o, "started", time_json(j->started_ms));
	json_object_set_new(o, "ended", time_json(j->ended_ms));
	json_object_set_new(o, "uid", json_integer(j->uid));
	json_object_set_new(o, "spec", j->spec && (j->spec->use || j->spec->name)
				       ? json_string(j->spec->use ? j->spec->use : j->spec->name)
				       : json_null());
	inputs = json_object();
	for (int i = 0; i < j->ninputs; i++) {
		json_t *s = stream_json(j->inputs[i]->s);
		json_object_set_new(s, "writers", json_integer(j->inputs[i]->s->writers));
		json_object_set_new(inputs, j->inputs[i]->tag, s);
	}
	json_object_set_new(o, "inputs", inputs);
	outputs = json_object();
	nodes = json_object();
	streams = json_object();
	if (j->spec && j->streams) {
		for (int i = 0; i < j->spec->noutputs; i++) {
			struct stream *s = j->streams[j->output_stream[i]];
			json_t *so = stream_json(s);
			json_object_set_new(so, "from", json_string(s->name));
			json_object_set_new(outputs, j->spec->outputs[i].tag, so);
		}
		for (int i = 0; i < j->nnodes; i++)
			json_object_set_new(nodes, j->nodes[i].name, node_json(j, i));
		for (int i = 0; i < j->nstreams; i++)
			json_object_set_new(streams, j->streams[i]->name, stream_json(j->streams[i]));
	}
	json_object_set_new(o, "outputs", outputs);
	json_object_set_new(o, "nodes", nodes);
	json_object_set_new(o, "streams", streams);
	pthread_mutex_unlock(&j->lock);
	return dump(o, len);
}

static void dot_id(struct buf *b, const char *kind, const char *name)
{
	buf_printf(b, "\"%s:%s\"", kind, name);
}

/* The graph node that produces stream r. */
static void dot_producer(struct buf *b, struct job *j, struct stream_ref r)
{
	if (r.node < 0)
		dot_id(b, "in", j->spec->inputs[r.index].tag);
	else
		dot_id(b, "node", j->spec->nodes[r.node].name);
}

static struct stream *ref_stream(struct job *j, struct stream_ref r)
{
	return j->streams[r.node < 0 ? r.index : j->node_stream[r.node] + r.index];
}

static void dot_edge(struct buf *b, struct job *j, struct stream_ref r)
{
	dot_producer(b, j, r);
	buf_printf(b, " -> ");
}

static void dot_edge_label(struct buf *b, struct job *j, struct stream_ref r)
{
	struct stream *s = ref_stream(j, r);

	buf_printf(b, " [label=\"%s\\n%llu rec\"];\n", s->name,
		   (unsigned long long)atomic_load(&s->records));
}

/* A node's label: its state now, or, once its job has stopped and the
 * nodes are gone (compaction, a remount), the state the final status
 * recorded; the job's state when even that is unknown. */
static const char *node_label(struct job *j, int i, json_t *saved)
{
	const char *s;

	if (i < j->nnodes)
		return node_state(&j->nodes[i]);
	s = json_string_value(json_object_get(json_object_get(saved, j->spec->nodes[i].name),
					      "state"));
	return s ? s : job_state_name(j->state);
}

char *job_graph_dot(struct job *j, size_t *len)
{
	struct buf b = {0};
	json_t *saved = NULL;
	bool pinned = job_started(j) && job_pin(j) == 0, gone;

	pthread_mutex_lock(&j->lock);
	gone = pinned && j->stopped && j->nnodes == 0;
	pthread_mutex_unlock(&j->lock);
	if (gone)
		saved = job_final_node_states(j);
	pthread_mutex_lock(&j->lock);
	buf_printf(&b, "digraph \"%s\" {\n  rankdir=LR;\n  label=\"%s: %s\";\n", j->name, j->name,
		   job_state_name(j->state));
	if (j->spec && j->streams) {
		struct spec *sp = j->spec;

		for (int i = 0; i < sp->ninputs; i++) {
			buf_printf(&b, "  ");
			dot_id(&b, "in", sp->inputs[i].tag);
			buf_printf(&b, " [shape=box, label=\"input/%s\"];\n", sp->inputs[i].tag);
		}
		for (int i = 0; i < sp->nnodes; i++) {
			buf_printf(&b, "  ");
			dot_id(&b, "node", sp->nodes[i].name);
			buf_printf(&b, " [label=\"%s\\n%s\\n%s\"];\n", sp->nodes[i].name,
				   sp->nodes[i].op->name, node_label(j, i, saved));
		}
		for (int i = 0; i < sp->noutputs; i++) {
			buf_printf(&b, "  ");
			dot_id(&b, "out", sp->outputs[i].tag);
			buf_printf(&b, " [shape=box, label=\"output/%s\"];\n", sp->outputs[i].tag);
		}
		for (int i = 0; i < sp->nnodes; i++) {
			for (int k = 0; k < sp->nodes[i].nin; k++) {
				buf_printf(&b, "  ");
				dot_edge(&b, j, sp->nodes[i].in[k]);
				dot_id(&b, "node", sp->nodes[i].name);
				dot_edge_label(&b, j, sp->nodes[i].in[k]);
			}
		}
		for (int i = 0; i < sp->noutputs; i++) {
			buf_printf(&b, "  ");
			dot_edge(&b, j, sp->outputs[i].from);
			dot_id(&b, "out", sp->outputs[i].tag);
			dot_edge_label(&b, j, sp->outputs[i].from);
		}
	}
	buf_printf(&b, "}\n");
	pthread_mutex_unlock(&j->lock);
	json_decref(saved);
	if (pinned)
		job_unpin(j);
	*len = b.len;
	return b.p;
}
