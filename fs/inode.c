/* inode.c - names and attributes of the tree (DESIGN.md section 3): inode
 * numbers, lookup of a name in a directory, stat, and directory listings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "ops/op.h"

#define BLKSIZE (1u << 20) /* cp and cat size their requests by st_blksize */

static const char *const job_file_names[] = {
	[K_SPEC] = "spec.json", [K_OPTIONS] = "options.json", [K_INPUT_DIR] = "input",
	[K_OUTPUT_DIR] = "output", [K_STREAMS_DIR] = "streams", [K_LOG] = "log",
	[K_STATUS] = "status", [K_WAIT] = "wait", [K_CTL] = "ctl", [K_GRAPH] = "graph.dot",
};

bool is_dir_kind(enum ino_kind k)
{
	return k == K_JOB_DIR || k == K_INPUT_DIR || k == K_OUTPUT_DIR || k == K_STREAMS_DIR ||
	       k == K_ROOT || k == K_OPS_DIR || k == K_SPECS_DIR;
}

fuse_ino_t ino_make(const struct job *j, enum ino_kind k, int index)
{
	return ((fuse_ino_t)j->serial << INO_JOB_SHIFT) | ((fuse_ino_t)k << 16) | (fuse_ino_t)index;
}

static int op_count(void)
{
	int n = 0;

	for (const struct op_desc *const *op = op_all(); *op; op++)
		n++;
	return n;
}

int fs_reg_number(struct fs *fs, const char *name)
{
	int i;

	pthread_mutex_lock(&fs->park_lock);
	for (i = 0; i < fs->nreg; i++)
		if (strcmp(fs->reg_names[i], name) == 0)
			goto out;
	{
		char **v = realloc(fs->reg_names, sizeof(*v) * (size_t)(fs->nreg + 1));
		char *copy = strdup(name);

		if (!v || !copy) {
			if (v)
				fs->reg_names = v;
			free(copy);
			i = -1;
			goto out;
		}
		fs->reg_names = v;
		fs->reg_names[fs->nreg++] = copy;
	}
out:
	pthread_mutex_unlock(&fs->park_lock);
	return i;
}

static char *reg_name(struct fs *fs, int i)
{
	char *n = NULL;

	pthread_mutex_lock(&fs->park_lock);
	if (i >= 0 && i < fs->nreg)
		n = strdup(fs->reg_names[i]);
	pthread_mutex_unlock(&fs->park_lock);
	return n;
}

/* Is this job file there now? (DESIGN.md section 4, "A new job".) */
static bool visible(struct job *j, enum ino_kind k, int index)
{
	switch (k) {
	case K_JOB_DIR: case K_LOG: case K_STATUS: case K_WAIT: case K_CTL:
		return true;
	case K_SPEC:
		return j->spec_file;
	case K_OPTIONS:
		return j->opts_file || job_started(j);
	case K_INPUT_DIR:
		return j->input_dir;
	case K_OUTPUT_DIR: case K_STREAMS_DIR: case K_GRAPH:
		return job_started(j);
	case K_INPUT:
		return job_input_name(j, index) != NULL;
	case K_OUTPUT:
		return job_output_name(j, index) != NULL;
	case K_STREAM:
		return job_stream_name(j, index) != NULL;
	default:
		return false;
	}
}

int ino_resolve(struct fs *fs, fuse_ino_t ino, struct node_ref *out)
{
	memset(out, 0, sizeof(*out));
	if (ino < ((fuse_ino_t)1 << INO_JOB_SHIFT)) {
		if (ino == INO_ROOT)
			out->kind = K_ROOT;
		else if (ino == INO_ENV)
			out->kind = K_ENV;
		else if (ino == INO_OPS_DIR)
			out->kind = K_OPS_DIR;
		else if (ino == INO_SPECS_DIR)
			out->kind = K_SPECS_DIR;
		else if (ino == INO_DAEMON_LOG)
			out->kind = K_DAEMON_LOG;
		else if (ino >= INO_REG_BASE) {
			out->kind = K_REG_SPEC;
			out->index = (int)(ino - INO_REG_BASE);
			if (out->index >= fs->nreg)
				return -ENOENT;
		} else if (ino >= INO_OP_BASE && ino < INO_OP_BASE + (fuse_ino_t)op_count()) {
			out->kind = K_OP;
			out->index = (int)(ino - INO_OP_BASE);
		} else
			return -ENOENT;
		return 0;
	}
	out->job = env_job_by_serial(fs->env, ino >> INO_JOB_SHIFT);
	if (!out->job)
		return -ENOENT;
	out->kind = (enum ino_kind)((ino >> 16) & 0xff);
	out->index = (int)(ino & 0xffff);
	if (out->kind > K_STREAM || !visible(out->job, out->kind, out->index)) {
		ref_put(out);
		return -ENOENT;
	}
	return 0;
}

