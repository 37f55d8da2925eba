/*
 * Posts: YAML front matter (libyaml) followed by an HTML or Markdown body,
 * as Hexo and Jekyll news mirrors publish them; also canonical documents
 * (front matter with `canon:`), whose body is kept as text.
 *
 * Only the top-level mapping is read, and only scalars or sequences of
 * scalars under it, so YAML aliases cannot make the reader do unbounded
 * work. Errors carry the file's own line and column.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define FRONT_MATTER_MAX (1u << 20)

typedef struct {
	stet_article *a;
	yaml_document_t *doc;
	int is_canon;
} fm_ctx;

static const char *scalar(yaml_document_t *doc, yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	(void)doc;
	return (const char *)n->data.scalar.value;
}

static int set_str(char **dst, const char *v)
{
	char *copy;

	if (!v || !*v || *dst)
		return 0; /* first key found wins */
	if (!(copy = stet_strdup(v)))
		return stet_error_oom();
	*dst = copy;
	return 0;
}

/* A scalar, or each scalar of a sequence (e.g. `tags: [a, b]`). */
static int add_list(stet_strlist *l, yaml_document_t *doc, yaml_node_t *n)
{
	yaml_node_item_t *it;
	int error;

	if (!n)
		return 0;
	if (n->type == YAML_SCALAR_NODE)
		return stet_strlist_add(l, scalar(doc, n));
	if (n->type != YAML_SEQUENCE_NODE)
		return 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		if (item && item->type == YAML_SCALAR_NODE &&
		    (error = stet_strlist_add(l, scalar(doc, item))) < 0)
			return error;
	}
	return 0;
}

static int is_key(const char *k, const char *const *names)
{
	for (; *names; names++)
		if (!stet_ascii_casecmp(k, *names))
			return 1;
	return 0;
}

static int take(fm_ctx *c, const char *key, yaml_node_t *val)
{
	static const char *const k_title[] = { "title", "headline", NULL };
	static const char *const k_source[] = { "source", "publisher", "site", NULL };
	static const char *const k_author[] = { "author", NULL };
	static const char *const k_authors[] = { "authors", NULL };
	static const char *const k_date[] = { "date", "published", "pubdate", "published_at", NULL };
	static const char *const k_mod[] = { "updated", "modified", "lastmod", "last_modified_at", NULL };
	static const char *const k_url[] = { "url", "from", "link", "canonical_url", "source_url", NULL };
	static const char *const k_perma[] = { "permalink", NULL };
	static const char *const k_guid[] = { "guid", "id", NULL };
	static const char *const k_cat[] = { "categories", "category", NULL };
	static const char *const k_tags[] = { "tags", "tag", "keywords", NULL };
	static const char *const k_img[] = { "headimg", "thumbnail", "image", "images", "cover", NULL };
	static const char *const k_desc[] = { "description", "excerpt", "summary", NULL };
	stet_article *a = c->a;
	yaml_document_t *doc = c->doc;
	const char *v = scalar(doc, val);

	if (!strcmp(key, "canon")) {
		c->is_canon = 1;
		return 0;
	}
	if (is_key(key, k_title)) return set_str(&a->title, v);
	if (is_key(key, k_source)) return set_str(&a->source, v);
	if (is_key(key, k_author)) {
		/* news mirrors put the publishing site in `author`; it is kept as an
		 * author and, when no source key exists, used as the source (canon) */
		return add_list(&a->authors, doc, val);
	}
	if (is_key(key, k_authors)) return add_list(&a->authors, doc, val);
	if (is_key(key, k_date)) return set_str(&a->published, v);
	if (is_key(key, k_mod)) return set_str(&a->modified, v);
	if (is_key(key, k_url)) return set_str(&a->url, v);
	if (is_key(key, k_perma)) return set_str(&a->permalink, v);
	if (is_key(key, k_guid)) return set_str(&a->guid, v);
	if (is_key(key, k_cat)) return add_list(&a->categories, doc, val);
	if (is_key(key, k_tags)) return add_list(&a->tags, doc, val);
	if (is_key(key, k_img)) return add_list(&a->images, doc, val);
	if (is_key(key, k_desc)) return set_str(&a->description, v);
	if (v && a->extra.n < 128) {
		int error = stet_strlist_push(&a->extra, key);
		return error ? error : stet_strlist_push(&a->extra, v);
	}
	return 0;
}

static int yaml_fail(yaml_parser_t *p, const char *name, unsigned line0)
{
	yaml_mark_t m = p->problem_mark;
	const char *prob = p->problem ? p->problem : "malformed YAML";

	if (p->error == YAML_MEMORY_ERROR)
		return stet_error_oom();
	if (p->context)
		return stet_error_set(STET_EINVALID, "%s:%zu:%zu: front matter: %s %s", name,
				      (size_t)m.line + line0, (size_t)m.column + 1, prob, p->context);
	return stet_error_set(STET_EINVALID, "%s:%zu:%zu: front matter: %s", name,
			      (size_t)m.line + line0, (size_t)m.column + 1, prob);
}

