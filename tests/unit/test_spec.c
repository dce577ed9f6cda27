/* test_spec.c - spec.json and options.json: the pizza of DESIGN.md section 5
 * (effective options, ${} expansion, order, stream refs, {"use"}), every
 * class of mistake with its exact message, and hostile input (wrong types
 * everywhere, mutations, deep nesting, huge texts) that must never crash.
 *
 * Most tests use a private table of operators (through spec_ctx.find_op)
 * shaped like the real ones, so that they pin down the checker and not the
 * operators; test_real_ops runs the pizza through the real registry.
 * Specs are written with ' for " to stay readable: see jq(). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

/* ---- a private operator table ---- */

static void head_check(json_t *params, const char *path, struct errs *errs)
{
	if (json_integer_value(json_object_get(params, "n")) < 0)
		errs_add(errs, "%s.n: must be 0 or more", path);
}

/* Stands for a regex compile: braces are "bad" here, so a check that runs
 * on an unexpanded ${...} shows up as an error. */
static void grep_check(json_t *params, const char *path, struct errs *errs)
{
	const char *pat = json_string_value(json_object_get(params, "pattern"));

	if (pat && (strchr(pat, '(') || strchr(pat, '{')))
		errs_add(errs, "%s.pattern: bad regex", path);
}

static const struct op_param no_params[] = {{.name = NULL}};
static const struct op_param exec_params[] = {
	{"argv", PARAM_STRING_ARRAY, true, "program"},
	{"env", PARAM_STRING_OBJECT, false, "environment"},
	{"accept_exit", PARAM_INT_ARRAY, false, "statuses"},
	{"timeout_ms", PARAM_INT, false, "timeout"},
	{.name = NULL},
};
static const struct op_param template_params[] = {{"text", PARAM_STRING, true, "text"}, {.name = NULL}};
static const struct op_param count_params[] = {{"what", PARAM_STRING, false, "what"}, {.name = NULL}};
static const struct op_param head_params[] = {{"n", PARAM_INT, true, "n"}, {.name = NULL}};
static const struct op_param grep_params[] = {
	{"pattern", PARAM_STRING, true, "regex"},
	{"invert", PARAM_BOOL, false, "invert"},
	{.name = NULL},
};
static const struct op_param delay_params[] = {{"ms", PARAM_NUMBER, true, "ms"}, {.name = NULL}};
static const struct op_param bag_params[] = {
	{"s", PARAM_STRING, false, ""},
	{"o", PARAM_OBJECT, false, ""},
	{"a", PARAM_ANY, false, ""},
	{.name = NULL},
};
static const char *const split_out[] = {"match", "rest", NULL};
static const char *const join_in[] = {"left", "right", NULL};

static const struct op_desc fake_pass = {.name = "pass", .params = no_params, .min_inputs = 1};
static const struct op_desc fake_upper = {.name = "upper", .params = no_params, .min_inputs = 1};
static const struct op_desc fake_exec = {.name = "exec", .params = exec_params};
static const struct op_desc fake_template = {.name = "template", .params = template_params,
					     .min_inputs = 1};
static const struct op_desc fake_count = {.name = "count", .params = count_params, .min_inputs = 1};
static const struct op_desc fake_head = {.name = "head", .params = head_params, .min_inputs = 1,
					 .check = head_check};
static const struct op_desc fake_grep = {.name = "grep", .params = grep_params, .min_inputs = 1,
					 .check = grep_check};
static const struct op_desc fake_split = {.name = "split", .params = grep_params, .min_inputs = 1,
					  .out_ports = split_out};
static const struct op_desc fake_delay = {.name = "delay", .params = delay_params, .min_inputs = 1};
static const struct op_desc fake_bag = {.name = "bag", .params = bag_params, .min_inputs = 1};
static const struct op_desc fake_join = {.name = "join", .params = NULL, .in_ports = join_in};
static const struct op_desc fake_zip = {.name = "zip", .min_inputs = 2, .max_inputs = 3};
static const struct op_desc fake_one = {.name = "one", .min_inputs = 1, .max_inputs = 1};

