/* ere.c - POSIX EREs run by PCRE2 with JIT, where that is exact.
 *
 * grep, split and filter's `matches` take POSIX extended regular
 * expressions with glibc's meaning (regcomp(), C locale, one byte is one
 * character) and only ask whether a record matches. PCRE2's JIT answers
 * that several times faster than regexec(), but speaks another dialect, so
 * a pattern is translated here, by a small parser of our own, and used only
 * when the translation matches exactly the same subjects. What it is not
 * certain about (back-references, [= =] and [. .], escapes of ordinary
 * characters, anything PCRE2 refuses) is refused with a reason, and the
 * caller keeps regexec() for that pattern.
 *
 * Whether a subject matches does not depend on which match is chosen, so
 * POSIX leftmost-longest and Perl leftmost-first agree on it. What must
 * agree is the set of strings each part matches:
 *  - one-byte atoms ('.', bracket expressions, \w \W \s \S) become explicit
 *    byte classes, found by asking regexec() itself, for the atom alone and
 *    with the same flags, about each of the 256 bytes. Ranges, [:classes:],
 *    REG_ICASE and REG_NEWLINE (. and [^a] never match '\n' there, \W does;
 *    . never matches NUL) are then glibc's by construction;
 *  - other bytes are literals (\x{hh} unless a letter or digit); ignore
 *    case is PCRE2_CASELESS, which without UTF folds ASCII letters only, as
 *    tolower() does in the C locale (byte classes are closed under case, so
 *    it adds nothing to them);
 *  - ^ $ \` \' are the record's edges: with ERE_LINES PCRE2_MULTILINE's ^
 *    and $ (the edges of each line of a block; a record holds no '\n'),
 *    otherwise \A and \z; \b \B \< \> are lookarounds on glibc's word
 *    bytes [0-9A-Za-z_];
 *  - groups do not capture; {,m} is {0,m}; a quantifier on a quantifier
 *    (a**, a+?) quantifies a group, never PCRE2's lazy or possessive forms;
 *    X{0} is left out.
 *
 * PCRE2 10.42 (Debian 12) has a JIT bug: after a group whose alternatives
 * differ in length, (?:ab|a)[b-]+-b misses "ab-b" (PCRE2 issue 336, fixed
 * after 10.42). A group with an empty alternative is written (?:...)? (which
 * the bug passes by), and where another such group comes first in a
 * branch the translation starts with (*NO_START_OPT), see end_group().
 *
 * Where glibc departs from its own rules, the pattern stays with it:
 * anchors and word assertions inside a repeated group ("c(|^a)+" matches
 * "ca" in glibc), and without REG_NEWLINE a ^ or $ inside a pattern that
 * can match '\n' (glibc takes "a.^b" on "a\nb"). The unit tests and
 * fuzz/fuzz_ere.c compare PCRE2's answers with regexec()'s on random
 * patterns; that is how these were found.
 *
 * PCRE2 backtracks, so a pattern like (a|a)*b can take exponential time.
 * Each match runs under a match limit (per start position) and a bounded
 * JIT stack; a match that hits one is ERE_UNSURE and the caller asks
 * regexec(), so answers stay exact and time bounded. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "ere.h"

#include <pcre2.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERE_MATCH_LIMIT 100000u      /* backtracking steps per start position */
#define ERE_DEPTH_LIMIT 10000u       /* the interpreter's, when there is no JIT */
#define ERE_JIT_STACK_MIN (32u << 10)
#define ERE_JIT_STACK_MAX (256u << 10)
#define ERE_MAX_DEPTH 64             /* nested groups */
#define ERE_MAX_PROBES 256           /* bracket expressions asked of regexec() */
#define ERE_MAX_OUT (1u << 20)       /* bytes of translation */
#define ERE_DUP_MAX 32767            /* glibc's RE_DUP_MAX */

struct ere {
	pcre2_code *code;
	pcre2_match_data *md;         /* one ovector pair, reused by every match */
	pcre2_match_context *mctx;    /* the limits and the JIT stack */
	pcre2_jit_stack *stack;
	bool jit;
};

/* ---- byte sets ---- */

struct byteset {
	uint64_t w[4];
};

static bool set_has(const struct byteset *s, int b)
{
	return s->w[b >> 6] >> (b & 63) & 1;
}

/* Bit by bit: with four __builtin_popcountll() here, clang 14 -O2
 * -fno-strict-aliasing compiled put_set() as if no set had more than 128
 * bytes. */
