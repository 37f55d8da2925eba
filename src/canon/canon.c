/*
 * The canonicalizer's entry points: article -> stet_canon, and the
 * canonical document written with libyaml (fixed key order, block style,
 * Unicode kept) followed by the body. A canonical document read back is
 * only re-normalized, never re-extracted, so the form is idempotent.
 */
#include "canon.h"
#include "input/internal.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void stet_canon_free(stet_canon *c)
{
	if (!c)
		return;
	free(c->title);
	free(c->source);
	stet_strlist_dispose(&c->authors);
	free(c->published);
	free(c->modified);
	free(c->url);
	free(c->guid);
	free(c->permalink);
	stet_strlist_dispose(&c->categories);
	stet_strlist_dispose(&c->tags);
	free(c->body);
	free(c);
}

static int norm_list(stet_strlist *dst, const stet_strlist *src, int people)
{
	stet_buf b = STET_BUF_INIT;
	size_t i;
	int error = 0;

	for (i = 0; i < src->n && !error; i++) {
		const char *v = src->v[i];
		stet_buf_clear(&b);
		if ((error = stet_canon_text(&b, v, strlen(v))) < 0)
			break;
		v = b.ptr;
		/* bylines: "By Jane Doe" names Jane Doe (every "By ", so that the
		 * canonical form of the canonical form is itself) */
		while (people && (!strncmp(v, "By ", 3) || !strncmp(v, "by ", 3) || !strncmp(v, "BY ", 3)))
			v += 3;
		error = stet_strlist_add(dst, v);
	}
	stet_buf_dispose(&b);
	return error;
}

static int norm_str(char **dst, const char *src)
{
	stet_buf b = STET_BUF_INIT;
	int error;

	*dst = NULL;
	if (!src)
		return 0;
	if ((error = stet_canon_text(&b, src, strlen(src))) < 0 || !b.size) {
		stet_buf_dispose(&b);
		return error;
	}
	*dst = stet_buf_detach(&b);
	return *dst ? 0 : stet_error_oom();
}

static int meta(stet_canon *c, const stet_article *a)
{
	const char *site = a->source ? a->source : a->site;
	int error;
	int author_is_source = 0;

	if (!site && a->format == STET_FORMAT_POST && a->authors.n == 1) {
		/* news mirrors name the publishing site in `author` */
		site = a->authors.v[0];
		author_is_source = 1;
	}
	if ((error = norm_str(&c->source, site)) < 0)
		return error;
	if (a->format == STET_FORMAT_CANON)
		error = norm_str(&c->title, a->title);
	else
		error = stet_canon_title(&c->title, a->title, c->source);
	if (error < 0)
		return error;
	if (!author_is_source && (error = norm_list(&c->authors, &a->authors, 1)) < 0)
		return error;
	if ((error = stet_canon_date(&c->published, a->published)) < 0 ||
	    (error = stet_canon_date(&c->modified, a->modified)) < 0 ||
	    (error = stet_canon_url(&c->url, a->url)) < 0 ||
	    (error = norm_str(&c->guid, a->guid)) < 0 ||
	    (error = stet_canon_url(&c->permalink, a->permalink)) < 0 ||
	    (error = norm_list(&c->categories, &a->categories, 0)) < 0 ||
	    (error = norm_list(&c->tags, &a->tags, 0)) < 0)
		return error;
	return 0;
}

int stet_canon_new(stet_canon **out, const stet_article *a)
{
	stet_canon *c;
	blk_list blocks = { 0 };
	stet_buf body = STET_BUF_INIT;
	int error;

	*out = NULL;
	if (!(c = stet_calloc(1, sizeof(*c))))
		return stet_error_oom();
	if ((error = meta(c, a)) < 0)
		goto done;
	if (a->format == STET_FORMAT_CANON)
		error = stet_canon_parse_body(&blocks, a->body->text ? a->body->text : "");
	else
		error = stet_extract(&blocks, a);
	if (error < 0)
		goto done;
	stet_canon_render(&body, &blocks);
	if ((error = stet_buf_check(&body, a->name)) < 0)
		goto done;
	if (!body.size && a->format != STET_FORMAT_CANON) {
		error = stet_error_set(STET_EINVALID, "%s:%u:1: no article text found", a->name,
				       a->body_line ? a->body_line : 1);
		goto done;
	}
	if (!(c->body = stet_buf_detach(&body)))
		error = stet_error_oom();
done:
	blk_list_dispose(&blocks);
	stet_buf_dispose(&body);
	if (error < 0)
		stet_canon_free(c);
	else
		*out = c;
	return error;
}

int stet_canon_file(stet_canon **out, const char *path)
{
	stet_article *a = NULL;
	int error;

	*out = NULL;
	if ((error = stet_input_read_file(&a, path)) == 0)
		error = stet_canon_new(out, a);
	stet_article_free(a);
	return error;
}

/* ---- writing ---- */

static int yaml_out(void *data, unsigned char *buffer, size_t size)
{
	stet_buf_put((stet_buf *)data, buffer, size);
	return 1;
}

typedef struct {
	yaml_emitter_t em;
	yaml_event_t ev;
	int ok;
} yw;

static void emit_ev(yw *w) { if (w->ok && !yaml_emitter_emit(&w->em, &w->ev)) w->ok = 0; }

