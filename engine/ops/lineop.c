/* lineop.c - see lineop.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "lineop.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ere.h"

/* ---- the per-record loop ---- */

int lineop_records(struct node *n, uint64_t *recno, lineop_fn fn)
{
	size_t bytes = 0;

	if (n->stopping)
		return NODE_DONE;
	for (unsigned i = 0; i < NODE_BUDGET_RECORDS && bytes < NODE_BUDGET_BYTES; i++) {
		const char *rec;
		size_t len;
		int which, r, rc;

		r = node_next_line(n, &rec, &len, &which);
		if (r == 0)
			return NODE_IDLE;
		if (r < 0)
			return NODE_DONE;
		rc = fn(n, rec, len, ++*recno);
		if (rc != 0)
			return rc;
		bytes += len + 1;
	}
	return NODE_AGAIN;
}

int lineop_emit_line(struct node *n, int port, const void *rec, size_t len)
{
	int rc = node_emit_line(n, port, rec, len);

	if (rc < 0)
		return node_output_failed(n, rc);
	return 0;
}

int lineop_emit(struct node *n, int port, const void *data, size_t len)
{
	int rc = node_emit(n, port, data, len);

	if (rc < 0)
		return node_output_failed(n, rc);
	return 0;
}

/* ---- raw chunks ---- */

int lineop_raw(struct node *n, struct lineop_raw *r, void (*map)(char *p, size_t len),
	       bool terminate)
{
	size_t total = 0;
	int rc;

	if (n->stopping)
		return NODE_DONE;
	while (total < NODE_BUDGET_BYTES) {
		ssize_t got = node_read(n, 0, r->buf, sizeof(r->buf));

		if (got == 0)
			return NODE_IDLE;
		if (got < 0) {
			if (terminate && r->open) {
				r->open = false;
				if ((rc = lineop_emit(n, 0, "\n", 1)) < 0)
					return rc;
			}
			return NODE_DONE;
		}
		if (map)
			map(r->buf, (size_t)got);
		if ((rc = lineop_emit(n, 0, r->buf, (size_t)got)) < 0)
			return rc;
		r->open = r->buf[got - 1] != '\n';
		total += (size_t)got;
	}
	return NODE_AGAIN;
}

/* ---- blocks of complete lines ---- */

/* Room for NODE_LINE_MAX bytes and a '\n' at most. */
static int lineblk_grow(struct node *n, struct lineblk *b, size_t need)
{
	size_t cap = b->cap ? b->cap : LINEOP_CHUNK;
	char *p;

	while (cap < need)
		cap *= 2;
	if (cap > (size_t)NODE_LINE_MAX + 1)
		cap = (size_t)NODE_LINE_MAX + 1;
	if (cap == b->cap)
		return 0;
	p = realloc(b->buf, cap);
	if (!p)
		return node_fail(n, "out of memory");
	b->buf = p;
	b->cap = cap;
	return 0;
}

int lineblk_next(struct node *n, int in, struct lineblk *b, const char **p, size_t *len)
{
	bool ended = false, overlong = false;
	size_t scanned, limit;
	char *nl;
	int rc;

	if (b->blk) {
		memmove(b->buf, b->buf + b->blk, b->len - b->blk);
		b->len -= b->blk;
		b->blk = 0;
	}
	if (b->done)
		return LINEBLK_END;
	if (!b->buf && (rc = lineblk_grow(n, b, LINEOP_CHUNK)) < 0)
		return rc;
	/* What is left from the last block holds no '\n'. */
	scanned = b->len;
	for (;;) {
		ssize_t got;

		limit = b->cap < NODE_LINE_MAX ? b->cap : NODE_LINE_MAX;
		if (b->len >= limit) {
			if (memrchr(b->buf + scanned, '\n', b->len - scanned))
				break; /* full: hand out what is complete */
			scanned = b->len;
			if (b->len >= NODE_LINE_MAX) {
				/* As node_next_line(): an overlong line is cut into
				 * records of NODE_LINE_MAX bytes. */
				overlong = true;
				break;
			}
			if ((rc = lineblk_grow(n, b, b->cap * 2)) < 0)
				return rc;
			continue;
		}
		got = node_read(n, in, b->buf + b->len, limit - b->len);
		if (got > 0) {
			b->len += (size_t)got;
			continue;
		}
		ended = got < 0;
		break;
	}
	if (ended || overlong) {
		b->done = ended;
		if (b->len == 0)
			return LINEBLK_END;
		if (b->buf[b->len - 1] != '\n') {
			/* cap >= len + 1: len <= NODE_LINE_MAX < cap, or room left */
			if (b->len == b->cap && (rc = lineblk_grow(n, b, b->len + 1)) < 0)
				return rc;
			b->buf[b->len++] = '\n';
		}
		b->blk = b->len;
	} else {
		nl = b->len > scanned ? memrchr(b->buf + scanned, '\n', b->len - scanned) : NULL;
		if (!nl)
			return LINEBLK_NONE;
		b->blk = (size_t)(nl - b->buf) + 1;
	}
	*p = b->buf;
	*len = b->blk;
	return LINEBLK_BLOCK;
}

