/* test_corpus.c - the bad-input corpus of tests/corpus/ (see its README.md):
 * every malformed spec must be refused with -EINVAL and a message that
 * names the place, every malformed NDJSON line must be refused with a
 * reason naming the line, and the big hostile inputs that are not kept in
 * the repository (a spec over 1 MiB, 10,000 nodes, 100,000 levels of
 * nesting, ...) are generated here and must be refused without a crash.
 *
 *  - spec/ and regress/: NAME.json goes through spec_parse() (with
 *    NAME.options.json as options.json when present) using the real
 *    operator registry and a registry of specs read from registered/.
 *    It must return -EINVAL; every message must start with "spec.json: "
 *    or "options.json: ", be one line of printable text of bounded
 *    length; and each line of NAME.expect must be found in one message.
 *    spec_check_registered() runs on it too, and must not crash.
 *  - ndjson/: NAME.ndjson is written to a json input (with NAME.schema
 *    as its schema when present). Checked twice: line by line with
 *    jansson and schema_validate() as engine/job.c does, and through a
 *    real job (job_input_write on a harness environment), whose write
 *    must fail -EINVAL with an ERROR "input/t: ..." log line. Both
 *    reasons must hold NAME.expect ("line 3: $.qty").
 *  - regress/KNOWN_FAILING lists cases that still crash or exhaust the
 *    engine: they are skipped (and said so) unless LJ_CORPUS_STRICT=1.
 *
 * The corpus is found through $LJ_CORPUS_DIR, else tests/corpus relative
 * to the current directory (make runs the tests from the repo root). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "job.h"
#include "schema.h"
#include "spec.h"

#define MSG_MAX 4096 /* a message longer than this is not "one line" any more */

static const char *corpus_dir(void)
{
	const char *d = getenv("LJ_CORPUS_DIR");

	return d && *d ? d : "tests/corpus";
}

static bool strict(void)
{
	const char *s = getenv("LJ_CORPUS_STRICT");

	return s && *s && strcmp(s, "0") != 0;
}

/* The whole file (malloc'd, NUL added after *len bytes), or NULL. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			char *q;
			cap = cap ? cap * 2 : 131072;
			q = realloc(p, cap);
			if (!q) {
				free(p);
				fclose(f);
				return NULL;
			}
			p = q;
		}
		size_t r = fread(p + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	p[n] = '\0';
	if (len)
		*len = n;
	return p;
}

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	assert_non_null(s);
	return s;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Case names in dir: files ending in `suffix` (minus `skip_suffix` ones),
 * without the suffix, sorted. *n set; NULL-terminated. */
static char **list_cases(const char *dir, const char *suffix, const char *skip_suffix, int *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	int cnt = 0, cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name, suffix))
			continue;
		if (skip_suffix && ends_with(de->d_name, skip_suffix))
			continue;
		if (cnt + 2 > cap) {
			cap = cap ? cap * 2 : 256;
			v = realloc(v, (size_t)cap * sizeof(*v));
			assert_non_null(v);
		}
		v[cnt] = strndup(de->d_name, strlen(de->d_name) - strlen(suffix));
		assert_non_null(v[cnt]);
		cnt++;
	}
	closedir(d);
	if (v) {
		qsort(v, (size_t)cnt, sizeof(*v), cmp_str);
		v[cnt] = NULL;
	}
	*n = cnt;
	return v;
}

