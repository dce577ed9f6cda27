/* grep.c - keeps the records that match a POSIX ERE (or, with invert, the
 * ones that do not). One input is scanned in blocks of lines. */
#include "lineop.h"

static int grep_start(struct node *n)
{
	struct lineop_select *s = n->state;
	bool invert = param_bool(n->params, "invert", false);
	char err[256];

	if (matcher_init(&s->m, param_str(n->params, "pattern"),
			 param_bool(n->params, "ignore_case", false), true, err, sizeof(err)))
		return node_fail(n, "invalid regular expression: %s", err);
	s->port_match = invert ? -1 : 0;
	s->port_rest = invert ? 0 : -1;
	return 0;
}

static int grep_run(struct node *n)
{
	return lineop_select_run(n, n->state);
}

static void grep_stop(struct node *n)
{
	lineop_select_free(n->state);
}

static void grep_check(json_t *params, const char *path, struct errs *errs)
{
	lineop_check_regex(params, "pattern", param_bool(params, "ignore_case", false), path, errs);
}

static const struct op_param grep_params[] = {
	{"pattern", PARAM_STRING, true, "POSIX extended regular expression (as grep -E)"},
	{"invert", PARAM_BOOL, false, "keep the records that do not match (grep -v); default false"},
	{"ignore_case", PARAM_BOOL, false, "match without regard to case (grep -i); default false"},
	{.name = NULL},
};

const struct op_desc op_grep = {
	.name = "grep",
	.summary = "keeps the records that match a regular expression",
	.doc =
		"Passes on each record (line) in which the POSIX extended regular\n"
		"expression `pattern` matches somewhere, like grep -E; ^ and $ anchor\n"
		"at the start and end of the record. With invert, passes on the\n"
		"records that do not match (grep -v); with ignore_case, letters match\n"
		"either case (grep -i). Each output record ends in a newline. Several\n"
		"inputs are merged in arrival order.\n"
		"\n"
		"example:\n"
		"  \"errors\": {\"op\": \"grep\", \"in\": \"log\", \"pattern\": \"^(ERROR|FATAL) \",\n"
		"             \"ignore_case\": true}\n",
	.params = grep_params,
	.min_inputs = 1,
	.check = grep_check,
	.state_size = sizeof(struct lineop_select),
	.start = grep_start,
	.run = grep_run,
	.stop = grep_stop,
};
