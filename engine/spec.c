/* spec.c - spec.json and options.json (DESIGN.md section 5): parse them,
 * check everything a user can get wrong, expand ${OPTION} references,
 * resolve stream names and put the nodes in topological order.
 *
 * Each mistake becomes one message "FILE: PATH: reason". Checking goes on
 * after an error so that one attempt reports as much as it can, but checks
 * that depend on a part already found broken are skipped, so that one typo
 * does not bring a cascade of follow-up messages. */
#include "spec.h"
#include "schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_FILE "spec.json: "
#define OPTS_FILE "options.json: "
#define NAME_RULE "invalid name (1 to 255 bytes of [A-Za-z0-9._-], not starting with '.')"
#define PARAM_MAX_DEPTH 64          /* nesting inside one node's object */
#define SUBST_MAX_BYTES (16u << 20) /* text ${} expansion may produce, in all */
#define PATH_CAP 2048

enum opt_type { OPT_BAD = -1, OPT_STRING, OPT_INTEGER, OPT_NUMBER, OPT_BOOLEAN };
static const char *const opt_type_names[] = {"string", "integer", "number", "boolean", NULL};

/* What resolve() found for a stream name. */
enum { RES_OK, RES_UNKNOWN, RES_NOPORT };

/* A JSON path being built while walking, e.g. "nodes.bake.argv[1]". */
struct path {
	char s[PATH_CAP];
	size_t len;
};

struct opt {
	const char *name;  /* borrowed from the document */
	json_t *decl;
	int type;          /* enum opt_type; OPT_BAD when the declaration is broken */
	json_t *value;     /* effective value (inside p->options) or NULL */
};

struct pinput {
	const char *tag;
	enum stream_format format;
	json_t *schema;
	bool used;
};

struct poutput {
	const char *tag;
	struct stream_ref from;
};

struct pnode {
	const char *name;
	json_t *obj;               /* the node's object in the document */
	const struct op_desc *op;  /* NULL when unknown */
	json_t *params;            /* substituted copy (owned) */
	struct stream_ref *in;     /* node numbers in document order; -2 = unresolved */
	int nin, capin;
	bool unresolved;           /* refers to an option that has no value */
	bool too_deep;             /* nesting error already reported */
};

struct parser {
	const struct spec_ctx *ctx;
	struct errs *errs;
	const char *file;          /* message prefix for the spec */
	char filebuf[300];         /* "spec.json: use NAME: " */
	bool registered;           /* spec_check_registered(): no options.json */
	bool failed, nomem;
	int nfail;                 /* messages reported so far */
	bool opts_broken;          /* options.json unreadable: don't call options missing */
	bool streams_broken;       /* inputs or nodes unreadable: don't resolve streams */
	bool in_broken;            /* some "in" unreadable: don't call inputs unused */
	bool subst_full;
	size_t subst_bytes;
	char *use;
	json_t *root;
	json_t *options;           /* effective options (owned) */
	json_t *optmap, *inmap, *nodemap; /* name -> index */
	int nopts, ninputs, nnodes, noutputs;
	struct opt *opts;
	struct pinput *inputs;
	struct pnode *nodes;
	struct poutput *outputs;
	int *order;                /* topological order of document indexes */
};

/* ---- messages and paths ---- */

static void vreport(struct parser *p, const char *file, const char *path, const char *fmt,
		    va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (path && *path)
		errs_add(p->errs, "%s%s: %s", file, path, msg);
	else
		errs_add(p->errs, "%s%s", file, msg);
	p->failed = true;
	p->nfail++;
}

/* A mistake in the spec, at path (a string or a struct path's text). */
static void serr(struct parser *p, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void serr(struct parser *p, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, p->file, path, fmt, ap);
	va_end(ap);
}

/* A mistake in options.json (or, with file, in another document). */
static void ferr(struct parser *p, const char *file, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void ferr(struct parser *p, const char *file, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, file, path, fmt, ap);
	va_end(ap);
}

/* Messages another checker wrote with bare paths get the spec's prefix. */
static void merge_errs(struct parser *p, struct errs *tmp)
{
	for (int i = 0; i < tmp->n; i++)
		errs_add(p->errs, "%s%s", p->file, tmp->msg[i]);
	p->errs->dropped += tmp->dropped;
	if (tmp->n || tmp->dropped) {
		p->failed = true;
		p->nfail++;
	}
	errs_free(tmp);
}

