/* test_ere.c - engine/ere.c, the POSIX ERE to PCRE2 translation, and the
 * matcher of engine/ops/lineop.c that runs it: the translation of each ERE
 * feature and each reason to stay with regexec(); a differential test of
 * thousands of random EREs against glibc's regexec() on single records and
 * on blocks of lines, with and without ignore_case; and patterns that make
 * PCRE2 backtrack exponentially, decided by regexec() instead. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ere.h"
#include "harness.h"
#include "ops/lineop.h"

/* ---- the translation, feature by feature ---- */

struct tr_case {
	const char *pat;
	int flags;
	const char *want; /* the PCRE2 pattern, or NULL: refused */
	const char *why;  /* refused: part of the reason */
};

#define L ERE_LINES
#define I ERE_ICASE
#define W "[0-9A-Za-z_]"

static const struct tr_case tr_cases[] = {
	/* literals: letters and digits as they are, every other byte escaped */
	{"abc09", L, "abc09", NULL},
	{"a b/c=d", L, "a\\x{20}b\\x{2f}c\\x{3d}d", NULL},
	{"\xe9-", L, "\\x{e9}\\x{2d}", NULL},
	{"ABC", L | I, "ABC", NULL},
	/* PCRE-only syntax is literal in an ERE */
	{"a#b", 0, "a\\x{23}b", NULL},
	{"]}", L, "\\x{5d}\\x{7d}", NULL},
	{"a)", L, "a\\x{29}", NULL},
	{"a)*", L, "a\\x{29}*", NULL},
	/* escaped metacharacters */
	{"\\.\\[\\]\\(\\)\\*\\+\\?\\{\\}\\|\\^\\$\\\\", L,
	 "\\x{2e}\\x{5b}\\x{5d}\\x{28}\\x{29}\\x{2a}\\x{2b}\\x{3f}\\x{7b}\\x{7d}\\x{7c}\\x{5e}\\x{24}"
	 "\\x{5c}",
	 NULL},
	/* . never matches NUL; with lines not '\n' either */
	{"a.c", L, "a[^\\x{00}\\x{0a}]c", NULL},
	{"a.c", 0, "a[^\\x{00}]c", NULL},
	{".", L | I, "[^\\x{00}\\x{0a}]", NULL},
	/* bracket expressions */
	{"[abc]", L, "[\\x{61}-\\x{63}]", NULL},
	{"[ab]", L, "[\\x{61}\\x{62}]", NULL},
	{"[a]", L, "a", NULL},
	{"[.]", L, "\\x{2e}", NULL},
	{"[^a]", L, "[^\\x{0a}\\x{61}]", NULL},
	{"[^a]", 0, "[^\\x{61}]", NULL},
	{"[^a]", L | I, "[^\\x{0a}\\x{41}\\x{61}]", NULL},
	{"[]a]", L, "[\\x{5d}\\x{61}]", NULL},
	{"[^]a]", 0, "[^\\x{5d}\\x{61}]", NULL},
	{"[a\\]", L, "[\\x{5c}\\x{61}]", NULL},
	{"[a-]", L, "[\\x{2d}\\x{61}]", NULL},
	{"[[:digit:]]", L, "[\\x{30}-\\x{39}]", NULL},
	{"[[:alpha:]_]+", L, "[\\x{41}-\\x{5a}\\x{5f}\\x{61}-\\x{7a}]+", NULL},
	{"[[:space:]]", L, "[\\x{09}-\\x{0d}\\x{20}]", NULL},
	{"[[:upper:]]", L | I, "[\\x{41}-\\x{5a}\\x{61}-\\x{7a}]", NULL},
	{"[a-c]", L | I, "[\\x{41}-\\x{43}\\x{61}-\\x{63}]", NULL},
	{"[[]", L, "\\x{5b}", NULL},
	{"[x[:digit:]]", L, "[\\x{30}-\\x{39}\\x{78}]", NULL},
	/* anchors: line edges with lines, subject edges otherwise */
	{"^a$", L, "^a$", NULL},
	{"^a$", 0, "\\Aa\\z", NULL},
	{"\\`a\\'", L, "^a$", NULL},
	{"\\`a\\'", 0, "\\Aa\\z", NULL},
	{"a^b", L, "a^b", NULL},
	/* groups, alternation; an empty alternative makes the group optional
	 * (PCRE2 10.42's JIT misses matches of (?:[^a]|)a*c), at the top
	 * level it matches everything */
	{"(a|b)c", L, "(*NO_START_OPT)(?:a|b)c", NULL},
	{"((a)|(b))+", L, "(?:(?:a)|(?:b))+", NULL},
	{"(a|)b*c", L, "(?:a)?b*c", NULL},
	{"(|a)", L, "(?:a)?", NULL},
	{"(a||b)", L, "(?:a|b)?", NULL},
	{"(a|)*", L, "(?:(?:a)?)*", NULL},
	{"(a|b{0})c", L, "(?:a)?c", NULL},
	{"()", L, "", NULL},
	{"(|)x", L, "x", NULL},
	{"()*a", L, "a", NULL},
	{"a|", L, "", NULL},
	{"|a", L, "", NULL},
	{"a||b", L, "", NULL},
	/* PCRE2 10.42's JIT misses matches of (?:ab|a)[b-]+-b unless its
	 * start-up optimizations are off: a group with '|' before any
	 * * + ? {n,m} or optional group in its top-level branch turns them off */
	{"(ab|a)[b-]+-b", L, "(*NO_START_OPT)(?:ab|a)[\\x{2d}\\x{62}]+\\x{2d}b", NULL},
	{"(a|^)b", L, "(*NO_START_OPT)(?:a|^)b", NULL},
	{"(^|,)b", L, "(*NO_START_OPT)(?:^|\\x{2c})b", NULL},
	{"q(x(ab|a))c*", L, "(*NO_START_OPT)q(?:x(?:ab|a))c*", NULL},
	{"(ab|a){2}c*", L, "(*NO_START_OPT)(?:ab|a){2}c*", NULL},
	{"x|(ab|a)c*", L, "(*NO_START_OPT)x|(?:ab|a)c*", NULL},
	{"x*|(ab|a)c*", L, "(*NO_START_OPT)x*|(?:ab|a)c*", NULL},
	{"x*(ab|a)c*", L, "x*(?:ab|a)c*", NULL},
	{"x?(ab|a)c*", L, "x?(?:ab|a)c*", NULL},
	{"x{1,2}(ab|a)c*", L, "x{1,2}(?:ab|a)c*", NULL},
	{"(x*|y)(ab|a)c*", L, "(?:x*|y)(?:ab|a)c*", NULL},
	{"(ab|a)*c*", L, "(?:ab|a)*c*", NULL},
	{"(ab|a){1,2}c*", L, "(?:ab|a){1,2}c*", NULL},
	{"(a|)(ab|a)c*", L, "(?:a)?(?:ab|a)c*", NULL},
	{"x|\\<", L, "x|(?:(?<!" W ")(?=" W "))", NULL},
	{"(^a)c", L, "(?:^a)c", NULL},
	/* quantifiers and intervals */
	{"a*b+c?", L, "a*b+c?", NULL},
	{"a{2}", L, "a{2}", NULL},
	{"a{2,}", L, "a{2,}", NULL},
	{"a{2,3}", L, "a{2,3}", NULL},
	{"a{,3}", L, "a{0,3}", NULL},
	{"a{0}", L, "", NULL},
	{"ba{0}c", L, "bc", NULL},
	{"b(a|c){0,0}*c", L, "bc", NULL},
	{"a{007}", L, "a{7}", NULL},
	{"(ab){1,2}", L, "(?:ab){1,2}", NULL},
	/* a quantifier on a quantifier quantifies a group (never lazy or
	 * possessive) */
	{"a**", L, "(?:a*)*", NULL},
	{"a+?", L, "(?:a+)?", NULL},
	{"a*+", L, "(?:a*)+", NULL},
	{"a{2}{3}", L, "(?:a{2}){3}", NULL},
	{"x(ab)*?y", L, "x(?:(?:ab)*)?y", NULL},
	{"a??*", L, "(?:(?:a?)?)*", NULL},
	/* glibc's escapes */
	{"\\w", L, "[\\x{30}-\\x{39}\\x{41}-\\x{5a}\\x{5f}\\x{61}-\\x{7a}]", NULL},
	{"\\W", L, "[^\\x{30}-\\x{39}\\x{41}-\\x{5a}\\x{5f}\\x{61}-\\x{7a}]", NULL}, /* \W matches '\n' */
	{"\\s", L, "[\\x{09}-\\x{0d}\\x{20}]", NULL},
	{"\\S+", L, "[^\\x{09}-\\x{0d}\\x{20}]+", NULL},
	{"\\bx", L, "(?:(?<=" W ")(?!" W ")|(?<!" W ")(?=" W "))x", NULL},
	{"\\Bx", L, "(?:(?<=" W ")(?=" W ")|(?<!" W ")(?!" W "))x", NULL},
	{"\\<x\\>", L, "(?:(?<!" W ")(?=" W "))x(?:(?<=" W ")(?!" W "))", NULL},
	/* what stays with regexec() */
	{"(a)\\1", L, NULL, "back-reference"},
	{"[[=a=]]", L, NULL, "equivalence class"},
	{"[[.a.]]", L, NULL, "collating element"},
	{"[[.-.]a]", L, NULL, "collating element"},
	{"\\n", L, NULL, "ordinary character"},
	{"\\d", L, NULL, "ordinary character"},
	{"a\\", L, NULL, "trailing backslash"},
	{"[[:foo:]]", L, NULL, "unknown character class"},
	{"[[:alpha]", L, NULL, "unknown character class"},
	{"[abc", L, NULL, "unterminated"},
	{"*a", L, NULL, "nothing to repeat"},
	{"^*", L, NULL, "nothing to repeat"},
	{"\\b*", L, NULL, "nothing to repeat"},
	{"(+a)", L, NULL, "nothing to repeat"},
	{"a|{1}", L, NULL, "nothing to repeat"},
	{"a{,}", L, NULL, "interval"},
	{"a{x}", L, NULL, "interval"},
	{"a{1,2,3}", L, NULL, "interval"},
	{"a{3,2}", L, NULL, "m < n"},
	{"a{40000}", L, NULL, "over 32767"},
	{"(a", L, NULL, "unclosed group"},
	{"((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((a)))))))))))))))))))))"
	 "))))))))))))))))))))))))))))))))))))))))))))))",
	 L, NULL, "nested too deeply"},
};

