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

#include "harness.h"
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
	{"broken", "{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'x'}}, 'nodes': {'x': {'op': 'uper', 'in': 'i'}}}"},
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

/* ---- options ---- */

/* Options declared, one pass node. */
#define OPTS(decl)                                                                  \
	"{'options': {" decl "}, 'inputs': {'i': {}}, 'outputs': {'o': {'from': 'n'}}," \
	" 'nodes': {'n': {'op': 'pass', 'in': 'i'}}}"

static void test_option_declarations(void **state)
{
	(void)state;
	bad_only(OPTS("'x': {'type': 'int'}"), NULL,
		 "spec.json: options.x.type: must be one of \"string\", \"integer\", \"number\", \"boolean\"");
	bad_only(OPTS("'x': {'default': 3}"), NULL, "spec.json: options.x.type: missing required field");
	bad_only(OPTS("'x': 'string'"), NULL, "spec.json: options.x: expected an object, got string");
	bad_only("{'options': [], 'inputs': {'i': {}}, 'outputs': {'o': {'from': 'i'}}}", NULL,
		 "spec.json: options: expected an object, got array");
	bad_only(OPTS("'size': {'type': 'integer', 'default': '30'}"), NULL,
		 "spec.json: options.size.default: expected integer, got string");
	bad_only(OPTS("'size': {'type': 'integer', 'default': 30.5}"), NULL,
		 "spec.json: options.size.default: expected integer, got number");
	bad_only(OPTS("'size': {'type': 'integer', 'maximum': 50, 'default': 60}"), NULL,
		 "spec.json: options.size.default: 60 is above the maximum 50");
	bad_only(OPTS("'spice': {'type': 'string', 'enum': ['mild', 'hot'], 'default': 'x'}"), NULL,
		 "spec.json: options.spice.default: \"x\" is not one of \"mild\", \"hot\"");
	bad_only(OPTS("'spice': {'type': 'string', 'enum': ['mild', 3]}"), NULL,
		 "spec.json: options.spice.enum[1]: expected string, got integer");
	bad_only(OPTS("'size': {'type': 'integer', 'minimum': 5, 'enum': [10, 2]}"), NULL,
		 "spec.json: options.size.enum[1]: 2 is below the minimum 5");
	bad_only(OPTS("'spice': {'type': 'string', 'enum': []}"), NULL,
		 "spec.json: options.spice.enum: expected a non-empty array of values");
	bad_only(OPTS("'spice': {'type': 'string', 'minimum': 1}"), NULL,
		 "spec.json: options.spice.minimum: only allowed for integer and number options");
	bad_only(OPTS("'size': {'type': 'integer', 'maximum': '9'}"), NULL,
		 "spec.json: options.size.maximum: expected a number, got string");
	bad_only(OPTS("'size': {'type': 'number', 'minimum': 5, 'maximum': 4.5}"), NULL,
		 "spec.json: options.size: minimum is above maximum");
	bad_only(OPTS("'1x': {'type': 'string', 'default': ''}"), NULL,
		 "spec.json: options.1x: invalid option name (letters, digits and '_', not starting with a digit)");
	bad(OPTS("'a-b': {'type': 'string', 'default': ''}"), NULL, "spec.json: options.a-b: invalid option name");
	bad(OPTS("'': {'type': 'string', 'default': ''}"), NULL, "spec.json: options.\"\": invalid option name");
	bad_only(OPTS("'x': {'type': 'string', 'pattern': '.*'}"), "{'x': 'y'}",
		 "spec.json: options.x.pattern: unknown field");
	bad_only(OPTS("'x': {'type': 'string', 'description': 5, 'default': 'a'}"), NULL,
		 "spec.json: options.x.description: expected a string, got integer");
	/* a broken declaration is not used to judge options.json: one message */
	bad_only(OPTS("'size': {'type': 'int'}"), "{'size': 'big'}",
		 "spec.json: options.size.type: must be one of \"string\", \"integer\", \"number\", \"boolean\"");
	/* all kinds, fine */
	spec_free(parse_ok(OPTS("'_s': {'type': 'string', 'description': 'd'}, 'i9': {'type': 'integer', "
				"'default': -3, 'minimum': -5.5}, 'n': {'type': 'number', 'enum': [1, 2.5], "
				"'default': 1}, 'b': {'type': 'boolean', 'default': false}"),
			   "{'_s': ''}"));
}

