/* files.c - open files: what each kind of file does on open, read, write,
 * flush (close) and poll (DESIGN.md section 4).
 *
 * Reads at the live end of a stream, and reads of `wait`, are parked: the
 * request is kept in a `struct parked` on the stream's (or job's) waiter
 * list and the handler returns, so no FUSE thread is held. The producer's
 * wake-up replies later from its own thread; an interrupt (Ctrl-C) replies
 * EINTR. Exactly one of the two replies: whoever takes the waiter off the
 * list (stream_unwait / the stream's notify) owns the request. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "ops/op.h"
#include "replybuf.h"

int fs_ref_pin(const struct node_ref *r, struct stream **out);

/* An open file. */
struct fh {
	enum ino_kind kind;
	struct job *job;            /* reference, or NULL */
	int index;
	struct stream *stream;      /* outputs, streams/, inputs opened for reading */
	bool pinned;                /* holds its job's graph for `stream` (job_unpin) */
	bool stream_pinned;         /* holds the stream's store file open */
	bool log_pinned;            /* holds the job's log file open */
	struct job_input *input;    /* inputs opened for writing */
	char *text;                 /* snapshot files: the text at open */
	size_t text_len;
	struct buf wbuf;            /* spec.json, options.json, .specs, ctl: written bytes */
	bool writing, dirty;
	bool truncated;             /* opened with O_TRUNC or created: a (re)write, even if empty */
	bool submitted;             /* flush handed the document over */
	char *reg_name;             /* .specs/NAME.json */
	struct fuse_pollhandle *ph; /* poll() waiting for data */
	struct stream_waiter pollw;
	pthread_mutex_t poll_lock;  /* owner: the fh; guards ph */
	struct fs *fs;
	struct fh *prev, *next;     /* fs->fhs (park_lock) */
	_Atomic uint64_t pos;       /* end of the last stream reply: what poll compares */
	_Atomic int refs;           /* open + requests in flight + parked reads */
};

struct parked {
	fuse_req_t req;
	struct stream_waiter w;
	struct fs *fs;
	struct fh *fh;
	size_t size;
	off_t off;
	struct parked *prev, *next; /* fs->parked list (park_lock) */
	bool listed;                /* on that list (park_lock) */
	bool interrupted;           /* an interrupt came (park_lock) */
	_Atomic int refs;           /* the reply's owner, and park() until it returns */
};

static void parked_put(struct parked *p)
{
	if (atomic_fetch_sub(&p->refs, 1) == 1)
		free(p);
}

static struct fh *fh_of(struct fuse_file_info *fi)
{
	return (struct fh *)(uintptr_t)fi->fh;
}

static void fh_free(struct fh *fh);
static void read_fh(fuse_req_t req, struct fh *fh, size_t size, off_t off,
		    struct fuse_file_info *fi);
static unsigned poll_fh(struct fh *fh, struct fuse_pollhandle *ph);

/* A killed reader's RELEASE can arrive while its READ is still being
 * served or is parked: every request holds the handle while it uses it. */
static struct fh *fh_hold(struct fh *fh)
{
	atomic_fetch_add(&fh->refs, 1);
	return fh;
}

static void fh_drop(struct fh *fh)
{
	if (atomic_fetch_sub(&fh->refs, 1) == 1)
		fh_free(fh);
}

/* Every handle is on fs->fhs, so that teardown can free those whose
 * RELEASE never came (the kernel drops them when the daemon stops). */
static struct fh *fh_new(struct fs *fs)
{
	struct fh *fh = calloc(1, sizeof(*fh));

	if (!fh)
		return NULL;
	pthread_mutex_init(&fh->poll_lock, NULL);
	atomic_store(&fh->refs, 1);
	fh->fs = fs;
	pthread_mutex_lock(&fs->park_lock);
	fh->next = fs->fhs;
	if (fs->fhs)
		fs->fhs->prev = fh;
	fs->fhs = fh;
	pthread_mutex_unlock(&fs->park_lock);
	return fh;
}