static void test_translate_cases(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(tr_cases) / sizeof(tr_cases[0]); k++) {
		const struct tr_case *c = &tr_cases[k];
		struct buf out = {0};
		const char *why = ere_translate(c->pat, c->flags, &out);

		if (c->want && (why || strcmp(out.p ? out.p : "", c->want) != 0))
			fail_msg("\"%s\" (flags %d): got %s, want %s", c->pat, c->flags,
				 why ? why : out.p, c->want);
		if (!c->want && (!why || !strstr(why, c->why)))
			fail_msg("\"%s\" (flags %d): got %s, want a refusal for %s", c->pat,
				 c->flags, why ? why : out.p, c->why);
		buf_free(&out);
		/* what translates compiles (a refusal compiles to NULL) */
		{
			char msg[200] = "";
			struct ere *e = ere_compile(c->pat, c->flags, msg, sizeof(msg));

			if ((e != NULL) != (c->want != NULL))
				fail_msg("\"%s\": ere_compile: %s", c->pat, e ? "compiled" : msg);
			ere_free(e);
		}
	}
}

/* PCRE2 refusing a translation is a reason too: this one is over its
 * compiled-size limit (a repeated group is copied), but glibc takes it. */
static void test_pcre2_refuses(void **state)
{
	char msg[200] = "";
	struct ere *e = ere_compile("(ab){30000}", ERE_LINES, msg, sizeof(msg));
	regex_t re;

	(void)state;
	assert_null(e);
	assert_non_null(strstr(msg, "PCRE2 refuses"));
	assert_int_equal(regcomp(&re, "(ab){30000}", REG_EXTENDED | REG_NEWLINE), 0);
	regfree(&re);
}

