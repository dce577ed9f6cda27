/* concat.c - inputs one after another, in "in" order. */
#include "lineop.h"

struct concat {
	int cur; /* the input being copied; later ones wait in their streams */
};

static int concat_run(struct node *n)
{
	struct concat *c = n->state;
	unsigned count = 0;
	size_t bytes = 0;

	if (n->stopping)
		return NODE_DONE;
	while (c->cur < n->nin) {
		const char *rec;
		size_t len;
		int r, rc;

		if (count >= NODE_BUDGET_RECORDS || bytes >= NODE_BUDGET_BYTES)
			return NODE_AGAIN;
		r = node_next_line_from(n, c->cur, &rec, &len);
		if (r == 0)
			return NODE_IDLE;
		if (r < 0) {
			c->cur++;
			continue;
		}
		if ((rc = lineop_emit_line(n, 0, rec, len)) < 0)
			return rc;
		count++;
		bytes += len + 1;
	}
	return NODE_DONE;
}

static const struct op_param concat_params[] = {{.name = NULL}};

const struct op_desc op_concat = {
	.name = "concat",
	.summary = "its inputs one after another, in \"in\" order",
	.doc =
		"Copies the records of its first input until that input ends, then\n"
		"those of the second, and so on, in the order of the node's \"in\"\n"
		"array. Records of a later input that arrive early wait in their\n"
		"stream (nothing is lost, nothing is held in memory). Each output\n"
		"record ends in a newline. For arrival order instead, use merge.\n"
		"\n"
		"example:\n"
		"  \"report\": {\"op\": \"concat\", \"in\": [\"header\", \"body\", \"footer\"]}\n",
	.params = concat_params,
	.min_inputs = 1,
	.state_size = sizeof(struct concat),
	.run = concat_run,
};
