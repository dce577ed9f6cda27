/* ljtool - small helper for the mounted tests: the few things a shell
 * cannot do by itself with plain syscalls. Built by tests/mnt/lib.sh (or
 * run.sh) into the test's temp dir, never into the repo.
 *
 *   ljtool jget KEY FILE...      parse each FILE as one JSON object and print
 *                                the value at dotted KEY (strings raw, null as
 *                                "null", other values as compact JSON), one
 *                                line per file; "!missing" if absent,
 *                                "!invalid: why" (and exit 2) if not JSON
 *   ljtool jcheck FILE           exit 0 if FILE is one valid JSON object,
 *                                else print why and exit 1
 *   ljtool nbread FILE OFFSET    open O_RDONLY|O_NONBLOCK, lseek, read once:
 *                                prints "data N", "eof" or "errno NAME"
 *   ljtool poll FILE MS          open O_RDONLY|O_NONBLOCK, read until EAGAIN
 *                                or EOF, then poll(POLLIN, MS); prints
 *                                "drained N" then "readable MS revents=0xR",
 *                                "timeout" or "eof" (EOF reached before poll)
 *   ljtool intread FILE          SIGINT handler without SA_RESTART; blocking
 *                                reads until one fails or hits EOF; prints
 *                                "got N" after each read, then "EINTR N",
 *                                "eof N" or "errno NAME N"
 *   ljtool hold LIST READY GO    LIST has lines "PATH<TAB>TEXT": open every
 *                                PATH O_WRONLY, write TEXT\n, create READY,
 *                                wait (max 600 s) until GO exists, close all
 *                                (checking close()), print "closed N"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case EINVAL: return "EINVAL";
	case EPIPE: return "EPIPE";
	case EBUSY: return "EBUSY";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ENOTCONN: return "ENOTCONN";
	case EBADF: return "EBADF";
	default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
	}
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Reads a whole file with plain read(2) (works on snapshot files whose
 * st_size may change between stat and read). */
static char *slurp(const char *path, size_t *len, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(why, whylen, "open: %s", strerror(errno));
		return NULL;
	}
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "read: %s", strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
}

static json_t *load_obj(const char *path, char *why, size_t whylen)
{
	size_t len;
	char *buf = slurp(path, &len, why, whylen);
	if (!buf)
		return NULL;
	json_error_t err;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		snprintf(why, whylen, "line %d col %d: %s (%zu bytes: %.200s)",
			 err.line, err.column, err.text, len, buf);
		free(buf);
		return NULL;
	}
	free(buf);
	if (!json_is_object(j)) {
		snprintf(why, whylen, "not a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

static int cmd_jget(int argc, char **argv)
{
	int rc = 0;
	for (int i = 3; i < argc; i++) {
		char why[512];
		json_t *root = load_obj(argv[i], why, sizeof why);
		if (!root) {
			printf("!invalid: %s\n", why);
			rc = 2;
			continue;
		}
		json_t *v = root;
		char *key = strdup(argv[2]);
		for (char *save = NULL, *k = strtok_r(key, ".", &save); k && v;
		     k = strtok_r(NULL, ".", &save)) {
			if (json_is_object(v))
				v = json_object_get(v, k);
			else if (json_is_array(v))
				v = json_array_get(v, strtoul(k, NULL, 10));
			else
				v = NULL;
		}
		free(key);
		if (!v)
			printf("!missing\n");
		else if (json_is_string(v))
			printf("%s\n", json_string_value(v));
		else if (json_is_null(v))
			printf("null\n");
		else {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			printf("%s\n", s ? s : "?");
			free(s);
		}
		json_decref(root);
	}
	return rc;
}

static int cmd_jcheck(const char *path)
{
	char why[512];
	json_t *root = load_obj(path, why, sizeof why);
	if (!root) {
		printf("invalid JSON in %s: %s\n", path, why);
		return 1;
	}
	json_decref(root);
	return 0;
}

static int cmd_nbread(const char *path, long long off)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		printf("open errno %s\n", errname(errno));
		return 1;
	}
	if (lseek(fd, off, SEEK_SET) != off) {
		printf("lseek errno %s\n", errname(errno));
		return 1;
	}
	static char buf[1 << 16];
	ssize_t r = read(fd, buf, sizeof buf);
	if (r < 0)
		printf("errno %s\n", errname(errno));
	else if (r == 0)
		printf("eof\n");
	else
		printf("data %zd\n", r);
	close(fd);
	return 0;
}