void lineblk_free(struct lineblk *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* ---- matcher ---- */

#if defined(__SANITIZE_ADDRESS__)
#define LJ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LJ_ASAN 1
#endif
#endif
#ifndef LJ_ASAN
#define LJ_ASAN 0
#endif

static int zcopy(struct buf *z, const char *s, size_t len)
{
	z->len = 0;
	return buf_append(z, s, len); /* buf_append keeps a NUL after the data */
}

const char *lineop_subject(const char *s, size_t len, struct buf *z)
{
	if (!LJ_ASAN)
		return s;
	return zcopy(z, s, len) < 0 ? NULL : z->p;
}

int lineop_regexec(const regex_t *re, const char *s, size_t so, size_t eo, size_t nmatch,
		   regmatch_t *pm, struct buf *z)
{
	regmatch_t one;

	if (LJ_ASAN && z) {
		if (zcopy(z, s, eo) < 0)
			return REG_ESPACE;
		s = z->p;
	}
	if (!pm)
		pm = &one;
	pm[0].rm_so = (regoff_t)so;
	pm[0].rm_eo = (regoff_t)eo;
	return regexec(re, s, nmatch, pm, REG_STARTEND);
}

static void lower_copy(char *dst, const char *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)(src[i] + ((unsigned)((unsigned char)src[i] - 'A') < 26u) * 32);
}

/* Skip a bracket expression starting at p ('['); NULL if unterminated. */
static const char *skip_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++) {
		if (p[0] == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char close = p[1];

			for (p += 2; *p && !(p[0] == close && p[1] == ']'); p++)
				;
			if (!*p)
				return NULL;
			p++;
		}
	}
	return *p ? p + 1 : NULL;
}

/* Skip a group starting at p ('('); NULL if unterminated. */
static const char *skip_group(const char *p)
{
	int depth = 0;

	while (*p) {
		if (*p == '\\') {
			if (!p[1])
				return NULL;
			p += 2;
		} else if (*p == '[') {
			if (!(p = skip_bracket(p)))
				return NULL;
		} else {
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0)
				return p + 1;
			p++;
		}
	}
	return NULL;
}

/* Skip an interval "{n}", "{n,}", "{n,m}" at p; NULL if it is not one. */
static const char *skip_interval(const char *p)
{
	p++;
	if (!(*p >= '0' && *p <= '9'))
		return NULL;
	while ((*p >= '0' && *p <= '9') || *p == ',')
		p++;
	return *p == '}' ? p + 1 : NULL;
}

/* Find the literal every match of each top-level branch must contain (the
 * longest run of plain characters that no quantifier makes optional).
 * Fills m->lits and m->pure; leaves nlits 0 when some branch has none or the
 * pattern is beyond this little parser. */
