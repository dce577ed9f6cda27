/* lower.c - ASCII lower case, per record. */
#include <string.h>

#include "lineop.h"

static void to_lower(char *p, size_t len)
{
	lineop_ascii_case(p, len, 'A');
}

static int lower_rec(struct node *n, const char *rec, size_t len, uint64_t recno)
{
	struct lineop_raw *r = n->state;
	size_t off = 0;
	int rc = 0;

	(void)recno;
	/* A record longer than the buffer is mapped and emitted in pieces. */
	do {
		size_t k = len - off < sizeof(r->buf) ? len - off : sizeof(r->buf);

		memcpy(r->buf, rec + off, k);
		to_lower(r->buf, k);
		off += k;
		rc = off < len ? lineop_emit(n, 0, r->buf, k) : lineop_emit_line(n, 0, r->buf, k);
	} while (rc == 0 && off < len);
	return rc;
}

static int lower_run(struct node *n)
{
	struct lineop_raw *r = n->state;

	if (n->nin == 1)
		return lineop_raw(n, r, to_lower, true);
	return lineop_records(n, &r->recno, lower_rec);
}

static const struct op_param lower_params[] = {{.name = NULL}};

const struct op_desc op_lower = {
	.name = "lower",
	.summary = "maps ASCII letters to lower case",
	.doc =
		"Maps the ASCII letters A-Z of every record to a-z; every other byte\n"
		"(digits, punctuation, UTF-8 sequences) passes unchanged. Records are\n"
		"lines: each output record ends in a newline, including a last input\n"
		"line that had none. Several inputs are merged in arrival order.\n"
		"\n"
		"example:\n"
		"  \"calm\": {\"op\": \"lower\", \"in\": \"shouts\"}\n"
		"  input \"Hello, World\" gives \"hello, world\"\n",
	.params = lower_params,
	.min_inputs = 1,
	.state_size = sizeof(struct lineop_raw),
	.run = lower_run,
};
