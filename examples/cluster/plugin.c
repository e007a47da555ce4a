/*
 * plugin.c -- cluster_http.so, the plugin that `troupe run` loads (see
 * cluster.yaml's `plugins:`) to know the "cluster.http" behavior.
 *
 * It is built without libtroupe: its troupe calls bind to the troupe of
 * the program that loads it (docs/config.md, "Plugins").
 */
#include <troupe.h>

#include "http_worker.h"

void troupe_plugin_init(void);

void
troupe_plugin_init(void)
{
	/* TR_EEXIST if loaded twice, or by a program that has it: fine. */
	(void)cluster_http_register();
}
