/*
 * C ABI stress test: many threads log records with every field type into a
 * file sink; check_output.py then verifies the file against the stats.
 *
 *   abi_stress RING_DIR OUT_FILE STATS_FILE [THREADS [RECORDS_PER_THREAD]]
 *
 * Defaults: 8 threads x 100000 records. The runtime uses the "block" full
 * policy with a long timeout, so no record may be dropped.
 *
 * Every record (logger "stress", message "stress record", level INFO) has:
 *   t    i64    thread index 0..THREADS-1
 *   i    u64    the thread's own counter 0..RECORDS-1
 *   s    str    "t<t>-r<i> \"q\"\n\xc3\xa9" (quotes, a newline, U+00E9)
 *   neg  i64    -(i * 7 + t) - 1
 *   f    f64    i + 0.25
 *   ok   bool   i is even
 *   raw  bytes  8 bytes: t, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff,
 *               0x00, 0xff, '\n', '"'
 *   none null
 *   g    group  {"t": t, "i2": 2 * i, "name": "grp", "in": {"odd": i is odd}}
 * check_output.py must be kept in step with this list.
 */
#define _POSIX_C_SOURCE 200809L
#include <ringlog.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 64

static long g_records = 100000;
static pthread_barrier_t g_start;

struct worker {
  int index;
  int failed;            /* first failing result code, 0 if none */
  long failed_at;        /* counter of the failing record */
  char error[512];       /* ringlog_last_error() of the failure */
};

static void *run_worker(void *arg) {
  struct worker *w = arg;
  ringlog_logger *log = NULL;
  ringlog_result rc = ringlog_logger_get("stress", strlen("stress"), &log);
  if (rc != RINGLOG_OK) {
    w->failed = rc;
    w->failed_at = -1;
    snprintf(w->error, sizeof w->error, "%s", ringlog_last_error());
    return NULL;
  }
  pthread_barrier_wait(&g_start);

  static const char msg[] = "stress record";
  char s[64];
  unsigned char raw[8];
  const int64_t t = w->index;
  for (long n = 0; n < g_records; n++) {
    const uint64_t i = (uint64_t)n;
    int slen = snprintf(s, sizeof s, "t%d-r%ld \"q\"\n\xc3\xa9", w->index, n);
    raw[0] = (unsigned char)t;
    raw[1] = (unsigned char)(i & 0xff);
    raw[2] = (unsigned char)((i >> 8) & 0xff);
    raw[3] = (unsigned char)((i >> 16) & 0xff);
    raw[4] = 0x00;
    raw[5] = 0xff;
    raw[6] = '\n';
    raw[7] = '"';

    const ringlog_field inner[] = {
        RINGLOG_BOOL("odd", (i & 1) != 0),
    };
    const ringlog_field group[] = {
        RINGLOG_I64("t", t),
        RINGLOG_U64("i2", 2 * i),
        RINGLOG_STR("name", "grp"),
        RINGLOG_GROUP("in", inner, 1),
    };
    const ringlog_field fields[] = {
        RINGLOG_I64("t", t),
        RINGLOG_U64("i", i),
        RINGLOG_STRN("s", s, (size_t)slen),
        RINGLOG_I64("neg", -(int64_t)(i * 7) - t - 1),
        RINGLOG_F64("f", (double)i + 0.25),
        RINGLOG_BOOL("ok", (i & 1) == 0),
        RINGLOG_BYTES("raw", raw, sizeof raw),
        RINGLOG_NULL("none"),
        RINGLOG_GROUP("g", group, sizeof group / sizeof group[0]),
    };
    rc = ringlog_log(log, RINGLOG_LEVEL_INFO, msg, sizeof msg - 1, fields,
                     sizeof fields / sizeof fields[0]);
    if (rc != RINGLOG_OK) {
      w->failed = rc;
      w->failed_at = n;
      snprintf(w->error, sizeof w->error, "%s", ringlog_last_error());
      break;
    }
  }
  ringlog_logger_free(log);
  return NULL;
}

/* Appends `s` to `out` as the body of a JSON string (no quotes). */
static int json_escape(char *out, size_t cap, const char *s) {
  size_t o = 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char tmp[8];
    const char *piece = tmp;
    if (c == '"' || c == '\\') {
      tmp[0] = '\\';
      tmp[1] = (char)c;
      tmp[2] = 0;
    } else if (c < 0x20) {
      snprintf(tmp, sizeof tmp, "\\u%04x", c);
    } else {
      tmp[0] = (char)c;
      tmp[1] = 0;
    }
    size_t len = strlen(piece);
    if (o + len + 1 > cap) return -1;
    memcpy(out + o, piece, len);
    o += len;
  }
  out[o] = 0;
  return 0;
}

