/* exec.c - runs a program without a shell: the node's input on its stdin,
 * its stdout as the node's output, each stderr line to the job log.
 *
 * Nothing here blocks a pool thread: the three pipes (non-blocking on our
 * side), a pidfd for the child's exit and a timerfd (timeout, the SIGTERM ->
 * SIGKILL grace, or polling when pidfds are missing) are registered with
 * the reactor, which schedules the node's task; run() then does whatever
 * I/O is ready, up to the budget.
 *
 * The child is the leader of its own process group, so that stopping the
 * node (cancel, failure, timeout) reaches its children too: SIGTERM to the
 * group, SIGKILL 2 s later. The node is done when the child has been reaped
 * and stdout and stderr are at EOF (when stopping: as soon as it is reaped;
 * the group gets a SIGKILL just before, while the zombie still holds the
 * group id, so no grandchild survives a stop). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env.h"
#include "lineop.h"
#include "reactor.h"

extern char **environ;

#define EXEC_BUF (64u << 10)    /* stdin and stdout chunks */
#define ERRLINE_MAX 4096        /* longest stderr line logged */
#define ERRLOG_MAX (1u << 20)   /* stderr bytes logged per node, then a marker */
#define KILL_GRACE_NS (2000 * 1000000LL)
#define POLL_NS (20 * 1000000LL) /* child exit polling without pidfd */

struct exec {
	bool started;           /* start() ran: the fds below are meaningful */
	pid_t pid;              /* 0: no child */
	bool reaped;
	int status;             /* wait status once reaped */
	int in_fd, out_fd, err_fd, pidfd, tfd; /* -1 when closed */
	/* stdin */
	struct buf in;          /* bytes taken from the input, not yet written */
	size_t in_off;          /* written part of `in` */
	bool in_eof;            /* every input drained */
	bool in_broken;         /* EPIPE: the child closed its stdin; discard input */
	/* stdout and stderr */
	char *obuf;             /* EXEC_BUF */
	char eline[ERRLINE_MAX];
	size_t elen;
	bool etrunc;            /* the current stderr line is longer than ERRLINE_MAX */
	uint64_t elogged;       /* stderr bytes logged so far */
	/* time */
	int64_t timeout_ms;
	int64_t timeout_at;     /* mono ns, 0: none */
	int64_t kill_at;        /* mono ns of the SIGKILL, 0: not stopping */
	bool killed;            /* SIGKILL sent */
	int64_t armed;          /* deadline the timer is armed for */
	bool failed;            /* we called node_fail() */
	char **argv, **envp;
	char *argv_json;
};

static struct reactor *R(struct node *n)
{
	return env_reactor(node_env(n));
}

static void close_fd(struct node *n, int *fd)
{
	if (*fd >= 0) {
		reactor_del(R(n), *fd);
		close(*fd);
		*fd = -1;
	}
}

static void free_strv(char **v)
{
	if (v)
		for (char **p = v; *p; p++)
			free(*p);
	free(v);
}

/* ---- the child's environment ---- */

struct strv {
	char **v;
	size_t n, cap;
};

/* Set NAME=VALUE in an array of "NAME=VALUE" strings, replacing any entry
 * of the same name. 0 or -ENOMEM. */
static int strv_set(struct strv *s, const char *name, const char *value)
{
	size_t nl = strlen(name);
	char *e;

	if (asprintf(&e, "%s=%s", name, value) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		if (strncmp(s->v[i], name, nl) == 0 && s->v[i][nl] == '=') {
			free(s->v[i]);
			s->v[i] = e;
			return 0;
		}
	}
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			free(e);
			return -ENOMEM;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = e;
	s->v[s->n] = NULL;
	return 0;
}

/* The daemon's environment, then LIVEJOB_JOB, LIVEJOB_NODE, LIVEJOB_OPT_x
 * for each option (its name as written, and upper-cased with other
 * characters as '_' when that differs), then the node's env param. */