static void must_literals(struct matcher *m, const char *pat)
{
	char run[256], best[256];
	size_t rl = 0, bl = 0;
	bool pure = true, last_in_run = false;
	const char *p = pat;
	int k = 0;

#define END_RUN()                                 \
	do {                                      \
		if (rl > bl) {                    \
			memcpy(best, run, rl);    \
			bl = rl;                  \
		}                                 \
		rl = 0;                           \
		last_in_run = false;              \
	} while (0)
	for (;;) {
		char c = *p;
		bool add = false;

		if (c == '\0' || c == '|') {
			END_RUN();
			if (bl == 0 || k == MATCHER_LITS)
				goto none;
			m->lits[k] = malloc(bl);
			if (!m->lits[k])
				goto none;
			memcpy(m->lits[k], best, bl);
			m->litlen[k++] = bl;
			m->nlits = k;
			if (!c)
				break;
			p++;
			bl = 0;
			continue;
		}
		switch (c) {
		case '\\':
			if (!p[1] || !strchr(".[]()*+?{}|^$\\", p[1]))
				goto none; /* \1, \w, \b...: leave it to the regex alone */
			c = p[1];
			add = true;
			p += 2;
			break;
		case '[':
			pure = false;
			END_RUN();
			if (!(p = skip_bracket(p)))
				goto none;
			break;
		case '(':
			pure = false;
			END_RUN();
			if (!(p = skip_group(p)))
				goto none;
			break;
		case '.':
		case '^':
		case '$':
			pure = false;
			END_RUN();
			p++;
			break;
		case '*':
		case '+':
		case '?':
		case '{':
			/* The atom before is optional or repeated: drop it. */
			pure = false;
			if (last_in_run)
				rl--;
			END_RUN();
			if (c == '{' && !(p = skip_interval(p)))
				goto none;
			if (c != '{')
				p++;
			break;
		case '\n':
			goto none;
		default:
			add = true;
			p++;
		}
		if (add) {
			if (m->icase && (unsigned char)c >= 0x80)
				goto none; /* folding beyond ASCII: the regex knows best */
			if (rl == sizeof(run))
				END_RUN();
			run[rl++] = m->icase ? (char)(c + ((unsigned)(c - 'A') < 26u) * 32) : c;
			last_in_run = true;
		}
	}
#undef END_RUN
	m->pure = pure;
	return;
none:
	for (int i = 0; i < MATCHER_LITS; i++) {
		free(m->lits[i]);
		m->lits[i] = NULL;
	}
	m->nlits = 0;
	m->pure = false;
}

int matcher_init(struct matcher *m, const char *pattern, bool icase, bool lines,
		 char *err, size_t errcap)
{
	int flags = REG_EXTENDED | (icase ? REG_ICASE : 0) | (lines ? REG_NEWLINE : 0);
	const char *bad;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!pattern) {
		snprintf(err, errcap, "no pattern");
		return REG_BADPAT;
	}
	if (!pattern[0]) {
		m->all = true;
		return 0;
	}
	/* check() vets patterns; this keeps any other way in from reaching
	 * either engine unvetted. */
	if ((bad = lineop_regex_vet(pattern)) != NULL) {
		snprintf(err, errcap, "refused: %s", bad);
		return REG_BADPAT;
	}
	rc = regcomp(&m->re, pattern, flags);
	if (rc) {
		regerror(rc, &m->re, err, errcap);
		return rc;
	}
	m->compiled = true;
	m->icase = icase;
	/* NULL when the pattern does not translate exactly: regexec() alone. */
	m->fast = ere_compile(pattern, (icase ? ERE_ICASE : 0) | (lines ? ERE_LINES : 0), NULL, 0);
	must_literals(m, pattern);
	return 0;
}

void matcher_free(struct matcher *m)
{
	if (m->compiled)
		regfree(&m->re);
	ere_free(m->fast);
	for (int i = 0; i < m->nlits; i++)
		free(m->lits[i]);
	free(m->low);
	buf_free(&m->z);
	memset(m, 0, sizeof(*m));
}

/* Is PCRE2 still asked? After MATCHER_UNSURE_MAX records it could not
 * decide, the pattern is one that backtracks badly: regexec() only. */
static bool fast_ok(const struct matcher *m)
{
	return m->fast && m->unsure < MATCHER_UNSURE_MAX;
}

/* The regex alone (no literal prefilter) on p[0..len). */
static bool regex_match(struct matcher *m, const char *p, size_t len)
{
	if (fast_ok(m)) {
		int r = ere_match(m->fast, p, len);

		if (r != ERE_UNSURE)
			return r == ERE_MATCH;
		m->unsure++;
	}
	return lineop_regexec(&m->re, p, 0, len, 0, NULL, &m->z) == 0;
}