static void fh_free(struct fh *fh)
{
	struct fs *fs = fh->fs;

	pthread_mutex_lock(&fs->park_lock);
	if (fh->prev)
		fh->prev->next = fh->next;
	else
		fs->fhs = fh->next;
	if (fh->next)
		fh->next->prev = fh->prev;
	pthread_mutex_unlock(&fs->park_lock);
	if (fh->input)
		job_input_close(fh->job, fh->input);
	if (fh->stream_pinned)
		stream_fd_put(fh->stream);
	if (fh->pinned)
		job_unpin(fh->job);
	if (fh->log_pinned)
		log_fd_put(fh->job->log);
	if (fh->job)
		job_put(fh->job);
	free(fh->text);
	free(fh->reg_name);
	buf_free(&fh->wbuf);
	pthread_mutex_destroy(&fh->poll_lock);
	free(fh);
}

/* ---- snapshots ------------------------------------------------------------------- */

static char *make_text(struct fs *fs, struct fh *fh, size_t *len)
{
	char *t = NULL;

	*len = 0;
	switch (fh->kind) {
	case K_ENV: return env_json(fs->env, len);
	case K_STATUS: return job_status_json(fh->job, len);
	case K_GRAPH: return job_graph_dot(fh->job, len);
	case K_SPEC: return job_spec_text(fh->job, len);
	case K_OPTIONS: return job_options_text(fh->job, len);
	case K_OP:
		t = op_render_doc(op_all()[fh->index]);
		*len = t ? strlen(t) : 0;
		return t;
	case K_REG_SPEC: return env_spec_get(fs->env, fh->reg_name, len);
	default: return NULL;
	}
}

/* Why a snapshot has no text. An empty spec.json or options.json is one
 * nobody wrote; status, graph.dot, .env and the operator pages always say
 * something, so a file that can't be made fails its open (a status.json
 * the store can't give back, memory) instead of reading as empty, which
 * `jq` would take for a broken status. */
static int missing_text(enum ino_kind kind)
{
	switch (kind) {
	case K_SPEC: case K_OPTIONS: return 0;
	case K_REG_SPEC: return -ENOENT; /* unregistered since the lookup */
	default: return -EIO;
	}
}

/* ---- open -------------------------------------------------------------------------- */

static int open_for_write(struct fs *fs, struct fh *fh, int flags)
{
	struct job *j = fh->job;

	switch (fh->kind) {
	case K_SPEC:
	case K_OPTIONS:
		if (j->state != JOB_NEW)
			return -EBUSY;
		break;
	case K_INPUT:
		return job_input_open(j, job_input_name(j, fh->index), false, &fh->input);
	case K_REG_SPEC:
	case K_CTL:
		break;
	default:
		return -EACCES;
	}
	fh->writing = true;
	fh->truncated = flags & O_TRUNC;
	if (!(flags & O_TRUNC) && fh->kind != K_CTL) {
		size_t len;
		char *t = make_text(fs, fh, &len);
		if (t) {
			buf_append(&fh->wbuf, t, len);
			free(t);
		}
	}
	return 0;
}

static int open_ref(struct fs *fs, struct node_ref *r, int flags, struct fh **out)
{
	struct fh *fh = fh_new(fs);
	int acc = flags & O_ACCMODE, rc = 0;

	if (!fh)
		return -ENOMEM;
	fh->kind = r->kind;
	fh->index = r->index;
	fh->job = r->job;
	r->job = NULL;
	if (fh->kind == K_REG_SPEC) {
		pthread_mutex_lock(&fs->park_lock);
		fh->reg_name = fh->index < fs->nreg ? strdup(fs->reg_names[fh->index]) : NULL;
		pthread_mutex_unlock(&fs->park_lock);
		if (!fh->reg_name)
			rc = -ENOENT;
	}
	if (rc == 0 && is_dir_kind(fh->kind))
		rc = -EISDIR;
	if (rc == 0 && acc != O_RDONLY)
		rc = open_for_write(fs, fh, flags);
	if (rc == 0 && acc != O_WRONLY) {
		switch (fh->kind) {
		case K_CTL:
			rc = -EACCES;
			break;
		case K_INPUT: case K_OUTPUT: case K_STREAM: {
			struct node_ref tmp = {.kind = fh->kind, .job = fh->job, .index = fh->index};
			rc = fs_ref_pin(&tmp, &fh->stream);
			fh->pinned = rc == 0;
			/* A finished job's files are closed when idle: without this
			 * every read of a reader would open and close one. */
			if (fh->pinned && stream_fd_get(fh->stream) >= 0)
				fh->stream_pinned = true;
			break;
		}
		case K_LOG:
			/* Readable to the end even if the job is removed meanwhile,
			 * like an unlinked file. */
			if (log_fd_get(fh->job->log) >= 0)
				fh->log_pinned = true;
			break;
		case K_DAEMON_LOG: case K_WAIT:
			break;
		default:
			if (!fh->writing) {
				fh->text = make_text(fs, fh, &fh->text_len);
				if (!fh->text) {
					fh->text_len = 0;
					rc = missing_text(fh->kind);
				}
			}
		}
	}
	if (rc < 0) {
		fh_free(fh);
		return rc;
	}
	*out = fh;
	return 0;
}