static const struct op_desc *const fake_ops[] = {
	&fake_pass, &fake_upper, &fake_exec, &fake_template, &fake_count, &fake_head, &fake_grep,
	&fake_split, &fake_delay, &fake_bag, &fake_join, &fake_zip, &fake_one, NULL,
};

static const struct op_desc *fake_find(void *arg, const char *name)
{
	(void)arg;
	for (int i = 0; fake_ops[i]; i++)
		if (strcmp(fake_ops[i]->name, name) == 0)
			return fake_ops[i];
	return NULL;
}

/* ---- a private registry of specs ---- */

#define PIZZA                                                                                    \
	"{'name': 'pizza', 'description': 'the gourmet pizza of the Livestack docs',"            \
	" 'options': {"                                                                          \
	"   'spice': {'type': 'string', 'enum': ['mild', 'hot', 'extra'], 'default': 'mild'},"   \
	"   'size':  {'type': 'integer', 'minimum': 20, 'maximum': 50, 'default': 30}},"         \
	" 'inputs': {"                                                                           \
	"   'dough':    {'format': 'lines'},"                                                    \
	"   'toppings': {'format': 'json', 'schema': {'type': 'object', 'required': ['name']}}}," \
	" 'outputs': {'pizza': {'from': 'bake'}, 'receipt': {'from': 'count'}},"                 \
	" 'nodes': {"                                                                            \
	"   'knead': {'op': 'upper', 'in': 'dough'},"                                            \
	"   'names': {'op': 'template', 'in': 'toppings', 'text': '{name}'},"                    \
	"   'bake':  {'op': 'exec', 'in': ['knead', 'names'],"                                   \
	"             'argv': ['sed', 's/^/${spice} ${size}cm: /']},"                            \
	"   'count': {'op': 'count', 'in': 'toppings'}}}"

/* One input i, one output o from node n. */
#define MINI(node) "{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'n'}}, 'nodes': {'n': " node "}}"

struct reg_entry {
	const char *name, *text;
};

static const struct reg_entry registry[] = {
	{"pizza", PIZZA},
	{"broken", "{'outputs': {'o': {'from': 'x'}}, 'nodes': {'x': {'op': 'uper', 'in': 'x'}}}"},
	{"garbled", "{'outputs': "},
	{"alias", "{'use': 'pizza'}"},
	{NULL, NULL},
};

/* ' -> " (malloc'd). */
static char *jq(const char *s)
{
	char *d = strdup(s);

	for (char *c = d; *c; c++)
		if (*c == '\'')
			*c = '"';
	return d;
}

static char *reg_find(void *arg, const char *name, size_t *len)
{
	const struct reg_entry *r = arg;

	for (; r->name; r++) {
		if (strcmp(r->name, name) == 0) {
			char *t = jq(r->text);
			*len = strlen(t);
			return t;
		}
	}
	return NULL;
}

static const struct spec_ctx ctx = {
	.registered = reg_find,
	.arg = (void *)registry,
	.find_op = fake_find,
};

/* ---- helpers ---- */