bool matcher_match(struct matcher *m, const char *p, size_t len)
{
	if (m->all)
		return true;
	if (m->nlits && !m->icase) {
		int i;

		for (i = 0; i < m->nlits; i++)
			if (memmem(p, len, m->lits[i], m->litlen[i]))
				break;
		if (i == m->nlits)
			return false; /* no required literal: cannot match */
		if (m->pure)
			return true;
	}
	return regex_match(m, p, len);
}

int matcher_block(struct matcher *m, const char *base, const char *end)
{
	size_t len = (size_t)(end - base);

	m->base = base;
	/* PCRE2 scans the whole block faster than the literals find lines
	 * for it, except where no regex is needed at all. Decided once per
	 * block: the other paths need what is prepared here. */
	m->blk_fast = fast_ok(m) && !(m->nlits && m->pure);
	m->blk_lines = false;
	for (int i = 0; i < m->nlits; i++) {
		m->next[i] = NULL;
		m->gone[i] = false;
	}
	if (m->nlits && m->icase && !m->blk_fast) {
		if (m->lowcap < len) {
			char *p = realloc(m->low, len);

			if (!p)
				return -ENOMEM;
			m->low = p;
			m->lowcap = len;
		}
		lower_copy(m->low, base, len);
	}
	m->zbase = NULL;
	if (LJ_ASAN && !m->nlits && !m->all && !m->blk_fast) {
		if (zcopy(&m->z, base, len) < 0)
			return -ENOMEM;
		m->zbase = m->z.p;
	}
	return 0;
}

/* The earliest occurrence of any literal at or after `from`, or NULL. */
static const char *next_literal(struct matcher *m, const char *from, const char *end)
{
	const char *best = NULL;
	/* With icase the search runs in the lower-cased copy, same offsets. */
	const char *hay = m->icase ? m->low + (from - m->base) : from;

	for (int i = 0; i < m->nlits; i++) {
		if (m->gone[i])
			continue;
		if (!m->next[i] || m->next[i] < from) {
			const char *f = memmem(hay, (size_t)(end - from), m->lits[i], m->litlen[i]);

			if (!f) {
				m->gone[i] = true;
				continue;
			}
			m->next[i] = from + (f - hay);
		}
		if (!best || m->next[i] < best)
			best = m->next[i];
	}
	return best;
}

const char *matcher_next_line(struct matcher *m, const char *from, const char *end,
			      const char **nl)
{
	const char *base = m->base;

	while (from < end) {
		const char *ms, *me, *ls, *le;

		if (m->all) {
			ms = me = from;
		} else if (m->blk_fast && m->blk_lines) {
			le = memchr(from, '\n', (size_t)(end - from));
			if (!le)
				return NULL; /* blocks end in '\n': cannot happen */
			if (matcher_match(m, from, (size_t)(le - from))) {
				*nl = le;
				return from;
			}
			from = le + 1;
			continue;
		} else if (m->blk_fast) {
			size_t so, eo;
			int r = ere_search(m->fast, base, (size_t)(end - base), (size_t)(from - base),
					   &so, &eo);

			if (r == ERE_NOMATCH)
				return NULL;
			if (r == ERE_UNSURE) {
				/* PCRE2 does not say where it gave up: the rest of
				 * the block goes line by line (regexec() deciding
				 * what PCRE2 can't), in linear time. */
				m->unsure++;
				m->blk_lines = true;
				continue;
			}
			ms = base + so;
			me = base + eo;
		} else if (m->nlits) {
			/* Only lines holding a required literal can match. */
			ms = next_literal(m, from, end);
			if (!ms)
				return NULL;
			ls = ms > from ? memrchr(from, '\n', (size_t)(ms - from)) : NULL;
			ls = ls ? ls + 1 : from;
			le = memchr(ms, '\n', (size_t)(end - ms));
			if (!le)
				return NULL;
			if (m->pure) {
				*nl = le;
				return ls;
			}
			if (lineop_regexec(&m->re, ls, 0, (size_t)(le - ls), 0, NULL, &m->z) == 0) {
				*nl = le;
				return ls;
			}
			from = le + 1;
			continue;
		} else {
			regmatch_t pm = {.rm_so = from - base, .rm_eo = end - base};

			/* The whole block is the subject, so that ^ knows what
			 * precedes `from` (sanitizer builds: its copy). */
			if (regexec(&m->re, m->zbase ? m->zbase : base, 1, &pm, REG_STARTEND) != 0)
				return NULL;
			ms = base + pm.rm_so;
			me = base + pm.rm_eo;
		}
		/* The leftmost match starts in the first line that matches on
		 * its own (a match inside that line is a match in the block);
		 * a match after the last '\n' is past every line. */
		if (ms >= end)
			return NULL;
		ls = ms > from ? memrchr(from, '\n', (size_t)(ms - from)) : NULL;
		ls = ls ? ls + 1 : from;
		le = memchr(ms, '\n', (size_t)(end - ms));
		if (!le)
			return NULL; /* blocks end in '\n': cannot happen */
		/* A match running across a '\n' (a pattern with a newline or
		 * a [[:space:]]) says nothing about this line alone. */
		if (me > le && !matcher_match(m, ls, (size_t)(le - ls))) {
			from = le + 1;
			continue;
		}
		*nl = le;
		return ls;
	}
	return NULL;
}

