/* lineop.h - what the line and JSON operators share, so that each operator's
 * own file is only its params, its per-record step and its documentation:
 *
 *  - lineop_records(): the generic per-record loop (node_next_line, budget,
 *    record numbers, stopping);
 *  - lineop_raw(): moves raw input bytes in large chunks through an optional
 *    in-place byte map (pass, upper, lower);
 *  - struct lineblk: reads one input in blocks of complete lines, so a
 *    matcher can scan many records per call (grep, split);
 *  - struct matcher: a POSIX ERE (or a plain literal, searched with memmem)
 *    that tests one record or finds the next matching line in a block, run
 *    by PCRE2's JIT when it translates exactly (ere.h), else by regexec();
 *  - JSON helpers: parse a record, dump compactly, look up "a.b" fields;
 *  - param helpers for start() and check(). */
#ifndef LJ_LINEOP_H
#define LJ_LINEOP_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "node.h"
#include "util.h"

struct ere;

/* ---- the per-record loop ---- */

/* Called for each record (without its '\n'); recno counts from 1 over all
 * inputs. Returns 0 to go on, NODE_DONE to finish early (head), or a
 * negative value after node_fail(). */
typedef int (*lineop_fn)(struct node *n, const char *rec, size_t len, uint64_t recno);

/* Runs fn over the available records of every input (arrival order) up to
 * the budget. Returns a run() value: NODE_IDLE, NODE_AGAIN, NODE_DONE (all
 * inputs drained, or fn said so, or the node is stopping) or fn's error. */
int lineop_records(struct node *n, uint64_t *recno, lineop_fn fn);

/* Emit a record, turning an emit error into node_fail(). 0 or <0. */
int lineop_emit_line(struct node *n, int port, const void *rec, size_t len);
int lineop_emit(struct node *n, int port, const void *data, size_t len);

/* ---- raw chunks of a single input ---- */

#define LINEOP_CHUNK (256u << 10)

struct lineop_raw {
	uint64_t recno;           /* for the record path (several inputs) */
	bool open;                /* last byte emitted was not '\n' */
	char buf[LINEOP_CHUNK];   /* resident: no allocation per activation */
};

/* Copy input 0 to port 0 in chunks, applying map (may be NULL) in place.
 * With `terminate`, a last line without '\n' gets one (record semantics),
 * otherwise the bytes are copied exactly. Returns a run() value. */
int lineop_raw(struct node *n, struct lineop_raw *r, void (*map)(char *p, size_t len),
	       bool terminate);

/* ---- blocks of complete lines from one input ---- */

struct lineblk {
	char *buf;
	size_t cap, len;
	size_t blk;  /* length of the block handed out last (dropped on the next call) */
	bool done;   /* the final block has been handed out */
};

enum { LINEBLK_NONE = 0, LINEBLK_BLOCK = 1, LINEBLK_END = 2 };

/* Next block of complete lines of input `in`, every line ending in '\n'
 * (at the end of the input a last partial line gets one). The block stays
 * valid until the next call. Returns LINEBLK_BLOCK, LINEBLK_NONE (nothing
 * complete yet), LINEBLK_END (drained) or <0 after node_fail(). */
int lineblk_next(struct node *n, int in, struct lineblk *b, const char **p, size_t *len);
void lineblk_free(struct lineblk *b);

/* ---- matching records against a pattern ---- */

#define MATCHER_LITS 16
/* PCRE2 answers this many records "unsure" (its match limit) before the
 * matcher leaves the pattern to regexec() alone. */
#define MATCHER_UNSURE_MAX 64

/* Besides the regex, up to MATCHER_LITS literals, one per top-level branch
 * of the pattern, one of which every match must contain (as GNU grep does):
 * lines without any are skipped with memmem, without running the regex.
 * When the pattern is nothing but "lit|lit|...", a literal is a match.
 * The regex runs on PCRE2 (fast) when ere_compile() takes it; regexec()
 * decides what PCRE2 leaves unsure, and every pattern fast does not take. */
struct matcher {
	regex_t re;
	bool compiled;   /* re is valid */
	struct ere *fast;  /* or NULL: regexec() only */
	unsigned unsure; /* answers fast left to regexec() */
	bool blk_fast;   /* the current block is scanned by fast */
	bool blk_lines;  /* ... line by line, since fast was unsure in it */
	bool all;        /* empty pattern: everything matches */
	bool icase;
	bool pure;       /* pattern = lits[0]|lits[1]|...: no regex needed */
	int nlits;       /* 0: no prefilter */
	char *lits[MATCHER_LITS];   /* lower-cased when icase */
	size_t litlen[MATCHER_LITS];
	/* Scan state of the current block (matcher_block). */
	const char *base;
	const char *next[MATCHER_LITS]; /* next occurrence in the block, or NULL */
	bool gone[MATCHER_LITS];        /* no more occurrences in the block */
	char *low;       /* icase: lower-cased copy of the block */
	size_t lowcap;
	struct buf z;    /* sanitizer builds: NUL-terminated copy (see lineop_regexec) */
	const char *zbase; /* sanitizer builds: the block's copy in z */
};

