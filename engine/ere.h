/* ere.h - POSIX extended regular expressions (as glibc's regcomp() reads
 * them, C locale, bytes) matched by PCRE2 with JIT, for the operators that
 * only ask whether a record matches (grep, split, filter's `matches`).
 *
 * A pattern is translated into PCRE2 syntax only when the translation
 * matches exactly the same subjects; otherwise ere_compile() says why and
 * the caller keeps regcomp()/regexec() (see the top of ere.c). Not named
 * regex.h: -Iengine would hide the system's <regex.h>. */
#ifndef LJ_ERE_H
#define LJ_ERE_H

#include <stddef.h>

#include "util.h"

/* Flags, as the regcomp() flags they stand for. */
#define ERE_ICASE 1 /* REG_ICASE: PCRE2_CASELESS */
#define ERE_LINES 2 /* REG_NEWLINE: subjects are records, or blocks of '\n'-ended records */

/* Results of a match. ERE_UNSURE: PCRE2 gave up (its match limit, JIT
 * stack or memory): the answer must come from regexec(). */
enum { ERE_UNSURE = -1, ERE_NOMATCH = 0, ERE_MATCH = 1 };

struct ere;

/* Translate `pat`, a pattern regcomp(REG_EXTENDED | flags) accepts, into a
 * PCRE2 pattern appended to out (for PCRE2_MULTILINE with ERE_LINES,
 * PCRE2_CASELESS with ERE_ICASE). NULL, or why the translation would not
 * be exact ("a back-reference", ...); -ENOMEM reads as "out of memory". */
const char *ere_translate(const char *pat, int flags, struct buf *out);

/* Translate and compile `pat` (see ere_translate). NULL when the pattern
 * stays with regexec(): the reason goes to why[0..whycap) when why is not
 * NULL. */
struct ere *ere_compile(const char *pat, int flags, char *why, size_t whycap);
void ere_free(struct ere *e);

/* Does e match somewhere in s[0..len)? */
int ere_match(struct ere *e, const char *s, size_t len);

/* The leftmost match in s[0..len) that starts at or after `from` (a match
 * may look at the bytes before `from`: ^, \b). ERE_MATCH with its span in
 * *so, *eo, ERE_NOMATCH or ERE_UNSURE. */
int ere_search(struct ere *e, const char *s, size_t len, size_t from, size_t *so,
	       size_t *eo);

#endif
