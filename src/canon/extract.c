/*
 * Finding the article in a parsed HTML document, and turning it into
 * blocks. No site has code of its own here: what counts is structure,
 * class and id words, and how much text and how many links a block holds.
 *
 * 1. Every element is numbered in document order (depth bounded) and
 *    marked dropped when it is junk: scripts, styles, forms, navigation,
 *    hidden elements, and (pages) elements whose class or id says share,
 *    related, promo, comment, sidebar and the like.
 * 2. Text, link text, commas and a few counts are summed bottom-up.
 * 3. Pages only: paragraphs score their ancestors (text length and
 *    commas), scores are scaled by link density, the best container wins
 *    and its siblings join when they score near it (the Readability
 *    scheme, with CJK text weighted for its density). Containers inside the
 *    winner that look like lists of links, image galleries or forms go.
 *    Post bodies (fragments) are the article already: only junk goes.
 * 4. The kept elements are walked into blocks: headings, paragraphs, list
 *    items, quotes, pre; links become their text, images vanish.
 *
 * The DOM is not modified: marks live in an array indexed through each
 * node's _private pointer, which is reset before returning.
 */
#include "canon.h"
#include "input/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	xmlNodePtr node;
	int parent;        /* index of the parent element, -1 for the root */
	int depth;
	unsigned dropped : 1, scored : 1, keep : 1, inline_tag : 1;
	double score;
	size_t text, link; /* weighted text length of the subtree, inside links */
	size_t own;        /* weighted text of direct text and inline children */
	int commas, own_commas;
	int n_p, n_img, n_li, n_input, n_embed, n_h;
} el;

typedef struct {
	el *v;
	size_t n, cap;
	int fragment;
	const char *title; /* the article title, to drop it from the body */
	blk_list *out;
	stet_buf cur;      /* raw text of the block being built */
	stet_buf norm, scratch; /* its canonical text, and canon_text_with's space: kept between blocks */
	blk_kind kind;
	int level, list_no;
	int strip_unlikely, weight_classes, clean_cond; /* Readability's flags */
} ex;

/* tag names compared only where their first letters agree: most of
 * them differ there */
static int tag_is(xmlNodePtr n, const char *name)
{
	return n->name[0] == (unsigned char)name[0] && !strcmp((const char *)n->name, name);
}

static int tag_in(const char *name, const char *const *set)
{
	for (; *set; set++)
		if (name[0] == (*set)[0] && !strcmp(name, *set))
			return 1;
	return 0;
}

static const char *const junk_tags[] = {
	"script", "style", "noscript", "template", "iframe", "frame", "frameset", "object",
	"embed", "applet", "svg", "canvas", "video", "audio", "source", "track", "map", "button",
	"select", "option", "input", "textarea", "nav", "dialog", "head", "link", "meta", "title",
	"base", "param", "picture", "img", "figcaption", "math", NULL
};
static const char *const page_junk_tags[] = { "header", "footer", "aside", "menu", NULL };

static const char *const inline_tags[] = {
	"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "dfn", "em", "font", "i",
	"ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
	"time", "tt", "u", "var", "wbr", "del", "label", "acronym", "nobr", "img", "picture",
	"o:p", "text", NULL
};

/* readability's unlikely candidates, plus share/QR/promo furniture */
static const char *const unlikely[] = {
	"-ad-", "ai2html", "banner", "breadcrumb", "combx", "comment", "community", "cover-wrap",
	"disqus", "extra", "footer", "gdpr", "header", "legends", "menu", "related", "remark",
	"replies", "rss", "shoutbox", "sidebar", "skyscraper", "social", "sponsor", "supplemental",
	"ad-break", "agegate", "pagination", "pager", "popup", "yom-remote", "share", "sharing",
	"qrcode", "qr-code", "qr_code", "appendqr", "promo", "subscribe", "newsletter", "signup",
	"sign-up", "recommend", "advert", "outbrain", "taboola", "cookie", "consent", "modal",
	"most-popular", "mostpopular", "trending", "read-more", "readmore", "more-stories",
	"also-read", "alsoread", "toolbar", "byline", "author-bio", "newsletter", "paywall",
	"related-", "tags", "tag-list", "breaking-news-", "ad-container", "ad-slot", "adslot",
	"adunit", "ad-unit", "dfp-", "print-", "-print", "social", "follow-us", "copyright",
	"caption", "credit", "article_adlist", "adlist", NULL
};
static const char *const maybe[] = { "and", "article", "body", "column", "content", "main",
				     "shadow", "story", "entry", "post-text", NULL };
