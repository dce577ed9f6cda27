/* fuzz_ctl.c - libFuzzer target for ctl_parse() (engine/ctl.c), the parser
 * of the lines written to a job's ctl file.
 *
 * Input: one line (any bytes, not NUL-terminated: the parser must keep to
 * len). Checks: 0 or -EINVAL; "end TAG" gives a valid name; a refusal's
 * reason is one printable line that fits its buffer, also a tiny one. */
#include <errno.h>

#include "ctl.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_cmd cmd, cmd2;
	char why[256], tiny[4];
	int rc, rc2;

	/* a copy of exactly size bytes, so that ASan sees any read past len */
	char *line = malloc(size ? size : 1);

	if (!line)
		abort();
	memcpy(line, data, size);
	memset(why, 'x', sizeof(why));
	rc = ctl_parse(line, size, &cmd, why, sizeof(why));
	FUZZ_CHECK(rc == 0 || rc == -EINVAL, "ctl_parse returned %d", rc);
	if (rc == 0) {
		FUZZ_CHECK(cmd.verb >= CTL_NONE && cmd.verb <= CTL_RESTART, "verb %d", cmd.verb);
		if (cmd.verb == CTL_END)
			FUZZ_CHECK(name_ok(cmd.tag), "end with a bad tag \"%.300s\"", cmd.tag);
	} else {
		FUZZ_CHECK(memchr(why, 0, sizeof(why)) != NULL, "reason not NUL-terminated");
		fuzz_check_line(why, "ctl_parse");
	}
	rc2 = ctl_parse(line, size, &cmd2, tiny, sizeof(tiny));
	FUZZ_CHECK(rc2 == rc, "ctl_parse depends on the size of its buffer");
	if (rc2 < 0)
		FUZZ_CHECK(strlen(tiny) < sizeof(tiny), "reason overflowed a tiny buffer");
	free(line);
	return 0;
}
