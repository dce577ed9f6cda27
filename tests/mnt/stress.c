/* stress - client of tests/mnt/t_21_stress.sh. Built by the test into its
 * temp dir, never into the repo.
 *
 *   stress run MNT SECONDS NCLIENTS DAEMONPID
 *       Forks NCLIENTS client processes that, for SECONDS, pick random
 *       actions on a shared pool of job names (so that they collide): mkdir,
 *       mkdir JOB/input, write spec.json (pass, upper, exec cat, exec tr,
 *       delay, exec that fails, a json input with a schema), write inputs
 *       (some writers stay open across actions), read outputs and streams
 *       (non-blocking, with poll, or by a forked blocking reader that is
 *       often killed with SIGKILL while it is blocked: a reader that
 *       vanishes mid-read), ctl cancel / end x / restart, rmdir while
 *       readers and writers are active, unlink of a job's file, stat, ls,
 *       and reads of status (which must be a JSON object), log, graph.dot,
 *       wait and .env. Every syscall result is checked against the errnos
 *       the contract allows for that action; anything else is an unexpected
 *       errno, reported with the action, the path and the errno.
 *       Each client counts its operations in shared memory; if one client
 *       makes no progress for 20 s, the parent prints what every client is
 *       doing, the daemon's threads (wchan, and `gdb -batch -ex "thread
 *       apply all bt"` when gdb exists), kills the clients and exits 3.
 *       At the end every job is removed (rmdir) and the mount must list
 *       nothing. Prints per-action counts; exits 1 on unexpected errnos.
 *
 *       STRESS_ACTIONS=mkdir,spec,feed,... (debugging) limits the actions.
 *
 *   stress reader PATH
 *       Reads PATH to its end with blocking reads; prints "eof N" or
 *       "errno NAME N" (N: bytes read) and the time it took, exits 0 at EOF
 *       and 1 on an error. For the unmount part of the test.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXCLIENTS 64
#define NNAMES 40
#define MAXERR 40

enum act {
	A_MKDIR, A_MKINPUT, A_SPEC, A_FEED, A_HOLD, A_WRITE_HELD, A_CLOSE_HELD, A_READ_NB,
	A_READ_POLL, A_READER_KILL, A_READER_FULL, A_STREAMS, A_CANCEL, A_END, A_RESTART,
	A_RMDIR, A_UNLINK, A_STAT, A_LS, A_STATUS, A_LOG, A_GRAPH, A_WAIT_NB, A_ENV, NACT
};
static const char *act_name[NACT] = {
	"mkdir", "mkdir-input", "spec", "feed", "hold", "write-held", "close-held", "read-nb",
	"read-poll", "reader-killed", "reader-full", "streams", "cancel", "end", "restart",
	"rmdir", "unlink", "stat", "ls", "status", "log", "graph", "wait-nb", "env",
};
static const int act_weight[NACT] = {
	8, 2, 8, 8, 3, 6, 3, 6,
	4, 4, 2, 2, 2, 2, 1,
	3, 1, 3, 2, 4, 2, 2, 2, 1,
};

struct shared {
	volatile long progress[MAXCLIENTS];
	volatile long ops[MAXCLIENTS][NACT];
	char cur[MAXCLIENTS][200];
	volatile long cur_since[MAXCLIENTS];
	volatile int nerr;
	char err[MAXERR][400];
};

static struct shared *sh;
static const char *MNT;
static int me;
static uint64_t rng;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";
	return n ? n : "E?";
}

static void doing(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sh->cur[me], sizeof(sh->cur[me]), fmt, ap);
	va_end(ap);
	sh->cur_since[me] = now_ms();
}

static void bad(const char *fmt, ...)
{
	int i = __sync_fetch_and_add(&sh->nerr, 1);
	if (i >= MAXERR)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(sh->err[i], sizeof(sh->err[i]), "client %d: ", me);
	vsnprintf(sh->err[i] + n, sizeof(sh->err[i]) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* e must be 0 or one of the allowed errnos (a 0-terminated list) */