static void test_options_json(void **state)
{
	int n;
	char *all;
	struct spec *s;

	(void)state;
	bad_only(PIZZA, "{'size': 60}", "options.json: size: 60 is above the maximum 50");
	bad_only(PIZZA, "{'size': 10}", "options.json: size: 10 is below the minimum 20");
	bad_only(PIZZA, "{'spice': 'mild2'}",
		 "options.json: spice: \"mild2\" is not one of \"mild\", \"hot\", \"extra\"");
	bad_only(PIZZA, "{'flavour': 'x'}", "options.json: flavour: unknown option");
	bad_only(PIZZA, "{'size': 'big'}", "options.json: size: expected integer, got string");
	bad_only(PIZZA, "{'size': 30.5}", "options.json: size: expected integer, got number");
	bad_only(PIZZA, "{'size': null}", "options.json: size: expected integer, got null");
	bad_only(PIZZA, "{'a\\nb': 1}", "options.json: a\\x0ab: unknown option");
	/* all mistakes at once */
	all = parse_bad(PIZZA, "{'size': 60, 'spice': 'x', 'flavour': 1}", &n);
	assert_int_equal(n, 3);
	assert_non_null(strstr(all, "options.json: flavour: unknown option"));
	assert_non_null(strstr(all, "options.json: size: 60 is above the maximum 50"));
	assert_non_null(strstr(all, "options.json: spice: \"x\" is not one of"));
	free(all);

	/* number and boolean options */
	bad_only(OPTS("'ratio': {'type': 'number', 'minimum': 0, 'maximum': 1}"), "{'ratio': 1.5}",
		 "options.json: ratio: 1.5 is above the maximum 1");
	bad_only(OPTS("'loud': {'type': 'boolean'}"), "{'loud': 'yes'}",
		 "options.json: loud: expected boolean, got string");
	s = parse_ok(OPTS("'ratio': {'type': 'number', 'minimum': 0, 'maximum': 1}, 'loud': {'type': 'boolean'}"),
		     "{'ratio': 1, 'loud': true}");
	assert_int_equal(json_integer_value(json_object_get(s->options, "ratio")), 1);
	assert_true(json_is_true(json_object_get(s->options, "loud")));
	spec_free(s);

	/* required options: no default and not given */
	bad_only(OPTS("'who': {'type': 'string'}"), NULL, "options.json: who: required option is missing");
	bad_only(OPTS("'who': {'type': 'string'}"), "{}", "options.json: who: required option is missing");
	/* ...and the node that uses it gets no follow-up message */
	bad_only("{'options': {'who': {'type': 'string'}}, 'inputs': {'i': {}},"
		 " 'outputs': {'o': {'from': 'n'}}, 'nodes': {'n': {'op': 'grep', 'in': 'i', 'pattern': '${who}'}}}",
		 NULL, "options.json: who: required option is missing");
	/* an unreadable options.json is one message, not one per option */
	bad_only(OPTS("'who': {'type': 'string'}"), "[1]", "options.json: expected a JSON object, got array");
	s = parse_ok(OPTS("'who': {'type': 'string'}"), "{'who': 'me'}");
	assert_string_equal(json_string_value(json_object_get(s->options, "who")), "me");
	spec_free(s);
	/* options given when none are declared */
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'i'}}}", "{'x': 1}",
		 "options.json: x: unknown option");
}

/* ---- nodes and params ---- */

static void test_nodes(void **state)
{
	(void)state;
	bad_only("{'inputs': {'dough': {}}, 'outputs': {'o': {'from': 'knead'}},"
		 " 'nodes': {'knead': {'op': 'uper', 'in': 'dough', 'whatever': 1}}}",
		 NULL, "spec.json: nodes.knead.op: unknown operator \"uper\"");
	bad_only(MINI("{'in': 'i'}"), NULL, "spec.json: nodes.n.op: missing required field");
	bad_only(MINI("{'op': 5, 'in': 'i'}"), NULL,
		 "spec.json: nodes.n.op: expected an operator name (string), got integer");
	bad_only(MINI("{'op': 'a\\u0007\\\"b', 'in': 'i'}"), NULL,
		 "spec.json: nodes.n.op: unknown operator \"a\\x07\\\"b\"");
	bad_only(MINI("['pass']"), NULL, "spec.json: nodes.n: expected an object, got array");
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'n'}}, 'nodes': 'n'}", NULL,
		 "spec.json: nodes: expected an object, got string");
	bad_only(MINI("{'op': 'pass'}"), NULL, "spec.json: nodes.n.in: missing required field");
	bad_only(MINI("{'op': 'pass', 'in': 'i', 'description': 5}"), NULL,
		 "spec.json: nodes.n.description: expected a string, got integer");
	spec_free(parse_ok(MINI("{'op': 'pass', 'in': 'i', 'description': 'copies'}"), NULL));
}

static void test_in(void **state)
{
	(void)state;
	bad_only("{'inputs': {'dough': {}}, 'outputs': {'o': {'from': 'bake'}},"
		 " 'nodes': {'bake': {'op': 'pass', 'in': 'baek'}}}",
		 NULL, "spec.json: nodes.bake.in: unknown stream \"baek\"");
	/* the typo'd input then looks unused, but that is not said twice */
	bad_only("{'inputs': {'dough': {}}, 'outputs': {'o': {'from': 'bake'}},"
		 " 'nodes': {'bake': {'op': 'zip', 'in': ['dough', 'namez']}}}",
		 NULL, "spec.json: nodes.bake.in[1]: unknown stream \"namez\"");
	bad_only(MINI("{'op': 'pass', 'in': 5}"), NULL,
		 "spec.json: nodes.n.in: expected a stream name, an array of stream names or "
		 "{\"in\": STREAM}, got integer");
	bad_only(MINI("{'op': 'pass', 'in': ['i', 5]}"), NULL,
		 "spec.json: nodes.n.in[1]: expected a stream name (string), got integer");
	bad(MINI("{'op': 'pass', 'in': []}"), NULL,
	    "spec.json: nodes.n.in: operator \"pass\" needs at least 1 input, got 0");
	bad_only(MINI("{'op': 'one', 'in': ['i', 'i']}"), NULL,
		 "spec.json: nodes.n.in: operator \"one\" takes at most 1 input, got 2");
	bad_only(MINI("{'op': 'zip', 'in': 'i'}"), NULL,
		 "spec.json: nodes.n.in: operator \"zip\" needs at least 2 inputs, got 1");
	bad_only(MINI("{'op': 'zip', 'in': ['i', 'i', 'i', 'i']}"), NULL,
		 "spec.json: nodes.n.in: operator \"zip\" takes at most 3 inputs, got 4");
	/* {"in": STREAM} is one positional input */
	spec_free(parse_ok(MINI("{'op': 'pass', 'in': {'in': 'i'}}"), NULL));
	bad_only(MINI("{'op': 'pass', 'in': {'in': 'i', 'foo': 'i'}}"), NULL,
		 "spec.json: nodes.n.in.foo: operator \"pass\" has no input port \"foo\"");
	/* "op" and "in" are never expanded */
	bad_only("{'options': {'x': {'type': 'string', 'default': 'i'}}, 'inputs': {'i': {}},"
		 " 'outputs': {'o': {'from': 'n'}}, 'nodes': {'n': {'op': 'pass', 'in': '${x}'}}}",
		 NULL, "spec.json: nodes.n.in: unknown stream \"${x}\"");
	/* the stream name in a message is shown safely */
	bad_only(MINI("{'op': 'pass', 'in': 'a\\tb'}"), NULL,
		 "spec.json: nodes.n.in: unknown stream \"a\\x09b\"");
}

