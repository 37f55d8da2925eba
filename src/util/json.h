/*
 * A small, bounded JSON reader (for JSON-LD in pages) and writer helpers
 * (for --json output). Depth and size are bounded; numbers are kept as
 * their text. Not public: no stet API takes or returns JSON trees.
 */
#ifndef STET_JSON_H
#define STET_JSON_H

#include <stddef.h>
#include "stet/buf.h"

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
struct json_value {
	json_type type;
	char *str;           /* STRING, NUMBER: the text; OBJECT member: see keys */
	int boolean;
	size_t n;            /* ARRAY, OBJECT: number of items */
	char **keys;         /* OBJECT: member names */
	json_value **items;  /* ARRAY, OBJECT: values */
};

#define JSON_MAX_DEPTH 64

/* Parse text (len bytes). Returns 0 and *out, or STET_EINVALID with a
 * message that gives the byte offset. */
int json_parse(json_value **out, const char *text, size_t len);
void json_free(json_value *v);
/* The member `key` of an object, or NULL. Borrowed. */
const json_value *json_get(const json_value *obj, const char *key);
/* The string of v if it is a string, else NULL. */
const char *json_str(const json_value *v);

/* Append s as a JSON string literal (quoted, escaped). */
void json_write_string(stet_buf *out, const char *s);
void json_write_stringn(stet_buf *out, const char *s, size_t len);

#endif