/* ---- routing by a matcher ---- */

struct span {
	const char *p;
	size_t len;
};

/* Emit contiguous lines in one piece. */
static int span_add(struct node *n, struct span *s, int port, const char *p, size_t len)
{
	int rc;

	if (port < 0)
		return 0;
	if (s->len && s->p + s->len == p) {
		s->len += len;
		return 0;
	}
	if (s->len && (rc = lineop_emit(n, port, s->p, s->len)) < 0)
		return rc;
	s->p = p;
	s->len = len;
	return 0;
}

static int span_flush(struct node *n, struct span *s, int port)
{
	int rc = 0;

	if (port >= 0 && s->len)
		rc = lineop_emit(n, port, s->p, s->len);
	s->len = 0;
	return rc;
}

static int select_block(struct node *n, struct lineop_select *s, const char *p, size_t len)
{
	struct span sm = {0}, sr = {0};
	const char *cur = p, *end = p + len;
	int rc = 0;

	if (matcher_block(&s->m, p, end) < 0)
		return node_fail(n, "out of memory");
	while (cur < end && rc == 0) {
		const char *nl, *ls = matcher_next_line(&s->m, cur, end, &nl);

		if (!ls) {
			rc = span_add(n, &sr, s->port_rest, cur, (size_t)(end - cur));
			break;
		}
		if (ls > cur)
			rc = span_add(n, &sr, s->port_rest, cur, (size_t)(ls - cur));
		if (rc == 0)
			rc = span_add(n, &sm, s->port_match, ls, (size_t)(nl + 1 - ls));
		cur = nl + 1;
	}
	if (rc == 0)
		rc = span_flush(n, &sm, s->port_match);
	if (rc == 0)
		rc = span_flush(n, &sr, s->port_rest);
	return rc;
}

static int select_rec(struct node *n, const char *rec, size_t len, uint64_t recno)
{
	struct lineop_select *s = n->state; /* first member of the op's state */
	int port = matcher_match(&s->m, rec, len) ? s->port_match : s->port_rest;

	(void)recno;
	return port < 0 ? 0 : lineop_emit_line(n, port, rec, len);
}

int lineop_select_run(struct node *n, struct lineop_select *s)
{
	size_t bytes = 0;

	if (n->stopping)
		return NODE_DONE;
	if (n->nin != 1)
		return lineop_records(n, &s->recno, select_rec);
	while (bytes < NODE_BUDGET_BYTES) {
		const char *p;
		size_t len;
		int r = lineblk_next(n, 0, &s->blk, &p, &len);

		if (r == LINEBLK_NONE)
			return NODE_IDLE;
		if (r == LINEBLK_END)
			return NODE_DONE;
		if (r < 0)
			return r;
		if ((r = select_block(n, s, p, len)) < 0)
			return r;
		bytes += len;
	}
	return NODE_AGAIN;
}

void lineop_select_free(struct lineop_select *s)
{
	matcher_free(&s->m);
	lineblk_free(&s->blk);
}