static int read_front_matter(stet_article *a, const char *fm, size_t len, unsigned line0, int *is_canon)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *pair;
	fm_ctx c = { a, &doc, 0 };
	int error = 0, have_doc = 0;

	if (len > FRONT_MATTER_MAX)
		return stet_error_set(STET_ETOOBIG, "%s:%u:1: front matter larger than %u bytes", a->name,
				      line0, FRONT_MATTER_MAX);
	if (!yaml_parser_initialize(&parser))
		return stet_error_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)fm, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	if (!yaml_parser_load(&parser, &doc)) {
		error = yaml_fail(&parser, a->name, line0);
		goto done;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (!root) /* empty front matter */
		goto done;
	if (root->type != YAML_MAPPING_NODE) {
		error = stet_error_set(STET_EINVALID, "%s:%zu:%zu: front matter is not a mapping of keys to values",
				       a->name, (size_t)root->start_mark.line + line0,
				       (size_t)root->start_mark.column + 1);
		goto done;
	}
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		const char *key = scalar(&doc, yaml_document_get_node(&doc, pair->key));
		if (key && (error = take(&c, key, yaml_document_get_node(&doc, pair->value))) < 0)
			goto done;
	}
	*is_canon = c.is_canon;
done:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return error;
}

/* Find the line that closes the front matter: `---` or `...` alone. */
static const char *find_close(const char *s, const char *end, const char **after)
{
	const char *line = s;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end, *q = le;
		while (q > line && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		if (q - line == 3 && (!strncmp(line, "---", 3) || !strncmp(line, "...", 3))) {
			*after = nl ? nl + 1 : end;
			return line;
		}
		line = nl ? nl + 1 : end;
	}
	return NULL;
}

static const char *next_line(const char *s, const char *end)
{
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	return nl ? nl + 1 : end;
}

/*
 * Mirror furniture at the start of a body: Jekyll mirrors open with an
 * `<!--epoch-ms-->` comment, a `[title](url)` line and a `------` line.
 * Recognised by shape, not by site: a comment of digits, then a lone
 * Markdown link underlined as a setext heading.
 */
static const char *skip_furniture(stet_article *a, const char *s, const char *end, unsigned *line)
{
	const char *p = s, *q;

	while (p < end && (*p == '\n' || *p == ' ')) {
		if (*p == '\n')
			(*line)++;
		p++;
	}
	if (end - p > 4 && !strncmp(p, "<!--", 4)) {
		q = p + 4;
		while (q < end && *q >= '0' && *q <= '9')
			q++;
		if (q > p + 4 && end - q >= 3 && !strncmp(q, "-->", 3)) {
			char *ms = stet_strndup(p + 4, (size_t)(q - p - 4));
			if (ms && !a->published)
				a->published = ms;
			else
				free(ms);
			p = next_line(q, end);
			(*line)++;
		}
	}
	if (p < end && *p == '[') {
		const char *l2 = next_line(p, end), *le = l2;
		while (le > p && (le[-1] == '\n' || le[-1] == ' '))
			le--;
		const char *u = le > p ? le - 1 : p;
		q = l2;
		while (q < end && *q == '-')
			q++;
		if (le > p && *u == ')' && q - l2 >= 3 && (q == end || *q == '\n' || *q == ' ')) {
			const char *mid = NULL, *t;
			for (t = p; t + 1 < le; t++)
				if (t[0] == ']' && t[1] == '(')
					mid = t;
			if (mid) {
				if (!a->url) {
					char *url = stet_strndup(mid + 2, (size_t)(u - mid - 2));
					a->url = url;
				}
				*line += 2;
				return next_line(q, end);
			}
		}
	}
	return p;
}

static int has_html_blocks(const char *s, size_t len)
{
	static const char *const tags[] = { "<p", "<div", "<br", "<section", "<article", "<table",
					    "<ul", "<ol", "<h2", "<h3", "<blockquote", "<figure",
					    "<img", "<span", "<strong", "<a " };
	size_t i;

	for (i = 0; i < STET_ARRAY_SIZE(tags); i++) {
		size_t tl = strlen(tags[i]);
		const char *p = s, *end = s + len;
		while ((p = memchr(p, '<', (size_t)(end - p))) && (size_t)(end - p) > tl) {
			if (!stet_ascii_ncasecmp(p, tags[i], tl) &&
			    (tags[i][tl - 1] == ' ' || p[tl] == '>' || p[tl] == ' ' || p[tl] == '/' || p[tl] == '\n'))
				return 1;
			p++;
		}
	}
	return 0;
}

int stet_post_read(stet_article *a, const char *data, size_t len, unsigned line0)
{
	const char *end = data + len, *body = data, *fm_end, *after;
	stet_buf html = STET_BUF_INIT;
	unsigned line = line0 ? line0 : 1;
	int error = 0, is_canon = 0;

	a->format = STET_FORMAT_POST;
	if (!(a->body = stet_calloc(1, sizeof(*a->body))))
		return stet_error_oom();
	if (line0) {
		const char *fm = next_line(data, end);
		if (!(fm_end = find_close(fm, end, &after)))
			return stet_error_set(STET_EINVALID,
					      "%s:%u:1: front matter opened here has no closing '---' line",
					      a->name, line0);
		if ((error = read_front_matter(a, fm, (size_t)(fm_end - fm), line0 + 1, &is_canon)) < 0)
			return error;
		for (const char *p = data; p < after; p++)
			line += *p == '\n';
		body = after;
	}
	if (is_canon) {
		a->format = STET_FORMAT_CANON;
		a->body_line = line;
		if (!(a->body->text = stet_strndup(body, (size_t)(end - body))))
			return stet_error_oom();
		return 0;
	}
	body = skip_furniture(a, body, end, &line);
	a->body_line = line;
	a->body->fragment = 1;
	if (has_html_blocks(body, (size_t)(end - body)))
		stet_buf_put(&html, body, (size_t)(end - body));
	else
		stet_markdown_to_html(&html, body, (size_t)(end - body));
	if ((error = stet_buf_check(&html, a->name)) == 0)
		error = stet_html_parse(&a->body->doc, a->name, html.ptr, html.size);
	stet_buf_dispose(&html);
	return error;
}