static void reply_open(fuse_req_t req, struct fh *fh, struct fuse_file_info *fi)
{
	fi->fh = (uint64_t)(uintptr_t)fh;
	/* Everything here changes behind the kernel's back: no page cache, so
	 * every read reaches us and a live stream is never cut at a stale size. */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fi->nonseekable = 0;
	/* A reader's close has nothing to report: no FLUSH round trip. */
	fi->noflush = (fi->flags & O_ACCMODE) == O_RDONLY;
	if (fuse_reply_open(req, fi) == -ENOENT)
		fh_free(fh); /* the opener was interrupted: nobody will release it */
}

void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node_ref r;
	struct fh *fh;
	int rc = ino_resolve(fs, ino, &r);

	if (rc == 0) {
		rc = open_ref(fs, &r, fi->flags, &fh);
		ref_put(&r);
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	reply_open(req, fh, fi);
}

void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct node_ref p, r = {0};
	struct fuse_entry_param e = {0};
	struct fh *fh = NULL;
	int rc;

	(void)mode;
	rc = ino_resolve(fs, parent, &p);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	r.job = p.job;
	switch (p.kind) {
	case K_JOB_DIR:
		if (strcmp(name, "spec.json") == 0) {
			r.kind = K_SPEC;
			rc = p.job->state == JOB_NEW ? 0 : -EBUSY;
		} else if (strcmp(name, "options.json") == 0) {
			r.kind = K_OPTIONS;
			rc = p.job->state == JOB_NEW ? 0 : -EBUSY;
		} else {
			rc = name_ok(name) ? -EPERM : -EINVAL;
		}
		if (rc == 0) {
			job_get(p.job); /* the handle's own reference */
			rc = open_ref(fs, &r, fi->flags | O_TRUNC, &fh);
		}
		if (rc == 0) {
			/* The file exists from now on, even before its first close. */
			pthread_mutex_lock(&p.job->lock);
			if (r.kind == K_SPEC)
				p.job->spec_file = true;
			else
				p.job->opts_file = true;
			pthread_mutex_unlock(&p.job->lock);
		}
		break;
	case K_INPUT_DIR: {
		struct job_input *in;

		rc = job_input_open(p.job, name, true, &in);
		if (rc == 0) {
			int i;
			const char *n;

			for (i = 0; (n = job_input_name(p.job, i)) != NULL; i++)
				if (strcmp(n, name) == 0)
					break;
			fh = fh_new(fs);
			if (!fh) {
				job_input_close(p.job, in);
				rc = -ENOMEM;
				break;
			}
			fh->kind = r.kind = K_INPUT;
			fh->index = r.index = i;
			fh->input = in;
			fh->writing = true;
			fh->job = p.job;
			job_get(p.job);
			if ((fi->flags & O_ACCMODE) != O_WRONLY && job_pin(p.job) == 0) {
				fh->stream = in->s; /* a new job's input: never rebuilt */
				fh->pinned = true;
			}
		}
		break;
	}
	case K_SPECS_DIR: {
		size_t n = strlen(name);
		char base[256];

		if (n <= 5 || n - 5 >= sizeof(base) || strcmp(name + n - 5, ".json") != 0) {
			rc = -EINVAL;
			break;
		}
		memcpy(base, name, n - 5);
		base[n - 5] = '\0';
		if (!name_ok(base)) {
			rc = -EINVAL;
			break;
		}
		r.kind = K_REG_SPEC;
		r.index = fs_reg_number(fs, base);
		r.job = NULL;
		rc = r.index < 0 ? -ENOMEM : 0;
		if (rc == 0) {
			fh = fh_new(fs);
			if (!fh) {
				rc = -ENOMEM;
				break;
			}
			fh->kind = K_REG_SPEC;
			fh->index = r.index;
			fh->reg_name = strdup(base);
			fh->writing = fh->truncated = true;
		}
		break;
	}
	case K_ROOT:
		rc = name_ok(name) ? -EPERM : -EINVAL;
		break;
	default:
		rc = -EACCES;
	}
	if (rc == 0) {
		struct node_ref tmp = {.kind = r.kind, .index = r.index,
				       .job = r.kind == K_REG_SPEC ? NULL : p.job};
		fs_attr(fs, &tmp, &e.attr);
		e.ino = e.attr.st_ino;
		e.entry_timeout = 1.0; /* as fs.c ENTRY_TIMEOUT */
		if (r.kind == K_SPEC || r.kind == K_OPTIONS || r.kind == K_REG_SPEC)
			e.attr.st_size = 0;
	}
	ref_put(&p);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)fh;
	fi->direct_io = 1;
	if (fuse_reply_create(req, &e, fi) == -ENOENT)
		fh_free(fh);
}

