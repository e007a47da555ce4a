/*
 * cli_status.h -- private to troupe: the troupe command's output of a
 * status reply.  Not API.
 */
#ifndef TRS_CLI_STATUS_H
#define TRS_CLI_STATUS_H

#include <stdbool.h>

#include <msgpack.h>

/* Prints tree's status reply -- an array of 3 (a tree in no cluster) or
 * 4 elements, checked by the caller -- to stdout, as a table or JSON.
 * Hidden: the troupe command exports troupe's API to its plugins, and
 * nothing else (tests/exports.sh). */
#if defined(__GNUC__)
__attribute__((visibility("hidden")))
#endif
void
trs_status_print(const char *tree, const msgpack_object *reply, bool json);

#endif
