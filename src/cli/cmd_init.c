/*
 * stet init [DIR]: a new archive.
 */
#include "cli.h"

#include <string.h>

static const char help[] =
	"usage: stet init [DIR]\n"
	"\n"
	"Create an archive in DIR (default: the current folder, or -C DIR): a git\n"
	"repository on branch main with a commented stet.yaml and a first commit.\n"
	"Archive articles into it with 'stet -C DIR ingest PATH...'.\n";

int cmd_init(cli_ctx *ctx, int argc, char **argv)
{
	const char *dir = ctx->archive ? ctx->archive : ".";
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(help, stdout);
			return EXIT_OK;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			cli_error("init: unknown option '%s'", argv[i]);
			fputs(help, stderr);
			return EXIT_USAGE;
		}
		dir = argv[i];
		n++;
	}
	if (n > 1) {
		cli_error("init: give one folder");
		return EXIT_USAGE;
	}
	if (stet_archive_init(dir) < 0) {
		cli_lib_error();
		return EXIT_FAIL;
	}
	fprintf(stderr, "stet: archive created in %s\n", dir);
	return EXIT_OK;
}
