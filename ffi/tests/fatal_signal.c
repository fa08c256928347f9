/*
 * Fatal-signal handler test program, run by fatal_signal.py.
 *
 *   fatal_signal MODE RING_DIR OUT_FILE [MARKER_FILE]
 *
 * Every crashing mode starts ringlog with RING_DIR and one file sink
 * (OUT_FILE, JSON), logs 1000 records "record" from logger "test" with
 * field "i" = 0..999, and then dies:
 *
 *   raise     crash_handler in the configuration; raise(SIGSEGV)
 *   abort     ringlog_install_crash_handler() after ringlog_init; abort()
 *   null      crash_handler in the configuration; a real NULL store
 *   chain     a SIGSEGV handler of the program's own (it writes "chained\n"
 *             to MARKER_FILE with write(2) and returns) is installed first,
 *             then ringlog_install_crash_handler() before ringlog_init;
 *             a NULL store
 *   threads   two threads log 500 records each and then store through NULL
 *             at the same moment (a barrier)
 *   overflow  unbounded recursion on the main thread (the thread that
 *             installed the handler, so it has an alternate signal stack)
 *   hang      the program's own SIGSEGV handler never returns (pause()
 *             forever); ringlog's watchdog must end the process
 *   stuck     a second sink, "a_pipe" (stdout, written before "file"), is a
 *             pipe nobody reads: the flusher blocks on it, the handler's
 *             drain times out and the records are left for recovery
 *   recover   no crash: start with the same RING_DIR and file sink (which
 *             recovers the dead instance), flush, shut down, exit 0
 *
 * Diagnostics go to stderr (stdout may be the pipe of "stuck").
 */
#define _GNU_SOURCE
#include <ringlog.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORDS 1000

static const char *g_marker;

static void die(const char *what) {
  fprintf(stderr, "fatal_signal: %s: %s\n", what, ringlog_last_error());
  exit(2);
}

static void check(ringlog_result rc, const char *what) {
  if (rc != RINGLOG_OK) die(what);
}

static void start(const char *ring_dir, const char *out, int crash_key, int pipe_sink) {
  char cfg[4096];
  int n = snprintf(cfg, sizeof cfg,
                   "{\"ring_dir\": \"%s\", \"level\": \"trace\", %s"
                   "\"sinks\": {%s\"file\": {\"type\": \"file\", \"path\": \"%s\"}}}",
                   ring_dir, crash_key ? "\"crash_handler\": true, " : "",
                   pipe_sink ? "\"a_pipe\": {\"type\": \"stdout\"}, " : "", out);
  if (n <= 0 || (size_t)n >= sizeof cfg) die("configuration too long");
  check(ringlog_init(cfg, (size_t)n), "ringlog_init");
}

static ringlog_logger *logger(void) {
  ringlog_logger *log;
  check(ringlog_logger_get("test", 4, &log), "ringlog_logger_get");
  return log;
}

static void log_range(ringlog_logger *log, uint64_t from, uint64_t to) {
  for (uint64_t i = from; i < to; i++) {
    ringlog_field f[] = {RINGLOG_U64("i", i)};
    check(ringlog_log(log, RINGLOG_LEVEL_INFO, "record", 6, f, 1), "ringlog_log");
  }
}

/* Read through a volatile pointer object, so the compiler cannot see the
 * NULL and turn the store into a trap instruction (SIGILL). */
static int *volatile g_null = NULL;

static void store_null(void) { *g_null = 1; }

static int overflow(volatile int depth) {
  volatile char pad[1024];
  pad[0] = (char)depth;
  if (depth == -1) return 0; /* never: keeps the recursion finite for the compiler */
  return overflow(depth + 1) + pad[0];
}

static void marker_handler(int sig, siginfo_t *info, void *uctx) {
  (void)sig;
  (void)info;
  (void)uctx;
  int fd = open(g_marker, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd >= 0) {
    static const char m[] = "chained\n";
    ssize_t w = write(fd, m, sizeof m - 1);
    (void)w;
    close(fd);
  }
}

static void hang_handler(int sig) {
  (void)sig;
  for (;;) pause();
}

static pthread_barrier_t g_barrier;

static void *fault_thread(void *arg) {
  uint64_t t = (uint64_t)(uintptr_t)arg;
  ringlog_logger *log = logger();
  log_range(log, t * (RECORDS / 2), (t + 1) * (RECORDS / 2));
  pthread_barrier_wait(&g_barrier);
  store_null();
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: fatal_signal MODE RING_DIR OUT_FILE [MARKER_FILE]\n");
    return 2;
  }
  const char *mode = argv[1], *ring_dir = argv[2], *out = argv[3];
  g_marker = argc > 4 ? argv[4] : NULL;

  if (strcmp(mode, "recover") == 0) {
    start(ring_dir, out, 0, 0);
    check(ringlog_flush(10000), "ringlog_flush");
    check(ringlog_shutdown(), "ringlog_shutdown");
    return 0;
  }

  if (strcmp(mode, "chain") == 0 || strcmp(mode, "hang") == 0) {
    if (strcmp(mode, "chain") == 0 && !g_marker) {
      fprintf(stderr, "chain needs MARKER_FILE\n");
      return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (strcmp(mode, "chain") == 0) {
      sa.sa_sigaction = marker_handler;
      sa.sa_flags = SA_SIGINFO;
    } else {
      sa.sa_handler = hang_handler;
    }
    if (sigaction(SIGSEGV, &sa, NULL) != 0) {
      perror("sigaction");
      return 2;
    }
  }

  if (strcmp(mode, "chain") == 0) {
    /* Before ringlog_init: the runtime is attached when it starts. */
    check(ringlog_install_crash_handler(), "ringlog_install_crash_handler");
    start(ring_dir, out, 0, 0);
  } else if (strcmp(mode, "abort") == 0) {
    start(ring_dir, out, 0, 0);
    check(ringlog_install_crash_handler(), "ringlog_install_crash_handler");
  } else {
    start(ring_dir, out, 1, strcmp(mode, "stuck") == 0);
  }

  if (strcmp(mode, "threads") == 0) {
    pthread_t th[2];
    pthread_barrier_init(&g_barrier, NULL, 2);
    for (uintptr_t t = 0; t < 2; t++)
      if (pthread_create(&th[t], NULL, fault_thread, (void *)t) != 0) die("pthread_create");
    for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
    fprintf(stderr, "fatal_signal: threads survived their faults\n");
    return 3;
  }

  ringlog_logger *log = logger();
  log_range(log, 0, RECORDS);

  if (strcmp(mode, "raise") == 0) {
    raise(SIGSEGV);
  } else if (strcmp(mode, "abort") == 0) {
    abort();
  } else if (strcmp(mode, "null") == 0 || strcmp(mode, "chain") == 0 ||
             strcmp(mode, "hang") == 0) {
    store_null();
  } else if (strcmp(mode, "overflow") == 0) {
    return overflow(0);
  } else if (strcmp(mode, "stuck") == 0) {
    /* Let the flusher fill the pipe and block on it. */
    usleep(300 * 1000);
    store_null();
  } else {
    fprintf(stderr, "fatal_signal: unknown mode %s\n", mode);
    return 2;
  }
  fprintf(stderr, "fatal_signal: %s: still alive after the crash\n", mode);
  return 3;
}