static int set_count(const struct byteset *s)
{
	int n = 0;

	for (int b = 0; b < 256; b++)
		n += set_has(s, b);
	return n;
}

/* The bytes the one-byte atom text[0..len) matches, asked of regexec()
 * with the flags the whole pattern is compiled with. NULL or the reason. */
static const char *probe(const char *text, size_t len, int flags, struct byteset *set)
{
	int cflags = REG_EXTENDED | (flags & ERE_ICASE ? REG_ICASE : 0) |
		     (flags & ERE_LINES ? REG_NEWLINE : 0);
	char *atom = memdup0(text, len, NULL);
	regex_t re;
	int rc;

	if (!atom)
		return "out of memory";
	rc = regcomp(&re, atom, cflags);
	free(atom);
	if (rc)
		return "a part regcomp() does not take alone";
	memset(set, 0, sizeof(*set));
	for (int b = 0; b < 256; b++) {
		/* NUL-terminated for the sanitizers' regexec interceptor, which
		 * ignores REG_STARTEND; regexec itself reads one byte. */
		char s[2] = {(char)b, '\0'};
		regmatch_t pm = {.rm_so = 0, .rm_eo = 1};

		if (regexec(&re, s, 1, &pm, REG_STARTEND) == 0)
			set->w[b >> 6] |= 1ull << (b & 63);
	}
	regfree(&re);
	if (flags & ERE_ICASE) {
		/* PCRE2_CASELESS adds the other case of each letter: it must
		 * be there already. */
		for (int b = 'a'; b <= 'z'; b++)
			if (set_has(set, b) != set_has(set, b - 32))
				return "a bracket expression that ignores case unevenly";
	}
	return NULL;
}

/* ---- the translation ---- */

struct tr {
	int flags;
	struct buf *out;
	int probes;
	struct byteset esc[4];   /* \w \W \s \S, once asked */
	bool have_esc[4];
	struct byteset dot;
	bool have_dot;
	bool nomem;
	bool eats_nl;     /* some atom matches '\n' */
	bool inner_anchor; /* a ^ not first in a top-level branch, or a $ not last */
	bool varied;      /* the current top-level branch has had * + ? {n,m} */
	bool early_fail;  /* a group with '|' came first: (*NO_START_OPT) */
};

static void put(struct tr *t, const char *s, size_t len)
{
	if (buf_append(t->out, s, len) < 0)
		t->nomem = true;
}

static void puts_(struct tr *t, const char *s)
{
	put(t, s, strlen(s));
}

static bool alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* One byte as PCRE2 text that means just that byte, in a class or not. */
static void put_byte(struct tr *t, int c, bool in_class)
{
	char tmp[8];

	if (alnum(c) && !in_class) {
		tmp[0] = (char)c;
		put(t, tmp, 1);
		return;
	}
	snprintf(tmp, sizeof(tmp), "\\x{%02x}", (unsigned)c);
	puts_(t, tmp);
}

/* A class of exactly the bytes of s (more than one): the shorter of the
 * set and its complement, as ranges of escaped bytes. */
static void put_set(struct tr *t, const struct byteset *s)
{
	int n = set_count(s);
	bool neg = n > 128 && n < 256;

	puts_(t, neg ? "[^" : "[");
	for (int b = 0; b < 256;) {
		int e = b;

		if (set_has(s, b) == neg) {
			b++;
			continue;
		}
		while (e + 1 < 256 && set_has(s, e + 1) != neg)
			e++;
		put_byte(t, b, true);
		if (e > b) {
			if (e > b + 1)
				puts_(t, "-");
			put_byte(t, e, true);
		}
		b = e + 1;
	}
	puts_(t, "]");
}

/* A one-byte atom: its set as a literal or a class. */
static const char *put_atom(struct tr *t, const struct byteset *s)
{
	int n = set_count(s);

	if (set_has(s, '\n'))
		t->eats_nl = true;
	if (n == 0)
		return "a bracket expression that matches nothing";
	if (n == 1) {
		for (int b = 0; b < 256; b++)
			if (set_has(s, b))
				put_byte(t, b, false);
		return NULL;
	}
	put_set(t, s);
	return NULL;
}

/* A cached one-byte atom ('.', \w...), asked of regexec() once. */
static const char *put_cached(struct tr *t, const char *text, struct byteset *s, bool *have)
{
	if (!*have) {
		const char *why = probe(text, strlen(text), t->flags, s);

		if (why)
			return why;
		*have = true;
	}
	return put_atom(t, s);
}

