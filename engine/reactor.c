/* reactor.c - the epoll thread of the engine (see reactor.h). It owns no
 * state beyond the epoll set: an event only schedules the task that
 * registered the fd, and the task does the I/O on a pool thread. */
#include "reactor.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "pool.h"

struct reactor {
	int epfd;
	int stopfd; /* eventfd: wakes the thread to exit */
	pthread_t thread;
};

static void *reactor_main(void *arg)
{
	struct reactor *r = arg;
	struct epoll_event ev[64];

	for (;;) {
		int n = epoll_wait(r->epfd, ev, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL)
				return NULL; /* the stop eventfd */
			pool_schedule(ev[i].data.ptr);
		}
	}
	return NULL;
}

int reactor_create(struct reactor **out)
{
	struct reactor *r = calloc(1, sizeof(*r));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	int rc;

	if (!r)
		return -ENOMEM;
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
	free(r);
}

int reactor_add(struct reactor *r, int fd, struct task *t)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.ptr = t,
	};

	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void reactor_del(struct reactor *r, int fd)
{
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
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
