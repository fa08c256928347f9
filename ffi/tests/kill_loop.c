/*
 * Kill-loop helper: a producer that is killed with SIGKILL at a random
 * point, and the next start that recovers what it left behind.
 *
 *   kill_loop produce RING_DIR OUT_FILE SIDE_FILE
 *       Logs records forever (until killed) into a file sink. Record k
 *       (logger "kill", message "rec") has fields i = k (u64) and
 *       s = k % 61 copies of 'a' + k % 26 followed by "|<k>" (so a torn or
 *       mixed-up record cannot pass for a whole one). After each
 *       ringlog_log that returned RINGLOG_OK it stores the number of such
 *       returns (a u64 in native byte order) at offset 0 of SIDE_FILE. A
 *       child logger with a bound field and a small ring (64 KiB) make
 *       wrap-around and metadata entries part of every run.
 *   kill_loop start RING_DIR OUT_FILE
 *       Starts ringlog on the same ring directory with a file sink (which
 *       recovers the dead instances first), then shuts down.
 *
 * kill_loop.py drives it and checks the outputs.
 */
#define _POSIX_C_SOURCE 200809L
#include <ringlog.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int start(const char *ring_dir, const char *out) {
  char cfg[4096];
  int n = snprintf(cfg, sizeof cfg,
                   "{\"ring_dir\": \"%s\", \"ring_capacity\": 65536, \"full_policy\": \"block\","
                   " \"block_timeout_ms\": 10000,"
                   " \"sinks\": {\"file\": {\"type\": \"file\", \"path\": \"%s\"}}}",
                   ring_dir, out);
  if (n <= 0 || (size_t)n >= sizeof cfg) {
    fprintf(stderr, "kill_loop: paths too long\n");
    return 1;
  }
  if (ringlog_init(cfg, (size_t)n) != RINGLOG_OK) {
    fprintf(stderr, "kill_loop: init: %s\n", ringlog_last_error());
    return 1;
  }
  return 0;
}

static int produce(const char *ring_dir, const char *out, const char *side) {
  int fd = open(side, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    perror("kill_loop: side file");
    return 1;
  }
  if (start(ring_dir, out)) return 1;
  ringlog_logger *root = NULL, *log = NULL;
  if (ringlog_logger_get("kill", 4, &root) != RINGLOG_OK) return 1;
  ringlog_field bound = {"run", 3, RINGLOG_FIELD_STR, {.str = {"loop", 4}}};
  if (ringlog_logger_with(root, &bound, 1, &log) != RINGLOG_OK) {
    fprintf(stderr, "kill_loop: child: %s\n", ringlog_last_error());
    return 1;
  }
  char s[128];
  for (uint64_t k = 0;; k++) {
    int len = (int)(k % 61);
    memset(s, 'a' + (int)(k % 26), (size_t)len);
    len += snprintf(s + len, sizeof s - (size_t)len, "|%llu", (unsigned long long)k);
    ringlog_field f[2] = {
        {"i", 1, RINGLOG_FIELD_U64, {.u64 = k}},
        {"s", 1, RINGLOG_FIELD_STR, {.str = {s, (size_t)len}}},
    };
    ringlog_result rc;
    /* A record that was refused is retried with the same k, so the k of
       the successful returns are exactly 0..N-1. */
    while ((rc = ringlog_log(log, RINGLOG_LEVEL_INFO, "rec", 3, f, 2)) != RINGLOG_OK) {
      if (rc != RINGLOG_E_FULL) {
        fprintf(stderr, "kill_loop: log: %s\n", ringlog_last_error());
        return 1;
      }
    }
    uint64_t done = k + 1;
    if (pwrite(fd, &done, sizeof done, 0) != (ssize_t)sizeof done) {
      perror("kill_loop: pwrite");
      return 1;
    }
  }
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "produce") == 0) return produce(argv[2], argv[3], argv[4]);
  if (argc == 4 && strcmp(argv[1], "start") == 0) {
    if (start(argv[2], argv[3])) return 1;
    ringlog_stats st;
    if (ringlog_stats_get(&st) != RINGLOG_OK) return 1;
    if (ringlog_shutdown() != RINGLOG_OK) {
      fprintf(stderr, "kill_loop: shutdown: %s\n", ringlog_last_error());
      return 1;
    }
    printf("recovered=%llu instances=%llu bad_frames=%llu bad_files=%llu\n",
           (unsigned long long)st.recovered, (unsigned long long)st.recovered_instances,
           (unsigned long long)st.recovery_bad_frames, (unsigned long long)st.recovery_bad_files);
    return 0;
  }
  fprintf(stderr,
          "usage: kill_loop produce RING_DIR OUT_FILE SIDE_FILE\n"
          "       kill_loop start RING_DIR OUT_FILE\n");
  return 2;
}