/* ---- reading ------------------------------------------------------------------------- */

/* Replies SIZE bytes at OFF of a store file, all of them below its end. */
static void reply_file(fuse_req_t req, struct fs *fs, int fd, size_t size, off_t off)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
	struct replybuf *b;
	size_t cap = 0;
	void *space = uring_reply_space(fs->uring, &cap);
	ssize_t n;

	if (space && size <= cap) {
		/* Over io_uring: read straight into the reply's ring entry. */
		n = pread(fd, space, size, off);
		if (n < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_buf(req, space, (size_t)n);
		return;
	}
	if (size <= REPLYBUF_SPLICE_MAX) {
		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = fd;
		bv.buf[0].pos = off;
		fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
		return;
	}
	b = replybuf_get(&fs->replybufs);
	if (!b) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = pread(fd, b->data, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, b->data, (size_t)n);
	replybuf_put(&fs->replybufs, b);
}

static void reply_stream(fuse_req_t req, struct fh *fh, size_t size, off_t off)
{
	struct stream *s = fh->stream;
	uint64_t avail = stream_size(s);
	int fd;

	if ((uint64_t)off >= avail) {
		int err = stream_error(s);
		if (err)
			fuse_reply_err(req, err);
		else
			fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > avail - (uint64_t)off)
		size = (size_t)(avail - (uint64_t)off);
	atomic_store(&fh->pos, (uint64_t)off + size);
	fd = stream_fd_get(s);
	if (fd < 0) {
		fuse_reply_err(req, EIO); /* the store lost the file */
		return;
	}
	reply_file(req, fh->fs, fd, size, off);
	stream_fd_put(s);
}

static void reply_wait(fuse_req_t req, struct job *j, off_t off)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%s\n", job_state_name(j->state));

	if (off >= n)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, line + off, (size_t)(n - off));
}

static void unlist_locked(struct parked *p)
{
	if (!p->listed)
		return;
	p->listed = false;
	if (p->prev)
		p->prev->next = p->next;
	else
		p->fs->parked = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
}

static void unlist(struct parked *p)
{
	pthread_mutex_lock(&p->fs->park_lock);
	unlist_locked(p);
	pthread_mutex_unlock(&p->fs->park_lock);
}

/* A parked read's condition came true (called with no lock held). */
static void parked_wake(struct stream_waiter *w)
{
	struct parked *p = (struct parked *)((char *)w - offsetof(struct parked, w));

	unlist(p);
	if (p->fh->kind == K_WAIT)
		reply_wait(p->req, p->fh->job, p->off);
	else
		reply_stream(p->req, p->fh, p->size, p->off);
	fh_drop(p->fh);
	parked_put(p);
}

static bool unpark(struct parked *p)
{
	if (p->fh->kind == K_WAIT)
		return job_unwait(p->fh->job, &p->w);
	return stream_unwait(p->fh->stream, &p->w);
}

/* Ctrl-C on a parked reader. data is the fs; the request is looked up in
 * the parked list, since the parked entry may be gone already. */
static void parked_interrupt(fuse_req_t req, void *data)
{
	struct fs *fs = data;
	struct parked *p;
	bool mine = false;

	pthread_mutex_lock(&fs->park_lock);
	for (p = fs->parked; p; p = p->next) {
		if (p->req == req) {
			/* Not on a waiter list yet: park() sees the flag. */
			p->interrupted = true;
			mine = unpark(p);
			if (mine)
				unlist_locked(p);
			break;
		}
	}
	pthread_mutex_unlock(&fs->park_lock);
	if (mine) {
		fuse_reply_err(req, EINTR);
		fh_drop(p->fh);
		parked_put(p);
	}
}

