/*
 * json.c -- the JSON reader and string quoting (json.h).
 *
 * One pass over the text, with an explicit stack of open containers
 * (no recursion: a hostile reply of a million '[' costs a refusal at
 * depth TRI_JSON_DEPTH, not the stack).  Every read is bounds-checked
 * against len; the text need not be NUL-terminated.
 */
#include <string.h>

#include "alloc.h"
#include "json.h"
#include "troupe.h"

enum state {
	S_VALUE,          /* a value must come */
	S_VALUE_OR_CLOSE, /* just after '[' */
	S_KEY,            /* after ',' in an object */
	S_KEY_OR_CLOSE,   /* just after '{' */
	S_COLON,          /* after a key */
	S_NEXT,           /* after a value inside a container */
	S_DONE,           /* after the top-level value */
};

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Index of the closing quote of the string opening at i, or 0. */
static size_t
scan_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"') {
			return i;
		}
		if (c < 0x20) {
			return 0;
		}
		if (c != '\\') {
			continue;
		}
		if (++i >= len) {
			return 0;
		}
		switch (s[i]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			break;
		case 'u':
			if (len - i <= 4) {
				return 0;
			}
			for (int k = 1; k <= 4; k++) {
				if (hex_value(s[i + k]) < 0) {
					return 0;
				}
			}
			i += 4;
			break;
		default:
			return 0;
		}
	}
	return 0;
}

/* End (one past) of the number starting at i, or 0 if it is none. */
static size_t
scan_number(const char *s, size_t len, size_t i)
{
	if (i < len && s[i] == '-') {
		i++;
	}
	if (i >= len || !is_digit(s[i])) {
		return 0;
	}
	if (s[i] == '0') {
		i++;
	} else {
		while (i < len && is_digit(s[i])) {
			i++;
		}
	}
	if (i < len && s[i] == '.') {
		i++;
		if (i >= len || !is_digit(s[i])) {
			return 0;
		}
		while (i < len && is_digit(s[i])) {
			i++;
		}
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-')) {
			i++;
		}
		if (i >= len || !is_digit(s[i])) {
			return 0;
		}
		while (i < len && is_digit(s[i])) {
			i++;
		}
	}
	return i;
}

/* Appends a token; returns its index, or UINT32_MAX without memory. */
static uint32_t
add_tok(tri_json *d, tri_json_type type, size_t start, size_t len)
{
	if (d->ntok == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 16;
		tri_json_tok *t = tri_realloc(d->tok, cap * sizeof(*t));
		if (t == NULL) {
			return UINT32_MAX;
		}
		d->tok = t;
		d->cap = cap;
	}
	tri_json_tok *t = &d->tok[d->ntok];
	t->type = (uint8_t)type;
	t->start = (uint32_t)start;
	t->len = (uint32_t)len;
	t->end = d->ntok + 1;
	t->count = 0;
	return d->ntok++;
}

int
tri_json_parse(tri_json *doc, const char *text, size_t len)
{
	uint32_t stack[TRI_JSON_DEPTH];
	int depth = 0;
	enum state st = S_VALUE;
	size_t i = 0;
	int rc = TR_EPROTO;

	memset(doc, 0, sizeof(*doc));
	if (text == NULL || len > TRI_JSON_MAX) {
		return TR_EPROTO;
	}
	doc->text = text;
	doc->len = len;
	for (;;) {
		while (i < len && is_ws(text[i])) {
			i++;
		}
		if (st == S_DONE) {
			if (i != len) {
				goto fail;
			}
			return TR_OK;
		}
		if (i >= len) {
			goto fail;
		}
		char c = text[i];
		uint32_t top = depth > 0 ? stack[depth - 1] : UINT32_MAX;
		bool in_object =
		    top != UINT32_MAX && doc->tok[top].type == TRI_JSON_OBJECT;
		size_t e;
		uint32_t t;

		if (st == S_COLON) {
			if (c != ':') {
				goto fail;
			}
			i++;
			st = S_VALUE;
			continue;
		}
		if (st == S_NEXT) {
			if (c == ',') {
				i++;
				st = in_object ? S_KEY : S_VALUE;
				continue;
			}
			if (c != (in_object ? '}' : ']')) {
				goto fail;
			}
			goto close;
		}
		if ((st == S_VALUE_OR_CLOSE && c == ']') ||
		    (st == S_KEY_OR_CLOSE && c == '}')) {
			goto close;
		}
		if (st == S_KEY || st == S_KEY_OR_CLOSE) {
			if (c != '"' || (e = scan_string(text, len, i)) == 0) {
				goto fail;
			}
			if (add_tok(doc, TRI_JSON_STRING, i, e + 1 - i) ==
			    UINT32_MAX) {
				goto nomem;
			}
			doc->tok[top].count++;
			i = e + 1;
			st = S_COLON;
			continue;
		}
		/* A value (S_VALUE, S_VALUE_OR_CLOSE). */
		if (c == '{' || c == '[') {
			if (depth == TRI_JSON_DEPTH) {
				goto fail;
			}
			t = add_tok(doc,
			    c == '{' ? TRI_JSON_OBJECT : TRI_JSON_ARRAY, i, 1);
			if (t == UINT32_MAX) {
				goto nomem;
			}
			if (top != UINT32_MAX && !in_object) {
				doc->tok[top].count++;
			}
			stack[depth++] = t;
			i++;
			st = c == '{' ? S_KEY_OR_CLOSE : S_VALUE_OR_CLOSE;
			continue;
		}
		tri_json_type type;
		if (c == '"') {
			if ((e = scan_string(text, len, i)) == 0) {
				goto fail;
			}
			e++;
			type = TRI_JSON_STRING;
		} else if (c == '-' || is_digit(c)) {
			if ((e = scan_number(text, len, i)) == 0) {
				goto fail;
			}
			type = TRI_JSON_NUMBER;
		} else if (len - i >= 4 && memcmp(text + i, "true", 4) == 0) {
			e = i + 4;
			type = TRI_JSON_TRUE;
		} else if (len - i >= 5 && memcmp(text + i, "false", 5) == 0) {
			e = i + 5;
			type = TRI_JSON_FALSE;
		} else if (len - i >= 4 && memcmp(text + i, "null", 4) == 0) {
			e = i + 4;
			type = TRI_JSON_NULL;
		} else {
			goto fail;
		}
		if (add_tok(doc, type, i, e - i) == UINT32_MAX) {
			goto nomem;
		}
		if (top != UINT32_MAX && !in_object) {
			doc->tok[top].count++;
		}
		i = e;
		st = depth > 0 ? S_NEXT : S_DONE;
		continue;
close:
		depth--;
		doc->tok[top].len = (uint32_t)(i + 1 - doc->tok[top].start);
		doc->tok[top].end = doc->ntok;
		i++;
		st = depth > 0 ? S_NEXT : S_DONE;
	}
nomem:
	rc = TR_ENOMEM;
fail:
	tri_json_free(doc);
	return rc;
}

