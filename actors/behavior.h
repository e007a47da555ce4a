/*
 * behavior.h -- private to troupe: registered behaviors (behavior.c).  Not API.
 */
#ifndef TRI_BEHAVIOR_H
#define TRI_BEHAVIOR_H

#include <stddef.h>

#include "troupe.h"

/* Behaviors (behavior.c)                                              */

typedef struct tri_behavior {
	char name[TR_NAME_MAX + 1];
	size_t state_size;
	int (*init)(void *, tr_msg *);
	int (*handle)(void *, tr_msg *);
	void (*terminate)(void *, tr_reason);
} tri_behavior;

const tri_behavior *tri_behavior_find(const char *name);
void tri_behavior_clear(void);

#endif