static void park(fuse_req_t req, struct fh *fh, size_t size, off_t off)
{
	struct fs *fs = fh->fs;
	struct parked *p = calloc(1, sizeof(*p));
	bool parked;

	if (!p) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p->req = req;
	p->fs = fs;
	p->fh = fh_hold(fh);
	p->size = size;
	p->off = off;
	p->w.off = (uint64_t)off;
	p->w.wake = parked_wake;
	atomic_store(&p->refs, 2);
	pthread_mutex_lock(&fs->park_lock);
	p->next = fs->parked;
	if (fs->parked)
		fs->parked->prev = p;
	fs->parked = p;
	p->listed = true;
	pthread_mutex_unlock(&fs->park_lock);
	/* Before the waiter is on its list: from then on its waker may reply
	 * and free req at any moment. An interrupt in between sets the flag. */
	fuse_req_interrupt_func(req, parked_interrupt, fs);
	if (fh->kind == K_WAIT)
		parked = job_wait(fh->job, &p->w);
	else
		parked = stream_wait(fh->stream, &p->w);
	if (!parked) {
		/* It came true meanwhile: answer now. */
		parked_wake(&p->w);
	} else {
		bool mine = false;

		pthread_mutex_lock(&fs->park_lock);
		if (p->interrupted && p->listed) {
			mine = unpark(p);
			if (mine)
				unlist_locked(p);
		}
		pthread_mutex_unlock(&fs->park_lock);
		if (mine) {
			fuse_reply_err(req, EINTR);
			fh_drop(p->fh);
			parked_put(p);
		}
	}
	parked_put(p);
}

static void read_stream(fuse_req_t req, struct fh *fh, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct stream *s = fh->stream;

	if ((uint64_t)off < stream_size(s) || stream_ended(s)) {
		reply_stream(req, fh, size, off);
		return;
	}
	if (fi->flags & O_NONBLOCK) {
		fuse_reply_err(req, EAGAIN);
		return;
	}
	if (atomic_load(&fh->fs->unmounted)) {
		fuse_reply_err(req, EIO);
		return;
	}
	park(req, fh, size, off);
}

static void read_log(fuse_req_t req, struct fs *fs, struct log *l, size_t size, off_t off)
{
	uint64_t avail = log_size(l);
	int fd;

	if ((uint64_t)off >= avail) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > avail - (uint64_t)off)
		size = (size_t)(avail - (uint64_t)off);
	fd = log_fd_get(l);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	reply_file(req, fs, fd, size, off);
	log_fd_put(l);
}

void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fh *fh = fh_hold(fh_of(fi));

	(void)ino;
	read_fh(req, fh, size, off, fi);
	fh_drop(fh);
}

static void read_fh(fuse_req_t req, struct fh *fh, size_t size, off_t off, struct fuse_file_info *fi)
{
	switch (fh->kind) {
	case K_INPUT: case K_OUTPUT: case K_STREAM:
		if (!fh->stream) {
			fuse_reply_err(req, EBADF);
			return;
		}
		read_stream(req, fh, size, off, fi);
		return;
	case K_LOG:
		read_log(req, fh->fs, fh->job->log, size, off);
		return;
	case K_DAEMON_LOG:
		read_log(req, fh->fs, fh->fs->env->log, size, off);
		return;
	case K_WAIT:
		if (fh->job->stopped)
			reply_wait(req, fh->job, off);
		else if (fi->flags & O_NONBLOCK)
			fuse_reply_err(req, EAGAIN);
		else if (atomic_load(&fh->fs->unmounted))
			fuse_reply_err(req, EIO);
		else
			park(req, fh, size, off);
		return;
	default:
		break;
	}
	if (fh->writing) {
		/* spec.json opened read-write: read what was written so far. */
		if ((size_t)off >= fh->wbuf.len)
			fuse_reply_buf(req, NULL, 0);
		else
			fuse_reply_buf(req, fh->wbuf.p + off,
				       size < fh->wbuf.len - (size_t)off ? size : fh->wbuf.len - (size_t)off);
		return;
	}
	if (!fh->text || (size_t)off >= fh->text_len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > fh->text_len - (size_t)off)
		size = fh->text_len - (size_t)off;
	fuse_reply_buf(req, fh->text + off, size);
}

/* ---- writing -------------------------------------------------------------------------- */