static void test_params(void **state)
{
	struct spec *s;

	(void)state;
	bad_only(MINI("{'op': 'exec', 'in': 'i', 'argv': ['cat'], 'colour': 'red'}"), NULL,
		 "spec.json: nodes.n.colour: unknown parameter for operator \"exec\"");
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'bake'}},"
		 " 'nodes': {'bake': {'op': 'exec', 'in': 'i'}}}",
		 NULL, "spec.json: nodes.bake.argv: missing required parameter");
	bad_only(MINI("{'op': 'exec', 'in': 'i', 'argv': 'cat'}"), NULL,
		 "spec.json: nodes.n.argv: expected an array of strings, got string");
	bad_only(MINI("{'op': 'exec', 'in': 'i', 'argv': ['cat', 1, 2]}"), NULL,
		 "spec.json: nodes.n.argv[1]: expected a string, got integer");
	bad_only(MINI("{'op': 'exec', 'in': 'i', 'argv': ['cat'], 'env': {'A': 'x', 'B': 1}}"), NULL,
		 "spec.json: nodes.n.env.B: expected a string, got integer");
	bad_only(MINI("{'op': 'exec', 'in': 'i', 'argv': ['cat'], 'env': ['A=1']}"), NULL,
		 "spec.json: nodes.n.env: expected an object of strings, got array");
	bad_only(MINI("{'op': 'exec', 'in': 'i', 'argv': ['cat'], 'accept_exit': [0, '1']}"), NULL,
		 "spec.json: nodes.n.accept_exit[1]: expected an integer, got string");
	bad_only(MINI("{'op': 'exec', 'in': 'i', 'argv': ['cat'], 'timeout_ms': 1.5}"), NULL,
		 "spec.json: nodes.n.timeout_ms: expected an integer, got number");
	bad_only(MINI("{'op': 'grep', 'in': 'i', 'pattern': 'x', 'invert': 'yes'}"), NULL,
		 "spec.json: nodes.n.invert: expected a boolean, got string");
	bad_only(MINI("{'op': 'grep', 'in': 'i', 'pattern': ['x']}"), NULL,
		 "spec.json: nodes.n.pattern: expected a string, got array");
	bad_only(MINI("{'op': 'delay', 'in': 'i', 'ms': '5'}"), NULL,
		 "spec.json: nodes.n.ms: expected a number, got string");
	bad_only(MINI("{'op': 'bag', 'in': 'i', 'o': []}"), NULL,
		 "spec.json: nodes.n.o: expected an object, got array");
	s = parse_ok(MINI("{'op': 'delay', 'in': 'i', 'ms': 2.5}"), NULL);
	spec_free(s);
	s = parse_ok(MINI("{'op': 'bag', 'in': 'i', 'a': [null, {'x': [1, true]}], 'o': {}}"), NULL);
	spec_free(s);
	/* the operator's own check runs once the types are right */
	bad_only(MINI("{'op': 'head', 'in': 'i', 'n': -1}"), NULL, "spec.json: nodes.n.n: must be 0 or more");
	bad_only(MINI("{'op': 'head', 'in': 'i', 'n': 'x'}"), NULL,
		 "spec.json: nodes.n.n: expected an integer, got string");
	bad_only(MINI("{'op': 'grep', 'in': 'i', 'pattern': '('}"), NULL,
		 "spec.json: nodes.n.pattern: bad regex");
	/* several nodes, several mistakes */
	{
		int n;
		char *all = parse_bad("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'a'}},"
				      " 'nodes': {'a': {'op': 'head', 'in': 'i'}, 'b': {'op': 'grep', 'in': 'a',"
				      " 'pattern': '(', 'x': 1}, 'c': {'op': 'nope', 'in': 'b'}}}",
				      NULL, &n);

		/* b's check waits until its params are right */
		assert_int_equal(n, 3);
		assert_non_null(strstr(all, "spec.json: nodes.a.n: missing required parameter"));
		assert_non_null(strstr(all, "spec.json: nodes.b.x: unknown parameter for operator \"grep\""));
		assert_non_null(strstr(all, "spec.json: nodes.c.op: unknown operator \"nope\""));
		free(all);
	}
}

static void test_ports(void **state)
{
	struct spec *s;
	char name[64];
	int sp;

	(void)state;
	s = parse_ok("{'inputs': {'i': {}}, 'outputs': {'m': {'from': 's.match'}, 'r': {'from': 's.rest'},"
		     " 'd': {'from': 's'}, 'u': {'from': 'u.out'}},"
		     " 'nodes': {'s': {'op': 'split', 'in': 'i', 'pattern': 'x'}, 'u': {'op': 'upper', 'in': 's.rest'}}}",
		     NULL);
	sp = find_node(s, "s");
	assert_int_equal(s->nodes[sp].nout, 2);
	assert_int_equal(s->outputs[0].from.node, sp);
	assert_int_equal(s->outputs[0].from.index, 0);
	assert_int_equal(s->outputs[1].from.index, 1);
	assert_int_equal(s->outputs[2].from.index, 0);
	assert_int_equal(s->outputs[3].from.node, find_node(s, "u"));
	assert_int_equal(s->nodes[find_node(s, "u")].in[0].index, 1);
	spec_stream_name(s, s->outputs[1].from, name, sizeof(name));
	assert_string_equal(name, "s.rest");
	spec_stream_name(s, s->outputs[0].from, name, sizeof(name));
	assert_string_equal(name, "s");
	spec_free(s);

	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 's.out'}},"
		 " 'nodes': {'s': {'op': 'split', 'in': 'i', 'pattern': 'x'}}}",
		 NULL, "spec.json: outputs.o.from: node \"s\" has no output port \"out\"");
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'x'}},"
		 " 'nodes': {'knead': {'op': 'upper', 'in': 'i'}, 'x': {'op': 'pass', 'in': 'knead.foo'}}}",
		 NULL, "spec.json: nodes.x.in: node \"knead\" has no output port \"foo\"");
	/* an input has no ports */
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'i.out'}}}", NULL,
		 "spec.json: outputs.o.from: unknown stream \"i.out\"");

	/* dots in node names: the exact name first, then NODE.PORT at the last dot */
	s = parse_ok("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'a.b'}, 'p': {'from': 'a.b.out'},"
		     " 'q': {'from': 'a.b.c.rest'}},"
		     " 'nodes': {'a.b': {'op': 'pass', 'in': 'i'}, 'a.b.c': {'op': 'split', 'in': 'a.b', 'pattern': 'x'}}}",
		     NULL);
	assert_int_equal(s->outputs[0].from.node, find_node(s, "a.b"));
	assert_int_equal(s->outputs[1].from.node, find_node(s, "a.b"));
	assert_int_equal(s->outputs[2].from.node, find_node(s, "a.b.c"));
	assert_int_equal(s->outputs[2].from.index, 1);
	spec_stream_name(s, s->outputs[2].from, name, sizeof(name));
	assert_string_equal(name, "a.b.c.rest");
	spec_free(s);
}

