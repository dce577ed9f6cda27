/* filter.c - keeps the JSON object records whose field equals a value or
 * matches a regular expression. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lineop.h"

struct filter {
	uint64_t recno;
	char *field;
	json_t *equals;      /* a reference, or NULL when matching */
	struct matcher m;
	struct buf text;     /* compact JSON of a non-string field */
};

static int filter_start(struct node *n)
{
	struct filter *f = n->state;
	const char *field = param_str(n->params, "field");
	const char *matches = param_str(n->params, "matches");
	char err[256];

	if (!field || !(f->field = strdup(field)))
		return node_fail(n, "field is required");
	f->equals = json_incref(json_object_get(n->params, "equals"));
	if (!f->equals) {
		if (!matches)
			return node_fail(n, "one of equals and matches is required");
		if (matcher_init(&f->m, matches, false, false, err, sizeof(err)))
			return node_fail(n, "matches: invalid regular expression: %s", err);
	}
	return 0;
}

static int filter_rec(struct node *n, const char *rec, size_t len, uint64_t recno)
{
	struct filter *f = n->state;
	json_t *obj = NULL, *v;
	bool keep;
	int rc = lineop_json(n, rec, len, recno, &obj);

	if (rc <= 0)
		return rc;
	if (!json_is_object(obj)) {
		json_decref(obj);
		return node_fail(n, "record %" PRIu64 ": not a JSON object", recno);
	}
	v = lineop_field(obj, f->field);
	if (!v) {
		keep = false;
	} else if (f->equals) {
		keep = json_equal(v, f->equals);
	} else if (json_is_string(v)) {
		keep = matcher_match(&f->m, json_string_value(v), json_string_length(v));
	} else {
		f->text.len = 0;
		if (lineop_dump(&f->text, v) < 0) {
			json_decref(obj);
			return node_fail(n, "out of memory");
		}
		keep = matcher_match(&f->m, f->text.p, f->text.len);
	}
	rc = keep ? lineop_emit_json(n, 0, obj, &f->text) : 0;
	json_decref(obj);
	return rc;
}

static int filter_run(struct node *n)
{
	struct filter *f = n->state;

	return lineop_records(n, &f->recno, filter_rec);
}

static void filter_stop(struct node *n)
{
	struct filter *f = n->state;

	free(f->field);
	json_decref(f->equals);
	matcher_free(&f->m);
	buf_free(&f->text);
	memset(f, 0, sizeof(*f));
}

static void filter_check(json_t *params, const char *path, struct errs *errs)
{
	bool eq = json_object_get(params, "equals") != NULL;
	bool re = json_object_get(params, "matches") != NULL;

	if (eq == re)
		errs_add(errs, "%s: %s", path,
			 eq ? "give either equals or matches, not both"
			    : "one of equals and matches is required");
	if (re)
		lineop_check_regex(params, "matches", false, path, errs);
}

static const struct op_param filter_params[] = {
	{"field", PARAM_STRING, true, "the field to test; \"a.b\" reaches into nested objects"},
	{"equals", PARAM_ANY, false, "keep records whose field equals this JSON value"},
	{"matches", PARAM_STRING, false,
	 "keep records whose field matches this POSIX extended regular expression"},
	{.name = NULL},
};

const struct op_desc op_filter = {
	.name = "filter",
	.summary = "keeps the JSON objects whose field equals a value or matches a pattern",
	.doc =
		"Each record must be a JSON object. It is kept when its field `field`\n"
		"  - equals the JSON value `equals` (same type and value: 5 is not \"5\"\n"
		"    and, as in jansson, not 5.0; objects and arrays compare deeply), or\n"
		"  - matches `matches`, a POSIX extended regular expression tested on a\n"
		"    string field's text or, for any other value, its compact JSON.\n"
		"Give exactly one of equals and matches. A record without the field is\n"
		"dropped; a record that is not JSON or not an object makes the node\n"
		"fail (\"record 3: ...\"). Blank records are skipped. Kept records are\n"
		"emitted as compact JSON.\n"
		"\n"
		"examples:\n"
		"  \"hot\":   {\"op\": \"filter\", \"in\": \"toppings\", \"field\": \"spicy\", \"equals\": true}\n"
		"  \"herbs\": {\"op\": \"filter\", \"in\": \"toppings\", \"field\": \"kind.name\",\n"
		"            \"matches\": \"^(basil|oregano)$\"}\n",
	.params = filter_params,
	.min_inputs = 1,
	.check = filter_check,
	.state_size = sizeof(struct filter),
	.start = filter_start,
	.run = filter_run,
	.stop = filter_stop,
};