/* ---- the truth: glibc ---- */

static int cflags_of(int flags)
{
	return REG_EXTENDED | (flags & ERE_ICASE ? REG_ICASE : 0) |
	       (flags & ERE_LINES ? REG_NEWLINE : 0);
}

static bool glibc_match(const regex_t *re, const char *s, size_t len)
{
	struct buf z = {0};
	int rc = lineop_regexec(re, s, 0, len, 0, NULL, &z);

	buf_free(&z);
	return rc == 0;
}

/* ---- matches, feature by feature, against glibc ---- */

struct m_case {
	const char *pat;
	int flags;
	const char *subj;
	size_t len; /* 0: strlen */
	bool match;
};

static const struct m_case m_cases[] = {
	{"a.c", L, "abc", 0, true},
	{"a.c", L, "a\0c", 3, false},    /* . is not NUL */
	{"a.c", 0, "a\nc", 0, true},     /* . is '\n' without lines */
	{"a[^b]c", 0, "a\nc", 0, true},
	{"a[^b]c", 0, "a\0c", 3, true},
	{"^b", 0, "a\nb", 0, false},     /* ^ is the subject's start only */
	{"a$", 0, "a\n", 0, false},      /* $ is its end, not before a '\n' */
	{"a\\'", 0, "a\n", 0, false},
	{"^$", L, "", 0, true},
	{"^$", 0, "", 0, true},
	{"x*", L, "", 0, true},
	{"ERROR", L | I, "xx error", 0, true},
	{"[[:upper:]]+x", L | I, "abcX", 0, true},
	{"\xe9", L | I, "\xc9", 0, false}, /* no folding beyond ASCII */
	{"\\bfoo\\b", L, "a foo.", 0, true},
	{"\\bfoo\\b", L, "afoo", 0, false},
	{"\\Boo", L, "foo", 0, true},
	{"\\Bfoo", L, "foo", 0, false},
	{"\\<foo\\>", L, "(foo)", 0, true},
	{"\\<oo", L, "foo", 0, false},
	{"\\B", L, "", 0, true},
	{"\\b", L, "", 0, false},
	{"a{,2}b", L, "aaab", 0, true},
	{"^a{,2}b", L, "aaab", 0, false},
	{"^(ab|a)(c|bcd)$", L, "abcd", 0, true},
	{"^(a|)+$", L, "aaa", 0, true},
	{"^(a*)*$", L, "b", 0, false},
	{"a)b", L, "a)b", 0, true},
	{"x{0}y", L, "y", 0, true},
	{"^x{2}{2}$", L, "xxxx", 0, true},
	{"^x{2}{2}$", L, "xxx", 0, false},
	{"a\\.b", L, "axb", 0, false},
	{"[a\\]+", L, "\\\\", 0, true},
	{"[]]", L, "]", 0, true},
	{"a|b|", L, "zzz", 0, true},
	/* PCRE2 10.42's JIT gets these wrong when written plainly */
	{"(.|)a*cB", I, "cbb", 0, true},
	{"([^a]|)a*c", L, "c", 0, true},
	{"(1|)b*1", L, "1", 0, true},
	{"(a|\\`)[ab]*a", 0, "ab", 0, true},
	{"(a|^)[ab]*a", L, "ab", 0, true},
	{"(a|\\b)[ab]*a", L, "ab", 0, true},
	{"(A|\\`)\\w*[]a]", I, "Ac)", 0, true},
	{"(ab|a)[b-]+-b", L, "ab-b", 0, true},
	{"q(x(ab|a))[b-]+-b", L, "qxab-b", 0, true},
	{"(ab|a)x*[b-]+-b", L, "ab-b", 0, true},
	{"((a[^a]|[[:digit:][:lower:]]|b)[b-]+()[[:punct:]])b", I, "aB-BA", 0, true},
};

