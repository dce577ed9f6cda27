/* head.c - the first n records, then done. */
#include "lineop.h"

struct head {
	uint64_t recno;
	long long n;
};

static int head_rec(struct node *n, const char *rec, size_t len, uint64_t recno)
{
	struct head *h = n->state;
	int rc = lineop_emit_line(n, 0, rec, len);

	if (rc < 0)
		return rc;
	return (long long)recno >= h->n ? NODE_DONE : 0;
}

static int head_start(struct node *n)
{
	struct head *h = n->state;

	h->n = param_int(n->params, "n", 0);
	return 0;
}

static int head_run(struct node *n)
{
	struct head *h = n->state;

	if ((long long)h->recno >= h->n)
		return NODE_DONE;
	return lineop_records(n, &h->recno, head_rec);
}

static void head_check(json_t *params, const char *path, struct errs *errs)
{
	json_t *v = json_object_get(params, "n");

	if (json_is_integer(v) && json_integer_value(v) < 0)
		errs_add(errs, "%s.n: must be 0 or more", path);
}

static const struct op_param head_params[] = {
	{"n", PARAM_INT, true, "how many records to pass on (0 or more)"},
	{.name = NULL},
};

const struct op_desc op_head = {
	.name = "head",
	.summary = "the first n records, then ends",
	.doc =
		"Passes on the first n records (lines) of its input, then ends its\n"
		"output at once, without waiting for the input to end: the rest of\n"
		"the input is not read. With several inputs, the first n records in\n"
		"arrival order. Each output record ends in a newline.\n"
		"\n"
		"example:\n"
		"  \"top\": {\"op\": \"head\", \"in\": \"ranked\", \"n\": 10}\n",
	.params = head_params,
	.min_inputs = 1,
	.check = head_check,
	.state_size = sizeof(struct head),
	.start = head_start,
	.run = head_run,
};
