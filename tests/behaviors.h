/*
 * behaviors.h -- the behaviors of the tests, registered in one place so
 * that every test program, and later an exec'd host program, knows the
 * same ones.  Each group lives in its own file, behaviors_<name>.c.
 */
#ifndef TEST_BEHAVIORS_H
#define TEST_BEHAVIORS_H

/* Registers every test behavior; TR_EEXIST (already registered) is
 * ignored, so it may be called more than once. */
void test_behaviors_register(void);

/* One per file (behaviors_<name>.c). */
void test_behaviors_msg_register(void);
void test_behaviors_life_register(void);

#endif
