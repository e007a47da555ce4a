/*
 * spawn.h -- private to bench/savina/: the spawn figure (spawn.c).
 * Not API.
 */
#ifndef SAVINA_SPAWN_H
#define SAVINA_SPAWN_H

#include <stdint.h>

typedef struct sv_spawn_cfg {
	uint64_t actors; /* how many to spawn */
	uint64_t cap;    /* stop there (0: no cap) */
	double budget_s; /* stop after so long */
} sv_spawn_cfg;

void sv_spawn_register(void);

/* Prints the figure's JSON line; 0 if at least one actor started, 3 if
 * the placement asked for is not in this build, else 1. */
int sv_spawn_figure(const sv_spawn_cfg *cfg, const char *placement);

#endif