static char **build_env(struct node *n)
{
	struct strv s = {0};
	json_t *opts = node_job_options(n), *v;
	const char *key;
	int fail = 0;

	for (char **e = environ; e && *e; e++) {
		char *eq = strchr(*e, '=');
		char name[256];

		if (!eq || eq == *e || (size_t)(eq - *e) >= sizeof(name))
			continue;
		memcpy(name, *e, (size_t)(eq - *e));
		name[eq - *e] = '\0';
		fail |= strv_set(&s, name, eq + 1);
	}
	fail |= strv_set(&s, "LIVEJOB_JOB", node_job_name(n));
	fail |= strv_set(&s, "LIVEJOB_NODE", n->name);
	json_object_foreach(opts, key, v) {
		char *text = json_is_string(v) ? strdup(json_string_value(v))
					       : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		char name[300], upper[300];

		if (!text || strlen(key) > 255) {
			free(text);
			fail |= !text;
			continue;
		}
		snprintf(name, sizeof(name), "LIVEJOB_OPT_%s", key);
		snprintf(upper, sizeof(upper), "LIVEJOB_OPT_%s", key);
		for (char *p = upper + 12; *p; p++)
			*p = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32)
			     : ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) ? *p : '_';
		fail |= strv_set(&s, name, text);
		if (strcmp(name, upper))
			fail |= strv_set(&s, upper, text);
		free(text);
	}
	json_object_foreach(json_object_get(n->params, "env"), key, v) {
		if (json_is_string(v) && key[0] && !strchr(key, '='))
			fail |= strv_set(&s, key, json_string_value(v));
	}
	if (fail || !s.v) {
		if (s.v)
			s.v[s.n] = NULL;
		free_strv(s.v);
		return NULL;
	}
	return s.v;
}

/* ---- start: spawn the child ---- */

/* Move fd above 2, so that the dup2 onto 0..2 in the child cannot clobber
 * another pipe end (only happens if the daemon runs without stdio). */
static int high_fd(int fd)
{
	int h;

	if (fd > 2)
		return fd;
	h = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return h;
}

static int make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	p[0] = high_fd(p[0]);
	p[1] = high_fd(p[1]);
	if (p[0] < 0 || p[1] < 0)
		return -EMFILE;
	return 0;
}

static int spawn(struct node *n, struct exec *x, int pin[2], int pout[2], int perr[2])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t mask, def;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	posix_spawn_file_actions_addchdir_np(&fa, node_job_dir(n));
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	sigemptyset(&mask);
	posix_spawnattr_setsigmask(&at, &mask);
	sigemptyset(&def);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaddset(&def, s);
	posix_spawnattr_setsigdefault(&at, &def);
	rc = posix_spawnp(&x->pid, x->argv[0], &fa, &at, x->argv, x->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc) {
		x->pid = 0;
		return node_fail(n, "cannot run \"%s\": %s", x->argv[0], strerror(rc));
	}
	return 0;
}