#define JOIN(in)                                                                                  \
	"{'inputs': {'i': {}, 'j': {}}, 'outputs': {'o': {'from': 'jn'}}, 'nodes': {'jn': {'op': 'join', " \
	"'in': " in "}}}"

static void test_named_ports(void **state)
{
	struct spec *s = parse_ok(JOIN("{'right': 'j', 'left': 'i'}"), NULL);

	(void)state;
	assert_int_equal(s->nodes[0].nin, 2);
	assert_int_equal(s->nodes[0].in[0].index, 0); /* left, in port order */
	assert_int_equal(s->nodes[0].in[1].index, 1);
	spec_free(s);
	bad_only(JOIN("{'left': 'i', 'right': 'j', 'middle': 'i'}"), NULL,
		 "spec.json: nodes.jn.in.middle: operator \"join\" has no input port \"middle\"");
	{
		int n;
		char *all = parse_bad(JOIN("{'left': 'i', 'x': 'j'}"), NULL, &n);

		assert_int_equal(n, 2);
		assert_string_equal(all, "spec.json: nodes.jn.in.x: operator \"join\" has no input port \"x\"; "
					 "spec.json: nodes.jn.in: missing input port \"right\"");
		free(all);
	}
	bad_only(JOIN("{'left': 'i', 'right': 'nope'}") , NULL,
		 "spec.json: nodes.jn.in.right: unknown stream \"nope\"");
	bad_only(JOIN("{'left': 'i', 'right': ['j']}"), NULL,
		 "spec.json: nodes.jn.in.right: expected a stream name (string), got array");
	bad_only(JOIN("'i'"), NULL,
		 "spec.json: nodes.jn.in: expected an object PORT -> STREAM (operator \"join\" has input "
		 "ports \"left\", \"right\"), got string");
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'jn'}}, 'nodes': {'jn': {'op': 'join'}}}",
		 NULL, "spec.json: nodes.jn.in: missing required field");
}

static void test_outputs(void **state)
{
	(void)state;
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {}, 'p': {'from': 'i'}}}", NULL,
		 "spec.json: outputs.o.from: missing required field");
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 5}, 'p': {'from': 'i'}}}", NULL,
		 "spec.json: outputs.o.from: expected a stream name (string), got integer");
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'i', 'to': 'x'}}}", NULL,
		 "spec.json: outputs.o.to: unknown field");
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'nope'}, 'p': {'from': 'i'}}}", NULL,
		 "spec.json: outputs.o.from: unknown stream \"nope\"");
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': 'i', 'p': {'from': 'i'}}}", NULL,
		 "spec.json: outputs.o: expected an object, got string");
}

static void test_unused_inputs(void **state)
{
	(void)state;
	bad_only("{'inputs': {'i': {}, 'extra': {'format': 'lines'}}, 'outputs': {'o': {'from': 'n'}},"
		 " 'nodes': {'n': {'op': 'pass', 'in': 'i'}}}",
		 NULL, "spec.json: inputs.extra: input is not used by any node or output");
	/* read by a node whose output nobody reads: fine */
	spec_free(parse_ok("{'inputs': {'i': {}, 'j': {}}, 'outputs': {'o': {'from': 'n'}},"
			   " 'nodes': {'n': {'op': 'pass', 'in': 'i'}, 'm': {'op': 'count', 'in': 'j'}}}",
			   NULL));
}