/* Every message is one clean line with its file prefix. */
static void check_messages(const struct errs *e)
{
	for (int i = 0; i < e->n; i++) {
		const char *m = e->msg[i];

		if (strncmp(m, "spec.json: ", 11) != 0 && strncmp(m, "options.json: ", 14) != 0)
			fail_msg("message without file prefix: %s", m);
		for (const char *c = m; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				fail_msg("control byte 0x%02x in message: %s", (unsigned char)*c, m);
		if (strlen(m) > 1500)
			fail_msg("message of %zu bytes", strlen(m));
	}
}

/* Parse raw (not jq'd) texts; opts may be NULL. Returns rc, fills errs. */
static int parse_raw(const char *spec, size_t len, const char *opts, size_t opts_len,
		     struct spec **s, struct errs *e)
{
	int rc;

	errs_init(e);
	rc = spec_parse(spec, len, opts, opts_len, &ctx, s, e);
	check_messages(e);
	if (rc == 0) {
		assert_non_null(*s);
		assert_int_equal(e->n, 0);
	} else {
		assert_int_equal(rc, -EINVAL);
		assert_null(*s);
		assert_true(e->n > 0);
	}
	return rc;
}

static struct spec *parse_ok(const char *spec, const char *opts)
{
	char *js = jq(spec), *jo = opts ? jq(opts) : NULL;
	struct spec *s = NULL;
	struct errs e;

	if (parse_raw(js, strlen(js), jo, jo ? strlen(jo) : 0, &s, &e) != 0) {
		char *all = errs_join(&e);
		fail_msg("unexpected errors: %s\nspec: %s", all, js);
	}
	errs_free(&e);
	free(js);
	free(jo);
	return s;
}

/* The joined messages of a spec that must fail. */
static char *parse_bad(const char *spec, const char *opts, int *count)
{
	char *js = jq(spec), *jo = opts ? jq(opts) : NULL, *all;
	struct spec *s = NULL;
	struct errs e;

	if (parse_raw(js, strlen(js), jo, jo ? strlen(jo) : 0, &s, &e) == 0) {
		spec_free(s);
		fail_msg("spec accepted, want an error: %s", js);
	}
	all = errs_join(&e);
	if (count)
		*count = e.n;
	errs_free(&e);
	free(js);
	free(jo);
	return all;
}

/* Fails with a message containing want. */
static void bad(const char *spec, const char *opts, const char *want)
{
	char *all = parse_bad(spec, opts, NULL);

	if (!strstr(all, want))
		fail_msg("\n want: %s\n got:  %s", want, all);
	free(all);
}

/* Fails with exactly one message, exactly want: no follow-up noise. */
static void bad_only(const char *spec, const char *opts, const char *want)
{
	int n;
	char *all = parse_bad(spec, opts, &n);

	if (n != 1 || strcmp(all, want) != 0)
		fail_msg("\n want only: %s\n got (%d):  %s", want, n, all);
	free(all);
}

static int find_node(const struct spec *s, const char *name)
{
	for (int i = 0; i < s->nnodes; i++)
		if (strcmp(s->nodes[i].name, name) == 0)
			return i;
	fail_msg("no node %s", name);
	return -1;
}

static const char *param_str(const struct spec *s, const char *node, const char *key, int index)
{
	json_t *v = json_object_get(s->nodes[find_node(s, node)].params, key);

	if (index >= 0)
		v = json_array_get(v, (size_t)index);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

/* Producers come before consumers. */
static void assert_topological(const struct spec *s)
{
	for (int k = 0; k < s->nnodes; k++)
		for (int j = 0; j < s->nodes[k].nin; j++)
			assert_true(s->nodes[k].in[j].node < k);
}

/* ---- the pizza ---- */

static void test_pizza_defaults(void **state)
{
	struct spec *s = parse_ok(PIZZA, NULL);
	int knead, names, bake, count;
	char name[64];

	(void)state;
	assert_string_equal(s->name, "pizza");
	assert_null(s->use);
	assert_non_null(json_object_get(s->root, "nodes"));
	/* options: defaults filled in, in declaration order */
	assert_int_equal(json_object_size(s->options), 2);
	assert_string_equal(json_string_value(json_object_get(s->options, "spice")), "mild");
	assert_int_equal(json_integer_value(json_object_get(s->options, "size")), 30);
	assert_string_equal(json_object_iter_key(json_object_iter(s->options)), "spice");
	/* inputs */
	assert_int_equal(s->ninputs, 2);
	assert_string_equal(s->inputs[0].tag, "dough");
	assert_int_equal(s->inputs[0].format, FORMAT_LINES);
	assert_null(s->inputs[0].schema);
	assert_string_equal(s->inputs[1].tag, "toppings");
	assert_int_equal(s->inputs[1].format, FORMAT_JSON);
	assert_ptr_equal(s->inputs[1].schema,
			 json_object_get(json_object_get(json_object_get(s->root, "inputs"), "toppings"),
					 "schema"));
	/* nodes: producers first, document order otherwise */
	assert_int_equal(s->nnodes, 4);
	assert_topological(s);
	knead = find_node(s, "knead");
	names = find_node(s, "names");
	bake = find_node(s, "bake");
	count = find_node(s, "count");
	assert_int_equal(knead, 0);
	assert_int_equal(names, 1);
	assert_int_equal(bake, 2);
	assert_int_equal(count, 3);
	assert_ptr_equal(s->nodes[bake].op, &fake_exec);
	assert_int_equal(s->nodes[bake].nout, 1);
	/* stream refs */
	assert_int_equal(s->nodes[knead].nin, 1);
	assert_int_equal(s->nodes[knead].in[0].node, -1);
	assert_int_equal(s->nodes[knead].in[0].index, 0);
	assert_int_equal(s->nodes[names].in[0].node, -1);
	assert_int_equal(s->nodes[names].in[0].index, 1);
	assert_int_equal(s->nodes[bake].nin, 2);
	assert_int_equal(s->nodes[bake].in[0].node, knead);
	assert_int_equal(s->nodes[bake].in[1].node, names);
	assert_int_equal(s->nodes[bake].in[1].index, 0);
	assert_int_equal(s->noutputs, 2);
	assert_string_equal(s->outputs[0].tag, "pizza");
	assert_int_equal(s->outputs[0].from.node, bake);
	assert_string_equal(s->outputs[1].tag, "receipt");
	assert_int_equal(s->outputs[1].from.node, count);
	/* ${} expansion, and "op"/"in" kept in params */
	assert_string_equal(param_str(s, "bake", "argv", 1), "s/^/mild 30cm: /");
	assert_string_equal(param_str(s, "bake", "argv", 0), "sed");
	assert_string_equal(param_str(s, "bake", "op", -1), "exec");
	assert_true(json_is_array(json_object_get(s->nodes[bake].params, "in")));
	assert_string_equal(param_str(s, "names", "text", -1), "{name}");
	/* the document itself is left as written */
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(
				    json_object_get(s->root, "nodes"), "bake"), "argv"), 1)),
			    "s/^/${spice} ${size}cm: /");
	/* names */
	spec_stream_name(s, (struct stream_ref){-1, 1}, name, sizeof(name));
	assert_string_equal(name, "toppings");
	spec_stream_name(s, (struct stream_ref){bake, 0}, name, sizeof(name));
	assert_string_equal(name, "bake");
	spec_stream_name(s, (struct stream_ref){99, 0}, name, sizeof(name));
	assert_string_equal(name, "");
	spec_stream_name(s, (struct stream_ref){-1, 5}, name, sizeof(name));
	assert_string_equal(name, "");
	spec_stream_name(s, (struct stream_ref){bake, 0}, name, 3);
	assert_string_equal(name, "ba");
	assert_true(spec_uses_op(s, "exec"));
	assert_false(spec_uses_op(s, "grep"));
	assert_false(spec_uses_op(NULL, "exec"));
	spec_free(s);
}

