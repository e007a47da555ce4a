/*
 * behaviors_dist.h -- behaviors of the distribution tests.
 */
#ifndef TEST_BEHAVIORS_DIST_H
#define TEST_BEHAVIORS_DIST_H

#define TD_PING 0x100u
#define TD_PONG 0x101u
#define TD_COUNT 0x102u
#define TD_HOLD 0x103u
#define TD_GO 0x104u
#define TD_DIE 0x105u
#define TD_SEQ 0x106u

void test_behaviors_dist_register(void);

#endif
