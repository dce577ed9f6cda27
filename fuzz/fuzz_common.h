/* fuzz_common.h - what the libFuzzer targets in fuzz/ share: a check that
 * aborts (so that libFuzzer keeps the input as a crash) when a documented
 * property of the engine's answers does not hold, and the text helpers.
 * Built only by `make fuzz` (clang -fsanitize=fuzzer,address,undefined). */
#ifndef LJ_FUZZ_COMMON_H
#define LJ_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A broken promise: say which, then abort() so the input is kept. */
#define FUZZ_CHECK(cond, ...)                                              \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz: check failed: %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                      \
			fprintf(stderr, "\n");                             \
			abort();                                           \
		}                                                          \
	} while (0)

/* A message for users: one line, not absurdly long: no C0 control
 * character (a newline, a tab, ESC...). DEL and C1 controls are let
 * through: schema_show_value() shows arrays and objects as jansson dumps
 * them, which leaves those raw (the log turns DEL into '?'). */
static inline void fuzz_check_line(const char *m, const char *what)
{
	size_t len;

	FUZZ_CHECK(m != NULL, "%s: NULL message", what);
	len = strlen(m);
	FUZZ_CHECK(len > 0 && len < 8192, "%s: message of %zu bytes", what, len);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK((unsigned char)m[i] >= 0x20,
			   "%s: control character 0x%02x at byte %zu of \"%.200s\"", what,
			   (unsigned char)m[i], i, m);
}

/* Every message of errs starts with `prefix` and is one line. */
static inline void fuzz_check_errs(const struct errs *e, const char *prefix, const char *what)
{
	FUZZ_CHECK(e->n >= 0 && e->n <= LJ_ERRS_MAX, "%s: %d messages", what, e->n);
	for (int i = 0; i < e->n; i++) {
		fuzz_check_line(e->msg[i], what);
		FUZZ_CHECK(strncmp(e->msg[i], prefix, strlen(prefix)) == 0,
			   "%s: message without the prefix \"%s\": \"%.200s\"", what, prefix,
			   e->msg[i]);
	}
}

/* A NUL-terminated copy of data[0..size). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