/* in post bodies only what is unmistakably furniture */
static const char *const fragment_unlikely[] = {
	"share", "sharing", "qrcode", "qr-code", "qr_code", "appendqr", "promo", "subscribe",
	"newsletter", "recommend", "advert", "outbrain", "taboola", "related", "comment",
	"article_adlist", "adlist", "dfp-", "ad-container", "ad-slot", "social", "copyright",
	"author-bio", "follow-us", NULL
};
static const char *const positive[] = { "article", "body", "content", "entry", "hentry", "h-entry",
					"main", "page", "post", "text", "blog", "story", "paragraph",
					"prose", NULL };
static const char *const negative[] = { "-ad-", "hidden", "banner", "combx", "comment", "com-",
					"contact", "foot", "masthead", "media", "meta", "outbrain",
					"promo", "related", "scroll", "share", "shoutbox", "sidebar",
					"skyscraper", "sponsor", "shopping", "tags", "tool", "widget",
					"caption", "credit", "byline", "social", "subscribe", "newsletter",
					"recommend", NULL };

#define attr stet_html_attr

static int has_attr(xmlNodePtr n, const char *name)
{
	xmlAttrPtr a;
	for (a = n->properties; a; a = a->next)
		if (a->name && !stet_ascii_casecmp((const char *)a->name, name))
			return 1;
	return 0;
}

/* lower-cased "class id" of a node into buf */
static void class_id(char *buf, size_t sz, xmlNodePtr n)
{
	const char *c = attr(n, "class"), *i = attr(n, "id");
	snprintf(buf, sz, "%s %s", c ? c : "", i ? i : "");
	stet_ascii_lower(buf);
}

static int matches(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strstr(s, *words))
			return 1;
	return 0;
}

static int class_weight_on(xmlNodePtr n, int on)
{
	char ci[512];
	int w = 0;
	const char *c = attr(n, "class"), *i = attr(n, "id");

	if (!on)
		return 0;
	if (c && *c) {
		snprintf(ci, sizeof(ci), "%s", c);
		stet_ascii_lower(ci);
		if (matches(ci, negative)) w -= 25;
		if (matches(ci, positive)) w += 25;
	}
	if (i && *i) {
		snprintf(ci, sizeof(ci), "%s", i);
		stet_ascii_lower(ci);
		if (matches(ci, negative)) w -= 25;
		if (matches(ci, positive)) w += 25;
	}
	return w;
}

static int hidden(xmlNodePtr n)
{
	const char *style = attr(n, "style"), *aria = attr(n, "aria-hidden");
	char s[256];

	if (has_attr(n, "hidden"))
		return 1;
	if (aria && !strcmp(aria, "true"))
		return 1;
	if (style) {
		size_t i, o = 0;
		for (i = 0; style[i] && o < sizeof(s) - 1; i++)
			if (style[i] != ' ')
				s[o++] = (char)((style[i] >= 'A' && style[i] <= 'Z') ? style[i] + 32 : style[i]);
		s[o] = '\0';
		if (strstr(s, "display:none") || strstr(s, "visibility:hidden"))
			return 1;
	}
	return 0;
}

