#ifndef WAYMARK_CSYSTEMSHIMS_SHIM_H
#define WAYMARK_CSYSTEMSHIMS_SHIM_H

#if defined(__linux__)
// glibc declares sync_file_range only with _GNU_SOURCE, which the Swift Glibc module is not
// built with, so the prototype is repeated here. off64_t is a 64-bit signed integer.
extern int sync_file_range(int fd, long long offset, long long nbytes, unsigned int flags);
#endif

/// Asks the kernel to start writing back a byte range of a file without waiting for it, so a
/// later fsync has less left to do. Returns 0, or -1 with errno set; a no-op off Linux.
static inline int waymark_start_writeback(int fd, long long offset, long long count) {
#if defined(__linux__)
  return sync_file_range(fd, offset, count, 2 /* SYNC_FILE_RANGE_WRITE */);
#else
  (void)fd;
  (void)offset;
  (void)count;
  return 0;
#endif
}

#endif
