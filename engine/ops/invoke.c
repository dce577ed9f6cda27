/* invoke.c - the invoke operator: runs a registered spec as a child job
 * named JOB.NODE. This node's input is copied into the child's single input
 * and the child's single output is copied to this node's `out`. The child
 * is an ordinary job: it shows in the mount with its own status and log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../env.h"
#include "../job.h"
#include "../node.h"
#include "../stream.h"
#include "op.h"

#define CHUNK (64u << 10)

struct invoke {
	struct job *child;
	struct job_input *in;       /* our writer on the child's input; NULL once closed */
	struct stream *out;         /* the child's output */
	uint64_t out_off;
	struct stream_waiter ended; /* wakes us when the child stops */
	struct node *self;
	char buf[CHUNK];
};

static void child_ended(struct stream_waiter *w)
{
	struct invoke *st = (struct invoke *)((char *)w - offsetof(struct invoke, ended));

	node_wake(st->self);
}

/* A child left by an earlier run (restart) is replaced. */
static int clear_old_child(struct node *n, const char *name)
{
	struct job *old = env_job_find(node_env(n), name);
	bool stopped, mine;

	if (!old)
		return 0;
	pthread_mutex_lock(&old->lock);
	stopped = old->stopped || old->state == JOB_NEW;
	pthread_mutex_unlock(&old->lock);
	/* Only a job of this job's owner may be replaced: never someone
	 * else's job that happens to have the name. */
	mine = old->uid == n->job->uid;
	if (stopped && mine)
		job_remove(old);
	job_put(old);
	if (!mine)
		return node_fail(n, "a job named \"%s\" already exists and belongs to uid %u",
				 name, (unsigned)old->uid);
	return stopped ? 0 : node_fail(n, "child job \"%s\" already exists and is running", name);
}

static int invoke_start(struct node *n)
{
	struct invoke *st = n->state;
	struct job *parent = n->job;
	const char *spec = json_string_value(json_object_get(n->params, "spec"));
	json_t *opts = json_object_get(n->params, "options");
	char name[512], *text = NULL, *otext;
	int rc;

	st->self = n;
	st->ended.wake = child_ended;
	snprintf(name, sizeof(name), "%s.%s", parent->name, n->name);
	if (!name_ok(name))
		return node_fail(n, "child job name \"%s\" is not a valid name", name);
	if ((rc = clear_old_child(n, name)) < 0)
		return rc;
	rc = job_create(node_env(n), name, parent->uid, &st->child);
	if (rc < 0)
		return node_fail(n, "cannot create child job \"%s\": %s", name, strerror(-rc));
	st->child->parent = parent;
	if (opts) {
		otext = json_dumps(opts, JSON_COMPACT);
		rc = otext ? job_submit_options(st->child, otext, strlen(otext)) : -ENOMEM;
		free(otext);
		if (rc < 0)
			return node_fail(n, "child job \"%s\": options refused (see its log)", name);
	}
	/* Built with jansson, never by pasting the name into text; and
	 * submitted as this job's owner, so the exec rule applies to it. */
	{
		json_t *doc = json_pack("{s:s}", "use", spec ? spec : "");
		text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
		json_decref(doc);
	}
	if (!text)
		return node_fail(n, "out of memory");
	rc = job_submit_spec(st->child, text, strlen(text), parent->uid);
	free(text);
	if (rc < 0)
		return node_fail(n, "child job \"%s\": spec \"%s\" refused: %s", name, spec,
				 st->child->error ? st->child->error : strerror(-rc));
	if (st->child->spec->ninputs != 1 || st->child->spec->noutputs != 1)
		return node_fail(n, "spec \"%s\" must have exactly one input and one output "
				 "(it has %d and %d)", spec, st->child->spec->ninputs,
				 st->child->spec->noutputs);
	rc = job_input_open(st->child, st->child->spec->inputs[0].tag, false, &st->in);
	if (rc < 0)
		return node_fail(n, "child job \"%s\": cannot open its input: %s", name, strerror(-rc));
	st->out = job_output(st->child, st->child->spec->outputs[0].tag);
	if ((rc = stream_subscribe(st->out, &n->task)) < 0)
		return node_fail(n, "out of memory");
	job_wait(st->child, &st->ended);
	node_log(n, "invoked %s as child job %s", spec, name);
	return 0;
}

