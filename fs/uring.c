/* uring.c - FUSE over io_uring underneath libfuse 3.14 (see uring.h).
 *
 * The kernel's side (Linux 6.14+, fs/fuse/dev_uring.c): after FUSE_INIT
 * granted FUSE_OVER_IO_URING, each queue (one per possible CPU) registers
 * ring entries with IORING_OP_URING_CMD; an entry is a header (the
 * fuse_in_header or fuse_out_header, the op's first argument, a commit id
 * and a payload size) and a payload buffer. A request arrives as the
 * completion of an entry's command and is answered by committing that entry
 * (which fetches the next request into it). A request that waits (a read at
 * a stream's live end) keeps its entry meanwhile, so a queue registers more
 * entries when few are left. FORGET, INTERRUPT and notifications still use
 * /dev/fuse, so libfuse's own threads keep reading it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <unistd.h>

#include "uring.h"

/* The kernel's ABI (include/uapi/linux/fuse.h, 7.42), which Debian 12's
 * headers predate. */
#define LJ_FUSE_OVER_IO_URING (1ULL << 41)
#define LJ_URING_CMD_REGISTER 1
#define LJ_URING_CMD_COMMIT_AND_FETCH 2

struct lj_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;
	uint32_t payload_sz;
	uint32_t padding;
	uint64_t reserved;
};

struct lj_uring_req_header {
	char in_out[128];  /* fuse_in_header, or the reply's fuse_out_header */
	char op_in[128];   /* the op's first argument */
	struct lj_uring_ent_in_out ent;
};

struct lj_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

/* A request that comes while a queue has no free entry waits in the kernel
 * until an entry is committed, not until one is registered: with every
 * entry held by a waiting read it would wait for that read's data. So a
 * queue keeps at least LOW_ENTRIES free, registering MORE_ENTRIES at a time
 * as waiting reads take them. */
#define FIRST_ENTRIES 64       /* per queue at the start */
#define MORE_ENTRIES 64
#define LOW_ENTRIES 32
#define MAX_ENTRIES 16384      /* per queue: waiting reads beyond it queue in the kernel */
#define SQ_SIZE 256
#define ARG_ROOM 4096          /* before the payload: the header and first argument */
#define MAP_SIZE 4096          /* buckets of the in-flight table */
#define WAKE_TAG ((uint64_t)1) /* user_data of the eventfd poll */

struct ent {
	struct queue *q;
	struct ent *commit_next;   /* in its queue's list of commits to make */
	int last_op;               /* the command last sent for it */
	struct lj_uring_req_header *h;
	char *room;                /* ARG_ROOM bytes, then the payload */
	struct iovec iov[2];
	uint64_t unique;           /* of the request it holds */
	struct ent *next;          /* in-flight table bucket */
};

struct queue {
	struct uring *u;
	int qid;
	struct io_uring ring;
	bool ring_ok;              /* set by its thread */
	pthread_t tid;
	bool started;              /* the thread was made (read at detach) */
	/* io_uring cancels what a thread submitted when the thread exits, and
	 * libfuse's worker threads come and go: only the queue's own thread
	 * submits. Others hand it their commits (commit_lock) and wake it. */
	pthread_mutex_t commit_lock;
	struct ent *commits;
	bool stop;                 /* under commit_lock: the thread ends */
	int wake_fd;               /* eventfd: commits to make, or stop */
	struct ent **ents;
	int nents;
	int dead;                  /* entries whose command failed: never used again */
	_Atomic int busy;          /* entries holding a request */
	struct ent *serving;       /* handled by the thread right now */
	bool serving_read;         /* and it is a READ: its reply may use the entry */
};

struct uring {
	struct fuse_session *se;
	int fd;
	bool want;
	size_t payload;            /* bytes of an entry's payload buffer */
	long page;
	int nq;
	struct queue *qs;
	_Atomic bool active;       /* a queue registered: requests come over rings */
	_Atomic uint64_t init_unique;
	_Atomic bool offered;      /* the kernel's INIT offered FUSE over io_uring */
	/* Queues are made before the INIT reply, which asks for io_uring only
	 * if every one of them is ready (the kernel waits for all of them):
	 * start_lock guards the counts and the verdict. */
	pthread_mutex_t start_lock;
	pthread_cond_t start_cond;
	int nready, nfailed;
	int verdict;               /* 0 waiting, 1 go, -1 give up */
	pthread_mutex_t map_lock;
	struct ent *map[MAP_SIZE];
};

