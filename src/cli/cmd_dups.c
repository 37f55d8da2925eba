/*
 * stet dups [--json] [ARTICLE]: repost clusters.
 * stet similar [--json] FILE: what an input resembles, without archiving it.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char dups_help[] =
	"usage: stet dups [--json] [ARTICLE]\n"
	"\n"
	"The repost clusters of the archive: each original, then its exact\n"
	"reposts from other sources, its aliases (the same source under another\n"
	"URL) and its near-duplicates (variants, partial reposts) with their\n"
	"simhash distance and containment. With ARTICLE, only its cluster.\n"
	"--json: one object per member.\n";

static const char similar_help[] =
	"usage: stet similar [--json] FILE\n"
	"\n"
	"The archived articles FILE resembles, most alike first: containment\n"
	"(the share of the shorter text found in the other), Jaccard similarity,\n"
	"simhash distance, and whether stet would call it a duplicate. Nothing is\n"
	"archived. --json: one object per article.\n";

typedef struct {
	int json;
	size_t last;
	stet_buf out;
} dctx;

static int dup_out(size_t cluster, const stet_dup *d, void *payload)
{
	dctx *x = payload;
	stet_buf_clear(&x->out);
	if (x->json) {
		stet_buf_printf(&x->out, "{\"cluster\":%zu,\"relation\":\"%s\",\"path\":", cluster, d->relation);
		cli_json_string(&x->out, d->path);
		stet_buf_puts(&x->out, ",\"key\":");
		cli_json_string(&x->out, d->key);
		if (d->of) {
			stet_buf_puts(&x->out, ",\"of\":");
			cli_json_string(&x->out, d->of);
		}
		if (d->source) {
			stet_buf_puts(&x->out, ",\"source\":");
			cli_json_string(&x->out, d->source);
		}
		if (strcmp(d->relation, "original"))
			stet_buf_printf(&x->out, ",\"distance\":%d,\"containment\":%.3f", d->distance, d->containment);
		stet_buf_puts(&x->out, "}\n");
	} else {
		if (cluster != x->last && x->last)
			stet_buf_putc(&x->out, '\n');
		x->last = cluster;
		if (!strcmp(d->relation, "original"))
			stet_buf_printf(&x->out, "%s  %s\n", d->path, d->title ? d->title : "");
		else if (!strcmp(d->relation, "near-duplicate"))
			stet_buf_printf(&x->out, "  near-duplicate  %s  (distance %d, containment %.2f)\n", d->path, d->distance,
					d->containment);
		else
			stet_buf_printf(&x->out, "  %-14s  %s%s%s\n", d->relation, d->key, d->source ? "  from " : "",
					d->source ? d->source : "");
	}
	return cli_write(x->out.ptr, x->out.size) < 0 ? -1 : 0;
}

int cmd_dups(cli_ctx *ctx, int argc, char **argv)
{
	dctx x = { 0, 0, STET_BUF_INIT };
	const char *article = NULL;
	char *path = NULL;
	stet_archive *a = NULL;
	int i, rc = EXIT_FAIL;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(dups_help, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--json")) {
			x.json = 1;
		} else if (argv[i][0] == '-') {
			cli_error("dups: unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		} else if (!article) {
			article = argv[i];
		} else {
			cli_error("dups: give at most one ARTICLE");
			return EXIT_USAGE;
		}
	}
	if (cli_open_read(&a, ctx) < 0)
		return EXIT_FAIL;
	if (article && stet_archive_resolve(&path, a, article) < 0) {
		cli_lib_error();
		goto done;
	}
	if (stet_archive_dups(a, path, dup_out, &x) < 0) {
		cli_lib_error();
		goto done;
	}
	rc = EXIT_OK;
done:
	free(path);
	stet_buf_dispose(&x.out);
	stet_archive_free(a);
	return rc;
}

typedef struct {
	stet_similar *v;
	size_t n, cap;
} sims;

static int keep_sim(const stet_similar *s, void *payload)
{
	sims *l = payload;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		stet_similar *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = *s;
	l->v[l->n].path = strdup(s->path);
	l->v[l->n].title = strdup(s->title ? s->title : "");
	l->n++;
	return 0;
}

static int by_containment(const void *x, const void *y)
{
	const stet_similar *a = x, *b = y;
	return a->containment < b->containment ? 1 : a->containment > b->containment ? -1 : strcmp(a->path, b->path);
}

int cmd_similar(cli_ctx *ctx, int argc, char **argv)
{
	const char *file = NULL;
	stet_archive *a = NULL;
	stet_article *art = NULL;
	stet_canon *c = NULL;
	sims l = { 0 };
	stet_buf out = STET_BUF_INIT;
	size_t k;
	int i, json = 0, rc = EXIT_FAIL, error;

	for (i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(similar_help, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			cli_error("similar: unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		} else if (!file) {
			file = argv[i];
		} else {
			cli_error("similar: give one FILE");
			return EXIT_USAGE;
		}
	}
	if (!file) {
		cli_error("similar: which file? see 'stet similar --help'");
		return EXIT_USAGE;
	}
	error = !strcmp(file, "-") ? stet_input_read_fd(&art, "-", STDIN_FILENO) : stet_input_read_file(&art, file);
	if (error < 0 || stet_canon_new(&c, art) < 0) {
		cli_lib_error();
		rc = EXIT_PARTIAL;
		goto done;
	}
	if (cli_open_read(&a, ctx) < 0)
		goto done;
	if (stet_archive_similar(a, c, keep_sim, &l) < 0) {
		cli_lib_error();
		goto done;
	}
	qsort(l.v, l.n, sizeof(*l.v), by_containment);
	for (k = 0; k < l.n; k++) {
		stet_similar *s = &l.v[k];
		if (json) {
			stet_buf_puts(&out, "{\"path\":");
			cli_json_string(&out, s->path);
			stet_buf_puts(&out, ",\"title\":");
			cli_json_string(&out, s->title);
			stet_buf_printf(&out, ",\"containment\":%.3f,\"jaccard\":%.3f,\"distance\":%d,\"duplicate\":%s,\"exact\":%s}\n",
					s->containment, s->jaccard, s->distance, s->duplicate ? "true" : "false",
					s->exact ? "true" : "false");
		} else {
			stet_buf_printf(&out, "%.2f  %.2f  %3d  %s  %s%s\n", s->containment, s->jaccard, s->distance, s->path,
					s->title, s->exact ? "  (exact)" : s->duplicate ? "  (duplicate)" : "");
		}
	}
	if (!json && !l.n)
		fprintf(stderr, "stet: nothing in the archive resembles %s\n", file);
	rc = cli_write(out.ptr, out.size) < 0 ? EXIT_FAIL : EXIT_OK;
done:
	for (k = 0; k < l.n; k++) {
		free((char *)l.v[k].path);
		free((char *)l.v[k].title);
	}
	free(l.v);
	stet_buf_dispose(&out);
	stet_canon_free(c);
	stet_article_free(art);
	stet_archive_free(a);
	return rc;
}
