/*
 * picture.c -- one-line messages: bodies packed from a picture, a string
 * with one letter per value (tr_msg_newf, tr_sendf, tr_callf, tr_replyf),
 * and the one-line receive (tr_recvf); picture_read.c reads them back.
 * The letters are listed at their declaration in troupe.h.
 *
 * A body is always one msgpack array, one element per letter.  Packing
 * goes through the message's own msgpack packer, and sending through
 * tr_send() and friends, so that whatever path the runtime takes for a
 * message, a picture's message takes it too.
 */
#include <string.h>

#include "troupe.h"
#include "picture.h"

/* The letters, in the order of troupe.h's table. */
static const char letters[] = "iuqQd?sSbrnm";

int
tri_picture_len(const char *pic, size_t *n)
{
	size_t i;

	if (pic == NULL) {
		return TR_EINVAL;
	}
	for (i = 0; pic[i] != '\0'; i++) {
		if (strchr(letters, pic[i]) == NULL) {
			return TR_EINVAL;
		}
	}
	*n = i;
	return TR_OK;
}

/* ------------------------------------------------------------------ */
/* Packing                                                             */

/*
 * Checks the arguments a picture names without packing anything, so
 * that a bad one is refused before a message exists: NULL strings and
 * objects, NULL pointers with lengths, and payloads past TR_MSG_MAX.
 */
static int
args_check(const char *pic, va_list ap)
{
	uint64_t payload = 0;

	for (const char *p = pic; *p != '\0'; p++) {
		const void *ptr;
		size_t len = 0;

		switch (*p) {
		case 'i':
		case '?':
			(void)va_arg(ap, int);
			break;
		case 'u':
			(void)va_arg(ap, unsigned);
			break;
		case 'q':
			(void)va_arg(ap, int64_t);
			break;
		case 'Q':
			(void)va_arg(ap, uint64_t);
			break;
		case 'd':
			(void)va_arg(ap, double);
			break;
		case 's':
			if ((ptr = va_arg(ap, const char *)) == NULL) {
				return TR_EINVAL;
			}
			len = strlen(ptr);
			break;
		case 'S':
			ptr = va_arg(ap, const char *);
			len = va_arg(ap, size_t);
			if (ptr == NULL && len != 0) {
				return TR_EINVAL;
			}
			break;
		case 'b':
			ptr = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			if (ptr == NULL && len != 0) {
				return TR_EINVAL;
			}
			break;
		case 'r':
			(void)va_arg(ap, tr_ref);
			break;
		case 'n':
			break;
		case 'm':
			if (va_arg(ap, const msgpack_object *) == NULL) {
				return TR_EINVAL;
			}
			break;
		default:
			return TR_EINVAL;
		}
		if (len > TR_MSG_MAX || (payload += len) > TR_MSG_MAX) {
			return TR_EMSGSIZE;
		}
	}
	return TR_OK;
}

/* A str or bin header and its bytes (none written for an empty one:
 * memcpy must not see a NULL pointer, even for 0 bytes). */
static int
pack_bytes(msgpack_packer *pk, bool str, const void *p, size_t len)
{
	if (str ? msgpack_pack_str(pk, len) : msgpack_pack_bin(pk, len)) {
		return -1;
	}
	if (len == 0) {
		return 0;
	}
	return str ? msgpack_pack_str_body(pk, p, len) :
	             msgpack_pack_bin_body(pk, p, len);
}

/* Packs [values...]; the arguments were checked by args_check(). */
static int
pack(msgpack_packer *pk, const char *pic, size_t n, va_list ap)
{
	int e = msgpack_pack_array(pk, n);

	for (const char *p = pic; *p != '\0' && e == 0; p++) {
		const char *s;
		const void *b;
		size_t len;

		switch (*p) {
		case 'i':
			e = msgpack_pack_int(pk, va_arg(ap, int));
			break;
		case 'u':
			e = msgpack_pack_unsigned_int(pk, va_arg(ap, unsigned));
			break;
		case 'q':
			e = msgpack_pack_int64(pk, va_arg(ap, int64_t));
			break;
		case 'Q':
			e = msgpack_pack_uint64(pk, va_arg(ap, uint64_t));
			break;
		case 'd':
			e = msgpack_pack_double(pk, va_arg(ap, double));
			break;
		case '?':
			e = va_arg(ap, int) ? msgpack_pack_true(pk) :
			                      msgpack_pack_false(pk);
			break;
		case 's':
			s = va_arg(ap, const char *);
			e = pack_bytes(pk, true, s, strlen(s));
			break;
		case 'S':
			s = va_arg(ap, const char *);
			len = va_arg(ap, size_t);
			e = pack_bytes(pk, true, s, len);
			break;
		case 'b':
			b = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			e = pack_bytes(pk, false, b, len);
			break;
		case 'r':
			e = tr_pack_ref(pk, va_arg(ap, tr_ref)) != TR_OK;
			break;
		case 'n':
			e = msgpack_pack_nil(pk);
			break;
		case 'm':
			e = msgpack_pack_object(
			    pk, *va_arg(ap, const msgpack_object *));
			break;
		}
	}
	/* The packer's writer fails only for memory, or past TR_MSG_MAX
	 * (an 'm' object, whose size args_check does not know). */
	return e == 0 ? TR_OK : TR_ENOMEM;
}