static void test_pizza_options(void **state)
{
	struct spec *s = parse_ok(PIZZA, "{'spice': 'hot', 'size': 42}");

	(void)state;
	assert_string_equal(param_str(s, "bake", "argv", 1), "s/^/hot 42cm: /");
	assert_string_equal(json_string_value(json_object_get(s->options, "spice")), "hot");
	assert_int_equal(json_integer_value(json_object_get(s->options, "size")), 42);
	spec_free(s);

	/* one given, one default */
	s = parse_ok(PIZZA, "{'size': 50}");
	assert_string_equal(param_str(s, "bake", "argv", 1), "s/^/mild 50cm: /");
	spec_free(s);

	/* an empty or blank options.json is no options */
	s = parse_ok(PIZZA, "");
	assert_string_equal(param_str(s, "bake", "argv", 1), "s/^/mild 30cm: /");
	spec_free(s);
	s = parse_ok(PIZZA, " \n\t");
	spec_free(s);
	s = parse_ok(PIZZA, "{}");
	spec_free(s);
}

/* The pizza through the real operator registry (engine/ops/registry.c). */
static void test_real_ops(void **state)
{
	struct spec_ctx real = {.registered = reg_find, .arg = (void *)registry};
	char *text = jq(PIZZA);
	struct spec *s = NULL;
	struct errs e;
	int rc;

	(void)state;
	errs_init(&e);
	rc = spec_parse(text, strlen(text), NULL, 0, &real, &s, &e);
	if (rc != 0) {
		char *all = errs_join(&e);
		fail_msg("pizza with the real operators: %s", all);
	}
	assert_ptr_equal(s->nodes[find_node(s, "bake")].op, op_find("exec"));
	assert_string_equal(param_str(s, "bake", "argv", 1), "s/^/mild 30cm: /");
	spec_free(s);
	errs_free(&e);
	free(text);

	/* and the registered-spec check, through the real registry too */
	text = jq(PIZZA);
	errs_init(&e);
	assert_int_equal(spec_check_registered(text, strlen(text), NULL, &e), 0);
	errs_free(&e);
	free(text);
}

