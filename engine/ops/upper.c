/* upper.c - ASCII upper case, per record. */
#include <string.h>

#include "lineop.h"

static void to_upper(char *p, size_t len)
{
	lineop_ascii_case(p, len, 'a');
}

static int upper_rec(struct node *n, const char *rec, size_t len, uint64_t recno)
{
	struct lineop_raw *r = n->state;
	size_t off = 0;
	int rc = 0;

	(void)recno;
	/* A record longer than the buffer is mapped and emitted in pieces. */
	do {
		size_t k = len - off < sizeof(r->buf) ? len - off : sizeof(r->buf);

		memcpy(r->buf, rec + off, k);
		to_upper(r->buf, k);
		off += k;
		rc = off < len ? lineop_emit(n, 0, r->buf, k) : lineop_emit_line(n, 0, r->buf, k);
	} while (rc == 0 && off < len);
	return rc;
}

static int upper_run(struct node *n)
{
	struct lineop_raw *r = n->state;

	if (n->nin == 1)
		return lineop_raw(n, r, to_upper, true);
	return lineop_records(n, &r->recno, upper_rec);
}

static const struct op_param upper_params[] = {{.name = NULL}};

const struct op_desc op_upper = {
	.name = "upper",
	.summary = "maps ASCII letters to upper case",
	.doc =
		"Maps the ASCII letters a-z of every record to A-Z; every other byte\n"
		"(digits, punctuation, UTF-8 sequences) passes unchanged. Records are\n"
		"lines: each output record ends in a newline, including a last input\n"
		"line that had none. Several inputs are merged in arrival order.\n"
		"\n"
		"example:\n"
		"  \"knead\": {\"op\": \"upper\", \"in\": \"dough\"}\n"
		"  input \"Hello, World\" gives \"HELLO, WORLD\"\n",
	.params = upper_params,
	.min_inputs = 1,
	.state_size = sizeof(struct lineop_raw),
	.run = upper_run,
};
