/* reactor.h - one epoll thread that turns fd readiness and timers into
 * pool_schedule() calls. exec pipes, child pidfds and timerfds are
 * registered here, so no pool thread ever blocks on them: the node's run()
 * does the non-blocking I/O when its task is scheduled. Registration is
 * edge-triggered: run() must read or write until EAGAIN (or keep its task
 * running with NODE_AGAIN). */
#ifndef LJ_REACTOR_H
#define LJ_REACTOR_H

#include <stdint.h>

struct reactor;
struct task;

int reactor_create(struct reactor **out);
void reactor_destroy(struct reactor *r);

/* Watch fd (EPOLLIN|EPOLLOUT|EPOLLRDHUP, edge-triggered); any event
 * schedules t. 0 or -errno. */
int reactor_add(struct reactor *r, int fd, struct task *t);
/* Stop watching fd (call before close). */
void reactor_del(struct reactor *r, int fd);

/* A one-shot or re-armable timer that schedules t: returns a timerfd already
 * registered, or -errno. timer_arm() with 0 disarms. */
int reactor_timer(struct reactor *r, struct task *t);
int timer_arm(int tfd, int64_t delay_ns);
/* Consume a timer's expirations (non-blocking); returns how many fired. */
uint64_t timer_read(int tfd);

#endif
