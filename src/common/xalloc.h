/*
 * xalloc: allocation that never returns NULL. Running out of memory is not a condition
 * the programs can answer well mid-request, so, as Redis does, they log it and abort;
 * no caller checks for NULL. Libraries' own allocators (libevent, gRPC) are not wrapped.
 */
#ifndef NORIKV_XALLOC_H
#define NORIKV_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
/* A copy of len bytes plus a terminating NUL. */
char *xmemdup0(const void *p, size_t len);

#endif
