/* ctl.h - the text control language of a job's `ctl` file: one command per
 * line, `cancel`, `end TAG` or `restart`. Parsing is kept apart from acting
 * (job.c) so that it can be tested and fuzzed on its own. */
#ifndef LJ_CTL_H
#define LJ_CTL_H

#include <stddef.h>

enum ctl_verb { CTL_NONE, CTL_CANCEL, CTL_END, CTL_RESTART };

struct ctl_cmd {
	enum ctl_verb verb;   /* CTL_NONE for a blank line */
	char tag[256];        /* CTL_END: the input tag */
};

/* Parse one line (a trailing "\n" or "\r\n" and surrounding blanks are
 * ignored). 0 on success; -EINVAL with a reason in why on error. */
int ctl_parse(const char *line, size_t len, struct ctl_cmd *out, char *why, size_t cap);

#endif