static void test_order(void **state)
{
	/* written consumers first */
	struct spec *s = parse_ok("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'c'}},"
				  " 'nodes': {'c': {'op': 'pass', 'in': 'b'}, 'x': {'op': 'pass', 'in': 'i'},"
				  "  'b': {'op': 'pass', 'in': 'a'}, 'a': {'op': 'pass', 'in': 'i'}}}",
				  NULL);

	(void)state;
	assert_topological(s);
	assert_string_equal(s->nodes[0].name, "x");
	assert_string_equal(s->nodes[1].name, "a");
	assert_string_equal(s->nodes[2].name, "b");
	assert_string_equal(s->nodes[3].name, "c");
	assert_int_equal(s->nodes[2].in[0].node, 1);
	assert_int_equal(s->nodes[3].in[0].node, 2);
	assert_int_equal(s->outputs[0].from.node, 3);
	spec_free(s);

	/* fan-out: one stream read by several nodes and an output */
	s = parse_ok("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'i'}, 'p': {'from': 'a'}},"
		     " 'nodes': {'a': {'op': 'zip', 'in': ['i', 'b', 'i']}, 'b': {'op': 'pass', 'in': 'i'}}}",
		     NULL);
	assert_topological(s);
	assert_string_equal(s->nodes[0].name, "b");
	assert_int_equal(s->nodes[1].nin, 3);
	assert_int_equal(s->nodes[1].in[1].node, 0);
	assert_int_equal(s->outputs[0].from.node, -1);
	spec_free(s);
}

/* 1,024 nodes, each reading the next one written: the worst order. */
static void test_long_chain(void **state)
{
	size_t cap = 200 * 1024, o = 0;
	char *t = malloc(cap);
	struct spec *s;

	(void)state;
	o += (size_t)snprintf(t + o, cap - o, "{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'n0'}}, 'nodes': {");
	for (int i = 0; i < SPEC_MAX_NODES; i++) {
		if (i + 1 < SPEC_MAX_NODES)
			o += (size_t)snprintf(t + o, cap - o, "'n%d': {'op': 'pass', 'in': 'n%d'},", i, i + 1);
		else
			o += (size_t)snprintf(t + o, cap - o, "'n%d': {'op': 'pass', 'in': 'i'}}}", i);
	}
	s = parse_ok(t, NULL);
	assert_int_equal(s->nnodes, SPEC_MAX_NODES);
	assert_topological(s);
	assert_string_equal(s->nodes[0].name, "n1023");
	assert_string_equal(s->nodes[SPEC_MAX_NODES - 1].name, "n0");
	assert_int_equal(s->outputs[0].from.node, SPEC_MAX_NODES - 1);
	spec_free(s);
	free(t);
}