static int exec_start(struct node *n)
{
	struct exec *x = n->state;
	json_t *argv = json_object_get(n->params, "argv"), *v;
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	size_t i, argc = json_array_size(argv);
	int rc;

	x->started = true;
	x->in_fd = x->out_fd = x->err_fd = x->pidfd = x->tfd = -1;
	if (argc == 0)
		return node_fail(n, "argv must be a non-empty array of strings");
	x->argv = calloc(argc + 1, sizeof(char *));
	x->obuf = malloc(EXEC_BUF);
	x->in.p = malloc(EXEC_BUF);
	x->in.cap = x->in.p ? EXEC_BUF : 0;
	x->argv_json = json_dumps(argv, JSON_COMPACT);
	x->envp = build_env(n);
	if (!x->argv || !x->obuf || !x->in.p || !x->argv_json || !x->envp)
		return node_fail(n, "out of memory");
	json_array_foreach(argv, i, v) {
		if (!json_is_string(v) || !(x->argv[i] = strdup(json_string_value(v))))
			return node_fail(n, "argv must be a non-empty array of strings");
	}
	x->timeout_ms = param_int(n->params, "timeout_ms", 0);

	if ((rc = make_pipe(pin)) < 0 || (rc = make_pipe(pout)) < 0 ||
	    (rc = make_pipe(perr)) < 0) {
		node_fail(n, "cannot make pipes: %s", strerror(-rc));
		goto out;
	}
	if ((rc = spawn(n, x, pin, pout, perr)) < 0)
		goto out;
	node_log(n, "exec %s pid %d", x->argv_json, (int)x->pid);
	if (x->timeout_ms > 0)
		x->timeout_at = mono_ns() + x->timeout_ms * 1000000;
	/* Our ends: non-blocking, watched by the reactor. */
	x->in_fd = pin[1], pin[1] = -1;
	x->out_fd = pout[0], pout[0] = -1;
	x->err_fd = perr[0], perr[0] = -1;
	fcntl(x->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(x->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(x->err_fd, F_SETFL, O_NONBLOCK);
	x->pidfd = (int)syscall(SYS_pidfd_open, x->pid, 0);
	if (x->pidfd >= 0 && reactor_add(R(n), x->pidfd, &n->task) < 0) {
		close(x->pidfd);
		x->pidfd = -1; /* then the timer polls */
	}
	if (n->nin == 0) {
		close(x->in_fd); /* a source: the child reads EOF */
		x->in_fd = -1;
		x->in_eof = true;
	}
	if ((x->in_fd >= 0 && (rc = reactor_add(R(n), x->in_fd, &n->task)) < 0) ||
	    (rc = reactor_add(R(n), x->out_fd, &n->task)) < 0 ||
	    (rc = reactor_add(R(n), x->err_fd, &n->task)) < 0) {
		/* stop() kills and reaps the child. */
		rc = node_fail(n, "cannot watch the pipes: %s", strerror(-rc));
		goto out;
	}
	if (x->timeout_at || x->pidfd < 0) {
		x->tfd = reactor_timer(R(n), &n->task);
		if (x->tfd < 0) {
			rc = node_fail(n, "cannot create a timer: %s", strerror(-x->tfd));
			x->tfd = -1;
		}
	}
out:
	for (int k = 0; k < 2; k++) {
		if (pin[k] >= 0)
			close(pin[k]);
		if (pout[k] >= 0)
			close(pout[k]);
		if (perr[k] >= 0)
			close(perr[k]);
	}
	return rc < 0 ? rc : 0;
}

/* ---- run ---- */

/* Signal the child's process group, and the child itself in case it left
 * the group (setsid): its pid stays ours until it is reaped. */
static void signal_child(struct exec *x, int sig)
{
	if (x->pid && !x->reaped) {
		kill(-x->pid, sig);
		kill(x->pid, sig);
	}
}

/* Start stopping the child: SIGTERM to its group now, SIGKILL later. Its
 * stdin and stdout are of no more use. */
static void begin_kill(struct node *n, struct exec *x)
{
	if (x->kill_at)
		return;
	close_fd(n, &x->in_fd);
	close_fd(n, &x->out_fd);
	if (x->pid && !x->reaped) {
		signal_child(x, SIGTERM);
		x->kill_at = mono_ns() + KILL_GRACE_NS;
		if (x->tfd < 0) {
			x->tfd = reactor_timer(R(n), &n->task);
			if (x->tfd < 0) {
				x->tfd = -1;
				signal_child(x, SIGKILL); /* no timer for the grace */
				x->killed = true;
			}
		}
	} else {
		x->kill_at = 1;
	}
}

/* Take more input into x->in. Returns 1 if something was taken, 0 if
 * nothing is available, -1 when every input is drained, or <-1 after
 * node_fail(). */
static int take_input(struct node *n, struct exec *x)
{
	x->in.len = x->in_off = 0;
	if (n->nin == 1) {
		ssize_t got = node_read(n, 0, x->in.p, x->in.cap);

		if (got < 0)
			return -1;
		x->in.len = (size_t)got;
		return got > 0;
	}
	/* Several inputs: whole records in arrival order, never interleaved. */
	while (x->in.len < EXEC_BUF) {
		const char *rec;
		size_t len;
		int which, r = node_next_line(n, &rec, &len, &which);

		if (r <= 0)
			return x->in.len ? 1 : r;
		if (buf_append(&x->in, rec, len) < 0 || buf_append(&x->in, "\n", 1) < 0)
			return node_fail(n, "out of memory");
	}
	return 1;
}

/* Feed stdin until the pipe is full or the input runs dry, at most `max`
 * bytes. Returns the bytes taken from the input, or <0 after node_fail(). */
static ssize_t feed(struct node *n, struct exec *x, size_t max)
{
	size_t moved = 0;

	while (moved < max && !x->in_eof) {
		ssize_t w;

		if (x->in_off == x->in.len) {
			int r = take_input(n, x);

			if (r < -1)
				return r;
			if (r == -1) {
				x->in_eof = true;
				close_fd(n, &x->in_fd); /* the child reads EOF */
				break;
			}
			if (r == 0)
				break;
			moved += x->in.len;
			if (x->in_fd < 0) {
				x->in_off = x->in.len; /* EPIPE before: consume, discard */
				continue;
			}
		}
		w = write(x->in_fd, x->in.p + x->in_off, x->in.len - x->in_off);
		if (w > 0) {
			x->in_off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN) {
			break; /* EPOLLOUT will wake us */
		} else {
			/* EPIPE (or worse): the child does not want more input. */
			x->in_off = x->in.len;
			close_fd(n, &x->in_fd);
		}
	}
	return (ssize_t)moved;
}

/* A child flooding stderr must not grow the log without bound: past
 * ERRLOG_MAX bytes one marker line is logged and the rest only counted. */
static void log_errline(struct node *n, struct exec *x)
{
	if (x->elogged < ERRLOG_MAX) {
		node_warn(n, "stderr: %.*s%s", (int)x->elen, x->eline, x->etrunc ? " [...]" : "");
		/* what the log grows by: timestamp, level, name, "stderr: " */
		x->elogged += x->elen + strlen(n->name) + 42;
		if (x->elogged >= ERRLOG_MAX)
			node_warn(n, "stderr: more than %u bytes; the rest is not logged", ERRLOG_MAX);
	}
	x->elen = 0;
	x->etrunc = false;
}

static void errbytes(struct node *n, struct exec *x, const char *p, size_t len)
{
	while (len) {
		const char *nl = memchr(p, '\n', len);
		size_t k = nl ? (size_t)(nl - p) : len;
		size_t room = sizeof(x->eline) - x->elen;

		memcpy(x->eline + x->elen, p, k < room ? k : room);
		x->elen += k < room ? k : room;
		x->etrunc |= k > room;
		if (!nl)
			return;
		log_errline(n, x);
		p = nl + 1;
		len -= k + 1;
	}
}

/* Read one pipe until EAGAIN or `max` bytes: stdout to port 0, stderr to
 * the log. Returns the bytes read, or <0 after node_fail(). */
static ssize_t drain_fd(struct node *n, struct exec *x, int *fd, size_t max)
{
	size_t moved = 0;
	int rc;

	while (*fd >= 0 && moved < max) {
		ssize_t r = read(*fd, x->obuf, EXEC_BUF);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {
			close_fd(n, fd); /* EOF */
			if (fd == &x->err_fd && (x->elen || x->etrunc))
				log_errline(n, x); /* a last line without '\n' */
			break;
		}
		moved += (size_t)r;
		if (fd == &x->err_fd) {
			errbytes(n, x, x->obuf, (size_t)r);
		} else if ((rc = lineop_emit(n, 0, x->obuf, (size_t)r)) < 0) {
			return rc;
		}
	}
	return (ssize_t)moved;
}

/* Reap the child if it has exited. When stopping, its group gets SIGKILL
 * first, while the zombie still holds the group id. */
static void reap(struct exec *x)
{
	siginfo_t si;

	if (!x->pid || x->reaped)
		return;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)x->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
		return;
	if (x->kill_at)
		signal_child(x, SIGKILL);
	if (waitpid(x->pid, &x->status, WNOHANG) == x->pid)
		x->reaped = true;
}

static int64_t next_deadline(struct exec *x, int64_t now)
{
	int64_t d = 0;

	if (x->reaped)
		return 0;
	if (x->timeout_at && !x->kill_at)
		d = x->timeout_at;
	if (x->kill_at > 1 && !x->killed && (!d || x->kill_at < d))
		d = x->kill_at;
	if (x->pidfd < 0 && (!d || now + POLL_NS < d))
		d = now + POLL_NS;
	return d;
}

static void arm(struct exec *x)
{
	int64_t now = mono_ns(), d = next_deadline(x, now);

	if (x->tfd < 0 || d == x->armed)
		return;
	x->armed = d;
	timer_arm(x->tfd, d == 0 ? 0 : d > now ? d - now : -1);
}

/* Log how the child ended; returns the failure, if any. */
static int finish(struct node *n, struct exec *x)
{
	int st = x->status;

	if (WIFEXITED(st)) {
		json_t *acc = json_object_get(n->params, "accept_exit"), *v;
		bool ok = !acc && WEXITSTATUS(st) == 0;
		size_t i;

		node_log(n, "exit status %d", WEXITSTATUS(st));
		json_array_foreach(acc, i, v)
			ok |= json_is_integer(v) && json_integer_value(v) == WEXITSTATUS(st);
		if (!ok && !x->failed && !n->stopping) {
			x->failed = true;
			return node_fail(n, "exit status %d", WEXITSTATUS(st));
		}
	} else if (WIFSIGNALED(st)) {
		const char *abbr = sigabbrev_np(WTERMSIG(st));

		node_log(n, "killed by signal %d (SIG%s)", WTERMSIG(st), abbr ? abbr : "?");
		if (!x->failed && !n->stopping) {
			x->failed = true;
			return node_fail(n, "killed by signal %d (SIG%s)", WTERMSIG(st),
					 abbr ? abbr : "?");
		}
	}
	return x->failed ? -EIO : NODE_DONE;
}

static int exec_run(struct node *n)
{
	struct exec *x = n->state;
	size_t moved = 0;
	ssize_t r;

	if (x->tfd >= 0 && timer_read(x->tfd))
		x->armed = 0;
	if (!x->pid)
		return -EIO; /* start() failed: no child */
	if ((n->stopping || x->failed) && !x->kill_at)
		begin_kill(n, x);
	if (x->timeout_at && !x->kill_at && !x->reaped && mono_ns() >= x->timeout_at) {
		x->failed = true;
		node_fail(n, "timed out after %" PRId64 " ms", x->timeout_ms);
		begin_kill(n, x);
	}
	if (x->kill_at > 1 && !x->killed && !x->reaped && mono_ns() >= x->kill_at) {
		signal_child(x, SIGKILL);
		x->killed = true;
	}
	/* Move data both ways until nothing moves or the budget is used: a
	 * filter like cat reads more input once its output was taken. */
	for (;;) {
		size_t before = moved;

		if (!x->kill_at) {
			if ((r = feed(n, x, NODE_BUDGET_BYTES - moved)) < 0)
				goto failed;
			moved += (size_t)r;
		}
		if ((r = drain_fd(n, x, &x->out_fd, NODE_BUDGET_BYTES)) < 0)
			goto failed;
		moved += (size_t)r;
		if ((r = drain_fd(n, x, &x->err_fd, NODE_BUDGET_BYTES)) < 0)
			goto failed;
		moved += (size_t)r;
		if (moved == before)
			break;
		if (moved >= NODE_BUDGET_BYTES) {
			arm(x);
			return NODE_AGAIN;
		}
	}
	reap(x);
	if (x->reaped && (x->kill_at || (x->out_fd < 0 && x->err_fd < 0))) {
		/* When stopping, whatever stderr already holds is still logged. */
		drain_fd(n, x, &x->err_fd, NODE_BUDGET_BYTES);
		if (x->err_fd >= 0 && (x->elen || x->etrunc))
			log_errline(n, x);
		close_fd(n, &x->in_fd);
		close_fd(n, &x->out_fd);
		close_fd(n, &x->err_fd);
		return finish(n, x);
	}
	arm(x);
	return NODE_IDLE;
failed:
	x->failed = true;
	begin_kill(n, x);
	return exec_run(n);
}

static void exec_stop(struct node *n)
{
	struct exec *x = n->state;

	if (!x->started)
		return;
	close_fd(n, &x->in_fd);
	close_fd(n, &x->out_fd);
	close_fd(n, &x->err_fd);
	close_fd(n, &x->pidfd);
	close_fd(n, &x->tfd);
	if (x->pid && !x->reaped) {
		/* Last resort during teardown: never leave a child behind. */
		signal_child(x, SIGKILL);
		while (waitpid(x->pid, &x->status, 0) < 0 && errno == EINTR)
			;
		x->reaped = true;
	}
	free_strv(x->argv);
	free_strv(x->envp);
	free(x->argv_json);
	free(x->obuf);
	buf_free(&x->in);
	memset(x, 0, sizeof(*x));
}

static void exec_check(json_t *params, const char *path, struct errs *errs)
{
	json_t *argv = json_object_get(params, "argv"), *v;
	json_t *to = json_object_get(params, "timeout_ms");
	size_t i;

	if (json_is_array(argv) && json_array_size(argv) == 0)
		errs_add(errs, "%s.argv: must name a program (it is empty)", path);
	else if (json_is_string(json_array_get(argv, 0)) &&
		 !json_string_value(json_array_get(argv, 0))[0])
		errs_add(errs, "%s.argv[0]: the program name is empty", path);
	json_array_foreach(json_object_get(params, "accept_exit"), i, v) {
		if (json_is_integer(v) && (json_integer_value(v) < 0 || json_integer_value(v) > 255))
			errs_add(errs, "%s.accept_exit[%zu]: an exit status is 0 to 255", path, i);
	}
	if (json_is_integer(to) && json_integer_value(to) <= 0)
		errs_add(errs, "%s.timeout_ms: must be more than 0", path);
}

static const struct op_param exec_params[] = {
	{"argv", PARAM_STRING_ARRAY, true,
	 "the program and its arguments, e.g. [\"sort\", \"-n\"] (no shell: no globs, pipes or $VARS)"},
	{"env", PARAM_STRING_OBJECT, false, "extra environment variables, e.g. {\"LC_ALL\": \"C\"}"},
	{"accept_exit", PARAM_INT_ARRAY, false,
	 "exit statuses that count as success; default [0]"},
	{"timeout_ms", PARAM_INT, false,
	 "fail the node and kill the program if it runs longer than this"},
	{.name = NULL},
};

const struct op_desc op_exec = {
	.name = "exec",
	.summary = "runs a program: input on its stdin, its stdout as output",
	.doc =
		"Runs argv[0] (looked up in PATH) with the arguments argv[1..], without\n"
		"a shell. Its stdin is the node's input (several inputs are merged\n"
		"record by record in arrival order; no input: stdin is empty), its\n"
		"stdout is the node's output, byte for byte, and each line it writes\n"
		"to stderr goes to the job log as \"stderr: LINE\". Its working\n"
		"directory is the job's directory in the store (never the mount),\n"
		"and it inherits no open file of the daemon beyond its stdin, stdout\n"
		"and stderr.\n"
		"\n"
		"Environment: the daemon's, plus LIVEJOB_JOB (the job's name),\n"
		"LIVEJOB_NODE (this node's name) and LIVEJOB_OPT_NAME=value for each\n"
		"job option (as NAME is spelled, and upper-cased), plus `env`.\n"
		"\n"
		"The node ends when the program has exited and closed its stdout and\n"
		"stderr. An exit status not in accept_exit, or death by a signal, makes\n"
		"the node fail (\"exit status 2\", \"killed by signal 9 (SIGKILL)\"), and\n"
		"so does a program that cannot be started or outlives timeout_ms. A\n"
		"program that stops reading its stdin early (head) is not an error:\n"
		"the rest of the input is discarded. When the job is cancelled or\n"
		"fails, the program's process group gets SIGTERM, then SIGKILL 2 s\n"
		"later. The log shows the argv, the pid and the exit status.\n"
		"\n"
		"example: sort the lines of \"words\" and keep ten\n"
		"  \"sorted\": {\"op\": \"exec\", \"in\": \"words\", \"argv\": [\"sort\"],\n"
		"             \"env\": {\"LC_ALL\": \"C\"}},\n"
		"  \"top\":    {\"op\": \"exec\", \"in\": \"sorted\", \"argv\": [\"head\", \"-n\", \"10\"],\n"
		"             \"timeout_ms\": 60000}\n",
	.params = exec_params,
	.min_inputs = 0,
	.check = exec_check,
	.state_size = sizeof(struct exec),
	.start = exec_start,
	.run = exec_run,
	.stop = exec_stop,
};