void ref_put(struct node_ref *r)
{
	if (r->job)
		job_put(r->job);
	r->job = NULL;
}

static int find_index(struct job *j, const char *(*name_at)(struct job *, int), const char *name)
{
	const char *n;

	for (int i = 0; (n = name_at(j, i)) != NULL; i++)
		if (strcmp(n, name) == 0)
			return i;
	return -1;
}

int fs_lookup_child(struct fs *fs, fuse_ino_t parent, const char *name, struct node_ref *out)
{
	struct node_ref p;
	int rc = ino_resolve(fs, parent, &p);

	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	rc = -ENOENT;
	switch (p.kind) {
	case K_ROOT:
		if (strcmp(name, ".env") == 0)
			out->kind = K_ENV, rc = 0;
		else if (strcmp(name, ".ops") == 0)
			out->kind = K_OPS_DIR, rc = 0;
		else if (strcmp(name, ".specs") == 0)
			out->kind = K_SPECS_DIR, rc = 0;
		else if (strcmp(name, ".log") == 0)
			out->kind = K_DAEMON_LOG, rc = 0;
		else if (name_ok(name) && (out->job = env_job_find(fs->env, name)) != NULL)
			out->kind = K_JOB_DIR, rc = 0;
		break;
	case K_OPS_DIR: {
		int i = 0;
		for (const struct op_desc *const *op = op_all(); *op; op++, i++)
			if (strcmp((*op)->name, name) == 0)
				out->kind = K_OP, out->index = i, rc = 0;
		break;
	}
	case K_SPECS_DIR: {
		size_t n = strlen(name), len;
		char base[256], *text;

		if (n > 5 && n - 5 < sizeof(base) && strcmp(name + n - 5, ".json") == 0) {
			memcpy(base, name, n - 5);
			base[n - 5] = '\0';
			text = env_spec_get(fs->env, base, &len);
			if (text) {
				free(text);
				out->kind = K_REG_SPEC;
				out->index = fs_reg_number(fs, base);
				rc = out->index < 0 ? -ENOMEM : 0;
			}
		}
		break;
	}
	case K_JOB_DIR:
		for (int k = K_SPEC; k <= K_GRAPH; k++) {
			if (strcmp(name, job_file_names[k]) == 0 && visible(p.job, k, 0)) {
				out->kind = k;
				rc = 0;
			}
		}
		break;
	case K_INPUT_DIR:
		out->index = find_index(p.job, job_input_name, name);
		if (out->index >= 0)
			out->kind = K_INPUT, rc = 0;
		break;
	case K_OUTPUT_DIR:
		out->index = find_index(p.job, job_output_name, name);
		if (out->index >= 0)
			out->kind = K_OUTPUT, rc = 0;
		break;
	case K_STREAMS_DIR:
		out->index = find_index(p.job, job_stream_name, name);
		if (out->index >= 0)
			out->kind = K_STREAM, rc = 0;
		break;
	default:
		rc = -ENOTDIR;
	}
	if (rc == 0 && !out->job && p.job) {
		out->job = p.job;
		p.job = NULL;
	}
	ref_put(&p);
	return rc;
}

static fuse_ino_t ref_ino(const struct node_ref *r)
{
	switch (r->kind) {
	case K_ROOT: return INO_ROOT;
	case K_ENV: return INO_ENV;
	case K_OPS_DIR: return INO_OPS_DIR;
	case K_SPECS_DIR: return INO_SPECS_DIR;
	case K_DAEMON_LOG: return INO_DAEMON_LOG;
	case K_OP: return INO_OP_BASE + (fuse_ino_t)r->index;
	case K_REG_SPEC: return INO_REG_BASE + (fuse_ino_t)r->index;
	default: return ino_make(r->job, r->kind, r->index);
	}
}

static enum job_list ref_list(const struct node_ref *r)
{
	return r->kind == K_INPUT ? JOB_INPUTS : r->kind == K_OUTPUT ? JOB_OUTPUTS : JOB_STREAMS;
}

/* Size of a generated text (status, .env, ...): generated to be exact; a
 * job's own come from the job, which knows those of a stopped job. */
