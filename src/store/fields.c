/*
 * The archive's own front matter keys, after the canonical ones: the
 * identity key and the links between duplicates. Read with libyaml from an
 * archived file, written with libyaml, spliced before the closing `---`.
 *
 *   key: KEY
 *   aliases: [KEY...]                       other keys of the same source
 *   reposts: [{source, key, date}...]       other sources, same text
 *   near_duplicate_of: PATH                 this file is a variant of PATH
 *   distance: N                             simhash distance to it (-1: too short)
 *   containment: 0.87                       share of the shorter text in the other
 *
 * A near-duplicate names its original; the original's file is not edited
 * to name it back (its history stays its own versions): `stet dups`
 * derives that direction from the index.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void afields_dispose(afields *f)
{
	free(f->key);
	stet_strlist_dispose(&f->aliases);
	stet_strlist_dispose(&f->repost_source);
	stet_strlist_dispose(&f->repost_key);
	stet_strlist_dispose(&f->repost_date);
	free(f->near_of);
	memset(f, 0, sizeof(*f));
	f->distance = -1;
}

static const char *sc(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *member(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = sc(yaml_document_get_node(d, p->key));
		if (k && !strcmp(k, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static int seq_strings(stet_strlist *l, yaml_document_t *d, yaml_node_t *n)
{
	yaml_node_item_t *it;
	int error = 0;
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top && !error; it++)
		error = stet_strlist_push(l, sc(yaml_document_get_node(d, *it)));
	return error;
}

int afields_read(afields *f, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *n;
	const char *start, *end;
	int error = 0;

	memset(f, 0, sizeof(*f));
	f->distance = -1;
	if (len < 4 || strncmp(text, "---\n", 4))
		return stet_error_set(STET_ECORRUPT, "not an archived article (no front matter)");
	start = text + 4;
	if (!(end = strstr(start, "\n---\n")))
		return stet_error_set(STET_ECORRUPT, "not an archived article (front matter not closed)");
	if (!yaml_parser_initialize(&parser))
		return stet_error_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)start, (size_t)(end - start) + 1);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_parser_delete(&parser);
		return stet_error_set(STET_ECORRUPT, "archived front matter: %s", parser.problem ? parser.problem : "malformed");
	}
	root = yaml_document_get_root_node(&doc);
	if (sc(member(&doc, root, "key")) && !(f->key = stet_strdup(sc(member(&doc, root, "key")))))
		error = stet_error_oom();
	if (!error)
		error = seq_strings(&f->aliases, &doc, member(&doc, root, "aliases"));
	if (!error && (n = member(&doc, root, "reposts")) && n->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it;
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top && !error; it++) {
			yaml_node_t *m = yaml_document_get_node(&doc, *it);
			if (!sc(member(&doc, m, "key")))
				continue;
			if ((error = stet_strlist_push(&f->repost_source, sc(member(&doc, m, "source")))) == 0 &&
			    (error = stet_strlist_push(&f->repost_key, sc(member(&doc, m, "key")))) == 0)
				error = stet_strlist_push(&f->repost_date, sc(member(&doc, m, "date")));
		}
	}
	if (!error && sc(member(&doc, root, "near_duplicate_of")) &&
	    !(f->near_of = stet_strdup(sc(member(&doc, root, "near_duplicate_of")))))
		error = stet_error_oom();
	if (!error && sc(member(&doc, root, "distance")))
		f->distance = atoi(sc(member(&doc, root, "distance")));
	if (!error && sc(member(&doc, root, "containment")))
		f->containment = strtod(sc(member(&doc, root, "containment")), NULL);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (error)
		afields_dispose(f);
	return error;
}

/* ---- writing ---- */

typedef struct {
	yaml_emitter_t em;
	yaml_event_t ev;
	int ok;
} yw;

static int out_cb(void *data, unsigned char *buffer, size_t size)
{
	stet_buf_put((stet_buf *)data, buffer, size);
	return 1;
}