/* weighted length: CJK characters count twice (they carry a word each) */
static size_t weigh(const char *s, int *commas)
{
	size_t w = 0, adv;
	const char *p = s;
	size_t len = strlen(s);

	while (*p) {
		int32_t c;
		if (stet_ascii_graph((unsigned char)*p)) {
			/* printable ASCII, the common case: no space, nothing
			 * invisible, nothing CJK */
			*commas += *p == ',';
			w++;
			p++;
			continue;
		}
		if (stet_utf8_unified3(p, len - (size_t)(p - s))) {
			/* U+5000-U+9FFF, CJK unified ideographs: counted twice */
			w += 2;
			p += 3;
			continue;
		}
		c = stet_utf8_decode(p, len - (size_t)(p - s), &adv);
		p += adv;
		if (c < 0 || stet_is_space(c) || stet_is_invisible(c))
			continue;
		if (c == ',' || c == 0xFF0C || c == 0x3001 || c == 0x3002)
			(*commas)++;
		w += stet_is_cjk(c) ? 2 : 1;
	}
	return w;
}

static int push(ex *x, xmlNodePtr n, int parent, int depth)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 1024;
		el *v = stet_realloc(x->v, cap * sizeof(*v));
		if (!v)
			return stet_error_oom();
		x->v = v;
		x->cap = cap;
	}
	memset(&x->v[x->n], 0, sizeof(el));
	x->v[x->n].node = n;
	x->v[x->n].parent = parent;
	x->v[x->n].depth = depth;
	n->_private = (void *)(uintptr_t)(x->n + 1);
	x->n++;
	return 0;
}

static el *of(ex *x, xmlNodePtr n)
{
	uintptr_t i = (uintptr_t)n->_private;
	return i && i <= x->n && x->v[i - 1].node == n ? &x->v[i - 1] : NULL;
}

static int is_junk(ex *x, xmlNodePtr n)
{
	const char *name = (const char *)n->name;
	char ci[512];

	if (tag_in(name, junk_tags) || hidden(n))
		return 1;
	/* forms are not junk by tag: ASP.NET pages wrap everything in one;
	 * clean_conditionally() drops forms that are mostly inputs */
	if (!x->fragment && tag_in(name, page_junk_tags))
		return 1;
	if (tag_is(n, "body") || tag_is(n, "html") || tag_is(n, "article") || tag_is(n, "main") ||
	    tag_is(n, "p"))
		return 0;
	class_id(ci, sizeof(ci), n);
	if (ci[0] == ' ' && ci[1] == '\0')
		return 0;
	if (x->fragment)
		return matches(ci, fragment_unlikely);
	{
		const char *role = attr(n, "role");
		if (role && (!strcmp(role, "navigation") || !strcmp(role, "complementary") ||
			     !strcmp(role, "banner") || !strcmp(role, "contentinfo") ||
			     !strcmp(role, "dialog") || !strcmp(role, "menu") || !strcmp(role, "alert")))
			return 1;
	}
	return x->strip_unlikely && matches(ci, unlikely) && !matches(ci, maybe);
}

/* Pass 1: number the elements, mark junk (and all below it). */
static int collect_one(xmlNodePtr n, int depth, void *payload)
{
	ex *x = payload;
	el *p = n->parent ? of(x, n->parent) : NULL;
	int parent = p ? (int)(p - x->v) : -1, me = (int)x->n, error;

	if ((error = push(x, n, parent, depth)) < 0)
		return error;
	if ((parent >= 0 && x->v[parent].dropped) || is_junk(x, n))
		x->v[me].dropped = 1;
	x->v[me].inline_tag = (unsigned)tag_in((const char *)n->name, inline_tags);
	return !x->v[me].dropped;
}

static int collect(ex *x, xmlNodePtr root)
{
	return stet_html_walk(root, collect_one, x);
}

