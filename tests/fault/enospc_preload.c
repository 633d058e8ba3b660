// A full disk for the tests (tests/full_disk_test.cc), loaded into `fo` with
// LD_PRELOAD. It wraps the calls through which SQLite (Debian's libsqlite3
// imports pwrite64 and write) and fo's own files (pwrite) take disk space,
// and counts the bytes they write to files under $FO_TEST_ENOSPC_DIR. Once
// $FO_TEST_ENOSPC_AFTER_BYTES bytes are written there, a write gets what is
// left (a short write) and every later one -1 with errno ENOSPC, as a full
// file system behaves; fallocate and posix_fallocate fail whole. Without a
// budget it only counts. With $FO_TEST_ENOSPC_TRACE it appends
// "<bytes written before> <path>" to that file each time the file written
// changes, and "<total> end" at exit: where each write went, so that a test
// can aim a budget at SQLite's WAL, its main file or an index column.
//
// Not covered, because none of them takes space that a full disk would
// refuse here: writes through a writable mmap (fo maps its files read-only;
// SQLite grows its -shm file with a write before mapping it), ftruncate
// growth (sparse), and stdio's buffered writes (glibc calls its own write
// internally; fo writes no file under the store with stdio).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void*, size_t);
static ssize_t (*real_pwrite)(int, const void*, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void*, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec*, int);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_fallocate64)(int, int, off64_t, off64_t);
static int (*real_posix_fallocate)(int, off_t, off_t);
static int (*real_posix_fallocate64)(int, off64_t, off64_t);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static char prefix[PATH_MAX];  // "<dir>/", empty: count nothing
static int limited;            // a budget was given
static uint64_t budget, used;
static int trace_fd = -1;
static char last_path[PATH_MAX];

static void Init(void) {
  real_write = dlsym(RTLD_NEXT, "write");
  real_pwrite = dlsym(RTLD_NEXT, "pwrite");
  real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
  real_writev = dlsym(RTLD_NEXT, "writev");
  real_fallocate = dlsym(RTLD_NEXT, "fallocate");
  real_fallocate64 = dlsym(RTLD_NEXT, "fallocate64");
  real_posix_fallocate = dlsym(RTLD_NEXT, "posix_fallocate");
  real_posix_fallocate64 = dlsym(RTLD_NEXT, "posix_fallocate64");
  const char* dir = getenv("FO_TEST_ENOSPC_DIR");
  if (dir != NULL && *dir != '\0') snprintf(prefix, sizeof(prefix), "%s/", dir);
  const char* after = getenv("FO_TEST_ENOSPC_AFTER_BYTES");
  if (after != NULL && *after != '\0') {
    limited = 1;
    budget = strtoull(after, NULL, 10);
  }
  const char* trace = getenv("FO_TEST_ENOSPC_TRACE");
  if (trace != NULL && *trace != '\0') trace_fd = open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static void TraceLine(uint64_t bytes, const char* what) {
  char line[PATH_MAX + 32];
  int n = snprintf(line, sizeof(line), "%llu %s\n", (unsigned long long)bytes, what);
  if (n > 0 && trace_fd >= 0) real_write(trace_fd, line, (size_t)n);
}

__attribute__((destructor)) static void Finish(void) {
  pthread_once(&once, Init);
  pthread_mutex_lock(&mutex);
  TraceLine(used, "end");
  pthread_mutex_unlock(&mutex);
}

// True if fd is a file under the prefix; its path goes to `path`.
static int Counted(int fd, char* path) {
  pthread_once(&once, Init);
  if (prefix[0] == '\0') return 0;
  char link[64];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, PATH_MAX - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  return strncmp(path, prefix, strlen(prefix)) == 0;
}

// With the mutex held: how many of `want` bytes may be written now.
static size_t Allowed(size_t want) {
  if (!limited) return want;
  uint64_t left = used < budget ? budget - used : 0;
  return want < left ? want : (size_t)left;
}

// With the mutex held: `n` bytes were written to `path`.
static void Account(ssize_t n, const char* path) {
  if (n <= 0) return;
  if (strcmp(path, last_path) != 0) {
    TraceLine(used, path);
    snprintf(last_path, sizeof(last_path), "%s", path);
  }
  used += (uint64_t)n;
}

// The body of each write wrapper: `call` writes `len` bytes.
#define COUNTED_WRITE(fd, count, call_with_len)              \
  do {                                                       \
    char path[PATH_MAX];                                     \
    if (!Counted(fd, path) || (count) == 0) {                \
      size_t len = (count);                                  \
      return call_with_len;                                  \
    }                                                        \
    pthread_mutex_lock(&mutex);                              \
    size_t len = Allowed(count);                             \
    if (len == 0) {                                          \
      pthread_mutex_unlock(&mutex);                          \
      errno = ENOSPC;                                        \
      return -1;                                             \
    }                                                        \
    ssize_t n = call_with_len;                               \
    int saved = errno;                                       \
    Account(n, path);                                        \
    pthread_mutex_unlock(&mutex);                            \
    errno = saved;                                           \
    return n;                                                \
  } while (0)

ssize_t write(int fd, const void* buf, size_t count) { COUNTED_WRITE(fd, count, real_write(fd, buf, len)); }

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  COUNTED_WRITE(fd, count, real_pwrite(fd, buf, len, offset));
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  COUNTED_WRITE(fd, count, real_pwrite64(fd, buf, len, offset));
}

