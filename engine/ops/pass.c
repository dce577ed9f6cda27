/* pass.c - copies its input. One input: the bytes exactly, and usually
 * without a copy at all (its output is a view of its input's store file,
 * see stream_share); else in large raw chunks. Several inputs: their
 * records, merged in arrival order. */
#include "lineop.h"

static int pass_rec(struct node *n, const char *rec, size_t len, uint64_t recno)
{
	(void)recno;
	return lineop_emit_line(n, 0, rec, len);
}

static int pass_run(struct node *n)
{
	struct lineop_raw *r = n->state;

	if (node_forwards(n))
		return node_forward(n);
	if (n->nin == 1)
		return lineop_raw(n, r, NULL, false);
	return lineop_records(n, &r->recno, pass_rec);
}

static const struct op_param pass_params[] = {{.name = NULL}};

const struct op_desc op_pass = {
	.name = "pass",
	.summary = "copies its input unchanged",
	.doc =
		"Copies its input to its output. With one input the bytes are copied\n"
		"exactly (no line splitting, a last line without a newline stays that\n"
		"way). With several inputs their records (lines) are merged in arrival\n"
		"order, each ending in a newline, and lines are never interleaved.\n"
		"\n"
		"Use it to expose a stream under another name, or to join streams.\n"
		"\n"
		"example:\n"
		"  \"copy\": {\"op\": \"pass\", \"in\": \"text\"}\n",
	.params = pass_params,
	.min_inputs = 1,
	.output_is_input = true,
	.state_size = sizeof(struct lineop_raw),
	.run = pass_run,
};
