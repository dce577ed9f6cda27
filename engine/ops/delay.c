/* delay.c - passes each record on ms after it arrived and ms after the
 * previous one was passed on: output drips at most one record per ms. One
 * record waits in the state; a timerfd on the reactor wakes the node. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "lineop.h"
#include "reactor.h"

struct delay {
	int64_t ms;
	int tfd;            /* timerfd + 1 (0: none yet) */
	bool have;          /* rec holds the pending record */
	struct buf rec;
	int64_t due_ns;     /* when the pending record goes */
	int64_t last_ns;    /* when the previous record went (0: none yet) */
};

static int delay_start(struct node *n)
{
	struct delay *d = n->state;

	d->ms = param_int(n->params, "ms", 0);
	if (d->ms > 0) {
		int fd = reactor_timer(env_reactor(node_env(n)), &n->task);

		if (fd < 0)
			return node_fail(n, "cannot create a timer: %s", strerror(-fd));
		d->tfd = fd + 1;
	}
	return 0;
}

static int delay_run(struct node *n)
{
	struct delay *d = n->state;
	int64_t ms_ns = d->ms * 1000000;
	int rc;

	if (n->stopping)
		return NODE_DONE;
	if (d->tfd)
		timer_read(d->tfd - 1);
	for (unsigned k = 0; k < NODE_BUDGET_RECORDS; k++) {
		int64_t now = mono_ns();

		if (!d->have) {
			const char *rec;
			size_t len;
			int which, r = node_next_line(n, &rec, &len, &which);

			if (r == 0)
				return NODE_IDLE;
			if (r < 0)
				return NODE_DONE;
			if (d->ms == 0) {
				if ((rc = lineop_emit_line(n, 0, rec, len)) < 0)
					return rc;
				continue;
			}
			d->rec.len = 0;
			if (buf_append(&d->rec, rec, len) < 0)
				return node_fail(n, "out of memory");
			d->have = true;
			d->due_ns = (d->last_ns > now ? d->last_ns : now) + ms_ns;
		}
		if (now < d->due_ns) {
			rc = timer_arm(d->tfd - 1, d->due_ns - now);
			if (rc < 0)
				return node_fail(n, "cannot arm a timer: %s", strerror(-rc));
			return NODE_IDLE;
		}
		if ((rc = lineop_emit_line(n, 0, d->rec.p ? d->rec.p : "", d->rec.len)) < 0)
			return rc;
		d->have = false;
		d->last_ns = now;
		/* Let the record reach its readers now, not with the next one. */
		node_flush(n);
	}
	return NODE_AGAIN;
}

static void delay_stop(struct node *n)
{
	struct delay *d = n->state;

	if (d->tfd) {
		reactor_del(env_reactor(node_env(n)), d->tfd - 1);
		close(d->tfd - 1);
	}
	buf_free(&d->rec);
	memset(d, 0, sizeof(*d));
}

static void delay_check(json_t *params, const char *path, struct errs *errs)
{
	json_t *v = json_object_get(params, "ms");

	if (json_is_integer(v) && (json_integer_value(v) < 0 || json_integer_value(v) > 86400000))
		errs_add(errs, "%s.ms: must be from 0 to 86400000 (a day)", path);
}

static const struct op_param delay_params[] = {
	{"ms", PARAM_INT, true, "milliseconds each record waits (0 or more)"},
	{.name = NULL},
};

const struct op_desc op_delay = {
	.name = "delay",
	.summary = "passes each record on after ms milliseconds",
	.doc =
		"Holds each record (line) for `ms` milliseconds: a record is passed\n"
		"on ms after it arrived and at least ms after the previous record was\n"
		"passed on, so a burst of input drips out at one record per ms. The\n"
		"output ends after the last record once the input has ended. Meant for\n"
		"live demos and tests of streaming (watch it with tail -f). Each output\n"
		"record ends in a newline; several inputs are merged in arrival order.\n"
		"\n"
		"example: one line every 200 ms\n"
		"  \"slow\": {\"op\": \"delay\", \"in\": \"text\", \"ms\": 200}\n",
	.params = delay_params,
	.min_inputs = 1,
	.check = delay_check,
	.state_size = sizeof(struct delay),
	.start = delay_start,
	.run = delay_run,
	.stop = delay_stop,
};