static void test_match_cases(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(m_cases) / sizeof(m_cases[0]); k++) {
		const struct m_case *c = &m_cases[k];
		size_t len = c->len ? c->len : strlen(c->subj);
		char msg[200] = "";
		struct ere *e = ere_compile(c->pat, c->flags, msg, sizeof(msg));
		regex_t re;

		if (!e)
			fail_msg("\"%s\": not translated: %s", c->pat, msg);
		assert_int_equal(regcomp(&re, c->pat, cflags_of(c->flags)), 0);
		if (glibc_match(&re, c->subj, len) != c->match)
			fail_msg("\"%s\" on \"%s\": glibc is not as this test says", c->pat, c->subj);
		if (ere_match(e, c->subj, len) != (c->match ? ERE_MATCH : ERE_NOMATCH))
			fail_msg("\"%s\" on \"%s\" (flags %d): PCRE2 says %d", c->pat, c->subj,
				 c->flags, ere_match(e, c->subj, len));
		regfree(&re);
		ere_free(e);
	}
}

/* ---- random EREs against glibc ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void add(struct buf *b, const char *s)
{
	assert_int_equal(buf_append(b, s, strlen(s)), 0);
}

static void gen_re(struct buf *b, int depth);

static void gen_atom(struct buf *b, int depth)
{
	static const char *const brackets[] = {
		"[ab]", "[^a]", "[a-b]", "[^ab]", "[[:alpha:]]", "[]a]", "[^]b]", "[[:space:]]",
		"[a\\]", "[A-Z]", "[^[:upper:]]", "[-a]", "[b-]", "[[:punct:]]", "[^[:alnum:]_]",
		"[.]", "[[:digit:][:lower:]]", "[a-a]", "[--/]", "[^-]", "[]-a]", "[\xe9-\xff]",
		"[^\t]", "[[:cntrl:]]", "[[:xdigit:]]", "[^.]",
	};
	static const char *const others[] = {
		"\\w", "\\W", "\\s", "\\S", "\\.", "\\*", "\\\\", " ", "_", "-", ".", "A", "B", "1",
		"\\{", "\\}", "\\|", "\\(", "\\)", "\\^", "\\$", "\\[", "]", "}", "\xe9", "\t",
	};
	unsigned r = rnd(20);

	if (r < 8)
		add(b, r < 4 ? "a" : r < 7 ? "b" : "c");
	else if (r < 11)
		add(b, brackets[rnd(sizeof(brackets) / sizeof(brackets[0]))]);
	else if (r < 15)
		add(b, others[rnd(sizeof(others) / sizeof(others[0]))]);
	else if (depth < 4) {
		add(b, "(");
		gen_re(b, depth + 1);
		add(b, ")");
	} else {
		add(b, "a");
	}
}

/* Groups get small counts only: glibc's regcomp() takes minutes over
 * nested repeated groups that can match empty, e.g. a*(((){2,5}){4,}){3}
 * (which lineop_regex_vet() lets through). */