static off_t text_size(struct fs *fs, const struct node_ref *r)
{
	size_t len = 0;
	char *t = NULL;

	switch (r->kind) {
	case K_ENV: t = env_json(fs->env, &len); break;
	case K_STATUS: return (off_t)job_text_size(r->job, JOB_TEXT_STATUS);
	case K_GRAPH: return (off_t)job_text_size(r->job, JOB_TEXT_GRAPH);
	case K_SPEC: return (off_t)job_text_size(r->job, JOB_TEXT_SPEC);
	case K_OPTIONS: return (off_t)job_text_size(r->job, JOB_TEXT_OPTIONS);
	case K_OP: t = op_render_doc(op_all()[r->index]); len = t ? strlen(t) : 0; break;
	case K_REG_SPEC: {
		char *name = reg_name(fs, r->index);
		t = name ? env_spec_get(fs->env, name, &len) : NULL;
		free(name);
		break;
	}
	default: break;
	}
	free(t);
	return t ? (off_t)len : 0;
}

int fs_attr(struct fs *fs, const struct node_ref *r, struct stat *st)
{
	uint64_t size;

	memset(st, 0, sizeof(*st));
	st->st_ino = ref_ino(r);
	st->st_uid = r->job ? r->job->uid : fs->env->cfg.owner;
	st->st_gid = fs->gid;
	st->st_blksize = BLKSIZE;
	st->st_nlink = 1;
	if (r->job) {
		int64_t t = r->job->created_ms;
		st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec = t / 1000;
		st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = st->st_atim.tv_nsec = (t % 1000) * 1000000;
	} else {
		int64_t t = fs->env->started_ms;
		st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec = t / 1000;
	}
	switch (r->kind) {
	case K_ROOT:
		st->st_mode = S_IFDIR | 01777; /* anyone may mkdir a job, only its owner removes it */
		st->st_nlink = 2;
		break;
	case K_OPS_DIR: case K_OUTPUT_DIR: case K_STREAMS_DIR:
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		break;
	case K_SPECS_DIR: case K_JOB_DIR: case K_INPUT_DIR:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		break;
	case K_SPEC: case K_OPTIONS:
		st->st_mode = S_IFREG | (r->job->state == JOB_NEW ? 0644 : 0444);
		st->st_size = text_size(fs, r);
		break;
	case K_REG_SPEC:
		st->st_mode = S_IFREG | 0644;
		st->st_size = text_size(fs, r);
		break;
	case K_ENV: case K_STATUS: case K_GRAPH: case K_OP:
		st->st_mode = S_IFREG | 0444;
		st->st_size = text_size(fs, r);
		break;
	case K_LOG:
		st->st_mode = S_IFREG | 0444;
		st->st_size = (off_t)log_size(r->job->log);
		break;
	case K_DAEMON_LOG:
		st->st_mode = S_IFREG | 0444;
		st->st_size = (off_t)log_size(fs->env->log);
		break;
	case K_WAIT:
		st->st_mode = S_IFREG | 0444;
		break;
	case K_CTL:
		st->st_mode = S_IFREG | 0200;
		break;
	case K_INPUT: case K_OUTPUT: case K_STREAM:
		st->st_mode = S_IFREG | (r->kind == K_INPUT ? 0644 : 0444);
		st->st_size = job_list_size(r->job, ref_list(r), r->index, &size) ? (off_t)size : 0;
		break;
	}
	st->st_blocks = (st->st_size + 511) / 512;
	return 0;
}

/* An open stream file holds its job's graph (fh->pinned in files.c). */
int fs_ref_pin(const struct node_ref *r, struct stream **out)
{
	return job_list_pin(r->job, ref_list(r), r->index, out);
}

/* ---- readdir ------------------------------------------------------------------ */

struct dirbuf {
	fuse_req_t req;
	char *p;
	size_t len, cap;
	off_t want;   /* first offset to return */
	bool full;
};

/* Adds one entry with offset `next` (the offset of the entry after it). */
static void dir_add(struct dirbuf *d, const char *name, fuse_ino_t ino, mode_t mode, off_t next)
{
	struct stat st = {.st_ino = ino, .st_mode = mode};
	size_t need;

	if (d->full || next <= d->want)
		return;
	need = fuse_add_direntry(d->req, NULL, 0, name, NULL, 0);
	if (d->len + need > d->cap) {
		d->full = true;
		return;
	}
	fuse_add_direntry(d->req, d->p + d->len, d->cap - d->len, name, &st, next);
	d->len += need;
}