static void path_add(struct path *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_add(struct path *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p->s + p->len, PATH_CAP - p->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->len = p->len + (size_t)n < PATH_CAP ? p->len + (size_t)n : PATH_CAP - 1;
}

/* Append ".key" (shown safely) and return the old length for path_cut(). */
static size_t path_key(struct path *p, const char *key)
{
	size_t old = p->len;
	char shown[SCHEMA_SHOW_CAP];

	schema_show_text(shown, sizeof(shown), key, strlen(key));
	path_add(p, "%s%s", old ? "." : "", *key ? shown : "\"\"");
	return old;
}

static size_t path_index(struct path *p, size_t i)
{
	size_t old = p->len;

	path_add(p, "[%zu]", i);
	return old;
}

static void path_cut(struct path *p, size_t len)
{
	p->len = len;
	p->s[len] = '\0';
}

static void path_set(struct path *p, const char *top, const char *key)
{
	path_cut(p, 0);
	path_add(p, "%s", top);
	if (key)
		path_key(p, key);
}

/* User text as a quoted, escaped, length-capped string for a message. */
static const char *quote(char out[SCHEMA_SHOW_CAP + 2], const char *s, size_t len)
{
	char shown[SCHEMA_SHOW_CAP];

	schema_show_text(shown, sizeof(shown), s, len);
	snprintf(out, SCHEMA_SHOW_CAP + 2, "\"%s\"", shown);
	return out;
}

static const char *kind(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

/* ---- small helpers ---- */

static int map_get(json_t *map, const char *key, size_t len)
{
	json_t *v = map ? json_object_getn(map, key, len) : NULL;

	return v ? (int)json_integer_value(v) : -1;
}

static void map_put(struct parser *p, json_t *map, const char *key, int i)
{
	if (!map || json_object_set_new(map, key, json_integer(i)) < 0)
		p->nomem = true;
}

static void *zalloc(struct parser *p, size_t n, size_t size)
{
	void *m = calloc(n ? n : 1, size);

	if (!m)
		p->nomem = true;
	return m;
}

/* Compare two JSON numbers, exactly when both are integers. */
static int num_cmp(json_t *a, json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t x = json_integer_value(a), y = json_integer_value(b);
		return x < y ? -1 : x > y;
	}
	{
		double x = json_number_value(a), y = json_number_value(b);
		return x < y ? -1 : x > y;
	}
}

static bool same_value(json_t *a, json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return num_cmp(a, b) == 0;
	return json_equal(a, b);
}

/* The values of an enum as `"a", "b", "c"`, cut short when long. */
static void show_list(char *out, size_t cap, json_t *list)
{
	size_t i, o = 0;
	json_t *e;

	out[0] = '\0';
	json_array_foreach(list, i, e) {
		char one[SCHEMA_SHOW_CAP];

		schema_show_value(one, sizeof(one), e);
		if (o + strlen(one) + 8 > cap || o > 200) {
			snprintf(out + o, cap - o, ", ...");
			return;
		}
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", one);
	}
}

static bool is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

/* jansson's message may quote the offending bytes: keep it one clean line. */
static void clean_line(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s && o + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* ---- loading JSON ---- */

static json_t *load(struct parser *p, const char *file, const char *text, size_t len)
{
	json_error_t je;
	const char *nul;
	char why[sizeof(je.text) * 4 + 8];
	json_t *j;

	if (!text || len == 0) {
		ferr(p, file, NULL, "file is empty");
		return NULL;
	}
	if (len > SPEC_MAX_BYTES) {
		ferr(p, file, NULL, "larger than 1 MiB");
		return NULL;
	}
	nul = memchr(text, '\0', len);
	if (nul) {
		ferr(p, file, NULL, "contains a NUL byte (at byte %zu)", (size_t)(nul - text));
		return NULL;
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!j) {
		clean_line(why, sizeof(why), je.text);
		ferr(p, file, NULL, "line %d, column %d: %s", je.line, je.column, why);
		return NULL;
	}
	if (!json_is_object(j)) {
		ferr(p, file, NULL, "expected a JSON object, got %s", kind(j));
		json_decref(j);
		return NULL;
	}
	return j;
}

/* ---- options: declarations in spec.json, values in options.json ---- */

static bool opt_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 255 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static bool opt_type_ok(int type, json_t *v)
{
	switch (type) {
	case OPT_STRING: return json_is_string(v);
	case OPT_INTEGER: return json_is_integer(v);
	case OPT_NUMBER: return json_is_number(v);
	case OPT_BOOLEAN: return json_is_boolean(v);
	default: return false;
	}
}

/* Is v a value option o accepts (type, range and, if with_enum, enum)?
 * Reports why not under file and path. */
static bool opt_value_ok(struct parser *p, const char *file, const char *path,
			 const struct opt *o, json_t *v, bool with_enum)
{
	char a[SCHEMA_SHOW_CAP], b[SCHEMA_SHOW_CAP], list[512];
	json_t *lo = json_object_get(o->decl, "minimum"), *hi = json_object_get(o->decl, "maximum");
	json_t *e, *values = json_object_get(o->decl, "enum");
	size_t i;

	if (!opt_type_ok(o->type, v)) {
		ferr(p, file, path, "expected %s, got %s", opt_type_names[o->type], kind(v));
		return false;
	}
	schema_show_value(a, sizeof(a), v);
	if (json_is_number(v) && json_is_number(lo) && num_cmp(v, lo) < 0) {
		schema_show_value(b, sizeof(b), lo);
		ferr(p, file, path, "%s is below the minimum %s", a, b);
		return false;
	}
	if (json_is_number(v) && json_is_number(hi) && num_cmp(v, hi) > 0) {
		schema_show_value(b, sizeof(b), hi);
		ferr(p, file, path, "%s is above the maximum %s", a, b);
		return false;
	}
	if (!with_enum || !json_is_array(values))
		return true;
	json_array_foreach(values, i, e)
		if (same_value(e, v))
			return true;
	show_list(list, sizeof(list), values);
	ferr(p, file, path, "%s is not one of %s", a, list);
	return false;
}

static int parse_opt_type(struct parser *p, json_t *t, struct path *path)
{
	size_t at = path_key(path, "type");
	int type = OPT_BAD;

	if (!t) {
		serr(p, path->s, "missing required field");
	} else {
		for (int i = 0; opt_type_names[i] && json_is_string(t); i++)
			if (strcmp(json_string_value(t), opt_type_names[i]) == 0)
				type = i;
		if (type == OPT_BAD)
			serr(p, path->s,
			     "must be one of \"string\", \"integer\", \"number\", \"boolean\"");
	}
	path_cut(path, at);
	return type;
}

/* The fields of one declaration that need no type: shapes and unknown keys. */
static void check_opt_fields(struct parser *p, struct opt *o, int type, struct path *path)
{
	const char *key;
	json_t *v;

	json_object_foreach(o->decl, key, v) {
		size_t at = path_key(path, key);

		if (strcmp(key, "minimum") == 0 || strcmp(key, "maximum") == 0) {
			if (!json_is_number(v))
				serr(p, path->s, "expected a number, got %s", kind(v));
			else if (type != OPT_BAD && type != OPT_INTEGER && type != OPT_NUMBER)
				serr(p, path->s, "only allowed for integer and number options");
		} else if (strcmp(key, "enum") == 0) {
			if (!json_is_array(v) || json_array_size(v) == 0)
				serr(p, path->s, "expected a non-empty array of values");
		} else if (strcmp(key, "description") == 0) {
			if (!json_is_string(v))
				serr(p, path->s, "expected a string, got %s", kind(v));
		} else if (strcmp(key, "type") != 0 && strcmp(key, "default") != 0) {
			serr(p, path->s, "unknown field");
		}
		path_cut(path, at);
	}
}

/* Values inside the declaration must fit it: the enum members and default. */
static void check_opt_values(struct parser *p, struct opt *o, struct path *path)
{
	json_t *lo = json_object_get(o->decl, "minimum"), *hi = json_object_get(o->decl, "maximum");
	json_t *values = json_object_get(o->decl, "enum"), *def, *e;
	size_t i, at;

	if (json_is_number(lo) && json_is_number(hi) && num_cmp(lo, hi) > 0) {
		serr(p, path->s, "minimum is above maximum");
		return;
	}
	json_array_foreach(values, i, e) {
		at = path_key(path, "enum");
		path_index(path, i);
		opt_value_ok(p, p->file, path->s, o, e, false);
		path_cut(path, at);
	}
	def = json_object_get(o->decl, "default");
	if (def) {
		at = path_key(path, "default");
		opt_value_ok(p, p->file, path->s, o, def, true);
		path_cut(path, at);
	}
}

static void parse_option(struct parser *p, struct opt *o, struct path *path)
{
	int before = p->nfail, type;

	o->type = OPT_BAD;
	if (!opt_name_ok(o->name))
		serr(p, path->s, "invalid option name (letters, digits and '_', "
				 "not starting with a digit)");
	if (!json_is_object(o->decl)) {
		serr(p, path->s, "expected an object, got %s", kind(o->decl));
		return;
	}
	type = parse_opt_type(p, json_object_get(o->decl, "type"), path);
	check_opt_fields(p, o, type, path);
	if (type == OPT_BAD || p->nfail != before)
		return;
	o->type = type;
	check_opt_values(p, o, path);
	/* A broken declaration can't judge values: options.json is not checked
	 * against it, which avoids follow-up messages. */
	if (p->nfail != before)
		o->type = OPT_BAD;
}

static void parse_options(struct parser *p, json_t *decls, struct path *path)
{
	const char *name;
	json_t *d;

	if (!decls)
		return;
	path_set(path, "options", NULL);
	if (!json_is_object(decls)) {
		serr(p, path->s, "expected an object, got %s", kind(decls));
		return;
	}
	p->opts = zalloc(p, json_object_size(decls), sizeof(*p->opts));
	if (!p->opts)
		return;
	json_object_foreach(decls, name, d) {
		struct opt *o = &p->opts[p->nopts];

		o->name = name;
		o->decl = d;
		map_put(p, p->optmap, name, p->nopts++);
		path_set(path, "options", name);
		parse_option(p, o, path);
	}
}

/* spec->options: every usable option with its given value or its default. */
static void effective_options(struct parser *p, json_t *given, struct path *path)
{
	const char *key;
	json_t *v;

	p->options = json_object();
	if (!p->options) {
		p->nomem = true;
		return;
	}
	json_object_foreach(given, key, v) {
		if (map_get(p->optmap, key, strlen(key)) < 0) {
			path_set(path, "", key);
			ferr(p, OPTS_FILE, path->s, "unknown option");
		}
	}
	for (int i = 0; i < p->nopts; i++) {
		struct opt *o = &p->opts[i];

		if (o->type == OPT_BAD)
			continue;
		path_set(path, "", o->name);
		v = given ? json_object_get(given, o->name) : NULL;
		if (v) {
			if (!opt_value_ok(p, OPTS_FILE, path->s, o, v, true))
				continue;
		} else {
			v = json_object_get(o->decl, "default");
		}
		if (v) {
			if (json_object_set_new(p->options, o->name, json_deep_copy(v)) < 0)
				p->nomem = true;
		} else if (!p->registered && !p->opts_broken) {
			ferr(p, OPTS_FILE, path->s, "required option is missing");
		}
	}
	for (int i = 0; i < p->nopts; i++)
		p->opts[i].value = json_object_get(p->options, p->opts[i].name);
}

/* ---- inputs ---- */

static void input_schema(struct parser *p, struct pinput *in, json_t *v, bool json_format,
			 struct path *path)
{
	struct errs tmp;

	if (!json_format) {
		serr(p, path->s, "only allowed with \"format\": \"json\"");
		return;
	}
	errs_init(&tmp);
	if (schema_check(v, path->s, &tmp))
		in->schema = v;
	merge_errs(p, &tmp);
}

static void parse_input(struct parser *p, struct pinput *in, json_t *d, struct path *path)
{
	static const char *const formats[] = {"bytes", "lines", "json", NULL};
	json_t *f, *v;
	const char *key;
	bool format_ok = true;

	if (!json_is_object(d)) {
		serr(p, path->s, "expected an object, got %s", kind(d));
		return;
	}
	f = json_object_get(d, "format");
	if (f) {
		format_ok = false;
		for (int i = 0; formats[i] && json_is_string(f); i++) {
			if (strcmp(json_string_value(f), formats[i]) == 0) {
				in->format = (enum stream_format)i;
				format_ok = true;
			}
		}
	}
	json_object_foreach(d, key, v) {
		size_t at = path_key(path, key);

		if (strcmp(key, "format") == 0) {
			if (!format_ok)
				serr(p, path->s, "must be one of \"bytes\", \"lines\", \"json\"");
		} else if (strcmp(key, "schema") == 0) {
			/* With a broken format, the schema is judged on its own. */
			input_schema(p, in, v, in->format == FORMAT_JSON || !format_ok, path);
		} else {
			serr(p, path->s, "unknown field");
		}
		path_cut(path, at);
	}
}

static void parse_inputs(struct parser *p, json_t *inputs, struct path *path)
{
	const char *tag;
	json_t *d;

	if (!inputs)
		return;
	path_set(path, "inputs", NULL);
	if (!json_is_object(inputs)) {
		serr(p, path->s, "expected an object, got %s", kind(inputs));
		p->streams_broken = true;
		return;
	}
	p->inputs = zalloc(p, json_object_size(inputs), sizeof(*p->inputs));
	if (!p->inputs)
		return;
	json_object_foreach(inputs, tag, d) {
		struct pinput *in = &p->inputs[p->ninputs];

		in->tag = tag;
		in->format = FORMAT_BYTES;
		map_put(p, p->inmap, tag, p->ninputs++);
		path_set(path, "inputs", tag);
		if (!name_ok(tag))
			serr(p, path->s, NAME_RULE);
		parse_input(p, in, d, path);
	}
}

/* ---- streams ---- */

static int count_ports(const char *const *ports)
{
	int n = 0;

	while (ports && ports[n])
		n++;
	return n;
}

static int out_port(const struct op_desc *op, const char *name)
{
	if (!op->out_ports)
		return strcmp(name, "out") == 0 ? 0 : -1;
	for (int i = 0; op->out_ports[i]; i++)
		if (strcmp(op->out_ports[i], name) == 0)
			return i;
	return -1;
}

/* Find the stream `s` names: an input tag, a node (its default port), or
 * NODE.PORT split at the last dot, since node names may contain dots. */
static int resolve(struct parser *p, const char *s, struct stream_ref *r)
{
	size_t len = strlen(s);
	const char *dot;
	int i;

	i = map_get(p->inmap, s, len);
	if (i >= 0) {
		r->node = -1;
		r->index = i;
		p->inputs[i].used = true;
		return RES_OK;
	}
	i = map_get(p->nodemap, s, len);
	if (i >= 0) {
		r->node = i;
		r->index = 0;
		return RES_OK;
	}
	dot = memrchr(s, '.', len);
	if (!dot || (i = map_get(p->nodemap, s, (size_t)(dot - s))) < 0)
		return RES_UNKNOWN;
	r->node = i;
	r->index = 0;
	if (!p->nodes[i].op) /* an unknown operator: already reported */
		return RES_OK;
	r->index = out_port(p->nodes[i].op, dot + 1);
	return r->index < 0 ? RES_NOPORT : RES_OK;
}

/* Resolve and explain a failure; true when r is set. */
static bool resolve_or_say(struct parser *p, json_t *name, struct stream_ref *r, const char *path)
{
	const char *s = json_string_value(name), *dot;
	char a[SCHEMA_SHOW_CAP + 2], b[SCHEMA_SHOW_CAP + 2];
	int rc = resolve(p, s, r);

	if (rc == RES_OK)
		return true;
	p->in_broken = true; /* the input it meant would look unused */
	if (p->streams_broken)
		return false;
	if (rc == RES_NOPORT) {
		dot = strrchr(s, '.');
		serr(p, path, "node %s has no output port %s", quote(a, s, (size_t)(dot - s)),
		     quote(b, dot + 1, strlen(dot + 1)));
	} else {
		serr(p, path, "unknown stream %s", quote(a, s, strlen(s)));
	}
	return false;
}

static void push_ref(struct parser *p, struct pnode *n, struct stream_ref r)
{
	if (n->nin == n->capin) {
		int cap = n->capin ? n->capin * 2 : 4;
		struct stream_ref *in = realloc(n->in, (size_t)cap * sizeof(*in));

		if (!in) {
			p->nomem = true;
			return;
		}
		n->in = in;
		n->capin = cap;
	}
	n->in[n->nin++] = r;
}

/* For a node whose operator is unknown: note the streams it names (so that
 * inputs don't look unused and cycles are still found), silently. */
static void loose_in(struct parser *p, struct pnode *n, json_t *in)
{
	struct stream_ref r;
	const char *key;
	json_t *e;
	size_t i;

	if (json_is_string(in) && resolve(p, json_string_value(in), &r) == RES_OK)
		push_ref(p, n, r);
	json_array_foreach(in, i, e)
		if (json_is_string(e) && resolve(p, json_string_value(e), &r) == RES_OK)
			push_ref(p, n, r);
	json_object_foreach(in, key, e)
		if (json_is_string(e) && resolve(p, json_string_value(e), &r) == RES_OK)
			push_ref(p, n, r);
}

static void add_stream(struct parser *p, struct pnode *n, json_t *s, struct path *path)
{
	struct stream_ref r;

	if (!json_is_string(s)) {
		serr(p, path->s, "expected a stream name (string), got %s", kind(s));
		p->in_broken = true;
		return;
	}
	if (resolve_or_say(p, s, &r, path->s))
		push_ref(p, n, r);
}

/* "in" of an operator with positional inputs: STREAM, [STREAM...], or {"in": STREAM}. */
static void positional_in(struct parser *p, struct pnode *n, json_t *in, struct path *path)
{
	const struct op_desc *op = n->op;
	char q[SCHEMA_SHOW_CAP + 2], k[SCHEMA_SHOW_CAP + 2];
	size_t i, at, given = 0;
	const char *key;
	json_t *e;

	if (json_is_string(in)) {
		add_stream(p, n, in, path);
		given = 1;
	} else if (json_is_array(in)) {
		json_array_foreach(in, i, e) {
			at = path_index(path, i);
			add_stream(p, n, e, path);
			path_cut(path, at);
		}
		given = json_array_size(in);
	} else if (json_is_object(in)) {
		json_object_foreach(in, key, e) {
			at = path_key(path, key);
			if (strcmp(key, "in") == 0) {
				add_stream(p, n, e, path);
				given++;
			} else {
				serr(p, path->s, "operator %s has no input port %s",
				     quote(q, op->name, strlen(op->name)), quote(k, key, strlen(key)));
			}
			path_cut(path, at);
		}
	} else {
		serr(p, path->s, "expected a stream name, an array of stream names "
				 "or {\"in\": STREAM}, got %s", kind(in));
		p->in_broken = true;
		return;
	}
	quote(q, op->name, strlen(op->name));
	if ((int)given < op->min_inputs)
		serr(p, path->s, "operator %s needs at least %d input%s, got %zu", q,
		     op->min_inputs, op->min_inputs == 1 ? "" : "s", given);
	else if (op->max_inputs > 0 && given > (size_t)op->max_inputs)
		serr(p, path->s, "operator %s takes at most %d input%s, got %zu", q,
		     op->max_inputs, op->max_inputs == 1 ? "" : "s", given);
}

/* `"a", "b"` for messages about an operator's ports. */
static void port_list(char *out, size_t cap, const char *const *ports)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; ports[i] && o + 8 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s\"%s\"", i ? ", " : "", ports[i]);
}