/* Pass 2: bottom-up sums (children come after parents in the array). */
static void sums(ex *x)
{
	size_t i;

	for (i = x->n; i-- > 0;) {
		el *e = &x->v[i];
		xmlNodePtr c;
		if (e->dropped)
			continue;
		for (c = e->node->children; c; c = c->next) {
			if (c->type == XML_TEXT_NODE && c->content) {
				size_t w = weigh((const char *)c->content, &e->own_commas);
				e->own += w;
				e->text += w;
			}
		}
		e->commas += e->own_commas;
		if (tag_is(e->node, "a"))
			e->link = e->text; /* children below add to text only */
		if (tag_is(e->node, "p")) e->n_p++;
		if (tag_is(e->node, "img")) e->n_img++;
		if (tag_is(e->node, "li")) e->n_li++;
		if (tag_is(e->node, "input")) e->n_input++;
		if (tag_is(e->node, "embed") || tag_is(e->node, "iframe") || tag_is(e->node, "video")) e->n_embed++;
		if (e->node->name[0] == 'h' && e->node->name[1] >= '1' && e->node->name[1] <= '6' && !e->node->name[2])
			e->n_h++;
		if (e->parent >= 0) {
			el *p = &x->v[e->parent];
			p->text += e->text;
			p->link += tag_is(p->node, "a") ? 0 : e->link;
			if (tag_is(p->node, "a"))
				p->link += e->text; /* recounted when p is summed */
			p->commas += e->commas;
			if (e->inline_tag) {
				p->own += e->text;
				p->own_commas += e->commas;
			}
			p->n_p += e->n_p;
			p->n_img += e->n_img;
			p->n_li += e->n_li;
			p->n_input += e->n_input;
			p->n_embed += e->n_embed;
			p->n_h += e->n_h;
		}
	}
	/* an <a>'s link text is its whole text */
	for (i = 0; i < x->n; i++)
		if (!x->v[i].dropped && tag_is(x->v[i].node, "a"))
			x->v[i].link = x->v[i].text;
	/* link totals bottom-up again, now that <a> values are right */
	for (i = 0; i < x->n; i++)
		if (!tag_is(x->v[i].node, "a"))
			x->v[i].link = 0;
	for (i = x->n; i-- > 0;) {
		el *e = &x->v[i];
		if (!e->dropped && e->parent >= 0 && !tag_is(x->v[e->parent].node, "a"))
			x->v[e->parent].link += e->link;
	}
}

static double link_density(const el *e)
{
	return e->text ? (double)e->link / (double)e->text : 0.0;
}

#define class_weight(n) class_weight_on((n), x->weight_classes)

static void init_candidate(ex *x, el *e)
{
	const char *t = (const char *)e->node->name;

	if (e->scored)
		return;
	e->scored = 1;
	e->score = 0;
	if (!strcmp(t, "div") || !strcmp(t, "article") || !strcmp(t, "section") || !strcmp(t, "main"))
		e->score += 5;
	else if (!strcmp(t, "pre") || !strcmp(t, "td") || !strcmp(t, "blockquote"))
		e->score += 3;
	else if (!strcmp(t, "address") || !strcmp(t, "ol") || !strcmp(t, "ul") || !strcmp(t, "dl") ||
		 !strcmp(t, "dd") || !strcmp(t, "dt") || !strcmp(t, "li") || !strcmp(t, "form"))
		e->score -= 3;
	else if ((t[0] == 'h' && t[1] >= '1' && t[1] <= '6' && !t[2]) || !strcmp(t, "th"))
		e->score -= 5;
	e->score += class_weight(e->node);
}

static int is_para(const el *e)
{
	const char *t = (const char *)e->node->name;
	if (!strcmp(t, "p") || !strcmp(t, "pre") || !strcmp(t, "td") || !strcmp(t, "blockquote"))
		return 1;
	/* a container whose own inline text is a paragraph's worth */
	return !e->inline_tag && e->own >= 25 && strcmp(t, "body") && strcmp(t, "html") &&
	       !(t[0] == 'h' && t[1] >= '1' && t[1] <= '6');
}

