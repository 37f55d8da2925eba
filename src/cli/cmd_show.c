/*
 * stet show ARTICLE[@REV]: one version of an article, as archived.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: stet show ARTICLE[@REV]\n"
	"\n"
	"Print one version of an article as it is archived (its canonical\n"
	"document). ARTICLE is an archive path, a URL, a key or a title\n"
	"fragment that names one article. REV counts versions: @1 is the first,\n"
	"@2 the second, @-1 the latest (the default), @-2 the one before; or it\n"
	"names a commit of that article.\n";

int cmd_show(cli_ctx *ctx, int argc, char **argv)
{
	char *arg = NULL, *rev, *path = NULL;
	stet_archive *a = NULL;
	stet_revinfo *v = NULL;
	stet_buf out = STET_BUF_INIT;
	size_t n = 0;
	long k;
	int i, rc = EXIT_FAIL;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(help, stdout);
			return EXIT_OK;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			cli_error("show: unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		} else if (!arg) {
			arg = argv[i];
		} else {
			cli_error("show: give one ARTICLE[@REV]");
			return EXIT_USAGE;
		}
	}
	if (!arg) {
		cli_error("show: which article? see 'stet show --help'");
		return EXIT_USAGE;
	}
	rev = cli_split_rev(arg);
	if (cli_open_read(&a, ctx) < 0)
		return EXIT_FAIL;
	if (stet_archive_resolve(&path, a, arg) < 0 || stet_archive_versions(&v, &n, a, path) < 0) {
		cli_lib_error();
		goto done;
	}
	if ((k = cli_pick_version(v, n, path, rev ? rev : "-1")) < 0)
		goto done;
	if (stet_archive_read_blob(&out, a, v[k].blob) < 0) {
		cli_lib_error();
		goto done;
	}
	rc = cli_write(out.ptr, out.size) < 0 ? EXIT_FAIL : EXIT_OK;
done:
	stet_versions_free(v, n);
	free(path);
	stet_buf_dispose(&out);
	stet_archive_free(a);
	return rc;
}
