/*
 * bench/holdopen.c - the "idle" figure of `make bench`.
 *
 *   holdopen MNT PREFIX N
 *
 * Makes N jobs MNT/PREFIX0 .. PREFIX(N-1) (input x as lines -> pass p ->
 * output y), opens each one's input/x for writing and keeps all N
 * descriptors open, so that the N jobs stay running, waiting for input.
 * Raises its own RLIMIT_NOFILE as far as needed. Prints "ready N" on stdout
 * when all are open, then waits for SIGTERM or SIGINT; exiting closes the
 * inputs, which ends the jobs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const char SPEC[] =
	"{\"inputs\": {\"x\": {\"format\": \"lines\"}},\n"
	" \"outputs\": {\"y\": {\"from\": \"p\"}},\n"
	" \"nodes\": {\"p\": {\"op\": \"pass\", \"in\": \"x\"}}}\n";

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: holdopen MNT PREFIX N\n");
		return 2;
	}
	long n = strtol(argv[3], NULL, 10);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			fprintf(stderr, "holdopen: setrlimit(NOFILE, %ld): %s\n", n + 64, strerror(errno));
			return 1;
		}
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	char dir[4096], path[4200];
	for (long i = 0; i < n; i++) {
		snprintf(dir, sizeof dir, "%s/%s%ld", argv[1], argv[2], i);
		if (mkdir(dir, 0755) != 0) {
			fprintf(stderr, "holdopen: mkdir %s: %s\n", dir, strerror(errno));
			return 1;
		}
		snprintf(path, sizeof path, "%s/spec.json", dir);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, SPEC, sizeof SPEC - 1) != (ssize_t)(sizeof SPEC - 1) ||
		    close(fd) != 0) {
			fprintf(stderr, "holdopen: writing %s: %s\n", path, strerror(errno));
			return 1;
		}
		snprintf(path, sizeof path, "%s/input/x", dir);
		if (open(path, O_WRONLY) < 0) { /* kept open on purpose */
			fprintf(stderr, "holdopen: open %s (job %ld): %s\n", path, i, strerror(errno));
			return 1;
		}
	}
	printf("ready %ld\n", n);
	fflush(stdout);
	int sig;
	sigwait(&set, &sig);
	return 0;
}