static void write_stats(FILE *f, const char *name, const ringlog_stats *s) {
  fprintf(f,
          "  \"%s\": {\"logged\": %" PRIu64 ", \"dropped_full\": %" PRIu64
          ", \"rejected_too_large\": %" PRIu64 ", \"rejected_invalid\": %" PRIu64
          ", \"rejected_shutdown\": %" PRIu64 ", \"written\": %" PRIu64
          ", \"bytes_written\": %" PRIu64 ", \"write_errors\": %" PRIu64
          ", \"sink_panics\": %" PRIu64 ", \"recovered\": %" PRIu64
          ", \"ring_high_water\": %" PRIu64 ", \"rings_active\": %" PRIu64
          ", \"rings_reclaimed\": %" PRIu64 "}",
          name, s->logged, s->dropped_full, s->rejected_too_large, s->rejected_invalid,
          s->rejected_shutdown, s->written, s->bytes_written, s->write_errors,
          s->sink_panics, s->recovered, s->ring_high_water, s->rings_active,
          s->rings_reclaimed);
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 6) {
    fprintf(stderr, "usage: %s RING_DIR OUT_FILE STATS_FILE [THREADS [RECORDS]]\n", argv[0]);
    return 2;
  }
  int threads = argc > 4 ? atoi(argv[4]) : 8;
  if (argc > 5) g_records = atol(argv[5]);
  if (threads < 1 || threads > MAX_THREADS || g_records < 1 || g_records > (1L << 24)) {
    fprintf(stderr, "abi_stress: THREADS must be 1..%d and RECORDS 1..%ld\n", MAX_THREADS,
            1L << 24);
    return 2;
  }

  char dir[1024], out[1024], config[3072];
  if (json_escape(dir, sizeof dir, argv[1]) || json_escape(out, sizeof out, argv[2])) {
    fprintf(stderr, "abi_stress: path too long\n");
    return 2;
  }
  snprintf(config, sizeof config,
           "{\"ring_dir\": \"%s\", \"ring_capacity\": 1048576, \"full_policy\": \"block\", "
           "\"block_timeout_ms\": 10000, \"shutdown_timeout_ms\": 30000, "
           "\"sinks\": {\"out\": {\"type\": \"file\", \"path\": \"%s\"}}}",
           dir, out);
  ringlog_result rc = ringlog_init(config, strlen(config));
  if (rc != RINGLOG_OK) {
    fprintf(stderr, "abi_stress: ringlog_init failed (%d): %s\n", rc, ringlog_last_error());
    return 1;
  }

  pthread_t tid[MAX_THREADS];
  struct worker w[MAX_THREADS];
  memset(w, 0, sizeof w);
  pthread_barrier_init(&g_start, NULL, (unsigned)threads);
  for (int k = 0; k < threads; k++) {
    w[k].index = k;
    if (pthread_create(&tid[k], NULL, run_worker, &w[k]) != 0) {
      fprintf(stderr, "abi_stress: pthread_create failed\n");
      return 1;
    }
  }
  int status = 0;
  for (int k = 0; k < threads; k++) {
    pthread_join(tid[k], NULL);
    if (w[k].failed) {
      fprintf(stderr, "abi_stress: thread %d: ringlog_log failed at record %ld with %d: %s\n",
              k, w[k].failed_at, w[k].failed, w[k].error);
      status = 1;
    }
  }
  pthread_barrier_destroy(&g_start);

  rc = ringlog_flush(30000);
  if (rc != RINGLOG_OK) {
    fprintf(stderr, "abi_stress: ringlog_flush failed (%d): %s\n", rc, ringlog_last_error());
    status = 1;
  }
  ringlog_stats flushed, stopped;
  rc = ringlog_stats_get(&flushed);
  if (rc != RINGLOG_OK) {
    fprintf(stderr, "abi_stress: ringlog_stats_get failed (%d): %s\n", rc, ringlog_last_error());
    return 1;
  }
  rc = ringlog_shutdown();
  if (rc != RINGLOG_OK) {
    fprintf(stderr, "abi_stress: ringlog_shutdown failed (%d): %s\n", rc, ringlog_last_error());
    status = 1;
  }
  rc = ringlog_stats_get(&stopped);
  if (rc != RINGLOG_OK) {
    fprintf(stderr, "abi_stress: ringlog_stats_get after shutdown failed (%d): %s\n", rc,
            ringlog_last_error());
    return 1;
  }

  FILE *f = fopen(argv[3], "w");
  if (!f) {
    perror(argv[3]);
    return 1;
  }
  fprintf(f, "{\n  \"threads\": %d,\n  \"records_per_thread\": %ld,\n", threads, g_records);
  write_stats(f, "after_flush", &flushed);
  fprintf(f, ",\n");
  write_stats(f, "after_shutdown", &stopped);
  fprintf(f, "\n}\n");
  if (fclose(f) != 0) {
    perror(argv[3]);
    return 1;
  }
  return status;
}