static int allowed(int e, const int *ok)
{
	if (e == 0)
		return 1;
	for (; *ok; ok++)
		if (*ok == e)
			return 1;
	return 0;
}

static void check(const char *what, const char *path, int e, const int *ok)
{
	if (!allowed(e, ok))
		bad("%s %s: unexpected %s (%s)", what, path, ename(e), strerror(e));
}

#define OK(...) ((const int[]){__VA_ARGS__, 0})

/* ---- the jobs ---------------------------------------------------------- */

enum { K_PASS, K_UPPER, K_CAT, K_TR, K_DELAY, K_FAIL, K_JSON, K_SLEEP, NKINDS };
static const char *spec_of[NKINDS] = {
	"{\"inputs\": {\"x\": {\"format\": \"lines\"}}, \"outputs\": {\"y\": {\"from\": \"p\"}},"
	" \"nodes\": {\"p\": {\"op\": \"pass\", \"in\": \"x\"}}}\n",
	"{\"inputs\": {\"x\": {\"format\": \"lines\"}}, \"outputs\": {\"y\": {\"from\": \"u\"}},"
	" \"nodes\": {\"u\": {\"op\": \"upper\", \"in\": \"x\"}}}\n",
	"{\"inputs\": {\"x\": {\"format\": \"lines\"}}, \"outputs\": {\"y\": {\"from\": \"c\"}},"
	" \"nodes\": {\"c\": {\"op\": \"exec\", \"in\": \"x\", \"argv\": [\"cat\"]}}}\n",
	"{\"inputs\": {\"x\": {\"format\": \"lines\"}}, \"outputs\": {\"y\": {\"from\": \"t\"}, \"n\": {\"from\": \"k\"}},"
	" \"nodes\": {\"t\": {\"op\": \"exec\", \"in\": \"x\", \"argv\": [\"tr\", \"a-z\", \"A-Z\"]},"
	" \"k\": {\"op\": \"count\", \"in\": \"t\"}}}\n",
	"{\"inputs\": {\"x\": {\"format\": \"lines\"}}, \"outputs\": {\"y\": {\"from\": \"d\"}},"
	" \"nodes\": {\"d\": {\"op\": \"delay\", \"in\": \"x\", \"ms\": 3}}}\n",
	"{\"inputs\": {\"x\": {\"format\": \"lines\"}}, \"outputs\": {\"y\": {\"from\": \"f\"}},"
	" \"nodes\": {\"f\": {\"op\": \"exec\", \"in\": \"x\","
	" \"argv\": [\"sh\", \"-c\", \"head -c 3000; exit 3\"]}}}\n",
	"{\"inputs\": {\"x\": {\"format\": \"json\", \"schema\": {\"type\": \"object\", \"required\": [\"id\"],"
	" \"properties\": {\"id\": {\"type\": \"integer\"}}}}},"
	" \"outputs\": {\"y\": {\"from\": \"t\"}, \"n\": {\"from\": \"c\"}},"
	" \"nodes\": {\"t\": {\"op\": \"template\", \"in\": \"x\", \"text\": \"id {id}\"},"
	" \"c\": {\"op\": \"count\", \"in\": \"x\"}}}\n",
	"{\"inputs\": {\"x\": {\"format\": \"lines\"}}, \"outputs\": {\"y\": {\"from\": \"s\"}},"
	" \"nodes\": {\"s\": {\"op\": \"exec\", \"in\": \"x\", \"argv\": [\"sh\", \"-c\", \"cat; exec sleep 2\"]}}}\n",
};

static void job_name(int i, char *out, size_t cap)
{
	snprintf(out, cap, "s%02d", i);
}

static int kind_of_job(int i)
{
	return i % NKINDS;
}

/* Some data for input x of a job of kind k: lines, or NDJSON records, with
 * a bad record now and then (*has_bad). Whole lines only. */