int
tr_msg_vnewf(tr_msg **out, uint32_t tag, const char *pic, va_list ap)
{
	tr_msg *m;
	va_list aq;
	size_t n;
	int rv;

	if (out != NULL) {
		*out = NULL;
	}
	if (out == NULL || tri_picture_len(pic, &n) != TR_OK) {
		return TR_EINVAL;
	}
	va_copy(aq, ap);
	rv = args_check(pic, aq);
	va_end(aq);
	if (rv != TR_OK) {
		return rv;
	}
	if ((rv = tr_msg_new(&m, tag)) != TR_OK) {
		return rv;
	}
	va_copy(aq, ap);
	rv = pack(tr_msg_packer(m), pic, n, aq);
	va_end(aq);
	if (rv != TR_OK) {
		tr_msg_free(m);
		return rv;
	}
	*out = m;
	return TR_OK;
}

int
tr_msg_newf(tr_msg **out, uint32_t tag, const char *pic, ...)
{
	va_list ap;
	int rv;

	va_start(ap, pic);
	rv = tr_msg_vnewf(out, tag, pic, ap);
	va_end(ap);
	return rv;
}

/* ------------------------------------------------------------------ */
/* Sending and receiving in one line                                   */

int
tr_sendf(tr_ref to, uint32_t tag, const char *pic, ...)
{
	tr_msg *m;
	va_list ap;
	int rv;

	va_start(ap, pic);
	rv = tr_msg_vnewf(&m, tag, pic, ap);
	va_end(ap);
	if (rv != TR_OK) {
		return rv;
	}
	if ((rv = tr_send(to, m)) != TR_OK) {
		tr_msg_free(m);
	}
	return rv;
}

int
tr_callf(tr_ref to, uint32_t tag, int timeout_ms, tr_msg **reply,
    const char *pic, ...)
{
	tr_msg *m;
	va_list ap;
	bool sent = false;
	int rv;

	va_start(ap, pic);
	rv = tr_msg_vnewf(&m, tag, pic, ap);
	va_end(ap);
	if (rv != TR_OK) {
		return rv;
	}
	rv = tr_call(to, m, timeout_ms, reply, &sent);
	if (!sent) {
		tr_msg_free(m);
	}
	return rv;
}

int
tr_replyf(tr_from from, uint32_t tag, const char *pic, ...)
{
	tr_msg *m;
	va_list ap;
	int rv;

	va_start(ap, pic);
	rv = tr_msg_vnewf(&m, tag, pic, ap);
	va_end(ap);
	if (rv != TR_OK) {
		return rv;
	}
	if ((rv = tr_reply(from, m)) != TR_OK) {
		tr_msg_free(m);
	}
	return rv;
}

int
tr_recvf(tr_msg **out, uint32_t *tag, int timeout_ms, const char *pic, ...)
{
	tr_msg *m;
	va_list ap;
	size_t n;
	int rv;

	if (out != NULL) {
		*out = NULL;
	}
	if (tri_picture_len(pic, &n) != TR_OK ||
	    (out == NULL && strpbrk(pic, "sSbm") != NULL)) {
		return TR_EINVAL;
	}
	if ((rv = tr_recv(&m, timeout_ms)) != TR_OK) {
		return rv;
	}
	if (tag != NULL) {
		*tag = tr_msg_tag(m);
	}
	va_start(ap, pic);
	rv = tr_msg_vunpackf(m, pic, ap);
	va_end(ap);
	if (out != NULL) {
		*out = m;
	} else {
		tr_msg_free(m);
	}
	return rv;
}
