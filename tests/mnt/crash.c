/* crash - client of tests/mnt/t_20_crash.sh. Built by the test into its
 * temp dir, never into the repo.
 *
 *   crash run MNT JOURNAL ROUND NJOBS [RESTARTLIST]
 *       Makes NJOBS jobs rROUNDjK of several kinds (pass; exec tr; exec sort;
 *       json filter/pick/template/count with a schema; a multi-node chain
 *       with two inputs and options), one thread per job, and feeds their
 *       inputs in chunks (some slowly, so that they are still open when the
 *       daemon is killed). Meanwhile it restarts (ctl `restart`), at random
 *       moments (just before CRASH_KILL_MS if set), up to 4 interrupted jobs of RESTARTLIST ("JOB KIND" lines,
 *       written by verify). It appends to JOURNAL (O_APPEND, fsync'd):
 *         mkdir JOB KIND              mkdir returned 0
 *         spec JOB                    close() of spec.json returned 0
 *         closed JOB TAG LEN HASH     close() of input/TAG returned 0
 *         restart JOB                 close() of ctl `restart` returned 0
 *         succ JOB status=L:H log=L:H out.TAG=L:H ...
 *                                     `wait` said succeeded; what was read
 *       It stops on the first error that says the daemon is gone (ENOTCONN,
 *       ECONNABORTED, ...), and exits 0 then; any other error is reported
 *       and makes it exit 1.
 *
 *   crash verify MNT JOURNAL ROUND MAXRESTART [RESTARTLIST]
 *       On a new mount of the same store, checks every job of JOURNAL:
 *         - it exists; its status is valid JSON;
 *         - every closed input reads back byte for byte;
 *         - a job recorded succeeded has the same status, log and outputs;
 *         - a job whose spec was accepted is succeeded or interrupted, and
 *           an interrupted one has error set and an "interrupted: REASON"
 *           line in its log;
 *         - a job only made (mkdir) is new or interrupted;
 *         - a job marked `corrupt JOB` (its status.json damaged by the test)
 *           is interrupted, and its log names status.json;
 *         - a job marked `damaged JOB` (another file damaged by the test)
 *           only has a readable status and log (the test checks the rest).
 *       Then it restarts every corrupted job and up to MAXRESTART jobs
 *       interrupted in ROUND, waits for them, and compares their outputs
 *       with a run that was never interrupted: the outputs recorded before
 *       (corrupted jobs), else a fresh job ref-JOB made with the same spec
 *       and options and fed the same stored inputs (then removed); jobs
 *       restarted by `run` that have succeeded since are compared the same
 *       way (`refok JOB` records it). New `succ` lines are appended for
 *       restarted jobs and for succeeded jobs seen for the first time, so
 *       later rounds check them too. It writes the other interrupted jobs
 *       that can be restarted to RESTARTLIST, prints a summary, and exits 1
 *       if anything was wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- small helpers ------------------------------------------------------ */

static const char *MNT;
static int jfd = -1;
static pthread_mutex_t jlock = PTHREAD_MUTEX_INITIALIZER;
static volatile int gone;    /* the daemon is gone: stop quietly */
static volatile int nerrors; /* unexpected errors */
static pthread_mutex_t plock = PTHREAD_MUTEX_INITIALIZER;

