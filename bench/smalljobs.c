/*
 * bench/smalljobs.c - the "small jobs" figure of `make bench`.
 *
 *   smalljobs lj MNT N [keep [PREFIX]]
 *       N jobs one after another on the livejobfs mounted at MNT, each with
 *       plain syscalls: mkdir MNT/PREFIXi, write spec.json (input x as lines
 *       -> upper u -> output y), write one line into input/x, read
 *       output/y until EOF, check it, then rmdir the job (rmdir of a job
 *       directory cancels and deletes it, files and all). With `keep` the
 *       jobs are left in place (the "scale" figure makes its 10,000 finished
 *       jobs this way). PREFIX defaults to "s".
 *
 *   smalljobs base N
 *       the baseline: N times fork + exec of `tr a-z A-Z` with its stdin and
 *       stdout on pipes, one line in, the line read back until EOF, waitpid.
 *
 *   smalljobs rt MNT N
 *       the cost of one FUSE round trip on this machine: N stat() calls of
 *       MNT/.env (attributes are never cached, so each one is a GETATTR
 *       request and its reply). A job above needs 17 requests that its
 *       caller waits for (counted with livejobfs -d; bench/README.md).
 *
 * Prints a human line on stderr and one machine line on stdout:
 *   RESULT jobs=N secs=S rate=R
 * Exits 1 with the step, the job and errno on the first failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char SPEC[] =
	"{\"inputs\": {\"x\": {\"format\": \"lines\"}},\n"
	" \"outputs\": {\"y\": {\"from\": \"u\"}},\n"
	" \"nodes\": {\"u\": {\"op\": \"upper\", \"in\": \"x\"}}}\n";
static const char LINE[] = "hello small job\n";
static const char WANT[] = "HELLO SMALL JOB\n";

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "smalljobs: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void write_all(int fd, const char *buf, size_t len, const char *path)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write", path);
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void write_file(const char *path, int flags, const char *text)
{
	int fd = open(path, flags, 0644);
	if (fd < 0)
		die("open", path);
	write_all(fd, text, strlen(text), path);
	if (close(fd) != 0)
		die("close", path);
}

/* reads fd until EOF into buf (at most cap-1 bytes kept); returns length */
static size_t read_all(int fd, char *buf, size_t cap, const char *path)
{
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read", path);
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got >= cap - 1) {
			errno = EFBIG;
			die("read (too much output)", path);
		}
	}
	buf[got] = '\0';
	return got;
}

static int run_lj(const char *mnt, long n, int keep, const char *prefix)
{
	char dir[4096], spec[4200], in[4200], out[4200], buf[256];

	for (long i = 0; i < n; i++) {
		snprintf(dir, sizeof dir, "%s/%s%ld", mnt, prefix, i);
		snprintf(spec, sizeof spec, "%s/spec.json", dir);
		snprintf(in, sizeof in, "%s/input/x", dir);
		snprintf(out, sizeof out, "%s/output/y", dir);

		if (mkdir(dir, 0755) != 0)
			die("mkdir", dir);
		write_file(spec, O_WRONLY | O_CREAT | O_TRUNC, SPEC);
		write_file(in, O_WRONLY, LINE);
		int fd = open(out, O_RDONLY);
		if (fd < 0)
			die("open", out);
		read_all(fd, buf, sizeof buf, out);
		if (close(fd) != 0)
			die("close", out);
		if (strcmp(buf, WANT) != 0) {
			fprintf(stderr, "smalljobs: %s: got \"%s\", want \"%s\"\n", out, buf, WANT);
			return 1;
		}
		if (!keep && rmdir(dir) != 0)
			die("rmdir", dir);
	}
	return 0;
}

static int run_rt(const char *mnt, long n)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof path, "%s/.env", mnt);
	for (long i = 0; i < n; i++)
		if (stat(path, &st) != 0)
			die("stat", path);
	return 0;
}

static int run_base(long n)
{
	char buf[256];
	char *const argv[] = {"tr", "a-z", "A-Z", NULL};

	for (long i = 0; i < n; i++) {
		int pin[2], pout[2];
		if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0)
			die("pipe", "");
		pid_t pid = fork();
		if (pid < 0)
			die("fork", "");
		if (pid == 0) {
			dup2(pin[0], 0);
			dup2(pout[1], 1);
			execvp("tr", argv);
			_exit(127);
		}
		close(pin[0]);
		close(pout[1]);
		write_all(pin[1], LINE, strlen(LINE), "pipe to tr");
		close(pin[1]);
		read_all(pout[0], buf, sizeof buf, "pipe from tr");
		close(pout[0]);
		int st;
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				die("waitpid", "tr");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strcmp(buf, WANT) != 0) {
			fprintf(stderr, "smalljobs: tr failed (status %d, output \"%s\")\n", st, buf);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: smalljobs lj MNT N [keep [PREFIX]] | smalljobs base N | "
			"smalljobs rt MNT N\n");
		return 2;
	}
	if (strcmp(argv[1], "rt") == 0) {
		long n = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
		if (n < 1) {
			fprintf(stderr, "usage: smalljobs rt MNT N\n");
			return 2;
		}
		double t0 = now();
		run_rt(argv[2], n);
		double us = (now() - t0) / (double)n * 1e6;
		fprintf(stderr, "smalljobs: a FUSE round trip takes %.1f us\n", us);
		printf("RESULT trips=%ld us=%.2f\n", n, us);
		return 0;
	}
	int base = strcmp(argv[1], "base") == 0;
	if (!base && argc < 4) {
		fprintf(stderr, "usage: smalljobs lj MNT N [keep [PREFIX]]\n");
		return 2;
	}
	long n = strtol(argv[base ? 2 : 3], NULL, 10);
	int keep = !base && argc > 4 && strcmp(argv[4], "keep") == 0;
	const char *prefix = (!base && argc > 5) ? argv[5] : "s";

	double t0 = now();
	int rc = base ? run_base(n) : run_lj(argv[2], n, keep, prefix);
	double secs = now() - t0;
	if (rc != 0)
		return rc;
	fprintf(stderr, "smalljobs %s: %ld jobs in %.3f s: %.0f jobs/s\n",
		base ? "baseline (fork+exec tr)" : "livejobfs", n, secs, (double)n / secs);
	printf("RESULT jobs=%ld secs=%.6f rate=%.1f\n", n, secs, (double)n / secs);
	return 0;
}