/* glibc's regcomp() recurses once per nested group and expands every
 * bounded repetition, so an untrusted pattern can overflow the stack or
 * take gigabytes. And its epsilon closures explode where a repetition of
 * something that can match the empty string holds a counted repetition of
 * such a thing: (((){2,5}){4,}){3} or ((a|b*){100,200})+ compile for
 * minutes. Patterns are vetted before they reach it: at most
 * REGEX_MAX_DEPTH nested groups, no quantifier applied to a quantifier
 * (a++, a{2}{3}), nested repetitions whose copies multiply to at most
 * REGEX_MAX_REPEAT (a{n,m} is m copies of a, a{n,} n + 1 and a+ two, so
 * ((a|b)+|b)+... doubles with each level: 16 levels took 2 s, 31 hang;
 * REGEX_MAX_EMPTY_REPEAT for what can match empty,
 * whose compiled form grows with the square of the count; 4 for such a
 * thing holding an anchor or word assertion, whose cost doubles with each
 * copy), and no repeated
 * group that can match empty around a counted repetition of something that
 * can, nor a repeated group that can match empty and holds an anchor, a
 * repetition of such a thing and a group of more than
 * REGEX_MAX_ZW_EMPTY_ALTS alternatives that can match empty:
 * ((^(#|||...|^(.*))($.*))*)* with 43 empty ones took 16 s, growing with
 * their cube. Returns NULL or the reason. */
#define REGEX_MAX_LEN 8192
#define REGEX_MAX_DEPTH 32
#define REGEX_MAX_REPEAT 4096
#define REGEX_MAX_EMPTY_REPEAT 256   /* (a?){3255} took 1.4 GB and 1.6 s */
#define REGEX_MAX_ZW_REPEAT 4        /* ((\b)+){12}: minutes; (\b){40}: 1 GB */
#define REGEX_MAX_ZW_EMPTY_ALTS 4

static const char *bracket_end(const char *p)
{
	/* p is just past '['; a leading '^' and a leading ']' are literal */
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char close = p[1];
			const char *q = strchr(p + 2, close);

			p = q && q[1] == ']' ? q + 2 : p + 1;
			continue;
		}
		p++;
	}
	return *p ? p + 1 : p;
}

/* What the vetting knows of an open group, and of the atom just read. */
struct vet_level {
	uint64_t mult;     /* largest repetition product inside */
	bool seq_empty;    /* the current alternative can match empty so far */
	bool alt_empty;    /* an earlier alternative can */
	bool counted;      /* holds a counted repetition of something that can match empty */
	bool seq_empty_before; /* seq_empty before the atom just read (for ? * {0,}) */
	bool zw;           /* holds an anchor or a word assertion */
	bool zw_rep;       /* holds a repetition of something that can match empty and does */
	int empty_alts;    /* alternatives so far that can match empty */
	int most_empty_alts; /* the most any group inside has, this one included */
};