static void gen_quant(struct buf *b, bool group)
{
	static const char *const q[] = {"*", "+", "?", "{2}", "{0,2}", "{,2}", "{0}",
					"{1,}", "{1,3}", "{3}", "{2,5}", "{4,}"};

	add(b, q[rnd(group ? 7 : sizeof(q) / sizeof(q[0]))]);
}

static void gen_branch(struct buf *b, int depth)
{
	static const char *const asserts[] = {"^", "$", "\\b", "\\B", "\\<", "\\>", "\\`", "\\'"};
	unsigned n = rnd(5);

	for (unsigned i = 0; i < n; i++) {
		if (rnd(8) == 0) {
			add(b, asserts[rnd(sizeof(asserts) / sizeof(asserts[0]))]);
			continue;
		}
		size_t at = b->len;
		bool group;

		gen_atom(b, depth);
		group = b->p[at] == '(';
		if (rnd(3) == 0) {
			gen_quant(b, group);
			if (rnd(8) == 0)
				gen_quant(b, true); /* stacked */
		}
	}
}

static void gen_re(struct buf *b, int depth)
{
	gen_branch(b, depth);
	while (rnd(4) == 0) {
		add(b, "|");
		gen_branch(b, depth);
	}
}

/* A record: no '\n' with lines (records never hold one), else any. */
static size_t gen_subject(char *s, bool lines)
{
	static const char alpha[] = "aabbcAB _-.\\1)";
	size_t n = rnd(8) ? rnd(11) : rnd(41);

	for (size_t i = 0; i < n; i++) {
		unsigned r = rnd(40);

		if (r == 0)
			s[i] = '\0';
		else if (r == 1)
			s[i] = (char)(rnd(2) ? 0xe9 : 0xc9);
		else if (r == 2)
			s[i] = lines ? '\t' : '\n';
		else
			s[i] = alpha[rnd(sizeof(alpha) - 1)];
	}
	return n;
}

struct diff_stats {
	unsigned patterns, compiled, translated, answers, matches, unsure, blocks, fallbacks;
};

#define NSUBJ 24

/* Compare PCRE2 with glibc for one pattern on NSUBJ subjects, one by one
 * and (with lines) as a block scanned by the matcher. */
static void diff_one(const char *pat, int flags, struct diff_stats *st)
{
	char subj[NSUBJ][48];
	size_t len[NSUBJ];
	bool truth[NSUBJ];
	bool lines = flags & ERE_LINES;
	regex_t re;
	struct ere *e;

	st->patterns++;
	/* What reaches either engine is vetted first (glibc's regcomp() can
	 * take exponential time on stacked quantifiers). */
	if (lineop_regex_vet(pat) || regcomp(&re, pat, cflags_of(flags)) != 0)
		return;
	st->compiled++;
	e = ere_compile(pat, flags, NULL, 0);
	if (!e) {
		st->fallbacks++;
		regfree(&re);
		return;
	}
	st->translated++;
	for (int i = 0; i < NSUBJ; i++) {
		int got;

		len[i] = gen_subject(subj[i], lines);
		truth[i] = glibc_match(&re, subj[i], len[i]);
		got = ere_match(e, subj[i], len[i]);
		if (got == ERE_UNSURE) {
			st->unsure++;
			continue;
		}
		st->answers++;
		st->matches += truth[i];
		if (got != truth[i]) {
			char shown[64];
			size_t k = 0;

			for (size_t j = 0; j < len[i] && k + 5 < sizeof(shown); j++)
				k += (size_t)snprintf(shown + k, sizeof(shown) - k,
						      (unsigned char)subj[i][j] < 0x20 ||
								      (unsigned char)subj[i][j] >= 0x7f
							      ? "\\x%02x"
							      : "%c",
						      (unsigned char)subj[i][j]);
			fail_msg("\"%s\" (flags %d) on \"%s\": glibc %d, PCRE2 %d", pat, flags, shown,
				 truth[i], got);
		}
	}
	ere_free(e);
	regfree(&re);
	if (lines) {
		struct matcher m;
		char err[128], block[NSUBJ * 49];
		const char *starts[NSUBJ], *cur, *end;
		size_t blen = 0;
		int next = 0;

		assert_int_equal(matcher_init(&m, pat, flags & ERE_ICASE, true, err, sizeof(err)), 0);
		assert_non_null(m.fast);
		for (int i = 0; i < NSUBJ; i++) {
			starts[i] = block + blen;
			memcpy(block + blen, subj[i], len[i]);
			blen += len[i];
			block[blen++] = '\n';
		}
		cur = block;
		end = block + blen;
		assert_int_equal(matcher_block(&m, block, end), 0);
		st->blocks++;
		while (cur < end) {
			const char *nl, *ls = matcher_next_line(&m, cur, end, &nl);

			/* every line before the one found does not match */
			for (; next < NSUBJ && (!ls || starts[next] < ls); next++)
				if (truth[next])
					fail_msg("\"%s\" (flags %d): block scan missed line %d", pat,
						 flags, next);
			if (!ls)
				break;
			if (next == NSUBJ || starts[next] != ls || !truth[next])
				fail_msg("\"%s\" (flags %d): block scan found line %d wrongly", pat,
					 flags, next);
			next++;
			cur = nl + 1;
		}
		for (; next < NSUBJ; next++)
			if (truth[next])
				fail_msg("\"%s\" (flags %d): block scan missed line %d", pat, flags, next);
		matcher_free(&m);
	}
}