// The first iovcnt buffers cut to `len` bytes in all, into `out`; returns
// how many buffers that is.
static int CutIov(const struct iovec* iov, int iovcnt, size_t len, struct iovec* out) {
  int k = 0;
  for (int i = 0; i < iovcnt && i < IOV_MAX && len > 0; ++i, ++k) {
    out[k] = iov[i];
    if (out[k].iov_len > len) out[k].iov_len = len;
    len -= out[k].iov_len;
  }
  return k;
}

static size_t IovBytes(const struct iovec* iov, int iovcnt) {
  size_t total = 0;
  for (int i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
  return total;
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  struct iovec cut[IOV_MAX];
  COUNTED_WRITE(fd, IovBytes(iov, iovcnt),
                len == IovBytes(iov, iovcnt) ? real_writev(fd, iov, iovcnt) : real_writev(fd, cut, CutIov(iov, iovcnt, len, cut)));
}

// Space reserved by fallocate is refused whole when the budget cannot hold
// it, and counted when it can (a sparse file's holes take nothing until
// written, so this overcounts at worst). Returns 0 or an errno.
static int Reserve(int fd, off64_t len) {
  char path[PATH_MAX];
  if (len <= 0 || !Counted(fd, path)) return 0;
  pthread_mutex_lock(&mutex);
  int err = Allowed((size_t)len) < (size_t)len ? ENOSPC : 0;
  if (err == 0) Account((ssize_t)len, path);
  pthread_mutex_unlock(&mutex);
  return err;
}

// fallocate's check: 0, or -1 with errno ENOSPC. Punching a hole takes no space.
static int MayAllocate(int fd, int mode, off64_t len) {
  int err = (mode & FALLOC_FL_PUNCH_HOLE) ? 0 : Reserve(fd, len);
  if (err == 0) return 0;
  errno = err;
  return -1;
}

int fallocate(int fd, int mode, off_t offset, off_t len) {
  return MayAllocate(fd, mode, len) != 0 ? -1 : real_fallocate(fd, mode, offset, len);
}

int fallocate64(int fd, int mode, off64_t offset, off64_t len) {
  return MayAllocate(fd, mode, len) != 0 ? -1 : real_fallocate64(fd, mode, offset, len);
}

int posix_fallocate(int fd, off_t offset, off_t len) {
  int err = Reserve(fd, len);
  return err != 0 ? err : real_posix_fallocate(fd, offset, len);
}

int posix_fallocate64(int fd, off64_t offset, off64_t len) {
  int err = Reserve(fd, len);
  return err != 0 ? err : real_posix_fallocate64(fd, offset, len);
}