static void scalar(yw *w, const char *s, int plain_ok)
{
	if (!w->ok)
		return;
	if (!yaml_scalar_event_initialize(&w->ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), plain_ok,
					  1, plain_ok ? YAML_ANY_SCALAR_STYLE : YAML_SINGLE_QUOTED_SCALAR_STYLE)) {
		w->ok = 0;
		return;
	}
	emit_ev(w);
}

static void kv(yw *w, const char *k, const char *v)
{
	if (!v)
		return;
	scalar(w, k, 1);
	scalar(w, v, 1);
}

static void kl(yw *w, const char *k, const stet_strlist *l)
{
	size_t i;
	if (!l->n || !w->ok)
		return;
	scalar(w, k, 1);
	if (!yaml_sequence_start_event_initialize(&w->ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE)) {
		w->ok = 0;
		return;
	}
	emit_ev(w);
	for (i = 0; i < l->n; i++)
		scalar(w, l->v[i], 1);
	if (w->ok && yaml_sequence_end_event_initialize(&w->ev))
		emit_ev(w);
}

int stet_canon_write(stet_buf *out, const stet_canon *c)
{
	return stet_canon_write_ext(out, c, NULL);
}

int stet_canon_write_ext(stet_buf *out, const stet_canon *c, const char *const *extra)
{
	yw w;
	stet_buf fm = STET_BUF_INIT;
	char ver[16];
	int error = 0;

	memset(&w, 0, sizeof(w));
	if (!yaml_emitter_initialize(&w.em))
		return stet_error_oom();
	yaml_emitter_set_output(&w.em, yaml_out, &fm);
	yaml_emitter_set_unicode(&w.em, 1);
	yaml_emitter_set_width(&w.em, -1);
	yaml_emitter_set_indent(&w.em, 2);
	yaml_emitter_set_break(&w.em, YAML_LN_BREAK);
	w.ok = yaml_stream_start_event_initialize(&w.ev, YAML_UTF8_ENCODING);
	emit_ev(&w);
	if (w.ok && yaml_document_start_event_initialize(&w.ev, NULL, NULL, NULL, 1))
		emit_ev(&w);
	if (w.ok && yaml_mapping_start_event_initialize(&w.ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
		emit_ev(&w);
	snprintf(ver, sizeof(ver), "%d", STET_CANON_VERSION);
	kv(&w, "canon", ver);
	kv(&w, "title", c->title);
	kv(&w, "source", c->source);
	kl(&w, "authors", &c->authors);
	kv(&w, "published", c->published);
	kv(&w, "modified", c->modified);
	kv(&w, "url", c->url);
	kv(&w, "guid", c->guid);
	kv(&w, "permalink", c->permalink);
	kl(&w, "categories", &c->categories);
	kl(&w, "tags", &c->tags);
	for (; extra && extra[0]; extra += 2)
		kv(&w, extra[0], extra[1]);
	if (w.ok && yaml_mapping_end_event_initialize(&w.ev))
		emit_ev(&w);
	if (w.ok && yaml_document_end_event_initialize(&w.ev, 1))
		emit_ev(&w);
	if (w.ok && yaml_stream_end_event_initialize(&w.ev))
		emit_ev(&w);
	if (!w.ok) {
		error = w.em.error == YAML_MEMORY_ERROR ? stet_error_oom()
							 : stet_error_set(STET_ERROR, "writing front matter: %s",
									  w.em.problem ? w.em.problem : "emitter error");
		goto done;
	}
	yaml_emitter_flush(&w.em);
	/* libyaml writes "---\n...mapping...\n...\n"; the form closes with "---" */
	if (fm.size >= 5 && !memcmp(fm.ptr + fm.size - 5, "\n...\n", 5)) /* a line of its own: not a value's dots */
		stet_buf_truncate(&fm, fm.size - 4);
	if (!stet_starts_with(fm.ptr, "---"))
		stet_buf_puts(out, "---\n");
	stet_buf_put(out, fm.ptr, fm.size);
	stet_buf_puts(out, "---\n");
	stet_buf_puts(out, c->body ? c->body : "");
	error = stet_buf_check(out, "canonical document");
done:
	yaml_emitter_delete(&w.em);
	stet_buf_dispose(&fm);
	return error;
}

static void jlist(stet_buf *out, const char *k, const stet_strlist *l)
{
	size_t i;
	stet_buf_printf(out, ",\"%s\":[", k);
	for (i = 0; i < l->n; i++) {
		if (i)
			stet_buf_putc(out, ',');
		json_write_string(out, l->v[i]);
	}
	stet_buf_putc(out, ']');
}

static void jstr(stet_buf *out, const char *k, const char *v)
{
	stet_buf_printf(out, ",\"%s\":", k);
	if (v)
		json_write_string(out, v);
	else
		stet_buf_puts(out, "null");
}

int stet_canon_write_json(stet_buf *out, const stet_canon *c, const char *input)
{
	stet_buf_puts(out, "{\"input\":");
	json_write_string(out, input);
	stet_buf_printf(out, ",\"canon\":%d", STET_CANON_VERSION);
	jstr(out, "title", c->title);
	jstr(out, "source", c->source);
	jlist(out, "authors", &c->authors);
	jstr(out, "published", c->published);
	jstr(out, "modified", c->modified);
	jstr(out, "url", c->url);
	jstr(out, "guid", c->guid);
	jstr(out, "permalink", c->permalink);
	jlist(out, "categories", &c->categories);
	jlist(out, "tags", &c->tags);
	jstr(out, "body", c->body);
	stet_buf_putc(out, '}');
	return stet_buf_check(out, "JSON");
}