/* ERE_TEST_SEED=N and ERE_TEST_N=COUNT explore other random patterns;
 * ERE_TEST_TRACE=1 shows each on stderr. */
static void test_differential(void **state)
{
	struct diff_stats st = {0};
	const char *seed = getenv("ERE_TEST_SEED");
	int n = getenv("ERE_TEST_N") ? atoi(getenv("ERE_TEST_N")) : 2500;

	(void)state;
	if (seed)
		rng = strtoull(seed, NULL, 0) * 2 + 1;
	for (int k = 0; k < n; k++) {
		struct buf pat = {0};

		if (rnd(5) == 0) {
			/* syntax soup, for what regcomp() takes oddly */
			static const char soup[] = "ab()|*+?{}[]^$.\\,0123-:=";
			unsigned len = 1 + rnd(10);

			for (unsigned i = 0; i < len; i++)
				assert_int_equal(buf_append(&pat, &soup[rnd(sizeof(soup) - 1)], 1), 0);
		} else {
			gen_re(&pat, 0);
		}
		if (!pat.p)
			add(&pat, "");
		/* an unmatched ')', a back-reference: now and then */
		if (rnd(50) == 0)
			add(&pat, ")b");
		if (rnd(100) == 0)
			add(&pat, "(a)\\1");
		if (getenv("ERE_TEST_TRACE") && pat.len)
			fprintf(stderr, "ere: %s\n", pat.p);
		for (int flags = 0; flags < 4; flags++)
			if (pat.len)
				diff_one(pat.p, flags, &st);
		buf_free(&pat);
	}
	print_message("ere: %u patterns, %u compiled by glibc, %u translated, %u to regexec; "
		      "%u answers compared (%u matches), %u unsure, %u blocks\n",
		      st.patterns, st.compiled, st.translated, st.fallbacks, st.answers, st.matches,
		      st.unsure, st.blocks);
	/* The test compares something: most patterns translate, answers
	 * go both ways, and some patterns stay with regexec(). */
	assert_true(st.translated * 10 > st.compiled * 8);
	assert_true(st.fallbacks > 0);
	assert_true(st.matches * 10 > st.answers);
	assert_true((st.answers - st.matches) * 10 > st.answers);
	assert_true(st.blocks * 3 > st.translated);
}

/* ---- the block scan ---- */

