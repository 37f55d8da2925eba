/*
 * stet reindex: rebuild the index (a cache) from the archive.
 * stet fsck: check the index against the repository.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char reindex_help[] =
	"usage: stet reindex [--wait SECONDS]\n"
	"\n"
	"Rebuild the archive's index (.git/stet: keys, fingerprints, postings)\n"
	"from its files and commits. The index is a cache: stet rebuilds it by\n"
	"itself when it is missing or does not match main (after a git pull);\n"
	"this does it now.\n";

static const char fsck_help[] =
	"usage: stet fsck\n"
	"\n"
	"Check the archive's index against the repository: every key, path,\n"
	"blob and fingerprint the index holds is recomputed from the files and\n"
	"commits. Prints each disagreement; exit 1 if there is any (then run\n"
	"'stet reindex'). Use 'git fsck' for the repository itself.\n";

int cmd_reindex(cli_ctx *ctx, int argc, char **argv)
{
	stet_archive *a = NULL;
	double wait = 0;
	size_t n = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(reindex_help, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--wait") && i + 1 < argc) {
			wait = atof(argv[++i]);
		} else {
			cli_error("reindex: unknown argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (stet_archive_open(&a, ctx->archive ? ctx->archive : ".", 1, wait) == 0)
		cli_warnings(a, 0);
	if (!a || stet_archive_reindex(a, &n) < 0) {
		cli_lib_error();
		stet_archive_free(a);
		return EXIT_FAIL;
	}
	fprintf(stderr, "stet: index rebuilt: %zu articles\n", n);
	stet_archive_free(a);
	return EXIT_OK;
}

static int print_problem(const char *p, void *payload)
{
	(void)payload;
	printf("%s\n", p);
	return 0;
}

int cmd_fsck(cli_ctx *ctx, int argc, char **argv)
{
	stet_archive *a = NULL;
	int i, n;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(fsck_help, stdout);
			return EXIT_OK;
		}
		cli_error("fsck: unknown argument '%s'", argv[i]);
		return EXIT_USAGE;
	}
	if (cli_open_read(&a, ctx) < 0)
		return EXIT_FAIL;
	if ((n = stet_archive_fsck(a, print_problem, NULL)) < 0) {
		cli_lib_error();
		stet_archive_free(a);
		return EXIT_FAIL;
	}
	stet_archive_free(a);
	if (n) {
		fprintf(stderr, "stet: %d problem%s; 'stet reindex' rebuilds the index\n", n, n == 1 ? "" : "s");
		return EXIT_FAIL;
	}
	fprintf(stderr, "stet: the index agrees with the repository\n");
	return EXIT_OK;
}