const char *lineop_regex_vet(const char *pat)
{
	struct vet_level lv[REGEX_MAX_DEPTH + 2];
	uint64_t last = 1;   /* product of the atom just read */
	bool last_empty = false, last_counted = false, last_zw = false, last_zw_rep = false;
	int last_empty_alts = 0;
	int depth = 0;
	bool quantified = false, atom = false;

	if (strlen(pat) > REGEX_MAX_LEN)
		return "longer than 8192 bytes";
	lv[0] = (struct vet_level){.mult = 1, .seq_empty = true};
	for (const char *p = pat; *p;) {
		char c = *p;

		if (c == '*' || c == '+' || c == '?' || (c == '{' && atom)) {
			uint64_t count = 1;
			bool counted = c == '{', may_skip = c != '+';

			if (quantified)
				return "a quantifier applied to a quantifier";
			if (last_empty && last_counted)
				return "a repeated group that can match the empty string holds a "
				       "counted repetition of something that can, e.g. ((a?){2,5})*: "
				       "the POSIX engine would take minutes to compile it";
			if (last_empty && last_zw && last_zw_rep &&
			    last_empty_alts > REGEX_MAX_ZW_EMPTY_ALTS)
				return "a repetition of a group that can match the empty string, "
				       "holds an anchor or word assertion and a repetition of such a "
				       "thing, with more than 4 alternatives that can match empty, "
				       "e.g. ((^(a?|b?|c?|d?|e?)$)*)*: the POSIX engine would take "
				       "minutes to compile it";
			if (c == '{') {
				char *end;
				unsigned long lo = strtoul(p + 1, &end, 10), hi = lo;

				if (*end == ',')
					hi = end[1] == '}' ? lo : strtoul(end + 1, &end, 10);
				if (*end == ',')
					end++;
				/* X{n,} is n copies of X and X*: n + 1 */
				count = hi > lo ? hi : end[-1] == ',' ? lo + 1 : lo;
				may_skip = lo == 0;
				p = strchr(p, '}') ? strchr(p, '}') + 1 : p + 1;
			} else {
				/* X+ is X X*: two copies, so nested ones double */
				count = c == '+' ? 2 : 1;
				p++;
			}
			if (count > 1 && last * count > REGEX_MAX_REPEAT)
				return "repetitions nested too deeply or too large (a+ and a{n,} "
				       "copy a, so each level multiplies the compiled size)";
			if (count > 1 && last_empty && last * count > REGEX_MAX_EMPTY_REPEAT)
				return "a counted repetition of something that can match the "
				       "empty string, more than 256 times: the POSIX engine "
				       "would need gigabytes to compile it";
			if (count > 1 && last_empty && last_zw && last * count > REGEX_MAX_ZW_REPEAT)
				return "a counted repetition, more than 4 times, of something "
				       "that can match the empty string and holds an anchor or "
				       "word assertion, e.g. (\\b){12}: the POSIX engine "
				       "would take minutes to compile it";
			last *= count ? count : 1;
			if (last > lv[depth].mult)
				lv[depth].mult = last;
			/* The quantified atom replaces the plain one in the sequence. */
			if (counted && last_empty)
				lv[depth].counted = true;
			if (last_empty && last_zw)
				lv[depth].zw_rep = true;
			if (may_skip && !last_empty)
				lv[depth].seq_empty = lv[depth].seq_empty_before;
			quantified = true;
			continue;
		}
		quantified = false;
		if (c == '(') {
			if (++depth > REGEX_MAX_DEPTH)
				return "groups nested more than 32 deep";
			lv[depth] = (struct vet_level){.mult = 1, .seq_empty = true};
			atom = last_empty = last_counted = last_zw = last_zw_rep = false;
			p++;
			continue;
		}
		if (c == ')' && depth > 0) {
			struct vet_level *in = &lv[depth--];

			last = in->mult;
			last_empty = in->seq_empty || in->alt_empty;
			last_counted = in->counted;
			last_zw = in->zw;
			last_zw_rep = in->zw_rep;
			in->empty_alts += in->seq_empty;
			if (in->empty_alts > in->most_empty_alts)
				in->most_empty_alts = in->empty_alts;
			last_empty_alts = in->most_empty_alts;
			if (last_empty_alts > lv[depth].most_empty_alts)
				lv[depth].most_empty_alts = last_empty_alts;
			lv[depth].zw |= in->zw;
			lv[depth].zw_rep |= in->zw_rep;
			if (last > lv[depth].mult)
				lv[depth].mult = last;
			lv[depth].counted |= in->counted;
			lv[depth].seq_empty_before = lv[depth].seq_empty;
			lv[depth].seq_empty = lv[depth].seq_empty && last_empty;
			atom = true;
			p++;
			continue;
		}
		if (c == '|') {
			lv[depth].alt_empty |= lv[depth].seq_empty;
			lv[depth].empty_alts += lv[depth].seq_empty;
			lv[depth].seq_empty = true;
			atom = last_empty = last_counted = last_zw = last_zw_rep = false;
			last = 1;
			p++;
			continue;
		}
		last_counted = last_zw_rep = false;
		/* Anchors and word assertions match empty; a back-reference may. */
		last_zw = c == '^' || c == '$' || (c == '\\' && p[1] && strchr("<>bB`'", p[1]));
		last_empty = last_zw || (c == '\\' && p[1] >= '1' && p[1] <= '9');
		lv[depth].zw |= last_zw;
		lv[depth].seq_empty_before = lv[depth].seq_empty;
		lv[depth].seq_empty = lv[depth].seq_empty && last_empty;
		if (c == '[') {
			p = bracket_end(p + 1);
		} else if (c == '\\' && p[1]) {
			p += 2;
		} else {
			p++;
		}
		atom = c != '^' && c != '$';
		last = 1;
	}
	return NULL;
}