/* Writes into a document being written (spec.json, options.json, .specs). */
static int write_doc(struct fh *fh, const char *buf, size_t size, off_t off)
{
	size_t end = (size_t)off + size;

	if ((uint64_t)off + size > SPEC_MAX_BYTES) {
		if (fh->job)
			job_log(fh->job, 2, "%s: larger than 1 MiB",
				fh->kind == K_SPEC ? "spec.json" : "options.json");
		return -EFBIG;
	}
	if (end > fh->wbuf.len) {
		size_t grow = end - fh->wbuf.len;
		char zeros[256] = {0};

		while (grow > 0) {
			size_t n = grow < sizeof(zeros) ? grow : sizeof(zeros);
			if (buf_append(&fh->wbuf, zeros, n) < 0)
				return -ENOMEM;
			grow -= n;
		}
	}
	memcpy(fh->wbuf.p + off, buf, size);
	fh->dirty = true;
	return 0;
}

/* ctl: every complete line is a command; errors surface through this write. */
static int write_ctl(struct fh *fh, const char *buf, size_t size)
{
	int rc = 0;

	if (buf_append(&fh->wbuf, buf, size) < 0)
		return -ENOMEM;
	for (;;) {
		char *nl = memchr(fh->wbuf.p, '\n', fh->wbuf.len);
		size_t n;
		int r;

		if (!nl)
			break;
		n = (size_t)(nl - fh->wbuf.p) + 1;
		r = job_ctl(fh->job, fh->wbuf.p, n);
		if (r < 0 && rc == 0)
			rc = r;
		memmove(fh->wbuf.p, fh->wbuf.p + n, fh->wbuf.len - n);
		fh->wbuf.len -= n;
	}
	if (fh->wbuf.len > 4096) {
		fh->wbuf.len = 0;
		rc = -EINVAL;
	}
	return rc;
}

void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi)
{
	struct fh *fh = fh_hold(fh_of(fi));
	int rc;

	(void)ino;
	switch (fh->kind) {
	case K_INPUT:
		rc = fh->input ? job_input_write(fh->job, fh->input, buf, size) : -EBADF;
		break;
	case K_CTL:
		rc = write_ctl(fh, buf, size);
		break;
	case K_SPEC: case K_OPTIONS: case K_REG_SPEC:
		rc = fh->writing ? write_doc(fh, buf, size, off) : -EBADF;
		break;
	default:
		rc = -EBADF;
	}
	fh_drop(fh);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, size);
}

/* close(): the writer of a document hands it over here, and its errors are
 * the close's errors (cp reports them). */
void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *fh = fh_hold(fh_of(fi));
	struct fs *fs = fs_of(req);
	int rc = 0;

	(void)ino;
	switch (fh->kind) {
	case K_SPEC:
		if (fh->dirty) {
			fh->dirty = false;
			fh->submitted = true;
			rc = job_submit_spec(fh->job, fh->wbuf.p ? fh->wbuf.p : "", fh->wbuf.len,
					     fuse_req_ctx(req)->uid);
		}
		break;
	case K_OPTIONS:
		if (fh->dirty) {
			fh->dirty = false;
			fh->submitted = true;
			rc = job_submit_options(fh->job, fh->wbuf.p ? fh->wbuf.p : "", fh->wbuf.len);
		}
		break;
	case K_REG_SPEC:
		if (fh->dirty && fh->writing) {
			fh->dirty = false;
			fh->submitted = true;
			rc = env_spec_put(fs->env, fh->reg_name, fh->wbuf.p ? fh->wbuf.p : "",
					  fh->wbuf.len);
		}
		break;
	case K_INPUT:
		if (fh->input)
			rc = job_input_sync(fh->job, fh->input);
		break;
	case K_CTL:
		if (fh->wbuf.len) {
			rc = job_ctl(fh->job, fh->wbuf.p, fh->wbuf.len);
			fh->wbuf.len = 0;
		}
		break;
	default:
		break;
	}
	fh_drop(fh);
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

static void drop_poll(struct fh *fh)
{
	if (fh->stream && fh->pollw.wake && stream_unwait(fh->stream, &fh->pollw))
		fh_drop(fh); /* the parked poll waiter's hold */
	pthread_mutex_lock(&fh->poll_lock);
	if (fh->ph)
		fuse_pollhandle_destroy(fh->ph);
	fh->ph = NULL;
	pthread_mutex_unlock(&fh->poll_lock);
}

