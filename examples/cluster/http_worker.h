/* http_worker.h -- the cluster example's HTTP behavior (http_worker.c). */
#ifndef CLUSTER_HTTP_WORKER_H
#define CLUSTER_HTTP_WORKER_H

/* The behavior's registered name, as cluster.yaml names it. */
#define CLUSTER_HTTP_BEHAVIOR "cluster.http"

/* Registers "cluster.http": TR_OK, or TR_EEXIST if it already is. */
int cluster_http_register(void);

#endif
