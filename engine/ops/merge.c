/* merge.c - all inputs, record by record, in arrival order. */
#include "lineop.h"

static int merge_rec(struct node *n, const char *rec, size_t len, uint64_t recno)
{
	(void)recno;
	return lineop_emit_line(n, 0, rec, len);
}

static int merge_run(struct node *n)
{
	return lineop_records(n, n->state, merge_rec);
}

static const struct op_param merge_params[] = {{.name = NULL}};

const struct op_desc op_merge = {
	.name = "merge",
	.summary = "merges its inputs record by record, in arrival order",
	.doc =
		"Emits the records (lines) of all its inputs as they arrive: whichever\n"
		"input has a complete record goes next, so a live input is never held\n"
		"back by a slow one. Records are never cut or interleaved; each output\n"
		"record ends in a newline. The output ends when every input has ended.\n"
		"For one input after another instead, use concat.\n"
		"\n"
		"example:\n"
		"  \"mix\": {\"op\": \"merge\", \"in\": [\"loud\", \"quiet\"]}\n",
	.params = merge_params,
	.min_inputs = 1,
	.state_size = sizeof(uint64_t),
	.run = merge_run,
};
