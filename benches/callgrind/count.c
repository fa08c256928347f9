/*
 * Instructions per call of the hot path, counted by callgrind: the common
 * record (message "request handled", user="alice", status, latency_ms=12.5)
 * logged through ringlog_log (keyed fields) and through ringlog_log_site
 * (a site registered once), in paced batches of 20 as benches/hot_path.rs
 * does, to a /dev/null file sink. It fails if a record was dropped. run.sh runs this under callgrind once per
 * call, collecting only inside that call, and divides by the calls made.
 *
 *   count site|keyed BATCHES
 */
#include "ringlog.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void pause_us(long us) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do clock_gettime(CLOCK_MONOTONIC, &t);
  while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < us * 1000L);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: count site|keyed BATCHES\n");
    return 2;
  }
  int site_mode = strcmp(argv[1], "site") == 0;
  long batches = atol(argv[2]);
  /* A ring that holds every record of a run, so that neither the drop nor
   * the blocking path is counted, however slowly the flusher runs under
   * callgrind. */
  const char *cfg = "{\"ring_capacity\": 67108864, \"full_policy\": \"drop\","
                    " \"sinks\": {\"null\": {\"type\": \"file\", \"path\": \"/dev/null\"}}}";
  if (ringlog_init(cfg, strlen(cfg)) != RINGLOG_OK) {
    fprintf(stderr, "count: init: %s\n", ringlog_last_error());
    return 1;
  }
  ringlog_logger *l = NULL;
  ringlog_logger_get("bench", 5, &l);
  static const ringlog_site_key keys[] = {
      {"user", 4, RINGLOG_FIELD_STR}, {"status", 6, RINGLOG_FIELD_I64}, {"latency_ms", 10, RINGLOG_FIELD_F64}};
  ringlog_site *s = NULL;
  if (ringlog_site_new(l, RINGLOG_LEVEL_INFO, "request handled", 15, keys, 3, &s) != RINGLOG_OK) {
    fprintf(stderr, "count: site: %s\n", ringlog_last_error());
    return 1;
  }
  long calls = 0;
  for (long b = 0; b < batches; b++) {
    for (int i = 0; i < 20; i++) {
      int64_t status = 200 + (b % 5);
      if (site_mode) {
        ringlog_value v[] = {RINGLOG_V_STR("alice"), RINGLOG_V_I64(status), RINGLOG_V_F64(12.5)};
        ringlog_log_site(s, v, 3);
      } else {
        RINGLOG_INFO(l, "request handled", RINGLOG_STR("user", "alice"), RINGLOG_I64("status", status),
                     RINGLOG_F64("latency_ms", 12.5));
      }
      calls++;
    }
    pause_us(20);
  }
  ringlog_stats st;
  ringlog_stats_get(&st);
  printf("calls %ld logged %llu dropped %llu\n", calls, (unsigned long long)st.logged,
         (unsigned long long)st.dropped_full);
  ringlog_site_free(s);
  ringlog_logger_free(l);
  ringlog_shutdown();
  return st.dropped_full != 0;
}