/* Pass 3 (pages): choose the article container; mark keep on what joins. */
static void choose(ex *x)
{
	size_t i;
	int top = -1, k;

	for (i = 0; i < x->n; i++) {
		el *e = &x->v[i];
		size_t len;
		double s;
		int anc, level;
		if (e->dropped || !is_para(e))
			continue;
		len = e->own;
		if (tag_is(e->node, "p") || tag_is(e->node, "pre") || tag_is(e->node, "td") ||
		    tag_is(e->node, "blockquote"))
			len = e->text;
		if (len < 25)
			continue;
		s = 1.0 + (double)(tag_is(e->node, "p") ? e->commas : e->own_commas) +
		    (double)(len / 100 < 3 ? len / 100 : 3);
		for (anc = e->parent, level = 0; anc >= 0 && level < 5; anc = x->v[anc].parent, level++) {
			el *a = &x->v[anc];
			if (tag_is(a->node, "html"))
				break;
			init_candidate(x, a);
			a->score += level == 0 ? s : level == 1 ? s / 2 : s / (level * 3);
		}
	}
	for (i = 0; i < x->n; i++) {
		el *e = &x->v[i];
		if (!e->scored || e->dropped)
			continue;
		e->score *= 1.0 - link_density(e);
		if (top < 0 || e->score > x->v[top].score)
			top = (int)i;
	}
	if (top < 0) {
		/* nothing scored: keep the body */
		for (i = 0; i < x->n; i++)
			if (tag_is(x->v[i].node, "body"))
				x->v[i].keep = 1;
		return;
	}
	/* several near-top candidates under one ancestor: take the ancestor */
	{
		int alts[5], na = 0;
		for (i = 0; i < x->n && na < 5; i++) {
			el *e = &x->v[i];
			if ((int)i != top && e->scored && !e->dropped && e->score >= 0.75 * x->v[top].score)
				alts[na++] = (int)i;
		}
		if (na >= 3) {
			for (int anc = x->v[top].parent; anc >= 0 && !tag_is(x->v[anc].node, "body");
			     anc = x->v[anc].parent) {
				int inside = 0;
				for (k = 0; k < na; k++) {
					int a2;
					for (a2 = alts[k]; a2 >= 0 && a2 != anc; a2 = x->v[a2].parent)
						;
					inside += a2 == anc;
				}
				if (inside >= 3) {
					top = anc;
					init_candidate(x, &x->v[top]);
					break;
				}
			}
		}
	}
	/* climb while the parent scores higher */
	{
		double last = x->v[top].score, threshold = last / 3;
		int p = x->v[top].parent;
		while (p >= 0 && !tag_is(x->v[p].node, "body")) {
			if (!x->v[p].scored) {
				p = x->v[p].parent;
				continue;
			}
			if (x->v[p].score < threshold)
				break;
			if (x->v[p].score > last) {
				top = p;
				break;
			}
			last = x->v[p].score;
			p = x->v[p].parent;
		}
	}
	/* an only child stands for its parent */
	while (x->v[top].parent >= 0 && !tag_is(x->v[x->v[top].parent].node, "body")) {
		int p = x->v[top].parent, kids = 0;
		for (xmlNodePtr c = x->v[p].node->children; c; c = c->next)
			if (c->type == XML_ELEMENT_NODE && of(x, c) && !of(x, c)->dropped)
				kids++;
		if (kids != 1)
			break;
		top = p;
	}
	/* siblings join when they score near the winner, or read as prose */
	{
		el *t = &x->v[top];
		double threshold = t->score * 0.2 > 10 ? t->score * 0.2 : 10;
		const char *tclass = attr(t->node, "class");
		xmlNodePtr c;
		t->keep = 1;
		if (t->parent < 0)
			return;
		for (c = x->v[t->parent].node->children; c; c = c->next) {
			el *s = c->type == XML_ELEMENT_NODE ? of(x, c) : NULL;
			double bonus = 0;
			const char *sclass;
			if (!s || s == t || s->dropped)
				continue;
			sclass = attr(c, "class");
			if (tclass && sclass && *tclass && !strcmp(tclass, sclass))
				bonus = t->score * 0.2;
			if (s->scored && s->score + bonus >= threshold) {
				s->keep = 1;
			} else if (tag_is(c, "p")) {
				double ld = link_density(s);
				stet_buf txt = STET_BUF_INIT;
				if (s->text > 80 && ld < 0.25) {
					s->keep = 1;
				} else if (s->text > 0 && s->text <= 80 && ld == 0) {
					stet_node_text(&txt, c);
					if (strstr(txt.ptr, ". ") || (txt.size && txt.ptr[txt.size - 1] == '.') ||
					    strstr(txt.ptr, "。"))
						s->keep = 1;
				}
				stet_buf_dispose(&txt);
			}
		}
	}
}

