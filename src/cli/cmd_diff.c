/*
 * stet diff [--json] ARTICLE [REV [REV]]: what changed between two
 * versions, by sentence line, with the changed characters (CJK) or words
 * (Latin) marked inside a changed line.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: stet diff [--json] ARTICLE [REV [REV]]\n"
	"\n"
	"What changed in an article between two versions: the previous and the\n"
	"latest by default; REV and the latest; or the two REVs. A REV counts\n"
	"versions (1 the first, -1 the latest, -2 the one before; '@' optional)\n"
	"or names a commit of the article. Lines are sentences; inside a changed\n"
	"line the words (or CJK characters) that changed are marked: in colour\n"
	"on a terminal (never with NO_COLOR), else as [-removed-] and {+added+}.\n"
	"--json: every line with its op (same, del, add) and, for a changed\n"
	"line, its spans.\n";

typedef struct {
	stet_diff_op op;
	const char *s;
	size_t len;
} dline;

typedef struct {
	dline *v;
	size_t n, cap;
} dlines;

static int collect(stet_diff_op op, const char *s, size_t len, void *payload)
{
	dlines *d = payload;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 128;
		dline *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return -1;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n].op = op;
	d->v[d->n].s = s;
	d->v[d->n++].len = len;
	return 0;
}

typedef struct {
	stet_buf *out;
	int side;  /* STET_DIFF_DEL: the old line; STET_DIFF_ADD: the new one */
	int color, json, first;
} span_ctx;

static int span_out(stet_diff_op op, const char *s, size_t len, void *payload)
{
	span_ctx *c = payload;
	if (op != STET_DIFF_SAME && (int)op != c->side)
		return 0;
	if (c->json) {
		stet_buf_printf(c->out, "%s[\"%s\",", c->first ? "" : ",", op == STET_DIFF_SAME ? "same" : op == STET_DIFF_DEL ? "del" : "add");
		cli_json_stringn(c->out, s, len);
		stet_buf_putc(c->out, ']');
		c->first = 0;
		return 0;
	}
	if (op == STET_DIFF_SAME)
		stet_buf_put(c->out, s, len);
	else if (c->color)
		stet_buf_printf(c->out, "\033[7m%.*s\033[27m", (int)len, s);
	else
		stet_buf_printf(c->out, "%s%.*s%s", op == STET_DIFF_DEL ? "[-" : "{+", (int)len, s, op == STET_DIFF_DEL ? "-]" : "+}");
	return 0;
}

static void line_out(stet_buf *out, const dline *l, const dline *pair, int color, int json)
{
	const char *sign = l->op == STET_DIFF_SAME ? " " : l->op == STET_DIFF_DEL ? "-" : "+";
	const char *on = !color || l->op == STET_DIFF_SAME ? "" : l->op == STET_DIFF_DEL ? "\033[31m" : "\033[32m";

	if (json) {
		stet_buf_printf(out, "{\"op\":\"%s\",\"text\":", l->op == STET_DIFF_SAME ? "same" : l->op == STET_DIFF_DEL ? "del" : "add");
		cli_json_stringn(out, l->s, l->len);
		if (pair) {
			span_ctx c = { out, (int)l->op, 0, 1, 1 };
			stet_buf_puts(out, ",\"spans\":[");
			if (l->op == STET_DIFF_DEL)
				stet_diff_inline(l->s, l->len, pair->s, pair->len, span_out, &c);
			else
				stet_diff_inline(pair->s, pair->len, l->s, l->len, span_out, &c);
			stet_buf_putc(out, ']');
		}
		stet_buf_putc(out, '}');
		return;
	}
	stet_buf_printf(out, "%s%s ", on, sign);
	if (pair) {
		span_ctx c = { out, (int)l->op, color, 0, 1 };
		if (l->op == STET_DIFF_DEL)
			stet_diff_inline(l->s, l->len, pair->s, pair->len, span_out, &c);
		else
			stet_diff_inline(pair->s, pair->len, l->s, l->len, span_out, &c);
	} else {
		stet_buf_put(out, l->s, l->len);
	}
	stet_buf_printf(out, "%s\n", *on ? "\033[0m" : "");
}

#define CONTEXT 2

