/*
 * bench/latency.c - the "live latency" figure of `make bench`.
 *
 *   latency JOBDIR NWARM NSAMPLES
 *
 * JOBDIR is a running job whose input `x` (format lines) feeds a 3-node
 * chain upper -> lower -> pass that ends in output `y` (bench/run.sh makes
 * it). The input is opened once and kept open, the output is opened
 * O_RDONLY once. Each sample writes one 16-byte line to the input and
 * times (CLOCK_MONOTONIC) until read()s of the output have returned that
 * whole line; the output is checked against the line lower-cased. The first
 * NWARM samples are not counted. At the end the input is closed and the
 * output read to EOF.
 *
 * Prints a human line on stderr and one machine line on stdout:
 *   RESULT n=N median_us=.. p90_us=.. p99_us=.. p999_us=.. max_us=.. mean_us=..
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, long n, double p)
{
	long i = (long)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: latency JOBDIR NWARM NSAMPLES\n");
		return 2;
	}
	char in[4200], out[4200];
	snprintf(in, sizeof in, "%s/input/x", argv[1]);
	snprintf(out, sizeof out, "%s/output/y", argv[1]);
	long nwarm = strtol(argv[2], NULL, 10), nsamp = strtol(argv[3], NULL, 10);
	if (nsamp < 1)
		nsamp = 1;

	int ifd = open(in, O_WRONLY);
	if (ifd < 0) {
		fprintf(stderr, "latency: open %s: %s\n", in, strerror(errno));
		return 1;
	}
	int ofd = open(out, O_RDONLY);
	if (ofd < 0) {
		fprintf(stderr, "latency: open %s: %s\n", out, strerror(errno));
		return 1;
	}
	double *v = calloc((size_t)nsamp, sizeof *v);
	if (!v)
		return 1;

	char line[64], want[64], got[4096];
	for (long i = 0; i < nwarm + nsamp; i++) {
		/* "Sample 0000042X\n": 16 bytes; upper then lower gives it lower-cased */
		int len = snprintf(line, sizeof line, "Sample %08ldX\n", i % 100000000);
		for (int k = 0; k < len; k++)
			want[k] = (line[k] >= 'A' && line[k] <= 'Z') ? (char)(line[k] + 32) : line[k];

		double t0 = now_us();
		ssize_t w = write(ifd, line, (size_t)len);
		if (w != len) {
			fprintf(stderr, "latency: write %s (sample %ld): %s\n", in, i,
				w < 0 ? strerror(errno) : "short write");
			return 1;
		}
		int have = 0;
		while (have < len) {
			ssize_t r = read(ofd, got + have, sizeof got - (size_t)have);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "latency: read %s (sample %ld): %s\n", out, i, strerror(errno));
				return 1;
			}
			if (r == 0) {
				fprintf(stderr, "latency: unexpected EOF on %s (sample %ld)\n", out, i);
				return 1;
			}
			have += (int)r;
		}
		double dt = now_us() - t0;
		if (have != len || memcmp(got, want, (size_t)len) != 0) {
			fprintf(stderr, "latency: sample %ld: got %d bytes \"%.*s\", want \"%.*s\"\n",
				i, have, have, got, len, want);
			return 1;
		}
		if (i >= nwarm)
			v[i - nwarm] = dt;
	}

	if (close(ifd) != 0) {
		fprintf(stderr, "latency: close %s: %s\n", in, strerror(errno));
		return 1;
	}
	for (;;) { /* the rest of the output: nothing more, then EOF at the job's end */
		ssize_t r = read(ofd, got, sizeof got);
		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "latency: final read %s: %s\n", out, strerror(errno));
			return 1;
		}
		fprintf(stderr, "latency: %zd unexpected bytes at the end of %s\n", r, out);
		return 1;
	}
	close(ofd);

	double sum = 0;
	for (long i = 0; i < nsamp; i++)
		sum += v[i];
	qsort(v, (size_t)nsamp, sizeof *v, cmp);
	double med = pct(v, nsamp, 0.5), p90 = pct(v, nsamp, 0.9), p99 = pct(v, nsamp, 0.99),
	       p999 = pct(v, nsamp, 0.999), max = v[nsamp - 1], mean = sum / (double)nsamp;
	fprintf(stderr, "latency: %ld samples (after %ld warm-up): median %.1f us, p90 %.1f, p99 %.1f, "
			"p99.9 %.1f, max %.1f, mean %.1f\n",
		nsamp, nwarm, med, p90, p99, p999, max, mean);
	printf("RESULT n=%ld median_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f mean_us=%.1f\n",
	       nsamp, med, p90, p99, p999, max, mean);
	free(v);
	return 0;
}