/* Compile pattern (POSIX ERE). `lines`: the subject is a record or a block
 * of records (REG_NEWLINE); otherwise any string. 0, or the regcomp error
 * code with its text in err. */
int matcher_init(struct matcher *m, const char *pattern, bool icase, bool lines,
		 char *err, size_t errcap);
void matcher_free(struct matcher *m);
/* Does the pattern match somewhere in p[0..len)? */
bool matcher_match(struct matcher *m, const char *p, size_t len);
/* Start scanning a block of '\n'-terminated lines [base, end). 0 or -ENOMEM. */
int matcher_block(struct matcher *m, const char *base, const char *end);
/* In the current block, find the first line at or after `from` (a line
 * start) that matches on its own. Returns its start and sets *nl to its
 * '\n', or NULL if none. */
const char *matcher_next_line(struct matcher *m, const char *from, const char *end,
			      const char **nl);

/* A node that routes each record to one of two ports by a matcher (grep,
 * split). Port -1 discards. */
struct lineop_select {
	struct matcher m;
	int port_match, port_rest;
	struct lineblk blk;
	uint64_t recno;
};

int lineop_select_run(struct node *n, struct lineop_select *s);
void lineop_select_free(struct lineop_select *s);

/* regexec() of s[so..eo) with REG_STARTEND (offsets relative to s, which
 * need not be NUL-terminated). Under AddressSanitizer, whose regexec
 * interceptor ignores REG_STARTEND and reads up to a NUL, s[0..eo) is first
 * copied into z with a NUL after it; otherwise z is unused. z NULL: s is
 * already NUL-terminated (see lineop_subject). */
int lineop_regexec(const regex_t *re, const char *s, size_t so, size_t eo, size_t nmatch,
		   regmatch_t *pm, struct buf *z);
/* s itself, or under AddressSanitizer a NUL-terminated copy of s[0..len)
 * in z (NULL when out of memory): for many regexec calls on one subject. */
const char *lineop_subject(const char *s, size_t len, struct buf *z);

/* Check a regular expression param of a node for check(): adds
 * "PATH.NAME: invalid regular expression: ..." to errs. Strings still
 * holding a ${...} reference (registered specs) are not checked. Returns
 * the number of groups, or -1 when it does not compile or is not checked. */
/* Why an untrusted pattern must not reach regcomp(), or NULL (lineop.c). */
const char *lineop_regex_vet(const char *pat);
int lineop_check_regex(json_t *params, const char *name, bool icase, const char *path,
		       struct errs *errs);

/* ---- JSON records ---- */

/* Parse a record: 1 and *out (a new reference), 0 for a blank record
 * (skipped by JSON operators), or <0 after node_fail("record N: not JSON:
 * ..."). */
int lineop_json(struct node *n, const char *rec, size_t len, uint64_t recno, json_t **out);
/* Append v as compact JSON to b. 0 or -ENOMEM. */
int lineop_dump(struct buf *b, const json_t *v);
/* Emit v as one compact JSON record through b (reused scratch). 0 or <0. */
int lineop_emit_json(struct node *n, int port, const json_t *v, struct buf *b);
/* The field `path` of object obj: the key itself if present, else the
 * dotted path "a.b.0" (objects by key, arrays by index). NULL if absent. */
json_t *lineop_field(json_t *obj, const char *path);

/* ---- params ---- */

const char *param_str(json_t *params, const char *name);   /* NULL if absent */
bool param_bool(json_t *params, const char *name, bool dflt);
long long param_int(json_t *params, const char *name, long long dflt);
/* Is s holding an unexpanded ${...} reference (registered spec check)? */
bool param_unexpanded(const char *s);


/* Flip the case of the ASCII letters from `first` to first+25 ('a' for
 * upper, 'A' for lower), eight bytes at a time: in each 64-bit word the
 * bytes in range get bit 0x20 flipped, all others (and every byte >= 0x80)
 * stay. */
static inline void lineop_ascii_case(char *p, size_t len, unsigned char first)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w, low7, ge, gt;

		memcpy(&w, p + i, 8);
		low7 = w & ~high;
		ge = low7 + (uint64_t)(0x80 - first) * ones;
		gt = low7 + (uint64_t)(0x80 - first - 26) * ones;
		w ^= ((ge & ~gt & ~w & high) >> 2);
		memcpy(p + i, &w, 8);
	}
	for (; i < len; i++)
		if ((unsigned)((unsigned char)p[i] - first) < 26u)
			p[i] ^= 0x20;
}

#endif
