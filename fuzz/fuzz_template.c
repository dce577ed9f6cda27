/* fuzz_template.c - libFuzzer target for the template operator's params
 * check (engine/ops/template.c: the parse of {field}, {line}, {{ and }}).
 *
 * Input: the "text" param. As in a spec, it must be UTF-8 without NUL
 * (jansson guarantees that for spec strings); other inputs are skipped.
 * The check runs as spec_parse() runs it: op_find("template")->check(
 * {"text": INPUT}, "nodes.t", &errs). Every message must start with
 * "nodes.t.text: " and be one line. */
#include "fuzz_common.h"
#include "ops/op.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct op_desc *op;
	json_t *params, *s;
	struct errs errs;

	if (!op)
		op = op_find("template");
	FUZZ_CHECK(op && op->check, "no template operator with a check");
	s = json_stringn((const char *)data, size); /* NULL: not UTF-8 or holds NUL */
	if (!s || memchr(data, 0, size)) {
		json_decref(s);
		return 0;
	}
	params = json_object();
	json_object_set_new(params, "op", json_string("template"));
	json_object_set_new(params, "in", json_string("x"));
	json_object_set_new(params, "text", s);
	errs_init(&errs);
	op->check(params, "nodes.t", &errs);
	fuzz_check_errs(&errs, "nodes.t.text: ", "template check");
	errs_free(&errs);
	json_decref(params);
	return 0;
}
