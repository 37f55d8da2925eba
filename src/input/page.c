/*
 * HTML pages: decode to UTF-8 as the page declares, parse once, and read
 * the metadata a news page carries in its head: <title>, <meta name>,
 * Open Graph (og:*), article:*, <link rel=canonical>, and JSON-LD
 * (NewsArticle and kin, also inside @graph). The DOM is kept for the
 * canonicalizer. The first value found for a field wins, in the order
 * JSON-LD, Open Graph / article:*, plain <meta>, <title>.
 */
#include "internal.h"
#include "util/json.h"

#include <string.h>

typedef struct {
	/* candidates by priority: [0] JSON-LD, [1] og/article, [2] meta, [3] title tag */
	char *title[4], *published[3], *modified[3], *url[3], *site[3], *desc[3];
	stet_strlist authors[3];
} meta_acc;

static int keep(char **slot, const char *v)
{
	if (!v || *slot)
		return 0;
	while (*v == ' ' || *v == '\n' || *v == '\t')
		v++;
	if (!*v)
		return 0;
	return (*slot = stet_strdup(v)) ? 0 : stet_error_oom();
}

#define attr stet_html_attr

static int is_article_type(const json_value *t)
{
	static const char *const types[] = { "NewsArticle", "Article", "ReportageNewsArticle",
					     "AnalysisNewsArticle", "BlogPosting", "OpinionNewsArticle",
					     "ReviewNewsArticle", "BackgroundNewsArticle", "TechArticle",
					     "ScholarlyArticle", "Report", "LiveBlogPosting", "WebPage", NULL };
	size_t i;
	const char *const *k;

	if (!t)
		return 0;
	if (t->type == JSON_ARRAY) {
		int best = 0, kind;
		for (i = 0; i < t->n; i++)
			if ((kind = is_article_type(t->items[i])) > best)
				best = kind;
		return best;
	}
	if (t->type != JSON_STRING)
		return 0;
	for (k = types; *k; k++)
		if (!strcmp(t->str, *k))
			return 1 + (strcmp(t->str, "WebPage") != 0);
	return 0;
}

static const char *name_of(const json_value *v)
{
	if (!v)
		return NULL;
	if (v->type == JSON_STRING)
		return v->str;
	return json_str(json_get(v, "name"));
}

static int ld_article(stet_article *a, meta_acc *m, const json_value *o)
{
	const json_value *au, *v;
	size_t i;
	int error = 0;

	if ((error = keep(&m->title[0], json_str(json_get(o, "headline")))) < 0 ||
	    (error = keep(&m->published[0], json_str(json_get(o, "datePublished")))) < 0 ||
	    (error = keep(&m->modified[0], json_str(json_get(o, "dateModified")))) < 0 ||
	    (error = keep(&m->desc[0], json_str(json_get(o, "description")))) < 0)
		return error;
	if ((v = json_get(o, "mainEntityOfPage")) && (error = keep(&m->url[0], v->type == JSON_STRING ? v->str : json_str(json_get(v, "@id")))) < 0)
		return error;
	if ((error = keep(&m->url[0], json_str(json_get(o, "url")))) < 0)
		return error;
	if ((error = keep(&m->site[0], name_of(json_get(o, "publisher")))) < 0)
		return error;
	if ((au = json_get(o, "author"))) {
		if (au->type == JSON_ARRAY) {
			for (i = 0; i < au->n && !error; i++)
				error = stet_strlist_add(&m->authors[0], name_of(au->items[i]));
		} else {
			error = stet_strlist_add(&m->authors[0], name_of(au));
		}
	}
	if (!error && (v = json_get(o, "articleBody")) && v->type == JSON_STRING)
		error = keep(&a->ld_body, v->str);
	return error;
}

