/*
 * plugin.c -- distributed.so, the plugin that `troupe run` loads (the
 * tree files' `plugins:`) to know the coordinator and the prime-job
 * worker behaviors, on every node.
 *
 * It is built without libtroupe: its troupe calls bind to the troupe of
 * the program that loads it (docs/config.md, "Plugins").
 */
#include <troupe.h>

void distributed_register(void);
void troupe_plugin_init(void);

void
troupe_plugin_init(void)
{
	distributed_register(); /* TR_EEXIST if loaded twice: fine */
}