static void emit(yw *w) { if (w->ok && !yaml_emitter_emit(&w->em, &w->ev)) w->ok = 0; }
static void str(yw *w, const char *s)
{
	if (w->ok && yaml_scalar_event_initialize(&w->ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
						  YAML_ANY_SCALAR_STYLE))
		emit(w);
}
static void seq_start(yw *w) { if (w->ok && yaml_sequence_start_event_initialize(&w->ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE)) emit(w); }
static void seq_end(yw *w) { if (w->ok && yaml_sequence_end_event_initialize(&w->ev)) emit(w); }
static void map_start(yw *w) { if (w->ok && yaml_mapping_start_event_initialize(&w->ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE)) emit(w); }
static void map_end(yw *w) { if (w->ok && yaml_mapping_end_event_initialize(&w->ev)) emit(w); }

static int write_fields(stet_buf *out, const afields *f)
{
	yw w;
	stet_buf y = STET_BUF_INIT;
	size_t i;
	char num[64];
	int error = 0;

	memset(&w, 0, sizeof(w));
	if (!yaml_emitter_initialize(&w.em))
		return stet_error_oom();
	yaml_emitter_set_output(&w.em, out_cb, &y);
	yaml_emitter_set_unicode(&w.em, 1);
	yaml_emitter_set_width(&w.em, -1);
	w.ok = yaml_stream_start_event_initialize(&w.ev, YAML_UTF8_ENCODING);
	emit(&w);
	if (w.ok && yaml_document_start_event_initialize(&w.ev, NULL, NULL, NULL, 1))
		emit(&w);
	map_start(&w);
	if (f->key) {
		str(&w, "key");
		str(&w, f->key);
	}
	if (f->aliases.n) {
		str(&w, "aliases");
		seq_start(&w);
		for (i = 0; i < f->aliases.n; i++)
			str(&w, f->aliases.v[i]);
		seq_end(&w);
	}
	if (f->repost_key.n) {
		str(&w, "reposts");
		seq_start(&w);
		for (i = 0; i < f->repost_key.n; i++) {
			map_start(&w);
			if (f->repost_source.v[i][0]) {
				str(&w, "source");
				str(&w, f->repost_source.v[i]);
			}
			str(&w, "key");
			str(&w, f->repost_key.v[i]);
			if (f->repost_date.v[i][0]) {
				str(&w, "date");
				str(&w, f->repost_date.v[i]);
			}
			map_end(&w);
		}
		seq_end(&w);
	}
	if (f->near_of) {
		str(&w, "near_duplicate_of");
		str(&w, f->near_of);
		snprintf(num, sizeof(num), "%d", f->distance);
		str(&w, "distance");
		str(&w, num);
		snprintf(num, sizeof(num), "%.3f", f->containment);
		str(&w, "containment");
		str(&w, num);
	}
	map_end(&w);
	if (w.ok && yaml_document_end_event_initialize(&w.ev, 1))
		emit(&w);
	if (w.ok && yaml_stream_end_event_initialize(&w.ev))
		emit(&w);
	if (!w.ok)
		error = stet_error_set(STET_ERROR, "writing archive fields: %s", w.em.problem ? w.em.problem : "emitter error");
	else
		yaml_emitter_flush(&w.em);
	yaml_emitter_delete(&w.em);
	if (!error) {
		const char *p = y.ptr;
		size_t n = y.size;
		if (n >= 4 && !strncmp(p, "---\n", 4)) {
			p += 4;
			n -= 4;
		} else if (n >= 4 && !strncmp(p, "--- ", 4)) {
			p += 4;
			n -= 4;
		}
		if (n >= 4 && !strncmp(p + n - 4, "...\n", 4))
			n -= 4;
		stet_buf_put(out, p, n);
	}
	stet_buf_dispose(&y);
	return error;
}

int afields_render_doc(stet_buf *out, const stet_buf *doc, const afields *f)
{
	const char *close;
	int error;

	if (doc->size < 3 || !(close = strstr(doc->ptr + 3, "\n---\n")))
		return stet_error_set(STET_ERROR, "canonical document without front matter");
	stet_buf_put(out, doc->ptr, (size_t)(close - doc->ptr) + 1);
	if ((error = write_fields(out, f)) < 0)
		return error;
	stet_buf_puts(out, close + 1);
	return stet_buf_check(out, "archived file");
}

int afields_render(stet_buf *out, const stet_canon *c, const afields *f)
{
	stet_buf doc = STET_BUF_INIT;
	int error;

	if ((error = stet_canon_write(&doc, c)) == 0)
		error = afields_render_doc(out, &doc, f);
	stet_buf_dispose(&doc);
	return error;
}