/* "in" of an operator with named input ports: {PORT: STREAM, ...}, all present. */
static void named_in(struct parser *p, struct pnode *n, json_t *in, struct path *path)
{
	const char *const *ports = n->op->in_ports;
	int np = count_ports(ports);
	char q[SCHEMA_SHOW_CAP + 2], k[SCHEMA_SHOW_CAP + 2], list[512];
	const char *key;
	json_t *s;

	quote(q, n->op->name, strlen(n->op->name));
	port_list(list, sizeof(list), ports);
	if (!json_is_object(in)) {
		serr(p, path->s, "expected an object PORT -> STREAM (operator %s has input ports %s), got %s",
		     q, list, kind(in));
		p->in_broken = true;
		return;
	}
	n->in = zalloc(p, (size_t)np, sizeof(*n->in));
	if (!n->in)
		return;
	n->nin = n->capin = np;
	for (int i = 0; i < np; i++)
		n->in[i] = (struct stream_ref){-2, 0};
	json_object_foreach(in, key, s) {
		size_t at = path_key(path, key);
		int i = 0;

		while (i < np && strcmp(ports[i], key) != 0)
			i++;
		if (i == np) {
			serr(p, path->s, "operator %s has no input port %s", q,
			     quote(k, key, strlen(key)));
			p->in_broken = true;
		} else if (!json_is_string(s)) {
			serr(p, path->s, "expected a stream name (string), got %s", kind(s));
			p->in_broken = true;
		} else {
			resolve_or_say(p, s, &n->in[i], path->s);
		}
		path_cut(path, at);
	}
	for (int i = 0; i < np; i++) {
		if (!json_object_get(in, ports[i])) {
			serr(p, path->s, "missing input port %s", quote(k, ports[i], strlen(ports[i])));
			p->in_broken = true;
		}
	}
}