static void test_too_many_nodes(void **state)
{
	size_t cap = 200 * 1024, o = 0;
	char *t = malloc(cap);

	(void)state;
	o += (size_t)snprintf(t + o, cap - o, "{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'n0'}}, 'nodes': {");
	for (int i = 0; i <= SPEC_MAX_NODES; i++)
		o += (size_t)snprintf(t + o, cap - o, "%s'n%d': {'op': 'pass', 'in': 'i'}", i ? "," : "", i);
	snprintf(t + o, cap - o, "}}");
	bad_only(t, NULL, "spec.json: nodes: more than 1024 nodes");
	free(t);
}

/* ---- loading ---- */

static void expect_raw(const char *spec, size_t len, const char *opts, size_t opts_len,
		       const char *want)
{
	struct spec *s = NULL;
	struct errs e;
	char *all;

	parse_raw(spec, len, opts, opts_len, &s, &e);
	assert_null(s);
	all = errs_join(&e);
	if (!strstr(all, want))
		fail_msg("\n want: %s\n got:  %s", want, all);
	free(all);
	errs_free(&e);
}

static void test_load_errors(void **state)
{
	char *big = malloc(SPEC_MAX_BYTES + 2);
	char *pizza = jq(PIZZA);

	(void)state;
	expect_raw("", 0, NULL, 0, "spec.json: file is empty");
	expect_raw(NULL, 0, NULL, 0, "spec.json: file is empty");
	expect_raw("  \n", 3, NULL, 0, "spec.json: line ");
	expect_raw("{", 1, NULL, 0, "spec.json: line 1, column 1: ");
	expect_raw("{\"a\": 1,\n \"a\": 2}", 17, NULL, 0, "spec.json: line 2, column ");
	expect_raw("{\"a\": 1,\n \"a\": 2}", 17, NULL, 0, "duplicate object key");
	expect_raw("[1, 2]", 6, NULL, 0, "spec.json: expected a JSON object, got array");
	expect_raw("\"x\"", 3, NULL, 0, "spec.json: expected a JSON object, got string");
	expect_raw("{}\0{}", 5, NULL, 0, "spec.json: contains a NUL byte (at byte 2)");
	expect_raw("{\"a\xff\": 1}", 9, NULL, 0, "spec.json: line 1");
	expect_raw("{\"a\x01\": 1}", 9, NULL, 0, "spec.json: line 1");
	expect_raw("{\"a\": \"\\u0000\"}", 15, NULL, 0, "spec.json: line 1");
	memset(big, ' ', SPEC_MAX_BYTES + 1);
	big[0] = '{';
	big[SPEC_MAX_BYTES] = '}';
	expect_raw(big, SPEC_MAX_BYTES + 1, NULL, 0, "spec.json: larger than 1 MiB");
	/* exactly 1 MiB is fine */
	memcpy(big, pizza, strlen(pizza));
	{
		struct spec *s = NULL;
		struct errs e;

		assert_int_equal(parse_raw(big, SPEC_MAX_BYTES, NULL, 0, &s, &e), 0);
		spec_free(s);
		errs_free(&e);
	}
	/* options.json has the same rules, and both files are reported at once */
	expect_raw(pizza, strlen(pizza), big, SPEC_MAX_BYTES + 1, "options.json: larger than 1 MiB");
	expect_raw(pizza, strlen(pizza), "{\0}", 3, "options.json: contains a NUL byte (at byte 1)");
	expect_raw(pizza, strlen(pizza), "{'size'", 7, "options.json: line 1, column ");
	expect_raw(pizza, strlen(pizza), "[1]", 3, "options.json: expected a JSON object, got array");
	expect_raw("{", 1, "{", 1, "spec.json: line 1");
	expect_raw("{", 1, "{", 1, "options.json: line 1");
	free(big);
	free(pizza);
}

