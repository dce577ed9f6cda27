/* count.c - at the end of all inputs, one line with the number of records
 * or bytes. Inputs are read as raw chunks (the order does not matter):
 * records are the '\n's plus, per input, a last line without one. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineop.h"

struct count {
	bool bytes;          /* what: "bytes" */
	uint64_t total;
	bool *open;          /* per input: the last byte read was not '\n' */
	bool *done;          /* per input: ended and drained */
	char buf[LINEOP_CHUNK];
};

static int count_start(struct node *n)
{
	struct count *c = n->state;
	const char *what = param_str(n->params, "what");

	c->bytes = what && strcmp(what, "bytes") == 0;
	c->open = calloc((size_t)n->nin + 1, sizeof(bool));
	c->done = calloc((size_t)n->nin + 1, sizeof(bool));
	if (!c->open || !c->done)
		return node_fail(n, "out of memory");
	return 0;
}

static uint64_t newlines(const char *p, size_t len)
{
	const char *end = p + len;
	uint64_t k = 0;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

static int count_run(struct node *n)
{
	struct count *c = n->state;
	size_t budget = 0;
	char line[32];
	bool progress = true;

	if (n->stopping)
		return NODE_DONE;
	while (progress) {
		int ndone = 0;

		progress = false;
		for (int i = 0; i < n->nin; i++) {
			ssize_t got;

			if (c->done[i]) {
				ndone++;
				continue;
			}
			got = node_read(n, i, c->buf, sizeof(c->buf));
			if (got < 0) {
				c->done[i] = true;
				c->total += !c->bytes && c->open[i];
				ndone++;
				continue;
			}
			if (got == 0)
				continue;
			progress = true;
			budget += (size_t)got;
			if (c->bytes) {
				c->total += (uint64_t)got;
			} else {
				c->total += newlines(c->buf, (size_t)got);
				c->open[i] = c->buf[got - 1] != '\n';
			}
		}
		if (ndone == n->nin) {
			int len = snprintf(line, sizeof(line), "%" PRIu64, c->total);
			int rc = lineop_emit_line(n, 0, line, (size_t)len);

			return rc < 0 ? rc : NODE_DONE;
		}
		if (budget >= NODE_BUDGET_BYTES)
			return NODE_AGAIN;
	}
	return NODE_IDLE;
}

static void count_stop(struct node *n)
{
	struct count *c = n->state;

	free(c->open);
	free(c->done);
	c->open = c->done = NULL;
}

static void count_check(json_t *params, const char *path, struct errs *errs)
{
	const char *what = param_str(params, "what");

	if (what && strcmp(what, "records") && strcmp(what, "bytes"))
		errs_add(errs, "%s.what: must be \"records\" or \"bytes\", not \"%s\"", path, what);
}

static const struct op_param count_params[] = {
	{"what", PARAM_STRING, false, "\"records\" (default: lines) or \"bytes\""},
	{.name = NULL},
};

const struct op_desc op_count = {
	.name = "count",
	.summary = "at the end of its input, one line with the number of records or bytes",
	.doc =
		"Counts the records (lines; a last line without a newline counts too)\n"
		"or the bytes of all its inputs, and when every input has ended emits\n"
		"one record: the number in decimal. An empty input gives \"0\".\n"
		"\n"
		"examples:\n"
		"  \"lines\": {\"op\": \"count\", \"in\": \"events\"}\n"
		"  \"size\":  {\"op\": \"count\", \"in\": \"events\", \"what\": \"bytes\"}\n",
	.params = count_params,
	.min_inputs = 1,
	.check = count_check,
	.state_size = sizeof(struct count),
	.start = count_start,
	.run = count_run,
	.stop = count_stop,
};