static int ld_walk(stet_article *a, meta_acc *m, const json_value *v, int depth)
{
	size_t i;
	int error = 0, kind;

	if (!v || depth > 8)
		return 0;
	if (v->type == JSON_ARRAY) {
		for (i = 0; i < v->n && !error; i++)
			error = ld_walk(a, m, v->items[i], depth + 1);
		return error;
	}
	if (v->type != JSON_OBJECT)
		return 0;
	if ((kind = is_article_type(json_get(v, "@type"))) == 2)
		error = ld_article(a, m, v);
	if (!error)
		error = ld_walk(a, m, json_get(v, "@graph"), depth + 1);
	if (!error && kind == 1) /* WebPage: its mainEntity may be the article */
		error = ld_walk(a, m, json_get(v, "mainEntity"), depth + 1);
	return error;
}

static int read_jsonld(stet_article *a, meta_acc *m, xmlNodePtr script)
{
	stet_buf text = STET_BUF_INIT;
	json_value *v = NULL;
	int error = 0;

	stet_buf_init(&text, 4u << 20);
	for (xmlNodePtr c = script->children; c; c = c->next)
		if (c->content)
			stet_buf_puts(&text, (const char *)c->content);
	if (stet_buf_check(&text, "JSON-LD") == 0 && json_parse(&v, text.ptr, text.size) == 0)
		error = ld_walk(a, m, v, 0);
	/* a broken JSON-LD block is the page's problem, not a reason to reject it */
	json_free(v);
	stet_buf_dispose(&text);
	stet_error_clear();
	return error;
}

static int read_meta(meta_acc *m, xmlNodePtr n)
{
	const char *key = attr(n, "property"), *val = attr(n, "content");
	int error = 0;

	if (!key)
		key = attr(n, "name");
	if (!key)
		key = attr(n, "itemprop");
	if (!key || !val)
		return 0;
	if (!stet_ascii_casecmp(key, "og:title"))
		error = keep(&m->title[1], val);
	else if (!stet_ascii_casecmp(key, "twitter:title") || !stet_ascii_casecmp(key, "headline") ||
		 !stet_ascii_casecmp(key, "title") || !stet_ascii_casecmp(key, "dc.title"))
		error = keep(&m->title[2], val);
	else if (!stet_ascii_casecmp(key, "article:published_time") || !stet_ascii_casecmp(key, "og:published_time"))
		error = keep(&m->published[1], val);
	else if (!stet_ascii_casecmp(key, "datePublished") || !stet_ascii_casecmp(key, "pubdate") ||
		 !stet_ascii_casecmp(key, "publishdate") || !stet_ascii_casecmp(key, "date") ||
		 !stet_ascii_casecmp(key, "dc.date") || !stet_ascii_casecmp(key, "dc.date.issued") ||
		 !stet_ascii_casecmp(key, "parsely-pub-date") || !stet_ascii_casecmp(key, "sailthru.date") ||
		 !stet_ascii_casecmp(key, "publish-date") || !stet_ascii_casecmp(key, "article.published"))
		error = keep(&m->published[2], val);
	else if (!stet_ascii_casecmp(key, "article:modified_time") || !stet_ascii_casecmp(key, "og:updated_time"))
		error = keep(&m->modified[1], val);
	else if (!stet_ascii_casecmp(key, "dateModified") || !stet_ascii_casecmp(key, "last-modified"))
		error = keep(&m->modified[2], val);
	else if (!stet_ascii_casecmp(key, "og:url"))
		error = keep(&m->url[1], val);
	else if (!stet_ascii_casecmp(key, "og:site_name"))
		error = keep(&m->site[1], val);
	else if (!stet_ascii_casecmp(key, "application-name") || !stet_ascii_casecmp(key, "publisher"))
		error = keep(&m->site[2], val);
	else if (!stet_ascii_casecmp(key, "og:description"))
		error = keep(&m->desc[1], val);
	else if (!stet_ascii_casecmp(key, "description"))
		error = keep(&m->desc[2], val);
	else if (!stet_ascii_casecmp(key, "article:author") && !strstr(val, "://"))
		error = stet_strlist_add(&m->authors[1], val);
	else if (!stet_ascii_casecmp(key, "author") || !stet_ascii_casecmp(key, "dc.creator") ||
		 !stet_ascii_casecmp(key, "parsely-author") || !stet_ascii_casecmp(key, "byl"))
		error = stet_strlist_add(&m->authors[2], val);
	return error;
}