static void node_in(struct parser *p, struct pnode *n, struct path *path)
{
	json_t *in = json_object_get(n->obj, "in");
	size_t at = path_key(path, "in");

	if (!n->op)
		loose_in(p, n, in);
	else if (!in && (n->op->in_ports || n->op->min_inputs > 0)) {
		serr(p, path->s, "missing required field");
		p->in_broken = true;
	}
	else if (in && n->op->in_ports)
		named_in(p, n, in, path);
	else if (in)
		positional_in(p, n, in, path);
	path_cut(path, at);
}

/* ---- node params: ${OPTION} expansion and types ---- */

static void put(struct parser *p, struct buf *b, const void *data, size_t len)
{
	if (buf_append(b, data, len) < 0)
		p->nomem = true;
}

/* An option's value as text: strings verbatim, numbers and booleans as JSON. */
static void put_value(struct parser *p, struct buf *b, json_t *v)
{
	char text[64];

	if (json_is_string(v)) {
		put(p, b, json_string_value(v), json_string_length(v));
		return;
	}
	schema_show_value(text, sizeof(text), v);
	put(p, b, text, strlen(text));
}

/* Expand the ${NAME} starting at s[*i] into b; false after reporting an error. */
static bool expand_ref(struct parser *p, struct pnode *n, const char *s, size_t len, size_t *i,
		       struct buf *b, const char *path)
{
	const char *name = s + *i + 2;
	const char *end = memchr(name, '}', len - (*i + 2));
	char shown[SCHEMA_SHOW_CAP];
	size_t nlen;
	int k;

	if (!end) {
		serr(p, path, "unterminated ${ (write $$ for a literal $)");
		return false;
	}
	nlen = (size_t)(end - name);
	k = map_get(p->optmap, name, nlen);
	if (k < 0) {
		schema_show_text(shown, sizeof(shown), name, nlen);
		serr(p, path, "unknown option \"%s\" in ${%s}", shown, shown);
		return false;
	}
	if (p->opts[k].value) {
		put_value(p, b, p->opts[k].value);
	} else {
		/* Declared but without a value (registry check, or an error
		 * reported elsewhere): keep the text, skip value checks. */
		n->unresolved = true;
		put(p, b, s + *i, nlen + 3);
	}
	*i = (size_t)(end - s) + 1;
	return true;
}

