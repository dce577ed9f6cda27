/* fs.h - the FUSE adaptor: translates libfuse3 low-level requests into
 * engine calls and back. Nothing here runs jobs; it names things (inodes),
 * shows them (attributes, directories) and moves bytes (file handles).
 *
 * Inode numbers are computed, not allocated: a job's files are
 * (job serial << 24) | (kind << 16) | index, and serials are never reused,
 * so a stale inode of a removed job simply resolves to ENOENT and forget
 * has nothing to free. The few fixed files of the root have small numbers;
 * registered specs get numbers from a name table that only grows.
 *
 * Locks: park_lock (owner: fs) guards the list of parked read requests and
 * the spec-name table; it may be taken before a stream's or job's lock
 * (interrupt path) and is never held across a reply. */
#ifndef LJ_FS_H
#define LJ_FS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "env.h"
#include "replybuf.h"
#include "uring.h"
#include "job.h"
#include "stream.h"
#include "util.h"

enum ino_kind {
	K_JOB_DIR, K_SPEC, K_OPTIONS, K_INPUT_DIR, K_OUTPUT_DIR, K_STREAMS_DIR,
	K_LOG, K_STATUS, K_WAIT, K_CTL, K_GRAPH, K_INPUT, K_OUTPUT, K_STREAM,
	/* not in a job: */
	K_ROOT, K_ENV, K_OPS_DIR, K_OP, K_SPECS_DIR, K_REG_SPEC, K_DAEMON_LOG,
};

#define INO_ROOT 1
#define INO_ENV 2
#define INO_OPS_DIR 3
#define INO_SPECS_DIR 4
#define INO_DAEMON_LOG 5
#define INO_OP_BASE 0x100      /* + operator index */
#define INO_REG_BASE 0x10000   /* + registered spec number */
#define INO_JOB_SHIFT 24

struct fs {
	struct uring *uring;        /* first: uring.c finds it in the session's userdata */
	struct env *env;
	struct fuse_session *se;
	pthread_mutex_t park_lock;
	struct parked *parked;      /* requests waiting for data or a job's end */
	struct fh *fhs;             /* every open handle (files.c) */
	struct replybuf_pool replybufs; /* large read replies (replybuf.c) */
	gid_t gid;                  /* the daemon's group, shown as every file's */
	char **reg_names;           /* registered spec number -> name */
	int nreg;
	/* watch.c: the mount table, to notice a lazy unmount */
	_Atomic bool unmounted;     /* reads at a live end fail instead of parking */
	long mount_id;
	int watch_fd, watch_stop[2];
	pthread_t watch_thread;
	bool watching;
};

/* A resolved inode: what it is and, for job files, the job (a reference). */
struct fh;

struct node_ref {
	enum ino_kind kind;
	struct job *job;
	int index;                  /* input/output/stream/op/registered number */
};

static inline struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* inode.c */
fuse_ino_t ino_make(const struct job *j, enum ino_kind k, int index);
int ino_resolve(struct fs *fs, fuse_ino_t ino, struct node_ref *out); /* 0 or -ENOENT */
void ref_put(struct node_ref *r);
int fs_lookup_child(struct fs *fs, fuse_ino_t parent, const char *name, struct node_ref *out);
int fs_attr(struct fs *fs, const struct node_ref *r, struct stat *st);
int fs_reg_number(struct fs *fs, const char *name);
bool is_dir_kind(enum ino_kind k);
void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);

/* files.c */
void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi);
void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi);
void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct fuse_pollhandle *ph);
void fs_unpark_all(struct fs *fs);
void fs_free_handles(struct fs *fs);

/* watch.c */
int fs_watch_start(struct fs *fs, const char *mountpoint);
void fs_watch_stop(struct fs *fs);

#endif
