/*
 * stet init [DIR]: a new archive.
 */
#include "cli.h"

#include <string.h>

static const char help[] =
	"usage: stet init [--bare] [DIR]\n"
	"\n"
	"Create an archive in DIR (default: the current folder, or -C DIR): a git\n"
	"repository on branch main with a commented stet.yaml and a first commit.\n"
	"Archive articles into it with 'stet -C DIR ingest PATH...'.\n"
	"\n"
	"  --bare   a bare repository: no work tree, no git index (which every\n"
	"           run rewrites whole: 50 MB at 300,000 articles), so a run's\n"
	"           cost grows far less with the archive. Read it with stet, git\n"
	"           log/show, a git web front end, or a clone. Its stet.yaml is\n"
	"           the one committed on main: change it in a clone and push; a\n"
	"           relative hook path is from DIR.\n";

int cmd_init(cli_ctx *ctx, int argc, char **argv)
{
	const char *dir = ctx->archive ? ctx->archive : ".";
	int i, n = 0, bare = 0;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(help, stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--bare")) {
			bare = 1;
			continue;
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
	if (stet_archive_init(dir, bare) < 0) {
		cli_lib_error();
		return EXIT_FAIL;
	}
	fprintf(stderr, "stet: %sarchive created in %s\n", bare ? "bare " : "", dir);
	return EXIT_OK;
}