/* Replace ${NAME} by option values and $$ by $ in one string value. */
static void subst_string(struct parser *p, struct pnode *n, json_t *v, const char *path)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v), i = 0;
	struct buf b = {0};
	bool ok = true;

	if (!memchr(s, '$', len))
		return;
	while (i < len && ok) {
		const char *d = memchr(s + i, '$', len - i);
		size_t stop = d ? (size_t)(d - s) : len;

		put(p, &b, s + i, stop - i);
		i = stop;
		if (i >= len)
			break;
		if (i + 1 < len && s[i + 1] == '$') {
			put(p, &b, "$", 1);
			i += 2;
		} else if (i + 1 < len && s[i + 1] == '{') {
			ok = expand_ref(p, n, s, len, &i, &b, path);
		} else {
			put(p, &b, "$", 1);
			i++;
		}
	}
	p->subst_bytes += b.len;
	if (ok && p->subst_bytes > SUBST_MAX_BYTES && !p->subst_full) {
		serr(p, path, "expanding options makes the spec larger than 16 MiB");
		p->subst_full = true;
	}
	if (ok && !p->subst_full && !p->nomem && json_string_setn(v, b.p ? b.p : "", b.len) < 0)
		p->nomem = true;
	buf_free(&b);
}

/* Every string in the node's object except "op" and "in". */
static void subst(struct parser *p, struct pnode *n, json_t *v, struct path *path, int depth)
{
	const char *key;
	json_t *e;
	size_t i, at;

	if (depth > PARAM_MAX_DEPTH) {
		if (!n->too_deep)
			serr(p, path->s, "nested more than %d levels deep", PARAM_MAX_DEPTH);
		n->too_deep = true;
		return;
	}
	if (json_is_string(v)) {
		subst_string(p, n, v, path->s);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			at = path_index(path, i);
			subst(p, n, e, path, depth + 1);
			path_cut(path, at);
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, e) {
			if (depth == 0 && (strcmp(key, "op") == 0 || strcmp(key, "in") == 0))
				continue;
			at = path_key(path, key);
			subst(p, n, e, path, depth + 1);
			path_cut(path, at);
		}
	}
}

static bool fits(enum param_type t, json_t *v)
{
	switch (t) {
	case PARAM_INT: return json_is_integer(v);
	case PARAM_NUMBER: return json_is_number(v);
	case PARAM_BOOL: return json_is_boolean(v);
	default: return false;
	}
}

static bool fits_type(enum param_type t, int type)
{
	return (t == PARAM_INT && type == OPT_INTEGER) ||
	       (t == PARAM_NUMBER && (type == OPT_INTEGER || type == OPT_NUMBER)) ||
	       (t == PARAM_BOOL && type == OPT_BOOLEAN);
}

/* "${NAME}" alone where a number or boolean is wanted becomes the option's
 * value itself, so {"op": "head", "n": "${lines}"} works. NULL: leave it. */
static json_t *typed_value(struct parser *p, struct pnode *n, json_t *v, enum param_type t)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	struct opt *o;
	int k;

	if (!s || len < 4 || s[0] != '$' || s[1] != '{' || s[len - 1] != '}' ||
	    memchr(s + 2, '}', len - 3))
		return NULL;
	k = map_get(p->optmap, s + 2, len - 3);
	if (k < 0)
		return NULL; /* subst() reports it */
	o = &p->opts[k];
	if (o->value)
		return fits(t, o->value) ? json_deep_copy(o->value) : NULL;
	if (o->type != OPT_BAD && !fits_type(t, o->type))
		return NULL;
	/* No value to put in: a stand-in of the right type, and no op check. */
	n->unresolved = true;
	return t == PARAM_BOOL ? json_false() : json_integer(0);
}

static void typed_refs(struct parser *p, struct pnode *n)
{
	const struct op_param *pp;
	json_t *v, *e, *nv;
	size_t i;

	for (pp = n->op->params; pp && pp->name; pp++) {
		v = json_object_get(n->params, pp->name);
		if (pp->type == PARAM_INT_ARRAY) {
			json_array_foreach(v, i, e)
				if ((nv = typed_value(p, n, e, PARAM_INT)))
					json_array_set_new(v, i, nv);
		} else if (pp->type == PARAM_INT || pp->type == PARAM_NUMBER || pp->type == PARAM_BOOL) {
			if (v && (nv = typed_value(p, n, v, pp->type)))
				json_object_set_new(n->params, pp->name, nv);
		}
	}
}

static const char *param_type_name(enum param_type t)
{
	switch (t) {
	case PARAM_STRING: return "a string";
	case PARAM_INT: return "an integer";
	case PARAM_NUMBER: return "a number";
	case PARAM_BOOL: return "a boolean";
	case PARAM_STRING_ARRAY: return "an array of strings";
	case PARAM_INT_ARRAY: return "an array of integers";
	case PARAM_STRING_OBJECT: return "an object of strings";
	case PARAM_OBJECT: return "an object";
	default: return "any value";
	}
}

/* Check the members of an array or object param: the first bad one is reported. */
static void check_members(struct parser *p, json_t *v, bool strings, struct path *path)
{
	const char *key;
	json_t *e;
	size_t i, at;

	json_array_foreach(v, i, e) {
		if (strings ? json_is_string(e) : json_is_integer(e))
			continue;
		at = path_index(path, i);
		serr(p, path->s, "expected %s, got %s", strings ? "a string" : "an integer", kind(e));
		path_cut(path, at);
		return;
	}
	json_object_foreach(v, key, e) {
		if (json_is_string(e))
			continue;
		at = path_key(path, key);
		serr(p, path->s, "expected a string, got %s", kind(e));
		path_cut(path, at);
		return;
	}
}

static void check_param(struct parser *p, json_t *v, enum param_type t, struct path *path)
{
	bool ok;

	switch (t) {
	case PARAM_STRING: ok = json_is_string(v); break;
	case PARAM_INT: ok = json_is_integer(v); break;
	case PARAM_NUMBER: ok = json_is_number(v); break;
	case PARAM_BOOL: ok = json_is_boolean(v); break;
	case PARAM_STRING_ARRAY:
	case PARAM_INT_ARRAY: ok = json_is_array(v); break;
	case PARAM_STRING_OBJECT:
	case PARAM_OBJECT: ok = json_is_object(v); break;
	default: ok = true; break;
	}
	if (!ok)
		serr(p, path->s, "expected %s, got %s", param_type_name(t), kind(v));
	else if (t == PARAM_STRING_ARRAY || t == PARAM_INT_ARRAY || t == PARAM_STRING_OBJECT)
		check_members(p, v, t != PARAM_INT_ARRAY, path);
}

static const struct op_param *find_param(const struct op_desc *op, const char *name)
{
	for (const struct op_param *pp = op->params; pp && pp->name; pp++)
		if (strcmp(pp->name, name) == 0)
			return pp;
	return NULL;
}

