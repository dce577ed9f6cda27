/* fuzz_spec.c - libFuzzer target for spec_parse() and
 * spec_check_registered() (engine/spec.c, with the real operators and their
 * params checks, engine/schema.c for input schemas).
 *
 * Input: the spec.json bytes; after the first NUL byte, if any, the bytes
 * of options.json. {"use": "shout"} and {"use": "needy"} find a registered
 * spec. Besides the sanitizers, it checks the promises of spec.h: the
 * result is 0, -EINVAL or -ENOMEM; a refusal comes with messages, each one
 * line starting "spec.json: " or "options.json: "; an accepted spec's
 * stream references are in range. */
#include <errno.h>

#include "fuzz_common.h"
#include "spec.h"

static const char shout[] =
	"{\"options\": {\"mark\": {\"type\": \"string\", \"default\": \"!\"}},"
	" \"inputs\": {\"text\": {\"format\": \"lines\"}},"
	" \"outputs\": {\"loud\": {\"from\": \"bang\"}},"
	" \"nodes\": {\"up\": {\"op\": \"upper\", \"in\": \"text\"},"
	" \"bang\": {\"op\": \"replace\", \"in\": \"up\", \"pattern\": \"^(.*)$\","
	" \"with\": \"\\\\1${mark}\"}}}";
static const char needy[] =
	"{\"options\": {\"level\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 9}},"
	" \"inputs\": {\"text\": {\"format\": \"lines\"}},"
	" \"outputs\": {\"out\": {\"from\": \"top\"}},"
	" \"nodes\": {\"top\": {\"op\": \"head\", \"in\": \"text\", \"n\": \"${level}\"}}}";

static char *registered(void *arg, const char *name, size_t *len)
{
	const char *text = strcmp(name, "shout") == 0 ? shout
			   : strcmp(name, "needy") == 0 ? needy : NULL;

	(void)arg;
	if (!text)
		return NULL;
	*len = strlen(text);
	return strdup(text);
}

static const struct spec_ctx ctx = {.registered = registered};

static void check_refs(const struct spec *s, struct stream_ref r, int before_node)
{
	char name[600];

	if (r.node < 0) {
		FUZZ_CHECK(r.index >= 0 && r.index < s->ninputs, "input ref %d of %d", r.index,
			   s->ninputs);
	} else {
		FUZZ_CHECK(r.node < s->nnodes, "node ref %d of %d", r.node, s->nnodes);
		/* topological order: producers come first */
		FUZZ_CHECK(before_node < 0 || r.node < before_node, "node %d reads node %d",
			   before_node, r.node);
		FUZZ_CHECK(r.index >= 0 && r.index < s->nodes[r.node].nout, "port %d of %d",
			   r.index, s->nodes[r.node].nout);
	}
	spec_stream_name(s, r, name, sizeof(name));
	FUZZ_CHECK(name[0] != '\0', "a reference without a name");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t slen = nul ? (size_t)(nul - data) : size;
	char *text = fuzz_strndup(data, slen);
	char *opts = nul ? fuzz_strndup(nul + 1, size - slen - 1) : NULL;
	size_t olen = nul ? size - slen - 1 : 0;
	struct spec *sp = NULL;
	struct errs errs;
	int rc;

	errs_init(&errs);
	rc = spec_parse(text, slen, opts, olen, &ctx, &sp, &errs);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "spec_parse returned %d", rc);
	if (rc == 0) {
		FUZZ_CHECK(sp != NULL, "accepted without a spec");
		FUZZ_CHECK(errs.n == 0, "accepted with %d messages", errs.n);
		FUZZ_CHECK(sp->noutputs >= 1, "accepted without outputs");
		FUZZ_CHECK(sp->nnodes <= SPEC_MAX_NODES, "%d nodes", sp->nnodes);
		for (int i = 0; i < sp->noutputs; i++)
			check_refs(sp, sp->outputs[i].from, -1);
		for (int i = 0; i < sp->nnodes; i++) {
			FUZZ_CHECK(sp->nodes[i].op != NULL, "node without an operator");
			for (int k = 0; k < sp->nodes[i].nin; k++)
				check_refs(sp, sp->nodes[i].in[k], i);
		}
		(void)spec_uses_op(sp, "exec");
	} else {
		FUZZ_CHECK(sp == NULL, "refused, but *out is set");
		if (rc == -EINVAL)
			FUZZ_CHECK(errs.n > 0, "refused without a message");
	}
	for (int i = 0; i < errs.n; i++) {
		fuzz_check_line(errs.msg[i], "spec_parse");
		FUZZ_CHECK(strncmp(errs.msg[i], "spec.json: ", 11) == 0 ||
				   strncmp(errs.msg[i], "options.json: ", 14) == 0,
			   "message without a file prefix: \"%.200s\"", errs.msg[i]);
	}
	spec_free(sp);
	errs_free(&errs);

	rc = spec_check_registered(text, slen, &ctx, &errs);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "spec_check_registered returned %d",
		   rc);
	if (rc == -EINVAL)
		FUZZ_CHECK(errs.n > 0, "registry check refused without a message");
	fuzz_check_errs(&errs, "spec.json: ", "spec_check_registered");
	errs_free(&errs);
	free(text);
	free(opts);
	return 0;
}