static void test_cycles(void **state)
{
	size_t cap = 64 * 1024, o = 0;
	char *t, *all;
	int n;

	(void)state;
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'b'}},"
		 " 'nodes': {'a': {'op': 'zip', 'in': ['i', 'b']}, 'b': {'op': 'pass', 'in': 'a'}}}",
		 NULL, "spec.json: nodes.a.in: cycle a -> b -> a");
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'a'}},"
		 " 'nodes': {'a': {'op': 'zip', 'in': ['i', 'a']}}}",
		 NULL, "spec.json: nodes.a.in: cycle a -> a");
	/* written out of order, with a node downstream and one upstream */
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'z'}},"
		 " 'nodes': {'z': {'op': 'pass', 'in': 'c'}, 'c': {'op': 'pass', 'in': 'b'},"
		 "  'b': {'op': 'pass', 'in': 'a'}, 'a': {'op': 'zip', 'in': ['up', 'c']},"
		 "  'up': {'op': 'pass', 'in': 'i'}}}",
		 NULL, "spec.json: nodes.c.in: cycle c -> a -> b -> c");
	/* two separate cycles, each said once */
	all = parse_bad("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'b'}, 'p': {'from': 'y'}},"
			" 'nodes': {'a': {'op': 'zip', 'in': ['i', 'b']}, 'b': {'op': 'pass', 'in': 'a'},"
			"  'x': {'op': 'zip', 'in': ['y', 'i']}, 'y': {'op': 'pass', 'in': 'x'},"
			"  'after': {'op': 'zip', 'in': ['b', 'y']}}}",
			NULL, &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(all, "spec.json: nodes.a.in: cycle a -> b -> a"));
	assert_non_null(strstr(all, "spec.json: nodes.x.in: cycle x -> y -> x"));
	free(all);
	/* through a named port */
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 's'}},"
		 " 'nodes': {'s': {'op': 'split', 'in': ['i', 'u'], 'pattern': 'x'}, 'u': {'op': 'upper', 'in': 's.rest'}}}",
		 NULL, "spec.json: nodes.s.in: cycle s -> u -> s");

	/* a long cycle is cut in the message */
	t = malloc(cap);
	o += (size_t)snprintf(t + o, cap - o, "{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'n0'}}, 'nodes': {"
					      "'n0': {'op': 'zip', 'in': ['i', 'n299']}");
	for (int i = 1; i < 300; i++)
		o += (size_t)snprintf(t + o, cap - o, ", 'n%d': {'op': 'pass', 'in': 'n%d'}", i, i - 1);
	snprintf(t + o, cap - o, "}}");
	all = parse_bad(t, NULL, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(all, "spec.json: nodes.n0.in: cycle n0 -> n1 -> n2 -> "));
	assert_non_null(strstr(all, " -> ... -> n0"));
	free(all);
	free(t);
}

/* ---- ${OPTION} ---- */

#define SUBST(opts, node)                                                                  \
	"{'options': {" opts "}, 'inputs': {'i': {}}, 'outputs': {'o': {'from': 'n'}}," \
	" 'nodes': {'n': " node "}}"

static void test_substitution(void **state)
{
	struct spec *s;
	json_t *p;

	(void)state;
	bad_only("{'inputs': {'i': {}}, 'outputs': {'o': {'from': 'bake'}},"
		 " 'nodes': {'bake': {'op': 'exec', 'in': 'i', 'argv': ['sed', '${X}']}}}",
		 NULL, "spec.json: nodes.bake.argv[1]: unknown option \"X\" in ${X}");
	bad_only(SUBST("", "{'op': 'exec', 'in': 'i', 'argv': ['sh', '-c', 'echo ${HOME}']}"), NULL,
		 "spec.json: nodes.n.argv[2]: unknown option \"HOME\" in ${HOME}");
	bad_only(SUBST("'size': {'type': 'integer', 'default': 1}",
		       "{'op': 'exec', 'in': 'i', 'argv': ['x', '${size']}"), NULL,
		 "spec.json: nodes.n.argv[1]: unterminated ${ (write $$ for a literal $)");
	bad_only(SUBST("", "{'op': 'exec', 'in': 'i', 'argv': ['x', '${}']}"), NULL,
		 "spec.json: nodes.n.argv[1]: unknown option \"\" in ${}");
	bad_only(SUBST("", "{'op': 'exec', 'in': 'i', 'argv': ['x'], 'env': {'A': '${a\\nb}'}}"), NULL,
		 "spec.json: nodes.n.env.A: unknown option \"a\\x0ab\" in ${a\\x0ab}");

	/* $$ is $, a lone $ stays */
	s = parse_ok(SUBST("'size': {'type': 'integer', 'default': 30}",
			   "{'op': 'exec', 'in': 'i', 'argv': ['sh', '-c', 'echo $${HOME} $$ $5 costs ${size}$', '$', '$$$']}"),
		     NULL);
	assert_string_equal(param_str(s, "n", "argv", 2), "echo ${HOME} $ $5 costs 30$");
	assert_string_equal(param_str(s, "n", "argv", 3), "$");
	assert_string_equal(param_str(s, "n", "argv", 4), "$$");
	spec_free(s);

	/* every type renders; strings verbatim; anywhere in the node */
	s = parse_ok(SUBST("'r': {'type': 'number', 'default': 0.1}, 'big': {'type': 'number', 'default': 1e21},"
			   " 'i': {'type': 'integer', 'default': -7}, 'b': {'type': 'boolean', 'default': true},"
			   " 's': {'type': 'string', 'default': 'a \\\"q\\\" ${i} $$'}",
			   "{'op': 'bag', 'in': 'i', 's': '${r}|${big}|${i}|${b}|${s}',"
			   " 'o': {'deep': [{'x': '${i}'}], 'k${i}': '${b}'}, 'a': ['${r}', 5], 'description': '${s}'}"),
		     "{'r': 2.5}");
	assert_string_equal(param_str(s, "n", "s", -1), "2.5|1e+21|-7|true|a \"q\" ${i} $$");
	p = s->nodes[0].params;
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
				    json_object_get(p, "o"), "deep"), 0), "x")),
			    "-7");
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "o"), "k${i}")), "true");
	assert_string_equal(param_str(s, "n", "a", 0), "2.5");
	assert_string_equal(param_str(s, "n", "description", -1), "a \"q\" ${i} $$");
	spec_free(s);

	/* "${NAME}" alone where a number or boolean goes: the typed value */
	s = parse_ok(SUBST("'lines': {'type': 'integer', 'default': 5}",
			   "{'op': 'head', 'in': 'i', 'n': '${lines}'}"), "{'lines': 7}");
	assert_int_equal(json_integer_value(json_object_get(s->nodes[0].params, "n")), 7);
	spec_free(s);
	s = parse_ok(SUBST("'wait': {'type': 'number', 'default': 2.5}", "{'op': 'delay', 'in': 'i', 'ms': '${wait}'}"),
		     NULL);
	assert_true(json_is_real(json_object_get(s->nodes[0].params, "ms")));
	spec_free(s);
	s = parse_ok(SUBST("'code': {'type': 'integer', 'default': 3}, 'inv': {'type': 'boolean', 'default': true}",
			   "{'op': 'exec', 'in': 'i', 'argv': ['x'], 'accept_exit': [0, '${code}'], 'timeout_ms': '${code}'}"),
		     NULL);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(s->nodes[0].params, "accept_exit"), 1)), 3);
	assert_int_equal(json_integer_value(json_object_get(s->nodes[0].params, "timeout_ms")), 3);
	spec_free(s);
	/* the typed value is still checked by the operator */
	bad_only(SUBST("'lines': {'type': 'integer', 'default': 5}", "{'op': 'head', 'in': 'i', 'n': '${lines}'}"),
		 "{'lines': -2}", "spec.json: nodes.n.n: must be 0 or more");
	/* a string option can't fill an integer */
	bad_only(SUBST("'lines': {'type': 'string', 'default': '5'}", "{'op': 'head', 'in': 'i', 'n': '${lines}'}"),
		 NULL, "spec.json: nodes.n.n: expected an integer, got string");
	/* an option declared but broken: no follow-up message from the node */
	bad_only(SUBST("'lines': {'type': 'integer', 'default': 'x'}", "{'op': 'head', 'in': 'i', 'n': '${lines}'}"),
		 NULL, "spec.json: options.lines.default: expected integer, got string");
}