static void check_params(struct parser *p, struct pnode *n, struct path *path)
{
	char q[SCHEMA_SHOW_CAP + 2];
	const struct op_param *pp;
	const char *key;
	json_t *v;
	size_t at;

	json_object_foreach(n->params, key, v) {
		if (strcmp(key, "op") == 0 || strcmp(key, "in") == 0)
			continue;
		at = path_key(path, key);
		if ((pp = find_param(n->op, key)))
			check_param(p, v, pp->type, path);
		else if (strcmp(key, "description") == 0 && !json_is_string(v))
			serr(p, path->s, "expected a string, got %s", kind(v));
		else if (strcmp(key, "description") != 0)
			serr(p, path->s, "unknown parameter for operator %s",
			     quote(q, n->op->name, strlen(n->op->name)));
		path_cut(path, at);
	}
	for (pp = n->op->params; pp && pp->name; pp++) {
		if (!pp->required || json_object_get(n->params, pp->name))
			continue;
		at = path_key(path, pp->name);
		serr(p, path->s, "missing required parameter");
		path_cut(path, at);
	}
}

static void node_params(struct parser *p, struct pnode *n, struct path *path)
{
	int before = p->nfail;

	n->params = json_deep_copy(n->obj);
	if (!n->params) {
		p->nomem = true;
		return;
	}
	if (n->op)
		typed_refs(p, n);
	subst(p, n, n->params, path, 0);
	if (!n->op)
		return;
	check_params(p, n, path);
	if (p->nfail == before && !n->unresolved && n->op->check) {
		struct errs tmp;

		errs_init(&tmp);
		n->op->check(n->params, path->s, &tmp);
		merge_errs(p, &tmp);
	}
}

/* ---- nodes ---- */

static const struct op_desc *find_op(struct parser *p, const char *name)
{
	if (p->ctx && p->ctx->find_op)
		return p->ctx->find_op(p->ctx->arg, name);
	return op_find(name);
}

static void node_op(struct parser *p, struct pnode *n, struct path *path)
{
	json_t *op = json_object_get(n->obj, "op");
	char q[SCHEMA_SHOW_CAP + 2];
	size_t at = path_key(path, "op");

	if (!op) {
		serr(p, path->s, "missing required field");
	} else if (!json_is_string(op)) {
		serr(p, path->s, "expected an operator name (string), got %s", kind(op));
	} else {
		n->op = find_op(p, json_string_value(op));
		if (!n->op)
			serr(p, path->s, "unknown operator %s",
			     quote(q, json_string_value(op), json_string_length(op)));
	}
	path_cut(path, at);
}

static void parse_nodes(struct parser *p, json_t *nodes, struct path *path)
{
	const char *name;
	json_t *obj;

	if (!nodes)
		return;
	path_set(path, "nodes", NULL);
	if (!json_is_object(nodes)) {
		serr(p, path->s, "expected an object, got %s", kind(nodes));
		p->streams_broken = true;
		return;
	}
	if (json_object_size(nodes) > SPEC_MAX_NODES) {
		serr(p, path->s, "more than %d nodes", SPEC_MAX_NODES);
		p->streams_broken = true;
		return;
	}
	p->nodes = zalloc(p, json_object_size(nodes), sizeof(*p->nodes));
	if (!p->nodes)
		return;
	/* Names first: "in" may name nodes defined further down. */
	json_object_foreach(nodes, name, obj) {
		struct pnode *n = &p->nodes[p->nnodes];

		n->name = name;
		n->obj = obj;
		map_put(p, p->nodemap, name, p->nnodes++);
		path_set(path, "nodes", name);
		if (!name_ok(name))
			serr(p, path->s, NAME_RULE);
		if (map_get(p->inmap, name, strlen(name)) >= 0)
			serr(p, path->s, "name already used by an input tag");
		if (!json_is_object(obj)) {
			serr(p, path->s, "expected an object, got %s", kind(obj));
			p->in_broken = true;
			continue;
		}
		node_op(p, n, path);
	}
	for (int i = 0; i < p->nnodes && !p->nomem; i++) {
		if (!json_is_object(p->nodes[i].obj))
			continue;
		path_set(path, "nodes", p->nodes[i].name);
		node_in(p, &p->nodes[i], path);
		node_params(p, &p->nodes[i], path);
	}
}

/* ---- outputs ---- */

static void parse_output(struct parser *p, struct poutput *o, json_t *d, struct path *path)
{
	const char *key;
	json_t *v;
	size_t at;

	if (!json_is_object(d)) {
		serr(p, path->s, "expected an object, got %s", kind(d));
		return;
	}
	json_object_foreach(d, key, v) {
		at = path_key(path, key);
		if (strcmp(key, "from") != 0)
			serr(p, path->s, "unknown field");
		else if (!json_is_string(v))
			serr(p, path->s, "expected a stream name (string), got %s", kind(v));
		else
			resolve_or_say(p, v, &o->from, path->s);
		path_cut(path, at);
	}
	if (!json_object_get(d, "from")) {
		at = path_key(path, "from");
		serr(p, path->s, "missing required field");
		path_cut(path, at);
	}
}

static void parse_outputs(struct parser *p, json_t *outs, struct path *path)
{
	const char *tag;
	json_t *d;

	path_set(path, "outputs", NULL);
	if (!outs) {
		serr(p, path->s, "missing required field");
		return;
	}
	if (!json_is_object(outs)) {
		serr(p, path->s, "expected an object, got %s", kind(outs));
		return;
	}
	if (json_object_size(outs) == 0) {
		serr(p, path->s, "at least one output is required");
		return;
	}
	p->outputs = zalloc(p, json_object_size(outs), sizeof(*p->outputs));
	if (!p->outputs)
		return;
	json_object_foreach(outs, tag, d) {
		struct poutput *o = &p->outputs[p->noutputs++];

		o->tag = tag;
		o->from = (struct stream_ref){-2, 0};
		path_set(path, "outputs", tag);
		if (!name_ok(tag))
			serr(p, path->s, NAME_RULE);
		parse_output(p, o, d, path);
	}
}

static void check_unused(struct parser *p, struct path *path)
{
	if (p->streams_broken || p->in_broken)
		return;
	for (int i = 0; i < p->ninputs; i++) {
		if (p->inputs[i].used)
			continue;
		path_set(path, "inputs", p->inputs[i].tag);
		serr(p, path->s, "input is not used by any node or output");
	}
}

/* ---- graph order and cycles ---- */

/* Consumers of each node, as one array: cons[start[v] .. start[v+1]). */
struct graph {
	int *indeg, *start, *cons;
	bool *placed, *done;
};

static bool graph_init(struct parser *p, struct graph *g)
{
	int n = p->nnodes, edges = 0, *fill;

	g->indeg = zalloc(p, (size_t)n, sizeof(int));
	g->start = zalloc(p, (size_t)n + 1, sizeof(int));
	g->placed = zalloc(p, (size_t)n, sizeof(bool));
	g->done = zalloc(p, (size_t)n, sizeof(bool));
	if (p->nomem)
		return false;
	for (int v = 0; v < n; v++) {
		for (int j = 0; j < p->nodes[v].nin; j++) {
			int u = p->nodes[v].in[j].node;
			if (u >= 0) {
				g->indeg[v]++;
				g->start[u + 1]++;
				edges++;
			}
		}
	}
	for (int v = 0; v < n; v++)
		g->start[v + 1] += g->start[v];
	g->cons = zalloc(p, (size_t)edges, sizeof(int));
	fill = zalloc(p, (size_t)n, sizeof(int));
	if (p->nomem) {
		free(fill);
		return false;
	}
	for (int v = 0; v < n; v++)
		fill[v] = g->start[v];
	for (int v = 0; v < n; v++)
		for (int j = 0; j < p->nodes[v].nin; j++)
			if (p->nodes[v].in[j].node >= 0)
				g->cons[fill[p->nodes[v].in[j].node]++] = v;
	free(fill);
	return true;
}

