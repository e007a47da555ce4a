/*
 * json.h -- private to troupe: a small JSON reader (and string quoting)
 * for replies of etcd's HTTP gateway.  Not API.
 *
 * The reader checks the whole text against RFC 8259 first and refuses
 * anything else with TR_EPROTO: a reply from the network is untrusted
 * input, as a frame is.  It does not build a tree of nodes: it records
 * one token per value (its type and where its text is), in document
 * order, and lookups walk the tokens.  Nesting deeper than
 * TRI_JSON_DEPTH and texts longer than TRI_JSON_MAX are refused, so the
 * work and memory are bounded by the input, and nothing recurses.
 *
 * Numbers are kept as text; tri_json_int() reads integers only, and
 * also from a string ("123"), because the gateway writes every 64-bit
 * field of etcd's protobuf messages as a quoted decimal.
 */
#ifndef TRI_JSON_H
#define TRI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRI_JSON_DEPTH 64
#define TRI_JSON_MAX ((size_t)64 << 20)

typedef enum tri_json_type {
	TRI_JSON_NULL = 1,
	TRI_JSON_FALSE,
	TRI_JSON_TRUE,
	TRI_JSON_NUMBER,
	TRI_JSON_STRING,
	TRI_JSON_ARRAY,
	TRI_JSON_OBJECT,
} tri_json_type;

/* One value.  An object's tokens alternate key (a string), value. */
typedef struct tri_json_tok {
	uint8_t type;   /* tri_json_type */
	uint32_t start; /* offset of its first byte (a string: its quote) */
	uint32_t len;   /* bytes of its text, quotes and brackets included */
	uint32_t end;   /* index of the first token after its subtree */
	uint32_t count; /* array: elements; object: members; else 0 */
} tri_json_tok;

typedef struct tri_json {
	const char *text; /* borrowed: the caller keeps it alive */
	size_t len;
	tri_json_tok *tok; /* tok[0] is the top-level value */
	uint32_t ntok;
	uint32_t cap;
} tri_json;

/* The absent token: lookups return it for "no such member", and every
 * call given it answers as for a value of no type.  The top-level value
 * is token 0. */
#define TRI_JSON_NONE UINT32_MAX

/*
 * Checks text[0..len) (one JSON value, surrounded by white space at
 * most) and tokenises it into *doc, which borrows text.  TR_OK,
 * TR_EPROTO (not JSON, too deep, too long, a NUL byte), TR_ENOMEM.  On
 * failure *doc holds nothing to free; on success free it with
 * tri_json_free().  Any thread; doc is the caller's.
 */
int tri_json_parse(tri_json *doc, const char *text, size_t len);
void tri_json_free(tri_json *doc);

/* Type of token t (0 for TRI_JSON_NONE). */
tri_json_type tri_json_type_of(const tri_json *doc, uint32_t t);

/* The value of member key of object obj; TRI_JSON_NONE if obj is no
 * object or has no such member (the first one, if several). */
uint32_t tri_json_get(const tri_json *doc, uint32_t obj, const char *key);

/* Elements of an array (or values of an object): the first, then the
 * next after elem; TRI_JSON_NONE at the end. */
uint32_t tri_json_first(const tri_json *doc, uint32_t arr);
uint32_t tri_json_next(const tri_json *doc, uint32_t arr, uint32_t elem);

/*
 * An integer: a JSON number without fraction or exponent, or a string
 * holding one.  TR_OK, TR_EPROTO (anything else, or out of int64_t).
 */
int tri_json_int(const tri_json *doc, uint32_t t, int64_t *out);

/* true/false; TR_EPROTO for anything else. */
int tri_json_bool(const tri_json *doc, uint32_t t, bool *out);

/*
 * A string's value, unescaped to UTF-8, into a new buffer *out (NUL
 * added; *len without it), freed by the caller with tri_free().  A
 * string that holds a NUL (\u0000) or a lone surrogate is refused:
 * TR_EPROTO.  TR_ENOMEM.
 */
int tri_json_str(const tri_json *doc, uint32_t t, char **out, size_t *len);

/* Whether string token t equals s (unescaped). */
bool tri_json_str_eq(const tri_json *doc, uint32_t t, const char *s);

/*
 * Writes s as a JSON string, quotes included, into out (at most outlen
 * bytes with the NUL).  Returns the length it needs without the NUL (as
 * snprintf: more than outlen - 1 means it was cut).  Control characters
 * are escaped; other bytes are copied.
 */
size_t tri_json_quote(const char *s, char *out, size_t outlen);

#endif