static void free_list(char **v)
{
	for (int i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Is `name` listed (one name a line, # comments) in regress/KNOWN_FAILING,
 * and not marked mount-only? */
static bool known_failing(const char *name)
{
	char *p = pathf("%s/regress/KNOWN_FAILING", corpus_dir());
	char *text = slurp(p, NULL), *line, *save = NULL;
	bool found = false;

	free(p);
	if (!text)
		return false;
	for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		char *end = line + strcspn(line, " \t#"), *rest;
		if (end == line)
			continue;
		rest = *end ? end + 1 : end;
		*end = '\0';
		rest[strcspn(rest, "#")] = '\0';
		/* "mount-only": the engine is right, only the mounted test skips it */
		found = strcmp(line, name) == 0 && !strstr(rest, "mount-only");
	}
	free(text);
	return found;
}

/* ---- failures are collected, so one run lists every broken case ---- */

struct report {
	struct buf text;
	int failed, checked, skipped;
};

static void bad(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(struct report *r, const char *fmt, ...)
{
	va_list ap;
	char line[8192];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->failed++;
	if (r->text.len < 200000)
		buf_printf(&r->text, "  %s\n", line);
}

static void finish(struct report *r, const char *what)
{
	print_message("%s: %d cases checked, %d skipped, %d failed\n", what, r->checked, r->skipped,
		      r->failed);
	if (r->failed) /* not print_error(): its buffer is short */
		fprintf(stderr, "%s: failures:\n%s", what, r->text.p ? r->text.p : "");
	buf_free(&r->text);
	if (r->failed)
		fail_msg("%s: %d corpus cases failed (listed above)", what, r->failed);
}

/* Shows a message safely in a failure report. */
static void show(char *out, size_t cap, const char *s)
{
	schema_show_text(out, cap, s, strlen(s));
}

/* ---- the spec registry the parser sees: registered/NAME.json ---- */

static char *registered(void *arg, const char *name, size_t *len)
{
	char *p, *text;

	(void)arg;
	if (!name_ok(name))
		return NULL;
	p = pathf("%s/registered/%s.json", corpus_dir(), name);
	text = slurp(p, len);
	free(p);
	return text;
}

static const struct spec_ctx ctx = {.registered = registered};

/* ---- messages ---- */

/* Every message: "spec.json: " or "options.json: ", one printable line of
 * bounded length. Returns false (after reporting) otherwise. */
static bool messages_ok(struct report *r, const char *name, const struct errs *errs)
{
	bool ok = true;
	char shown[SCHEMA_SHOW_CAP];

	if (errs->n == 0) {
		bad(r, "%s: refused without any message", name);
		return false;
	}
	if (errs->n > LJ_ERRS_MAX) {
		bad(r, "%s: %d messages, more than LJ_ERRS_MAX", name, errs->n);
		ok = false;
	}
	for (int i = 0; i < errs->n && i < LJ_ERRS_MAX; i++) {
		const char *m = errs->msg[i];
		size_t len = strlen(m);

		show(shown, sizeof(shown), m);
		if (strncmp(m, "spec.json: ", 11) != 0 && strncmp(m, "options.json: ", 14) != 0) {
			bad(r, "%s: message without a file prefix: %s", name, shown);
			ok = false;
		}
		if (len > MSG_MAX) {
			bad(r, "%s: message of %zu bytes: %s", name, len, shown);
			ok = false;
		}
		for (size_t k = 0; k < len; k++) {
			if ((unsigned char)m[k] < 0x20 || m[k] == 0x7f) {
				bad(r, "%s: message holds control character 0x%02x: %s", name,
				    (unsigned char)m[k], shown);
				ok = false;
				break;
			}
		}
	}
	return ok;
}

static bool some_message_has(const struct errs *errs, const char *needle)
{
	for (int i = 0; i < errs->n && i < LJ_ERRS_MAX; i++)
		if (strstr(errs->msg[i], needle))
			return true;
	return false;
}

static void list_messages(struct report *r, const struct errs *errs)
{
	for (int i = 0; i < errs->n && i < LJ_ERRS_MAX && i < 6; i++) {
		char shown[SCHEMA_SHOW_MAX * 24];
		size_t len = strlen(errs->msg[i]);

		/* the whole message, escaped, up to a few hundred bytes */
		size_t o = 0;
		for (size_t k = 0; k < len && o + 8 < sizeof(shown) && k < 400; k++) {
			unsigned char c = (unsigned char)errs->msg[i][k];
			o += (size_t)snprintf(shown + o, sizeof(shown) - o, c < 0x20 ? "\\x%02x" : "%c", c);
		}
		shown[o] = '\0';
		bad(r, "      message %d: %s", i + 1, shown);
		r->failed--; /* a detail line, not a failure */
	}
}

/* Every line of `expect` is in one of the messages? Reports the first that is not. */
static bool expected_found(struct report *r, const char *name, const struct errs *errs,
			   char *expect)
{
	char *save = NULL, *line;
	bool ok = true, any = false;

	for (line = strtok_r(expect, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);

		if (l && line[l - 1] == '\r')
			line[--l] = '\0';
		if (!l)
			continue;
		any = true;
		if (!some_message_has(errs, line)) {
			bad(r, "%s: no message contains \"%s\"; the messages:", name, line);
			list_messages(r, errs);
			ok = false;
		}
	}
	if (!any) {
		bad(r, "%s: its .expect file is empty", name);
		ok = false;
	}
	return ok;
}

/* ---- spec cases ---- */

/* One spec case: text (len bytes) with options, against expect (modified). */
static void check_spec_text(struct report *r, const char *name, const char *text, size_t len,
			    const char *opts, size_t opts_len, char *expect)
{
	struct errs errs;
	struct spec *sp = NULL;
	int rc;

	r->checked++;
	errs_init(&errs);
	rc = spec_parse(text, len, opts, opts_len, &ctx, &sp, &errs);
	if (rc != -EINVAL) {
		bad(r, "%s: spec_parse returned %d (%s), expected -EINVAL", name, rc,
		    rc == 0 ? "accepted" : strerror(-rc));
		if (rc < 0)
			list_messages(r, &errs);
	} else if (sp) {
		bad(r, "%s: refused but *out was set", name);
	} else if (messages_ok(r, name, &errs)) {
		expected_found(r, name, &errs, expect);
	}
	spec_free(sp);
	errs_free(&errs);

	/* The registry check reads the same text: it must not crash, and
	 * it refuses whatever is broken in the spec itself. */
	errs_init(&errs);
	rc = spec_check_registered(text, len, &ctx, &errs);
	if (rc != 0 && rc != -EINVAL)
		bad(r, "%s: spec_check_registered returned %d", name, rc);
	if (rc == -EINVAL && errs.n == 0)
		bad(r, "%s: spec_check_registered refused it without a message", name);
	errs_free(&errs);
}

static void run_spec_dir(struct report *r, const char *sub)
{
	char *dir = pathf("%s/%s", corpus_dir(), sub);
	int n;
	char **names = list_cases(dir, ".json", ".options.json", &n);

	for (int i = 0; i < n; i++) {
		char *jp = pathf("%s/%s.json", dir, names[i]);
		char *op = pathf("%s/%s.options.json", dir, names[i]);
		char *ep = pathf("%s/%s.expect", dir, names[i]);
		size_t len = 0, olen = 0;
		char *text = slurp(jp, &len), *opts = slurp(op, &olen), *expect = slurp(ep, NULL);

		if (known_failing(names[i]) && !strict()) {
			print_message("%s/%s: SKIPPED: a known engine bug (regress/KNOWN_FAILING; "
				      "LJ_CORPUS_STRICT=1 runs it)\n", sub, names[i]);
			r->skipped++;
		} else if (!text) {
			bad(r, "%s/%s: cannot read %s", sub, names[i], jp);
		} else if (!expect) {
			bad(r, "%s/%s: no %s", sub, names[i], ep);
		} else {
			char *label = pathf("%s/%s", sub, names[i]);
			check_spec_text(r, label, text, len, opts, olen, expect);
			free(label);
		}
		free(text);
		free(opts);
		free(expect);
		free(jp);
		free(op);
		free(ep);
	}
	free_list(names);
	free(dir);
}

static void test_corpus_present(void **state)
{
	int ns, nr, nn, total;
	char *d1 = pathf("%s/spec", corpus_dir()), *d2 = pathf("%s/regress", corpus_dir());
	char *d3 = pathf("%s/ndjson", corpus_dir());
	char **a = list_cases(d1, ".json", ".options.json", &ns);
	char **b = list_cases(d2, ".json", ".options.json", &nr);
	char **c = list_cases(d3, ".ndjson", NULL, &nn);

	(void)state;
	total = ns + nr + nn;
	print_message("corpus %s: %d spec, %d regress, %d ndjson cases\n", corpus_dir(), ns, nr, nn);
	free_list(a);
	free_list(b);
	free_list(c);
	free(d1);
	free(d2);
	free(d3);
	if (total < 300)
		fail_msg("the corpus at %s holds %d cases, expected at least 300 (set LJ_CORPUS_DIR "
			 "or run from the repository root)", corpus_dir(), total);
}

static void test_spec_corpus(void **state)
{
	struct report r = {0};

	(void)state;
	run_spec_dir(&r, "spec");
	finish(&r, "spec corpus");
}

static void test_regress_corpus(void **state)
{
	struct report r = {0};

	(void)state;
	run_spec_dir(&r, "regress");
	finish(&r, "regress corpus");
}

/* ---- NDJSON cases ---- */

/* What engine/job.c check_json_lines() does for one write: the first bad
 * line's reason in why, or false when every line is good. */
static bool ndjson_bad_line(json_t *schema, const char *data, size_t len, char *why, size_t cap)
{
	size_t pos = 0;
	unsigned long long line = 0;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		json_error_t jerr;
		json_t *v = json_loadb(data + pos, end - pos, JSON_DECODE_ANY, &jerr);
		char reason[256];

		if (!v) {
			snprintf(why, cap, "line %llu: not JSON: %s", line + 1, jerr.text);
			return true;
		}
		if (schema && !schema_validate(schema, v, reason, sizeof(reason))) {
			json_decref(v);
			snprintf(why, cap, "line %llu: %s", line + 1, reason);
			return true;
		}
		json_decref(v);
		line++;
		pos = nl ? end + 1 : len;
	}
	return false;
}

/* The spec of an NDJSON case: input t (json, with the schema text if any). */
static char *ndjson_spec(const char *schema_text)
{
	return pathf("{\"inputs\": {\"t\": {\"format\": \"json\"%s%s}},\n"
		     " \"outputs\": {\"y\": {\"from\": \"p\"}},\n"
		     " \"nodes\": {\"p\": {\"op\": \"pass\", \"in\": \"t\"}}}\n",
		     schema_text ? ", \"schema\": " : "", schema_text ? schema_text : "");
}

static void check_ndjson_case(struct report *r, struct h_ctx *c, int idx, const char *name,
			      const char *data, size_t len, const char *schema_text, char *expect)
{
	json_error_t jerr;
	json_t *schema = NULL;
	char why[1024] = "", jobname[64], *spec, *log;
	struct job *j = NULL;
	int rc;
	size_t el;

	r->checked++;
	/* One line of .expect. */
	expect[strcspn(expect, "\r\n")] = '\0';
	if (!*expect) {
		bad(r, "%s: its .expect file is empty", name);
		return;
	}
	if (schema_text) {
		struct errs errs;

		schema = json_loads(schema_text, JSON_REJECT_DUPLICATES, &jerr);
		errs_init(&errs);
		if (!schema || !schema_check(schema, "schema", &errs)) {
			bad(r, "%s: its .schema is not a valid schema (%s)", name,
			    schema ? (errs.n ? errs.msg[0] : "?") : jerr.text);
			errs_free(&errs);
			json_decref(schema);
			return;
		}
		errs_free(&errs);
	}

	/* 1. line by line, as check_json_lines() */
	if (!ndjson_bad_line(schema, data, len, why, sizeof(why)))
		bad(r, "%s: every line passed the check", name);
	else if (!strstr(why, expect))
		bad(r, "%s: the reason \"%s\" does not contain \"%s\"", name, why, expect);
	json_decref(schema);

	/* 2. through a real job's input */
	snprintf(jobname, sizeof(jobname), "nd-%d", idx);
	spec = ndjson_spec(schema_text);
	rc = job_create(c->env, jobname, getuid(), &j);
	if (rc < 0) {
		bad(r, "%s: job_create: %s", name, strerror(-rc));
		free(spec);
		return;
	}
	job_put(j); /* the env keeps it */
	rc = job_submit_spec(j, spec, strlen(spec), getuid());
	free(spec);
	if (rc < 0) {
		bad(r, "%s: the spec with its schema was refused (%s)", name, strerror(-rc));
		return;
	}
	rc = h_feed(j, "t", data, len);
	if (rc != -EINVAL)
		bad(r, "%s: writing it to input/t gave %d (%s), expected -EINVAL", name, rc,
		    rc ? strerror(-rc) : "accepted");
	if (!h_wait_stopped(j, 10000))
		bad(r, "%s: the job did not stop within 10 s", name);
	log = h_job_log(j);
	el = strlen(expect);
	{
		/* An ERROR line "input/t: <...expect...>". */
		const char *p = log ? log : "";
		bool found = false;

		while (!found && (p = strstr(p, "ERROR job: input/t: "))) {
			const char *eol = strchr(p, '\n');
			size_t n = eol ? (size_t)(eol - p) : strlen(p);
			found = memmem(p, n, expect, el) != NULL;
			p += n;
		}
		if (!found)
			bad(r, "%s: no \"ERROR job: input/t: ...%s...\" line in the job's log:\n%.2000s",
			    name, expect, log ? log : "");
	}
	free(log);
}

static void test_ndjson_corpus(void **state)
{
	struct report r = {0};
	struct h_ctx c;
	char *dir = pathf("%s/ndjson", corpus_dir());
	int n;
	char **names = list_cases(dir, ".ndjson", NULL, &n);

	(void)state;
	assert_int_equal(h_env_create(&c, 2), 0);
	for (int i = 0; i < n; i++) {
		char *dp = pathf("%s/%s.ndjson", dir, names[i]);
		char *sp = pathf("%s/%s.schema", dir, names[i]);
		char *ep = pathf("%s/%s.expect", dir, names[i]);
		char *label = pathf("ndjson/%s", names[i]);
		size_t len = 0;
		char *data = slurp(dp, &len), *schema = slurp(sp, NULL), *expect = slurp(ep, NULL);

		if (!data || !expect)
			bad(&r, "%s: cannot read %s or %s", label, dp, ep);
		else
			check_ndjson_case(&r, &c, i, label, data, len, schema, expect);
		free(data);
		free(schema);
		free(expect);
		free(dp);
		free(sp);
		free(ep);
		free(label);
	}
	h_env_destroy(&c);
	free_list(names);
	free(dir);
	finish(&r, "ndjson corpus");
}

/* ---- big cases, generated here rather than kept in the repository ---- */

static void big_case(const char *name, struct buf *b, const char *expect)
{
	struct report r = {0};
	char *e = strdup(expect);

	assert_non_null(e);
	check_spec_text(&r, name, b->p, b->len, NULL, 0, e);
	free(e);
	buf_free(b);
	finish(&r, name);
}

#define APPEND(b, ...) assert_int_equal(buf_printf((b), __VA_ARGS__), 0)

static void test_big_over_1mib(void **state)
{
	struct buf b = {0};

	(void)state;
	APPEND(&b, "{\n  \"description\": \"");
	for (int i = 0; i < 1100000 / 64; i++)
		APPEND(&b, "%s", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	APPEND(&b, "\",\n  \"inputs\": {\"x\": {}},\n  \"outputs\": {\"y\": {\"from\": \"p\"}},\n"
		   "  \"nodes\": {\"p\": {\"op\": \"pass\", \"in\": \"x\"}}\n}\n");
	assert_true(b.len > SPEC_MAX_BYTES);
	big_case("big/over-1MiB", &b, "spec.json: larger than 1 MiB");
}

/* Exactly 1 MiB + 1 byte, and options.json over 1 MiB. */
static void test_big_limits_exact(void **state)
{
	struct buf b = {0}, o = {0};
	struct report r = {0};
	char *e;

	(void)state;
	APPEND(&b, "{\"inputs\": {\"x\": {}}, \"outputs\": {\"y\": {\"from\": \"p\"}}, "
		   "\"nodes\": {\"p\": {\"op\": \"pass\", \"in\": \"x\"}}}");
	while (b.len < SPEC_MAX_BYTES + 1)
		APPEND(&b, " ");
	assert_int_equal(b.len, SPEC_MAX_BYTES + 1);
	big_case("big/1MiB-plus-1", &b, "spec.json: larger than 1 MiB");

	APPEND(&b, "{\"inputs\": {\"x\": {}}, \"outputs\": {\"y\": {\"from\": \"p\"}}, "
		   "\"nodes\": {\"p\": {\"op\": \"pass\", \"in\": \"x\"}}}");
	APPEND(&o, "{\"x\": \"");
	while (o.len < SPEC_MAX_BYTES + 10)
		APPEND(&o, "oooooooooooooooooooooooooooooooo");
	APPEND(&o, "\"}");
	e = strdup("options.json: larger than 1 MiB");
	check_spec_text(&r, "big/options-over-1MiB", b.p, b.len, o.p, o.len, e);
	free(e);
	buf_free(&b);
	buf_free(&o);
	finish(&r, "big/options-over-1MiB");
}

static void nodes_spec(struct buf *b, int n, bool chain)
{
	APPEND(b, "{\n  \"inputs\": {\"x\": {\"format\": \"lines\"}},\n"
		  "  \"outputs\": {\"y\": {\"from\": \"n%d\"}},\n  \"nodes\": {\n", n - 1);
	for (int i = 0; i < n; i++) {
		if (chain && i > 0)
			APPEND(b, "    \"n%d\": {\"op\": \"pass\", \"in\": \"n%d\"}%s\n", i, i - 1,
			       i + 1 < n ? "," : "");
		else
			APPEND(b, "    \"n%d\": {\"op\": \"pass\", \"in\": \"x\"}%s\n", i,
			       i + 1 < n ? "," : "");
	}
	APPEND(b, "  }\n}\n");
}

static void test_big_10000_nodes(void **state)
{
	struct buf b = {0};

	(void)state;
	nodes_spec(&b, 10000, true);
	assert_true(b.len < SPEC_MAX_BYTES);
	big_case("big/10000-nodes", &b, "spec.json: nodes: more than 1024 nodes");
	nodes_spec(&b, 1025, false);
	big_case("big/1025-nodes", &b, "spec.json: nodes: more than 1024 nodes");
}

/* 1024 nodes are allowed: a long chain ending in a cycle is still refused,
 * and its message stays short. */
static void test_big_1024_node_cycle(void **state)
{
	struct buf b = {0};

	(void)state;
	APPEND(&b, "{\n  \"inputs\": {\"x\": {}},\n  \"outputs\": {\"y\": {\"from\": \"n1023\"}},\n"
		   "  \"nodes\": {\n    \"n0\": {\"op\": \"merge\", \"in\": [\"x\", \"n1023\"]}");
	for (int i = 1; i < 1024; i++)
		APPEND(&b, ",\n    \"n%d\": {\"op\": \"pass\", \"in\": \"n%d\"}", i, i - 1);
	APPEND(&b, "\n  }\n}\n");
	big_case("big/1024-node-cycle", &b, "nodes.n0.in: cycle n0 -> n1 -> n2");
}

static void test_big_deep_nesting(void **state)
{
	struct buf b = {0};
	const int depth = 100000;

	(void)state;
	/* arrays in a node param */
	APPEND(&b, "{\n  \"inputs\": {\"x\": {}},\n  \"outputs\": {\"y\": {\"from\": \"p\"}},\n"
		   "  \"nodes\": {\"p\": {\"op\": \"pass\", \"in\": \"x\", \"junk\":\n");
	for (int i = 0; i < depth; i++)
		APPEND(&b, "[");
	for (int i = 0; i < depth; i++)
		APPEND(&b, "]");
	APPEND(&b, "}}\n}\n");
	big_case("big/deep-arrays", &b, "spec.json: line 5");

	/* objects in a schema */
	APPEND(&b, "{\"inputs\": {\"x\": {\"format\": \"json\", \"schema\":\n");
	for (int i = 0; i < depth; i++)
		APPEND(&b, "{\"items\":");
	APPEND(&b, "{}");
	for (int i = 0; i < depth; i++)
		APPEND(&b, "}");
	APPEND(&b, "}}, \"outputs\": {\"y\": {\"from\": \"x\"}}}\n");
	big_case("big/deep-objects", &b, "spec.json: line 2");

	/* an unfinished one: only openers */
	for (int i = 0; i < 1000000; i++)
		APPEND(&b, "[");
	big_case("big/one-MB-of-openers", &b, "spec.json: line 1");

	/* nesting that jansson accepts but the checkers must cut: 2000 levels */
	APPEND(&b, "{\"inputs\": {\"x\": {\"format\": \"json\"}}, \"outputs\": {\"y\": {\"from\": \"f\"}},"
		   " \"nodes\": {\"f\": {\"op\": \"filter\", \"in\": \"x\", \"field\": \"a\", \"equals\": ");
	for (int i = 0; i < 1000; i++)
		APPEND(&b, "{\"a\":[");
	for (int i = 0; i < 1000; i++)
		APPEND(&b, "]}");
	APPEND(&b, "}}}\n");
	big_case("big/1000x2-levels-in-a-param", &b, "nested more than 64 levels deep");

	APPEND(&b, "{\"inputs\": {\"x\": {\"format\": \"json\", \"schema\": ");
	for (int i = 0; i < 1000; i++)
		APPEND(&b, "{\"properties\": {\"a\": ");
	APPEND(&b, "{}");
	for (int i = 0; i < 1000; i++)
		APPEND(&b, "}}");
	APPEND(&b, "}}, \"outputs\": {\"y\": {\"from\": \"x\"}}}\n");
	big_case("big/1000-schema-levels", &b, "schemas nested more than 64 levels deep");
}

static void test_big_strings(void **state)
{
	struct buf b = {0};

	(void)state;
	/* a 1,000,000-byte node name: the message shows 64 bytes of it */
	APPEND(&b, "{\"inputs\": {\"x\": {}}, \"outputs\": {\"y\": {\"from\": \"x\"}}, \"nodes\": {\"");
	for (int i = 0; i < 1000000 / 50; i++)
		APPEND(&b, "%s", "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn");
	APPEND(&b, "\": {\"op\": \"pass\", \"in\": \"x\"}}}");
	big_case("big/1MB-node-name", &b, "spec.json: nodes.nnnnnnnnnnnnnnnn");

	/* 20,000 distinct unknown options in one string */
	APPEND(&b, "{\"inputs\": {\"x\": {}}, \"outputs\": {\"y\": {\"from\": \"t\"}}, \"nodes\": "
		   "{\"t\": {\"op\": \"template\", \"in\": \"x\", \"text\": \"");
	for (int i = 0; i < 20000; i++)
		APPEND(&b, "${o%d}", i);
	APPEND(&b, "\"}}}");
	big_case("big/20000-unknown-options", &b, "nodes.t.text: unknown option \"o0\"");

	/* 50,000 unused inputs: at most LJ_ERRS_MAX messages */
	APPEND(&b, "{\"inputs\": {");
	for (int i = 0; i < 50000; i++)
		APPEND(&b, "%s\"i%d\": {}", i ? ", " : "", i);
	APPEND(&b, ", \"x\": {}}, \"outputs\": {\"y\": {\"from\": \"x\"}}}");
	big_case("big/50000-unused-inputs", &b, "inputs.i0: input is not used");

	/* 1023 nodes with 1023 errors each... one error each, but many */
	APPEND(&b, "{\"inputs\": {\"x\": {}}, \"outputs\": {\"y\": {\"from\": \"x\"}}, \"nodes\": {");
	for (int i = 0; i < 1024; i++)
		APPEND(&b, "%s\"n%d\": {\"op\": \"grep\", \"in\": \"x%d\", \"pattern\": \"(\", \"p%d\": 1}",
		       i ? ", " : "", i, i, i);
	APPEND(&b, "}}");
	big_case("big/1024-broken-nodes", &b, "nodes.n0.in: unknown stream \"x0\"");
}

/* Random bytes and random mutations of a good spec: never a crash, never
 * anything but 0 or -EINVAL, and a message for every refusal. */
static void test_random_mutations(void **state)
{
	static const char good[] =
		"{\"options\": {\"s\": {\"type\": \"string\", \"default\": \"a\"}},"
		" \"inputs\": {\"x\": {\"format\": \"json\", \"schema\": {\"type\": \"object\","
		" \"required\": [\"a\"], \"properties\": {\"a\": {\"type\": \"integer\"}}}}},"
		" \"outputs\": {\"y\": {\"from\": \"t\"}, \"z\": {\"from\": \"s.rest\"}},"
		" \"nodes\": {\"g\": {\"op\": \"grep\", \"in\": \"x\", \"pattern\": \"${s}\"},"
		" \"s\": {\"op\": \"split\", \"in\": \"g\", \"pattern\": \"b\"},"
		" \"t\": {\"op\": \"template\", \"in\": \"s\", \"text\": \"{a} ${s}\"}}}";
	static const char alphabet[] = "{}[]\",:0123456789.-+eE$\\ntfu ablrsx\x01\xff\xc3";
	unsigned seed = 12345;
	char text[sizeof(good) + 64];
	int refused = 0;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = sizeof(good) - 1;
		struct errs errs;
		struct spec *sp = NULL;
		int rc, nmut;

		memcpy(text, good, len);
		seed = seed * 1103515245u + 12345u;
		nmut = 1 + (int)((seed >> 16) % 4);
		for (int k = 0; k < nmut; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			char ch = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
			switch ((seed >> 4) % 3) {
			case 0: text[at] = ch; break;
			case 1: memmove(text + at, text + at + 1, len - at - 1); len--; break;
			default:
				if (len + 1 < sizeof(text)) {
					memmove(text + at + 1, text + at, len - at);
					text[at] = ch;
					len++;
				}
			}
		}
		errs_init(&errs);
		rc = spec_parse(text, len, NULL, 0, &ctx, &sp, &errs);
		if (rc != 0 && rc != -EINVAL)
			fail_msg("mutation %d: spec_parse returned %d", iter, rc);
		if (rc == -EINVAL && errs.n == 0)
			fail_msg("mutation %d: refused without a message: %.*s", iter, (int)len, text);
		refused += rc != 0;
		spec_free(sp);
		errs_free(&errs);
	}
	print_message("random mutations: %d of 20000 refused\n", refused);
	assert_true(refused > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_present),
		cmocka_unit_test(test_spec_corpus),
		cmocka_unit_test(test_regress_corpus),
		cmocka_unit_test(test_ndjson_corpus),
		cmocka_unit_test(test_big_over_1mib),
		cmocka_unit_test(test_big_limits_exact),
		cmocka_unit_test(test_big_10000_nodes),
		cmocka_unit_test(test_big_1024_node_cycle),
		cmocka_unit_test(test_big_deep_nesting),
		cmocka_unit_test(test_big_strings),
		cmocka_unit_test(test_random_mutations),
	};

	h_test_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
