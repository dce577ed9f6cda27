/* test_schema.c - the JSON Schema subset: schema_check() on good and bad
 * schemas (exact messages with paths), schema_validate() on passing and
 * failing values, and the message helpers schema_show_text/value. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "schema.h"

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &je);

	if (!j)
		fail_msg("bad test JSON: %s: %s", text, je.text);
	return j;
}

/* schema_check on text; returns the joined messages (malloc'd) or NULL. */
static char *check(const char *text, bool *ok)
{
	json_t *s = parse(text);
	struct errs e;
	char *all;

	errs_init(&e);
	*ok = schema_check(s, "inputs.t.schema", &e);
	all = errs_join(&e);
	errs_free(&e);
	json_decref(s);
	return all;
}

static void check_ok(const char *text)
{
	bool ok;
	char *all = check(text, &ok);

	if (!ok || all)
		fail_msg("schema %s: unexpected errors: %s", text, all ? all : "(none)");
	free(all);
}

static void check_bad(const char *text, const char *want)
{
	bool ok;
	char *all = check(text, &ok);

	if (ok || !all || !strstr(all, want))
		fail_msg("schema %s:\n want: %s\n got:  %s", text, want, all ? all : "(none)");
	free(all);
}

/* Validate value against schema; want NULL means it must pass. */
static void validate(const char *schema, const char *value, const char *want)
{
	json_t *s = parse(schema), *v = parse(value);
	char why[256];
	bool ok = schema_validate(s, v, why, sizeof(why));

	if (!want && !ok)
		fail_msg("%s against %s: unexpected failure: %s", value, schema, why);
	if (want && ok)
		fail_msg("%s against %s: passed, want %s", value, schema, want);
	if (want && strcmp(why, want) != 0)
		fail_msg("%s against %s:\n want: %s\n got:  %s", value, schema, want, why);
	json_decref(s);
	json_decref(v);
}

static void test_check_good(void **state)
{
	(void)state;
	check_ok("{}");
	check_ok("{\"type\": \"object\", \"required\": [\"name\"]}");
	check_ok("{\"type\": [\"string\", \"null\"], \"minLength\": 1, \"maxLength\": 10}");
	check_ok("{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"array\", "
		 "\"items\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 9.5}}}}");
	check_ok("{\"enum\": [1, \"two\", null, {\"x\": [3]}]}");
	check_ok("{\"title\": \"t\", \"description\": \"d\", \"type\": \"boolean\"}");
	check_ok("{\"minimum\": 3, \"maximum\": 3}");
	check_ok("{\"properties\": {\"\": {}, \"weird key\": {\"type\": \"null\"}}}");
}

static void test_check_bad(void **state)
{
	(void)state;
	check_bad("{\"pattern\": \"^a\"}", "inputs.t.schema.pattern: unsupported keyword");
	check_bad("{\"$schema\": \"x\"}", "inputs.t.schema.$schema: unsupported keyword");
	check_bad("[]", "inputs.t.schema: a schema must be an object, got array");
	check_bad("true", "inputs.t.schema: a schema must be an object, got boolean");
	check_bad("{\"type\": \"int\"}", "inputs.t.schema.type: unknown type \"int\"");
	check_bad("{\"type\": 3}", "inputs.t.schema.type: expected a type name or a non-empty array");
	check_bad("{\"type\": []}", "inputs.t.schema.type: expected a type name or a non-empty array");
	check_bad("{\"type\": [\"string\", 1]}", "inputs.t.schema.type[1]: expected a type name, got integer");
	check_bad("{\"type\": [\"string\", \"text\"]}", "inputs.t.schema.type[1]: unknown type \"text\"");
	check_bad("{\"properties\": []}", "inputs.t.schema.properties: expected an object of schemas, got array");
	check_bad("{\"properties\": {\"a\": {\"type\": \"x\"}}}",
		  "inputs.t.schema.properties.a.type: unknown type \"x\"");
	check_bad("{\"properties\": {\"a\": {\"items\": {\"format\": \"date\"}}}}",
		  "inputs.t.schema.properties.a.items.format: unsupported keyword");
	check_bad("{\"required\": \"name\"}", "inputs.t.schema.required: expected an array of property names, got string");
	check_bad("{\"required\": [\"a\", 2]}", "inputs.t.schema.required[1]: expected a property name (string), got integer");
	check_bad("{\"enum\": []}", "inputs.t.schema.enum: expected a non-empty array of values");
	check_bad("{\"enum\": 3}", "inputs.t.schema.enum: expected a non-empty array of values");
	check_bad("{\"items\": [{}]}", "inputs.t.schema.items: a schema must be an object, got array");
	check_bad("{\"minimum\": \"3\"}", "inputs.t.schema.minimum: expected a number, got string");
	check_bad("{\"maximum\": null}", "inputs.t.schema.maximum: expected a number, got null");
	check_bad("{\"minLength\": -1}", "inputs.t.schema.minLength: expected a non-negative integer");
	check_bad("{\"maxLength\": 2.5}", "inputs.t.schema.maxLength: expected a non-negative integer");
	check_bad("{\"minimum\": 5, \"maximum\": 4}", "inputs.t.schema: minimum is above maximum");
	check_bad("{\"minLength\": 5, \"maxLength\": 4}", "inputs.t.schema: minLength is above maxLength");
	check_bad("{\"title\": 1}", "inputs.t.schema.title: expected a string, got integer");
	check_bad("{\"properties\": {\"a\\u0001\\\"b\": {\"x\": 1}}}",
		  "inputs.t.schema.properties.a\\x01\\\"b.x: unsupported keyword");
}

