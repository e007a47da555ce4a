/*
 * exec_host.c -- the program that hosts the test behaviors when the
 * suite runs with TROUPE_PLACEMENT=exec: each actor the tests spawn is
 * this program, exec'd, joining the test's node.  It is also the
 * example of how short a troupe program is.
 */
#include <stdio.h>

#include <troupe.h>

#include "behaviors.h"

int
main(void)
{
	int rv;

	if ((rv = tr_init(NULL)) != TR_OK) {
		fprintf(stderr, "exec_host: tr_init: %s\n", tr_strerror(rv));
		return 1;
	}
	test_behaviors_register();
	if ((rv = tr_exec_main()) < 0) {
		fprintf(stderr, "exec_host: not started by troupe\n");
		tr_shutdown();
		return 2;
	}
	return rv;
}
