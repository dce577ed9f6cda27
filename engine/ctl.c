/* ctl.c - parser of ctl command lines (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Shows a bad word safely in a message: printable ASCII, cut at 64 bytes. */
static void show(const char *p, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < cap && i < 64; i++)
		out[o++] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	if (len > 64 && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

int ctl_parse(const char *line, size_t len, struct ctl_cmd *out, char *why, size_t cap)
{
	const char *word, *arg;
	size_t wlen, alen;
	char shown[80];

	memset(out, 0, sizeof(*out));
	while (len && is_blank(line[len - 1]))
		len--;
	while (len && is_blank(*line)) {
		line++;
		len--;
	}
	if (len == 0)
		return 0;
	word = line;
	for (wlen = 0; wlen < len && !is_blank(word[wlen]); wlen++)
		;
	arg = word + wlen;
	alen = len - wlen;
	while (alen && is_blank(*arg)) {
		arg++;
		alen--;
	}
	if (wlen == 6 && memcmp(word, "cancel", 6) == 0 && alen == 0) {
		out->verb = CTL_CANCEL;
		return 0;
	}
	if (wlen == 7 && memcmp(word, "restart", 7) == 0 && alen == 0) {
		out->verb = CTL_RESTART;
		return 0;
	}
	if (wlen == 3 && memcmp(word, "end", 3) == 0) {
		if (!name_okn(arg, alen)) {
			show(arg, alen, shown, sizeof(shown));
			snprintf(why, cap, "end: \"%s\" is not an input tag", shown);
			return -EINVAL;
		}
		memcpy(out->tag, arg, alen);
		out->tag[alen] = '\0';
		out->verb = CTL_END;
		return 0;
	}
	show(line, len, shown, sizeof(shown));
	snprintf(why, cap, "unknown command \"%s\" (commands: cancel, end TAG, restart)", shown);
	return -EINVAL;
}
