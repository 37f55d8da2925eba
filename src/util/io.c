/*
 * Writing a whole buffer to a file descriptor: write(2) may write less than
 * asked or be interrupted; this goes on until all is written or it fails.
 */
#include "util.h"

#include <errno.h>
#include <unistd.h>

int stet_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