static void report(const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&plock);
	va_start(ap, fmt);
	fputs("crash: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	nerrors++;
	pthread_mutex_unlock(&plock);
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* Over FUSE over io_uring, a request that a ring entry held when the
 * daemon died ends with ECANCELED: the kernel cancels the ring's commands
 * as the daemon's rings go. */
static int is_gone(int e)
{
	return e == ENOTCONN || e == ECONNABORTED || e == ENODEV || e == ESHUTDOWN ||
	       e == ECANCELED;
}

static uint64_t fnv(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
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

struct buf {
	char *p;
	size_t len, cap;
};

static void bput(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void bprintf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	bput(b, tmp, (size_t)n);
}

static void journal(const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	pthread_mutex_lock(&jlock);
	if (write(jfd, line, (size_t)n) != n || fsync(jfd) < 0) {
		perror("crash: journal");
		exit(2);
	}
	pthread_mutex_unlock(&jlock);
}

/* Reads PATH to its end. Returns 0 at EOF, else the errno of the failing
 * open or read; the bytes read so far are in *out either way. */
static int read_all(const char *path, struct buf *out)
{
	char tmp[65536];
	out->len = 0;
	bput(out, "", 0);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	for (;;) {
		ssize_t r = read(fd, tmp, sizeof(tmp));
		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		bput(out, tmp, (size_t)r);
	}
	close(fd);
	return 0;
}

/* Writes a whole small file (spec.json, options.json, ctl); 0 or errno. */
static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return errno;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			int e = errno;
			close(fd);
			return e;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		return errno;
	return 0;
}

/* ---- the kinds of jobs -------------------------------------------------- */

enum { K_PASS, K_TR, K_SORT, K_JSON, K_CHAIN, NKINDS };
static const char *kind_name[NKINDS] = {"pass", "tr", "sort", "json", "chain"};

static const char *kind_spec[NKINDS] = {
	"{\"name\": \"pass\", \"inputs\": {\"x\": {\"format\": \"lines\"}},\n"
	" \"outputs\": {\"y\": {\"from\": \"p\"}},\n"
	" \"nodes\": {\"p\": {\"op\": \"pass\", \"in\": \"x\"}}}\n",

	"{\"name\": \"tr\", \"inputs\": {\"x\": {\"format\": \"lines\"}},\n"
	" \"outputs\": {\"y\": {\"from\": \"t\"}},\n"
	" \"nodes\": {\"t\": {\"op\": \"exec\", \"in\": \"x\", \"argv\": [\"tr\", \"a-z\", \"A-Z\"]}}}\n",

	"{\"name\": \"sort\", \"inputs\": {\"x\": {\"format\": \"bytes\"}},\n"
	" \"outputs\": {\"y\": {\"from\": \"s\"}},\n"
	" \"nodes\": {\"s\": {\"op\": \"exec\", \"in\": \"x\", \"argv\": [\"sort\"],\n"
	"                    \"env\": {\"LC_ALL\": \"C\"}}}}\n",

	"{\"name\": \"orders\",\n"
	" \"inputs\": {\"orders\": {\"format\": \"json\", \"schema\": {\"type\": \"object\",\n"
	"     \"required\": [\"id\", \"item\", \"status\"],\n"
	"     \"properties\": {\"id\": {\"type\": \"integer\", \"minimum\": 0},\n"
	"                    \"item\": {\"type\": \"string\", \"minLength\": 1},\n"
	"                    \"status\": {\"enum\": [\"shipped\", \"pending\", \"returned\"]}}}}},\n"
	" \"outputs\": {\"picked\": {\"from\": \"pk\"}, \"lines\": {\"from\": \"tp\"}, \"n\": {\"from\": \"cnt\"}},\n"
	" \"nodes\": {\"sh\": {\"op\": \"filter\", \"in\": \"orders\", \"field\": \"status\", \"equals\": \"shipped\"},\n"
	"           \"pk\": {\"op\": \"pick\", \"in\": \"sh\", \"fields\": [\"id\", \"item\"]},\n"
	"           \"tp\": {\"op\": \"template\", \"in\": \"sh\", \"text\": \"{id}:{item}\"},\n"
	"           \"cnt\": {\"op\": \"count\", \"in\": \"orders\"}}}\n",

	"{\"name\": \"chain\",\n"
	" \"options\": {\"mark\": {\"type\": \"string\", \"default\": \"?\"}},\n"
	" \"inputs\": {\"a\": {\"format\": \"lines\"}, \"b\": {\"format\": \"lines\"}},\n"
	" \"outputs\": {\"y\": {\"from\": \"ex\"}, \"n\": {\"from\": \"cnt\"}},\n"
	" \"nodes\": {\"cat\": {\"op\": \"concat\", \"in\": [\"a\", \"b\"]},\n"
	"           \"up\": {\"op\": \"upper\", \"in\": \"cat\"},\n"
	"           \"rep\": {\"op\": \"replace\", \"in\": \"up\", \"pattern\": \"^(.*)$\", \"with\": \"<\\\\1${mark}>\"},\n"
	"           \"g\": {\"op\": \"grep\", \"in\": \"rep\", \"pattern\": \"[AEIOU]\"},\n"
	"           \"ex\": {\"op\": \"exec\", \"in\": \"g\", \"argv\": [\"cat\"]},\n"
	"           \"cnt\": {\"op\": \"count\", \"in\": \"a\"}}}\n",
};
static const char *kind_options[NKINDS] = {NULL, NULL, NULL, NULL, "{\"mark\": \"!\"}\n"};
static const char *kind_inputs[NKINDS][3] = {
	{"x"}, {"x"}, {"x"}, {"orders"}, {"a", "b"},
};
static const char *kind_outputs[NKINDS][4] = {
	{"y"}, {"y"}, {"y"}, {"picked", "lines", "n"}, {"y", "n"},
};

static int kind_of(const char *s)
{
	for (int k = 0; k < NKINDS; k++)
		if (strcmp(s, kind_name[k]) == 0)
			return k;
	return -1;
}

static int ntags(const char *const *t)
{
	int n = 0;
	while (n < 4 && t[n])
		n++;
	return n;
}

static const char *words[] = {
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
	"india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
	"quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey",
	"xray", "yankee", "zulu", "rhythm", "crwth", "psst", "tsktsk",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

/* The input TAG of JOB: deterministic from both names. */
static void gen_input(const char *job, const char *tag, int kind, struct buf *b)
{
	char seedtxt[600];
	snprintf(seedtxt, sizeof(seedtxt), "%s/%s", job, tag);
	uint64_t s = fnv(seedtxt, strlen(seedtxt));
	size_t want = 2000 + mix(&s) % 60000;
	static const char *st[] = {"shipped", "pending", "returned"};

	b->len = 0;
	for (unsigned n = 0; b->len < want; n++) {
		if (kind == K_JSON) {
			bprintf(b, "{\"id\": %u, \"item\": \"%s-%u\", \"status\": \"%s\", \"qty\": %u}\n",
				n, words[mix(&s) % NWORDS], (unsigned)(mix(&s) % 1000),
				st[mix(&s) % 3], (unsigned)(mix(&s) % 50));
		} else {
			int nw = 1 + (int)(mix(&s) % 8);
			bprintf(b, "%u", (unsigned)(mix(&s) % 100000));
			for (int w = 0; w < nw; w++)
				bprintf(b, " %s", words[mix(&s) % NWORDS]);
			bput(b, "\n", 1);
		}
	}
}

/* ---- run ---------------------------------------------------------------- */

struct runjob {
	char name[64];
	int kind;
	uint64_t seed;
	int restart;        /* an old interrupted job to restart */
	int cancel;         /* feed, cancel with the inputs open, restart */
	pthread_t th;
};

/* Classifies a failed syscall of the run: the daemon gone (quiet) or not. */
static int run_err(const char *job, const char *what, int e)
{
	if (is_gone(e)) {
		gone = 1;
		return -1;
	}
	if (!gone)
		report("%s: %s: %s (%s)", job, what, ename(e), strerror(e));
	return -1;
}

static int record_success(const char *job, int kind)
{
	char path[512];
	struct buf b = {0}, line = {0};
	int e;

	bprintf(&line, "succ %s", job);
	snprintf(path, sizeof(path), "%s/%s/status", MNT, job);
	if ((e = read_all(path, &b)) != 0)
		return run_err(job, "read status", e);
	bprintf(&line, " status=%zu:%016llx", b.len, (unsigned long long)fnv(b.p, b.len));
	snprintf(path, sizeof(path), "%s/%s/log", MNT, job);
	if ((e = read_all(path, &b)) != 0)
		return run_err(job, "read log", e);
	bprintf(&line, " log=%zu:%016llx", b.len, (unsigned long long)fnv(b.p, b.len));
	for (int o = 0; o < ntags(kind_outputs[kind]); o++) {
		snprintf(path, sizeof(path), "%s/%s/output/%s", MNT, job, kind_outputs[kind][o]);
		if ((e = read_all(path, &b)) != 0)
			return run_err(job, path, e);
		bprintf(&line, " out.%s=%zu:%016llx", kind_outputs[kind][o], b.len,
			(unsigned long long)fnv(b.p, b.len));
	}
	journal("%s", line.p);
	free(b.p);
	free(line.p);
	return 0;
}

/* Restarts an old interrupted job (at a random moment of the round, so
 * that some restarted jobs are running when the daemon is killed). */
static void run_restart_now(struct runjob *rj);

static void *run_restart(void *arg)
{
	struct runjob *rj = arg;
	uint64_t s = rj->seed;

	/* CRASH_KILL_MS: when the test will kill the daemon; restart just
	 * before, so that the restarted job is likely running then */
	const char *k = getenv("CRASH_KILL_MS");
	int kill_ms = k ? atoi(k) : 2500;
	int at = kill_ms - 120 + (int)(mix(&s) % 120);
	msleep(at > 0 ? at : 0);
	run_restart_now(rj);
	return NULL;
}

static void run_restart_now(struct runjob *rj)
{
	char path[512];
	struct buf w = {0};
	int e;

	if (gone)
		return;
	snprintf(path, sizeof(path), "%s/%s/ctl", MNT, rj->name);
	if ((e = write_file(path, "restart\n", 8)) != 0) {
		run_err(rj->name, "echo restart > ctl", e);
		return;
	}
	journal("restart %s", rj->name);
	snprintf(path, sizeof(path), "%s/%s/wait", MNT, rj->name);
	if ((e = read_all(path, &w)) != 0)
		run_err(rj->name, "read wait after restart", e);
	else if (strcmp(w.p, "succeeded\n") != 0)
		report("%s: after the restart, wait says '%s', expected succeeded", rj->name, w.p);
	else
		record_success(rj->name, rj->kind);
	free(w.p);
}

static void *run_job(void *arg)
{
	struct runjob *rj = arg;
	char path[512];
	int k = rj->kind, nin = ntags(kind_inputs[k]), e;
	uint64_t s = rj->seed;
	/* a quarter of the jobs are slow: their inputs are open for seconds */
	int slow = mix(&s) % 4 == 0;
	struct buf data[3] = {{0}};
	int fd[3] = {-1, -1, -1};
	size_t off[3] = {0};

	msleep((int)(mix(&s) % 150));
	snprintf(path, sizeof(path), "%s/%s", MNT, rj->name);
	if (mkdir(path, 0755) < 0) {
		run_err(rj->name, "mkdir", errno);
		return NULL;
	}
	journal("mkdir %s %s", rj->name, kind_name[k]);
	if (kind_options[k]) {
		snprintf(path, sizeof(path), "%s/%s/options.json", MNT, rj->name);
		if ((e = write_file(path, kind_options[k], strlen(kind_options[k]))) != 0) {
			run_err(rj->name, "write options.json", e);
			return NULL;
		}
	}
	snprintf(path, sizeof(path), "%s/%s/spec.json", MNT, rj->name);
	if ((e = write_file(path, kind_spec[k], strlen(kind_spec[k]))) != 0) {
		run_err(rj->name, "write spec.json", e);
		return NULL;
	}
	journal("spec %s", rj->name);

	for (int i = 0; i < nin; i++) {
		gen_input(rj->name, kind_inputs[k][i], k, &data[i]);
		snprintf(path, sizeof(path), "%s/%s/input/%s", MNT, rj->name, kind_inputs[k][i]);
		if ((fd[i] = open(path, O_WRONLY)) < 0) {
			run_err(rj->name, "open input", errno);
			goto out;
		}
	}
	/* chunks of random sizes (lines and JSON records cut anywhere),
	 * round robin over the inputs, each closed when it is complete */
	for (int open_left = nin; open_left > 0 && !gone;) {
		for (int i = 0; i < nin; i++) {
			if (fd[i] < 0 || off[i] == data[i].len)
				continue;
			size_t n = 1 + mix(&s) % (slow ? 600 : 6000);
			if (n > data[i].len - off[i])
				n = data[i].len - off[i];
			ssize_t w = write(fd[i], data[i].p + off[i], n);
			if (w < 0) {
				run_err(rj->name, "write input", errno);
				goto out;
			}
			off[i] += (size_t)w;
			if (off[i] < data[i].len)
				continue;
			if (rj->cancel) {
				open_left--; /* kept open */
				continue;
			}
			int c = close(fd[i]);
			fd[i] = -1;
			open_left--;
			if (c < 0) {
				run_err(rj->name, "close input", errno);
				goto out;
			}
			journal("closed %s %s %zu %016llx", rj->name, kind_inputs[k][i], data[i].len,
				(unsigned long long)fnv(data[i].p, data[i].len));
		}
		msleep(slow ? 40 + (int)(mix(&s) % 80) : (int)(mix(&s) % 12));
	}
	if (gone)
		goto out;
	if (rj->cancel) {
		/* cancel while the inputs are open, then restart */
		struct buf w = {0};
		snprintf(path, sizeof(path), "%s/%s/ctl", MNT, rj->name);
		if ((e = write_file(path, "cancel\n", 7)) != 0) {
			run_err(rj->name, "echo cancel > ctl", e);
			goto out;
		}
		journal("cancel %s", rj->name);
		for (int i = 0; i < nin; i++) {
			int c = close(fd[i]);
			e = errno;
			fd[i] = -1;
			if (c < 0 && e != EPIPE && e != EIO) {
				run_err(rj->name, "close input of a cancelled job", e);
				goto out;
			}
		}
		snprintf(path, sizeof(path), "%s/%s/wait", MNT, rj->name);
		if ((e = read_all(path, &w)) != 0) {
			run_err(rj->name, "read wait", e);
			free(w.p);
			goto out;
		}
		if (strcmp(w.p, "cancelled\n") != 0) {
			report("%s: cancelled with ctl, but wait says '%s'", rj->name, w.p);
			free(w.p);
			goto out;
		}
		free(w.p);
		msleep((int)(mix(&s) % 300));
		rj->seed = s;
		rj->kind = k;
		run_restart_now(rj);
		goto out;
	}
	{
		struct buf w = {0};
		snprintf(path, sizeof(path), "%s/%s/wait", MNT, rj->name);
		if ((e = read_all(path, &w)) != 0)
			run_err(rj->name, "read wait", e);
		else if (strcmp(w.p, "succeeded\n") != 0)
			report("%s: wait says '%s', expected succeeded", rj->name, w.p);
		else
			record_success(rj->name, k);
		free(w.p);
	}
out:
	for (int i = 0; i < nin; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		free(data[i].p);
	}
	return NULL;
}

static int cmd_run(const char *journal_path, int round, int njobs, const char *list)
{
	struct runjob *jobs = calloc((size_t)njobs + 8, sizeof(*jobs));
	int nall = njobs;
	FILE *lf = list ? fopen(list, "r") : NULL;
	char lname[64], lkind[16];

	/* LIST: "JOB KIND" lines of interrupted jobs: restart up to 3 */
	while (lf && nall < njobs + 4 && fscanf(lf, "%63s %15s", lname, lkind) == 2) {
		struct runjob *rj = &jobs[nall++];
		snprintf(rj->name, sizeof(rj->name), "%s", lname);
		rj->kind = kind_of(lkind);
		rj->seed = fnv(lname, strlen(lname)) + (uint64_t)round;
		rj->restart = 1;
	}
	if (lf)
		fclose(lf);

	jfd = open(journal_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (jfd < 0) {
		perror(journal_path);
		return 2;
	}
	for (int i = 0; i < njobs; i++) {
		snprintf(jobs[i].name, sizeof(jobs[i].name), "r%dj%d", round, i);
		jobs[i].kind = (round * njobs + i) % NKINDS;
		jobs[i].seed = fnv(jobs[i].name, strlen(jobs[i].name)) ^ (uint64_t)round;
		jobs[i].cancel = i % 6 == 5 && jobs[i].kind != K_JSON;
		if (pthread_create(&jobs[i].th, NULL, run_job, &jobs[i]) != 0) {
			perror("pthread_create");
			return 2;
		}
	}
	for (int i = njobs; i < nall; i++)
		if (pthread_create(&jobs[i].th, NULL, run_restart, &jobs[i]) != 0) {
			perror("pthread_create");
			return 2;
		}
	for (int i = 0; i < nall; i++)
		pthread_join(jobs[i].th, NULL);
	printf("run %d: %d new jobs, %d restarts: %s\n", round, njobs, nall - njobs,
	       gone ? "the daemon went away" : "every job ended");
	return nerrors ? 1 : 0;
}

/* ---- verify ------------------------------------------------------------- */

struct hv {
	size_t len;
	unsigned long long h;
};

struct jrec {
	char name[64];
	int kind;
	int round;
	int spec;           /* spec.json accepted */
	int closed_n;
	char closed_tag[3][16];
	struct hv closed[3];
	int succ;           /* a current succ record */
	struct hv st, lg, out[4];
	int corrupt;        /* status.json damaged since the last succ */
	struct hv prev_out[4]; /* outputs of the succ before the damage */
	int had_prev;
	int needs_ref;      /* restarted by `run`: compare with a fresh run */
	int damaged;        /* another store file damaged: only reported */
	int cancelled;      /* cancelled by ctl (no restart since) */
};

static struct jrec *recs;
static int nrecs;

static struct jrec *rec_get(const char *name)
{
	for (int i = 0; i < nrecs; i++)
		if (strcmp(recs[i].name, name) == 0)
			return &recs[i];
	return NULL;
}

static int parse_hv(const char *s, struct hv *v)
{
	return sscanf(s, "%zu:%llx", &v->len, &v->h) == 2 ? 0 : -1;
}

static int load_journal(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	int cap = 0, lineno = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *tok[16], *save = NULL;
		int nt = 0;
		struct jrec *r;

		lineno++;
		if (!strchr(line, '\n'))
			continue; /* a torn last line */
		for (char *t = strtok_r(line, " \n", &save); t && nt < 16; t = strtok_r(NULL, " \n", &save))
			tok[nt++] = t;
		if (nt < 2)
			continue;
		r = rec_get(tok[1]);
		if (strcmp(tok[0], "mkdir") == 0 && nt == 3) {
			if (r)
				continue;
			if (nrecs == cap) {
				cap = cap ? cap * 2 : 256;
				recs = realloc(recs, (size_t)cap * sizeof(*recs));
			}
			r = &recs[nrecs++];
			memset(r, 0, sizeof(*r));
			snprintf(r->name, sizeof(r->name), "%s", tok[1]);
			r->kind = kind_of(tok[2]);
			r->round = atoi(tok[1] + 1);
			continue;
		}
		if (!r) {
			fprintf(stderr, "crash: journal line %d: unknown job %s\n", lineno, tok[1]);
			continue;
		}
		if (strcmp(tok[0], "spec") == 0) {
			r->spec = 1;
		} else if (strcmp(tok[0], "cancel") == 0) {
			r->cancelled = 1;
		} else if (strcmp(tok[0], "restart") == 0) {
			r->cancelled = 0;
			r->succ = 0;
			r->needs_ref = 1;
		} else if (strcmp(tok[0], "refok") == 0) {
			r->needs_ref = 0;
		} else if (strcmp(tok[0], "damaged") == 0) {
			r->damaged = 1;
		} else if (strcmp(tok[0], "closed") == 0 && nt == 5 && r->closed_n < 3) {
			snprintf(r->closed_tag[r->closed_n], 16, "%s", tok[2]);
			r->closed[r->closed_n].len = strtoull(tok[3], NULL, 10);
			r->closed[r->closed_n].h = strtoull(tok[4], NULL, 16);
			r->closed_n++;
		} else if (strcmp(tok[0], "succ") == 0) {
			int o = 0;
			r->succ = 1;
			r->corrupt = 0;
			for (int i = 2; i < nt; i++) {
				if (strncmp(tok[i], "status=", 7) == 0)
					parse_hv(tok[i] + 7, &r->st);
				else if (strncmp(tok[i], "log=", 4) == 0)
					parse_hv(tok[i] + 4, &r->lg);
				else if (strncmp(tok[i], "out.", 4) == 0 && o < 4)
					parse_hv(strchr(tok[i], '=') + 1, &r->out[o++]);
			}
		} else if (strcmp(tok[0], "corrupt") == 0) {
			r->corrupt = 1;
			if (r->succ) {
				memcpy(r->prev_out, r->out, sizeof(r->out));
				r->had_prev = 1;
			}
			r->succ = 0;
		}
	}
	fclose(f);
	return 0;
}

static char *first_lines(const char *s, int n)
{
	static char out[2048];
	size_t k = 0;
	for (; s[k] && k < sizeof(out) - 1; k++)
		if (s[k] == '\n' && --n == 0)
			break;
	memcpy(out, s, k);
	out[k] = '\0';
	return out;
}

/* The last lines of a log, for failure messages. */
static const char *tail_of(const struct buf *b, int n)
{
	if (!b->len)
		return "";
	const char *p = b->p + b->len;
	while (p > b->p && n >= 0) {
		p--;
		if (*p == '\n')
			n--;
	}
	return p == b->p ? p : p + 1;
}

static int job_state(const char *job, char *state, size_t cap, char *err, size_t ecap, struct buf *st)
{
	char path[512];
	json_error_t je;
	int e;

	snprintf(path, sizeof(path), "%s/%s/status", MNT, job);
	if ((e = read_all(path, st)) != 0) {
		report("%s: cannot read status: %s", job, strerror(e));
		return -1;
	}
	json_t *j = json_loadb(st->p, st->len, 0, &je);
	if (!j || !json_is_object(j)) {
		report("%s: status is not a JSON object (%s): %.300s", job, je.text, st->p);
		json_decref(j);
		return -1;
	}
	snprintf(state, cap, "%s", json_string_value(json_object_get(j, "state")) ?: "?");
	snprintf(err, ecap, "%s", json_string_value(json_object_get(j, "error")) ?: "");
	json_decref(j);
	return 0;
}

static int wait_job(const char *job)
{
	char path[512];
	struct buf w = {0};
	int e, ok = 0;

	snprintf(path, sizeof(path), "%s/%s/wait", MNT, job);
	if ((e = read_all(path, &w)) != 0)
		report("%s: read wait: %s", job, strerror(e));
	else if (strcmp(w.p, "succeeded\n") != 0)
		report("%s: wait says '%s' after the restart, expected succeeded", job, first_lines(w.p, 1));
	else
		ok = 1;
	free(w.p);
	return ok;
}

/* Reads each output of a job that succeeded: its length and hash. */
static int read_outputs(const char *job, int kind, struct hv *out, struct buf *keep)
{
	char path[512];
	struct buf b = {0};
	int e;

	for (int o = 0; o < ntags(kind_outputs[kind]); o++) {
		snprintf(path, sizeof(path), "%s/%s/output/%s", MNT, job, kind_outputs[kind][o]);
		if ((e = read_all(path, &b)) != 0) {
			report("%s: reading output/%s: %s after %zu bytes", job, kind_outputs[kind][o],
			       strerror(e), b.len);
			free(b.p);
			return -1;
		}
		out[o].len = b.len;
		out[o].h = fnv(b.p, b.len);
		if (keep) {
			keep[o].len = 0;
			bput(&keep[o], b.p, b.len);
		}
	}
	free(b.p);
	return 0;
}

static void append_succ(const char *job, int kind)
{
	char path[512];
	struct buf b = {0}, line = {0};
	struct hv out[4];
	int e;

	bprintf(&line, "succ %s", job);
	snprintf(path, sizeof(path), "%s/%s/status", MNT, job);
	if ((e = read_all(path, &b)) != 0) {
		report("%s: read status: %s", job, strerror(e));
		goto out;
	}
	bprintf(&line, " status=%zu:%016llx", b.len, (unsigned long long)fnv(b.p, b.len));
	snprintf(path, sizeof(path), "%s/%s/log", MNT, job);
	if ((e = read_all(path, &b)) != 0) {
		report("%s: read log: %s", job, strerror(e));
		goto out;
	}
	bprintf(&line, " log=%zu:%016llx", b.len, (unsigned long long)fnv(b.p, b.len));
	if (read_outputs(job, kind, out, NULL) < 0)
		goto out;
	for (int o = 0; o < ntags(kind_outputs[kind]); o++)
		bprintf(&line, " out.%s=%zu:%016llx", kind_outputs[kind][o], out[o].len, out[o].h);
	journal("%s", line.p);
out:
	free(b.p);
	free(line.p);
}

/* Compares the outputs of R (which has just succeeded) with a run that was
 * never interrupted: a fresh job ref-JOB with the same spec and options,
 * fed the same stored inputs; then removes ref-JOB. */
static int compare_ref(struct jrec *r)
{
	char path[512], ref[80];
	struct buf in[3] = {{0}}, got[4] = {{0}}, exp[4] = {{0}};
	struct hv gh[4], eh[4];
	int k = r->kind, nin = ntags(kind_inputs[k]), e, ok = 0;

	for (int i = 0; i < nin; i++) {
		snprintf(path, sizeof(path), "%s/%s/input/%s", MNT, r->name, kind_inputs[k][i]);
		if ((e = read_all(path, &in[i])) != 0) {
			report("%s: reading input/%s of a succeeded job: %s", r->name, kind_inputs[k][i],
			       strerror(e));
			goto out;
		}
	}
	if (read_outputs(r->name, k, gh, got) < 0)
		goto out;
	snprintf(ref, sizeof(ref), "ref-%s", r->name);
	snprintf(path, sizeof(path), "%s/%s", MNT, ref);
	if (mkdir(path, 0755) < 0) {
		report("mkdir %s: %s", ref, strerror(errno));
		goto out;
	}
	if (kind_options[k]) {
		snprintf(path, sizeof(path), "%s/%s/options.json", MNT, ref);
		if ((e = write_file(path, kind_options[k], strlen(kind_options[k]))) != 0) {
			report("%s: options.json: %s", ref, strerror(e));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/%s/spec.json", MNT, ref);
	if ((e = write_file(path, kind_spec[k], strlen(kind_spec[k]))) != 0) {
		report("%s: spec.json: %s", ref, strerror(e));
		goto out;
	}
	for (int i = 0; i < nin; i++) {
		snprintf(path, sizeof(path), "%s/%s/input/%s", MNT, ref, kind_inputs[k][i]);
		if ((e = write_file(path, in[i].p, in[i].len)) != 0) {
			report("%s: input/%s: %s", ref, kind_inputs[k][i], strerror(e));
			goto out;
		}
	}
	if (!wait_job(ref) || read_outputs(ref, k, eh, exp) < 0)
		goto out;
	for (int o = 0; o < ntags(kind_outputs[k]); o++)
		if (gh[o].len != eh[o].len || gh[o].h != eh[o].h) {
			report("%s: after the restart, output/%s differs from an uninterrupted run "
			       "(%s): %zu bytes vs %zu; starts:\n%s\n--- expected:\n%s",
			       r->name, kind_outputs[k][o], ref, gh[o].len, eh[o].len,
			       first_lines(got[o].p, 3), first_lines(exp[o].p, 3));
			goto out;
		}
	snprintf(path, sizeof(path), "%s/%s", MNT, ref);
	if (rmdir(path) < 0)
		report("rmdir %s: %s", ref, strerror(errno));
	journal("refok %s", r->name);
	ok = 1;
out:
	for (int i = 0; i < 3; i++)
		free(in[i].p);
	for (int i = 0; i < 4; i++) {
		free(got[i].p);
		free(exp[i].p);
	}
	return ok;
}

/* Restarts an interrupted job and compares its outputs with a run that
 * was never interrupted. */
static int restart_job(struct jrec *r, int *nref)
{
	char path[512];
	struct hv gh[4];
	int k = r->kind, e;

	snprintf(path, sizeof(path), "%s/%s/ctl", MNT, r->name);
	if ((e = write_file(path, "restart\n", 8)) != 0) {
		report("%s: echo restart > ctl: %s", r->name, strerror(e));
		return 0;
	}
	if (!wait_job(r->name) || read_outputs(r->name, k, gh, NULL) < 0)
		return 0;
	if (r->had_prev) {
		/* it had succeeded before its status.json was damaged */
		for (int o = 0; o < ntags(kind_outputs[k]); o++)
			if (gh[o].len != r->prev_out[o].len || gh[o].h != r->prev_out[o].h) {
				report("%s: after the restart, output/%s has %zu bytes (hash %016llx); "
				       "before its status.json was damaged it had %zu bytes (hash %016llx)",
				       r->name, kind_outputs[k][o], gh[o].len, gh[o].h,
				       r->prev_out[o].len, r->prev_out[o].h);
				return 0;
			}
		return 1;
	}
	if (!compare_ref(r))
		return 0;
	(*nref)++;
	return 1;
}

static int cmd_verify(const char *journal_path, int round, int maxrestart, const char *list)
{
	char path[512], state[64], err[1024];
	struct buf st = {0}, b = {0};
	int n_succ = 0, n_obs = 0, n_int = 0, n_new = 0, n_restart = 0, n_ref = 0, n_closed = 0;
	int n_corrupt = 0, n_damaged = 0, n_run_ref = 0, n_cancelled = 0, e;
	struct jrec **torestart, **toref, **later;
	int ntor = 0, nthis = 0, ntoref = 0, nlater = 0;
	FILE *lf;

	if (load_journal(journal_path) < 0)
		return 2;
	jfd = open(journal_path, O_WRONLY | O_APPEND);
	if (jfd < 0) {
		perror(journal_path);
		return 2;
	}
	torestart = calloc((size_t)nrecs + 1, sizeof(*torestart));
	toref = calloc((size_t)nrecs + 1, sizeof(*toref));
	later = calloc((size_t)nrecs + 1, sizeof(*later));
	for (int i = 0; i < nrecs; i++) {
		struct jrec *r = &recs[i];
		struct stat sb;
		int k = r->kind;

		snprintf(path, sizeof(path), "%s/%s", MNT, r->name);
		if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
			report("%s: mkdir had returned 0, but after the remount stat says %s",
			       r->name, strerror(errno));
			continue;
		}
		if (job_state(r->name, state, sizeof(state), err, sizeof(err), &st) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/log", MNT, r->name);
		if ((e = read_all(path, &b)) != 0) {
			report("%s: cannot read log: %s", r->name, strerror(e));
			continue;
		}
		if (r->damaged) {
			/* t_20 checks .log for it; here only that it is readable */
			n_damaged++;
			continue;
		}

		/* closed inputs: intact, byte for byte */
		for (int c = 0; c < r->closed_n; c++) {
			struct buf in = {0};
			snprintf(path, sizeof(path), "%s/%s/input/%s", MNT, r->name, r->closed_tag[c]);
			e = read_all(path, &in);
			if ((e != 0 && e != EIO) || in.len != r->closed[c].len ||
			    fnv(in.p, in.len) != r->closed[c].h) {
				report("%s: input/%s, whose close() had returned 0 (%zu bytes, hash %016llx), "
				       "reads back %zu bytes (hash %016llx, end: %s); job %s",
				       r->name, r->closed_tag[c], r->closed[c].len, r->closed[c].h, in.len,
				       (unsigned long long)fnv(in.p, in.len), e ? ename(e) : "EOF", state);
			}
			n_closed++;
			free(in.p);
		}

		if (r->corrupt) {
			n_corrupt++;
			if (strcmp(state, "interrupted") != 0)
				report("%s: its status.json was damaged before the mount: state '%s', "
				       "expected interrupted", r->name, state);
			else if (!strstr(b.p, "status.json"))
				report("%s: its status.json was damaged before the mount, but its log does "
				       "not say so:\n%s", r->name, tail_of(&b, 8));
			else
				torestart[ntor++] = r;
			continue;
		}
		if (r->succ) {
			struct hv out[4];
			n_succ++;
			n_obs++;
			if (strcmp(state, "succeeded") != 0) {
				report("%s: had succeeded, now '%s' (error: %s)\n%s", r->name, state, err,
				       tail_of(&b, 6));
				continue;
			}
			if (st.len != r->st.len || fnv(st.p, st.len) != r->st.h)
				report("%s: status of a job that had succeeded changed: %zu bytes, was %zu; "
				       "now:\n%s", r->name, st.len, r->st.len, st.p);
			if (b.len != r->lg.len || fnv(b.p, b.len) != r->lg.h)
				report("%s: log of a job that had succeeded changed: %zu bytes, was %zu; "
				       "it ends:\n%s", r->name, b.len, r->lg.len, tail_of(&b, 6));
			if (read_outputs(r->name, k, out, NULL) == 0)
				for (int o = 0; o < ntags(kind_outputs[k]); o++)
					if (out[o].len != r->out[o].len || out[o].h != r->out[o].h)
						report("%s: output/%s of a job that had succeeded changed: "
						       "%zu bytes (hash %016llx), was %zu bytes (hash %016llx)",
						       r->name, kind_outputs[k][o], out[o].len, out[o].h,
						       r->out[o].len, r->out[o].h);
			if (r->needs_ref)
				toref[ntoref++] = r;
			continue;
		}
		if (strcmp(state, "succeeded") == 0) {
			/* ended before the kill, unobserved: check it stays so */
			n_succ++;
			append_succ(r->name, k);
			if (r->needs_ref)
				toref[ntoref++] = r;
			continue;
		}
		if (strcmp(state, "interrupted") == 0) {
			const char *l = strstr(b.p, "job: interrupted: ");
			int eligible = r->spec && (r->closed_n == ntags(kind_inputs[k]) || k != K_JSON);
			n_int++;
			if (!*err)
				report("%s: interrupted, but its status has no error (the reason)", r->name);
			if (!l || l[18] == '\n' || l[18] == '\0')
				report("%s: interrupted, but its log has no 'job: interrupted: REASON' line; "
				       "it ends:\n%s", r->name, tail_of(&b, 6));
			else if (eligible && r->round == round && nthis < maxrestart) {
				/* restart: jobs whose inputs were all closed, and
				 * line jobs fed with whatever was stored */
				torestart[ntor++] = r;
				nthis++;
			} else if (eligible) {
				later[nlater++] = r;
			}
			continue;
		}
		if (strcmp(state, "cancelled") == 0 && r->cancelled) {
			/* killed between the cancel and the restart: restart it now */
			torestart[ntor++] = r;
			n_cancelled++;
			continue;
		}
		if (strcmp(state, "new") == 0 && !r->spec) {
			n_new++;
			continue;
		}
		report("%s: after the kill and the remount its state is '%s' (error: %s); expected %s\n%s",
		       r->name, state, err,
		       r->cancelled ? "cancelled, succeeded or interrupted"
		       : r->spec ? "succeeded or interrupted" : "new or interrupted",
		       tail_of(&b, 6));
	}

	for (int i = 0; i < ntor; i++) {
		if (restart_job(torestart[i], &n_ref)) {
			n_restart++;
			append_succ(torestart[i]->name, torestart[i]->kind);
		}
	}
	for (int i = 0; i < ntoref; i++)
		n_run_ref += compare_ref(toref[i]);
	/* the next run restarts some of the others (the newest first) */
	if (list && (lf = fopen(list, "w")) != NULL) {
		for (int i = nlater - 1; i >= 0; i--)
			fprintf(lf, "%s %s\n", later[i]->name, kind_name[later[i]->kind]);
		fclose(lf);
	}
	printf("verify %d: %d jobs: %d succeeded (%d seen to succeed before), %d interrupted, "
	       "%d new, %d cancelled, %d status.json damaged, %d otherwise damaged; %d closed inputs intact; "
	       "restarted %d (%d compared with a fresh run); %d restarted before the kill compared "
	       "with a fresh run; %d problems\n",
	       round, nrecs, n_succ, n_obs, n_int, n_new, n_cancelled, n_corrupt, n_damaged, n_closed, n_restart,
	       n_ref, n_run_ref, nerrors);
	free(st.p);
	free(b.p);
	return nerrors ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "run") == 0) {
		MNT = argv[2];
		return cmd_run(argv[3], atoi(argv[4]), atoi(argv[5]), argc == 7 ? argv[6] : NULL);
	}
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "verify") == 0) {
		MNT = argv[2];
		return cmd_verify(argv[3], atoi(argv[4]), atoi(argv[5]), argc == 7 ? argv[6] : NULL);
	}
	fprintf(stderr, "usage: crash run MNT JOURNAL ROUND NJOBS [RESTARTLIST]\n"
			"       crash verify MNT JOURNAL ROUND MAXRESTART [RESTARTLIST]\n");
	return 2;
}