/* ---- top level, names ---- */

static void test_top_level(void **state)
{
	struct spec *s;

	(void)state;
	bad_only("{'foo': 1, 'inputs': {'i': {}}, 'outputs': {'o': {'from': 'i'}}}", NULL,
		 "spec.json: foo: unknown field");
	bad_only("{'name': 5, 'inputs': {'i': {}}, 'outputs': {'o': {'from': 'i'}}}", NULL,
		 "spec.json: name: expected a string, got integer");
	bad_only("{'description': [], 'inputs': {'i': {}}, 'outputs': {'o': {'from': 'i'}}}", NULL,
		 "spec.json: description: expected a string, got array");
	bad_only("{'inputs': {'i': {}}, 'nodes': {'n': {'op': 'pass', 'in': 'i'}}}", NULL,
		 "spec.json: outputs: missing required field");
	bad_only("{'outputs': {}}", NULL, "spec.json: outputs: at least one output is required");
	bad_only("{'outputs': []}", NULL, "spec.json: outputs: expected an object, got array");
	bad_only("{}", NULL, "spec.json: outputs: missing required field");
	/* an output straight from an input needs no node */
	s = parse_ok("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'i'}}}", NULL);
	assert_int_equal(s->nnodes, 0);
	assert_null(s->name);
	assert_int_equal(s->outputs[0].from.node, -1);
	assert_int_equal(s->inputs[0].format, FORMAT_BYTES);
	spec_free(s);
	/* a source job: no inputs at all */
	s = parse_ok("{'outputs': {'o': {'from': 'n'}}, 'nodes': {'n': {'op': 'exec', 'argv': ['date']}}}",
		     NULL);
	assert_int_equal(s->ninputs, 0);
	assert_int_equal(s->nodes[0].nin, 0);
	spec_free(s);
}

static void test_names(void **state)
{
	char long_name[300], text[1024];
	int n;
	char *all;

	(void)state;
	bad_only(MINI("{'op': 'pass', 'in': 'i'}, '.hidden': {'op': 'pass', 'in': 'i'}"), NULL,
		 "spec.json: nodes..hidden: invalid name (1 to 255 bytes of [A-Za-z0-9._-], "
		 "not starting with '.')");
	bad(MINI("{'op': 'pass', 'in': 'i'}, 'a b': {'op': 'pass', 'in': 'i'}"), NULL,
	    "spec.json: nodes.a b: invalid name");
	bad(MINI("{'op': 'pass', 'in': 'i'}, 'x/y': {'op': 'pass', 'in': 'i'}"), NULL,
	    "spec.json: nodes.x/y: invalid name");
	bad(MINI("{'op': 'pass', 'in': 'i'}, '': {'op': 'pass', 'in': 'i'}"), NULL,
	    "spec.json: nodes.\"\": invalid name");
	bad(MINI("{'op': 'pass', 'in': 'i'}, 'a\\u0001\\nb': {'op': 'pass', 'in': 'i'}"), NULL,
	    "spec.json: nodes.a\\x01\\x0ab: invalid name");
	bad(MINI("{'op': 'pass', 'in': 'i'}, 'caf\\u00e9': {'op': 'pass', 'in': 'i'}"), NULL,
	    "spec.json: nodes.caf\xc3\xa9: invalid name");
	bad("{'inputs': {'in/put': {}}, 'outputs': {'o': {'from': 'in/put'}}}", NULL,
	    "spec.json: inputs.in/put: invalid name");
	bad("{'inputs': {'i': {}}, 'outputs': {'../o': {'from': 'i'}}}", NULL,
	    "spec.json: outputs.../o: invalid name");

	/* a long name is cut in the message */
	memset(long_name, 'a', 256);
	long_name[256] = '\0';
	snprintf(text, sizeof(text), MINI("{'op': 'pass', 'in': 'i'}, '%s': {'op': 'pass', 'in': 'i'}"),
		 long_name);
	all = parse_bad(text, NULL, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(all, "aaaa...: invalid name"));
	assert_true(strlen(all) < 200);
	free(all);
	/* 255 bytes is fine */
	long_name[255] = '\0';
	snprintf(text, sizeof(text), MINI("{'op': 'pass', 'in': 'i'}, '%s': {'op': 'pass', 'in': 'n'}"),
		 long_name);
	spec_free(parse_ok(text, NULL));

	/* inputs and nodes share a namespace, outputs have their own */
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'n'}},"
		 " 'nodes': {'n': {'op': 'pass', 'in': 'i'}, 'i': {'op': 'pass', 'in': 'n'}}}",
		 NULL, "spec.json: nodes.i: name already used by an input tag");
	spec_free(parse_ok("{'inputs': {'i': {}}, 'outputs': {'n': {'from': 'n'}, 'i': {'from': 'i'}},"
			   " 'nodes': {'n': {'op': 'pass', 'in': 'i'}}}", NULL));
}

