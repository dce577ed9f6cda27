/* replace.c - regular expression substitution per record, like sed's s///
 * (with -E): `with` may hold \0..\9 (the whole match, the groups) and \\. */
#include <stdlib.h>
#include <string.h>

#include "lineop.h"

/* `with` compiled: literal pieces and group references. */
struct piece {
	int group;          /* -1: literal text */
	size_t off, len;    /* literal: bytes of `lit` */
};

struct replace {
	uint64_t recno;
	regex_t re;
	bool compiled;
	bool global;
	size_t nmatch;      /* groups + 1 */
	char *lit;          /* the literal bytes of `with`, unescaped */
	struct piece *pieces;
	int npieces;
	struct buf out;     /* the record being built (reused) */
	struct buf z;       /* for lineop_regexec */
};

/* Parse `with`: returns the highest group referenced, or -1 when none.
 * With r, fills its pieces (r->lit must hold strlen(with) bytes). */
static int parse_with(const char *with, struct replace *r)
{
	size_t litlen = 0, start = 0;
	int maxg = -1, np = 0;

	for (const char *p = with; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '9') {
			int g = *++p - '0';

			if (r && litlen > start)
				r->pieces[np++] = (struct piece){-1, start, litlen - start};
			if (r)
				r->pieces[np++] = (struct piece){g, 0, 0};
			start = litlen;
			maxg = g > maxg ? g : maxg;
			continue;
		}
		if (p[0] == '\\' && p[1] == '\\')
			p++; /* "\\" is one backslash */
		if (r)
			r->lit[litlen] = *p;
		litlen++;
	}
	if (r && litlen > start)
		r->pieces[np++] = (struct piece){-1, start, litlen - start};
	if (r)
		r->npieces = np;
	return maxg;
}

static int replace_start(struct node *n)
{
	struct replace *r = n->state;
	const char *pat = param_str(n->params, "pattern");
	const char *with = param_str(n->params, "with");
	char err[256];
	int rc, maxg;

	if (!pat || !with)
		return node_fail(n, "pattern and with are required");
	r->global = param_bool(n->params, "global", false);
	rc = regcomp(&r->re, pat, REG_EXTENDED);
	if (rc) {
		regerror(rc, &r->re, err, sizeof(err));
		return node_fail(n, "invalid regular expression: %s", err);
	}
	r->compiled = true;
	r->nmatch = r->re.re_nsub + 1 > 10 ? 10 : r->re.re_nsub + 1;
	r->lit = malloc(strlen(with) + 1);
	r->pieces = calloc(strlen(with) + 1, sizeof(*r->pieces));
	if (!r->lit || !r->pieces)
		return node_fail(n, "out of memory");
	maxg = parse_with(with, r);
	if (maxg >= (int)r->nmatch)
		return node_fail(n, "with: \\%d refers to a group the pattern lacks", maxg);
	return 0;
}

static int append_rec(struct replace *r, const char *rec, regmatch_t *pm)
{
	for (int i = 0; i < r->npieces; i++) {
		const struct piece *pc = &r->pieces[i];
		const regmatch_t *m = pc->group >= 0 ? &pm[pc->group] : NULL;

		if (!m) {
			if (buf_append(&r->out, r->lit + pc->off, pc->len) < 0)
				return -1;
		} else if (m->rm_so >= 0 &&
			   buf_append(&r->out, rec + m->rm_so, (size_t)(m->rm_eo - m->rm_so)) < 0) {
			return -1;
		}
	}
	return 0;
}