/* Lines that match only with the '\n' around them, and anchors per line. */
static void test_block_scan(void **state)
{
	static const struct {
		const char *pat;
		bool icase;
		const char *block;
		const char *want; /* the matching lines, concatenated */
	} cases[] = {
		{"a[[:space:]]b", false, "a\nb\na b\n", "a b\n"},
		{"a\\Wb", false, "a\nb\na-b\n", "a-b\n"},
		{"a\\s*$", false, "a\nb\nab\nxa \n", "a\nxa \n"},
		{"^b", false, "a\nb\nab\nba\n", "b\nba\n"},
		{"\\`b", false, "a\nb\nab\nba\n", "b\nba\n"},
		{"a\\'", false, "a\nb\nba\nab\n", "a\nba\n"},
		{"^$", false, "a\n\nb\n\n", "\n\n"},
		{"x*", false, "a\n\n", "a\n\n"},
		{"\\<b", false, "a\nb\nab\n-b\n", "b\n-b\n"},
		{"a\\>", false, "a\nab\nba\n", "a\nba\n"},
		{"B$", true, "ab\nb\nbb\nba\n", "ab\nb\nbb\n"},
		{"[^a]", false, "a\naa\n\nab\n", "ab\n"},
		{"c.", false, "c\nc\0\ncc\n", "cc\n"},
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct matcher m;
		char err[128], got[64];
		const char *cur = cases[k].block, *end = cur + strlen(cur), *nl, *ls;
		size_t glen = 0;

		if (k == 12)
			end = cur + 10; /* "c\nc\0\ncc\n": strlen stops at the NUL */
		assert_int_equal(matcher_init(&m, cases[k].pat, cases[k].icase, true, err, sizeof(err)),
				 0);
		assert_non_null(m.fast);
		assert_int_equal(matcher_block(&m, cur, end), 0);
		while (cur < end && (ls = matcher_next_line(&m, cur, end, &nl)) != NULL) {
			memcpy(got + glen, ls, (size_t)(nl + 1 - ls));
			glen += (size_t)(nl + 1 - ls);
			cur = nl + 1;
		}
		if (glen != strlen(cases[k].want) || memcmp(got, cases[k].want, glen) != 0)
			fail_msg("\"%s\": got \"%.*s\", want \"%s\"", cases[k].pat, (int)glen, got,
				 cases[k].want);
		matcher_free(&m);
	}
}

/* ---- exponential backtracking ---- */

/* (a|a)*bc on a run of a's: PCRE2 tries 2^n ways and stops at its match
 * limit; regexec() decides, and the answer is exact. */
static void test_backtracking(void **state)
{
	const char *pat = "(a|a)*bc";
	char bad[64], good[64];
	struct ere *e = ere_compile(pat, ERE_LINES, NULL, 0);
	struct matcher m;
	char err[128];

	(void)state;
	memset(bad, 'a', 60);
	memcpy(bad + 60, "bxc", 4);  /* holds b and c, but no "bc" */
	memset(good, 'a', 60);
	memcpy(good + 60, "xbc", 4); /* "bc" at the end */
	assert_non_null(e);
	assert_int_equal(ere_match(e, bad, 63), ERE_UNSURE);
	assert_int_equal(ere_match(e, good, 63), ERE_UNSURE);
	assert_int_equal(ere_match(e, "aabc", 4), ERE_MATCH);
	assert_int_equal(ere_match(e, "aab", 3), ERE_NOMATCH);
	ere_free(e);

	/* Through the matcher: exact answers, and after MATCHER_UNSURE_MAX
	 * undecided records PCRE2 is no longer asked. */
	assert_int_equal(matcher_init(&m, pat, false, true, err, sizeof(err)), 0);
	assert_non_null(m.fast);
	for (int i = 0; i < MATCHER_UNSURE_MAX + 10; i++) {
		assert_false(matcher_match(&m, bad, 63));
		assert_true(matcher_match(&m, good, 63));
		assert_true(matcher_match(&m, "aabc", 4));
	}
	assert_int_equal(m.unsure, MATCHER_UNSURE_MAX);
	matcher_free(&m);

	/* A block where PCRE2 gives up in the middle: the lines are still
	 * decided one by one, exactly. */
	assert_int_equal(matcher_init(&m, pat, false, true, err, sizeof(err)), 0);
	{
		char block[400];
		size_t n = 0;
		const char *cur, *end, *nl, *ls;
		int found = 0;

		memcpy(block + n, "abc\nxx\n", 7);
		n += 7;
		memcpy(block + n, bad, 63);
		n += 63;
		block[n++] = '\n';
		memcpy(block + n, "zz\n", 3);
		n += 3;
		memcpy(block + n, good, 63);
		n += 63;
		block[n++] = '\n';
		memcpy(block + n, "bc\n", 3);
		n += 3;
		cur = block;
		end = block + n;
		assert_int_equal(matcher_block(&m, cur, end), 0);
		assert_true(m.blk_fast);
		while ((ls = matcher_next_line(&m, cur, end, &nl)) != NULL) {
			found++;
			assert_true(ls == block || ls == block + 7 + 63 + 1 + 3 ||
				    ls == block + 7 + 63 + 1 + 3 + 63 + 1);
			cur = nl + 1;
		}
		assert_int_equal(found, 3);
		assert_true(m.unsure > 0);
	}
	matcher_free(&m);
}

/* A long record can take more JIT stack than a matcher has: regexec()
 * decides it. */
