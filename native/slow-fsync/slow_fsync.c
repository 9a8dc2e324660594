/*
 * Slow storage for the benchmarks (docs/benchmarks.md "bench:api", issue of the journal's fsync on a
 * kiosk's eMMC or SD card): loaded with LD_PRELOAD, fsync(2) and fdatasync(2) do their work and
 * then sleep SLOW_FSYNC_MS milliseconds (default 20) — the time such storage takes to make a
 * write durable — so that SQLite's commits (better-sqlite3 calls fdatasync through libc) cost
 * what they cost there, on any machine, without special hardware or privileges.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

static void slow(void) {
  const char *v = getenv("SLOW_FSYNC_MS");
  long ms = v == NULL ? 20 : strtol(v, NULL, 10);
  if (ms <= 0) return;
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  int saved = errno;
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
  errno = saved;
}

int fsync(int fd) {
  static int (*real)(int) = NULL;
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  int r = real(fd);
  slow();
  return r;
}

int fdatasync(int fd) {
  static int (*real)(int) = NULL;
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  int r = real(fd);
  slow();
  return r;
}
