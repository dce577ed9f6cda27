/* reactor.c - the epoll thread of the engine (see reactor.h). An event only
 * schedules the task that registered the fd, and the task does the I/O on
 * a pool thread.
 *
 * Events name a slot (fd and generation), not the task: epoll_wait may
 * return an event for an fd that another thread removes a moment later and
 * whose task it then frees. The slot table is looked up under `lock`
 * (owner: the reactor; taken before the pool's queue lock, never held
 * across I/O), so once reactor_del() returns the task is never scheduled
 * from here again. */
#include "reactor.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "pool.h"

struct slot {
	struct task *task; /* NULL: free */
	uint32_t gen;
};

struct reactor {
	int epfd;
	int stopfd; /* eventfd: wakes the thread to exit */
	pthread_t thread;
	pthread_mutex_t lock;
	struct slot *slots; /* indexed by fd */
	size_t nslots;
};

#define STOP_KEY UINT64_MAX

static uint64_t key(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

static void *reactor_main(void *arg)
{
	struct reactor *r = arg;
	struct epoll_event ev[64];

	pthread_setname_np(pthread_self(), "lj-reactor");
	for (;;) {
		int n = epoll_wait(r->epfd, ev, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		pthread_mutex_lock(&r->lock);
		for (int i = 0; i < n; i++) {
			uint64_t k = ev[i].data.u64;
			size_t fd = (uint32_t)k;

			if (k == STOP_KEY) {
				pthread_mutex_unlock(&r->lock);
				return NULL;
			}
			if (fd < r->nslots && r->slots[fd].task && r->slots[fd].gen == (uint32_t)(k >> 32))
				pool_schedule(r->slots[fd].task);
		}
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

int reactor_create(struct reactor **out)
{
	struct reactor *r = calloc(1, sizeof(*r));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STOP_KEY};
	int rc;

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->epfd < 0 || r->stopfd < 0 ||
	    epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->stopfd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = -pthread_create(&r->thread, NULL, reactor_main, r);
	if (rc)
		goto fail;
	*out = r;
	return 0;
fail:
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->stopfd >= 0)
		close(r->stopfd);
	free(r);
	return rc;
}

void reactor_destroy(struct reactor *r)
{
	uint64_t one = 1;

	if (!r)
		return;
	if (write(r->stopfd, &one, sizeof(one)) < 0) {
		/* eventfd write cannot fail with a counter this small */
	}
	pthread_join(r->thread, NULL);
	close(r->epfd);
	close(r->stopfd);
	pthread_mutex_destroy(&r->lock);
	free(r->slots);
	free(r);
}

int reactor_add(struct reactor *r, int fd, struct task *t)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET};
	int rc = 0;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&r->lock);
	if ((size_t)fd >= r->nslots) {
		size_t n = r->nslots ? r->nslots : 256;
		struct slot *v;

		while (n <= (size_t)fd)
			n *= 2;
		v = realloc(r->slots, n * sizeof(*v));
		if (!v) {
			pthread_mutex_unlock(&r->lock);
			return -ENOMEM;
		}
		memset(v + r->nslots, 0, (n - r->nslots) * sizeof(*v));
		r->slots = v;
		r->nslots = n;
	}
	/* epoll decides: EEXIST keeps the first registration untouched; a
	 * slot left by an fd closed without reactor_del() is simply reused. */
	ev.data.u64 = key(fd, r->slots[fd].gen + 1);
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		rc = -errno;
	} else {
		r->slots[fd].gen++;
		r->slots[fd].task = t;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void reactor_del(struct reactor *r, int fd)
{
	pthread_mutex_lock(&r->lock);
	if (fd >= 0 && (size_t)fd < r->nslots) {
		r->slots[fd].task = NULL;
		r->slots[fd].gen++;
	}
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
	pthread_mutex_unlock(&r->lock);
}

int reactor_timer(struct reactor *r, struct task *t)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int rc;

	if (tfd < 0)
		return -errno;
	rc = reactor_add(r, tfd, t);
	if (rc < 0) {
		close(tfd);
		return rc;
	}
	return tfd;
}

int timer_arm(int tfd, int64_t delay_ns)
{
	struct itimerspec its = {0};

	if (delay_ns > 0) {
		its.it_value.tv_sec = delay_ns / 1000000000;
		its.it_value.tv_nsec = delay_ns % 1000000000;
	} else if (delay_ns == 0) {
		/* disarm: all zero */
	} else {
		its.it_value.tv_nsec = 1; /* already due: fire at once */
	}
	if (timerfd_settime(tfd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

uint64_t timer_read(int tfd)
{
	uint64_t n = 0;

	if (read(tfd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}
