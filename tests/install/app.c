/*
 * app.c -- a user of the installed troupe: built by check.sh against
 * the copy `meson install` put into a scratch DESTDIR, with nothing but
 * `pkg-config troupe` to find it.  Only <troupe.h>, only API.
 */
#include <stdio.h>
#include <string.h>

#include <troupe.h>

int
main(void)
{
	const char *s = tr_strerror(TR_ENOPROC);

	if (s == NULL || s[0] == '\0') {
		fprintf(stderr, "tr_strerror(TR_ENOPROC) gave no text\n");
		return 1;
	}
	if (!tr_ref_is_nil(TR_REF_NIL)) {
		fprintf(stderr, "tr_ref_is_nil(TR_REF_NIL) is false\n");
		return 1;
	}
	printf("troupe %d.%d.%d: %s\n", TR_VERSION_MAJOR, TR_VERSION_MINOR,
	    TR_VERSION_PATCH, s);
	printf("OK\n");
	return 0;
}
