/*
 * behaviors.c -- registers every test behavior (see behaviors.h).
 * One line per behaviors_<name>.c file.
 */
#include "behaviors.h"

void
test_behaviors_register(void)
{
	test_behaviors_msg_register();
	test_behaviors_life_register();
	test_behaviors_proc_register();
	test_behaviors_sup_register();
}