static const char *const class_names[] = {"alnum", "alpha", "blank", "cntrl", "digit", "graph",
					  "lower", "print", "punct", "space", "upper", "xdigit"};

/* The end of the bracket expression at p ('['), past its ']'; NULL and
 * *why when it holds what this file does not translate. As glibc reads it:
 * a ']' right after '[' or '[^' is a member, "[:" opens a class that only
 * ":]" ends, a backslash is an ordinary member. */
static const char *bracket_end(const char *p, const char **why)
{
	const char *q = p + 1;

	if (*q == '^')
		q++;
	if (*q == ']')
		q++;
	for (;;) {
		if (!*q) {
			*why = "an unterminated bracket expression";
			return NULL;
		}
		if (*q == ']')
			return q + 1;
		if (q[0] == '[' && (q[1] == '.' || q[1] == '=')) {
			*why = "a collating element or equivalence class ([. .], [= =])";
			return NULL;
		}
		if (q[0] == '[' && q[1] == ':') {
			const char *e = strstr(q + 2, ":]");
			size_t i, n = e ? (size_t)(e - (q + 2)) : 0;

			for (i = 0; e && i < sizeof(class_names) / sizeof(class_names[0]); i++)
				if (strlen(class_names[i]) == n && memcmp(class_names[i], q + 2, n) == 0)
					break;
			if (!e || i == sizeof(class_names) / sizeof(class_names[0])) {
				*why = "an unknown character class";
				return NULL;
			}
			q = e + 2;
			continue;
		}
		q++;
	}
}

/* An interval at p ('{'): its PCRE2 form in q[], and the end of it. NULL
 * and *why when it is not one of {n} {n,} {n,m} {,m}. */
static const char *interval(const char *p, char *q, size_t qcap, const char **why)
{
	long lo = -1, hi = -1;
	bool comma = false;

	p++;
	for (int part = 0; part < 2; part++) {
		long v = -1;

		while (*p >= '0' && *p <= '9') {
			v = (v < 0 ? 0 : v * 10) + (*p - '0');
			if (v > ERE_DUP_MAX) {
				*why = "an interval count over 32767";
				return NULL;
			}
			p++;
		}
		if (part == 0) {
			lo = v;
			if (*p != ',')
				break;
			comma = true;
			p++;
		} else {
			hi = v;
		}
	}
	if (*p != '}' || (lo < 0 && hi < 0) || (lo < 0 && !comma)) {
		*why = "an interval that is not {n}, {n,}, {n,m} or {,m}";
		return NULL;
	}
	if (lo < 0)
		lo = 0;
	if (comma && hi >= 0 && hi < lo) {
		*why = "an interval {n,m} with m < n";
		return NULL;
	}
	if (!comma)
		snprintf(q, qcap, "{%ld}", lo);
	else if (hi < 0)
		snprintf(q, qcap, "{%ld,}", lo);
	else
		snprintf(q, qcap, "{%ld,%ld}", lo, hi);
	return p + 1;
}

/* glibc's word bytes (isalnum() in the C locale, and '_'). */
#define WORD "[0-9A-Za-z_]"

/* The escape at p ('\\'): its translation, and the end of it. *atom says
 * whether it can take a quantifier. NULL and *why when not translated. */
static const char *escape(struct tr *t, const char *p, bool *atom, const char **why)
{
	static const char *const esc_text[4] = {"\\w", "\\W", "\\s", "\\S"};
	const char *hit;
	char c = p[1];
	bool lines = t->flags & ERE_LINES;

	*atom = false;
	if (!c) {
		*why = "a trailing backslash";
		return NULL;
	}
	if (strchr(".[]()*+?{}|^$\\", c)) {
		put_byte(t, (unsigned char)c, false);
		*atom = true;
		return p + 2;
	}
	if ((hit = strchr("wWsS", c)) != NULL) {
		int i = (int)(hit - "wWsS");

		if ((*why = put_cached(t, esc_text[i], &t->esc[i], &t->have_esc[i])) != NULL)
			return NULL;
		*atom = true;
		return p + 2;
	}
	switch (c) {
	case 'b':
		puts_(t, "(?:(?<=" WORD ")(?!" WORD ")|(?<!" WORD ")(?=" WORD "))");
		return p + 2;
	case 'B':
		puts_(t, "(?:(?<=" WORD ")(?=" WORD ")|(?<!" WORD ")(?!" WORD "))");
		return p + 2;
	case '<':
		puts_(t, "(?:(?<!" WORD ")(?=" WORD "))");
		return p + 2;
	case '>':
		puts_(t, "(?:(?<=" WORD ")(?!" WORD "))");
		return p + 2;
	case '`':
		puts_(t, lines ? "^" : "\\A");
		return p + 2;
	case '\'':
		puts_(t, lines ? "$" : "\\z");
		return p + 2;
	}
	*why = c >= '1' && c <= '9' ? "a back-reference" : "an escape of an ordinary character";
	return NULL;
}