/* Several problems in one schema are all reported. */
static void test_check_collects(void **state)
{
	bool ok;
	char *all = check("{\"type\": \"int\", \"pattern\": \"x\", \"properties\": {\"a\": 1}}", &ok);

	(void)state;
	assert_false(ok);
	assert_non_null(all);
	assert_non_null(strstr(all, "inputs.t.schema.type: unknown type"));
	assert_non_null(strstr(all, "inputs.t.schema.pattern: unsupported keyword"));
	assert_non_null(strstr(all, "inputs.t.schema.properties.a: a schema must be an object"));
	free(all);
}

/* items inside items, n deep. */
static char *nested_items(int n)
{
	size_t cap = (size_t)n * 16 + 16, o = 0;
	char *s = malloc(cap);

	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, cap - o, "{\"items\":");
	o += (size_t)snprintf(s + o, cap - o, "{}");
	for (int i = 0; i < n; i++)
		s[o++] = '}';
	s[o] = '\0';
	return s;
}

/* [[[...]]], n deep. */
static char *nested_arrays(int n)
{
	char *s = malloc((size_t)n * 2 + 1);

	memset(s, '[', (size_t)n);
	memset(s + n, ']', (size_t)n);
	s[2 * n] = '\0';
	return s;
}

static void test_check_depth(void **state)
{
	char *ok = nested_items(SCHEMA_MAX_DEPTH), *deep = nested_items(SCHEMA_MAX_DEPTH + 1);
	char *very = nested_items(2000);

	(void)state;
	check_ok(ok);
	check_bad(deep, "schemas nested more than 64 levels deep");
	check_bad(very, "schemas nested more than 64 levels deep");
	free(ok);
	free(deep);
	free(very);
}

static void test_validate_types(void **state)
{
	(void)state;
	validate("{\"type\": \"object\"}", "{}", NULL);
	validate("{\"type\": \"object\"}", "[]", "$: expected object, got array");
	validate("{\"type\": \"integer\"}", "3", NULL);
	validate("{\"type\": \"integer\"}", "3.0", NULL);
	validate("{\"type\": \"integer\"}", "3.5", "$: expected integer, got number");
	validate("{\"type\": \"number\"}", "3", NULL);
	validate("{\"type\": \"number\"}", "-3.5e10", NULL);
	validate("{\"type\": \"number\"}", "\"3\"", "$: expected number, got string");
	validate("{\"type\": \"string\"}", "\"\"", NULL);
	validate("{\"type\": \"boolean\"}", "false", NULL);
	validate("{\"type\": \"boolean\"}", "0", "$: expected boolean, got integer");
	validate("{\"type\": \"null\"}", "null", NULL);
	validate("{\"type\": \"array\"}", "[1]", NULL);
	validate("{\"type\": [\"string\", \"null\"]}", "null", NULL);
	validate("{\"type\": [\"string\", \"null\"]}", "\"x\"", NULL);
	validate("{\"type\": [\"string\", \"null\"]}", "1", "$: expected string or null, got integer");
	validate("{}", "{\"anything\": [1, 2]}", NULL);
}