static void test_jit_stack(void **state)
{
	size_t n = 200000;
	char *s = malloc(n);
	struct matcher m;
	char err[128];

	(void)state;
	assert_non_null(s);
	memset(s, 'a', n);
	s[n - 1] = 'c';
	assert_int_equal(matcher_init(&m, "(a|b)*c", false, true, err, sizeof(err)), 0);
	assert_non_null(m.fast);
	assert_int_equal(ere_match(m.fast, s, n), ERE_UNSURE);
	assert_true(matcher_match(&m, s, n));
	assert_int_equal(m.unsure, 1);
	s[n - 1] = 'b';
	assert_false(matcher_match(&m, s, n));
	matcher_free(&m);
	free(s);
}

/* The vetting of lineop_regex_vet() stands in front of both engines. */
static void test_vetted(void **state)
{
	struct matcher m;
	char err[128];

	(void)state;
	assert_int_not_equal(matcher_init(&m, "a**", false, true, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "quantifier applied to a quantifier"));
	assert_int_not_equal(matcher_init(&m, "(a{100}){100}", false, true, err, sizeof(err)), 0);
	assert_int_equal(matcher_init(&m, "(a{10}){10}", false, true, err, sizeof(err)), 0);
	assert_non_null(m.fast);
	{
		char a100[100];

		memset(a100, 'a', sizeof(a100));
		assert_true(matcher_match(&m, a100, 100));
		assert_false(matcher_match(&m, a100, 99));
	}
	matcher_free(&m);
}

/* Repetitions of what can match empty around counted repetitions of what
 * can: glibc's regcomp() took minutes on the refused ones (measured: the
 * first one past 20 s, ((a|b*){100,200})+ past 20 s, (((){2,5}){4,}){2}
 * 1.4 s; ([^a]*|){3255} 1.4 GB). The accepted ones compile at once. */
static void test_vetted_empty_repeats(void **state)
{
	static const char *const refused[] = {
		"a*(((){2,5}){4,}){3}", "(((){2,5}){4,}){2}", "((a|b*){100,200})+",
		"(((a|b*){1,32})+)+", "((a*){1000,2000})*", "(b((a*){60,64}){60,64}){1}",
		"(((a?){2,5}){4,}){2}", "((x?){2})*", "((^|a){2,3})+", "(($){6,42}){1,18}",
		"([^a]*|){3255}", "(a?){257}", /* found by fuzz_ere: 1.4 GB to compile */
		"([^a]|\\b){256}a", "((\\b)*){12}", "((\\b)+){6}", /* fuzz_ere: GBs, minutes */
		"((^(((x?|x?|x?|x?|x?|x?|x?|x?^(.*))($.*)))*)*)h", /* fuzz_replace: minutes */
	};
	static const char *const accepted[] = {
		"(a*)*", "((((a*)*)*)*)*", "(b(a?){2,5})+", "((b(a*){20,50}){4,}){3}",
		"(a?){0,100}", "(a|b*){1,255}", "(ab|cd){2,5}", "((ab)?){3}x", "(x((ab)?){3})*",
		"[a-z]+@[a-z]+\\.(com|org){1,2}", "((a{2,3})+b)*", "(a?){256}", "(a|b){3255}",
		"(x\\b){256}", "(\\bfoo){2,3}", "(\\b){4}", "((\\b)*)*",
		"((^(a|)$)*)*", "((^(((x?|x?|x?|x?^(.*))($.*)))*)*)h",
	};
	struct matcher m;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		const char *why = lineop_regex_vet(refused[i]);

		if (!why || !strstr(why, "can match the empty string"))
			fail_msg("%s: %s", refused[i], why ? why : "accepted");
		assert_int_not_equal(matcher_init(&m, refused[i], false, true, err, sizeof(err)), 0);
	}
	for (size_t i = 0; i < sizeof(accepted) / sizeof(*accepted); i++) {
		const char *why = lineop_regex_vet(accepted[i]);

		if (why)
			fail_msg("%s refused: %s", accepted[i], why);
		assert_int_equal(matcher_init(&m, accepted[i], false, true, err, sizeof(err)), 0);
		matcher_free(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translate_cases),
		cmocka_unit_test(test_pcre2_refuses),
		cmocka_unit_test(test_match_cases),
		cmocka_unit_test(test_block_scan),
		cmocka_unit_test(test_backtracking),
		cmocka_unit_test(test_jit_stack),
		cmocka_unit_test(test_vetted),
		cmocka_unit_test(test_vetted_empty_repeats),
		cmocka_unit_test(test_differential),
	};

	h_test_filter();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