int lineop_check_regex(json_t *params, const char *name, bool icase, const char *path,
		       struct errs *errs)
{
	const char *pat = param_str(params, name);
	const char *bad;
	regex_t re;
	char msg[256];
	int rc, ngroups;

	if (!pat || param_unexpanded(pat))
		return -1;
	if ((bad = lineop_regex_vet(pat)) != NULL) {
		errs_add(errs, "%s.%s: regular expression refused: %s", path, name, bad);
		return -1;
	}
	rc = regcomp(&re, pat, REG_EXTENDED | (icase ? REG_ICASE : 0));
	if (rc) {
		regerror(rc, &re, msg, sizeof(msg));
		errs_add(errs, "%s.%s: invalid regular expression: %s", path, name, msg);
		return -1;
	}
	ngroups = (int)re.re_nsub;
	regfree(&re);
	return ngroups;
}

/* ---- JSON records ---- */

int lineop_json(struct node *n, const char *rec, size_t len, uint64_t recno, json_t **out)
{
	json_error_t err;
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr(" \t\r\f\v", rec[i]))
			break;
	if (i == len)
		return 0;
	*out = json_loadb(rec, len, JSON_DECODE_ANY, &err);
	if (!*out)
		return node_fail(n, "record %" PRIu64 ": not JSON: %s", recno, err.text);
	return 1;
}

/* Reals are written with the fewest digits that read back the same value
 * (0.1, not 0.10000000000000001): 15 digits, else 16, else 17. */
static size_t real_precision(const json_t *v)
{
	size_t i;
	const char *k;
	json_t *x;
	size_t best = 15;

	if (json_is_real(v)) {
		double d = json_real_value(v);
		char tmp[40];

		for (best = 15; best < 17; best++) {
			snprintf(tmp, sizeof(tmp), "%.*g", (int)best, d);
			if (strtod(tmp, NULL) == d)
				break;
		}
		return best;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			size_t p = real_precision(x);
			best = p > best ? p : best;
		}
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x) {
			size_t p = real_precision(x);
			best = p > best ? p : best;
		}
	}
	return best;
}

int lineop_dump(struct buf *b, const json_t *v)
{
	const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY |
			     JSON_REAL_PRECISION(real_precision(v));
	size_t need;

	for (;;) {
		size_t room = b->cap - b->len;

		need = json_dumpb(v, b->p ? b->p + b->len : NULL, room, flags);
		if (need == 0)
			return v ? 0 : -EINVAL; /* jansson writes nothing only for errors */
		if (need <= room) {
			b->len += need;
			return 0;
		}
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len < need)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
}

int lineop_emit_json(struct node *n, int port, const json_t *v, struct buf *b)
{
	b->len = 0;
	if (lineop_dump(b, v) < 0)
		return node_fail(n, "out of memory");
	return lineop_emit_line(n, port, b->p, b->len);
}

json_t *lineop_field(json_t *obj, const char *path)
{
	json_t *v = json_object_get(obj, path);
	const char *p = path;

	if (v || !strchr(path, '.'))
		return v;
	v = obj;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (json_is_object(v)) {
			v = json_object_getn(v, p, len);
		} else if (json_is_array(v) && len > 0 && len < 10 &&
			   strspn(p, "0123456789") >= len) {
			v = json_array_get(v, strtoul(p, NULL, 10));
		} else {
			return NULL;
		}
		if (!v || !dot)
			return v;
		p = dot + 1;
	}
}

/* ---- params ---- */

const char *param_str(json_t *params, const char *name)
{
	return json_string_value(json_object_get(params, name));
}

bool param_bool(json_t *params, const char *name, bool dflt)
{
	json_t *v = json_object_get(params, name);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

long long param_int(json_t *params, const char *name, long long dflt)
{
	json_t *v = json_object_get(params, name);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

bool param_unexpanded(const char *s)
{
	const char *p = s ? strstr(s, "${") : NULL;

	return p && strchr(p, '}');
}
