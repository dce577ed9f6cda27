/* watch.c - notices a lazy unmount (`fusermount3 -u -z`, or `-u` refused
 * because readers are blocked and then forced lazily). The kernel keeps the
 * connection until the last open file closes, and a reader parked at the
 * end of a live stream would keep its file open forever. So a thread
 * watches the mount table (/proc/self/mountinfo signals every change with
 * POLLPRI); once our mount is gone it answers every parked read with an
 * error and makes later reads at the end fail at once, so the readers
 * close, the kernel sends DESTROY and the daemon exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"

/* The mount id (first field of mountinfo) of the livejobfs mount at path,
 * or -1. */
static long find_mount(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	long id = -1;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		long mid;
		char mnt[PATH_MAX];
		const char *sep = strstr(line, " - ");

		if (sscanf(line, "%ld %*d %*s %*s %4095s", &mid, mnt) != 2 || !sep)
			continue;
		if (strcmp(mnt, path) == 0 && strncmp(sep + 3, "fuse", 4) == 0)
			id = mid; /* the last one: mounts stack */
	}
	free(line);
	fclose(f);
	return id;
}

static bool mount_present(long id)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return true; /* can't tell: assume still mounted */
	while (!found && getline(&line, &cap, f) > 0)
		found = strtol(line, NULL, 10) == id;
	free(line);
	fclose(f);
	return found;
}

static void *watch_main(void *arg)
{
	struct fs *fs = arg;

	pthread_setname_np(pthread_self(), "lj-watch");
	for (;;) {
		struct pollfd p = {.fd = fs->watch_fd, .events = POLLPRI};
		struct pollfd wake = {.fd = fs->watch_stop[0], .events = POLLIN};
		struct pollfd both[2] = {p, wake};

		if (poll(both, 2, -1) < 0 && errno != EINTR)
			break;
		if (both[1].revents)
			break;
		if (both[0].revents && !mount_present(fs->mount_id)) {
			atomic_store(&fs->unmounted, true);
			fs_unpark_all(fs);
			break;
		}
		/* mountinfo must be re-read from the start to re-arm POLLPRI */
		lseek(fs->watch_fd, 0, SEEK_SET);
		{
			char buf[4096];
			while (read(fs->watch_fd, buf, sizeof(buf)) > 0)
				;
		}
	}
	return NULL;
}

int fs_watch_start(struct fs *fs, const char *mountpoint)
{
	char *real = realpath(mountpoint, NULL);
	char buf[4096];

	fs->watch_fd = -1;
	fs->watch_stop[0] = fs->watch_stop[1] = -1;
	if (!real)
		return -errno;
	fs->mount_id = find_mount(real);
	free(real);
	if (fs->mount_id < 0)
		return -ENOENT;
	fs->watch_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fs->watch_fd < 0 || pipe2(fs->watch_stop, O_CLOEXEC) < 0)
		return -errno;
	while (read(fs->watch_fd, buf, sizeof(buf)) > 0)
		;
	if (pthread_create(&fs->watch_thread, NULL, watch_main, fs) != 0)
		return -EAGAIN;
	fs->watching = true;
	return 0;
}

void fs_watch_stop(struct fs *fs)
{
	if (fs->watching) {
		if (write(fs->watch_stop[1], "x", 1) < 0) {
			/* a pipe with room for one byte: cannot fail */
		}
		pthread_join(fs->watch_thread, NULL);
		fs->watching = false;
	}
	if (fs->watch_fd >= 0)
		close(fs->watch_fd);
	for (int i = 0; i < 2; i++)
		if (fs->watch_stop[i] >= 0)
			close(fs->watch_stop[i]);
	fs->watch_fd = fs->watch_stop[0] = fs->watch_stop[1] = -1;
}
