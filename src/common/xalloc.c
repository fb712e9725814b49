/*
 * xalloc: malloc and friends that abort with a message when the system has no memory
 * left. A zero-byte request gets a real, freeable block.
 */
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
    fprintf(stderr, "out of memory allocating %zu bytes: aborting\n", size);
    fflush(stderr);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        out_of_memory(n * size);
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (p == NULL)
        out_of_memory(size);
    return p;
}

char *xstrdup(const char *s)
{
    return xmemdup0(s, strlen(s));
}

char *xmemdup0(const void *p, size_t len)
{
    char *d = xmalloc(len + 1);

    if (len > 0)
        memcpy(d, p, len);
    d[len] = '\0';
    return d;
}
