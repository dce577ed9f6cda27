/* schema.h - the JSON Schema subset of DESIGN.md section 5: type,
 * properties, required, enum, items, minimum, maximum, minLength, maxLength.
 * Used for NDJSON input records and checked for well-formedness in specs. */
#ifndef LJ_SCHEMA_H
#define LJ_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Is `schema` itself a valid schema of the subset? Messages go to errs,
 * prefixed with `path` (e.g. "inputs.toppings.schema.required"). */
bool schema_check(json_t *schema, const char *path, struct errs *errs);

/* Does `value` satisfy `schema`? On failure returns false and writes a
 * short reason with the value's path into why, e.g.
 * "$.name: required property is missing" or "$.size: 60 is above maximum 50". */
bool schema_validate(json_t *schema, json_t *value, char *why, size_t cap);

/* Deepest nesting of schemas (properties/items) schema_check accepts. */
#define SCHEMA_MAX_DEPTH 64

/* Helpers shared with spec.c to put user text into one-line messages.
 * schema_show_text: at most SCHEMA_SHOW_MAX bytes of s (then "..."), with
 * control characters, '"' and '\\' escaped; not quoted.
 * schema_show_value: a JSON value as it would be written: strings quoted
 * (and shown as above), numbers in their shortest exact form, composites cut.
 * out always ends up NUL-terminated; SCHEMA_SHOW_CAP is always enough. */
#define SCHEMA_SHOW_MAX 64
#define SCHEMA_SHOW_CAP (SCHEMA_SHOW_MAX * 6 + 8)
void schema_show_text(char *out, size_t cap, const char *s, size_t len);
void schema_show_value(char *out, size_t cap, json_t *v);

#endif
