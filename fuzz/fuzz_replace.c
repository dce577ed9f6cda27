/* fuzz_replace.c - libFuzzer target for the replace operator's params check
 * (engine/ops/replace.c: the regex compile through lineop_check_regex() and
 * the parse of \0..\9 in `with`), and for grep's, split's and filter's
 * regex checks, which share lineop_check_regex().
 *
 * Input: byte 0 holds flags (bit 0: "global", bit 1: "ignore_case" for
 * grep and split); the rest is "pattern", then after the first NUL byte
 * "with". Both must be UTF-8 without NUL, as in a spec; other inputs are
 * skipped. Every message must be one line starting with the node's path. */
#include "fuzz_common.h"
#include "ops/op.h"

static json_t *utf8(const uint8_t *p, size_t n)
{
	return memchr(p, 0, n) ? NULL : json_stringn((const char *)p, n);
}

static void run_check(const char *opname, json_t *params, const char *path)
{
	const struct op_desc *op = op_find(opname);
	char prefix[64];
	struct errs errs;

	FUZZ_CHECK(op && op->check, "no %s operator with a check", opname);
	snprintf(prefix, sizeof(prefix), "%s", path);
	errs_init(&errs);
	op->check(params, path, &errs);
	fuzz_check_errs(&errs, prefix, opname);
	errs_free(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep, *pat;
	size_t plen, wlen;
	json_t *p, *w, *params;
	bool global, icase;

	if (size < 1)
		return 0;
	global = data[0] & 1;
	icase = data[0] & 2;
	pat = data + 1;
	sep = memchr(pat, 0, size - 1);
	plen = sep ? (size_t)(sep - pat) : size - 1;
	wlen = sep ? size - 1 - plen - 1 : 0;
	p = utf8(pat, plen);
	w = sep ? utf8(sep + 1, wlen) : json_string("\\0");
	if (!p || !w) {
		json_decref(p);
		json_decref(w);
		return 0;
	}
	params = json_object();
	json_object_set_new(params, "op", json_string("replace"));
	json_object_set_new(params, "in", json_string("x"));
	json_object_set(params, "pattern", p);
	json_object_set_new(params, "with", w);
	json_object_set_new(params, "global", json_boolean(global));
	run_check("replace", params, "nodes.r");
	json_decref(params);

	/* the same pattern for the other regex operators */
	params = json_object();
	json_object_set(params, "pattern", p);
	json_object_set_new(params, "ignore_case", json_boolean(icase));
	run_check(icase ? "split" : "grep", params, "nodes.g");
	json_decref(params);
	params = json_object();
	json_object_set_new(params, "field", json_string("a"));
	json_object_set(params, "matches", p);
	run_check("filter", params, "nodes.f");
	json_decref(params);
	json_decref(p);
	return 0;
}
