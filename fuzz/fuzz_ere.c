/* fuzz_ere.c - libFuzzer target for the ERE to PCRE2 translation
 * (engine/ere.c) and the matcher that runs it (engine/ops/lineop.c): every
 * answer PCRE2 gives must be glibc's regexec() answer, for single records
 * and for a block of records scanned by the matcher.
 *
 * Input: byte 0 holds flags (bit 0: ignore_case, bit 1: records are lines,
 * as grep and split see them; otherwise one subject, as filter's `matches`
 * sees a field); then the pattern, up to the first NUL byte; then the
 * subject bytes, cut at each '\n' into records when bit 1 is set. Patterns
 * that lineop_regex_vet() or regcomp() refuse are skipped, as a spec check
 * would refuse them. */
#include <regex.h>

#include "ere.h"
#include "fuzz_common.h"
#include "ops/lineop.h"

#define MAX_RECORDS 64

static bool truth(const regex_t *re, const char *s, size_t len, struct buf *z)
{
	return lineop_regexec(re, s, 0, len, 0, NULL, z) == 0;
}

/* The matcher's block scan finds exactly the records glibc matches. */
static void check_block(const char *pat, bool icase, const char *subj, size_t len,
			const bool *want, int nrec)
{
	struct matcher m;
	char err[256], *block = malloc(len + 1);
	const char *cur, *end, *nl, *ls;
	int line = 0;

	FUZZ_CHECK(block != NULL, "out of memory");
	memcpy(block, subj, len);
	block[len] = '\n'; /* blocks end in '\n' */
	FUZZ_CHECK(matcher_init(&m, pat, icase, true, err, sizeof(err)) == 0, "matcher_init: %s",
		   err);
	cur = block;
	end = block + len + 1;
	FUZZ_CHECK(matcher_block(&m, cur, end) == 0, "matcher_block");
	while (cur < end && (ls = matcher_next_line(&m, cur, end, &nl)) != NULL) {
		/* the lines from cur up to ls do not match, ls does */
		for (; cur < ls; line++) {
			FUZZ_CHECK(!want[line], "\"%s\": the block scan missed record %d", pat, line);
			cur = memchr(cur, '\n', (size_t)(end - cur)) + 1;
		}
		FUZZ_CHECK(line < nrec && want[line], "\"%s\": the block scan took record %d", pat,
			   line);
		line++;
		cur = nl + 1;
	}
	for (; line < nrec; line++)
		FUZZ_CHECK(!want[line], "\"%s\": the block scan missed record %d", pat, line);
	matcher_free(&m);
	free(block);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool icase, lines, want[MAX_RECORDS];
	const uint8_t *sep;
	const char *subj, *p;
	size_t slen;
	char *pat;
	regex_t re;
	struct ere *e;
	struct buf z = {0};
	int flags, nrec = 0;

	if (size < 1)
		return 0;
	icase = data[0] & 1;
	lines = data[0] & 2;
	flags = (icase ? ERE_ICASE : 0) | (lines ? ERE_LINES : 0);
	sep = memchr(data + 1, 0, size - 1);
	if (!sep)
		return 0;
	pat = fuzz_strndup(data + 1, (size_t)(sep - (data + 1)));
	subj = (const char *)sep + 1;
	slen = size - (size_t)(sep + 1 - data);
	if (!pat[0] || lineop_regex_vet(pat) ||
	    regcomp(&re, pat, REG_EXTENDED | (icase ? REG_ICASE : 0) | (lines ? REG_NEWLINE : 0))) {
		free(pat);
		return 0;
	}
	e = ere_compile(pat, flags, NULL, 0);
	if (e) {
		for (p = subj; nrec < MAX_RECORDS; nrec++) {
			const char *nl = lines ? memchr(p, '\n', (size_t)(subj + slen - p)) : NULL;
			size_t len = nl ? (size_t)(nl - p) : (size_t)(subj + slen - p);
			int got = ere_match(e, p, len);

			want[nrec] = truth(&re, p, len, &z);
			FUZZ_CHECK(got == ERE_UNSURE || got == want[nrec],
				   "\"%s\" (flags %d), record %d: regexec %d, PCRE2 %d", pat, flags,
				   nrec, want[nrec], got);
			if (!nl)
				break;
			p = nl + 1;
		}
		if (lines && nrec < MAX_RECORDS)
			check_block(pat, icase, subj, slen, want, nrec + 1);
		ere_free(e);
	}
	buf_free(&z);
	regfree(&re);
	free(pat);
	return 0;
}