/* Is q a count without a range: {n} or {n,n}? */
static bool exact(const char *q)
{
	const char *comma = strchr(q, ',');

	if (q[0] != '{')
		return false;
	return !comma || (comma[1] != '}' && strtol(q + 1, NULL, 10) == strtol(comma + 1, NULL, 10));
}

/* Quantify the piece that starts at out[piece]: when it has a quantifier
 * already, make it a group first (a** is (?:a*)*, never a*+). */
static void quantify(struct tr *t, size_t piece, bool stacked, const char *q)
{
	if (stacked) {
		put(t, "(?:", 3);
		if (t->nomem)
			return;
		memmove(t->out->p + piece + 3, t->out->p + piece, t->out->len - 3 - piece);
		memcpy(t->out->p + piece, "(?:", 3);
		puts_(t, ")");
	}
	puts_(t, q);
}

#define NO_PIECE SIZE_MAX

/* The state of the top level (0) and of each open group. */
struct level {
	size_t open;    /* where the group's "(?:" is in out */
	size_t alt;     /* where its current alternative starts */
	size_t piece;   /* where its last quantifiable piece starts, or NO_PIECE */
	bool stacked;   /* that piece has a quantifier */
	int alts;       /* non-empty alternatives before the current one */
	bool bar;       /* it has a '|' */
	bool empty_alt; /* some alternative is empty */
	bool asserts;   /* it holds an anchor or a word assertion */
};

/* The current alternative of l ends; true if it is empty (then it is not
 * written, see end_group()). */
static bool end_alt(struct tr *t, struct level *l)
{
	bool empty = t->out->len == l->alt;

	if (empty)
		l->empty_alt = true;
	return empty;
}

/* Group l ends; `repeated`: a quantifier other than {n} follows, `gone`:
 * {0} follows. True when the group is written optional.
 *
 * PCRE2 10.42's JIT misses matches after a group whose alternatives differ
 * in length, (?:ab|a)[b-]+-b on "ab-b", (?:.|)a*c on "c", (?:a|\A)[ab]*a
 * on "ab" (PCRE2 issue 336): its "early fail" start-up optimization takes
 * the first * or + after such a group to start at a fixed offset, when no
 * * + ? {n,m} (and no optional or repeated group, where it stops looking)
 * comes before it in its top-level branch. A group with an empty
 * alternative is written (?:...)? instead; for any other group with '|' in
 * that place ere_translate() turns the start-up optimizations off with
 * (*NO_START_OPT). */
static bool end_group(struct tr *t, struct level *l, bool repeated, bool gone)
{
	if (end_alt(t, l) && l->alts > 0)
		t->out->len--; /* the '|' before the empty alternative */
	if (gone)
		return false;
	if (l->bar && !l->empty_alt && !repeated && !t->varied)
		t->early_fail = true;
	if (l->empty_alt || repeated)
		t->varied = true;
	return l->empty_alt;
}