static void test_validate_objects(void **state)
{
	const char *pizza = "{\"type\": \"object\", \"required\": [\"name\"], "
			    "\"properties\": {\"name\": {\"type\": \"string\", \"minLength\": 1}, "
			    "\"size\": {\"type\": \"integer\", \"minimum\": 20, \"maximum\": 50}}}";

	(void)state;
	validate(pizza, "{\"name\": \"olive\"}", NULL);
	validate(pizza, "{\"name\": \"olive\", \"size\": 30, \"extra\": true}", NULL);
	validate(pizza, "{}", "$.name: required property is missing");
	validate(pizza, "{\"name\": \"\"}", "$.name: 0 characters, fewer than minLength 1");
	validate(pizza, "{\"name\": 5}", "$.name: expected string, got integer");
	validate(pizza, "{\"name\": \"x\", \"size\": 60}", "$.size: 60 is above maximum 50");
	validate(pizza, "{\"name\": \"x\", \"size\": 10}", "$.size: 10 is below minimum 20");
	validate(pizza, "[\"name\"]", "$: expected object, got array");
	/* required and properties only apply to objects */
	validate("{\"required\": [\"a\"], \"properties\": {\"a\": {\"type\": \"string\"}}}", "7", NULL);
}

static void test_validate_paths(void **state)
{
	const char *s = "{\"properties\": {\"a\": {\"properties\": {\"b\": {\"type\": \"array\", "
			"\"items\": {\"type\": \"integer\"}}}}}}";

	(void)state;
	validate(s, "{\"a\": {\"b\": [1, 2, \"three\"]}}", "$.a.b[2]: expected integer, got string");
	validate(s, "{\"a\": {\"b\": [1, 2, 3]}}", NULL);
	validate(s, "{\"a\": {\"b\": \"no\"}}", "$.a.b: expected array, got string");
	validate("{\"items\": {\"required\": [\"id\"]}}", "[{\"id\": 1}, {}]",
		 "$[1].id: required property is missing");
	/* keys that would break the line are escaped */
	validate("{\"properties\": {\"a\\nb\": {\"type\": \"null\"}}}", "{\"a\\nb\": 1}",
		 "$.a\\x0ab: expected null, got integer");
}

static void test_validate_enum_range_length(void **state)
{
	(void)state;
	validate("{\"enum\": [\"mild\", \"hot\", \"extra\"]}", "\"hot\"", NULL);
	validate("{\"enum\": [\"mild\", \"hot\", \"extra\"]}", "\"mild2\"",
		 "$: \"mild2\" is not one of \"mild\", \"hot\", \"extra\"");
	validate("{\"enum\": [1, 2]}", "2.0", NULL);
	validate("{\"enum\": [[1], {\"a\": null}]}", "{\"a\": null}", NULL);
	validate("{\"enum\": [[1], {\"a\": null}]}", "[2]", "$: [2] is not one of [1], {\"a\":null}");
	validate("{\"minimum\": 0.5}", "0.25", "$: 0.25 is below minimum 0.5");
	validate("{\"maximum\": 0.1}", "0.1", NULL);
	validate("{\"maximum\": 9007199254740993}", "9007199254740993", NULL);
	validate("{\"maximum\": 9007199254740992}", "9007199254740993",
		 "$: 9007199254740993 is above maximum 9007199254740992");
	validate("{\"minimum\": 5}", "\"not a number\"", NULL);
	/* code points, not bytes: "héé" is 3 characters in 5 bytes */
	validate("{\"maxLength\": 3}", "\"h\\u00e9\\u00e9\"", NULL);
	validate("{\"minLength\": 4}", "\"h\\u00e9\\u00e9\"", "$: 3 characters, fewer than minLength 4");
	validate("{\"maxLength\": 1}", "\"\\ud83c\\udf55\"", NULL); /* one emoji, 4 bytes */
	validate("{\"maxLength\": 2}", "\"abc\"", "$: 3 characters, more than maxLength 2");
	validate("{\"minLength\": 2}", "[1]", NULL);
}

