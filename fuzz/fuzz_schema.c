/* fuzz_schema.c - libFuzzer target for schema_check() and schema_validate()
 * (engine/schema.c), and the text helpers schema_show_text/value.
 *
 * Input: the first line is a JSON schema; every further line a JSON value
 * (an NDJSON record). As for a json input of a job: when schema_check()
 * accepts the schema, each value that parses is validated. Checks: a
 * refused schema has messages, each one line starting with the path given;
 * a failed validation has a reason starting with "$" on one line; a short
 * reason buffer gives the same answer; shown texts fit their buffer. */
#include "fuzz_common.h"
#include "schema.h"

static void check_show(json_t *v)
{
	char out[SCHEMA_SHOW_CAP], tiny[9];

	schema_show_value(out, sizeof(out), v);
	FUZZ_CHECK(strlen(out) < sizeof(out), "schema_show_value overflowed");
	schema_show_value(tiny, sizeof(tiny), v);
	FUZZ_CHECK(strlen(tiny) < sizeof(tiny), "schema_show_value overflowed a small buffer");
	if (json_is_string(v)) {
		schema_show_text(out, sizeof(out), json_string_value(v), json_string_length(v));
		fuzz_check_line(out[0] ? out : "x", "schema_show_text");
		schema_show_text(tiny, sizeof(tiny), json_string_value(v), json_string_length(v));
		FUZZ_CHECK(strlen(tiny) < sizeof(tiny), "schema_show_text overflowed a small buffer");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nl = memchr(text, '\n', size);
	size_t slen = nl ? (size_t)(nl - text) : size, pos = nl ? slen + 1 : size;
	json_error_t jerr;
	json_t *schema = json_loadb(text, slen, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	struct errs errs;
	bool ok;

	if (!schema)
		return 0;
	errs_init(&errs);
	ok = schema_check(schema, "inputs.t.schema", &errs);
	FUZZ_CHECK(ok == (errs.n == 0 && errs.dropped == 0), "schema_check said %d with %d messages",
		   ok, errs.n);
	fuzz_check_errs(&errs, "inputs.t.schema", "schema_check");
	errs_free(&errs);
	check_show(schema);
	while (ok && pos < size) {
		const char *end = memchr(text + pos, '\n', size - pos);
		size_t len = end ? (size_t)(end - (text + pos)) : size - pos;
		json_t *v = json_loadb(text + pos, len, JSON_DECODE_ANY, &jerr);
		char why[512], small[16];

		pos += len + 1;
		if (!v)
			continue;
		bool good = schema_validate(schema, v, why, sizeof(why));
		bool good2 = schema_validate(schema, v, small, sizeof(small));

		FUZZ_CHECK(good == good2, "schema_validate depends on the size of its buffer");
		if (!good) {
			fuzz_check_line(why, "schema_validate");
			FUZZ_CHECK(why[0] == '$', "reason without a $ path: \"%.200s\"", why);
			FUZZ_CHECK(strlen(small) < sizeof(small), "reason overflowed a small buffer");
		}
		check_show(v);
		json_decref(v);
	}
	json_decref(schema);
	return 0;
}
