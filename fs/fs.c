/* fs.c - the libfuse3 low-level operations table and the directory
 * operations (lookup, getattr, setattr, mkdir, rmdir, unlink). File I/O is
 * in files.c, names and attributes in inode.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "fs.h"
#include "log.h"
#include "store.h"

/* Attributes change behind the kernel's back (a stream grows), so they
 * are never cached: every stat asks us. A name, once it exists, stays until
 * it is removed through the kernel (rmdir, unlink), which drops the cached
 * entry itself; so positive entries may be cached for a moment, which saves
 * a lookup per path component on every open. Absent names are never cached:
 * spec.json, input/ or output/ can appear at any time. */
#define TIMEOUT 0.0
#define ENTRY_TIMEOUT 1.0

static void reply_entry(fuse_req_t req, struct fs *fs, struct node_ref *r)
{
	struct fuse_entry_param e = {0};

	fs_attr(fs, r, &e.attr);
	e.ino = e.attr.st_ino;
	e.attr_timeout = TIMEOUT;
	e.entry_timeout = ENTRY_TIMEOUT;
	fuse_reply_entry(req, &e);
}

static void lj_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct node_ref r;
	int rc = fs_lookup_child(fs, parent, name, &r);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	reply_entry(req, fs, &r);
	ref_put(&r);
}

static void lj_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node_ref r;
	struct stat st;
	int rc = ino_resolve(fs, ino, &r);

	(void)fi;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_attr(fs, &r, &st);
	ref_put(&r);
	fuse_reply_attr(req, &st, TIMEOUT);
}

/* chmod, utimes and truncation are accepted and change nothing: cp and
 * shells send them, and the files' contents are not theirs to set (a
 * truncating open of spec.json starts a new document in files.c). */
static void lj_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	(void)attr;
	(void)to_set;
	lj_getattr(req, ino, fi);
}

static void lj_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs *fs = fs_of(req);
	struct node_ref p, r = {0};
	int rc = ino_resolve(fs, parent, &p);

	(void)mode;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (p.kind == K_ROOT) {
		rc = job_create(fs->env, name, fuse_req_ctx(req)->uid, &r.job);
		r.kind = K_JOB_DIR;
	} else if (p.kind == K_JOB_DIR && strcmp(name, "input") == 0) {
		pthread_mutex_lock(&p.job->lock);
		if (p.job->input_dir)
			rc = -EEXIST;
		p.job->input_dir = true;
		pthread_mutex_unlock(&p.job->lock);
		r.kind = K_INPUT_DIR;
		r.job = p.job;
		p.job = NULL;
	} else {
		rc = name_ok(name) ? -EPERM : -EINVAL;
	}
	ref_put(&p);
	if (rc < 0) {
		ref_put(&r);
		fuse_reply_err(req, -rc);
		return;
	}
	reply_entry(req, fs, &r);
	ref_put(&r);
}

static void lj_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct node_ref r;
	int rc = fs_lookup_child(fs, parent, name, &r);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	switch (r.kind) {
	case K_JOB_DIR:
		job_remove(r.job);
		break;
	case K_INPUT_DIR: case K_OUTPUT_DIR: case K_STREAMS_DIR:
		/* Views of the job: `rm -r JOB` removes them on its way to the
		 * job itself, which is what really goes. */
		break;
	default:
		rc = is_dir_kind(r.kind) ? -EPERM : -ENOTDIR;
	}
	ref_put(&r);
	fuse_reply_err(req, -rc);
}

static void lj_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct node_ref r;
	int rc = fs_lookup_child(fs, parent, name, &r);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (r.kind == K_REG_SPEC) {
		char base[256];
		size_t n = strlen(name) - 5;

		memcpy(base, name, n);
		base[n] = '\0';
		rc = env_spec_del(fs->env, base);
	} else if (r.job) {
		rc = 0; /* a job's files go with the job: see lj_rmdir */
	} else {
		rc = -EPERM;
	}
	ref_put(&r);
	fuse_reply_err(req, -rc);
}

static void lj_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct node_ref r;
	int rc = ino_resolve(fs_of(req), ino, &r);

	if (rc == 0 && !is_dir_kind(r.kind))
		rc = -ENOTDIR;
	ref_put(&r);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_open(req, fi);
}

static void lj_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	/* Inode numbers are computed from never-reused serials (fs.h): there
	 * is no per-inode object whose lifetime the lookup count governs. */
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

static void lj_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(req);
}

static void lj_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fs_of(req);
	struct statvfs st;

	(void)ino;
	if (statvfs(fs->env->store->root, &st) < 0)
		memset(&st, 0, sizeof(st));
	st.f_namemax = 255;
	fuse_reply_statfs(req, &st);
}

static void lj_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* An async direct-io read waits uninterruptibly in the kernel and is
	 * never sent FUSE_INTERRUPT: Ctrl-C on a blocked cat must work. */
	conn->want &= ~(unsigned)FUSE_CAP_ASYNC_DIO;
	/* No kernel-side caching of what we can't promise stays valid. */
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	conn->max_write = 1u << 20;
	conn->max_readahead = 1u << 20;
}

static void lj_destroy(void *userdata)
{
	fs_unpark_all(userdata);
}

const struct fuse_lowlevel_ops lj_ops = {
	.init = lj_init,
	.destroy = lj_destroy,
	.lookup = lj_lookup,
	.forget = lj_forget,
	.forget_multi = lj_forget_multi,
	.getattr = lj_getattr,
	.setattr = lj_setattr,
	.mkdir = lj_mkdir,
	.rmdir = lj_rmdir,
	.unlink = lj_unlink,
	.opendir = lj_opendir,
	.readdir = fs_readdir,
	.open = fs_open,
	.create = fs_create,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.release = fs_release,
	.poll = fs_poll,
	.statfs = lj_statfs,
};