static void test_validate_edges(void **state)
{
	json_t *s = parse("{\"type\": \"integer\"}"), *v = parse("\"a long string value\"");
	json_t *deep_s, *deep_v;
	char small[8], *text;

	(void)state;
	/* a tiny buffer is truncated, never overrun; a zero cap is allowed */
	assert_false(schema_validate(s, v, small, sizeof(small)));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_false(schema_validate(s, v, NULL, 0));
	assert_true(schema_validate(NULL, v, small, sizeof(small)));
	assert_false(schema_validate(s, NULL, small, sizeof(small)));
	json_decref(s);
	json_decref(v);

	/* an unchecked, too-deep schema fails cleanly instead of recursing on */
	text = nested_items(500);
	deep_s = parse(text);
	free(text);
	text = nested_arrays(100);
	deep_v = parse(text);
	free(text);
	{
		char why[4096];
		assert_false(schema_validate(deep_s, deep_v, why, sizeof(why)));
		assert_non_null(strstr(why, "schemas nested more than 64 levels deep"));
	}
	json_decref(deep_s);
	json_decref(deep_v);
}

static void test_show(void **state)
{
	char out[SCHEMA_SHOW_CAP], small[10];
	char long_text[300];
	json_t *v;

	(void)state;
	schema_show_text(out, sizeof(out), "plain", 5);
	assert_string_equal(out, "plain");
	schema_show_text(out, sizeof(out), "a\nb\"c\\d\x7f", 8);
	assert_string_equal(out, "a\\x0ab\\\"c\\\\d\\x7f");
	schema_show_text(out, sizeof(out), "caf\xc3\xa9", 5);
	assert_string_equal(out, "caf\xc3\xa9");
	schema_show_text(out, sizeof(out), "\xc2\x85|\xe2\x80\xa8|\xff", 8);
	assert_string_equal(out, "\\u0085|\\u2028|\\xff");
	memset(long_text, 'x', sizeof(long_text));
	schema_show_text(out, sizeof(out), long_text, sizeof(long_text));
	assert_int_equal(strlen(out), SCHEMA_SHOW_MAX + 3);
	assert_string_equal(out + SCHEMA_SHOW_MAX, "...");
	/* escapes of every byte still fit SCHEMA_SHOW_CAP */
	memset(long_text, 1, sizeof(long_text));
	schema_show_text(out, sizeof(out), long_text, sizeof(long_text));
	assert_int_equal(strlen(out), SCHEMA_SHOW_MAX * 4 + 3);
	/* a small buffer is cut, with "..." */
	schema_show_text(small, sizeof(small), "abcdefghijklmnop", 16);
	assert_string_equal(small, "abcdef...");

	v = json_real(0.1);
	schema_show_value(out, sizeof(out), v);
	assert_string_equal(out, "0.1");
	json_real_set(v, 30.0);
	schema_show_value(out, sizeof(out), v);
	assert_string_equal(out, "30");
	json_real_set(v, 0.30000000000000004);
	schema_show_value(out, sizeof(out), v);
	assert_string_equal(out, "0.30000000000000004");
	json_real_set(v, 1e300);
	schema_show_value(out, sizeof(out), v);
	assert_string_equal(out, "1e+300");
	json_decref(v);
	v = json_integer(-42);
	schema_show_value(out, sizeof(out), v);
	assert_string_equal(out, "-42");
	json_decref(v);
	v = json_string("hot\tsauce");
	schema_show_value(out, sizeof(out), v);
	assert_string_equal(out, "\"hot\\x09sauce\"");
	json_decref(v);
	v = parse("{\"a\": [1, true, null]}");
	schema_show_value(out, sizeof(out), v);
	assert_string_equal(out, "{\"a\":[1,true,null]}");
	json_decref(v);
	v = json_array();
	for (int i = 0; i < 100; i++)
		json_array_append_new(v, json_integer(i));
	schema_show_value(out, sizeof(out), v);
	assert_true(strlen(out) <= SCHEMA_SHOW_MAX + 3);
	assert_string_equal(out + strlen(out) - 3, "...");
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_good),
		cmocka_unit_test(test_check_bad),
		cmocka_unit_test(test_check_collects),
		cmocka_unit_test(test_check_depth),
		cmocka_unit_test(test_validate_types),
		cmocka_unit_test(test_validate_objects),
		cmocka_unit_test(test_validate_paths),
		cmocka_unit_test(test_validate_enum_range_length),
		cmocka_unit_test(test_validate_edges),
		cmocka_unit_test(test_show),
	};

	h_test_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