static int feed_child(struct node *n, struct invoke *st)
{
	size_t moved = 0;

	while (st->in && moved < NODE_BUDGET_BYTES) {
		ssize_t got = node_read(n, 0, st->buf, sizeof(st->buf));
		int rc;

		if (got == 0)
			return NODE_IDLE;
		if (got < 0) {
			rc = job_input_close(st->child, st->in);
			st->in = NULL;
			if (rc < 0)
				return node_fail(n, "child job \"%s\" refused its input (see its log)",
						 st->child->name);
			break;
		}
		rc = job_input_write(st->child, st->in, st->buf, (size_t)got);
		if (rc == -EPIPE) {
			st->in = NULL; /* the child stopped reading: discard the rest */
			break;
		}
		if (rc < 0)
			return node_fail(n, "child job \"%s\" refused its input (see its log)",
					 st->child->name);
		moved += (size_t)got;
	}
	return moved >= NODE_BUDGET_BYTES ? NODE_AGAIN : NODE_IDLE;
}

static int invoke_run(struct node *n)
{
	struct invoke *st = n->state;
	int fed;
	size_t moved = 0;

	if (n->stopping) {
		if (st->child && !job_state_final(st->child->state))
			job_cancel(st->child, "its parent job stopped");
		return NODE_DONE;
	}
	fed = feed_child(n, st);
	if (fed < 0)
		return fed;
	while (moved < NODE_BUDGET_BYTES) {
		ssize_t got = stream_pread(st->out, st->buf, sizeof(st->buf), st->out_off);

		if (got <= 0)
			break;
		st->out_off += (uint64_t)got;
		moved += (size_t)got;
		int rc = node_emit(n, 0, st->buf, (size_t)got);

		if (rc < 0)
			return node_output_failed(n, rc);
	}
	if (moved >= NODE_BUDGET_BYTES || fed == NODE_AGAIN)
		return NODE_AGAIN;
	if (stream_ended(st->out) && st->out_off >= stream_size(st->out) && st->child->stopped) {
		if (st->child->state != JOB_SUCCEEDED)
			return node_fail(n, "child job \"%s\" %s: %s", st->child->name,
					 job_state_name(st->child->state),
					 st->child->error ? st->child->error : "no reason given");
		return NODE_DONE;
	}
	return NODE_IDLE;
}

static void invoke_stop(struct node *n)
{
	struct invoke *st = n->state;

	if (!st->child)
		return;
	if (st->out)
		stream_unsubscribe(st->out, &n->task);
	job_unwait(st->child, &st->ended);
	if (st->in)
		job_input_close(st->child, st->in);
	st->in = NULL;
	if (!job_state_final(st->child->state))
		job_cancel(st->child, "its parent job stopped");
	if (n->job->removed)
		job_remove(st->child);
	job_put(st->child);
	st->child = NULL;
}

static void invoke_check(json_t *params, const char *path, struct errs *errs)
{
	const char *spec = json_string_value(json_object_get(params, "spec"));

	if (spec && !name_ok(spec))
		errs_add(errs, "%s.spec: invalid spec name (1 to 255 bytes of [A-Za-z0-9._-], "
			 "not starting with '.')", path);
}

static const struct op_param invoke_params[] = {
	{"spec", PARAM_STRING, true, "name of a registered spec (.specs/NAME.json)"},
	{"options", PARAM_OBJECT, false, "options for the child job (its options.json)"},
	{NULL, 0, false, NULL},
};

const struct op_desc op_invoke = {
	.name = "invoke",
	.summary = "runs a registered spec as a child job JOB.NODE",
	.doc = "The child job is an ordinary job named after this job and node (JOB.NODE):\n"
	       "it has its own status, log and outputs. This node's input is copied to the\n"
	       "child's single input, and the child's single output becomes this node's out.\n"
	       "The node fails when the child job fails; cancelling this job cancels the\n"
	       "child, and removing this job removes the child too.\n\n"
	       "example:\n"
	       "  \"shout\": {\"op\": \"invoke\", \"in\": \"text\", \"spec\": \"shout\",\n"
	       "            \"options\": {\"suffix\": \"!\"}}\n",
	.params = invoke_params,
	.in_ports = NULL,
	.min_inputs = 1,
	.max_inputs = 1,
	.out_ports = NULL,
	.check = invoke_check,
	.state_size = sizeof(struct invoke),
	.start = invoke_start,
	.run = invoke_run,
	.stop = invoke_stop,
};