/* Expansion can't blow memory up: 100 copies of a 500 KB option. */
static void test_substitution_limit(void **state)
{
	struct buf spec = {0}, opts = {0};
	struct spec *s = NULL;
	struct errs e;
	char chunk[1024], *all;

	(void)state;
	buf_printf(&spec, "{\"options\": {\"big\": {\"type\": \"string\"}},"
			  " \"inputs\": {\"i\": {}}, \"outputs\": {\"o\": {\"from\": \"n\"}},"
			  " \"nodes\": {\"n\": {\"op\": \"exec\", \"in\": \"i\", \"argv\": [\"x\"");
	for (int i = 0; i < 100; i++)
		buf_printf(&spec, ", \"${big}\"");
	buf_printf(&spec, "]}}}");
	memset(chunk, 'x', sizeof(chunk));
	buf_printf(&opts, "{\"big\": \"");
	for (int i = 0; i < 500; i++)
		buf_append(&opts, chunk, sizeof(chunk));
	buf_printf(&opts, "\"}");
	assert_int_equal(parse_raw(spec.p, spec.len, opts.p, opts.len, &s, &e), -EINVAL);
	all = errs_join(&e);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(all, "expanding options makes the spec larger than 16 MiB"));
	free(all);
	errs_free(&e);
	buf_free(&spec);
	buf_free(&opts);
}

/* ---- {"use": NAME} and the registry check ---- */

static void test_use(void **state)
{
	struct spec *s;
	struct errs e;
	struct spec_ctx none = {.find_op = fake_find};
	const char *text = "{\"use\": \"pizza\"}";

	(void)state;
	s = parse_ok("{'use': 'pizza'}", NULL);
	assert_string_equal(s->use, "pizza");
	assert_string_equal(s->name, "pizza");
	assert_non_null(json_object_get(s->root, "nodes"));
	assert_null(json_object_get(s->root, "use"));
	assert_string_equal(param_str(s, "bake", "argv", 1), "s/^/mild 30cm: /");
	spec_free(s);
	s = parse_ok("{'use': 'pizza'}", "{'spice': 'extra'}");
	assert_string_equal(param_str(s, "bake", "argv", 1), "s/^/extra 30cm: /");
	spec_free(s);

	bad_only("{'use': 'pizza'}", "{'size': 60}", "options.json: size: 60 is above the maximum 50");
	bad_only("{'use': 'nope'}", NULL, "spec.json: use: no registered spec \"nope\"");
	bad_only("{'use': 5}", NULL, "spec.json: use: expected the name of a registered spec (string), got integer");
	bad_only("{'use': '../etc/passwd'}", NULL,
		 "spec.json: use: invalid name (1 to 255 bytes of [A-Za-z0-9._-], not starting with '.')");
	bad_only("{'use': 'pizza', 'nodes': {}}", NULL, "spec.json: nodes: not allowed together with \"use\"");
	bad_only("{'use': 'broken'}", NULL, "spec.json: use broken: nodes.x.op: unknown operator \"uper\"");
	bad("{'use': 'garbled'}", NULL, "spec.json: use garbled: line 1, column ");
	bad_only("{'use': 'alias'}", NULL, "spec.json: use alias: use: a registered spec cannot use another one");

	/* no registry at all */
	errs_init(&e);
	assert_int_equal(spec_parse(text, strlen(text), NULL, 0, &none, &s, &e), -EINVAL);
	assert_null(s);
	assert_string_equal(e.msg[0], "spec.json: use: no registered spec \"pizza\"");
	errs_free(&e);
}

static int check_reg(const char *spec, char **all)
{
	char *t = jq(spec);
	struct errs e;
	int rc;

	errs_init(&e);
	rc = spec_check_registered(t, strlen(t), &ctx, &e);
	check_messages(&e);
	assert_true(rc == 0 ? e.n == 0 : e.n > 0);
	*all = errs_join(&e);
	errs_free(&e);
	free(t);
	return rc;
}

