/* op.h - what an operator is. An operator is one file in engine/ops/ that
 * defines one `const struct op_desc` and one registry line in registry.c.
 * The spec validator reads the descriptor (params, ports) to check a spec;
 * the job runs the node through start/run/stop on the thread pool.
 *
 * Contract of run(): it is called on a pool thread, never concurrently for
 * the same node, whenever the node may have work (new input, an input ended,
 * an fd it registered became ready, a timer fired, or the job is stopping).
 * It must never block: it consumes what is available, up to a budget
 * (NODE_BUDGET_BYTES / NODE_BUDGET_RECORDS), then returns. */
#ifndef LJ_OP_H
#define LJ_OP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct node;
struct errs;

enum param_type {
	PARAM_STRING,        /* JSON string (gets ${OPTION} substitution) */
	PARAM_INT,           /* JSON integer */
	PARAM_NUMBER,        /* JSON integer or real */
	PARAM_BOOL,          /* JSON true/false */
	PARAM_STRING_ARRAY,  /* JSON array of strings (each substituted) */
	PARAM_INT_ARRAY,     /* JSON array of integers */
	PARAM_STRING_OBJECT, /* JSON object of string values (each substituted) */
	PARAM_OBJECT,        /* any JSON object (strings inside substituted) */
	PARAM_ANY,           /* any JSON value (strings inside substituted) */
};

struct op_param {
	const char *name;
	enum param_type type;
	bool required;
	const char *doc; /* one line for .ops/NAME */
};

/* Return values of run() (or a negative errno after node_fail()). */
enum {
	NODE_IDLE = 0, /* nothing more to do until woken */
	NODE_AGAIN = 1, /* budget used up, run me again soon */
	NODE_DONE = 2,  /* finished: the job ends my outputs */
};

#define NODE_BUDGET_BYTES (1u << 20)
#define NODE_BUDGET_RECORDS 8192

struct op_desc {
	const char *name;
	const char *summary;           /* one line */
	const char *doc;               /* the rest of .ops/NAME: behaviour and an example */
	const struct op_param *params; /* terminated by {NULL} */
	/* Named input ports, NULL-terminated; NULL means positional inputs:
	 * "in" is one STREAM or an array of STREAMs. */
	const char *const *in_ports;
	int min_inputs;                /* positional: at least this many (usually 1) */
	int max_inputs;                /* positional: at most this many (0 = no limit) */
	/* Output ports, NULL-terminated; the first is the default port. NULL
	 * means the single port "out". */
	const char *const *out_ports;
	/* Extra check of params beyond their types (e.g. compile a regex):
	 * add messages prefixed with `path` (e.g. "nodes.find.pattern") to errs.
	 * May be NULL. `params` is the node object after ${} substitution. */
	void (*check)(json_t *params, const char *path, struct errs *errs);
	/* With one input, port 0 holds exactly input 0's bytes: the store
	 * keeps them once (stream_share) and run() forwards with
	 * node_forward() when node_forwards() says the view is in place. */
	bool output_is_input;
	size_t state_size;             /* zeroed private state, node->state */
	int (*start)(struct node *n);  /* 0 or -errno (after node_fail) */
	int (*run)(struct node *n);
	void (*stop)(struct node *n);  /* free resources; called once, always */
};

/* The registry (registry.c). */
const struct op_desc *op_find(const char *name);
/* NULL-terminated array of every operator, in documentation order. */
const struct op_desc *const *op_all(void);
/* The text of .ops/NAME (malloc'd): summary, params, ports, doc. */
char *op_render_doc(const struct op_desc *op);

#endif