/* Pass 4 (pages): inside the kept containers, drop what is not prose. */
static void clean_conditionally(ex *x)
{
	unsigned char *inside = stet_calloc(x->n ? x->n : 1, 1);
	size_t i;

	if (!inside)
		return; /* an optimisation of quality only; without memory, skip it */
	for (i = 0; i < x->n; i++) {
		el *e = &x->v[i];
		const char *t = (const char *)e->node->name;
		int is_list, weight;
		double ld;
		if (e->parent >= 0)
			inside[i] = inside[e->parent] || x->v[e->parent].keep;
		if (e->dropped || !inside[i])
			continue;
		if (e->parent >= 0 && x->v[e->parent].dropped) {
			e->dropped = 1;
			continue;
		}
		if (strcmp(t, "form") && strcmp(t, "fieldset") && strcmp(t, "table") && strcmp(t, "ul") &&
		    strcmp(t, "ol") && strcmp(t, "div") && strcmp(t, "section") && strcmp(t, "aside") &&
		    strcmp(t, "dl"))
			continue;
		weight = class_weight(e->node);
		if (weight + (e->scored ? e->score : 0) < 0) {
			e->dropped = 1;
			continue;
		}
		if (e->commas >= 10)
			continue;
		is_list = !strcmp(t, "ul") || !strcmp(t, "ol") || !strcmp(t, "dl");
		ld = link_density(e);
		if ((e->n_img > 1 && (double)e->n_p / e->n_img < 0.5) ||
		    (e->n_input > e->n_p / 3) ||
		    (!is_list && e->text < 25 && e->n_h == 0 && (e->n_img == 0 || e->n_img > 2)) ||
		    (!is_list && weight < 25 && ld > 0.2) || (weight >= 25 && ld > 0.5) ||
		    (is_list && ld > 0.5) || (e->n_embed == 1 && e->text < 75) || e->n_embed > 1)
			e->dropped = 1;
	}
	free(inside);
}

/* ---- pass 5: blocks ---- */

static int flush(ex *x)
{
	stet_buf *norm = &x->norm;
	int error = 0;

	if (!x->cur.size)
		return 0;
	stet_buf_clear(norm);
	if (x->kind == BLK_PRE) {
		const char *p = x->cur.ptr, *end = p + x->cur.size;
		while (p < end && !error) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *le = nl ? nl : end;
			size_t before = norm->size;
			if (norm->size)
				stet_buf_putc(norm, '\n');
			error = canon_text_with(norm, &x->scratch, p, (size_t)(le - p));
			if (norm->size == before + 1)
				stet_buf_truncate(norm, before);
			p = nl ? nl + 1 : end;
		}
	} else {
		error = canon_text_with(norm, &x->scratch, x->cur.ptr, x->cur.size);
	}
	stet_buf_clear(&x->cur);
	if (error < 0 || !norm->size)
		goto done;
	if (stet_canon_is_furniture(norm->ptr, norm->size))
		goto done;
	if (x->kind == BLK_H && x->title && (!strcmp(norm->ptr, x->title) || (norm->size >= 20 && strstr(x->title, norm->ptr))))
		goto done;
	/* pages: an h1 before any text is the page's title */
	if (!x->fragment && x->kind == BLK_H && x->level == 1 && x->out->n == 0)
		goto done;
	error = blk_add(x->out, x->kind, x->level, norm->ptr, norm->size);
