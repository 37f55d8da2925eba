/*
 * stet log [--json] [ARTICLE]: the events on main, newest first.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: stet log [--json] [ARTICLE]\n"
	"\n"
	"The archive's events, newest first: when, the commit, what happened\n"
	"(new, revise, ...), the source and the title. With ARTICLE (an archive\n"
	"path, a URL, a key or a title fragment that names one article), only\n"
	"that article's events. --json: one object per event.\n";

typedef struct {
	int json, color;
	stet_buf out;
} log_ctx;

static int print_entry(const stet_log_entry *e, void *payload)
{
	log_ctx *l = payload;
	char when[32];

	cli_date(when, e->time);
	stet_buf_clear(&l->out);
	if (l->json) {
		stet_buf_puts(&l->out, "{\"commit\":");
		cli_json_string(&l->out, e->commit);
		stet_buf_printf(&l->out, ",\"time\":%lld,\"committed\":%lld,\"author\":", e->time, e->ctime);
		cli_json_string(&l->out, e->author);
		stet_buf_puts(&l->out, ",\"subject\":");
		cli_json_string(&l->out, e->subject);
		if (e->path) {
			stet_buf_puts(&l->out, ",\"path\":");
			cli_json_string(&l->out, e->path);
		}
		stet_buf_puts(&l->out, "}\n");
	} else {
		stet_buf_printf(&l->out, "%s%.10s%s  %s  %s\n", l->color ? "\033[33m" : "", e->commit, l->color ? "\033[0m" : "",
				when, e->subject);
	}
	return cli_write(l->out.ptr, l->out.size) < 0 ? -1 : 0;
}

int cmd_log(cli_ctx *ctx, int argc, char **argv)
{
	log_ctx l = { 0, 0, STET_BUF_INIT };
	const char *article = NULL;
	char *path = NULL;
	stet_archive *a = NULL;
	int i, rc = EXIT_OK;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(help, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--json")) {
			l.json = 1;
		} else if (argv[i][0] == '-') {
			cli_error("log: unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		} else if (!article) {
			article = argv[i];
		} else {
			cli_error("log: give at most one ARTICLE");
			return EXIT_USAGE;
		}
	}
	l.color = !l.json && cli_color();
	if (cli_open_read(&a, ctx) < 0)
		return EXIT_FAIL;
	if (article && stet_archive_resolve(&path, a, article) < 0) {
		cli_lib_error();
		rc = EXIT_FAIL;
		goto done;
	}
	if (stet_archive_log(a, path, print_entry, &l) < 0) {
		cli_lib_error();
		rc = EXIT_FAIL;
	}
done:
	free(path);
	stet_buf_dispose(&l.out);
	stet_archive_free(a);
	return rc;
}
