/*
 * Running the archive's post-ingest hook: a program, never a shell
 * command line; the run's JSON lines go to its standard input, the
 * archive's path in STET_ARCHIVE. A failing hook is reported and the run
 * stands.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void cli_run_hook(const char *hook, const char *archive, const char *input, size_t len)
{
	struct stat st;
	int fds[2];
	pid_t pid;
	int status;
	size_t off = 0;
	void (*old)(int);

	if (!hook)
		return;
	if (stat(hook, &st) < 0) {
		fprintf(stderr, "stet: warning: post-ingest hook %s: %s\n", hook, strerror(errno));
		return;
	}
	if (access(hook, X_OK) < 0) {
		fprintf(stderr, "stet: warning: post-ingest hook %s is not executable\n", hook);
		return;
	}
	if (pipe(fds) < 0) {
		fprintf(stderr, "stet: warning: post-ingest hook: %s\n", strerror(errno));
		return;
	}
	old = signal(SIGPIPE, SIG_IGN);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "stet: warning: post-ingest hook: %s\n", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		signal(SIGPIPE, old);
		return;
	}
	if (pid == 0) {
		char *args[] = { (char *)hook, NULL };
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		/* the hook's output is the user's: its stdout goes to our stderr so
		 * that stet's own stdout stays data */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		if (chdir(archive) < 0)
			_exit(126);
		setenv("STET_ARCHIVE", archive, 1);
		execv(hook, args);
		_exit(127);
	}
	close(fds[0]);
	while (off < len) {
		ssize_t w = write(fds[1], input + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break; /* the hook does not read its input: its business */
		}
		off += (size_t)w;
	}
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	signal(SIGPIPE, old);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (WIFEXITED(status))
		fprintf(stderr, "stet: warning: post-ingest hook %s exited with %d; the run is archived\n", hook,
			WEXITSTATUS(status));
	else
		fprintf(stderr, "stet: warning: post-ingest hook %s died of signal %d; the run is archived\n", hook,
			WTERMSIG(status));
}
