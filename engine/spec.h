/* spec.h - spec.json and options.json: parsing, validation and resolution
 * into a graph description. Everything a user can get wrong in a spec is
 * caught here and reported as "PLACE: reason", where PLACE is the JSON path
 * (e.g. "nodes.bake.in") or, for malformed JSON, "line L, column C".
 * The result is plain data; job.c turns it into running nodes and streams. */
#ifndef LJ_SPEC_H
#define LJ_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ops/op.h"
#include "util.h"

#define SPEC_MAX_BYTES (1u << 20)
#define SPEC_MAX_NODES 1024

enum stream_format { FORMAT_BYTES, FORMAT_LINES, FORMAT_JSON };

/* A reference to a stream: an input tag, or an output port of a node. */
struct stream_ref {
	int node; /* -1: input tag number `index`; else node number */
	int index; /* input number, or port number in that node's op out_ports */
};

struct spec_input {
	char *tag;
	enum stream_format format;
	json_t *schema; /* NULL when none; borrowed from spec->root */
};

struct spec_output {
	char *tag;
	struct stream_ref from;
};

struct spec_node {
	char *name;
	const struct op_desc *op;
	json_t *params;             /* the node's object after ${} substitution (owned) */
	int nin;
	struct stream_ref *in;      /* in order: array order, or in_ports order */
	int nout;                   /* number of op output ports */
};

struct spec {
	char *name;                 /* "name" field, or NULL */
	char *use;                  /* registered spec name when {"use": NAME}, else NULL */
	json_t *root;               /* the effective spec document (owned) */
	json_t *options;            /* effective options: object, defaults filled (owned) */
	int ninputs, noutputs, nnodes;
	struct spec_input *inputs;
	struct spec_output *outputs;
	struct spec_node *nodes;    /* in topological order (producers first) */
};

/* What the parser needs from its surroundings. */
struct spec_ctx {
	/* Returns the text of registered spec NAME (malloc'd, *len set), or
	 * NULL when there is none. May be NULL: then "use" is an error. */
	char *(*registered)(void *arg, const char *name, size_t *len);
	void *arg;
	/* Operator lookup; NULL means op_find(). Lets tests use their own ops. */
	const struct op_desc *(*find_op)(void *arg, const char *name);
};

/* Parse and validate spec text (len bytes) with options text (NULL or
 * opts_len bytes of a JSON object; empty or blank text counts as none).
 * On success returns 0 and *out. On failure returns -EINVAL (-ENOMEM when
 * memory ran out) and fills errs with messages prefixed by the file:
 * "spec.json: nodes.bake.in: unknown stream \"baek\"" or
 * "options.json: size: 60 is above the maximum 50"; for {"use": NAME} the
 * registered spec's own mistakes read "spec.json: use NAME: nodes.x...".
 * In node strings (all but "op" and "in"), ${NAME} becomes the option's
 * value as text and $$ becomes $; a string that is exactly "${NAME}" where
 * the operator wants an integer, number or boolean becomes the typed value. */
int spec_parse(const char *text, size_t len, const char *opts, size_t opts_len,
	       const struct spec_ctx *ctx, struct spec **out, struct errs *errs);

/* Validate a spec for the registry (.specs/NAME.json): the same checks
 * except that options need not be given (required options may lack
 * values and ${} references stay unexpanded; defaults are used where they
 * exist), and a registered spec may not itself be {"use": ...}.
 * 0 or -EINVAL with errs; messages are prefixed "spec.json: " too. */
int spec_check_registered(const char *text, size_t len, const struct spec_ctx *ctx,
			  struct errs *errs);

void spec_free(struct spec *s);

/* Stream naming: an input tag is named by its tag; a node's default port by
 * the node name; another port by "NODE.PORT". Writes into out (NUL-terminated). */
void spec_stream_name(const struct spec *s, struct stream_ref r, char *out, size_t cap);

/* Is any node's op named `op` (used for the exec permission rule)? */
bool spec_uses_op(const struct spec *s, const char *op);

#endif