void
tri_json_free(tri_json *doc)
{
	if (doc != NULL) {
		tri_free(doc->tok);
		memset(doc, 0, sizeof(*doc));
	}
}

static const tri_json_tok *
tok_at(const tri_json *doc, uint32_t t)
{
	return doc != NULL && t < doc->ntok ? &doc->tok[t] : NULL;
}

tri_json_type
tri_json_type_of(const tri_json *doc, uint32_t t)
{
	const tri_json_tok *k = tok_at(doc, t);
	return k != NULL ? (tri_json_type)k->type : (tri_json_type)0;
}

/*
 * Decodes the string token at tok into out (room for tok->len bytes),
 * returns the length, or SIZE_MAX for a \u0000 or a lone surrogate.
 * The escapes were checked by scan_string().
 */
static size_t
unescape(const char *s, const tri_json_tok *tok, char *out)
{
	size_t i = tok->start + 1, end = tok->start + tok->len - 1, n = 0;

	while (i < end) {
		char c = s[i++];
		if (c != '\\') {
			out[n++] = c;
			continue;
		}
		c = s[i++];
		switch (c) {
		case 'b':
			out[n++] = '\b';
			continue;
		case 'f':
			out[n++] = '\f';
			continue;
		case 'n':
			out[n++] = '\n';
			continue;
		case 'r':
			out[n++] = '\r';
			continue;
		case 't':
			out[n++] = '\t';
			continue;
		case 'u':
			break;
		default: /* " \ / */
			out[n++] = c;
			continue;
		}
		uint32_t cp = 0;
		for (int k = 0; k < 4; k++) {
			cp = cp << 4 | (uint32_t)hex_value(s[i++]);
		}
		if (cp >= 0xDC00 && cp <= 0xDFFF) {
			return SIZE_MAX;
		}
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			uint32_t lo = 0;
			if (end - i < 6 || s[i] != '\\' || s[i + 1] != 'u') {
				return SIZE_MAX;
			}
			for (int k = 2; k < 6; k++) {
				int h = hex_value(s[i + k]);
				if (h < 0) {
					return SIZE_MAX;
				}
				lo = lo << 4 | (uint32_t)h;
			}
			if (lo < 0xDC00 || lo > 0xDFFF) {
				return SIZE_MAX;
			}
			i += 6;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
		if (cp == 0) {
			return SIZE_MAX;
		}
		if (cp < 0x80) {
			out[n++] = (char)cp;
		} else if (cp < 0x800) {
			out[n++] = (char)(0xC0 | cp >> 6);
			out[n++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out[n++] = (char)(0xE0 | cp >> 12);
			out[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		} else {
			out[n++] = (char)(0xF0 | cp >> 18);
			out[n++] = (char)(0x80 | (cp >> 12 & 0x3F));
			out[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
			out[n++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	return n;
}

int
tri_json_str(const tri_json *doc, uint32_t t, char **out, size_t *len)
{
	const tri_json_tok *k = tok_at(doc, t);
	char *buf;
	size_t n;

	*out = NULL;
	if (k == NULL || k->type != TRI_JSON_STRING) {
		return TR_EPROTO;
	}
	/* Unescaped text is never longer than its escaped form. */
	if ((buf = tri_malloc(k->len)) == NULL) {
		return TR_ENOMEM;
	}
	if ((n = unescape(doc->text, k, buf)) == SIZE_MAX) {
		tri_free(buf);
		return TR_EPROTO;
	}
	buf[n] = '\0';
	*out = buf;
	if (len != NULL) {
		*len = n;
	}
	return TR_OK;
}

bool
tri_json_str_eq(const tri_json *doc, uint32_t t, const char *s)
{
	const tri_json_tok *k = tok_at(doc, t);
	size_t n = strlen(s);
	char small[64];
	size_t got;

	if (k == NULL || k->type != TRI_JSON_STRING) {
		return false;
	}
	/* Plain text (the usual case) compares in place. */
	if (memchr(doc->text + k->start + 1, '\\', k->len - 2) == NULL) {
		return k->len - 2 == n &&
		    memcmp(doc->text + k->start + 1, s, n) == 0;
	}
	if (k->len > sizeof(small)) {
		/* Escaped text that long cannot shrink to a short key;
		 * the keys looked up here are short. */
		return false;
	}
	got = unescape(doc->text, k, small);
	return got != SIZE_MAX && got == n && memcmp(small, s, n) == 0;
}

uint32_t
tri_json_get(const tri_json *doc, uint32_t obj, const char *key)
{
	const tri_json_tok *o = tok_at(doc, obj);

	if (o == NULL || o->type != TRI_JSON_OBJECT) {
		return TRI_JSON_NONE;
	}
	for (uint32_t k = obj + 1; k < o->end; k = doc->tok[k + 1].end) {
		if (tri_json_str_eq(doc, k, key)) {
			return k + 1;
		}
	}
	return TRI_JSON_NONE;
}

uint32_t
tri_json_first(const tri_json *doc, uint32_t arr)
{
	const tri_json_tok *a = tok_at(doc, arr);

	if (a == NULL || a->count == 0) {
		return TRI_JSON_NONE;
	}
	if (a->type == TRI_JSON_ARRAY) {
		return arr + 1;
	}
	return a->type == TRI_JSON_OBJECT ? arr + 2 : TRI_JSON_NONE;
}

uint32_t
tri_json_next(const tri_json *doc, uint32_t arr, uint32_t elem)
{
	const tri_json_tok *a = tok_at(doc, arr);
	const tri_json_tok *e = tok_at(doc, elem);
	uint32_t n;

	if (a == NULL || e == NULL || elem <= arr || elem >= a->end) {
		return TRI_JSON_NONE;
	}
	n = e->end;
	if (a->type == TRI_JSON_OBJECT) {
		n++; /* past the next key */
	}
	return n < a->end ? n : TRI_JSON_NONE;
}

int
tri_json_int(const tri_json *doc, uint32_t t, int64_t *out)
{
	const tri_json_tok *k = tok_at(doc, t);
	const char *s;
	size_t n, i = 0;
	bool neg = false;
	uint64_t v = 0, limit;

	if (k == NULL) {
		return TR_EPROTO;
	}
	s = doc->text + k->start;
	n = k->len;
	if (k->type == TRI_JSON_STRING) {
		s++;
		n -= 2;
	} else if (k->type != TRI_JSON_NUMBER) {
		return TR_EPROTO;
	}
	if (n > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == n) {
		return TR_EPROTO;
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (!is_digit(s[i])) {
			return TR_EPROTO;
		}
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (limit - d) / 10) {
			return TR_EPROTO;
		}
		v = v * 10 + d;
	}
	if (neg) {
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		*out = (int64_t)v;
	}
	return TR_OK;
}

int
tri_json_bool(const tri_json *doc, uint32_t t, bool *out)
{
	switch (tri_json_type_of(doc, t)) {
	case TRI_JSON_TRUE:
		*out = true;
		return TR_OK;
	case TRI_JSON_FALSE:
		*out = false;
		return TR_OK;
	default:
		return TR_EPROTO;
	}
}

size_t
tri_json_quote(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	char esc[7];

#define PUT(ch)                        \
	do {                           \
		if (n + 1 < outlen) {  \
			out[n] = (ch); \
		}                      \
		n++;                   \
	} while (0)

	PUT('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		size_t elen = 0;
		if (c == '"' || c == '\\') {
			esc[elen++] = '\\';
			esc[elen++] = (char)c;
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			elen = 4;
			esc[elen++] = hex[c >> 4];
			esc[elen++] = hex[c & 15];
		} else {
			esc[elen++] = (char)c;
		}
		for (size_t k = 0; k < elen; k++) {
			PUT(esc[k]);
		}
	}
	PUT('"');
#undef PUT
	if (outlen > 0) {
		out[n < outlen ? n : outlen - 1] = '\0';
	}
	return n;
}