struct reg_list {
	struct fs *fs;
	struct dirbuf *d;
	off_t n;
};

static int list_reg(void *arg, const char *name)
{
	struct reg_list *l = arg;
	char file[300];
	int num = fs_reg_number(l->fs, name);

	snprintf(file, sizeof(file), "%s.json", name);
	if (num >= 0)
		dir_add(l->d, file, INO_REG_BASE + (fuse_ino_t)num, S_IFREG, 3 + l->n);
	l->n++;
	return l->d->full;
}

static void list_root(struct fs *fs, struct dirbuf *d)
{
	off_t off;
	struct job *j;

	dir_add(d, ".", INO_ROOT, S_IFDIR, 1);
	dir_add(d, "..", INO_ROOT, S_IFDIR, 2);
	dir_add(d, ".env", INO_ENV, S_IFREG, 3);
	dir_add(d, ".ops", INO_OPS_DIR, S_IFDIR, 4);
	dir_add(d, ".specs", INO_SPECS_DIR, S_IFDIR, 5);
	dir_add(d, ".log", INO_DAEMON_LOG, S_IFREG, 6);
	/* Jobs: offset 6 + serial, so removals never shift the others. */
	off = d->want > 6 ? d->want - 6 : 0;
	while (!d->full && (j = env_job_next(fs->env, (uint64_t)off)) != NULL) {
		off = (off_t)j->serial;
		dir_add(d, j->name, ino_make(j, K_JOB_DIR, 0), S_IFDIR, 6 + off);
		job_put(j);
	}
}

static void list_job(struct node_ref *p, struct dirbuf *d)
{
	struct job *j = p->job;
	off_t n = 3;
	const char *name;

	dir_add(d, ".", ref_ino(p), S_IFDIR, 1);
	dir_add(d, "..", p->kind == K_JOB_DIR ? INO_ROOT : ino_make(j, K_JOB_DIR, 0), S_IFDIR, 2);
	switch (p->kind) {
	case K_JOB_DIR:
		for (int k = K_SPEC; k <= K_GRAPH; k++, n++)
			if (visible(j, k, 0))
				dir_add(d, job_file_names[k], ino_make(j, k, 0),
					k == K_INPUT_DIR || k == K_OUTPUT_DIR || k == K_STREAMS_DIR
						? S_IFDIR : S_IFREG, n);
		break;
	case K_INPUT_DIR:
		for (int i = 0; (name = job_input_name(j, i)) != NULL; i++, n++)
			dir_add(d, name, ino_make(j, K_INPUT, i), S_IFREG, n);
		break;
	case K_OUTPUT_DIR:
		for (int i = 0; (name = job_output_name(j, i)) != NULL; i++, n++)
			dir_add(d, name, ino_make(j, K_OUTPUT, i), S_IFREG, n);
		break;
	case K_STREAMS_DIR:
		for (int i = 0; (name = job_stream_name(j, i)) != NULL; i++, n++)
			dir_add(d, name, ino_make(j, K_STREAM, i), S_IFREG, n);
		break;
	default:
		break;
	}
}

void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node_ref r;
	struct dirbuf d = {.req = req, .want = off};
	int rc;

	(void)fi;
	rc = ino_resolve(fs, ino, &r);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (!is_dir_kind(r.kind)) {
		ref_put(&r);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	d.cap = size;
	d.p = malloc(size);
	if (!d.p) {
		ref_put(&r);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (r.kind == K_ROOT) {
		list_root(fs, &d);
	} else if (r.kind == K_OPS_DIR) {
		int i = 0;
		dir_add(&d, ".", INO_OPS_DIR, S_IFDIR, 1);
		dir_add(&d, "..", INO_ROOT, S_IFDIR, 2);
		for (const struct op_desc *const *op = op_all(); *op; op++, i++)
			dir_add(&d, (*op)->name, INO_OP_BASE + (fuse_ino_t)i, S_IFREG, 3 + i);
	} else if (r.kind == K_SPECS_DIR) {
		struct reg_list l = {fs, &d, 0};
		dir_add(&d, ".", INO_SPECS_DIR, S_IFDIR, 1);
		dir_add(&d, "..", INO_ROOT, S_IFDIR, 2);
		env_spec_list(fs->env, list_reg, &l);
	} else {
		list_job(&r, &d);
	}
	ref_put(&r);
	fuse_reply_buf(req, d.p, d.len);
	free(d.p);
}