static size_t make_data(int k, char *buf, size_t cap, int *has_bad)
{
	size_t n = 0;
	int lines = 1 + (int)(rnd() % 40);

	*has_bad = 0;
	for (int i = 0; i < lines && n + 100 < cap; i++) {
		if (k == K_JSON) {
			if (rnd() % 50 == 0) {
				n += (size_t)snprintf(buf + n, cap - n, "{\"id\": \"not a number\"}\n");
				*has_bad = 1;
			} else {
				n += (size_t)snprintf(buf + n, cap - n, "{\"id\": %u, \"v\": \"w%u\"}\n",
						      (unsigned)(rnd() % 100000), (unsigned)(rnd() % 1000));
			}
		} else {
			n += (size_t)snprintf(buf + n, cap - n, "line %u of client %d: %s\n",
					      (unsigned)(rnd() % 100000), me,
					      rnd() % 2 ? "hello world" : "the quick brown fox");
		}
	}
	return n;
}

/* ---- helpers ----------------------------------------------------------- */

/* Writes a small whole file; returns 0 or the errno, with *stage the step
 * that failed ("open", "write", "close"). */
static int put_file(const char *path, const char *data, size_t len, int flags, const char **stage)
{
	int fd = open(path, O_WRONLY | flags, 0644);
	if (fd < 0) {
		*stage = "open";
		return errno;
	}
	ssize_t w = write(fd, data, len);
	if (w < 0) {
		int e = errno;
		*stage = "write";
		close(fd);
		return e;
	}
	if (close(fd) < 0) {
		*stage = "close";
		return errno;
	}
	return 0;
}

/* Reads a snapshot file to its end. Returns 0, or the errno; data in buf
 * (NUL-terminated, truncated to cap). */