static void test_check_registered(void **state)
{
	char *all;

	(void)state;
	assert_int_equal(check_reg(PIZZA, &all), 0);
	assert_null(all);
	/* required options may lack values; their ${} stay as they are */
	assert_int_equal(check_reg(SUBST("'who': {'type': 'string'}, 'lines': {'type': 'integer'},"
					 " 'inv': {'type': 'boolean'}",
					 "{'op': 'grep', 'in': 'i', 'pattern': 'x${who}', 'invert': '${inv}'}"),
				   &all), 0);
	assert_null(all);
	assert_int_equal(check_reg(SUBST("'lines': {'type': 'integer'}",
					 "{'op': 'head', 'in': 'i', 'n': '${lines}'}"), &all), 0);
	assert_null(all);
	/* defaults are used for checking */
	assert_int_equal(check_reg(SUBST("'pat': {'type': 'string', 'default': '('}",
					 "{'op': 'grep', 'in': 'i', 'pattern': '${pat}'}"), &all), -EINVAL);
	assert_string_equal(all, "spec.json: nodes.n.pattern: bad regex");
	free(all);
	/* still: undeclared options, wrong types, and everything else */
	assert_int_equal(check_reg(SUBST("", "{'op': 'exec', 'in': 'i', 'argv': ['x', '${Y}']}"), &all), -EINVAL);
	assert_string_equal(all, "spec.json: nodes.n.argv[1]: unknown option \"Y\" in ${Y}");
	free(all);
	assert_int_equal(check_reg(SUBST("'lines': {'type': 'string'}",
					 "{'op': 'head', 'in': 'i', 'n': '${lines}'}"), &all), -EINVAL);
	assert_string_equal(all, "spec.json: nodes.n.n: expected an integer, got string");
	free(all);
	assert_int_equal(check_reg("{'use': 'pizza'}", &all), -EINVAL);
	assert_string_equal(all, "spec.json: use: a registered spec cannot use another one");
	free(all);
	assert_int_equal(check_reg(MINI("{'op': 'uper', 'in': 'i'}"), &all), -EINVAL);
	assert_string_equal(all, "spec.json: nodes.n.op: unknown operator \"uper\"");
	free(all);
	assert_int_equal(check_reg("{", &all), -EINVAL);
	assert_non_null(strstr(all, "spec.json: line 1"));
	free(all);
}

/* ---- hostile input ---- */

static void test_many_errors(void **state)
{
	struct buf b = {0};
	struct spec *s = NULL;
	struct errs e;

	(void)state;
	buf_printf(&b, "{\"outputs\": {\"o\": {\"from\": \"i\"}}, \"inputs\": {\"i\": {}}");
	for (int i = 0; i < 100; i++)
		buf_printf(&b, ", \"f%d\": 1", i);
	buf_printf(&b, "}");
	assert_int_equal(parse_raw(b.p, b.len, NULL, 0, &s, &e), -EINVAL);
	assert_int_equal(e.n, LJ_ERRS_MAX);
	assert_int_equal(e.dropped, 100 - LJ_ERRS_MAX);
	errs_free(&e);
	buf_free(&b);
}

static void test_deep_nesting(void **state)
{
	struct buf b = {0};
	struct spec *s = NULL;
	struct errs e;
	char *all;

	(void)state;
	/* 2,000 levels inside a param: jansson takes it, we refuse it once */
	buf_printf(&b, "{\"inputs\": {\"i\": {}}, \"outputs\": {\"o\": {\"from\": \"n\"}},"
		       " \"nodes\": {\"n\": {\"op\": \"bag\", \"in\": \"i\", \"a\": ");
	for (int i = 0; i < 2000; i++)
		buf_append(&b, "[1,", 3);
	buf_append(&b, "\"${x}\"", 6);
	for (int i = 0; i < 2000; i++)
		buf_append(&b, "]", 1);
	buf_printf(&b, "}}}");
	assert_int_equal(parse_raw(b.p, b.len, NULL, 0, &s, &e), -EINVAL);
	all = errs_join(&e);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(all, "spec.json: nodes.n.a[1][1][1]"));
	assert_non_null(strstr(all, ": nested more than 64 levels deep"));
	free(all);
	errs_free(&e);
	buf_free(&b);

	/* deeper than jansson allows: its error, no crash */
	buf_printf(&b, "{\"a\": ");
	for (int i = 0; i < 5000; i++)
		buf_append(&b, "[", 1);
	assert_int_equal(parse_raw(b.p, b.len, NULL, 0, &s, &e), -EINVAL);
	errs_free(&e);
	buf_free(&b);

	/* a deep schema */
	buf_printf(&b, "{\"inputs\": {\"i\": {\"format\": \"json\", \"schema\": ");
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "{\"items\": ");
	buf_printf(&b, "{}");
	for (int i = 0; i < 1000; i++)
		buf_append(&b, "}", 1);
	buf_printf(&b, "}}, \"outputs\": {\"o\": {\"from\": \"i\"}}}");
	assert_int_equal(parse_raw(b.p, b.len, NULL, 0, &s, &e), -EINVAL);
	all = errs_join(&e);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(all, "schemas nested more than 64 levels deep"));
	free(all);
	errs_free(&e);
	buf_free(&b);
}

static void test_huge_strings(void **state)
{
	struct buf b = {0};
	struct spec *s = NULL;
	struct errs e;
	char *all;

	(void)state;
	/* a 900 KB param with an option in the middle */
	buf_printf(&b, "{\"options\": {\"x\": {\"type\": \"string\", \"default\": \"X\"}}, \"inputs\": {\"i\": {}},"
		       " \"outputs\": {\"o\": {\"from\": \"n\"}}, \"nodes\": {\"n\": {\"op\": \"bag\", \"in\": \"i\", \"s\": \"");
	for (int i = 0; i < 450 * 1024; i++)
		buf_append(&b, "a", 1);
	buf_append(&b, "${x}", 4);
	for (int i = 0; i < 450 * 1024; i++)
		buf_append(&b, "b", 1);
	buf_printf(&b, "\"}}}");
	assert_int_equal(parse_raw(b.p, b.len, NULL, 0, &s, &e), 0);
	assert_int_equal(strlen(param_str(s, "n", "s", -1)), 900 * 1024 + 1);
	spec_free(s);
	errs_free(&e);
	buf_free(&b);

	/* a 900 KB stream name of control characters: the message stays short */
	buf_printf(&b, "{\"inputs\": {\"i\": {}}, \"outputs\": {\"o\": {\"from\": \"");
	for (int i = 0; i < 150 * 1024; i++)
		buf_append(&b, "\\u0001", 6);
	buf_printf(&b, "\"}}}");
	assert_int_equal(parse_raw(b.p, b.len, NULL, 0, &s, &e), -EINVAL);
	all = errs_join(&e);
	assert_true(strlen(all) < 400);
	assert_non_null(strstr(all, "spec.json: outputs.o.from: unknown stream \"\\x01\\x01"));
	free(all);
	errs_free(&e);
	buf_free(&b);
}