static int cmd_poll(const char *path, int ms)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		printf("open errno %s\n", errname(errno));
		return 1;
	}
	static char buf[1 << 16];
	long long total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r > 0) {
			total += r;
			continue;
		}
		if (r == 0) {
			printf("drained %lld\neof\n", total);
			return 0;
		}
		if (errno == EAGAIN)
			break;
		printf("drained %lld\nerrno %s\n", total, errname(errno));
		return 1;
	}
	printf("drained %lld\n", total);
	fflush(stdout);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	double t0 = now_ms();
	int n = poll(&p, 1, ms);
	double dt = now_ms() - t0;
	if (n < 0)
		printf("poll errno %s\n", errname(errno));
	else if (n == 0)
		printf("timeout\n");
	else
		printf("readable %.0f revents=0x%x\n", dt, p.revents);
	close(fd);
	return 0;
}

static void on_sigint(int sig)
{
	(void)sig;
}

static int cmd_intread(const char *path)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint; /* no SA_RESTART: read must fail EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IONBF, 0);
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("open errno %s\n", errname(errno));
		return 1;
	}
	static char buf[1 << 16];
	long long total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r > 0) {
			total += r;
			printf("got %lld\n", total);
			continue;
		}
		if (r == 0) {
			printf("eof %lld\n", total);
			return 0;
		}
		printf("%s %lld\n", errno == EINTR ? "EINTR" : "errno", total);
		if (errno != EINTR)
			printf("errno %s\n", errname(errno));
		return 0;
	}
}

static int cmd_hold(const char *list, const char *ready, const char *go)
{
	FILE *f = fopen(list, "r");
	if (!f) {
		perror(list);
		return 1;
	}
	int cap = 64, n = 0, *fds = malloc(cap * sizeof *fds), rc = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	while ((len = getline(&line, &lcap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = 0;
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = 0;
		int fd = open(line, O_WRONLY);
		if (fd < 0) {
			printf("open %s: %s\n", line, strerror(errno));
			rc = 1;
			break;
		}
		if (n == cap)
			fds = realloc(fds, (cap *= 2) * sizeof *fds);
		fds[n++] = fd;
		char text[4096];
		int tl = snprintf(text, sizeof text, "%s\n", tab + 1);
		ssize_t w = write(fd, text, tl);
		if (w != tl) {
			printf("write %s: %s\n", line, w < 0 ? strerror(errno) : "short");
			rc = 1;
			break;
		}
	}
	fclose(f);
	if (rc == 0) {
		int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (rfd >= 0)
			close(rfd);
		double t0 = now_ms();
		while (access(go, F_OK) != 0) {
			if (now_ms() - t0 > 600e3) {
				printf("hold: %s never appeared\n", go);
				rc = 1;
				break;
			}
			usleep(50000);
		}
	}
	int bad = 0;
	for (int i = 0; i < n; i++)
		if (close(fds[i]) != 0) {
			if (!bad++)
				printf("close #%d: %s\n", i, strerror(errno));
			rc = 1;
		}
	printf("closed %d (%d failed)\n", n, bad);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "jget"))
		return cmd_jget(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "jcheck"))
		return cmd_jcheck(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "nbread"))
		return cmd_nbread(argv[2], atoll(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "poll"))
		return cmd_poll(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "intread"))
		return cmd_intread(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "hold"))
		return cmd_hold(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: see the comment at the top of tests/mnt/ljtool.c\n");
	return 64;
}
