#ifndef WAYMARK_CSYSTEMSHIMS_SHIM_H
#define WAYMARK_CSYSTEMSHIMS_SHIM_H

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#include <sys/syscall.h>
#endif

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

/// Lowers the scheduling priority of the calling thread alone. `niceness` is 0 to 19; with
/// `idle` set, Linux schedules the thread only when a core would otherwise be idle
/// (SCHED_IDLE). On Darwin both map to the background band of the thread. Returns 0, or -1
/// with errno set.
static inline int waymark_lower_thread_priority(int niceness, int idle) {
#if defined(__linux__)
  // With PRIO_PROCESS and a thread id, Linux changes that thread only.
  pid_t thread = (pid_t)syscall(SYS_gettid);
  if (setpriority(PRIO_PROCESS, (id_t)thread, niceness) != 0) return -1;
  if (idle) {
    struct sched_param parameters = {0};
    // SCHED_IDLE is 5 in Linux's uapi sched.h; glibc defines it only with _GNU_SOURCE.
    return sched_setscheduler(thread, 5, &parameters);
  }
  return 0;
#elif defined(__APPLE__)
  // NOTE: untested, because this branch has never been compiled on Darwin.
  (void)niceness;
  (void)idle;
  return setpriority(PRIO_DARWIN_THREAD, 0, PRIO_DARWIN_BG);
#else
  (void)niceness;
  (void)idle;
  errno = ENOSYS;
  return -1;
#endif
}

#endif
