/* template.c - formats each record with a text template: {field} takes a
 * field of a JSON object record ("a.b" reaches into nested objects), {line}
 * the whole record as text, {{ and }} are literal braces. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineop.h"

enum { SEG_TEXT, SEG_LINE, SEG_FIELD };

struct seg {
	int kind;
	const char *s;   /* SEG_TEXT: bytes; SEG_FIELD: the NUL-terminated path */
	size_t len;
};

struct template {
	uint64_t recno;
	char *store;     /* unescaped text and field names */
	struct seg *segs;
	int nsegs;
	bool json;       /* some {field}: records are JSON objects */
	struct buf out;  /* the record being built (reused) */
};

/* Parse text into segments (when t is given). NULL, or an error message
 * written to err. */
static const char *parse(const char *text, struct template *t, char *err, size_t errcap)
{
	size_t len = strlen(text), w = 0, start = 0;
	int ns = 0;

	if (t) {
		t->store = malloc(len + 1);
		t->segs = calloc(len + 1, sizeof(*t->segs));
		if (!t->store || !t->segs)
			return snprintf(err, errcap, "out of memory"), err;
	}
#define TEXT_SEG()                                                                      \
	do {                                                                            \
		if (t && w > start)                                                     \
			t->segs[ns++] = (struct seg){SEG_TEXT, t->store + start, w - start}; \
	} while (0)
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if ((c == '{' || c == '}') && text[i + 1] == c) {
			if (t)
				t->store[w] = c;
			w++;
			i++;
			continue;
		}
		if (c == '}') {
			snprintf(err, errcap, "single \"}\" at byte %zu (write \"}}\" for a brace)", i);
			return err;
		}
		if (c != '{') {
			if (t)
				t->store[w] = c;
			w++;
			continue;
		}
		size_t j = i + 1;
		while (j < len && text[j] != '}' && text[j] != '{')
			j++;
		if (j >= len || text[j] == '{') {
			snprintf(err, errcap, "unclosed \"{\" at byte %zu (write \"{{\" for a brace)", i);
			return err;
		}
		if (j == i + 1) {
			snprintf(err, errcap, "empty \"{}\" at byte %zu", i);
			return err;
		}
		TEXT_SEG();
		if (t) {
			bool line = j - i - 1 == 4 && memcmp(text + i + 1, "line", 4) == 0;

			memcpy(t->store + w, text + i + 1, j - i - 1);
			t->store[w + (j - i - 1)] = '\0';
			t->segs[ns++] = (struct seg){line ? SEG_LINE : SEG_FIELD, t->store + w, j - i - 1};
			t->json |= !line;
		}
		w += j - i;
		start = w;
		i = j;
	}
	TEXT_SEG();
#undef TEXT_SEG
	if (t)
		t->nsegs = ns;
	return NULL;
}

static int template_start(struct node *n)
{
	struct template *t = n->state;
	const char *text = param_str(n->params, "text");
	char err[128];

	if (!text)
		return node_fail(n, "text is required");
	if (parse(text, t, err, sizeof(err)))
		return node_fail(n, "text: %s", err);
	return 0;
}

static int template_rec(struct node *n, const char *rec, size_t len, uint64_t recno)
{
	struct template *t = n->state;
	json_t *obj = NULL;
	int rc = 0, fail = 0;

	if (t->json) {
		rc = lineop_json(n, rec, len, recno, &obj);
		if (rc <= 0)
			return rc; /* blank record: skipped; or failed */
		if (!json_is_object(obj)) {
			json_decref(obj);
			return node_fail(n, "record %" PRIu64 ": not a JSON object", recno);
		}
	}
	t->out.len = 0;
	for (int i = 0; i < t->nsegs && !fail; i++) {
		const struct seg *s = &t->segs[i];
		json_t *v;

		switch (s->kind) {
		case SEG_TEXT:
			fail = buf_append(&t->out, s->s, s->len) < 0;
			break;
		case SEG_LINE:
			fail = buf_append(&t->out, rec, len) < 0;
			break;
		default:
			v = lineop_field(obj, s->s);
			if (!v) {
				rc = node_fail(n, "record %" PRIu64 ": no field \"%s\"", recno, s->s);
				json_decref(obj);
				return rc;
			}
			if (json_is_string(v))
				fail = buf_append(&t->out, json_string_value(v), json_string_length(v)) < 0;
			else
				fail = lineop_dump(&t->out, v) < 0;
		}
	}
	json_decref(obj);
	if (fail)
		return node_fail(n, "out of memory");
	return lineop_emit_line(n, 0, t->out.p ? t->out.p : "", t->out.len);
}

static int template_run(struct node *n)
{
	struct template *t = n->state;

	return lineop_records(n, &t->recno, template_rec);
}

static void template_stop(struct node *n)
{
	struct template *t = n->state;

	free(t->store);
	free(t->segs);
	buf_free(&t->out);
	memset(t, 0, sizeof(*t));
}

static void template_check(json_t *params, const char *path, struct errs *errs)
{
	const char *text = param_str(params, "text");
	char err[128];

	if (text && parse(text, NULL, err, sizeof(err)))
		errs_add(errs, "%s.text: %s", path, err);
}

static const struct op_param template_params[] = {
	{"text", PARAM_STRING, true,
	 "the output record: {field} and {line} are replaced, {{ and }} are braces"},
	{.name = NULL},
};

const struct op_desc op_template = {
	.name = "template",
	.summary = "formats each JSON record or line with a text template",
	.doc =
		"Emits one record per input record: `text` with its placeholders\n"
		"filled in.\n"
		"  {line}    the whole input record, as text\n"
		"  {NAME}    field NAME of the record, which must then be a JSON object;\n"
		"            {a.b} reaches into nested objects (and arrays: {items.0})\n"
		"  {{ }}     a literal { or }\n"
		"A string field is inserted as is (no quotes), any other value as\n"
		"compact JSON (42, true, null, [1,2], {\"k\":\"v\"}). A record without the\n"
		"field, a record that is not JSON or not an object, makes the node\n"
		"fail, naming the record (record 3: no field \"name\"). When only\n"
		"{line} is used, records are plain lines and need not be JSON. Blank\n"
		"JSON records are skipped. Each output record ends in a newline.\n"
		"\n"
		"example: {\"name\": \"basil\", \"grams\": 5} becomes \"basil: 5 g\"\n"
		"  \"names\": {\"op\": \"template\", \"in\": \"toppings\", \"text\": \"{name}: {grams} g\"}\n",
	.params = template_params,
	.min_inputs = 1,
	.check = template_check,
	.state_size = sizeof(struct template),
	.start = template_start,
	.run = template_run,
	.stop = template_stop,
};
