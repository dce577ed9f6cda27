/* split.c - records matching a POSIX ERE to port "match", the others to
 * port "rest". */
#include "lineop.h"

static int split_start(struct node *n)
{
	struct lineop_select *s = n->state;
	char err[256];

	if (matcher_init(&s->m, param_str(n->params, "pattern"),
			 param_bool(n->params, "ignore_case", false), true, err, sizeof(err)))
		return node_fail(n, "invalid regular expression: %s", err);
	s->port_match = 0;
	s->port_rest = 1;
	return 0;
}

static int split_run(struct node *n)
{
	return lineop_select_run(n, n->state);
}

static void split_stop(struct node *n)
{
	lineop_select_free(n->state);
}

static void split_check(json_t *params, const char *path, struct errs *errs)
{
	lineop_check_regex(params, "pattern", param_bool(params, "ignore_case", false), path, errs);
}

static const struct op_param split_params[] = {
	{"pattern", PARAM_STRING, true, "POSIX extended regular expression (as grep -E)"},
	{"ignore_case", PARAM_BOOL, false, "match without regard to case; default false"},
	{.name = NULL},
};

static const char *const split_out[] = {"match", "rest", NULL};

const struct op_desc op_split = {
	.name = "split",
	.summary = "routes records to port match or rest by a regular expression",
	.doc =
		"Sends each record (line) in which the POSIX extended regular\n"
		"expression `pattern` matches to the output port \"match\" and every\n"
		"other record to the port \"rest\", like grep -E and grep -v -E at once.\n"
		"Other nodes read the ports as NODE.match and NODE.rest (NODE alone is\n"
		"NODE.match). Each output record ends in a newline.\n"
		"\n"
		"example:\n"
		"  \"triage\": {\"op\": \"split\", \"in\": \"events\", \"pattern\": \"error|warn\"},\n"
		"  \"loud\":   {\"op\": \"upper\", \"in\": \"triage.match\"},\n"
		"  \"quiet\":  {\"op\": \"lower\", \"in\": \"triage.rest\"}\n",
	.params = split_params,
	.min_inputs = 1,
	.out_ports = split_out,
	.check = split_check,
	.state_size = sizeof(struct lineop_select),
	.start = split_start,
	.run = split_run,
	.stop = split_stop,
};