int cmd_diff(cli_ctx *ctx, int argc, char **argv)
{
	const char *article = NULL, *revs[2] = { NULL, NULL };
	char *path = NULL;
	stet_archive *a = NULL;
	stet_revinfo *v = NULL;
	stet_buf x = STET_BUF_INIT, y = STET_BUF_INIT, out = STET_BUF_INIT;
	dlines d = { 0 };
	size_t n = 0, i, nrev = 0;
	long from, to;
	int json = 0, color, rc = EXIT_FAIL, k;
	char w1[32], w2[32];

	for (k = 1; k < argc; k++) {
		if (cli_is_help(argv[k])) {
			fputs(help, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[k], "--json")) {
			json = 1;
		} else if (argv[k][0] == '-' && argv[k][1] && !(argv[k][1] >= '0' && argv[k][1] <= '9')) {
			cli_error("diff: unknown option '%s'", argv[k]);
			return EXIT_USAGE;
		} else if (!article) {
			article = argv[k];
		} else if (nrev < 2) {
			revs[nrev++] = argv[k][0] == '@' ? argv[k] + 1 : argv[k];
		} else {
			cli_error("diff: give ARTICLE and at most two versions");
			return EXIT_USAGE;
		}
	}
	if (!article) {
		cli_error("diff: which article? see 'stet diff --help'");
		return EXIT_USAGE;
	}
	color = !json && cli_color();
	if (cli_open_read(&a, ctx) < 0)
		return EXIT_FAIL;
	if (stet_archive_resolve(&path, a, article) < 0 || stet_archive_versions(&v, &n, a, path) < 0) {
		cli_lib_error();
		goto done;
	}
	if (nrev == 0) {
		if (n < 2) {
			cli_error("%s has one version; nothing to compare", path);
			goto done;
		}
		from = (long)n - 2;
		to = (long)n - 1;
	} else if ((from = cli_pick_version(v, n, path, revs[0])) < 0 ||
		   (to = nrev == 2 ? cli_pick_version(v, n, path, revs[1]) : (long)n - 1) < 0) {
		goto done;
	}
	if (stet_archive_read_blob(&x, a, v[from].blob) < 0 || stet_archive_read_blob(&y, a, v[to].blob) < 0) {
		cli_lib_error();
		goto done;
	}
	if (stet_diff_lines(x.ptr, y.ptr, collect, &d) < 0) {
		cli_error("diff: out of memory");
		goto done;
	}
	cli_date(w1, v[from].time);
	cli_date(w2, v[to].time);
	if (json) {
		stet_buf_puts(&out, "{\"path\":");
		cli_json_string(&out, path);
		stet_buf_printf(&out, ",\"from\":{\"version\":%ld,\"commit\":\"%s\"},\"to\":{\"version\":%ld,\"commit\":\"%s\"},\"lines\":[",
				from + 1, v[from].commit, to + 1, v[to].commit);
	} else {
		stet_buf_printf(&out, "%sdiff %s @%ld (%s, %.10s) -> @%ld (%s, %.10s)%s\n", color ? "\033[1m" : "", path,
				from + 1, w1, v[from].commit, to + 1, w2, v[to].commit, color ? "\033[0m" : "");
	}
	for (i = 0; i < d.n;) {
		size_t dels = 0, adds = 0, j;
		if (d.v[i].op == STET_DIFF_SAME) {
			int near = 0;
			for (j = (i > CONTEXT ? i - CONTEXT : 0); j <= i + CONTEXT && j < d.n; j++)
				near |= d.v[j].op != STET_DIFF_SAME;
			if (json) {
				if (i)
					stet_buf_putc(&out, ',');
				line_out(&out, &d.v[i], NULL, 0, 1);
			} else if (near) {
				line_out(&out, &d.v[i], NULL, color, 0);
			} else if (i + 1 < d.n && i > 0) {
				/* one marker per gap */
				int prev_near = 0;
				for (j = (i > CONTEXT + 1 ? i - CONTEXT - 1 : 0); j < i; j++)
					prev_near |= d.v[j].op != STET_DIFF_SAME;
				if (prev_near)
					stet_buf_puts(&out, "  …\n");
			}
			i++;
			continue;
		}
		while (i + dels < d.n && d.v[i + dels].op == STET_DIFF_DEL)
			dels++;
		while (i + dels + adds < d.n && d.v[i + dels + adds].op == STET_DIFF_ADD)
			adds++;
		for (j = 0; j < dels + adds; j++) {
			const dline *l = &d.v[i + j], *pair = NULL;
			/* a sentence replaced by one sentence: mark what changed inside */
			if (dels == adds)
				pair = j < dels ? &d.v[i + j + dels] : &d.v[i + j - dels];
			if (json && (i + j))
				stet_buf_putc(&out, ',');
			line_out(&out, l, pair, color, json);
		}
		i += dels + adds;
	}
	if (json)
		stet_buf_puts(&out, "]}\n");
	if (stet_buf_check(&out, "diff") < 0) {
		cli_lib_error();
		goto done;
	}
	rc = cli_write(out.ptr, out.size) < 0 ? EXIT_FAIL : EXIT_OK;
done:
	free(d.v);
	stet_versions_free(v, n);
	free(path);
	stet_buf_dispose(&x);
	stet_buf_dispose(&y);
	stet_buf_dispose(&out);
	stet_archive_free(a);
	return rc;
}
