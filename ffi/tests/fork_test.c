/*
 * fork() with ringlog running: the child gets a fresh instance and logs
 * into the same sinks; neither process writes the other's records, and
 * nothing hangs.
 *
 *   fork_test simple  RING_DIR OUT_FILE
 *       The parent logs 500 "before", forks; the child logs 500 "child"
 *       and exits through exit() (the atexit handler writes its records);
 *       the parent logs 500 "after", waits for the child and shuts down.
 *   fork_test threads RING_DIR OUT_FILE
 *       Three threads log 20000 records each ("w0".."w2") and two more
 *       read the stats in a loop (so the process-wide runtime's lock is
 *       often held or waited for) while the main thread forks five
 *       children, each of which logs 200 records ("child0".."child4")
 *       and exits.
 *
 * In every child the descriptors are checked: none may still refer to
 * the parent's instance lock (the parent's instance must look dead once
 * the parent dies, whatever the child does). Every record has fields
 * kind (str) and i (u64); fork_check.py checks the file. An alarm ends
 * a hung run.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <ringlog.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *g_ring_dir;

static void log_n(const char *logger, const char *kind, long n) {
  ringlog_logger *l = NULL;
  if (ringlog_logger_get(logger, strlen(logger), &l) != RINGLOG_OK) {
    fprintf(stderr, "fork_test: logger: %s\n", ringlog_last_error());
    exit(3);
  }
  for (long i = 0; i < n; i++) {
    ringlog_field f[2] = {
        {"kind", 4, RINGLOG_FIELD_STR, {.str = {kind, strlen(kind)}}},
        {"i", 1, RINGLOG_FIELD_U64, {.u64 = (uint64_t)i}},
    };
    ringlog_result rc = ringlog_log(l, RINGLOG_LEVEL_INFO, "rec", 3, f, 2);
    if (rc != RINGLOG_OK) {
      fprintf(stderr, "fork_test: %s %ld: %s\n", kind, i, ringlog_last_error());
      exit(4);
    }
  }
  ringlog_logger_free(l);
}

/* 0 if no descriptor of this process refers to a lock file of an
   instance of process `owner` under the ring directory. */
static int parent_lock_closed(pid_t owner) {
  char prefix[4200];
  snprintf(prefix, sizeof prefix, "%s/%d-", g_ring_dir, (int)owner);
  DIR *d = opendir("/proc/self/fd");
  if (!d) return 0;
  struct dirent *e;
  int bad = 0;
  while ((e = readdir(d)) != NULL) {
    char p[300], target[4200];
    snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(p, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = 0;
    size_t tl = strlen(target);
    if (strncmp(target, prefix, strlen(prefix)) == 0 && tl > 5 &&
        strcmp(target + tl - 5, "/lock") == 0) {
      fprintf(stderr, "fork_test: child still holds %s\n", target);
      bad = 1;
    }
  }
  closedir(d);
  return bad;
}

static void child(pid_t parent, const char *kind, long n) {
  if (parent_lock_closed(parent)) _exit(5);
  log_n("child", kind, n);
  exit(0); /* atexit: ringlog shuts the child's runtime down */
}

static int wait_child(pid_t pid) {
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return 1;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "fork_test: child %d ended with status %d\n", (int)pid, st);
    return 1;
  }
  return 0;
}

struct worker {
  int t;
};

static volatile int g_stop_stats;

/* Keeps the process-wide runtime's lock busy while the forks happen. */
static void *stats_loop(void *arg) {
  (void)arg;
  ringlog_stats st;
  while (!g_stop_stats) ringlog_stats_get(&st);
  return NULL;
}

static void *work(void *arg) {
  struct worker *w = arg;
  char kind[8];
  snprintf(kind, sizeof kind, "w%d", w->t);
  log_n("worker", kind, 20000);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: fork_test simple|threads RING_DIR OUT_FILE\n");
    return 2;
  }
  g_ring_dir = argv[2];
  alarm(120);
  char cfg[4096];
  int n = snprintf(cfg, sizeof cfg,
                   "{\"ring_dir\": \"%s\", \"full_policy\": \"block\", \"block_timeout_ms\": 10000,"
                   " \"sinks\": {\"file\": {\"type\": \"file\", \"path\": \"%s\"}}}",
                   argv[2], argv[3]);
  if (ringlog_init(cfg, (size_t)n) != RINGLOG_OK) {
    fprintf(stderr, "fork_test: init: %s\n", ringlog_last_error());
    return 1;
  }
  pid_t me = getpid();
  int failed = 0;
  if (strcmp(argv[1], "simple") == 0) {
    log_n("parent", "before", 500);
    pid_t pid = fork();
    if (pid == 0) child(me, "child", 500);
    log_n("parent", "after", 500);
    failed |= wait_child(pid);
  } else {
    pthread_t th[3], st[2];
    struct worker w[3];
    for (int t = 0; t < 3; t++) {
      w[t].t = t;
      pthread_create(&th[t], NULL, work, &w[t]);
    }
    for (int t = 0; t < 2; t++) pthread_create(&st[t], NULL, stats_loop, NULL);
    for (int k = 0; k < 5; k++) {
      usleep(2000);
      char kind[16];
      snprintf(kind, sizeof kind, "child%d", k);
      pid_t pid = fork();
      if (pid == 0) child(me, kind, 200);
      failed |= wait_child(pid);
    }
    for (int t = 0; t < 3; t++) pthread_join(th[t], NULL);
    g_stop_stats = 1;
    for (int t = 0; t < 2; t++) pthread_join(st[t], NULL);
  }
  if (ringlog_shutdown() != RINGLOG_OK) {
    fprintf(stderr, "fork_test: shutdown: %s\n", ringlog_last_error());
    return 1;
  }
  return failed;
}
