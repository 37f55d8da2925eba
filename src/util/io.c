/*
 * Writing a whole buffer to a file descriptor: write(2) may write less than
 * asked or be interrupted; this goes on until all is written or it fails.
 * And a big file's bytes handed to the disk as they are written.
 */
#define _GNU_SOURCE /* sync_file_range (Linux), where there is one */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/* all n bytes at offset at, or (at < 0) at the file's position */
static int write_loop(int fd, const char *p, size_t n, long long at)
{
	while (n) {
		ssize_t w = at < 0 ? write(fd, p, n) : pwrite(fd, p, n, (off_t)at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		if (at >= 0)
			at += w;
	}
	return 0;
}

int stet_write_all(int fd, const void *data, size_t n) { return write_loop(fd, data, n, -1); }

int stet_pwrite_all(int fd, const void *data, size_t n, uint64_t at)
{
	if (at > (uint64_t)LLONG_MAX) {
		errno = EFBIG;
		return -1;
	}
	return write_loop(fd, data, n, (long long)at);
}

void stet_unlink_prefixed(const char *dir, const char *prefix)
{
	stet_buf f = STET_BUF_INIT;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix))) {
			stet_buf_clear(&f);
			stet_buf_printf(&f, "%s/%s", dir, de->d_name);
			if (stet_buf_check(&f, "folder") == 0)
				unlink(f.ptr);
		}
	closedir(d);
	stet_buf_dispose(&f);
}

/* Big files synced at their end (a snapshot of the key cache, a gigabyte
 * at 1,000,000 articles; git's multi-pack-index, 200 MB) made the fsync
 * wait for all of it after the work that made it; told every
 * STET_WRITE_BEHIND bytes, the disk writes them while the rest is made */
uint64_t stet_write_behind(int fd, uint64_t from, uint64_t to)
{
	if (to - from < STET_WRITE_BEHIND)
		return from;
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(fd, (off_t)from, (off_t)(to - from), SYNC_FILE_RANGE_WRITE);
#else
	(void)fd;
#endif
	return to;
}
