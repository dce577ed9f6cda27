/* pick.c - keeps the named fields of each JSON object record. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lineop.h"

struct pick {
	uint64_t recno;
	json_t *fields;  /* the param (a reference) */
	struct buf out;
};

static int pick_start(struct node *n)
{
	struct pick *p = n->state;

	p->fields = json_incref(json_object_get(n->params, "fields"));
	if (!json_is_array(p->fields))
		return node_fail(n, "fields must be an array of strings");
	return 0;
}

static int pick_rec(struct node *n, const char *rec, size_t len, uint64_t recno)
{
	struct pick *p = n->state;
	json_t *obj = NULL, *res, *f;
	size_t i;
	int rc = lineop_json(n, rec, len, recno, &obj);

	if (rc <= 0)
		return rc;
	if (!json_is_object(obj)) {
		json_decref(obj);
		return node_fail(n, "record %" PRIu64 ": not a JSON object", recno);
	}
	res = json_object();
	json_array_foreach(p->fields, i, f) {
		const char *key = json_string_value(f);
		json_t *v = key ? json_object_get(obj, key) : NULL;

		if (v && res)
			json_object_set(res, key, v);
	}
	rc = res ? lineop_emit_json(n, 0, res, &p->out) : node_fail(n, "out of memory");
	json_decref(res);
	json_decref(obj);
	return rc;
}

static int pick_run(struct node *n)
{
	struct pick *p = n->state;

	return lineop_records(n, &p->recno, pick_rec);
}

static void pick_stop(struct node *n)
{
	struct pick *p = n->state;

	json_decref(p->fields);
	buf_free(&p->out);
	memset(p, 0, sizeof(*p));
}

static const struct op_param pick_params[] = {
	{"fields", PARAM_STRING_ARRAY, true, "the names of the fields to keep, in output order"},
	{.name = NULL},
};

const struct op_desc op_pick = {
	.name = "pick",
	.summary = "keeps the named fields of each JSON object",
	.doc =
		"Each record must be a JSON object; emits a new object holding only\n"
		"the fields named in `fields`, in that order, as compact JSON. A field\n"
		"the record lacks is simply absent from the output. A record that is\n"
		"not JSON, or not an object, makes the node fail (\"record 3: ...\").\n"
		"Blank records are skipped. Names are matched exactly (a name with a\n"
		"dot is one top-level field).\n"
		"\n"
		"example: {\"name\":\"basil\",\"grams\":5,\"id\":7} becomes {\"id\":7,\"name\":\"basil\"}\n"
		"  \"slim\": {\"op\": \"pick\", \"in\": \"toppings\", \"fields\": [\"id\", \"name\"]}\n",
	.params = pick_params,
	.min_inputs = 1,
	.state_size = sizeof(struct pick),
	.start = pick_start,
	.run = pick_run,
	.stop = pick_stop,
};