/* ---- inputs ---- */

static void test_inputs(void **state)
{
	struct spec *s;

	(void)state;
	bad_only("{'inputs': {'i': {'format': 'csv'}}, 'outputs': {'o': {'from': 'i'}}}", NULL,
		 "spec.json: inputs.i.format: must be one of \"bytes\", \"lines\", \"json\"");
	bad_only("{'inputs': {'i': {'format': 3}}, 'outputs': {'o': {'from': 'i'}}}", NULL,
		 "spec.json: inputs.i.format: must be one of \"bytes\", \"lines\", \"json\"");
	bad_only("{'inputs': {'i': {'format': 'lines', 'schema': {}}}, 'outputs': {'o': {'from': 'i'}}}",
		 NULL, "spec.json: inputs.i.schema: only allowed with \"format\": \"json\"");
	bad_only("{'inputs': {'i': {'schema': {}}}, 'outputs': {'o': {'from': 'i'}}}",
		 NULL, "spec.json: inputs.i.schema: only allowed with \"format\": \"json\"");
	bad_only("{'inputs': {'toppings': {'format': 'json', 'schema': {'type': 'object', 'pattern': 'x'}}},"
		 " 'outputs': {'o': {'from': 'toppings'}}}",
		 NULL, "spec.json: inputs.toppings.schema.pattern: unsupported keyword");
	bad("{'inputs': {'t': {'format': 'json', 'schema': {'type': 'obj', 'required': 'name'}}},"
	    " 'outputs': {'o': {'from': 't'}}}",
	    NULL, "spec.json: inputs.t.schema.required: expected an array of property names");
	bad_only("{'inputs': {'i': {'colour': 'red'}}, 'outputs': {'o': {'from': 'i'}}}", NULL,
		 "spec.json: inputs.i.colour: unknown field");
	bad_only("{'inputs': {'i': 'lines'}, 'outputs': {'o': {'from': 'i'}}}", NULL,
		 "spec.json: inputs.i: expected an object, got string");
	/* a broken inputs object brings no "unknown stream" for what reads it */
	bad_only("{'inputs': [], 'outputs': {'o': {'from': 'n'}}, 'nodes': {'n': {'op': 'pass', 'in': 'i'}}}",
		 NULL, "spec.json: inputs: expected an object, got array");
	s = parse_ok("{'inputs': {'b': {'format': 'bytes'}, 'j': {'format': 'json'}},"
		     " 'outputs': {'o': {'from': 'b'}, 'p': {'from': 'j'}}}", NULL);
	assert_int_equal(s->inputs[1].format, FORMAT_JSON);
	assert_null(s->inputs[1].schema);
	spec_free(s);
}