void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fh *fh = fh_of(fi);

	(void)ino;
	drop_poll(fh);
	if (fh->input)
		job_input_close(fh->job, fh->input);
	fh->input = NULL;
	/* An emptied document that was never written (cp of an empty file):
	 * flush skipped it because a shell's dup'd fd closes before it writes;
	 * it is submitted now, so the job's log and status say what is wrong. */
	if (fh->truncated && !fh->submitted && fh->wbuf.len == 0) {
		if (fh->kind == K_SPEC)
			job_submit_spec(fh->job, "", 0, fuse_req_ctx(req)->uid);
		else if (fh->kind == K_OPTIONS)
			job_submit_options(fh->job, "", 0);
		else if (fh->kind == K_REG_SPEC)
			env_spec_put(fh->fs->env, fh->reg_name, "", 0);
	}
	fh_drop(fh);
	fuse_reply_err(req, 0);
}

/* ---- poll --------------------------------------------------------------------------------- */

static void poll_wake(struct stream_waiter *w)
{
	struct fh *fh = (struct fh *)((char *)w - offsetof(struct fh, pollw));
	struct fuse_pollhandle *ph;

	pthread_mutex_lock(&fh->poll_lock);
	ph = fh->ph;
	fh->ph = NULL;
	pthread_mutex_unlock(&fh->poll_lock);
	if (ph) {
		fuse_lowlevel_notify_poll(ph);
		fuse_pollhandle_destroy(ph);
	}
	fh_drop(fh);
}

void fs_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
	struct fh *fh = fh_hold(fh_of(fi));

	(void)ino;
	fuse_reply_poll(req, poll_fh(fh, ph));
	fh_drop(fh);
}

static unsigned poll_fh(struct fh *fh, struct fuse_pollhandle *ph)
{
	unsigned revents = 0;

	if (fh->kind == K_INPUT && fh->input)
		revents |= POLLOUT;
	if (!fh->stream) {
		if (fh->kind != K_WAIT || fh->job->stopped)
			revents |= POLLIN;
		if (ph)
			fuse_pollhandle_destroy(ph);
		return revents | (fh->kind == K_WAIT ? 0 : POLLOUT);
	}
	/* Readable when there is data past what this handle was last given. */
	if (stream_ended(fh->stream) || stream_size(fh->stream) > atomic_load(&fh->pos)) {
		revents |= POLLIN;
		if (ph)
			fuse_pollhandle_destroy(ph); /* ready now: nothing to notify later */
	} else if (ph) {
		struct fuse_pollhandle *old;

		pthread_mutex_lock(&fh->poll_lock);
		old = fh->ph;
		fh->ph = ph;
		pthread_mutex_unlock(&fh->poll_lock);
		if (old)
			fuse_pollhandle_destroy(old);
		if (fh->pollw.wake && stream_unwait(fh->stream, &fh->pollw))
			fh_drop(fh);
		fh->pollw.wake = poll_wake;
		fh->pollw.off = atomic_load(&fh->pos);
		fh_hold(fh);
		if (!stream_wait(fh->stream, &fh->pollw)) {
			revents |= POLLIN;
			fh_drop(fh);
		}
	}
	return revents;
}

/* At the very end: handles the kernel never released. */
void fs_free_handles(struct fs *fs)
{
	for (;;) {
		struct fh *fh;

		pthread_mutex_lock(&fs->park_lock);
		fh = fs->fhs;
		pthread_mutex_unlock(&fs->park_lock);
		if (!fh)
			break;
		/* Nothing else runs now: drop its poll waiter without the
		 * reference dance, then free it whatever its count. */
		if (fh->stream && fh->pollw.wake)
			stream_unwait(fh->stream, &fh->pollw);
		if (fh->ph)
			fuse_pollhandle_destroy(fh->ph);
		fh->ph = NULL;
		fh_free(fh);
	}
}

/* At unmount: answer every parked request so nothing is left waiting. */
void fs_unpark_all(struct fs *fs)
{
	for (;;) {
		struct parked *p;
		bool mine = false;

		pthread_mutex_lock(&fs->park_lock);
		p = fs->parked;
		if (p) {
			mine = unpark(p);
			unlist_locked(p);
		}
		pthread_mutex_unlock(&fs->park_lock);
		if (!p)
			break;
		if (mine) {
			fuse_reply_err(p->req, EIO);
			fh_drop(p->fh);
			parked_put(p);
		}
	}
}