static int replace_rec(struct node *n, const char *rec, size_t len, uint64_t recno)
{
	struct replace *r = n->state;
	regmatch_t pm[10];
	size_t pos = 0, prev_end = (size_t)-1;
	int fail = 0;

	(void)recno;
	r->out.len = 0;
	if (!(rec = lineop_subject(rec, len, &r->z)))
		return node_fail(n, "out of memory");
	while (pos <= len) {
		size_t so, eo;

		if (lineop_regexec(&r->re, rec, pos, len, r->nmatch, pm, NULL) != 0)
			break;
		so = (size_t)pm[0].rm_so;
		eo = (size_t)pm[0].rm_eo;
		if (eo == so && so == prev_end) {
			/* An empty match right where the last match ended is no
			 * match (as in sed): keep the next byte and move on. */
			if (so < len)
				fail |= buf_append(&r->out, rec + so, 1) < 0;
			pos = so + 1;
			if (fail)
				break;
			continue;
		}
		prev_end = eo;
		fail |= buf_append(&r->out, rec + pos, so - pos) < 0;
		fail |= append_rec(r, rec, pm) < 0;
		if (eo == so) {
			/* An empty match: keep the next byte and move past it. */
			if (so < len)
				fail |= buf_append(&r->out, rec + so, 1) < 0;
			pos = so + 1;
		} else {
			pos = eo;
		}
		if (!r->global || fail)
			break;
	}
	if (pos < len)
		fail |= buf_append(&r->out, rec + pos, len - pos) < 0;
	if (fail)
		return node_fail(n, "out of memory");
	return lineop_emit_line(n, 0, r->out.p ? r->out.p : "", r->out.len);
}

static int replace_run(struct node *n)
{
	struct replace *r = n->state;

	return lineop_records(n, &r->recno, replace_rec);
}

static void replace_stop(struct node *n)
{
	struct replace *r = n->state;

	if (r->compiled)
		regfree(&r->re);
	free(r->lit);
	free(r->pieces);
	buf_free(&r->out);
	buf_free(&r->z);
	memset(r, 0, sizeof(*r));
}

static void replace_check(json_t *params, const char *path, struct errs *errs)
{
	int groups = lineop_check_regex(params, "pattern", false, path, errs);
	const char *with = param_str(params, "with");
	int maxg;

	if (groups < 0 || !with || param_unexpanded(with))
		return;
	maxg = parse_with(with, NULL);
	if (maxg > groups)
		errs_add(errs, "%s.with: \\%d refers to group %d but the pattern has %s%d group%s",
			 path, maxg, maxg, groups ? "only " : "", groups, groups == 1 ? "" : "s");
}

static const struct op_param replace_params[] = {
	{"pattern", PARAM_STRING, true, "POSIX extended regular expression (as sed -E)"},
	{"with", PARAM_STRING, true,
	 "replacement text: \\0 is the whole match, \\1..\\9 the groups, \\\\ a backslash"},
	{"global", PARAM_BOOL, false, "replace every match in a record, not only the first; default false"},
	{.name = NULL},
};

const struct op_desc op_replace = {
	.name = "replace",
	.summary = "regular expression substitution in each record",
	.doc =
		"Replaces the first match of the POSIX extended regular expression\n"
		"`pattern` in each record (line) by `with`, like sed -E 's/PATTERN/WITH/';\n"
		"with global, every match (s///g). In `with`, \\1 to \\9 stand for the\n"
		"text of the pattern's groups, \\0 for the whole match, \\\\ for one\n"
		"backslash; every other character (& included) is literal. Records\n"
		"without a match pass unchanged. Each output record ends in a newline.\n"
		"Note that in JSON a backslash is written twice: \"\\\\1\" is \\1.\n"
		"\n"
		"example: \"2026-11-29 event\" becomes \"29/11/2026 event\"\n"
		"  \"dates\": {\"op\": \"replace\", \"in\": \"log\",\n"
		"            \"pattern\": \"([0-9]{4})-([0-9]{2})-([0-9]{2})\",\n"
		"            \"with\": \"\\\\3/\\\\2/\\\\1\", \"global\": true}\n",
	.params = replace_params,
	.min_inputs = 1,
	.check = replace_check,
	.state_size = sizeof(struct replace),
	.start = replace_start,
	.run = replace_run,
	.stop = replace_stop,
};