/* The queue whose thread this is, if it is one (set once by the thread). */
static _Thread_local struct queue *self_queue;

/* libfuse hands the custom I/O the session's userdata: struct fs, whose
 * first member is the struct uring pointer (fs.h). */
static struct uring *uring_of(void *userdata)
{
	return *(struct uring **)userdata;
}

/* ---- requests in flight ------------------------------------------------ */

static void map_put(struct uring *u, struct ent *e)
{
	struct ent **b = &u->map[e->unique % MAP_SIZE];

	pthread_mutex_lock(&u->map_lock);
	e->next = *b;
	*b = e;
	pthread_mutex_unlock(&u->map_lock);
}

static struct ent *map_take(struct uring *u, uint64_t unique)
{
	struct ent **p, *e = NULL;

	pthread_mutex_lock(&u->map_lock);
	for (p = &u->map[unique % MAP_SIZE]; *p; p = &(*p)->next) {
		if ((*p)->unique == unique) {
			e = *p;
			*p = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&u->map_lock);
	return e;
}

/* ---- submissions -------------------------------------------------------- */

/* An SQE of q (its own thread): the queue is submitted when full. */
static struct io_uring_sqe *get_sqe(struct queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	/* A lost SQE would be an entry never committed again: wait for room. */
	for (int tries = 0; !sqe; tries++) {
		if (tries == 1000) {
			fprintf(stderr, "livejobfs: io_uring queue %d: no room to submit\n", q->qid);
			abort();
		}
		if (tries > 0)
			sched_yield();
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	memset(sqe, 0, 2 * sizeof(*sqe)); /* SQE128 */
	return sqe;
}

static void prep_cmd(struct io_uring_sqe *sqe, struct ent *e, int op, uint64_t commit_id)
{
	struct lj_uring_cmd_req *c = (struct lj_uring_cmd_req *)sqe->cmd;

	sqe->opcode = IORING_OP_URING_CMD;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = 0;
	sqe->cmd_op = (uint32_t)op;
	e->last_op = op;
	io_uring_sqe_set_data(sqe, e);
	c->qid = (uint16_t)e->q->qid;
	c->commit_id = commit_id;
	if (op == LJ_URING_CMD_REGISTER) {
		sqe->addr = (uint64_t)(uintptr_t)e->iov;
		sqe->len = 2;
	}
}

static void prep_commit(struct queue *q, struct ent *e)
{
	prep_cmd(get_sqe(q), e, LJ_URING_CMD_COMMIT_AND_FETCH, e->h->ent.commit_id);
}

/* Answers e's request with what its header and payload now hold and takes
 * the next one into it: on the queue's thread at its next turn round its
 * loop; from any other thread through the queue's list. */
static void commit(struct ent *e)
{
	struct queue *q = e->q;
	uint64_t one = 1;

	atomic_fetch_sub(&q->busy, 1);
	if (self_queue == q) {
		prep_commit(q, e);
		return;
	}
	pthread_mutex_lock(&q->commit_lock);
	e->commit_next = q->commits;
	q->commits = e;
	pthread_mutex_unlock(&q->commit_lock);
	if (write(q->wake_fd, &one, sizeof(one)) < 0)
		perror("livejobfs: io_uring queue wakeup");
}

static void arm_wake(struct queue *q)
{
	struct io_uring_sqe *sqe = get_sqe(q);

	io_uring_prep_poll_add(sqe, q->wake_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, WAKE_TAG);
}

/* The commits other threads handed over; false once the queue stops. */
static bool take_commits(struct queue *q)
{
	struct ent *list;
	uint64_t n;
	bool stop;

	if (read(q->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		perror("livejobfs: io_uring queue wakeup");
	pthread_mutex_lock(&q->commit_lock);
	list = q->commits;
	q->commits = NULL;
	stop = q->stop;
	pthread_mutex_unlock(&q->commit_lock);
	for (; list; list = list->commit_next)
		prep_commit(q, list);
	if (!stop)
		arm_wake(q);
	return !stop;
}

/* Registers n more entries with q (its own thread). */
static void add_entries(struct queue *q, int n)
{
	struct uring *u = q->u;
	struct ent **v;

	if (q->nents + n > MAX_ENTRIES)
		n = MAX_ENTRIES - q->nents;
	if (n <= 0)
		return;
	v = realloc(q->ents, sizeof(*v) * (size_t)(q->nents + n));
	if (!v)
		return;
	q->ents = v;
	for (int i = 0; i < n; i++) {
		struct ent *e = calloc(1, sizeof(*e));
		void *room;

		/* Mapped, not malloc'd: untouched payload pages cost nothing. */
		room = mmap(NULL, ARG_ROOM + u->payload, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (!e || room == MAP_FAILED ||
		    posix_memalign((void **)&e->h, (size_t)u->page, (size_t)u->page) != 0) {
			if (room != MAP_FAILED)
				munmap(room, ARG_ROOM + u->payload);
			free(e);
			return;
		}
		memset(e->h, 0, (size_t)u->page);
		e->q = q;
		e->room = room;
		e->iov[0] = (struct iovec){e->h, sizeof(*e->h)};
		e->iov[1] = (struct iovec){e->room + ARG_ROOM, u->payload};
		q->ents[q->nents++] = e;
		prep_cmd(get_sqe(q), e, LJ_URING_CMD_REGISTER, 0);
	}
}

/* Fills e's reply header (len (size_t)-1: the request fails with EIO) and
 * commits it. */
static void reply_ring(struct ent *e, const struct fuse_out_header *out, size_t len)
{
	struct fuse_out_header *h = (struct fuse_out_header *)e->h->in_out;

	h->unique = out->unique;
	h->error = len == (size_t)-1 ? -EIO : out->error;
	h->len = (uint32_t)(len == (size_t)-1 ? 0 : len);
	e->h->ent.payload_sz = len == (size_t)-1 ? 0 : (uint32_t)len;
	commit(e);
}

/* ---- a queue's thread --------------------------------------------------- */

/* A request in e: laid out as read from /dev/fuse (header, arguments,
 * payload) in front of the payload, which stays where the kernel put it. */
static void serve(struct queue *q, struct ent *e)
{
	struct uring *u = q->u;
	const struct fuse_in_header *in = (const struct fuse_in_header *)e->h->in_out;
	uint32_t payload = e->h->ent.payload_sz;
	size_t first = in->len - sizeof(*in) - payload;
	struct fuse_buf buf = {0};
	char *start;

	atomic_fetch_add(&q->busy, 1);
	if (in->len < sizeof(*in) + payload || first > sizeof(e->h->op_in) ||
	    payload > u->payload) {
		reply_ring(e, &(struct fuse_out_header){.unique = in->unique}, (size_t)-1);
		return;
	}
	start = e->room + ARG_ROOM - first - sizeof(*in);
	memcpy(start, in, sizeof(*in));
	memcpy(start + sizeof(*in), e->h->op_in, first);
	e->unique = in->unique;
	map_put(u, e);
	buf.mem = start;
	buf.size = in->len;
	q->serving = e;
	q->serving_read = in->opcode == FUSE_READ;
	fuse_session_process_buf(u->se, &buf);
	q->serving = NULL;
	q->serving_read = false;
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set); /* a CPU that is offline: run anywhere */
}

/* The ring is made by the thread that alone submits to it. */
static int queue_setup(struct queue *q)
{
	struct io_uring_params p = {0};
	int rc;

	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE;
	p.cq_entries = 2 * MAX_ENTRIES;
	rc = io_uring_queue_init_params(SQ_SIZE, &q->ring, &p);
	if (rc < 0)
		return rc;
	q->ring_ok = true;
	return io_uring_register_files(&q->ring, &q->u->fd, 1);
}

static void *queue_main(void *arg)
{
	struct queue *q = arg;
	struct uring *u = q->u;
	bool registered = false;
	int rc;

	self_queue = q;
	pthread_setname_np(pthread_self(), "lj-uring");
	pin_to_cpu(q->qid);
	rc = queue_setup(q);
	if (rc < 0)
		fprintf(stderr, "livejobfs: io_uring queue %d: %s; requests use /dev/fuse\n",
			q->qid, strerror(-rc));
	pthread_mutex_lock(&u->start_lock);
	if (rc < 0)
		u->nfailed++;
	else
		u->nready++;
	pthread_cond_broadcast(&u->start_cond);
	while (u->verdict == 0)
		pthread_cond_wait(&u->start_cond, &u->start_lock);
	rc = rc < 0 ? rc : u->verdict < 0 ? -ECANCELED : 0;
	pthread_mutex_unlock(&u->start_lock);
	if (rc < 0)
		return NULL;
	arm_wake(q);
	add_entries(q, FIRST_ENTRIES);
	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		bool stop = false;

		io_uring_submit(&q->ring);
		rc = io_uring_wait_cqe(&q->ring, &cqe);
		if (rc == -EINTR)
			continue;
		if (rc < 0)
			break;
		io_uring_for_each_cqe(&q->ring, head, cqe) {
			struct ent *e = io_uring_cqe_get_data(cqe);

			seen++;
			if ((uint64_t)(uintptr_t)e == WAKE_TAG) {
				stop |= !take_commits(q);
				continue;
			}
			if (cqe->res == 0) {
				if (!registered) {
					registered = true;
					atomic_store(&u->active, true);
				}
				serve(q, e);
			} else if (!registered) {
				stop = true; /* the kernel takes no rings: /dev/fuse alone */
			} else if (cqe->res == -EINTR || cqe->res == -EAGAIN) {
				prep_cmd(get_sqe(q), e, e->last_op,
					 e->last_op == LJ_URING_CMD_REGISTER ? 0 : e->h->ent.commit_id);
			} else {
				q->dead++; /* the connection is going: it stays idle */
			}
		}
		io_uring_cq_advance(&q->ring, seen);
		if (stop) {
			io_uring_submit(&q->ring); /* the last commits handed over */
			break;
		}
		if (registered && q->nents - q->dead - atomic_load(&q->busy) < LOW_ENTRIES)
			add_entries(q, MORE_ENTRIES);
	}
	return NULL;
}

static int queue_start(struct uring *u, struct queue *q)
{
	int rc;

	q->u = u;
	pthread_mutex_init(&q->commit_lock, NULL);
	q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->wake_fd < 0)
		return -errno;
	rc = pthread_create(&q->tid, NULL, queue_main, q);
	if (rc != 0)
		return -rc;
	q->started = true;
	return 0;
}

/* Before the INIT reply: makes every queue's ring and thread; true when
 * all of them are ready (the kernel waits for all once io_uring is
 * granted, so a missing one would hold every request back). */
static bool prepare_queues(struct uring *u)
{
	int started = 0;

	for (int i = 0; i < u->nq; i++) {
		int rc = queue_start(u, &u->qs[i]);

		if (rc < 0) {
			fprintf(stderr, "livejobfs: io_uring queue %d: %s; requests use /dev/fuse\n",
				i, strerror(-rc));
			break;
		}
		started++;
	}
	pthread_mutex_lock(&u->start_lock);
	while (u->nready + u->nfailed < started)
		pthread_cond_wait(&u->start_cond, &u->start_lock);
	pthread_mutex_unlock(&u->start_lock);
	return started == u->nq && u->nready == u->nq;
}

/* After the INIT reply went out (go) or instead of asking (give up). */
static void decide(struct uring *u, bool go)
{
	pthread_mutex_lock(&u->start_lock);
	u->verdict = go ? 1 : -1;
	pthread_cond_broadcast(&u->start_cond);
	pthread_mutex_unlock(&u->start_lock);
}

/* ---- libfuse's custom I/O ----------------------------------------------- */

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	struct uring *u = uring_of(userdata);
	ssize_t n = read(fd, buf, len);

	if (n >= (ssize_t)sizeof(struct fuse_in_header) &&
	    ((struct fuse_in_header *)buf)->opcode == FUSE_INIT) {
		const struct fuse_init_in *in =
			(const struct fuse_init_in *)((char *)buf + sizeof(struct fuse_in_header));

		atomic_store(&u->init_unique, ((struct fuse_in_header *)buf)->unique);
		atomic_store(&u->offered,
			     n >= (ssize_t)(sizeof(struct fuse_in_header) + sizeof(*in)) &&
			     (in->flags & FUSE_INIT_EXT) &&
			     (in->flags2 & (uint32_t)(LJ_FUSE_OVER_IO_URING >> 32)));
	}
	return n;
}

/* The INIT reply libfuse made, if it can carry the request for io_uring. */
static struct fuse_init_out *init_reply(struct iovec *iov, int count)
{
	struct fuse_init_out *o;

