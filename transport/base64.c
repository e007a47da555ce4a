/* base64.c -- base64 both ways (base64.h). */
#include <stdint.h>

#include "base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
tri_b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t
tri_b64_encode(const void *src, size_t n, char *out)
{
	const uint8_t *s = src;
	size_t o = 0, i = 0;

	for (; n - i >= 3; i += 3) {
		uint32_t v =
		    (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int
symbol(char c)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	}
	if (c == '+') {
		return 62;
	}
	return c == '/' ? 63 : -1;
}

size_t
tri_b64_decode(const char *src, size_t n, void *out)
{
	uint8_t *d = out;
	size_t o = 0;

	if (n % 4 != 0) {
		return (size_t)-1;
	}
	for (size_t i = 0; i < n; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			v[k] = symbol(src[i + k]);
			if (v[k] >= 0) {
				if (pad) {
					return (size_t)-1; /* data after '=' */
				}
				continue;
			}
			/* '=' only in the last group, in its last two places.
			 */
			if (src[i + k] != '=' || i + 4 != n || k < 2) {
				return (size_t)-1;
			}
			pad++;
			v[k] = 0;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* The bits that padding leaves over must be zero, so that
		 * every byte string has one encoding. */
		if ((pad == 1 && (w & 0xFF) != 0) ||
		    (pad == 2 && (w & 0xFFFF) != 0)) {
			return (size_t)-1;
		}
		d[o++] = (uint8_t)(w >> 16);
		if (pad < 2) {
			d[o++] = (uint8_t)(w >> 8);
		}
		if (pad < 1) {
			d[o++] = (uint8_t)w;
		}
	}
	d[o] = 0;
	return o;
}