static int get_file(const char *path, char *buf, size_t cap, size_t *len, const char **stage)
{
	int fd = open(path, O_RDONLY);
	size_t n = 0;

	*len = 0;
	if (fd < 0) {
		*stage = "open";
		return errno;
	}
	for (;;) {
		char tmp[65536];
		ssize_t r = read(fd, tmp, sizeof(tmp));
		if (r < 0) {
			int e = errno;
			*stage = "read";
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		if (n < cap - 1) {
			size_t c = (size_t)r < cap - 1 - n ? (size_t)r : cap - 1 - n;
			memcpy(buf + n, tmp, c);
			n += c;
		}
	}
	buf[n] = '\0';
	*len = n;
	close(fd);
	return 0;
}

/* ---- held writers ------------------------------------------------------ */

struct held {
	int fd;
	int job;
};
static struct held held[4];
static int nheld;

static void close_held(int i)
{
	char path[300], name[16];
	job_name(held[i].job, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s/input/x (held)", MNT, name);
	doing("close %s", path);
	if (close(held[i].fd) < 0)
		check("close", path, errno, OK(EPIPE, EIO, ENOENT));
	held[i] = held[--nheld];
}

/* ---- the actions ------------------------------------------------------- */

static void do_action(int a)
{
	int j = (int)(rnd() % NNAMES), k = kind_of_job(j), e, bad_data;
	char name[16], path[300], buf[65536];
	const char *stage = "";
	size_t len;

	job_name(j, name, sizeof(name));
	switch (a) {
	case A_MKDIR:
		snprintf(path, sizeof(path), "%s/%s", MNT, name);
		doing("mkdir %s", path);
		if (mkdir(path, 0755) < 0)
			check("mkdir", path, errno, OK(EEXIST));
		break;
	case A_MKINPUT:
		snprintf(path, sizeof(path), "%s/%s/input", MNT, name);
		doing("mkdir %s", path);
		if (mkdir(path, 0755) < 0)
			check("mkdir", path, errno, OK(EEXIST, ENOENT));
		break;
	case A_SPEC:
		snprintf(path, sizeof(path), "%s/%s/spec.json", MNT, name);
		doing("write %s", path);
		e = put_file(path, spec_of[k], strlen(spec_of[k]), O_CREAT | O_TRUNC, &stage);
		/* EBUSY: the spec was accepted before (open) or while we wrote
		 * it (close); ENOENT: the job is not there (or went) */
		check(stage, path, e, OK(EBUSY, ENOENT));
		break;
	case A_FEED:
	case A_HOLD: {
		snprintf(path, sizeof(path), "%s/%s/input/x", MNT, name);
		doing("open %s", path);
		int flags = O_WRONLY | (rnd() % 2 ? O_CREAT : 0);
		int fd = open(path, flags, 0644);
		if (fd < 0) {
			/* ENOENT: no job, or no input x yet (no O_CREAT);
			 * EPIPE: the input has ended */
			check("open", path, errno, OK(ENOENT, EPIPE));
			break;
		}
		len = make_data(k, buf, sizeof(buf), &bad_data);
		doing("write %s", path);
		if (write(fd, buf, len) < 0) {
			e = errno;
			if (bad_data)
				check("write", path, e, OK(EPIPE, EIO, ENOENT, EINVAL));
			else
				check("write", path, e, OK(EPIPE, EIO, ENOENT));
		}
		if (a == A_HOLD && nheld < 4) {
			held[nheld].fd = fd;
			held[nheld].job = j;
			nheld++;
			break;
		}
		doing("close %s", path);
		if (close(fd) < 0)
			check("close", path, errno, OK(EPIPE, EIO, ENOENT));
		break;
	}
	case A_WRITE_HELD:
		if (!nheld)
			break;
		{
			int i = (int)(rnd() % (unsigned)nheld);
			job_name(held[i].job, name, sizeof(name));
			snprintf(path, sizeof(path), "%s/%s/input/x (held)", MNT, name);
			len = make_data(kind_of_job(held[i].job), buf, sizeof(buf), &bad_data);
			doing("write %s", path);
			if (write(held[i].fd, buf, len) < 0) {
				e = errno;
				if (bad_data)
					check("write", path, e, OK(EPIPE, EIO, ENOENT, EINVAL));
				else
					check("write", path, e, OK(EPIPE, EIO, ENOENT));
			}
		}
		break;
	case A_CLOSE_HELD:
		if (nheld)
			close_held((int)(rnd() % (unsigned)nheld));
		break;
	case A_READ_NB:
	case A_READ_POLL:
	case A_STREAMS: {
		if (a == A_STREAMS)
			snprintf(path, sizeof(path), "%s/%s/streams/x", MNT, name);
		else
			snprintf(path, sizeof(path), "%s/%s/output/y", MNT, name);
		doing("open %s", path);
		int fd = open(path, O_RDONLY | O_NONBLOCK);
		if (fd < 0) {
			check("open", path, errno, OK(ENOENT));
			break;
		}
		long deadline = now_ms() + (a == A_READ_POLL ? (long)(rnd() % 400) : 0);
		for (;;) {
			doing("read %s", path);
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r > 0)
				continue;
			if (r == 0)
				break;
			e = errno;
			if (e != EAGAIN) {
				/* EIO: the job failed, was cancelled or removed */
				check("read", path, e, OK(EIO));
				break;
			}
			long left = deadline - now_ms();
			if (left <= 0)
				break;
			struct pollfd p = {.fd = fd, .events = POLLIN};
			doing("poll %s", path);
			if (poll(&p, 1, (int)left) < 0) {
				check("poll", path, errno, OK(EINTR));
				break;
			}
		}
		close(fd);
		break;
	}
	case A_READER_KILL:
	case A_READER_FULL: {
		/* a blocking reader in a child process; often killed while it
		 * is blocked (it vanishes mid-read) */
		snprintf(path, sizeof(path), "%s/%s/output/y", MNT, name);
		doing("fork a reader of %s", path);
		pid_t pid = fork();
		if (pid < 0) {
			bad("fork: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			for (int i = 0; i < nheld; i++)
				close(held[i].fd);
			int fd = open(path, O_RDONLY);
			if (fd < 0)
				_exit(errno == ENOENT ? 2 : 100 + errno % 100);
			for (;;) {
				ssize_t r = read(fd, buf, sizeof(buf));
				if (r == 0)
					_exit(0);
				if (r < 0)
					_exit(errno == EIO ? 3 : 100 + errno % 100);
			}
		}
		long deadline = now_ms() + (a == A_READER_KILL ? 20 + (long)(rnd() % 300) : 3000);
		int st = 0;
		pid_t w = 0;
		while ((w = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
			msleep(5);
		if (w == 0) {
			doing("kill -9 the reader %d of %s", (int)pid, path);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) >= 100)
			bad("blocking reader of %s: unexpected %s", path,
			    ename(WEXITSTATUS(st) - 100));
		else if (!WIFEXITED(st))
			bad("blocking reader of %s: ended by signal %d", path, WTERMSIG(st));
		break;
	}
	case A_CANCEL:
	case A_END:
	case A_RESTART: {
		const char *cmd = a == A_CANCEL ? "cancel\n" : a == A_END ? "end x\n" : "restart\n";
		snprintf(path, sizeof(path), "%s/%s/ctl", MNT, name);
		doing("echo %.*s > %s", (int)strlen(cmd) - 1, cmd, path);
		e = put_file(path, cmd, strlen(cmd), 0, &stage);
		/* EINVAL: the command does not apply to the job's state
		 * (cancel an ended job, restart a running one, end an input
		 * the job lacks) */
		check(stage, path, e, OK(ENOENT, EINVAL));
		break;
	}
	case A_RMDIR:
		snprintf(path, sizeof(path), "%s/%s", MNT, name);
		doing("rmdir %s", path);
		if (rmdir(path) < 0)
			check("rmdir", path, errno, OK(ENOENT));
		break;
	case A_UNLINK:
		snprintf(path, sizeof(path), "%s/%s/%s", MNT, name, rnd() % 2 ? "log" : "spec.json");
		doing("unlink %s", path);
		if (unlink(path) < 0)
			check("unlink", path, errno, OK(ENOENT));
		break;
	case A_STAT: {
		static const char *f[] = {"", "/output/y", "/input/x", "/status", "/streams/x", "/log"};
		struct stat sb;
		snprintf(path, sizeof(path), "%s/%s%s", MNT, name, f[rnd() % 6]);
		doing("stat %s", path);
		if (stat(path, &sb) < 0)
			check("stat", path, errno, OK(ENOENT));
		break;
	}
	case A_LS: {
		if (rnd() % 3)
			snprintf(path, sizeof(path), "%s/%s", MNT, name);
		else
			snprintf(path, sizeof(path), "%s", MNT);
		doing("ls %s", path);
		DIR *d = opendir(path);
		if (!d) {
			check("opendir", path, errno, OK(ENOENT));
			break;
		}
		errno = 0;
		while (readdir(d))
			;
		if (errno)
			check("readdir", path, errno, OK(ENOENT));
		closedir(d);
		break;
	}
	case A_STATUS:
	case A_ENV: {
		if (a == A_ENV)
			snprintf(path, sizeof(path), "%s/.env", MNT);
		else
			snprintf(path, sizeof(path), "%s/%s/status", MNT, name);
		doing("read %s", path);
		e = get_file(path, buf, sizeof(buf), &len, &stage);
		if (e) {
			check(stage, path, e, OK(ENOENT));
			break;
		}
		json_error_t je;
		json_t *v = json_loadb(buf, len, 0, &je);
		if (!v || !json_is_object(v))
			bad("%s is not a JSON object (%s): %.200s", path, je.text, buf);
		json_decref(v);
		break;
	}
	case A_LOG:
	case A_GRAPH:
		snprintf(path, sizeof(path), "%s/%s/%s", MNT, name, a == A_LOG ? "log" : "graph.dot");
		doing("read %s", path);
		e = get_file(path, buf, sizeof(buf), &len, &stage);
		check(stage, path, e, OK(ENOENT));
		break;
	case A_WAIT_NB: {
		snprintf(path, sizeof(path), "%s/%s/wait", MNT, name);
		doing("read %s (O_NONBLOCK)", path);
		int fd = open(path, O_RDONLY | O_NONBLOCK);
		if (fd < 0) {
			check("open", path, errno, OK(ENOENT));
			break;
		}
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		if (r < 0)
			check("read", path, errno, OK(EAGAIN));
		else {
			buf[r] = '\0';
			if (strcmp(buf, "succeeded\n") && strcmp(buf, "failed\n") &&
			    strcmp(buf, "cancelled\n") && strcmp(buf, "interrupted\n"))
				bad("%s says '%s'", path, buf);
		}
		close(fd);
		break;
	}
	}
}

static int weight[NACT];

/* STRESS_ACTIONS=a,b,c (debugging): only these actions */
static void set_weights(void)
{
	const char *only = getenv("STRESS_ACTIONS");
	for (int i = 0; i < NACT; i++) {
		char pat[64];
		snprintf(pat, sizeof(pat), ",%s,", act_name[i]);
		char list[1024];
		snprintf(list, sizeof(list), ",%s,", only ? only : "");
		weight[i] = !only || !*only || strstr(list, pat) ? act_weight[i] : 0;
	}
}

static int pick_action(void)
{
	static int total;
	if (!total)
		for (int i = 0; i < NACT; i++)
			total += weight[i];
	int r = (int)(rnd() % (unsigned)total);
	for (int i = 0; i < NACT; i++) {
		if (r < weight[i])
			return i;
		r -= weight[i];
	}
	return 0;
}

static void client(int id, long end)
{
	me = id;
	rng = (uint64_t)id * 7919 + (uint64_t)getpid() * 104729 + (uint64_t)now_ms();
	while (now_ms() < end) {
		int a = pick_action();
		do_action(a);
		sh->ops[me][a]++;
		sh->progress[me]++;
		doing("idle");
	}
	while (nheld)
		close_held(0);
	sh->progress[me]++;
	doing("done");
	_exit(0);
}

static void daemon_diag(int dpid)
{
	char cmd[600];
	fprintf(stderr, "--- the daemon's threads (pid %d): tid wchan state\n", dpid);
	snprintf(cmd, sizeof(cmd),
		 "for t in /proc/%d/task/*; do echo \"${t##*/} $(cat $t/wchan 2>/dev/null) "
		 "$(cut -d' ' -f3 $t/stat 2>/dev/null) $(cat $t/comm 2>/dev/null)\"; done >&2", dpid);
	if (system(cmd) < 0)
		perror("system");
	snprintf(cmd, sizeof(cmd),
		 "command -v gdb >/dev/null && timeout 30 gdb -p %d -batch -ex 'thread apply all bt' "
		 "2>&1 | grep -v '^\\[New LWP' | head -n 400 >&2", dpid);
	if (system(cmd) < 0)
		perror("system");
}

static int cmd_run(int seconds, int nclients, int dpid)
{
	pid_t pids[MAXCLIENTS];
	long start = now_ms(), end = start + seconds * 1000L;
	long last[MAXCLIENTS], last_ms[MAXCLIENTS];
	int alive, rc = 0;

	if (nclients > MAXCLIENTS)
		nclients = MAXCLIENTS;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	memset(sh, 0, sizeof(*sh));
	set_weights();
	for (int i = 0; i < nclients; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fork");
			return 2;
		}
		if (pids[i] == 0)
			client(i, end);
		last[i] = -1;
		last_ms[i] = now_ms();
	}
	/* watch the progress of every client */
	do {
		int st;
		msleep(250);
		alive = 0;
		for (int i = 0; i < nclients; i++) {
			if (pids[i] > 0 && waitpid(pids[i], &st, WNOHANG) == pids[i]) {
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
					fprintf(stderr, "stress: client %d ended with status 0x%x while '%s'\n",
						i, st, sh->cur[i]);
					rc = 1;
				}
				pids[i] = 0;
			}
			if (pids[i] > 0)
				alive++;
			if (sh->progress[i] != last[i]) {
				last[i] = sh->progress[i];
				last_ms[i] = now_ms();
			} else if (pids[i] > 0 && now_ms() - last_ms[i] > 20000) {
				printf("DEADLOCK: client %d made no progress for 20 s\n", i);
				fprintf(stderr, "stress: client %d made no progress for 20 s; what each client does:\n", i);
				for (int c = 0; c < nclients; c++)
					fprintf(stderr, "  client %d (pid %d): %s, for %ld ms; %ld ops\n", c,
						(int)pids[c], sh->cur[c], now_ms() - sh->cur_since[c],
						sh->progress[c]);
				daemon_diag(dpid);
				/* a client blocked in a request the daemon never
				 * answers can't die before the mount goes: don't
				 * wait for them (the test unmounts) */
				for (int c = 0; c < nclients; c++)
					if (pids[c] > 0)
						kill(pids[c], SIGKILL);
				return 3;
			}
		}
	} while (alive > 0);

	/* remove every job */
	me = nclients;
	long total = 0;
	for (int i = 0; i < nclients; i++)
		total += sh->progress[i];
	for (int tries = 0; tries < 50; tries++) {
		DIR *d = opendir(MNT);
		struct dirent *de;
		int left = 0;
		if (!d) {
			fprintf(stderr, "stress: opendir %s: %s\n", MNT, strerror(errno));
			return 2;
		}
		while ((de = readdir(d)) != NULL) {
			char path[600];
			if (de->d_name[0] == '.')
				continue;
			left++;
			snprintf(path, sizeof(path), "%s/%s", MNT, de->d_name);
			if (rmdir(path) < 0 && errno != ENOENT) {
				fprintf(stderr, "stress: rmdir %s: %s\n", path, strerror(errno));
				rc = 1;
			}
		}
		closedir(d);
		if (!left)
			break;
		if (tries == 49) {
			fprintf(stderr, "stress: jobs still listed after removing them all 50 times\n");
			rc = 1;
		}
		msleep(100);
	}

	printf("stress: %d clients, %d s, %ld operations:", nclients, seconds, total);
	for (int a = 0; a < NACT; a++) {
		long n = 0;
		for (int i = 0; i < nclients; i++)
			n += sh->ops[i][a];
		printf(" %s %ld", act_name[a], n);
	}
	printf("\n");
	if (sh->nerr) {
		fprintf(stderr, "stress: %d unexpected results%s:\n", sh->nerr,
			sh->nerr > MAXERR ? " (the first ones)" : "");
		for (int i = 0; i < sh->nerr && i < MAXERR; i++)
			fprintf(stderr, "  %s\n", sh->err[i]);
		rc = 1;
	}
	return rc;
}

/* ---- reader (unmount part) -------------------------------------------- */

static int cmd_reader(const char *path)
{
	char buf[65536];
	size_t n = 0;
	int fd = open(path, O_RDONLY);
	long t0;

	if (fd < 0) {
		printf("open errno %s\n", ename(errno));
		return 1;
	}
	t0 = now_ms();
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r == 0) {
			printf("eof %zu after %ld ms\n", n, now_ms() - t0);
			return 0;
		}
		if (r < 0) {
			printf("errno %s %zu after %ld ms\n", ename(errno), n, now_ms() - t0);
			return 1;
		}
		n += (size_t)r;
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 6 && strcmp(argv[1], "run") == 0) {
		MNT = argv[2];
		return cmd_run(atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	}
	if (argc == 3 && strcmp(argv[1], "reader") == 0)
		return cmd_reader(argv[2]);
	fprintf(stderr, "usage: stress run MNT SECONDS NCLIENTS DAEMONPID | stress reader PATH\n");
	return 2;
}