done:
	return error;
}

static int heading_level(xmlNodePtr n)
{
	const char *t = (const char *)n->name;
	return t[0] == 'h' && t[1] >= '1' && t[1] <= '6' && !t[2] ? t[1] - '0' : 0;
}

static int is_block_tag(xmlNodePtr n)
{
	static const char *const blocks[] = {
		"address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
		"dir", "div", "dl", "dt", "fieldset", "figure", "footer", "form", "header", "hgroup",
		"hr", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table",
		"tbody", "thead", "tfoot", "tr", "td", "th", "ul", "br", "caption", "html", "legend",
		"h1", "h2", "h3", "h4", "h5", "h6", NULL
	};
	return tag_in((const char *)n->name, blocks);
}

static int emit(ex *x, xmlNodePtr n, int depth)
{
	int error = 0;

	for (; n && !error; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content)
				stet_buf_puts(&x->cur, (const char *)n->content);
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		el *e = of(x, n);
		if (!e || e->dropped || depth >= STET_MAX_DEPTH)
			continue;
		if (!is_block_tag(n)) {
			error = emit(x, n->children, depth + 1);
			continue;
		}
		{
			blk_kind kind = x->kind;
			int level = x->level, h = heading_level(n);
			if ((error = flush(x)) < 0)
				break;
			if (tag_is(n, "br") || tag_is(n, "hr"))
				continue;
			if (h) {
				x->kind = BLK_H;
				x->level = h;
			} else if (tag_is(n, "ul") || tag_is(n, "ol") || tag_is(n, "dl")) {
				x->list_no++;
			} else if (tag_is(n, "li") || tag_is(n, "dd") || tag_is(n, "dt")) {
				if (x->kind != BLK_QUOTE && x->kind != BLK_PRE) {
					x->kind = BLK_LI;
					x->level = x->list_no;
				}
			} else if (tag_is(n, "blockquote")) {
				x->kind = BLK_QUOTE;
				x->level = 0;
			} else if (tag_is(n, "pre")) {
				x->kind = BLK_PRE;
			}
			error = emit(x, n->children, depth + 1);
			if (!error)
				error = flush(x);
			if (tag_is(n, "ul") || tag_is(n, "ol") || tag_is(n, "dl"))
				x->list_no++; /* the next list is another one */
			x->kind = kind;
			x->level = level;
		}
	}
	return error;
}

static int emit_kept(ex *x)
{
	size_t i;
	int error = 0;

	for (i = 0; i < x->n && !error; i++) {
		el *e = &x->v[i];
		int anc, inside = 0;
		if (!e->keep || e->dropped)
			continue;
		for (anc = e->parent; anc >= 0; anc = x->v[anc].parent)
			inside |= x->v[anc].keep;
		if (inside)
			continue;
		x->kind = BLK_P;
		x->level = 0;
		/* emit the element itself (its own tag sets the block kind) */
		{
			xmlNodePtr next = e->node->next;
			e->node->next = NULL;
			error = emit(x, e->node, 0);
			e->node->next = next;
		}
		if (!error)
			error = flush(x);
	}
	return error;
}

static size_t blocks_weight(const blk_list *l)
{
	size_t i, w = 0;
	int c = 0;
	for (i = 0; i < l->n; i++)
		w += weigh(l->v[i].text, &c);
	return w;
}