static void graph_free(struct graph *g)
{
	free(g->indeg);
	free(g->start);
	free(g->cons);
	free(g->placed);
	free(g->done);
}

/* A producer of v that is still in play (part of, or behind, a cycle). */
static int open_producer(struct parser *p, struct graph *g, int v)
{
	for (int j = 0; j < p->nodes[v].nin; j++) {
		int u = p->nodes[v].in[j].node;
		if (u >= 0 && !g->placed[u] && !g->done[u])
			return u;
	}
	return -1;
}

/* cyc[] lists a cycle against the data flow (each one reads the next).
 * Say it in data-flow order, starting from the node that comes first. */
static void say_cycle(struct parser *p, const int *cyc, int m, struct path *path)
{
	struct buf b = {0};
	char shown[SCHEMA_SHOW_CAP];
	int first = 0;

	for (int j = 1; j < m; j++)
		if (cyc[j] < cyc[first])
			first = j;
	put(p, &b, "cycle ", 6);
	for (int k = 0; k <= m; k++) {
		/* reversed order, starting at `first`, ending where it began */
		int v = cyc[((first - k) % m + m) % m];
		const char *name = p->nodes[v].name;

		if (k > 0 && k < m && b.len > 600) {
			put(p, &b, " -> ...", 7);
			k = m - 1;
			continue;
		}
		schema_show_text(shown, sizeof(shown), name, strlen(name));
		if (k > 0)
			put(p, &b, " -> ", 4);
		put(p, &b, shown, strlen(shown));
	}
	path_set(path, "nodes", p->nodes[cyc[first]].name);
	path_key(path, "in");
	if (b.p)
		serr(p, path->s, "%s", b.p);
	buf_free(&b);
}

/* Mark everything downstream of the nodes in queue[0..len) as done. */
static void mark_downstream(struct graph *g, int *queue, int len)
{
	for (int head = 0; head < len; head++) {
		int v = queue[head];

		for (int e = g->start[v]; e < g->start[v + 1]; e++) {
			int c = g->cons[e];
			if (!g->placed[c] && !g->done[c]) {
				g->done[c] = true;
				queue[len++] = c;
			}
		}
	}
}

/* The nodes Kahn's algorithm could not place are on a cycle or behind one.
 * Walk producers from one of them until a node repeats: that is a cycle.
 * Report it, retire it and everything behind it, and look for the next. */
static void report_cycles(struct parser *p, struct graph *g, struct path *path)
{
	int n = p->nnodes;
	int *seen = malloc((size_t)n * sizeof(int)), *walk = malloc((size_t)n * sizeof(int));
	int *queue = malloc((size_t)n * sizeof(int));

	if (!seen || !walk || !queue) {
		p->nomem = true;
		goto out;
	}
	for (int v = 0; v < n; v++)
		seen[v] = -1;
	for (int v = 0; v < n; v++) {
		int len = 0, u = v, from, q = 0;

		if (g->placed[v] || g->done[v])
			continue;
		while (u >= 0 && seen[u] < 0) {
			seen[u] = len;
			walk[len++] = u;
			u = open_producer(p, g, u);
		}
		from = u >= 0 ? seen[u] : 0;
		if (u >= 0)
			say_cycle(p, walk + from, len - from, path);
		else
			serr(p, "nodes", "cycle"); /* can't happen: every open node has an open producer */
		for (int j = 0; j < len; j++) {
			seen[walk[j]] = -1;
			if (j >= from) {
				g->done[walk[j]] = true;
				queue[q++] = walk[j];
			}
		}
		mark_downstream(g, queue, q);
	}
out:
	free(seen);
	free(walk);
	free(queue);
}

/* Producers first; among nodes that are ready, the one written first. */
static void order_nodes(struct parser *p, struct path *path)
{
	struct graph g = {0};
	int n = p->nnodes, k;

	if (p->streams_broken || n == 0 || !graph_init(p, &g))
		goto out;
	p->order = zalloc(p, (size_t)n, sizeof(int));
	if (!p->order)
		goto out;
	for (k = 0; k < n; k++) {
		int v = 0;

		while (v < n && (g.placed[v] || g.indeg[v] > 0))
			v++;
		if (v == n)
			break;
		g.placed[v] = true;
		p->order[k] = v;
		for (int e = g.start[v]; e < g.start[v + 1]; e++)
			g.indeg[g.cons[e]]--;
	}
	if (k < n)
		report_cycles(p, &g, path);
out:
	graph_free(&g);
}

/* ---- the whole document ---- */

static void check_top(struct parser *p, struct path *path)
{
	const char *key;
	json_t *v;

	json_object_foreach(p->root, key, v) {
		path_set(path, "", key);
		if (strcmp(key, "name") == 0 || strcmp(key, "description") == 0) {
			if (!json_is_string(v))
				serr(p, path->s, "expected a string, got %s", kind(v));
		} else if (strcmp(key, "options") != 0 && strcmp(key, "inputs") != 0 &&
			   strcmp(key, "outputs") != 0 && strcmp(key, "nodes") != 0) {
			serr(p, path->s, "unknown field");
		}
	}
}

static void check_spec(struct parser *p, json_t *given)
{
	struct path *path = malloc(sizeof(*path));

	p->optmap = json_object();
	p->inmap = json_object();
	p->nodemap = json_object();
	if (!path || !p->optmap || !p->inmap || !p->nodemap) {
		p->nomem = true;
		free(path);
		return;
	}
	path_cut(path, 0);
	check_top(p, path);
	parse_options(p, json_object_get(p->root, "options"), path);
	effective_options(p, given, path);
	parse_inputs(p, json_object_get(p->root, "inputs"), path);
	parse_nodes(p, json_object_get(p->root, "nodes"), path);
	parse_outputs(p, json_object_get(p->root, "outputs"), path);
	check_unused(p, path);
	order_nodes(p, path);
	free(path);
}

