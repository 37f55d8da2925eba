/*
 * stet canon [--body | --json] FILE... | -
 * Print each input's canonical document; no archive is involved.
 */
#include "cli.h"

#include <string.h>
#include <unistd.h>

static const char help[] =
	"usage: stet canon [--body | --json] FILE... | -\n"
	"\n"
	"Print the canonical document of each input: YAML front matter (canon,\n"
	"title, source, authors, published, modified, url, categories, tags) and\n"
	"the article text, one sentence per line. `-` reads standard input.\n"
	"Inputs are posts (YAML front matter + HTML or Markdown), HTML pages, or\n"
	"canonical documents; the format is chosen by content.\n"
	"\n"
	"  --body   print only the body text\n"
	"  --json   print one JSON object per input, one per line\n"
	"\n"
	"With several inputs, documents are separated by a blank line. A bad input\n"
	"is reported as `stet: error: FILE:LINE:COL: ...` and the others still\n"
	"print; the exit status is then 3.\n";

int cmd_canon(cli_ctx *ctx, int argc, char **argv)
{
	int body_only = 0, json = 0, i, nfiles = 0, failed = 0, done = 0;
	stet_buf out = STET_BUF_INIT;

	(void)ctx;
	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(help, stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--body"))
			body_only = 1;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--"))
			break;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_error("canon: unknown option '%s'", argv[i]), fputs(help, stderr), EXIT_USAGE;
	}
	if (body_only && json) {
		cli_error("canon: --body and --json do not go together");
		return EXIT_USAGE;
	}
	for (i = 1; i < argc; i++) {
		stet_article *a = NULL;
		stet_canon *c = NULL;
		const char *arg = argv[i];
		int error;

		if (!strcmp(arg, "--")) {
			done = 1;
			continue;
		}
		if (!done && arg[0] == '-' && arg[1])
			continue;
		nfiles++;
		if (!strcmp(arg, "-"))
			error = stet_input_read_fd(&a, "<stdin>", STDIN_FILENO);
		else
			error = stet_input_read_file(&a, arg);
		if (!error)
			error = stet_canon_new(&c, a);
		if (error < 0) {
			cli_lib_error();
			failed++;
		} else {
			stet_buf_clear(&out);
			if (json) {
				stet_canon_write_json(&out, c, arg);
				stet_buf_putc(&out, '\n');
			} else if (body_only) {
				if (nfiles - failed > 1)
					stet_buf_putc(&out, '\n');
				stet_buf_puts(&out, c->body);
			} else {
				if (nfiles - failed > 1)
					stet_buf_putc(&out, '\n');
				stet_canon_write(&out, c);
			}
			if (stet_buf_check(&out, arg) < 0) {
				cli_lib_error();
				failed++;
			} else if (cli_write(out.ptr, out.size) < 0) {
				cli_error("writing output failed");
				stet_canon_free(c);
				stet_article_free(a);
				stet_buf_dispose(&out);
				return EXIT_FAIL;
			}
		}
		stet_canon_free(c);
		stet_article_free(a);
	}
	stet_buf_dispose(&out);
	if (!nfiles) {
		cli_error("canon: no input; give FILE... or -");
		fputs(help, stderr);
		return EXIT_USAGE;
	}
	if (failed)
		return EXIT_PARTIAL;
	return EXIT_OK;
}