const char *ere_translate(const char *pat, int flags, struct buf *out)
{
	struct tr t = {.flags = flags, .out = out};
	struct level lv[ERE_MAX_DEPTH + 1], *l = lv;
	bool passert = false;     /* the last piece is a group that asserts */
	bool branch_start = true; /* at the start of a top-level branch */
	bool lines = flags & ERE_LINES;
	const char *p = pat, *why = NULL;
	size_t base = out->len;

	memset(l, 0, sizeof(*l));
	l->open = l->alt = base;
	l->piece = NO_PIECE;
	while (!why && !t.nomem && *p) {
		size_t here = out->len;
		bool atom = false, first = branch_start;
		char q[40];

		branch_start = false;
		switch (*p) {
		case '(':
			if (l == lv + ERE_MAX_DEPTH) {
				why = "groups nested too deeply";
				break;
			}
			l++;
			memset(l, 0, sizeof(*l));
			l->open = here;
			l->piece = NO_PIECE;
			puts_(&t, "(?:");
			l->alt = out->len;
			p++;
			continue;
		case ')': {
			bool optional, gone = false, repeated = p[1] && strchr("*+?", p[1]);

			if (l == lv) {
				/* glibc: an unmatched ')' is an ordinary character */
				put_byte(&t, ')', false);
				atom = true;
				p++;
				break;
			}
			if (p[1] == '{') {
				const char *ignore;

				if (interval(p + 1, q, sizeof(q), &ignore)) {
					gone = strcmp(q, "{0}") == 0 || strcmp(q, "{0,0}") == 0;
					repeated = !exact(q);
				}
			}
			optional = end_group(&t, l, repeated, gone);
			if (out->len == l->open + 3) {
				out->len = l->open; /* only empty alternatives: nothing */
				optional = false;
			} else {
				puts_(&t, optional ? ")?" : ")");
			}
			passert = l->asserts;
			here = l->open;
			l--;
			l->asserts |= passert;
			l->piece = here;
			l->stacked = optional;
			p++;
			continue;
		}
		case '|':
			if (!end_alt(&t, l)) {
				puts_(&t, "|");
				l->alts++;
				l->alt = out->len;
			}
			l->bar = true;
			l->piece = NO_PIECE;
			branch_start = l == lv;
			if (branch_start)
				t.varied = false; /* PCRE2 starts each top-level branch afresh */
			p++;
			continue;
		case '*':
		case '+':
		case '?':
		case '{':
			if (l->piece == NO_PIECE) {
				why = "a quantifier with nothing to repeat";
				break;
			}
			/* glibc loses the assertion in "(|^a)+" and matches
			 * "ca" with "c(|^a)+": leave such groups to it. */
			if (passert) {
				why = "an anchor or word assertion inside a repeated group";
				break;
			}
			if (*p == '{') {
				p = interval(p, q, sizeof(q), &why);
				if (!p)
					break;
			} else {
				q[0] = *p++;
				q[1] = '\0';
			}
			if (strcmp(q, "{0}") == 0 || strcmp(q, "{0,0}") == 0) {
				out->len = l->piece; /* matches the empty string only */
			} else if (out->len > l->piece) {
				quantify(&t, l->piece, l->stacked, q);
				/* {n} is no * + ? {n,m} for end_group(): PCRE2
				 * may write it out n times */
				if (!exact(q))
					t.varied = true;
			}
			l->stacked = true;
			continue;
		case '[': {
			const char *end = bracket_end(p, &why);
			struct byteset s;

			if (!end)
				break;
			if (++t.probes > ERE_MAX_PROBES) {
				why = "too many bracket expressions";
				break;
			}
			if ((why = probe(p, (size_t)(end - p), flags, &s)) == NULL)
				why = put_atom(&t, &s);
			atom = true;
			p = end;
			break;
		}
		case '.':
			why = put_cached(&t, ".", &t.dot, &t.have_dot);
			atom = true;
			p++;
			break;
		case '^':
			if (!first)
				t.inner_anchor = true;
			puts_(&t, lines ? "^" : "\\A");
			p++;
			break;
		case '$':
			if (l > lv || (p[1] && p[1] != '|'))
				t.inner_anchor = true;
			puts_(&t, lines ? "$" : "\\z");
			p++;
			break;
		case '\\':
			p = escape(&t, p, &atom, &why);
			break;
		default:
			if (*p == '\n')
				t.eats_nl = true;
			put_byte(&t, (unsigned char)*p, false);
			atom = true;
			p++;
		}
		/* Anchors and assertions take no quantifier (glibc refuses one
		 * after ^ and reads \b* oddly): NO_PIECE makes one a refusal. */
		if (!atom)
			l->asserts = true;
		l->piece = atom ? here : NO_PIECE;
		l->stacked = false;
		passert = false;
		if (out->len - base > ERE_MAX_OUT)
			why = "a translation over 1 MiB";
	}
	if (t.nomem)
		return "out of memory";
	if (!why && l > lv)
		why = "an unclosed group";
	if (why)
		return why;
	/* Without REG_NEWLINE glibc still takes ^ right after a '\n' the
	 * match itself consumed ("a.^b" matches "a\nb"), and $ right before
	 * one it consumes next, though not a ^ after a '\n' before the match:
	 * no PCRE2 assertion says that. */
	if (!lines && t.eats_nl && t.inner_anchor)
		return "an anchor inside a pattern that can match a newline";
	if (end_alt(&t, l) && l->alts > 0)
		out->len--; /* the '|' before the empty alternative */
	if (l->empty_alt) {
		out->len = base; /* an empty branch: every subject matches */
	} else if (t.early_fail) {
		static const char verb[] = "(*NO_START_OPT)";

		put(&t, verb, sizeof(verb) - 1);
		if (t.nomem)
			return "out of memory";
		memmove(out->p + base + sizeof(verb) - 1, out->p + base,
			out->len - base - (sizeof(verb) - 1));
		memcpy(out->p + base, verb, sizeof(verb) - 1);
	}
	if (out->p)
		out->p[out->len] = '\0';
	return NULL;
}

