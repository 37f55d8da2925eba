/*
 * Bounded recursive-descent JSON parser and string escaper. Invalid UTF-8
 * inside strings is replaced, \u escapes (with surrogate pairs) decoded,
 * depth limited to JSON_MAX_DEPTH so hostile nesting cannot exhaust the
 * stack.
 */
#include "json.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	const char *s;
	size_t len, pos;
	int depth;
} parser;

static int perr(parser *p, const char *what)
{
	return stet_error_set(STET_EINVALID, "JSON: %s at byte %zu", what, p->pos);
}

static void skip_ws(parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int hex4(parser *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	if (p->pos + 4 > p->len)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = p->s[p->pos++];
		v <<= 4;
		if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
		else return -1;
	}
	*out = v;
	return 0;
}

static int parse_string(parser *p, char **out)
{
	stet_buf b = STET_BUF_INIT;
	size_t start;
	int error;

	p->pos++; /* opening quote */
	start = p->pos;
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c == '"') {
			stet_utf8_sanitize(&b, p->s + start, p->pos - start);
			p->pos++;
			if ((error = stet_buf_check(&b, "JSON string")) < 0)
				return error;
			*out = stet_buf_detach(&b);
			return *out ? 0 : stet_error_oom();
		}
		if (c == '\\') {
			unsigned u, lo;
			char enc[4];
			stet_utf8_sanitize(&b, p->s + start, p->pos - start);
			if (++p->pos >= p->len)
				break;
			c = p->s[p->pos++];
			switch (c) {
			case 'n': stet_buf_putc(&b, '\n'); break;
			case 't': stet_buf_putc(&b, '\t'); break;
			case 'r': stet_buf_putc(&b, '\r'); break;
			case 'b': stet_buf_putc(&b, '\b'); break;
			case 'f': stet_buf_putc(&b, '\f'); break;
			case 'u':
				if (hex4(p, &u) < 0) {
					stet_buf_dispose(&b);
					return perr(p, "bad \\u escape");
				}
				if (u >= 0xD800 && u <= 0xDBFF && p->pos + 6 <= p->len &&
				    p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
					size_t save = p->pos;
					p->pos += 2;
					if (hex4(p, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF)
						u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
					else
						p->pos = save;
				}
				if (u == 0 || (u >= 0xD800 && u <= 0xDFFF))
					u = 0xFFFD; /* NUL, a lone surrogate */
				stet_buf_put(&b, enc, stet_utf8_encode(enc, (int32_t)u));
				break;
			default:
				/* "\/", "\\", "\"", or an unknown escape: the character
				 * itself, which may be several bytes, so it starts the
				 * next run of plain text (already stepped over: an
				 * escaped quote does not end the string) */
				start = p->pos - 1;
				continue;
			}
			start = p->pos;
			continue;
		}
		p->pos++;
	}
	stet_buf_dispose(&b);
	return perr(p, "unterminated string");
}

static int parse_value(parser *p, json_value **out);

static int add_item(json_value *v, char *key, json_value *item)
{
	if ((v->n & (v->n - 1)) == 0) { /* grow at powers of two */
		size_t cap = v->n ? v->n * 2 : 4;
		json_value **items = stet_realloc(v->items, cap * sizeof(*items));
		if (!items)
			return stet_error_oom();
		v->items = items;
		if (v->type == JSON_OBJECT) {
			char **keys = stet_realloc(v->keys, cap * sizeof(*keys));
			if (!keys)
				return stet_error_oom();
			v->keys = keys;
		}
	}
	v->items[v->n] = item;
	if (v->type == JSON_OBJECT)
		v->keys[v->n] = key;
	v->n++;
	return 0;
}

static int parse_container(parser *p, json_value *v)
{
	char close = v->type == JSON_OBJECT ? '}' : ']';
	int error;

	if (++p->depth > JSON_MAX_DEPTH)
		return perr(p, "nested too deeply");
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		json_value *item = NULL;

		skip_ws(p);
		if (v->type == JSON_OBJECT) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return perr(p, "expected a member name");
			if ((error = parse_string(p, &key)) < 0)
				return error;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(key);
				return perr(p, "expected ':'");
			}
			p->pos++;
		}
		if ((error = parse_value(p, &item)) < 0 || (error = add_item(v, key, item)) < 0) {
			free(key);
			json_free(item);
			return error;
		}
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			p->depth--;
			return 0;
		}
		return perr(p, v->type == JSON_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int parse_value(parser *p, json_value **out)
{
	json_value *v;
	int error = 0;
	char c;

	*out = NULL;
	skip_ws(p);
	if (p->pos >= p->len)
		return perr(p, "unexpected end");
	if (!(v = stet_calloc(1, sizeof(*v))))
		return stet_error_oom();
	c = p->s[p->pos];
	if (c == '{' || c == '[') {
		v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
		error = parse_container(p, v);
	} else if (c == '"') {
		v->type = JSON_STRING;
		error = parse_string(p, &v->str);
	} else if (p->len - p->pos >= 4 && !strncmp(p->s + p->pos, "true", 4)) {
		v->type = JSON_BOOL;
		v->boolean = 1;
		p->pos += 4;
	} else if (p->len - p->pos >= 5 && !strncmp(p->s + p->pos, "false", 5)) {
		v->type = JSON_BOOL;
		p->pos += 5;
	} else if (p->len - p->pos >= 4 && !strncmp(p->s + p->pos, "null", 4)) {
		v->type = JSON_NULL;
		p->pos += 4;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		size_t start = p->pos;
		while (p->pos < p->len && strchr("+-0123456789.eE", p->s[p->pos]))
			p->pos++;
		v->type = JSON_NUMBER;
		if (!(v->str = stet_strndup(p->s + start, p->pos - start)))
			error = stet_error_oom();
	} else {
		error = perr(p, "unexpected character");
	}
	if (error < 0) {
		json_free(v);
		return error;
	}
	*out = v;
	return 0;
}

int json_parse(json_value **out, const char *text, size_t len)
{
	parser p = { text, len, 0, 0 };
	int error;

	*out = NULL;
	if ((error = parse_value(&p, out)) < 0)
		return error;
	skip_ws(&p);
	/* trailing ';' happens in pages; anything else is an error */
	while (p.pos < p.len && (p.s[p.pos] == ';' || p.s[p.pos] == ' ' || p.s[p.pos] == '\n'))
		p.pos++;
	if (p.pos != p.len) {
		json_free(*out);
		*out = NULL;
		return perr(&p, "trailing characters");
	}
	return 0;
}

void json_free(json_value *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		json_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

const json_value *json_get(const json_value *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}

const char *json_str(const json_value *v)
{
	return v && v->type == JSON_STRING ? v->str : NULL;
}

void json_write_stringn(stet_buf *out, const char *s, size_t len)
{
	size_t i, start = 0;

	stet_buf_putc(out, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		stet_buf_put(out, s + start, i - start);
		switch (c) {
		case '"': stet_buf_puts(out, "\\\""); break;
		case '\\': stet_buf_puts(out, "\\\\"); break;
		case '\n': stet_buf_puts(out, "\\n"); break;
		case '\t': stet_buf_puts(out, "\\t"); break;
		case '\r': stet_buf_puts(out, "\\r"); break;
		default: stet_buf_printf(out, "\\u%04x", c); break;
		}
		start = i + 1;
	}
	stet_buf_put(out, s + start, len - start);
	stet_buf_putc(out, '"');
}

void json_write_string(stet_buf *out, const char *s)
{
	json_write_stringn(out, s ? s : "", s ? strlen(s) : 0);
}