typedef struct {
	stet_article *a;
	meta_acc *m;
} collect_ctx;

/* One element of the walk for head metadata. */
static int collect_one(xmlNodePtr n, int depth, void *payload)
{
	collect_ctx *c = payload;
	const char *name = (const char *)n->name;
	int error = 0;

	(void)depth;
	if (!strcmp(name, "meta")) {
		error = read_meta(c->m, n);
	} else if (!strcmp(name, "link")) {
		const char *rel = attr(n, "rel");
		if (rel && !stet_ascii_casecmp(rel, "canonical"))
			error = keep(&c->m->url[1], attr(n, "href"));
	} else if (!strcmp(name, "title") && !c->m->title[3]) {
		stet_buf t = STET_BUF_INIT;
		stet_node_text(&t, n);
		error = keep(&c->m->title[3], t.ptr);
		stet_buf_dispose(&t);
	} else if (!strcmp(name, "script")) {
		const char *type = attr(n, "type");
		if (type && !stet_ascii_casecmp(type, "application/ld+json"))
			error = read_jsonld(c->a, c->m, n);
	}
	if (error < 0)
		return error;
	return strcmp(name, "script") && strcmp(name, "style");
}

static int collect(stet_article *a, meta_acc *m, xmlNodePtr root)
{
	collect_ctx c = { a, m };
	return stet_html_walk(root, collect_one, &c);
}

static int pick(char **dst, char **cands, size_t k)
{
	size_t i;
	for (i = 0; i < k; i++)
		if (cands[i] && !*dst) {
			*dst = cands[i];
			cands[i] = NULL;
		}
	return 0;
}

int stet_page_read(stet_article *a, const char *data, size_t len)
{
	stet_buf utf8 = STET_BUF_INIT;
	meta_acc m;
	char cs[64];
	size_t i;
	int error = 0;

	memset(&m, 0, sizeof(m));
	a->format = STET_FORMAT_PAGE;
	a->body_line = 1;
	if (!(a->body = stet_calloc(1, sizeof(*a->body))))
		return stet_error_oom();
	stet_charset_sniff(cs, sizeof(cs), data, len);
	if (!cs[0] || !stet_ascii_casecmp(cs, "utf-8") || !stet_ascii_casecmp(cs, "utf8") ||
	    stet_utf8_valid(data, len, NULL)) {
		/* declared UTF-8, undeclared, or a legacy label on bytes that are valid
		 * UTF-8 anyway (pages re-saved as UTF-8 keep their old meta tag) */
		stet_utf8_sanitize(&utf8, data, len);
	} else if ((error = stet_charset_decode(&utf8, cs, data, len)) < 0) {
		error = stet_error_set(STET_EINVALID, "%s: unknown character set '%s' and the text is not UTF-8",
				       a->name, cs);
		goto done;
	}
	if ((error = stet_buf_check(&utf8, a->name)) < 0)
		goto done;
	if ((error = stet_html_parse(&a->body->doc, a->name, utf8.ptr, utf8.size)) < 0)
		goto done;
	if ((error = collect(a, &m, xmlDocGetRootElement(a->body->doc))) < 0)
		goto done;
	pick(&a->title, m.title, 4);
	pick(&a->published, m.published, 3);
	pick(&a->modified, m.modified, 3);
	pick(&a->url, m.url, 3);
	pick(&a->site, m.site, 3);
	pick(&a->description, m.desc, 3);
	for (i = 0; i < 3 && !error; i++) {
		if (a->authors.n == 0 && m.authors[i].n) {
			a->authors = m.authors[i];
			memset(&m.authors[i], 0, sizeof(m.authors[i]));
		}
	}
	if (a->site && !a->source && !(a->source = stet_strdup(a->site)))
		error = stet_error_oom();
done:
	for (i = 0; i < 4; i++)
		free(m.title[i]);
	for (i = 0; i < 3; i++) {
		free(m.published[i]);
		free(m.modified[i]);
		free(m.url[i]);
		free(m.site[i]);
		free(m.desc[i]);
		stet_strlist_dispose(&m.authors[i]);
	}
	stet_buf_dispose(&utf8);
	return error;
}
