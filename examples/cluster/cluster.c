/*
 * cluster -- the cluster example as one program: registers the
 * "cluster.http" behavior and runs the tree of cluster.yaml, as
 * `troupe run examples/cluster/cluster.yaml` does.
 *
 *   build/examples/cluster/cluster [examples/cluster/cluster.yaml]
 *
 * It links libtroupe.so rather than the static library: the file names
 * the plugin too (for `troupe run`), and a plugin calls back into the
 * troupe of the program that loads it.  Loaded here, the plugin finds
 * the behavior registered already, which is fine.
 */
#include <stdio.h>

#include <troupe.h>

#include "http_worker.h"

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	(void)cluster_http_register();
	return tr_tree_main(
	    argc > 1 ? argv[1] : "examples/cluster/cluster.yaml");
}
