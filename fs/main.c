/* main.c - the livejobfs daemon: parses the command line, mounts, creates
 * the live environment (after daemonizing, since threads don't survive a
 * fork), serves requests until unmount, and tears everything down in
 * reverse order. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fs.h"

extern const struct fuse_lowlevel_ops lj_ops;

struct options {
	char *store;
	int threads;
	char *exec;
	int allow_other;
	int max_jobs;
	char *max_job_bytes;
	char *uring;
};

#define OPT(t, p) {t, offsetof(struct options, p), 1}
static const struct fuse_opt option_spec[] = {
	OPT("store=%s", store),
	OPT("threads=%d", threads),
	OPT("exec=%s", exec),
	OPT("max_jobs=%d", max_jobs),
	OPT("max_job_bytes=%s", max_job_bytes),
	OPT("uring=%s", uring),
	{"allow_other", offsetof(struct options, allow_other), 1},
	FUSE_OPT_KEY("allow_other", FUSE_OPT_KEY_KEEP),
	FUSE_OPT_END,
};

static void usage(const char *prog)
{
	printf("usage: %s [-f] [-d] [-o OPT[,OPT...]] MOUNTPOINT\n\n"
	       "livejobfs options:\n"
	       "    -o store=DIR      store root (default: $LIVEJOBFS_STORE, else\n"
	       "                      $XDG_STATE_HOME/livejobfs, else ~/.local/state/livejobfs)\n"
	       "    -o threads=N      engine thread-pool size (default: number of CPUs)\n"
	       "    -o allow_other    let other users use the mount (turns on default_permissions)\n"
	       "    -o exec=any       with allow_other: let any uid run exec nodes\n"
	       "    -o max_jobs=N     at most N jobs in the mount (mkdir then fails EDQUOT)\n"
	       "    -o max_job_bytes=N[K|M|G]  at most N bytes in all streams of one job\n"
	       "                      (writes then fail EFBIG)\n"
	       "    -o uring=off      requests only through /dev/fuse, never FUSE over\n"
	       "                      io_uring (used by default where the kernel allows it)\n\n",
	       prog);
}

static char *default_store(void)
{
	const char *s = getenv("LIVEJOBFS_STORE");
	char *p = NULL;

	if (s && *s)
		return strdup(s);
	s = getenv("XDG_STATE_HOME");
	if (s && *s)
		return asprintf(&p, "%s/livejobfs", s) < 0 ? NULL : p;
	s = getenv("HOME");
	return asprintf(&p, "%s/.local/state/livejobfs", s && *s ? s : "/tmp") < 0 ? NULL : p;
}

/* "64M" -> 67108864. Returns false on anything else. */
static bool parse_bytes(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	default: break;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

/* 1,000 live jobs hold a few thousand fds; take what the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cl = {0};
	struct fuse_loop_config *loop = NULL;
	struct options o = {0};
	struct env_config cfg = {0};
	struct fs fs = {0};
	int ret = 1, rc;

	if (fuse_parse_cmdline(&args, &cl) != 0)
		return 1;
	if (cl.show_help) {
		usage(argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out_args;
	}
	if (cl.show_version) {
		printf("livejobfs %s\n", LJ_VERSION);
		fuse_lowlevel_version();
		ret = 0;
		goto out_args;
	}
	if (!cl.mountpoint) {
		fprintf(stderr, "usage: %s [-f] [-d] [-o OPT[,OPT...]] MOUNTPOINT\n", argv[0]);
		goto out_args;
	}
	if (fuse_opt_parse(&args, &o, option_spec, NULL) == -1)
		goto out_args;
	if (o.exec && strcmp(o.exec, "any") != 0 && strcmp(o.exec, "owner") != 0) {
		fprintf(stderr, "livejobfs: exec=%s: expected exec=any or exec=owner\n", o.exec);
		goto out_args;
	}
	if (o.uring && strcmp(o.uring, "on") != 0 && strcmp(o.uring, "off") != 0) {
		fprintf(stderr, "livejobfs: uring=%s: expected uring=on or uring=off\n", o.uring);
		goto out_args;
	}
	if (o.threads < 0 || o.threads > 1024) {
		fprintf(stderr, "livejobfs: threads=%d: expected 1 to 1024\n", o.threads);
		goto out_args;
	}
	if (o.max_jobs < 0) {
		fprintf(stderr, "livejobfs: max_jobs=%d: expected a number >= 0\n", o.max_jobs);
		goto out_args;
	}
	if (o.max_job_bytes && !parse_bytes(o.max_job_bytes, &cfg.max_job_bytes)) {
		fprintf(stderr, "livejobfs: max_job_bytes=%s: expected a number of bytes "
			"(suffix K, M or G allowed)\n", o.max_job_bytes);
		goto out_args;
	}
	cfg.max_jobs = o.max_jobs;
	if (o.allow_other)
		fuse_opt_add_arg(&args, "-odefault_permissions");
	cfg.store_dir = o.store ? o.store : default_store();
	if (!cfg.store_dir)
		goto out_args;
	cfg.threads = o.threads ? o.threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (cfg.threads < 1)
		cfg.threads = 1;
	cfg.allow_other = o.allow_other;
	cfg.exec_any = o.exec && strcmp(o.exec, "any") == 0;
	cfg.owner = getuid();
	cfg.rest_whole = 16; /* a job most often is read or removed within milliseconds of its end */
	raise_fd_limit();
	pthread_mutex_init(&fs.park_lock, NULL);
	replybuf_pool_init(&fs.replybufs);
	fs.gid = getgid();

	fs.se = fuse_session_new(&args, &lj_ops, sizeof(lj_ops), &fs);
	if (!fs.se)
		goto out_args;
	if (fuse_set_signal_handlers(fs.se) != 0)
		goto out_session;
	if (fuse_session_mount(fs.se, cl.mountpoint) != 0)
		goto out_signals;
	/* No threads yet: it only sets the session's I/O up (see uring.h). */
	rc = uring_attach(fs.se, !o.uring || strcmp(o.uring, "on") == 0, &fs.uring);
	if (rc < 0) {
		fprintf(stderr, "livejobfs: %s\n", strerror(-rc));
		goto out_unmount;
	}
	if (fuse_daemonize(cl.foreground) != 0)
		goto out_unmount;
	/* Threads start only now: fuse_daemonize() may have forked. */
	if ((ret = env_create(&cfg, &fs.env)) < 0) {
		fprintf(stderr, "livejobfs: store %s: %s\n", cfg.store_dir, strerror(-ret));
		ret = 1;
		goto out_unmount;
	}
	/* Without the watcher a lazy unmount with blocked readers never ends;
	 * everything else still works, so a failure here is only logged. */
	if (fs_watch_start(&fs, cl.mountpoint) < 0)
		fprintf(stderr, "livejobfs: cannot watch the mount table\n");
	loop = fuse_loop_cfg_create();
	if (!loop) {
		ret = 1;
		goto out_env;
	}
	fuse_loop_cfg_set_clone_fd(loop, (unsigned)cl.clone_fd);
	fuse_loop_cfg_set_idle_threads(loop, cl.max_idle_threads != UINT_MAX ? cl.max_idle_threads : 16);
	fuse_loop_cfg_set_max_threads(loop, cl.max_threads ? cl.max_threads : 64);
	ret = cl.singlethread ? fuse_session_loop(fs.se) : fuse_session_loop_mt(fs.se, loop);
	fuse_loop_cfg_destroy(loop);
out_env:
	fs_watch_stop(&fs);
	uring_stop(fs.uring);
	fs_unpark_all(&fs);
	fs_free_handles(&fs);
	env_destroy(fs.env);
out_unmount:
	uring_free(fs.uring);
	fuse_session_unmount(fs.se);
out_signals:
	fuse_remove_signal_handlers(fs.se);
out_session:
	fuse_session_destroy(fs.se);
out_args:
	for (int i = 0; i < fs.nreg; i++)
		free(fs.reg_names[i]);
	free(fs.reg_names);
	replybuf_pool_destroy(&fs.replybufs);
	free(cl.mountpoint);
	fuse_opt_free_args(&args);
	if (cfg.store_dir != o.store)
		free((char *)cfg.store_dir);
	free(o.store);
	free(o.exec);
	free(o.max_job_bytes);
	free(o.uring);
	return ret ? 1 : 0;
}
