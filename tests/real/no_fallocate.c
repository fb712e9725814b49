/*
 * no_fallocate: preloaded into norikv-server by the real-server harness (make check-real)
 * so that fallocate(2) answers EOPNOTSUPP. The server preallocates two 128 MiB write-ahead
 * logs for every shard a request touches (256 MiB of disk a shard, 256 GiB for all 1024);
 * when fallocate fails it falls back to setting the file's length, which leaves the files
 * sparse. Nothing else the server does changes: its writes, fsyncs and reads are its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>

int fallocate(int fd, int mode, off_t offset, off_t len);
int fallocate64(int fd, int mode, off_t offset, off_t len);
int posix_fallocate(int fd, off_t offset, off_t len);

int fallocate(int fd, int mode, off_t offset, off_t len)
{
    (void)fd, (void)mode, (void)offset, (void)len;
    errno = EOPNOTSUPP;
    return -1;
}

int fallocate64(int fd, int mode, off_t offset, off_t len)
{
    return fallocate(fd, mode, offset, len);
}

int posix_fallocate(int fd, off_t offset, off_t len)
{
    (void)fd, (void)offset, (void)len;
    return EOPNOTSUPP;
}
