/*
 * fuzz_json.c -- libFuzzer target for the JSON reader (transport/json.h)
 * and the reading of etcd's key-values from it (etcd_impl.h), the code
 * that meets etcd's replies.
 *
 * The input is one reply as etcd's gateway might send it.  Whatever the
 * reader accepts must hold what it promises: every token inside the
 * text, subtrees nested properly, an array's or object's count equal to
 * what iterating it finds; strings unescape to no more bytes than their
 * text, without a NUL; the kvs of a range or of a watch's events are
 * read or refused without a crash, and a kv read is NUL-terminated.
 * Any broken promise aborts, and so does any over-read (ASan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "etcd_impl.h"
#include "json.h"
#include "troupe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, uint32_t tok)
{
	fprintf(stderr, "fuzz_json: %s (token %u)\n", what, (unsigned)tok);
	abort();
}

static void
check_tokens(const tri_json *d)
{
	for (uint32_t t = 0; t < d->ntok; t++) {
		const tri_json_tok *k = &d->tok[t];
		if ((size_t)k->start + k->len > d->len || k->len == 0) {
			fail("token outside the text", t);
		}
		if (k->end <= t || k->end > d->ntok) {
			fail("subtree out of order", t);
		}
		if (k->type == TRI_JSON_ARRAY || k->type == TRI_JSON_OBJECT) {
			uint32_t n = 0;
			for (uint32_t c = tri_json_first(d, t);
			     c != TRI_JSON_NONE; c = tri_json_next(d, t, c)) {
				if (c <= t || c >= k->end) {
					fail("child outside its parent", t);
				}
				n++;
			}
			if (n != k->count) {
				fail("count differs from the children", t);
			}
		} else if (k->end != t + 1) {
			fail("a scalar with children", t);
		}
		if (k->type == TRI_JSON_STRING) {
			char *s = NULL;
			size_t n = 0;
			int rc = tri_json_str(d, t, &s, &n);
			if (rc == TR_OK && (n > k->len - 2 || strlen(s) != n)) {
				fail("string unescaped badly", t);
			}
			if (rc != TR_OK && s != NULL) {
				fail("refused string left allocated", t);
			}
			tri_free(s);
		}
		int64_t v;
		(void)tri_json_int(d, t, &v);
	}
}

static void
check_kvs(const tri_json *d, uint32_t arr, const char *inner)
{
	for (uint32_t t = tri_json_first(d, arr); t != TRI_JSON_NONE;
	     t = tri_json_next(d, arr, t)) {
		tri_etcd_kv kv;
		uint32_t at = inner != NULL ? tri_json_get(d, t, inner) : t;
		if (tri_etcd_parse_kv(d, at, &kv) != TR_OK) {
			if (kv.key != NULL) {
				fail("refused kv left allocated", t);
			}
			continue;
		}
		if (kv.key_len == 0 || kv.key[kv.key_len] != '\0' ||
		    kv.value[kv.value_len] != '\0') {
			fail("kv not NUL-terminated", t);
		}
		tri_etcd_kv_clear(&kv);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tri_json d;
	int64_t rev;

	if (tri_json_parse(&d, (const char *)data, size) != TR_OK) {
		if (d.tok != NULL || d.ntok != 0) {
			fail("refused text left tokens", 0);
		}
		return 0;
	}
	check_tokens(&d);
	(void)tri_etcd_header_rev(&d, 0, &rev);
	check_kvs(&d, tri_json_get(&d, 0, "kvs"), NULL);
	uint32_t res = tri_json_get(&d, 0, "result");
	check_kvs(&d, tri_json_get(&d, res, "events"), "kv");
	tri_json_free(&d);
	return 0;
}