/* One attempt with the given flags; fills out. */
static int attempt(blk_list *out, const stet_article *a, const char *title, int flags)
{
	ex x;
	xmlNodePtr root;
	size_t i;
	int error = 0;

	memset(&x, 0, sizeof(x));
	x.cur = x.norm = x.scratch = (stet_buf)STET_BUF_INIT;
	x.out = out;
	x.fragment = a->body->fragment;
	x.title = title;
	x.strip_unlikely = !!(flags & 1);
	x.weight_classes = !!(flags & 2);
	x.clean_cond = !!(flags & 4);
	if (!a->body->doc || !(root = xmlDocGetRootElement(a->body->doc)))
		goto done;
	if ((error = collect(&x, root)) < 0)
		goto done;
	sums(&x);
	if (x.fragment) {
		for (i = 0; i < x.n; i++)
			if (tag_is(x.v[i].node, "body") || (i == 0 && !x.v[i].dropped))
				x.v[i].keep = 1;
		for (i = 0; i < x.n; i++)
			if (x.v[i].keep && tag_is(x.v[i].node, "body")) {
				x.v[0].keep = 0;
				break;
			}
	} else {
		choose(&x);
		if (x.clean_cond)
			clean_conditionally(&x);
	}
	error = emit_kept(&x);
done:
	for (i = 0; i < x.n; i++)
		x.v[i].node->_private = NULL;
	free(x.v);
	stet_buf_dispose(&x.cur);
	stet_buf_dispose(&x.norm);
	stet_buf_dispose(&x.scratch);
	return error;
}

/*
 * An article with no text at all (a photo gallery, a video post) is still
 * an article: its body lists its media, "[image] URL" or "[video] URL",
 * in document order, so that two such posts differ when their media do.
 */
typedef struct {
	blk_list *out;
	stet_buf line;
} media_ctx;

static int media_one(xmlNodePtr n, int depth, void *payload)
{
	media_ctx *m = payload;
	const char *kind = tag_is(n, "img") ? "image" : tag_is(n, "video") ? "video" : tag_is(n, "audio") ? "audio" : NULL;
	const char *src = kind ? attr(n, "src") : NULL;
	int error;

	(void)depth;
	if (src && *src && strncmp(src, "data:", 5)) {
		size_t prefix;
		stet_buf_clear(&m->line);
		stet_buf_printf(&m->line, "[%s] ", kind);
		prefix = m->line.size;
		if ((error = stet_canon_text(&m->line, src, strlen(src))) < 0)
			return error;
		/* a source that is only blanks is no source (found by fuzz_page:
		 * "[image] " lost its space on the second pass) */
		if (m->line.size > prefix && (error = blk_add(m->out, BLK_P, 0, m->line.ptr, m->line.size)) < 0)
			return error;
	}
	return !tag_is(n, "script") && !tag_is(n, "head");
}

static int media_only(blk_list *out, const stet_article *a)
{
	media_ctx m = { out, STET_BUF_INIT };
	xmlNodePtr root = a->body->doc ? xmlDocGetRootElement(a->body->doc) : NULL;
	int error = root ? stet_html_walk(root, media_one, &m) : 0;

	stet_buf_dispose(&m.line);
	return error;
}

/* Text shorter than this (weighted) makes the extractor try again with
 * fewer of its rules, as Readability does; the longest result wins. */
#define ENOUGH_TEXT 500

int stet_extract(blk_list *out, const stet_article *a)
{
	static const int tries[] = { 7, 6, 4, 0 };
	stet_buf title = STET_BUF_INIT;
	blk_list best = { 0 };
	size_t best_w = 0, k;
	int error = 0;

	if (a->title && stet_canon_text(&title, a->title, strlen(a->title)) < 0)
		stet_buf_clear(&title); /* the title only helps; go on without it */
	for (k = 0; k < STET_ARRAY_SIZE(tries); k++) {
		blk_list l = { 0 };
		size_t w;
		if ((error = attempt(&l, a, title.size ? title.ptr : NULL, tries[k])) < 0) {
			blk_list_dispose(&l);
			break;
		}
		w = blocks_weight(&l);
		if (w > best_w || k == 0) {
			blk_list_dispose(&best);
			best = l;
			best_w = w;
		} else {
			blk_list_dispose(&l);
		}
		if (best_w >= ENOUGH_TEXT || a->body->fragment)
			break;
	}
	if (!error && best.n == 0)
		error = media_only(&best, a);
	if (error < 0)
		blk_list_dispose(&best);
	else
		*out = best;
	stet_buf_dispose(&title);
	return error;
}