/* Every value of the pizza replaced by every kind of JSON value, and every
 * key removed: always a clean yes or no, never a crash or a leak. */
static void try_doc(json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	struct spec *s = NULL;
	struct errs e;

	parse_raw(text, strlen(text), NULL, 0, &s, &e);
	spec_free(s);
	errs_free(&e);
	errs_init(&e);
	spec_check_registered(text, strlen(text), &ctx, &e);
	check_messages(&e);
	errs_free(&e);
	free(text);
}

static void mutate_all(json_t *doc, json_t *v, int depth)
{
	static const char *const kinds[] = {"null", "true", "5", "-2.5", "\"x\"", "\"\"", "[]", "{}",
					    "[1, \"a\"]", "{\"a\": 1}", "\"${spice}\"", "\"dough\"", NULL};
	const char *key;
	json_t *e, *saved;
	size_t i;

	if (depth > 8)
		return;
	json_t *keys = json_array();

	/* keys first: the object changes while we work on it */
	json_object_foreach(v, key, e)
		json_array_append_new(keys, json_string(key));
	json_array_foreach(keys, i, e) {
		key = json_string_value(e);
		saved = json_incref(json_object_get(v, key));
		for (int k = 0; kinds[k]; k++) {
			json_object_set_new(v, key, json_loads(kinds[k], JSON_DECODE_ANY, NULL));
			try_doc(doc);
		}
		json_object_del(v, key);
		try_doc(doc);
		json_object_set_new(v, key, saved);
		mutate_all(doc, saved, depth + 1);
	}
	json_decref(keys);
	json_array_foreach(v, i, e) {
		saved = json_incref(e);
		for (int k = 0; kinds[k]; k++) {
			json_array_set_new(v, i, json_loads(kinds[k], JSON_DECODE_ANY, NULL));
			try_doc(doc);
		}
		json_array_set_new(v, i, saved);
		mutate_all(doc, saved, depth + 1);
	}
}

static void test_wrong_types_everywhere(void **state)
{
	char *text = jq(PIZZA);
	json_t *doc = json_loads(text, 0, NULL);

	(void)state;
	assert_non_null(doc);
	mutate_all(doc, doc, 0);
	json_decref(doc);
	free(text);
}

/* Byte-level mutations of the pizza and of options.json. */
static void test_mutations(void **state)
{
	static const char *const bits[] = {"{", "}", "[", "]", "\"", ",", ":", ".", "$", "${", "}",
					   "\"in\":", "\"op\":", "\"bake\"", "\"dough\"", "\\u0000",
					   "\\", "\xff", "\x01", "1e999", "-0", "null", "\"s.rest\"", NULL};
	char *pizza = jq(PIZZA), *opts = jq("{'spice': 'hot', 'size': 42}");
	uint64_t rnd = 0x9e3779b97f4a7c15ull;
	size_t plen = strlen(pizza), olen = strlen(opts);
	int accepted = 0;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		char buf[4096], obuf[256];
		size_t len = plen, ol = olen;
		struct spec *s = NULL;
		struct errs e;

		memcpy(buf, pizza, plen);
		memcpy(obuf, opts, olen);
		for (int m = 0; m < 1 + round % 4; m++) {
			size_t at, n;
			const char *bit;

			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			if (len < 16)
				break;
			at = (size_t)(rnd >> 20) % len;
			switch (rnd % 4) {
			case 0: /* delete a few bytes */
				n = 1 + (rnd >> 8) % 8;
				if (at + n > len)
					n = len - at;
				memmove(buf + at, buf + at + n, len - at - n);
				len -= n;
				break;
			case 1: /* insert a piece */
				bit = bits[(rnd >> 40) % (sizeof(bits) / sizeof(bits[0]) - 1)];
				n = strlen(bit);
				if (len + n < sizeof(buf)) {
					memmove(buf + at + n, buf + at, len - at);
					memcpy(buf + at, bit, n);
					len += n;
				}
				break;
			case 2: /* flip a byte */
				buf[at] = (char)(rnd >> 32);
				break;
			default: /* damage options.json */
				obuf[(rnd >> 24) % ol] = (char)(rnd >> 48);
				break;
			}
		}
		if (parse_raw(buf, len, round % 3 ? obuf : NULL, ol, &s, &e) == 0)
			accepted++;
		spec_free(s);
		errs_free(&e);
	}
	/* some mutations are harmless (inside strings): the check isn't vacuous */
	assert_true(accepted > 0);
	free(pizza);
	free(opts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pizza_defaults),
		cmocka_unit_test(test_pizza_options),
		cmocka_unit_test(test_real_ops),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_long_chain),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_inputs),
		cmocka_unit_test(test_option_declarations),
		cmocka_unit_test(test_options_json),
		cmocka_unit_test(test_nodes),
		cmocka_unit_test(test_in),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_named_ports),
		cmocka_unit_test(test_outputs),
		cmocka_unit_test(test_unused_inputs),
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_substitution),
		cmocka_unit_test(test_substitution_limit),
		cmocka_unit_test(test_use),
		cmocka_unit_test(test_check_registered),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_huge_strings),
		cmocka_unit_test(test_wrong_types_everywhere),
		cmocka_unit_test(test_mutations),
	};

	h_test_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
