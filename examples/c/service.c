/*
 * A small request-handling service logging through the ringlog C ABI.
 *
 * The main thread starts ringlog and four worker threads; each worker
 * handles simulated HTTP requests, logging each through a child logger
 * that carries request_id and worker, under the request's trace context.
 * Some payments fail and are logged at ERROR; one request arrives with a
 * malformed traceparent header. At the end the main thread prints the
 * counters and shuts ringlog down.
 *
 * Records go where the configuration says: by default JSON lines on stderr
 * (RINGLOG_OUTPUT, RINGLOG_FORMAT and RINGLOG_CONFIG change that).
 */
#define _POSIX_C_SOURCE 200809L
#include <ringlog.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORKERS 4
#define REQUESTS_PER_WORKER 25

static ringlog_logger *g_root; /* shared by every thread */

/* Reports a failed ringlog call the way an application would. */
static int check(ringlog_result rc, const char *what) {
  if (rc != RINGLOG_OK) {
    fprintf(stderr, "service: %s failed (code %d): %s\n", what, (int)rc, ringlog_last_error());
    return -1;
  }
  return 0;
}

static uint64_t next_random(uint64_t *state) {
  /* xorshift64*: deterministic, per worker */
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 2685821657736338717ULL;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The "payment gateway": declines some cards. Returns 0 or an error code. */
static int charge_card(uint64_t request_id, int64_t cents, const char **reason) {
  if (request_id % 7 == 3) {
    *reason = "card_declined";
    return 402;
  }
  if (cents > 90000) {
    *reason = "amount_over_limit";
    return 422;
  }
  *reason = NULL;
  return 0;
}

struct worker_arg {
  int index;
};

static void handle_request(int worker, uint64_t request_id, uint64_t *rng) {
  const double started = now_ms();
  char request_id_text[32];
  snprintf(request_id_text, sizeof request_id_text, "req-%06" PRIu64, request_id);

  /* The incoming traceparent header; one request sends a broken one. */
  char traceparent[64];
  if (request_id == 42) {
    snprintf(traceparent, sizeof traceparent, "00-not-a-trace-id-01");
  } else {
    uint64_t hi = next_random(rng) | 1, lo = next_random(rng), span = next_random(rng) | 1;
    snprintf(traceparent, sizeof traceparent, "00-%016" PRIx64 "%016" PRIx64 "-%016" PRIx64 "-01", hi, lo, span);
  }

  /* A child logger for this request. */
  const ringlog_field bound[] = {
      RINGLOG_STR("request_id", request_id_text),
      RINGLOG_I64("worker", worker),
  };
  ringlog_logger *log = NULL;
  if (check(ringlog_logger_with(g_root, bound, 2, &log), "ringlog_logger_with") != 0) return;

  if (ringlog_context_set_traceparent(traceparent, strlen(traceparent)) != RINGLOG_OK) {
    /* Not fatal: log why and carry on without a trace context. */
    RINGLOG_WARN(log, "ignoring malformed traceparent header", RINGLOG_STR("header", traceparent),
                 RINGLOG_STR("error", ringlog_last_error()));
    ringlog_context_clear();
  }

  const int anonymous = request_id % 5 == 0;
  const char *user = anonymous ? NULL : (request_id % 2 ? "alice" : "bob");
  const int64_t cents = (int64_t)(next_random(rng) % 100000);
  unsigned char session[6];
  for (size_t i = 0; i < sizeof session; i++) session[i] = (unsigned char)next_random(rng);

  const ringlog_field http[] = {
      RINGLOG_STR("method", "POST"),
      RINGLOG_STR("path", "/v1/checkout"),
      RINGLOG_U64("body_bytes", 200 + request_id % 300),
  };
  RINGLOG_INFO(log, "request received", RINGLOG_GROUP("http", http, 3),
               anonymous ? RINGLOG_NULL("user") : RINGLOG_STR("user", user),
               RINGLOG_BYTES("session", session, sizeof session), RINGLOG_I64("amount_cents", cents));

  const int cache_hit = (next_random(rng) & 3) != 0;
  RINGLOG_DEBUG(log, "price lookup", RINGLOG_BOOL("cache_hit", cache_hit)); /* off at the default level */

  const char *reason = NULL;
  const int code = charge_card(request_id, cents, &reason);
  const double took = now_ms() - started;
  if (code != 0) {
    RINGLOG_ERROR(log, "payment failed", RINGLOG_I64("error_code", code), RINGLOG_STR("reason", reason),
                  RINGLOG_I64("amount_cents", cents), RINGLOG_BOOL("retryable", code != 402),
                  RINGLOG_F64("duration_ms", took));
  } else {
    RINGLOG_INFO(log, "payment captured", RINGLOG_I64("amount_cents", cents), RINGLOG_BOOL("cache_hit", cache_hit),
                 RINGLOG_F64("duration_ms", took), RINGLOG_I64("status", 200));
  }

  ringlog_context_clear();
  ringlog_logger_free(log);
}

static void *worker_main(void *p) {
  const struct worker_arg *arg = p;
  uint64_t rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(arg->index + 1);
  for (int i = 0; i < REQUESTS_PER_WORKER; i++) {
    uint64_t request_id = (uint64_t)(i * WORKERS + arg->index);
    handle_request(arg->index, request_id, &rng);
  }
  RINGLOG_INFO(g_root, "worker done", RINGLOG_I64("worker", arg->index),
               RINGLOG_U64("requests", REQUESTS_PER_WORKER));
  return NULL;
}

int main(void) {
  /* Optional: without it the first ringlog_logger_get starts ringlog. */
  if (check(ringlog_init(NULL, 0), "ringlog_init") != 0) return 1;
  if (check(ringlog_logger_get("service", strlen("service"), &g_root), "ringlog_logger_get") != 0) return 1;

  /* One call without the macros, checking the result. */
  static const char started[] = "service starting";
  const ringlog_field info[] = {
      RINGLOG_STR("version", ringlog_version()),
      RINGLOG_I64("workers", WORKERS),
      RINGLOG_F64("load_factor", 0.75),
  };
  ringlog_result rc = ringlog_log(g_root, RINGLOG_LEVEL_INFO, started, sizeof started - 1, info,
                                  sizeof info / sizeof info[0]);
  if (rc != RINGLOG_OK) {
    fprintf(stderr, "service: could not log (code %d): %s\n", (int)rc, ringlog_last_error());
  }

  pthread_t threads[WORKERS];
  struct worker_arg args[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    args[i].index = i;
    if (pthread_create(&threads[i], NULL, worker_main, &args[i]) != 0) {
      fprintf(stderr, "service: pthread_create failed\n");
      return 1;
    }
  }
  for (int i = 0; i < WORKERS; i++) pthread_join(threads[i], NULL);

  RINGLOG_INFO(g_root, "service stopping", RINGLOG_U64("requests", (uint64_t)WORKERS * REQUESTS_PER_WORKER));
  check(ringlog_flush(10000), "ringlog_flush");

  ringlog_stats s;
  if (check(ringlog_stats_get(&s), "ringlog_stats_get") == 0) {
    printf("ringlog stats: logged=%" PRIu64 " written=%" PRIu64 " dropped_full=%" PRIu64
           " rejected_too_large=%" PRIu64 " rejected_invalid=%" PRIu64 " bytes_written=%" PRIu64
           " rings_active=%" PRIu64 " rings_reclaimed=%" PRIu64 "\n",
           s.logged, s.written, s.dropped_full, s.rejected_too_large, s.rejected_invalid, s.bytes_written,
           s.rings_active, s.rings_reclaimed);
  }

  ringlog_logger_free(g_root);
  return check(ringlog_shutdown(), "ringlog_shutdown") == 0 ? 0 : 1;
}
