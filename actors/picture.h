/*
 * picture.h -- private to actors/picture.c and actors/picture_read.c:
 * what packing and reading a picture share.  Not API.
 */
#ifndef TRI_PICTURE_H
#define TRI_PICTURE_H

#include <stddef.h>

/* Nesting that an 'm' value may have: the frame decoder's limit, so
 * that what the reader skips, msgpack-c also unpacks. */
#define TRI_PIC_MAX_DEPTH 31

/* Counts the letters of a picture (*n); TR_EINVAL for NULL or an
 * unknown letter. */
int tri_picture_len(const char *pic, size_t *n);

#endif
