/*
 * stet's command line: global options, the command table, help. Each
 * subcommand lives in cmd_<name>.c. Exit codes: 0 ok, 1 failure,
 * 2 usage, 3 some inputs rejected (the rest done).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef STET_MIMALLOC
#include <mimalloc.h>
#endif

static const char usage[] =
	"usage: stet [-C DIR] [--version] [--help] COMMAND [ARGS]\n"
	"\n"
	"Archive news articles into git: canonical text, reposts found, every\n"
	"edit a commit.\n"
	"\n"
	"Commands (ARTICLE: an archive path, a URL, a key, or a title fragment):\n"
	"  init [DIR]                      create an archive\n"
	"  ingest [--json] PATH... | -     archive posts, pages, folders of them\n"
	"  log [--json] [ARTICLE]          the history, newest first\n"
	"  show ARTICLE[@REV]              one version of an article\n"
	"  diff [--json] ARTICLE [REV [REV]]  what changed, by sentence and word\n"
	"  dups [--json] [ARTICLE]         repost clusters, or one article's\n"
	"  similar [--json] FILE           archived articles an input resembles\n"
	"  reindex                         rebuild the index from the archive\n"
	"  fsck                            check the index against the repository\n"
	"  canon [--body|--json] FILE...   print the canonical form of inputs (no archive)\n"
	"\n"
	"Options:\n"
	"  -C DIR      run as if started in DIR\n"
	"  --version   print the version and the allocator in use\n"
	"  --help      print this help; `stet COMMAND --help` for a command\n"
	"\n"
	"Exit status: 0 ok, 1 failure, 2 usage error, 3 some inputs rejected.\n";

static const struct {
	const char *name;
	int (*fn)(cli_ctx *, int, char **);
} commands[] = {
	{ "canon", cmd_canon },
	{ "init", cmd_init },
	{ "ingest", cmd_ingest },
	{ "log", cmd_log },
	{ "show", cmd_show },
	{ "diff", cmd_diff },
	{ "dups", cmd_dups },
	{ "similar", cmd_similar },
	{ "reindex", cmd_reindex },
	{ "fsck", cmd_fsck },
};

void cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("stet: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_lib_error(void)
{
	const char *m = stet_error_last();
	cli_error("%s", m && *m ? m : stet_error_name(stet_error_code()));
}

size_t cli_warnings(const stet_archive *a, size_t from)
{
	const char *all = stet_archive_warnings(a), *w;
	size_t len = strlen(all);
	for (w = all + (from < len ? from : len); *w;) {
		size_t n = strcspn(w, "\n");
		fprintf(stderr, "stet: warning: %.*s\n", (int)n, w);
		w += n + (w[n] == '\n');
	}
	return len;
}

int cli_write(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* the allocator the command was built with, and whether malloc is it:
 * a link that put the C library first would leave mimalloc unused */
static void print_allocator(void)
{
#ifdef STET_MIMALLOC
	void *p = malloc(64);
	int v = mi_version();
	printf("allocator: mimalloc %d.%d.%d, %s\n", v / 100, v % 100 / 10, v % 10,
	       p && mi_is_in_heap_region(p) ? "in use" : "NOT in use (malloc is another's)");
	free(p);
#else
	puts("allocator: the C library's malloc");
#endif
}

int cli_is_help(const char *arg) { return !strcmp(arg, "-h") || !strcmp(arg, "--help"); }

int main(int argc, char **argv)
{
	cli_ctx ctx = { NULL };
	int i = 1;
	size_t k;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--version")) {
			printf("stet %s\n", stet_version());
			print_allocator();
			return EXIT_OK;
		}
		if (cli_is_help(argv[i])) {
			fputs(usage, stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "-C")) {
			if (i + 1 >= argc) {
				cli_error("-C needs a directory");
				return EXIT_USAGE;
			}
			ctx.archive = argv[i + 1];
			i += 2;
			continue;
		}
		cli_error("unknown option '%s'", argv[i]);
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 < argc) {
			char *args[] = { argv[i + 1], "--help", NULL };
			for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
				if (!strcmp(argv[i + 1], commands[k].name))
					return commands[k].fn(&ctx, 2, args);
		}
		fputs(usage, stdout);
		return EXIT_OK;
	}
	for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (!strcmp(argv[i], commands[k].name))
			return commands[k].fn(&ctx, argc - i, argv + i);
	cli_error("'%s' is not a stet command; see 'stet --help'", argv[i]);
	return EXIT_USAGE;
}
