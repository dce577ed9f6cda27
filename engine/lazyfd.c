/* lazyfd.c - see lazyfd.h. */
#include "lazyfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lazyfd_init(struct lazyfd *f, const char *path, int flags)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->flags = flags | O_CREAT | O_CLOEXEC;
	f->path = strdup(path);
	if (!f->path)
		return -ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	return 0;
}

void lazyfd_destroy(struct lazyfd *f)
{
	if (!f->path)
		return;
	if (f->fd >= 0)
		close(f->fd);
	pthread_mutex_destroy(&f->lock);
	free(f->path);
	f->path = NULL;
}

int lazyfd_get(struct lazyfd *f)
{
	int fd;

	pthread_mutex_lock(&f->lock);
	if (f->fd < 0) {
		fd = open(f->path, f->flags, 0600);
		if (fd >= 0)
			f->fd = fd;
		else
			fd = -errno;
	} else {
		fd = f->fd;
	}
	if (fd >= 0)
		f->users++;
	pthread_mutex_unlock(&f->lock);
	return fd;
}

int lazyfd_get_open(struct lazyfd *f)
{
	int fd;

	pthread_mutex_lock(&f->lock);
	fd = f->fd;
	if (fd >= 0)
		f->users++;
	pthread_mutex_unlock(&f->lock);
	return fd;
}

static void close_if_idle(struct lazyfd *f)
{
	if (f->close_idle && f->users == 0 && f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
}

void lazyfd_put(struct lazyfd *f)
{
	pthread_mutex_lock(&f->lock);
	f->users--;
	close_if_idle(f);
	pthread_mutex_unlock(&f->lock);
}

void lazyfd_set_close_idle(struct lazyfd *f, bool on)
{
	pthread_mutex_lock(&f->lock);
	f->close_idle = on;
	close_if_idle(f);
	pthread_mutex_unlock(&f->lock);
}
