/*
 * file: a small text file read whole (certificates, keys). No state.
 */
#ifndef NORIKV_FILE_H
#define NORIKV_FILE_H

#include <stddef.h>

/* The file at path, NUL-terminated, at most max bytes; the caller frees it. NULL with err
 * saying why (it cannot be opened or read, or it is larger). */
char *file_read_all(const char *path, size_t max, char *err, size_t errlen);

#endif
