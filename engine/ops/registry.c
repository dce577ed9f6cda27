/* registry.c - every operator, in documentation order (DESIGN.md section 6).
 * Adding an operator: one file in engine/ops/ and one line below. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "util.h"

extern const struct op_desc op_pass, op_exec, op_upper, op_lower, op_grep, op_replace,
	op_head, op_count, op_template, op_pick, op_filter, op_split, op_merge, op_concat,
	op_delay;
extern const struct op_desc op_invoke;

static const struct op_desc *const ops[] = {
	&op_pass,
	&op_exec,
	&op_upper,
	&op_lower,
	&op_grep,
	&op_replace,
	&op_head,
	&op_count,
	&op_template,
	&op_pick,
	&op_filter,
	&op_split,
	&op_merge,
	&op_concat,
	&op_delay,
	&op_invoke,
	NULL,
};

const struct op_desc *op_find(const char *name)
{
	if (!name)
		return NULL;
	for (int i = 0; ops[i]; i++)
		if (strcmp(ops[i]->name, name) == 0)
			return ops[i];
	return NULL;
}

const struct op_desc *const *op_all(void)
{
	return ops;
}

static const char *type_name(enum param_type t)
{
	switch (t) {
	case PARAM_STRING: return "string";
	case PARAM_INT: return "integer";
	case PARAM_NUMBER: return "number";
	case PARAM_BOOL: return "boolean";
	case PARAM_STRING_ARRAY: return "array of strings";
	case PARAM_INT_ARRAY: return "array of integers";
	case PARAM_STRING_OBJECT: return "object of strings";
	case PARAM_OBJECT: return "object";
	case PARAM_ANY: return "any JSON value";
	}
	return "?";
}

static void render_inputs(struct buf *b, const struct op_desc *op)
{
	if (op->in_ports) {
		buf_printf(b, "inputs: named ports");
		for (int i = 0; op->in_ports[i]; i++)
			buf_printf(b, "%s %s", i ? "," : "", op->in_ports[i]);
		buf_printf(b, " (\"in\": {\"PORT\": STREAM, ...})\n");
		return;
	}
	if (op->min_inputs == 0 && op->max_inputs == 0)
		buf_printf(b, "inputs: none or more streams (\"in\": STREAM or [STREAM, ...], "
			      "or no \"in\")\n");
	else if (op->max_inputs == 1)
		buf_printf(b, "inputs: one stream (\"in\": STREAM)\n");
	else if (op->max_inputs == 0)
		buf_printf(b, "inputs: %d or more streams (\"in\": STREAM or [STREAM, ...])\n",
			   op->min_inputs);
	else
		buf_printf(b, "inputs: %d to %d streams (\"in\": STREAM or [STREAM, ...])\n",
			   op->min_inputs, op->max_inputs);
}

static void render_outputs(struct buf *b, const struct op_desc *op)
{
	if (!op->out_ports || !op->out_ports[0]) {
		buf_printf(b, "outputs: out (read as NODE)\n");
		return;
	}
	buf_printf(b, "outputs:");
	for (int i = 0; op->out_ports[i]; i++)
		buf_printf(b, "%s %s (read as NODE.%s%s)", i ? "," : "", op->out_ports[i],
			   op->out_ports[i], i == 0 ? " or NODE" : "");
	buf_printf(b, "\n");
}

char *op_render_doc(const struct op_desc *op)
{
	struct buf b = {0};
	size_t dlen;

	buf_printf(&b, "%s - %s\n\n", op->name, op->summary ? op->summary : "");
	if (!op->params || !op->params[0].name) {
		buf_printf(&b, "params: none\n");
	} else {
		buf_printf(&b, "params:\n");
		for (const struct op_param *p = op->params; p->name; p++)
			buf_printf(&b, "  %s (%s, %s): %s\n", p->name, type_name(p->type),
				   p->required ? "required" : "optional", p->doc ? p->doc : "");
	}
	render_inputs(&b, op);
	render_outputs(&b, op);
	buf_printf(&b, "\n");
	if (op->doc) {
		dlen = strlen(op->doc);
		buf_append(&b, op->doc, dlen);
		if (dlen && op->doc[dlen - 1] != '\n')
			buf_append(&b, "\n", 1);
	}
	return b.p; /* buf keeps it NUL-terminated; NULL if out of memory */
}