/* {"use": NAME}: the registered spec NAME replaces the document. */
static json_t *follow_use(struct parser *p, json_t *doc)
{
	json_t *use = json_object_get(doc, "use"), *reg = NULL, *v;
	const char *key, *name = json_string_value(use);
	struct path path = {.len = 0};
	char *text = NULL;
	size_t len = 0;

	json_object_foreach(doc, key, v) {
		if (strcmp(key, "use") == 0)
			continue;
		path_set(&path, "", key);
		serr(p, path.s, "not allowed together with \"use\"");
	}
	if (!name)
		serr(p, "use", "expected the name of a registered spec (string), got %s", kind(use));
	else if (!name_ok(name))
		serr(p, "use", NAME_RULE);
	else if (p->registered)
		serr(p, "use", "a registered spec cannot use another one");
	else if (p->ctx && p->ctx->registered)
		text = p->ctx->registered(p->ctx->arg, name, &len);
	if (name && name_ok(name) && !p->registered && !text)
		serr(p, "use", "no registered spec \"%s\"", name);
	if (text) {
		snprintf(p->filebuf, sizeof(p->filebuf), SPEC_FILE "use %s: ", name);
		p->file = p->filebuf;
		p->use = strdup(name);
		if (!p->use)
			p->nomem = true;
		reg = load(p, p->file, text, len);
		free(text);
	}
	if (reg && json_object_get(reg, "use")) {
		serr(p, "use", "a registered spec cannot use another one");
		json_decref(reg);
		reg = NULL;
	}
	json_decref(doc);
	return reg;
}

/* ---- results ---- */

static void parser_free(struct parser *p)
{
	for (int i = 0; i < p->nnodes; i++) {
		json_decref(p->nodes[i].params);
		free(p->nodes[i].in);
	}
	free(p->nodes);
	free(p->inputs);
	free(p->outputs);
	free(p->opts);
	free(p->order);
	free(p->use);
	json_decref(p->optmap);
	json_decref(p->inmap);
	json_decref(p->nodemap);
	json_decref(p->options);
	json_decref(p->root);
}

static char *dup_or_fail(struct parser *p, const char *s)
{
	char *d = strdup(s);

	if (!d)
		p->nomem = true;
	return d;
}

/* Node numbers in refs become positions in the topological order. */
static struct stream_ref remap(struct stream_ref r, const int *pos)
{
	if (r.node >= 0)
		r.node = pos[r.node];
	return r;
}

static void build_nodes(struct parser *p, struct spec *s, const int *pos)
{
	for (int k = 0; k < p->nnodes && !p->nomem; k++) {
		struct pnode *pn = &p->nodes[p->order[k]];
		struct spec_node *n = &s->nodes[k];

		n->name = dup_or_fail(p, pn->name);
		n->op = pn->op;
		n->params = pn->params;
		pn->params = NULL;
		n->nin = pn->nin;
		n->in = pn->in;
		pn->in = NULL;
		n->nout = pn->op->out_ports ? count_ports(pn->op->out_ports) : 1;
		for (int j = 0; j < n->nin; j++)
			n->in[j] = remap(n->in[j], pos);
		s->nnodes = k + 1;
	}
}

static struct spec *build(struct parser *p)
{
	struct spec *s = zalloc(p, 1, sizeof(*s));
	json_t *name = json_object_get(p->root, "name");
	int *pos = zalloc(p, (size_t)p->nnodes, sizeof(int));

	if (!s || !pos)
		goto fail;
	for (int k = 0; k < p->nnodes; k++)
		pos[p->order[k]] = k;
	s->root = p->root;
	s->options = p->options;
	s->use = p->use;
	p->root = p->options = NULL;
	p->use = NULL;
	if (name)
		s->name = dup_or_fail(p, json_string_value(name));
	s->inputs = zalloc(p, (size_t)p->ninputs, sizeof(*s->inputs));
	s->outputs = zalloc(p, (size_t)p->noutputs, sizeof(*s->outputs));
	s->nodes = zalloc(p, (size_t)p->nnodes, sizeof(*s->nodes));
	for (int i = 0; i < p->ninputs && !p->nomem; i++) {
		s->inputs[i].tag = dup_or_fail(p, p->inputs[i].tag);
		s->inputs[i].format = p->inputs[i].format;
		s->inputs[i].schema = p->inputs[i].schema;
		s->ninputs = i + 1;
	}
	for (int i = 0; i < p->noutputs && !p->nomem; i++) {
		s->outputs[i].tag = dup_or_fail(p, p->outputs[i].tag);
		s->outputs[i].from = remap(p->outputs[i].from, pos);
		s->noutputs = i + 1;
	}
	if (!p->nomem)
		build_nodes(p, s, pos);
	if (p->nomem)
		goto fail;
	free(pos);
	return s;
fail:
	free(pos);
	spec_free(s);
	return NULL;
}

static int run(struct parser *p, const char *text, size_t len, const char *opts, size_t opts_len,
	       struct spec **out)
{
	json_t *doc, *given = NULL;
	int rc = 0;

	p->file = SPEC_FILE;
	doc = load(p, SPEC_FILE, text, len);
	/* An empty options.json means no options, like a missing one. */
	if (opts && !is_blank(opts, opts_len)) {
		given = load(p, OPTS_FILE, opts, opts_len);
		p->opts_broken = !given;
	}
	if (doc && json_object_get(doc, "use"))
		doc = follow_use(p, doc);
	p->root = doc;
	if (doc)
		check_spec(p, given);
	json_decref(given);
	if (p->nomem)
		rc = -ENOMEM;
	else if (p->failed || !p->root)
		rc = -EINVAL;
	else if (out && !(*out = build(p)))
		rc = -ENOMEM;
	parser_free(p);
	return rc;
}

int spec_parse(const char *text, size_t len, const char *opts, size_t opts_len,
	       const struct spec_ctx *ctx, struct spec **out, struct errs *errs)
{
	struct parser p = {.ctx = ctx, .errs = errs};

	*out = NULL;
	return run(&p, text, len, opts, opts_len, out);
}

int spec_check_registered(const char *text, size_t len, const struct spec_ctx *ctx,
			  struct errs *errs)
{
	struct parser p = {.ctx = ctx, .errs = errs, .registered = true};

	return run(&p, text, len, NULL, 0, NULL);
}

void spec_free(struct spec *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nnodes; i++) {
		free(s->nodes[i].name);
		json_decref(s->nodes[i].params);
		free(s->nodes[i].in);
	}
	for (int i = 0; i < s->ninputs; i++)
		free(s->inputs[i].tag);
	for (int i = 0; i < s->noutputs; i++)
		free(s->outputs[i].tag);
	free(s->nodes);
	free(s->inputs);
	free(s->outputs);
	free(s->name);
	free(s->use);
	json_decref(s->root);
	json_decref(s->options);
	free(s);
}

void spec_stream_name(const struct spec *s, struct stream_ref r, char *out, size_t cap)
{
	const struct spec_node *n;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (r.node < 0) {
		if (r.index >= 0 && r.index < s->ninputs)
			snprintf(out, cap, "%s", s->inputs[r.index].tag);
		return;
	}
	if (r.node >= s->nnodes)
		return;
	n = &s->nodes[r.node];
	if (r.index == 0)
		snprintf(out, cap, "%s", n->name);
	else if (r.index > 0 && r.index < n->nout && n->op->out_ports)
		snprintf(out, cap, "%s.%s", n->name, n->op->out_ports[r.index]);
}

bool spec_uses_op(const struct spec *s, const char *op)
{
	for (int i = 0; s && i < s->nnodes; i++)
		if (s->nodes[i].op && strcmp(s->nodes[i].op->name, op) == 0)
			return true;
	return false;
}