	if (count < 2 || iov[1].iov_len < offsetof(struct fuse_init_out, unused))
		return NULL;
	o = iov[1].iov_base;
	return (o->flags & FUSE_INIT_EXT) ? o : NULL;
}

/* An entry's payload holds the largest request or reply the INIT allows. */
static void size_payload(struct uring *u, const struct fuse_init_out *o)
{
	size_t max = o->max_write;

	if ((size_t)o->max_pages * (size_t)u->page > max)
		max = (size_t)o->max_pages * (size_t)u->page;
	if (max < 8192)
		max = 8192; /* FUSE_MIN_READ_BUFFER */
	u->payload = (max + (size_t)u->page - 1) & ~((size_t)u->page - 1);
}

/* The INIT reply asks for io_uring only once every queue is ready. */
static ssize_t reply_init(struct uring *u, int fd, struct iovec *iov, int count)
{
	struct fuse_init_out *o = u->want && atomic_load(&u->offered) ? init_reply(iov, count) : NULL;
	bool go = false;
	ssize_t n;

	if (o) {
		size_payload(u, o);
		go = prepare_queues(u);
		if (go)
			o->flags2 |= (uint32_t)(LJ_FUSE_OVER_IO_URING >> 32);
	}
	n = writev(fd, iov, count);
	if (o)
		decide(u, go && n >= 0);
	return n;
}

/* Copies iov[from..count) to e's payload (unless it is there already). */
static size_t to_payload(struct uring *u, struct ent *e, struct iovec *iov, int from, int count)
{
	char *dst = e->room + ARG_ROOM;
	size_t len = 0;

	if (count - from == 1 && iov[from].iov_base == dst)
		return iov[from].iov_len <= u->payload ? iov[from].iov_len : (size_t)-1;
	for (int i = from; i < count; i++) {
		if (len + iov[i].iov_len > u->payload)
			return (size_t)-1;
		memcpy(dst + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	return len;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct uring *u = uring_of(userdata);
	const struct fuse_out_header *out = iov[0].iov_base;
	struct ent *e;

	if (out->unique != 0 && atomic_load(&u->active) && (e = map_take(u, out->unique))) {
		reply_ring(e, out, to_payload(u, e, iov, 1, count));
		return (ssize_t)out->len;
	}
	if (out->unique != 0 && out->unique == atomic_load(&u->init_unique)) {
		atomic_store(&u->init_unique, 0);
		return reply_init(u, fd, iov, count);
	}
	return writev(fd, iov, count);
}

/* Reads len bytes from a pipe. */
static int read_pipe(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

/* libfuse splices a reply's data into a pipe behind its header; a reply
 * for a ring entry is read out of the pipe into the entry. */
static ssize_t io_splice_send(int fdin, off_t *offin, int fdout, off_t *offout, size_t len,
			      unsigned int flags, void *userdata)
{
	struct uring *u = uring_of(userdata);
	struct fuse_out_header out;
	struct ent *e;
	char *rest;
	ssize_t n;

	if (!atomic_load(&u->active))
		return splice(fdin, offin, fdout, offout, len, flags);
	if (len < sizeof(out) || read_pipe(fdin, &out, sizeof(out)) < 0) {
		errno = EIO;
		return -1;
	}
	if (out.unique != 0 && (e = map_take(u, out.unique))) {
		size_t body = len - sizeof(out);

		if (body <= u->payload && read_pipe(fdin, e->room + ARG_ROOM, body) == 0) {
			reply_ring(e, &out, body);
			return (ssize_t)len;
		}
		/* Failed with EIO; libfuse empties its pipe on the error. */
		reply_ring(e, &out, (size_t)-1);
		errno = EIO;
		return -1;
	}
	/* A request that came over /dev/fuse: the header is out of the pipe
	 * already, so the rest goes through memory. */
	rest = malloc(len);
	if (!rest) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(rest, &out, sizeof(out));
	if (read_pipe(fdin, rest + sizeof(out), len - sizeof(out)) < 0) {
		free(rest);
		errno = EIO;
		return -1;
	}
	n = write(fdout, rest, len);
	free(rest);
	return n;
}

/* ---- the interface ------------------------------------------------------ */

int uring_attach(struct fuse_session *se, bool want, struct uring **out)
{
	static const struct fuse_custom_io io = {
		.read = io_read,
		.writev = io_writev,
		.splice_send = io_splice_send,
	};
	struct uring *u = calloc(1, sizeof(*u));
	int rc;

	if (!u)
		return -ENOMEM;
	u->se = se;
	u->fd = fuse_session_fd(se);
	u->want = want;
	u->nq = get_nprocs_conf();
	if (u->nq < 1)
		u->nq = 1;
	u->qs = calloc((size_t)u->nq, sizeof(*u->qs));
	if (!u->qs) {
		free(u);
		return -ENOMEM;
	}
	for (int i = 0; i < u->nq; i++) {
		u->qs[i].qid = i;
		u->qs[i].wake_fd = -1;
	}
	pthread_mutex_init(&u->map_lock, NULL);
	pthread_mutex_init(&u->start_lock, NULL);
	pthread_cond_init(&u->start_cond, NULL);
	u->page = sysconf(_SC_PAGESIZE);
	if (u->page < 4096)
		u->page = 4096;
	/* Set before the session's loop reads anything: the same fd, now read
	 * and written through the functions above. */
	rc = fuse_session_custom_io(se, &io, u->fd);
	if (rc < 0) {
		free(u->qs);
		free(u);
		return rc;
	}
	*out = u;
	return 0;
}

bool uring_active(const struct uring *u)
{
	return u && atomic_load(&u->active);
}

void *uring_reply_space(struct uring *u, size_t *cap)
{
	struct queue *q = self_queue;

	/* Only a READ's: the handler of another request may answer a waiting
	 * read, whose reply must not overwrite this request's payload. */
	if (!q || q->u != u || !q->serving_read)
		return NULL;
	*cap = u->payload;
	return q->serving->room + ARG_ROOM;
}

void uring_stop(struct uring *u)
{
	if (!u)
		return;
	atomic_store(&u->active, false);
	for (int i = 0; i < u->nq; i++) {
		struct queue *q = &u->qs[i];
		uint64_t one = 1;

		if (!q->started)
			continue;
		pthread_mutex_lock(&q->commit_lock);
		q->stop = true;
		pthread_mutex_unlock(&q->commit_lock);
		if (write(q->wake_fd, &one, sizeof(one)) < 0)
			perror("livejobfs: io_uring queue stop");
		pthread_join(q->tid, NULL);
		q->started = false;
	}
}

void uring_free(struct uring *u)
{
	if (!u)
		return;
	uring_stop(u);
	for (int i = 0; i < u->nq; i++) {
		struct queue *q = &u->qs[i];

		if (q->ring_ok)
			io_uring_queue_exit(&q->ring);
		if (q->wake_fd >= 0) {
			close(q->wake_fd);
			pthread_mutex_destroy(&q->commit_lock);
		}
		for (int k = 0; k < q->nents; k++) {
			munmap(q->ents[k]->room, ARG_ROOM + u->payload);
			free(q->ents[k]->h);
			free(q->ents[k]);
		}
		free(q->ents);
	}
	pthread_mutex_destroy(&u->map_lock);
	pthread_mutex_destroy(&u->start_lock);
	pthread_cond_destroy(&u->start_cond);
	free(u->qs);
	free(u);
}