/* ---- compiled patterns ---- */

static void say(char *why, size_t whycap, const char *fmt, const char *arg)
{
	if (why && whycap)
		snprintf(why, whycap, fmt, arg);
}

struct ere *ere_compile(const char *pat, int flags, char *why, size_t whycap)
{
	uint32_t opts = PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C |
			(flags & ERE_LINES ? PCRE2_MULTILINE : 0) |
			(flags & ERE_ICASE ? PCRE2_CASELESS : 0);
	struct buf text = {0};
	pcre2_compile_context *cc = NULL;
	struct ere *e = NULL;
	const char *bad;
	PCRE2_SIZE off;
	int err;

	if ((bad = ere_translate(pat, flags, &text)) != NULL) {
		say(why, whycap, "%s", bad);
		goto out;
	}
	e = calloc(1, sizeof(*e));
	cc = pcre2_compile_context_create(NULL);
	if (!e || !cc)
		goto nomem;
	pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
	e->code = pcre2_compile((PCRE2_SPTR)(text.p ? text.p : ""), text.len, opts, &err, &off, cc);
	if (!e->code) {
		PCRE2_UCHAR msg[120];

		pcre2_get_error_message(err, msg, sizeof(msg));
		say(why, whycap, "PCRE2 refuses the translation: %s", (const char *)msg);
		ere_free(e);
		e = NULL;
		goto out;
	}
	e->jit = pcre2_jit_compile(e->code, PCRE2_JIT_COMPLETE) == 0;
	e->md = pcre2_match_data_create(1, NULL);
	e->mctx = pcre2_match_context_create(NULL);
	if (!e->md || !e->mctx)
		goto nomem;
	pcre2_set_match_limit(e->mctx, ERE_MATCH_LIMIT);
	pcre2_set_depth_limit(e->mctx, ERE_DEPTH_LIMIT);
	if (e->jit) {
		e->stack = pcre2_jit_stack_create(ERE_JIT_STACK_MIN, ERE_JIT_STACK_MAX, NULL);
		if (!e->stack)
			goto nomem;
		pcre2_jit_stack_assign(e->mctx, NULL, e->stack);
	}
	goto out;
nomem:
	say(why, whycap, "%s", "out of memory");
	ere_free(e);
	e = NULL;
out:
	pcre2_compile_context_free(cc);
	buf_free(&text);
	return e;
}

void ere_free(struct ere *e)
{
	if (!e)
		return;
	pcre2_match_data_free(e->md);
	pcre2_match_context_free(e->mctx);
	pcre2_jit_stack_free(e->stack);
	pcre2_code_free(e->code);
	free(e);
}

int ere_search(struct ere *e, const char *s, size_t len, size_t from, size_t *so,
	       size_t *eo)
{
	PCRE2_SPTR subj = (PCRE2_SPTR)(s ? s : "");
	PCRE2_SIZE *ov;
	int rc;

	if (e->jit)
		rc = pcre2_jit_match(e->code, subj, len, from, 0, e->md, e->mctx);
	else
		rc = pcre2_match(e->code, subj, len, from, 0, e->md, e->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return ERE_NOMATCH;
	if (rc < 0)
		return ERE_UNSURE;
	ov = pcre2_get_ovector_pointer(e->md);
	if (so)
		*so = ov[0];
	if (eo)
		*eo = ov[1];
	return ERE_MATCH;
}

int ere_match(struct ere *e, const char *s, size_t len)
{
	return ere_search(e, s, len, 0, NULL, NULL);
}
