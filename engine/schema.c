/* schema.c - the JSON Schema subset of DESIGN.md section 5: schema_check()
 * tells whether a schema is well formed (it runs when a spec is accepted),
 * schema_validate() checks one value, e.g. an NDJSON input record, and says
 * why it fails with a "$.a.b[2]" path. Both recurse at most SCHEMA_MAX_DEPTH
 * schemas deep, so no input can exhaust the stack. */
#include "schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_CAP 2048

/* A JSON path being built while walking; cut back with path_cut(). When
 * it would not fit it is silently truncated: the message stays usable. */
struct path {
	char s[PATH_CAP];
	size_t len;
};

static const char *const type_names[] = {
	"integer", "number", "string", "boolean", "object", "array", "null", NULL,
};

/* ---- showing user text ---- */

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* How one character at s shows: writes it (escaped if needed) into tmp,
 * returns its length and sets *adv to the bytes it consumed. */
static size_t show_char(const unsigned char *s, size_t len, char tmp[8], size_t *adv)
{
	size_t n = utf8_seq(s, len);

	*adv = n ? n : 1;
	if (n == 0 || s[0] < 0x20 || s[0] == 0x7f)
		return (size_t)snprintf(tmp, 8, "\\x%02x", s[0]);
	if (s[0] == '"' || s[0] == '\\')
		return (size_t)snprintf(tmp, 8, "\\%c", s[0]);
	/* C1 controls and the Unicode line separators would break the line. */
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return (size_t)snprintf(tmp, 8, "\\u%04x", s[1]);
	if (n == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
		return (size_t)snprintf(tmp, 8, "\\u%04x", 0x2028 + (s[2] - 0xa8));
	memcpy(tmp, s, n);
	return n;
}

void schema_show_text(char *out, size_t cap, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0, i = 0;

	if (cap == 0)
		return;
	while (i < len && i < SCHEMA_SHOW_MAX) {
		char tmp[8];
		size_t adv, n = show_char(u + i, len - i, tmp, &adv);

		if (o + n + 4 > cap) /* keep room for "..." and the NUL */
			break;
		memcpy(out + o, tmp, n);
		o += n;
		i += adv;
	}
	if (i < len && o + 4 <= cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Shortest form of d that reads back exactly: 0.1 rather than 0.10000000000000001. */
static void show_real(char *out, size_t cap, double d)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

/* Copy text (already escaped JSON) into out, at most SCHEMA_SHOW_MAX bytes
 * cut on a character boundary, then "..." when something was left out. */
static void show_cut(char *out, size_t cap, const char *text)
{
	size_t len = strlen(text), i = 0, n;

	while (i < len && i < SCHEMA_SHOW_MAX) {
		n = utf8_seq((const unsigned char *)text + i, len - i);
		if (n == 0 || i + n + 4 > cap)
			break;
		i += n;
	}
	snprintf(out, cap, "%.*s%s", (int)i, text, i < len ? "..." : "");
}

void schema_show_value(char *out, size_t cap, json_t *v)
{
	char *dump;
	char text[SCHEMA_SHOW_CAP - 2]; /* room for the quotes */

	if (cap == 0)
		return;
	switch (json_typeof(v)) {
	case JSON_STRING:
		schema_show_text(text, sizeof(text), json_string_value(v), json_string_length(v));
		snprintf(out, cap, "\"%s\"", text);
		return;
	case JSON_INTEGER:
		snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	case JSON_REAL:
		show_real(out, cap, json_real_value(v));
		return;
	case JSON_TRUE:
		snprintf(out, cap, "true");
		return;
	case JSON_FALSE:
		snprintf(out, cap, "false");
		return;
	case JSON_NULL:
		snprintf(out, cap, "null");
		return;
	default:
		break;
	}
	/* Arrays and objects: their compact JSON text, cut on a character boundary. */
	dump = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17));
	if (!dump) {
		snprintf(out, cap, "%s", json_is_array(v) ? "[...]" : "{...}");
		return;
	}
	show_cut(out, cap, dump);
	free(dump);
}

/* ---- paths ---- */

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

static const char *kind_name(json_t *v)
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

/* ---- schema_check ---- */

struct checker {
	struct errs *errs;
	bool ok;
};

static void bad(struct checker *c, const struct path *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct checker *c, const struct path *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errs_add(c->errs, "%s: %s", p->s, msg);
	c->ok = false;
}

static bool type_name_ok(const char *s)
{
	for (int i = 0; type_names[i]; i++)
		if (strcmp(s, type_names[i]) == 0)
			return true;
	return false;
}

static void bad_type_name(struct checker *c, const struct path *p, json_t *t)
{
	char shown[SCHEMA_SHOW_CAP];

	schema_show_value(shown, sizeof(shown), t);
	bad(c, p, "unknown type %s (one of \"integer\", \"number\", \"string\", "
		  "\"boolean\", \"object\", \"array\", \"null\")", shown);
}

static void check_type(struct checker *c, json_t *t, struct path *p)
{
	size_t i, at;
	json_t *e;

	if (json_is_string(t)) {
		if (!type_name_ok(json_string_value(t)))
			bad_type_name(c, p, t);
		return;
	}
	if (!json_is_array(t) || json_array_size(t) == 0) {
		bad(c, p, "expected a type name or a non-empty array of type names");
		return;
	}
	json_array_foreach(t, i, e) {
		at = path_index(p, i);
		if (!json_is_string(e))
			bad(c, p, "expected a type name, got %s", kind_name(e));
		else if (!type_name_ok(json_string_value(e)))
			bad_type_name(c, p, e);
		path_cut(p, at);
	}
}

static void check_schema(struct checker *c, json_t *s, struct path *p, int depth);

static void check_properties(struct checker *c, json_t *props, struct path *p, int depth)
{
	const char *key;
	json_t *sub;

	if (!json_is_object(props)) {
		bad(c, p, "expected an object of schemas, got %s", kind_name(props));
		return;
	}
	json_object_foreach(props, key, sub) {
		size_t at = path_key(p, key);
		check_schema(c, sub, p, depth + 1);
		path_cut(p, at);
	}
}

static void check_required(struct checker *c, json_t *req, struct path *p)
{
	size_t i;
	json_t *e;

	if (!json_is_array(req)) {
		bad(c, p, "expected an array of property names, got %s", kind_name(req));
		return;
	}
	json_array_foreach(req, i, e) {
		if (!json_is_string(e)) {
			size_t at = path_index(p, i);
			bad(c, p, "expected a property name (string), got %s", kind_name(e));
			path_cut(p, at);
		}
	}
}

static bool is_count(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

/* Compare two JSON numbers exactly when both are integers. */
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

static void check_keyword(struct checker *c, const char *key, json_t *v, struct path *p, int depth)
{
	if (strcmp(key, "type") == 0) {
		check_type(c, v, p);
	} else if (strcmp(key, "properties") == 0) {
		check_properties(c, v, p, depth);
	} else if (strcmp(key, "required") == 0) {
		check_required(c, v, p);
	} else if (strcmp(key, "enum") == 0) {
		if (!json_is_array(v) || json_array_size(v) == 0)
			bad(c, p, "expected a non-empty array of values");
	} else if (strcmp(key, "items") == 0) {
		check_schema(c, v, p, depth + 1);
	} else if (strcmp(key, "minimum") == 0 || strcmp(key, "maximum") == 0) {
		if (!json_is_number(v))
			bad(c, p, "expected a number, got %s", kind_name(v));
	} else if (strcmp(key, "minLength") == 0 || strcmp(key, "maxLength") == 0) {
		if (!is_count(v))
			bad(c, p, "expected a non-negative integer");
	} else if (strcmp(key, "title") == 0 || strcmp(key, "description") == 0) {
		/* Annotations: they change nothing, but people write them. */
		if (!json_is_string(v))
			bad(c, p, "expected a string, got %s", kind_name(v));
	} else {
		bad(c, p, "unsupported keyword");
	}
}

/* Bounds that can never both hold make every value fail: say so now. */
static void check_bounds(struct checker *c, json_t *s, struct path *p)
{
	json_t *lo = json_object_get(s, "minimum"), *hi = json_object_get(s, "maximum");

	if (json_is_number(lo) && json_is_number(hi) && num_cmp(lo, hi) > 0)
		bad(c, p, "minimum is above maximum");
	lo = json_object_get(s, "minLength");
	hi = json_object_get(s, "maxLength");
	if (is_count(lo) && is_count(hi) && json_integer_value(lo) > json_integer_value(hi))
		bad(c, p, "minLength is above maxLength");
}

static void check_schema(struct checker *c, json_t *s, struct path *p, int depth)
{
	const char *key;
	json_t *v;

	if (depth > SCHEMA_MAX_DEPTH) {
		bad(c, p, "schemas nested more than %d levels deep", SCHEMA_MAX_DEPTH);
		return;
	}
	if (!json_is_object(s)) {
		bad(c, p, "a schema must be an object, got %s", kind_name(s));
		return;
	}
	json_object_foreach(s, key, v) {
		size_t at = path_key(p, key);
		check_keyword(c, key, v, p, depth);
		path_cut(p, at);
	}
	check_bounds(c, s, p);
}

bool schema_check(json_t *schema, const char *path, struct errs *errs)
{
	struct checker c = {errs, true};
	struct path *p = malloc(sizeof(*p));

	if (!p) {
		errs_add(errs, "%s: out of memory", path);
		return false;
	}
	p->len = 0;
	p->s[0] = '\0';
	path_add(p, "%s", path ? path : "");
	check_schema(&c, schema, p, 0);
	free(p);
	return c.ok;
}

/* ---- schema_validate ---- */

struct validator {
	char *why;
	size_t cap;
	struct path path;
};

static bool fail(struct validator *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct validator *v, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (v->cap)
		snprintf(v->why, v->cap, "%s: %s", v->path.s, msg);
	return false;
}

/* Does value have JSON Schema type `name`? 2.0 counts as an integer. */
static bool has_type(json_t *value, const char *name)
{
	if (strcmp(name, "integer") == 0) {
		double d;
		if (json_is_integer(value))
			return true;
		if (!json_is_real(value))
			return false;
		/* Without libm: doubles beyond 2^53 are all whole numbers. */
		d = json_real_value(value);
		if (d >= 9007199254740992.0 || d <= -9007199254740992.0)
			return true;
		return d == (double)(long long)d;
	}
	if (strcmp(name, "number") == 0)
		return json_is_number(value);
	if (strcmp(name, "string") == 0)
		return json_is_string(value);
	if (strcmp(name, "boolean") == 0)
		return json_is_boolean(value);
	if (strcmp(name, "object") == 0)
		return json_is_object(value);
	if (strcmp(name, "array") == 0)
		return json_is_array(value);
	if (strcmp(name, "null") == 0)
		return json_is_null(value);
	return false;
}

static bool validate_type(struct validator *v, json_t *type, json_t *value)
{
	char want[256] = "";
	size_t i;
	json_t *t;

	if (json_is_string(type)) {
		if (has_type(value, json_string_value(type)))
			return true;
		return fail(v, "expected %s, got %s", json_string_value(type), kind_name(value));
	}
	if (!json_is_array(type))
		return true; /* not well formed: schema_check reports it */
	json_array_foreach(type, i, t) {
		if (json_is_string(t) && has_type(value, json_string_value(t)))
			return true;
		if (json_is_string(t) && strlen(want) + strlen(json_string_value(t)) + 8 < sizeof(want)) {
			if (*want)
				strcat(want, " or ");
			strcat(want, json_string_value(t));
		}
	}
	return fail(v, "expected %s, got %s", want, kind_name(value));
}

static bool same_value(json_t *a, json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return num_cmp(a, b) == 0;
	return json_equal(a, b);
}

/* The allowed values, as `"a", "b", "c"`, cut short when long. */
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

static bool validate_enum(struct validator *v, json_t *list, json_t *value)
{
	char shown[SCHEMA_SHOW_CAP], allowed[512];
	size_t i;
	json_t *e;

	if (!json_is_array(list))
		return true;
	json_array_foreach(list, i, e)
		if (same_value(e, value))
			return true;
	schema_show_value(shown, sizeof(shown), value);
	show_list(allowed, sizeof(allowed), list);
	return fail(v, "%s is not one of %s", shown, allowed);
}

static bool validate_range(struct validator *v, json_t *s, json_t *value)
{
	json_t *lo = json_object_get(s, "minimum"), *hi = json_object_get(s, "maximum");
	char a[64], b[64];

	if (!json_is_number(value))
		return true;
	if (json_is_number(lo) && num_cmp(value, lo) < 0) {
		schema_show_value(a, sizeof(a), value);
		schema_show_value(b, sizeof(b), lo);
		return fail(v, "%s is below minimum %s", a, b);
	}
	if (json_is_number(hi) && num_cmp(value, hi) > 0) {
		schema_show_value(a, sizeof(a), value);
		schema_show_value(b, sizeof(b), hi);
		return fail(v, "%s is above maximum %s", a, b);
	}
	return true;
}

/* Lengths count code points, not bytes: "é" is one character. */
static size_t utf8_length(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static bool validate_length(struct validator *v, json_t *s, json_t *value)
{
	json_t *lo = json_object_get(s, "minLength"), *hi = json_object_get(s, "maxLength");
	size_t n;

	if (!json_is_string(value))
		return true;
	n = utf8_length(json_string_value(value), json_string_length(value));
	if (is_count(lo) && n < (size_t)json_integer_value(lo))
		return fail(v, "%zu characters, fewer than minLength %" JSON_INTEGER_FORMAT, n,
			    json_integer_value(lo));
	if (is_count(hi) && n > (size_t)json_integer_value(hi))
		return fail(v, "%zu characters, more than maxLength %" JSON_INTEGER_FORMAT, n,
			    json_integer_value(hi));
	return true;
}

static bool validate(struct validator *v, json_t *s, json_t *value, int depth);

static bool validate_object(struct validator *v, json_t *s, json_t *value, int depth)
{
	json_t *req = json_object_get(s, "required"), *props = json_object_get(s, "properties");
	const char *key;
	json_t *e, *sub;
	size_t i;

	if (!json_is_object(value))
		return true;
	if (json_is_array(req)) {
		json_array_foreach(req, i, e) {
			if (json_is_string(e) && !json_object_get(value, json_string_value(e))) {
				path_key(&v->path, json_string_value(e));
				return fail(v, "required property is missing");
			}
		}
	}
	if (!json_is_object(props))
		return true;
	json_object_foreach(props, key, sub) {
		json_t *field = json_object_get(value, key);
		size_t at;

		if (!field)
			continue;
		at = path_key(&v->path, key);
		if (!validate(v, sub, field, depth + 1))
			return false;
		path_cut(&v->path, at);
	}
	return true;
}

static bool validate_items(struct validator *v, json_t *s, json_t *value, int depth)
{
	json_t *items = json_object_get(s, "items"), *e;
	size_t i;

	if (!json_is_array(value) || !json_is_object(items))
		return true;
	json_array_foreach(value, i, e) {
		size_t at = path_index(&v->path, i);
		if (!validate(v, items, e, depth + 1))
			return false;
		path_cut(&v->path, at);
	}
	return true;
}

static bool validate(struct validator *v, json_t *s, json_t *value, int depth)
{
	json_t *type, *list;

	if (depth > SCHEMA_MAX_DEPTH)
		return fail(v, "schemas nested more than %d levels deep", SCHEMA_MAX_DEPTH);
	if (!json_is_object(s))
		return true;
	type = json_object_get(s, "type");
	if (type && !validate_type(v, type, value))
		return false;
	list = json_object_get(s, "enum");
	if (list && !validate_enum(v, list, value))
		return false;
	return validate_range(v, s, value) && validate_length(v, s, value) &&
	       validate_object(v, s, value, depth) && validate_items(v, s, value, depth);
}

bool schema_validate(json_t *schema, json_t *value, char *why, size_t cap)
{
	/* On the stack: this runs for every record of a json input. */
	struct validator v = {.why = why, .cap = cap};

	if (cap)
		why[0] = '\0';
	if (!schema)
		return true;
	if (!value) {
		if (cap)
			snprintf(why, cap, "$: no value");
		return false;
	}
	path_add(&v.path, "$");
	return validate(&v, schema, value, 0);
}
