/*
 * base64.h -- private to troupe: base64 (RFC 4648, standard alphabet,
 * padded), the form of bytes in etcd's JSON gateway.  Not API.
 */
#ifndef TRI_BASE64_H
#define TRI_BASE64_H

#include <stddef.h>

/* Length of the encoding of n bytes, without a NUL. */
size_t tri_b64_len(size_t n);

/* Encodes src[0..n) into out, which has room for tri_b64_len(n) + 1
 * bytes; NUL-terminates it.  Returns the length written. */
size_t tri_b64_encode(const void *src, size_t n, char *out);

/*
 * Decodes src[0..n) into out, which has room for n / 4 * 3 bytes (+ 1:
 * a NUL is added, so that text can be read as a C string).  Strict: a
 * length not a multiple of 4, a byte outside the alphabet, padding
 * anywhere but at the end, or non-zero bits left in the last symbol are
 * refused.  Returns the decoded length, or (size_t)-1 if refused.
 */
size_t tri_b64_decode(const char *src, size_t n, void *out);

#endif
