/*
 * C ABI bad-input and lifecycle tests.
 *
 *   abi_bad_input DIR
 *
 * DIR is an existing, empty scratch directory (the caller removes it). The
 * program points RINGLOG_CONFIG and RINGLOG_OUTPUT at DIR before its first
 * ringlog call, so the runtime that the first ringlog_logger_get starts
 * writes to DIR/before_init.log; after ringlog_shutdown it unsets
 * RINGLOG_OUTPUT and starts a second runtime with ringlog_init writing to
 * DIR/reinit.log.
 *
 * Each case asserts result codes and what was (or was not) written: output
 * is read back after ringlog_flush and every line is checked to be one
 * strict JSON object (no raw control bytes, valid UTF-8, no duplicate
 * keys). The cases run in order and share the process-wide runtime. The
 * last line printed is "N passed, M failed"; the exit status is non-zero
 * when a case failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <ringlog.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ harness */

static int g_passed, g_failed;
static int g_case_errors;
static const char *g_case;

static void failf(int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "    %s (line %d): ", g_case, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  g_case_errors++;
}

#define CHECK(cond)                                    \
  do {                                                 \
    if (!(cond)) failf(__LINE__, "check failed: %s", #cond); \
  } while (0)

#define CHECK_MSG(cond, ...)                             \
  do {                                                   \
    if (!(cond)) failf(__LINE__, __VA_ARGS__);           \
  } while (0)

/* Asserts a call's result code; on a mismatch prints the last error. */
#define EXPECT_RC(call, want)                                                          \
  do {                                                                                 \
    ringlog_result rc_ = (call);                                                       \
    if (rc_ != (want))                                                                 \
      failf(__LINE__, "%s returned %d, expected %d (%s) [last error: %s]", #call, rc_, \
            (want), #want, ringlog_last_error());                                      \
  } while (0)

/* Asserts the thread's last error message contains `needle`. */
#define EXPECT_ERROR_MENTIONS(needle)                                                    \
  do {                                                                                   \
    const char *e_ = ringlog_last_error();                                               \
    if (e_ == NULL || strstr(e_, (needle)) == NULL)                                      \
      failf(__LINE__, "last error \"%s\" does not mention \"%s\"", e_ ? e_ : "(NULL)",   \
            (needle));                                                                   \
  } while (0)

static void run_case(const char *name, void (*fn)(void)) {
  g_case = name;
  g_case_errors = 0;
  fn();
  if (g_case_errors == 0) {
    g_passed++;
    printf("[ OK ] %s\n", name);
  } else {
    g_failed++;
    printf("[FAIL] %s (%d failed checks)\n", name, g_case_errors);
  }
  fflush(stdout);
}

#define CASE(fn) run_case(#fn, fn)

/* ------------------------------------------- a small strict JSON reader */

/* One top-level member of a record: the decoded key, the value's kind and,
 * for strings, the decoded bytes (for other kinds the raw JSON text). */
typedef struct {
  char key[512];
  size_t key_len;
  char kind; /* 's' string, 'n' number, 't' true, 'f' false, 'z' null, 'o' object, 'a' array */
  char val[8192];
  size_t val_len;
} jmember;

typedef struct {
  jmember m[48];
  int n;
} jrecord;

typedef struct {
  const unsigned char *p, *end;
  const char *err;
} jparser;

static int utf8_seq(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  int n;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) n = 2, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef) n = 3, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, min = 0x10000;
  else return 0;
  if (end - p < n) return 0;
  unsigned cp = c & (0xff >> (n + 1));
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

static void put(char *out, size_t cap, size_t *len, const void *src, size_t n) {
  if (out && *len + n <= cap) memcpy(out + *len, src, n);
  *len += n;
}

static void put_cp(char *out, size_t cap, size_t *len, unsigned cp) {
  unsigned char b[4];
  size_t n;
  if (cp < 0x80) b[0] = (unsigned char)cp, n = 1;
  else if (cp < 0x800) b[0] = (unsigned char)(0xc0 | (cp >> 6)), b[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
  else if (cp < 0x10000)
    b[0] = (unsigned char)(0xe0 | (cp >> 12)), b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
    b[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
  else
    b[0] = (unsigned char)(0xf0 | (cp >> 18)), b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f)),
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (unsigned char)(0x80 | (cp & 0x3f)), n = 4;
  put(out, cap, len, b, n);
}

static int hex4(jparser *j, unsigned *v) {
  if (j->end - j->p < 4) return 0;
  *v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = j->p[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return 0;
    *v = *v * 16 + d;
  }
  j->p += 4;
  return 1;
}

/* Parses a string at j->p (which is at the opening quote), decoding it. */
static int jstring(jparser *j, char *out, size_t cap, size_t *len) {
  *len = 0;
  j->p++;
  while (j->p < j->end) {
    unsigned char c = *j->p;
    if (c == '"') {
      j->p++;
      if (out && *len > cap) return j->err = "string too long for the test buffer", 0;
      return 1;
    }
    if (c < 0x20) return j->err = "raw control character in a string", 0;
    if (c == '\\') {
      j->p++;
      if (j->p >= j->end) break;
      char e = (char)*j->p++;
      switch (e) {
        case '"': put(out, cap, len, "\"", 1); break;
        case '\\': put(out, cap, len, "\\", 1); break;
        case '/': put(out, cap, len, "/", 1); break;
        case 'b': put(out, cap, len, "\b", 1); break;
        case 'f': put(out, cap, len, "\f", 1); break;
        case 'n': put(out, cap, len, "\n", 1); break;
        case 'r': put(out, cap, len, "\r", 1); break;
        case 't': put(out, cap, len, "\t", 1); break;
        case 'u': {
          unsigned cp, lo;
          if (!hex4(j, &cp)) return j->err = "bad \\u escape", 0;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
              return j->err = "unpaired surrogate", 0;
            j->p += 2;
            if (!hex4(j, &lo) || lo < 0xdc00 || lo > 0xdfff) return j->err = "unpaired surrogate", 0;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return j->err = "unpaired surrogate", 0;
          }
          put_cp(out, cap, len, cp);
          break;
        }
        default: return j->err = "bad escape", 0;
      }
      continue;
    }
    int n = utf8_seq(j->p, j->end);
    if (n == 0) return j->err = "invalid UTF-8 in the output", 0;
    put(out, cap, len, j->p, (size_t)n);
    j->p += n;
  }
  return j->err = "unterminated string", 0;
}

static void jspace(jparser *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) j->p++;
}

static int jvalue(jparser *j, int depth, char *kind);

static int jnumber(jparser *j) {
  const unsigned char *s = j->p;
  if (j->p < j->end && *j->p == '-') j->p++;
  if (j->p < j->end && *j->p == '0') j->p++;
  else if (j->p < j->end && *j->p >= '1' && *j->p <= '9')
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  else return j->err = "bad number", 0;
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return j->err = "bad fraction", 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return j->err = "bad exponent", 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  return j->p > s;
}

static int jliteral(jparser *j, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0) return j->err = "bad literal", 0;
  j->p += n;
  return 1;
}

/* Parses an object's members; fills `rec` when it is not NULL (top level). */
static int jobject(jparser *j, int depth, jrecord *rec) {
  j->p++;
  jspace(j);
  if (rec) rec->n = 0;
  if (j->p < j->end && *j->p == '}') return j->p++, 1;
  for (;;) {
    jspace(j);
    if (j->p >= j->end || *j->p != '"') return j->err = "expected a key", 0;
    jmember scratch, *m = &scratch;
    if (rec) {
      if (rec->n >= (int)(sizeof rec->m / sizeof rec->m[0])) return j->err = "too many members", 0;
      m = &rec->m[rec->n];
    }
    if (!jstring(j, m->key, sizeof m->key, &m->key_len)) return 0;
    if (rec) {
      for (int i = 0; i < rec->n; i++)
        if (rec->m[i].key_len == m->key_len && memcmp(rec->m[i].key, m->key, m->key_len) == 0)
          return j->err = "duplicate key", 0;
    }
    jspace(j);
    if (j->p >= j->end || *j->p != ':') return j->err = "expected ':'", 0;
    j->p++;
    jspace(j);
    const unsigned char *vstart = j->p;
    if (j->p < j->end && *j->p == '"') {
      m->kind = 's';
      if (!jstring(j, m->val, sizeof m->val, &m->val_len)) return 0;
    } else {
      if (!jvalue(j, depth + 1, &m->kind)) return 0;
      m->val_len = (size_t)(j->p - vstart);
      if (m->val_len < sizeof m->val) memcpy(m->val, vstart, m->val_len), m->val[m->val_len] = 0;
    }
    if (rec) rec->n++;
    jspace(j);
    if (j->p < j->end && *j->p == ',') {
      j->p++;
      continue;
    }
    if (j->p < j->end && *j->p == '}') return j->p++, 1;
    return j->err = "expected ',' or '}'", 0;
  }
}

static int jvalue(jparser *j, int depth, char *kind) {
  size_t len;
  if (depth > 64) return j->err = "nested too deep", 0;
  jspace(j);
  if (j->p >= j->end) return j->err = "expected a value", 0;
  switch (*j->p) {
    case '"': *kind = 's'; return jstring(j, NULL, 0, &len);
    case '{': *kind = 'o'; return jobject(j, depth, NULL);
    case '[':
      *kind = 'a';
      j->p++;
      jspace(j);
      if (j->p < j->end && *j->p == ']') return j->p++, 1;
      for (;;) {
        char k;
        if (!jvalue(j, depth + 1, &k)) return 0;
        jspace(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (j->p < j->end && *j->p == ']') return j->p++, 1;
        return j->err = "expected ',' or ']'", 0;
      }
    case 't': *kind = 't'; return jliteral(j, "true");
    case 'f': *kind = 'f'; return jliteral(j, "false");
    case 'n': *kind = 'z'; return jliteral(j, "null");
    default: *kind = 'n'; return jnumber(j);
  }
}

/* Parses one output line (without its newline) as exactly one object. */
static const char *parse_record(const char *line, size_t len, jrecord *rec) {
  jparser j = {(const unsigned char *)line, (const unsigned char *)line + len, NULL};
  if (len == 0 || line[0] != '{') return "line does not start with '{'";
  if (!jobject(&j, 0, rec)) return j.err ? j.err : "bad object";
  if (j.p != j.end) return "trailing bytes after the object";
  return NULL;
}

static const jmember *member(const jrecord *r, const char *key, size_t key_len) {
  for (int i = 0; i < r->n; i++)
    if (r->m[i].key_len == key_len && memcmp(r->m[i].key, key, key_len) == 0) return &r->m[i];
  return NULL;
}

static int str_is_n(const jrecord *r, const char *key, size_t key_len, const char *val, size_t val_len) {
  const jmember *m = member(r, key, key_len);
  return m && m->kind == 's' && m->val_len == val_len && memcmp(m->val, val, val_len) == 0;
}

static int str_is(const jrecord *r, const char *key, const char *val, size_t val_len) {
  return str_is_n(r, key, strlen(key), val, val_len);
}

#define STR_IS(r, key, lit) str_is((r), (key), (lit), sizeof(lit) - 1)

static int raw_is(const jrecord *r, const char *key, char kind, const char *text) {
  const jmember *m = member(r, key, strlen(key));
  return m && m->kind == kind && (text == NULL || strcmp(m->val, text) == 0);
}

/* ------------------------------------------------------ reading output */

static char g_dir[768];
static char g_first_log[1024], g_reinit_log[1024];
static const char *g_log = g_first_log; /* the file the current runtime writes */
static long g_offset;                   /* how much of g_log has been read */

#define MAX_LINES 64
static jrecord g_recs[MAX_LINES];
static char *g_raw[MAX_LINES];
static int g_nrecs;

/* Flushes, then reads every line appended to g_log since the last call,
 * checking that each is one strict JSON object. Returns the number of new
 * records (in g_recs / g_raw) or -1 after reporting a failure. */
static int read_new_records_at(int line) {
  for (int i = 0; i < g_nrecs; i++) free(g_raw[i]);
  g_nrecs = 0;
  ringlog_result rc = ringlog_flush(5000);
  if (rc != RINGLOG_OK && rc != RINGLOG_E_SHUTDOWN) {
    failf(line, "ringlog_flush(5000) returned %d: %s", rc, ringlog_last_error());
    return -1;
  }
  FILE *f = fopen(g_log, "rb");
  if (!f) {
    failf(line, "cannot open %s", g_log);
    return -1;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, g_offset, SEEK_SET);
  size_t n = (size_t)(size - g_offset);
  char *buf = malloc(n + 1);
  if (!buf || fread(buf, 1, n, f) != n) {
    fclose(f);
    free(buf);
    failf(line, "cannot read %s", g_log);
    return -1;
  }
  fclose(f);
  g_offset = size;
  int ok = 1;
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    if (buf[i] != '\n') continue;
    if (g_nrecs == MAX_LINES) {
      failf(line, "more than %d new lines", MAX_LINES);
      ok = 0;
      break;
    }
    size_t len = i - start;
    const char *err = parse_record(buf + start, len, &g_recs[g_nrecs]);
    if (err) {
      failf(line, "output line is not one strict JSON object (%s): %.*s", err, (int)(len > 300 ? 300 : len),
            buf + start);
      ok = 0;
    } else {
      g_raw[g_nrecs] = malloc(len + 1);
      memcpy(g_raw[g_nrecs], buf + start, len);
      g_raw[g_nrecs][len] = 0;
      g_nrecs++;
    }
    start = i + 1;
  }
  if (start != n) {
    failf(line, "output does not end with a newline");
    ok = 0;
  }
  free(buf);
  return ok ? g_nrecs : -1;
}

#define READ_NEW() read_new_records_at(__LINE__)

/* The one new record whose msg is `msg`, or NULL. */
static const jrecord *find_msg(const char *msg, size_t len) {
  const jrecord *found = NULL;
  for (int i = 0; i < g_nrecs; i++)
    if (str_is(&g_recs[i], "msg", msg, len)) {
      if (found) return NULL;
      found = &g_recs[i];
    }
  return found;
}

#define FIND(lit) find_msg((lit), sizeof(lit) - 1)

static ringlog_stats stats(void) {
  ringlog_stats s;
  memset(&s, 0, sizeof s);
  ringlog_result rc = ringlog_stats_get(&s);
  if (rc != RINGLOG_OK) failf(__LINE__, "ringlog_stats_get returned %d: %s", rc, ringlog_last_error());
  return s;
}

static ringlog_result log_lit(const ringlog_logger *l, ringlog_level level, const char *msg,
                              const ringlog_field *f, size_t n) {
  return ringlog_log(l, level, msg, strlen(msg), f, n);
}

/* ------------------------------------------------------------- the cases */

static ringlog_logger *g_app; /* root logger "app" of the first runtime */

static void before_init_uses_defaults(void) {
  /* The first ringlog call of the process: starts the runtime from the
   * environment (RINGLOG_CONFIG, RINGLOG_OUTPUT) and the defaults. */
  EXPECT_RC(ringlog_logger_get("app", 3, &g_app), RINGLOG_OK);
  if (!g_app) return;
  CHECK(ringlog_logger_enabled(g_app, RINGLOG_LEVEL_INFO));
  CHECK(!ringlog_logger_enabled(g_app, RINGLOG_LEVEL_DEBUG)); /* default level: info */
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_DEBUG, "default level hides debug", NULL, 0), RINGLOG_OK);
  ringlog_field f[] = {RINGLOG_STR("phase", "before init"), RINGLOG_I64("n", -7)};
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "logged before init", f, 2), RINGLOG_OK);
  CHECK(READ_NEW() == 1);
  const jrecord *r = FIND("logged before init");
  CHECK_MSG(r != NULL, "the record is not in %s", g_log);
  if (r) {
    CHECK(STR_IS(r, "level", "info"));
    CHECK(STR_IS(r, "logger", "app"));
    CHECK(STR_IS(r, "phase", "before init"));
    CHECK(raw_is(r, "n", 'n', "-7"));
    CHECK(raw_is(r, "seq", 'n', "0"));
  }
  ringlog_stats s = stats();
  CHECK(s.logged == 1 && s.written == 1);
}

static void second_init_while_running(void) {
  static const char cfg[] = "{\"level\": \"debug\"}";
  EXPECT_RC(ringlog_init(cfg, sizeof cfg - 1), RINGLOG_E_STATE);
  EXPECT_ERROR_MENTIONS("already");
  EXPECT_RC(ringlog_init(NULL, 0), RINGLOG_E_STATE);
  /* Even a malformed document reports the state, not the document. */
  static const char bad[] = "{\"levle\": 1}";
  EXPECT_RC(ringlog_init(bad, sizeof bad - 1), RINGLOG_E_STATE);
  CHECK(!ringlog_logger_enabled(g_app, RINGLOG_LEVEL_DEBUG)); /* the running config is unchanged */
}

static void null_logger(void) {
  EXPECT_RC(log_lit(NULL, RINGLOG_LEVEL_INFO, "x", NULL, 0), RINGLOG_E_NULL);
  EXPECT_ERROR_MENTIONS("logger");
  EXPECT_RC(ringlog_log_at(NULL, RINGLOG_LEVEL_INFO, 0, "x", 1, NULL, 0), RINGLOG_E_NULL);
  EXPECT_RC(ringlog_log_ctx(NULL, RINGLOG_LEVEL_INFO, 0, NULL, "x", 1, NULL, 0), RINGLOG_E_NULL);
  CHECK(!ringlog_logger_enabled(NULL, RINGLOG_LEVEL_FATAL));
  ringlog_logger *child = (ringlog_logger *)&child; /* must stay untouched */
  ringlog_field f[] = {RINGLOG_I64("k", 1)};
  EXPECT_RC(ringlog_logger_with(NULL, f, 1, &child), RINGLOG_E_NULL);
  CHECK(child == (ringlog_logger *)&child);
  EXPECT_RC(ringlog_logger_with(g_app, f, 1, NULL), RINGLOG_E_NULL);
  EXPECT_RC(ringlog_logger_get("app", 3, NULL), RINGLOG_E_NULL);
  ringlog_logger *l = NULL;
  EXPECT_RC(ringlog_logger_get(NULL, 3, &l), RINGLOG_E_NULL);
  CHECK(l == NULL);
  ringlog_logger_free(NULL); /* ignored */
  CHECK(READ_NEW() == 0);
}

static void null_message(void) {
  EXPECT_RC(ringlog_log(g_app, RINGLOG_LEVEL_INFO, NULL, 5, NULL, 0), RINGLOG_E_NULL);
  EXPECT_ERROR_MENTIONS("msg");
  /* NULL with length 0 is an empty message. */
  ringlog_field f[] = {RINGLOG_STR("case", "null message, length 0")};
  EXPECT_RC(ringlog_log(g_app, RINGLOG_LEVEL_INFO, NULL, 0, f, 1), RINGLOG_OK);
  CHECK(READ_NEW() == 1);
  const jrecord *r = FIND("");
  CHECK_MSG(r && STR_IS(r, "case", "null message, length 0"), "no record with an empty msg");
}

static void null_fields(void) {
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "null fields must not appear", NULL, 2), RINGLOG_E_NULL);
  EXPECT_ERROR_MENTIONS("fields");
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "null fields, n 0", NULL, 0), RINGLOG_OK);
  ringlog_logger *child = NULL;
  EXPECT_RC(ringlog_logger_with(g_app, NULL, 1, &child), RINGLOG_E_NULL);
  CHECK(child == NULL);
  CHECK(READ_NEW() == 1);
  CHECK(FIND("null fields, n 0") != NULL);
  CHECK(FIND("null fields must not appear") == NULL);
}

static void null_pointers_inside_fields(void) {
  ringlog_stats before = stats();
  ringlog_field key = {.key = NULL, .key_len = 3, .type = RINGLOG_FIELD_I64, .value = {.i64 = 1}};
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "null key must not appear", &key, 1), RINGLOG_E_FIELD);
  EXPECT_ERROR_MENTIONS("key");
  ringlog_field str = {.key = "s", .key_len = 1, .type = RINGLOG_FIELD_STR, .value = {.str = {NULL, 4}}};
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "null str must not appear", &str, 1), RINGLOG_E_FIELD);
  ringlog_field bytes = {.key = "b", .key_len = 1, .type = RINGLOG_FIELD_BYTES, .value = {.str = {NULL, 4}}};
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "null bytes must not appear", &bytes, 1), RINGLOG_E_FIELD);
  ringlog_field grp = RINGLOG_GROUP("g", NULL, 2);
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "null group must not appear", &grp, 1), RINGLOG_E_FIELD);
  /* A bad field nested in a group refuses the whole record. */
  ringlog_field inner[] = {RINGLOG_I64("ok", 1), key};
  ringlog_field outer[] = {RINGLOG_STR("a", "b"), RINGLOG_GROUP("g", inner, 2)};
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "nested null must not appear", outer, 2), RINGLOG_E_FIELD);
  /* NULL with length 0 is fine everywhere. */
  ringlog_field empty[] = {
      {.key = NULL, .key_len = 0, .type = RINGLOG_FIELD_STR, .value = {.str = {NULL, 0}}},
      {.key = "e", .key_len = 1, .type = RINGLOG_FIELD_BYTES, .value = {.str = {NULL, 0}}},
      RINGLOG_GROUP("g", NULL, 0),
  };
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "empty pointers", empty, 3), RINGLOG_OK);
  ringlog_stats after = stats();
  CHECK_MSG(after.rejected_invalid == before.rejected_invalid + 5, "rejected_invalid went from %llu to %llu, expected +5",
            (unsigned long long)before.rejected_invalid, (unsigned long long)after.rejected_invalid);
  CHECK(READ_NEW() == 1);
  const jrecord *r = FIND("empty pointers");
  CHECK(r != NULL);
  if (r) {
    CHECK(str_is(r, "", "", 0));
    CHECK(STR_IS(r, "e", ""));
    CHECK(raw_is(r, "g", 'o', "{}"));
  }
}

static void arrays_are_written_as_lists(void) {
  /* Members' keys are ignored, even a NULL key with a length. */
  ringlog_field inner[] = {RINGLOG_STR("", "x"), RINGLOG_I64("", 2)};
  ringlog_field items[] = {
      RINGLOG_I64("", 1),
      {.key = NULL, .key_len = 5, .type = RINGLOG_FIELD_STR, .value = {.str = {"a\n", 2}}},
      RINGLOG_NULL(""),
      RINGLOG_GROUP("", inner, 1),
      RINGLOG_ARRAY("", inner, 2),
  };
  ringlog_field f[] = {RINGLOG_ARRAY("list", items, 5), RINGLOG_ARRAY("empty", NULL, 0)};
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "arrays", f, 2), RINGLOG_OK);
  ringlog_field bad[] = {RINGLOG_ARRAY("l", NULL, 2)};
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "null array must not appear", bad, 1), RINGLOG_E_FIELD);
  CHECK(READ_NEW() == 1);
  const jrecord *r = FIND("arrays");
  CHECK(r != NULL);
  if (r) {
    CHECK(raw_is(r, "list", 'a', "[1,\"a\\n\",null,{\"\":\"x\"},[\"x\",2]]"));
    CHECK(raw_is(r, "empty", 'a', "[]"));
  }
}

static void field_type_out_of_range(void) {
  ringlog_stats before = stats();
  ringlog_field f[] = {RINGLOG_I64("fine", 1),
                       {.key = "t", .key_len = 1, .type = 99, .value = {.u64 = 0}}};
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "type 99 must not appear", f, 2), RINGLOG_E_FIELD);
  EXPECT_ERROR_MENTIONS("99");
  f[1].type = RINGLOG_FIELD_ARRAY + 1;
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "type 9 must not appear", f, 2), RINGLOG_E_FIELD);
  EXPECT_ERROR_MENTIONS("9");
  f[1].type = 0xffffffffu;
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "type max must not appear", f, 2), RINGLOG_E_FIELD);
  EXPECT_ERROR_MENTIONS("4294967295");
  ringlog_logger *child = NULL;
  EXPECT_RC(ringlog_logger_with(g_app, f, 2, &child), RINGLOG_E_FIELD);
  CHECK(child == NULL);
  ringlog_stats after = stats();
  CHECK(after.rejected_invalid == before.rejected_invalid + 3);
  CHECK(READ_NEW() == 0);
}

static void level_out_of_range(void) {
  static const ringlog_level bad[] = {0, 25, 100, 255};
  for (size_t i = 0; i < sizeof bad; i++) {
    EXPECT_RC(log_lit(g_app, bad[i], "bad level must not appear", NULL, 0), RINGLOG_E_LEVEL);
    char num[8];
    snprintf(num, sizeof num, "%u", bad[i]);
    EXPECT_ERROR_MENTIONS(num);
    CHECK(!ringlog_logger_enabled(g_app, bad[i]));
  }
  /* Every number 1..24 is a level; 24 is the top of FATAL. */
  EXPECT_RC(log_lit(g_app, 24, "level 24", NULL, 0), RINGLOG_OK);
  CHECK(READ_NEW() == 1);
  const jrecord *r = FIND("level 24");
  CHECK_MSG(r != NULL, "level 24 record missing");
  if (r) CHECK(member(r, "level", 5) && member(r, "level", 5)->kind == 's');
}

static void invalid_utf8(void) {
  static const char msg[] = "bad \xff\xfe utf8 \xc3\x28 \xe2\x82 end";
  static const char key[] = "k\xff" "ey";
  static const char val[] = "v\xc0\xaf";
  ringlog_field f[] = {RINGLOG_STRN(key, val, sizeof val - 1)};
  f[0].key_len = sizeof key - 1;
  EXPECT_RC(ringlog_log(g_app, RINGLOG_LEVEL_INFO, msg, sizeof msg - 1, f, 1), RINGLOG_OK);
  CHECK(READ_NEW() == 1);
  if (g_nrecs != 1) return;
  const jrecord *r = &g_recs[0];
  /* Each invalid sequence becomes U+FFFD (EF BF BD), as Python's
   * errors="replace" does. */
  CHECK_MSG(STR_IS(r, "msg", "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd( \xef\xbf\xbd end"),
            "msg not replaced as expected: %s", g_raw[0]);
  CHECK_MSG(str_is(r, "k\xef\xbf\xbd" "ey", "v\xef\xbf\xbd\xef\xbf\xbd", 7), "key/value not replaced: %s", g_raw[0]);
}

static void embedded_nul(void) {
  static const char msg[] = "nul\0inside";
  static const char key[] = "k\0k";
  static const char val[] = "\0v\0";
  ringlog_field f[] = {{.key = key, .key_len = 3, .type = RINGLOG_FIELD_STR, .value = {.str = {val, 3}}},
                       RINGLOG_BYTES("b", "\0\0\0", 3)};
  EXPECT_RC(ringlog_log(g_app, RINGLOG_LEVEL_INFO, msg, sizeof msg - 1, f, 2), RINGLOG_OK);
  CHECK(READ_NEW() == 1);
  if (g_nrecs != 1) return;
  const jrecord *r = &g_recs[0];
  CHECK_MSG(str_is(r, "msg", msg, sizeof msg - 1), "msg lost its NUL: %s", g_raw[0]);
  CHECK_MSG(str_is_n(r, key, 3, val, 3), "key or value lost its NUL: %s", g_raw[0]);
  CHECK(STR_IS(r, "b", "AAAA"));
  CHECK_MSG(strstr(g_raw[0], "nul\\u0000inside") != NULL, "NUL not written as \\u0000: %s", g_raw[0]);
}

static void control_characters(void) {
  static const char msg[] = "line one\nline two\r\n\x1b[31mred\x1b[0m\ttab\b\f\x01\x1f\x7f end";
  static const char key[] = "k\ne\x1b[1my";
  static const char val[] = "v\n\x1b]0;title\x07";
  ringlog_field f[] = {RINGLOG_STR(key, val), RINGLOG_STR("plain", "a\"b\\c/d")};
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_WARN, msg, f, 2), RINGLOG_OK);
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_WARN, "second\nrecord\n", NULL, 0), RINGLOG_OK);
  /* Exactly one line per record, each a valid object with nothing raw. */
  CHECK(READ_NEW() == 2);
  if (g_nrecs != 2) return;
  CHECK_MSG(STR_IS(&g_recs[0], "msg", msg), "msg not round-tripped: %s", g_raw[0]);
  CHECK_MSG(STR_IS(&g_recs[0], key, val), "key/value not round-tripped: %s", g_raw[0]);
  CHECK(STR_IS(&g_recs[0], "plain", "a\"b\\c/d"));
  CHECK(STR_IS(&g_recs[1], "msg", "second\nrecord\n"));
  for (int i = 0; i < 2; i++)
    for (const char *p = g_raw[i]; *p; p++)
      CHECK_MSG((unsigned char)*p >= 0x20, "raw control byte 0x%02x in line %d", (unsigned char)*p, i);
}

static void record_larger_than_ring(void) {
  /* RINGLOG_CONFIG sets ring_capacity 4096: a record may take half. */
  ringlog_stats before = stats();
  static char big[3000];
  memset(big, 'x', sizeof big);
  EXPECT_RC(ringlog_log(g_app, RINGLOG_LEVEL_ERROR, big, sizeof big, NULL, 0), RINGLOG_E_TOO_LARGE);
  EXPECT_ERROR_MENTIONS("larger");
  ringlog_field f[] = {RINGLOG_STRN("big", big, sizeof big)};
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_ERROR, "big field", f, 1), RINGLOG_E_TOO_LARGE);
  ringlog_stats after = stats();
  CHECK_MSG(after.rejected_too_large == before.rejected_too_large + 2,
            "rejected_too_large went from %llu to %llu, expected +2",
            (unsigned long long)before.rejected_too_large, (unsigned long long)after.rejected_too_large);
  CHECK(after.logged == before.logged);
  /* A record that fits is still written in full. */
  EXPECT_RC(ringlog_log(g_app, RINGLOG_LEVEL_ERROR, big, 1800, NULL, 0), RINGLOG_OK);
  CHECK(READ_NEW() == 1);
  if (g_nrecs == 1) {
    const jmember *m = member(&g_recs[0], "msg", 3);
    CHECK(m && m->kind == 's' && m->val_len == 1800);
  }
}

static void malformed_traceparent(void) {
  static const char *bad[] = {
      "",
      "00-xyz",
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",  /* not hex */
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  /* zero trace id */
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  /* zero span id */
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  /* separator */
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  /* version ff */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ringlog_result rc = ringlog_context_set_traceparent(bad[i], strlen(bad[i]));
    CHECK_MSG(rc == RINGLOG_E_TRACE, "traceparent \"%s\" returned %d, expected RINGLOG_E_TRACE [%s]", bad[i], rc,
              ringlog_last_error());
    CHECK_MSG(strstr(ringlog_last_error(), "traceparent") != NULL, "last error: %s", ringlog_last_error());
  }
  EXPECT_RC(ringlog_context_set_traceparent(NULL, 55), RINGLOG_E_NULL);
  static const uint8_t zero[16] = {0};
  EXPECT_RC(ringlog_context_set(zero, zero, 1), RINGLOG_E_TRACE);
  EXPECT_RC(ringlog_context_set(NULL, zero, 1), RINGLOG_E_NULL);
  /* A failed call leaves no context behind; a good one is carried. */
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "no context", NULL, 0), RINGLOG_OK);
  static const char good[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  EXPECT_RC(ringlog_context_set_traceparent(good, sizeof good - 1), RINGLOG_OK);
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "with context", NULL, 0), RINGLOG_OK);
  EXPECT_RC(ringlog_context_set_traceparent(bad[1], strlen(bad[1])), RINGLOG_E_TRACE);
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "context kept after a bad set", NULL, 0), RINGLOG_OK);
  EXPECT_RC(ringlog_context_clear(), RINGLOG_OK);
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "context cleared", NULL, 0), RINGLOG_OK);
  CHECK(READ_NEW() == 4);
  const jrecord *r = FIND("no context");
  CHECK(r && member(r, "trace_id", 8) == NULL);
  r = FIND("with context");
  CHECK(r && STR_IS(r, "trace_id", "4bf92f3577b34da6a3ce929d0e0e4736") && STR_IS(r, "span_id", "00f067aa0ba902b7"));
  r = FIND("context kept after a bad set");
  CHECK(r && STR_IS(r, "trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"));
  r = FIND("context cleared");
  CHECK(r && member(r, "trace_id", 8) == NULL);
}

static void recover_bad_input(void) {
  EXPECT_RC(ringlog_recover(NULL, 5), RINGLOG_E_NULL);
  EXPECT_ERROR_MENTIONS("ring_dir");
  EXPECT_RC(ringlog_recover("", 0), RINGLOG_E_CONFIG);
  EXPECT_ERROR_MENTIONS("empty");
  EXPECT_RC(ringlog_recover("a\0b", 3), RINGLOG_E_CONFIG);
  EXPECT_ERROR_MENTIONS("NUL");
  /* A directory with no dead instances (or none at all) is not an error. */
  EXPECT_RC(ringlog_recover(NULL, 0), RINGLOG_OK);
  EXPECT_RC(ringlog_recover(g_dir, strlen(g_dir)), RINGLOG_OK);
  static const char missing[] = "/nonexistent/ringlog-rings";
  EXPECT_RC(ringlog_recover(missing, sizeof missing - 1), RINGLOG_OK);
  ringlog_stats st;
  EXPECT_RC(ringlog_stats_get(&st), RINGLOG_OK);
  CHECK(st.recovered == 0 && st.recovery_bad_files == 0);
}

static void sink_stats_bad_input(void) {
  ringlog_sink_stats ss;
  EXPECT_RC(ringlog_sink_stats_get("output", 6, NULL), RINGLOG_E_NULL);
  EXPECT_ERROR_MENTIONS("out");
  EXPECT_RC(ringlog_sink_stats_get(NULL, 3, &ss), RINGLOG_E_NULL);
  EXPECT_RC(ringlog_sink_stats_get("nope", 4, &ss), RINGLOG_E_CONFIG);
  EXPECT_ERROR_MENTIONS("nope");
  /* RINGLOG_OUTPUT names its one sink "output". */
  EXPECT_RC(ringlog_flush(5000), RINGLOG_OK);
  EXPECT_RC(ringlog_sink_stats_get("output", 6, &ss), RINGLOG_OK);
  CHECK(ss.bytes_written > 0 && ss.write_errors == 0 && ss.panics == 0 && !ss.failed);
}

static void reconfigure_level(void) {
  CHECK(!ringlog_logger_enabled(g_app, RINGLOG_LEVEL_DEBUG));
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_DEBUG, "debug while at info", NULL, 0), RINGLOG_OK);
  static const char to_debug[] = "{\"level\": \"debug\"}";
  EXPECT_RC(ringlog_reconfigure(to_debug, sizeof to_debug - 1), RINGLOG_OK);
  CHECK(ringlog_logger_enabled(g_app, RINGLOG_LEVEL_DEBUG));
  CHECK(!ringlog_logger_enabled(g_app, RINGLOG_LEVEL_TRACE));
  ringlog_logger *other = NULL; /* a logger made after the change gets it too */
  EXPECT_RC(ringlog_logger_get("app.late", 8, &other), RINGLOG_OK);
  CHECK(ringlog_logger_enabled(other, RINGLOG_LEVEL_DEBUG));
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_DEBUG, "debug after lowering", NULL, 0), RINGLOG_OK);
  EXPECT_RC(log_lit(other, RINGLOG_LEVEL_DEBUG, "debug from a new logger", NULL, 0), RINGLOG_OK);
  ringlog_logger_free(other);

  static const char unknown[] = "{\"ring_capacity\": 8192}";
  EXPECT_RC(ringlog_reconfigure(unknown, sizeof unknown - 1), RINGLOG_E_CONFIG);
  EXPECT_ERROR_MENTIONS("ring_capacity");
  static const char typo[] = "{\"levle\": \"warn\"}";
  EXPECT_RC(ringlog_reconfigure(typo, sizeof typo - 1), RINGLOG_E_CONFIG);
  EXPECT_ERROR_MENTIONS("levle");
  static const char bad_level[] = "{\"level\": \"loud\"}";
  EXPECT_RC(ringlog_reconfigure(bad_level, sizeof bad_level - 1), RINGLOG_E_CONFIG);
  EXPECT_ERROR_MENTIONS("level");
  static const char no_sink[] = "{\"sinks\": {\"nosuch\": {\"level\": \"warn\"}}}";
  EXPECT_RC(ringlog_reconfigure(no_sink, sizeof no_sink - 1), RINGLOG_E_CONFIG);
  EXPECT_ERROR_MENTIONS("nosuch");
  EXPECT_RC(ringlog_reconfigure(NULL, 4), RINGLOG_E_NULL);
  CHECK(ringlog_logger_enabled(g_app, RINGLOG_LEVEL_DEBUG)); /* failed changes change nothing */

  static const char to_info[] = "{\"level\": \"info\"}";
  EXPECT_RC(ringlog_reconfigure(to_info, sizeof to_info - 1), RINGLOG_OK);
  CHECK(!ringlog_logger_enabled(g_app, RINGLOG_LEVEL_DEBUG));
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_DEBUG, "debug after raising", NULL, 0), RINGLOG_OK);

  CHECK(READ_NEW() == 2);
  CHECK(FIND("debug while at info") == NULL);
  const jrecord *r = FIND("debug after lowering");
  CHECK_MSG(r && STR_IS(r, "level", "debug"), "debug record missing after lowering the level");
  r = FIND("debug from a new logger");
  CHECK(r && STR_IS(r, "logger", "app.late"));
  CHECK(FIND("debug after raising") == NULL);
}

static void log_after_shutdown(void) {
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "last before shutdown", NULL, 0), RINGLOG_OK);
  ringlog_stats before = stats();
  EXPECT_RC(ringlog_shutdown(), RINGLOG_OK);
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "after shutdown must not appear", NULL, 0), RINGLOG_E_SHUTDOWN);
  EXPECT_ERROR_MENTIONS("shut down");
  ringlog_field f[] = {RINGLOG_I64("k", 1)};
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_ERROR, "after shutdown must not appear", f, 1), RINGLOG_E_SHUTDOWN);
  ringlog_stats after;
  EXPECT_RC(ringlog_stats_get(&after), RINGLOG_OK); /* from the stopped runtime */
  CHECK_MSG(after.rejected_shutdown == before.rejected_shutdown + 2,
            "rejected_shutdown went from %llu to %llu, expected +2",
            (unsigned long long)before.rejected_shutdown, (unsigned long long)after.rejected_shutdown);
  CHECK_MSG(after.written == after.logged, "after shutdown written %llu != logged %llu",
            (unsigned long long)after.written, (unsigned long long)after.logged);
  CHECK(after.logged == before.logged);
  EXPECT_RC(ringlog_flush(100), RINGLOG_E_SHUTDOWN);
  EXPECT_RC(ringlog_shutdown(), RINGLOG_OK); /* idempotent */
  /* Shutdown wrote the last record without a flush. */
  CHECK(READ_NEW() == 1);
  CHECK(FIND("last before shutdown") != NULL);
}

static void malformed_config(void) {
  /* The runtime is stopped, so ringlog_init parses the document. */
  static const struct {
    const char *doc;
    const char *names;
  } bad[] = {
      {"{\"levle\": \"debug\"}", "levle"},
      {"{\"ring_capacity\": 1000}", "ring_capacity"},
      {"{\"ring_capacity\": \"big\"}", "ring_capacity"},
      {"{\"level\": \"loud\"}", "level"},
      {"{\"full_policy\": \"sometimes\"}", "full_policy"},
      {"{\"flush_interval_ms\": 0}", "flush_interval_ms"},
      {"{\"sinks\": {}}", "sinks"},
      {"{\"sinks\": {\"a\": {\"type\": \"file\"}}}", "sinks.a.path"},
      {"{\"sinks\": {\"a\": {\"type\": \"pipe\"}}}", "sinks.a.type"},
      {"{\"sinks\": {\"a\": {\"type\": \"stderr\", \"levl\": \"info\"}}}", "levl"},
      {"{\"sinks\": {\"a\": {\"type\": \"stderr\", \"encoder\": \"xml\"}}}", "sinks.a.encoder"},
      {"{not json", "line 1"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ringlog_result rc = ringlog_init(bad[i].doc, strlen(bad[i].doc));
    const char *e = ringlog_last_error();
    CHECK_MSG(rc == RINGLOG_E_CONFIG, "ringlog_init(%s) returned %d, expected RINGLOG_E_CONFIG [%s]", bad[i].doc,
              rc, e);
    CHECK_MSG(strstr(e, bad[i].names) != NULL, "ringlog_init(%s): last error \"%s\" does not name \"%s\"",
              bad[i].doc, e, bad[i].names);
  }
  EXPECT_RC(ringlog_init("{\"level\": \"\xff\"}", 13), RINGLOG_E_CONFIG);
  EXPECT_ERROR_MENTIONS("UTF-8");
  /* Nothing started: logging still reports the shutdown. */
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "x", NULL, 0), RINGLOG_E_SHUTDOWN);
  ringlog_stats s;
  EXPECT_RC(ringlog_stats_get(&s), RINGLOG_OK);
}

static void reinit_after_shutdown(void) {
  char cfg[2048];
  snprintf(cfg, sizeof cfg,
           "{\"ring_dir\": \"%s/rings2\", \"level\": \"debug\", "
           "\"sinks\": {\"f\": {\"type\": \"file\", \"path\": \"%s\"}}}",
           g_dir, g_reinit_log);
  /* RINGLOG_OUTPUT would replace the document's sinks (the overrides apply
   * to ringlog_init too), so drop it for the second runtime. */
  unsetenv("RINGLOG_OUTPUT");
  EXPECT_RC(ringlog_init(cfg, strlen(cfg)), RINGLOG_OK);
  g_log = g_reinit_log;
  g_offset = 0;
  EXPECT_RC(ringlog_init(cfg, strlen(cfg)), RINGLOG_E_STATE);
  /* Old handles point at the stopped runtime. */
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "old handle must not appear", NULL, 0), RINGLOG_E_SHUTDOWN);
  ringlog_logger *app = NULL;
  EXPECT_RC(ringlog_logger_get("app", 3, &app), RINGLOG_OK);
  CHECK(app != NULL && app != g_app);
  if (!app) return;
  CHECK(ringlog_logger_enabled(app, RINGLOG_LEVEL_DEBUG)); /* the new config's level */
  ringlog_field f[] = {RINGLOG_STR("runtime", "second")};
  EXPECT_RC(log_lit(app, RINGLOG_LEVEL_DEBUG, "new runtime", f, 1), RINGLOG_OK);
  CHECK(READ_NEW() == 1);
  const jrecord *r = FIND("new runtime");
  CHECK(r && STR_IS(r, "runtime", "second") && raw_is(r, "seq", 'n', "0"));
  ringlog_stats s = stats();
  CHECK(s.logged == 1 && s.written == 1 && s.rejected_shutdown == 0);
  ringlog_logger_free(app);
  EXPECT_RC(ringlog_shutdown(), RINGLOG_OK);
  EXPECT_RC(log_lit(g_app, RINGLOG_LEVEL_INFO, "x", NULL, 0), RINGLOG_E_SHUTDOWN);
}

static void call_site_bad_input(void) {
  static const ringlog_site_key keys[] = {{"user", 4, RINGLOG_FIELD_STR}, {"n", 1, RINGLOG_FIELD_I64}};
  ringlog_site *site = NULL;
  EXPECT_RC(ringlog_site_new(NULL, RINGLOG_LEVEL_INFO, "m", 1, keys, 2, &site), RINGLOG_E_NULL);
  EXPECT_RC(ringlog_site_new(g_app, RINGLOG_LEVEL_INFO, "m", 1, keys, 2, NULL), RINGLOG_E_NULL);
  EXPECT_RC(ringlog_site_new(g_app, RINGLOG_LEVEL_INFO, NULL, 1, keys, 2, &site), RINGLOG_E_NULL);
  EXPECT_RC(ringlog_site_new(g_app, RINGLOG_LEVEL_INFO, "m", 1, NULL, 2, &site), RINGLOG_E_NULL);
  EXPECT_RC(ringlog_site_new(g_app, 0, "m", 1, keys, 2, &site), RINGLOG_E_LEVEL);
  static const ringlog_site_key group[] = {{"g", 1, RINGLOG_FIELD_GROUP}};
  EXPECT_RC(ringlog_site_new(g_app, RINGLOG_LEVEL_INFO, "m", 1, group, 1, &site), RINGLOG_E_FIELD);
  EXPECT_ERROR_MENTIONS("group");
  static const ringlog_site_key unknown[] = {{"u", 1, 99}};
  EXPECT_RC(ringlog_site_new(g_app, RINGLOG_LEVEL_INFO, "m", 1, unknown, 1, &site), RINGLOG_E_FIELD);
  static const ringlog_site_key nullkey[] = {{NULL, 3, RINGLOG_FIELD_I64}};
  EXPECT_RC(ringlog_site_new(g_app, RINGLOG_LEVEL_INFO, "m", 1, nullkey, 1, &site), RINGLOG_E_NULL);
  CHECK(site == NULL); /* outputs are written only on success */

  static const char msg[] = "site \"record\"\n";
  EXPECT_RC(ringlog_site_new(g_app, RINGLOG_LEVEL_WARN, msg, sizeof msg - 1, keys, 2, &site), RINGLOG_OK);
  if (!site) return;
  CHECK(ringlog_site_enabled(site));
  CHECK(!ringlog_site_enabled(NULL));
  ringlog_stats before = stats();
  ringlog_value v[] = {RINGLOG_V_STR("al\nice"), RINGLOG_V_I64(-3)};
  EXPECT_RC(ringlog_log_site(NULL, v, 2), RINGLOG_E_NULL);
  EXPECT_RC(ringlog_log_site(site, NULL, 2), RINGLOG_E_NULL);
  EXPECT_RC(ringlog_log_site(site, v, 1), RINGLOG_E_FIELD);
  EXPECT_ERROR_MENTIONS("2 keys");
  ringlog_value bad[] = {RINGLOG_V_STRN(NULL, 4), RINGLOG_V_I64(1)};
  EXPECT_RC(ringlog_log_site(site, bad, 2), RINGLOG_E_FIELD);
  ringlog_stats after = stats();
  CHECK(after.rejected_invalid - before.rejected_invalid == 3);
  EXPECT_RC(ringlog_log_site(site, v, 2), RINGLOG_OK);
  CHECK(READ_NEW() == 1);
  const jrecord *r = find_msg(msg, sizeof msg - 1);
  CHECK_MSG(r != NULL, "the site record is not in %s", g_log);
  if (r) {
    CHECK(STR_IS(r, "level", "warn"));
    CHECK(STR_IS(r, "logger", "app"));
    CHECK(STR_IS(r, "user", "al\nice"));
    CHECK(raw_is(r, "n", 'n', "-3"));
  }

  /* With a time and a trace context given (ringlog_log_site_ctx). */
  ringlog_trace_context tc;
  memset(&tc, 0, sizeof tc);
  before = stats();
  EXPECT_RC(ringlog_log_site_ctx(site, 0, &tc, v, 2), RINGLOG_E_TRACE);
  EXPECT_ERROR_MENTIONS("all zeros");
  EXPECT_RC(ringlog_log_site_ctx(NULL, 0, NULL, v, 2), RINGLOG_E_NULL);
  EXPECT_RC(ringlog_log_site_ctx(site, 0, NULL, NULL, 2), RINGLOG_E_NULL);
  EXPECT_ERROR_MENTIONS("ringlog_log_site_ctx");
  EXPECT_RC(ringlog_log_site_ctx(site, 0, NULL, v, 3), RINGLOG_E_FIELD);
  after = stats();
  CHECK(after.rejected_invalid - before.rejected_invalid == 3);
  for (int i = 0; i < 16; i++) tc.trace_id[i] = (uint8_t)(i + 1);
  for (int i = 0; i < 8; i++) tc.span_id[i] = (uint8_t)(0xa0 + i);
  tc.flags = 1;
  ringlog_value given[] = {RINGLOG_V_STR("given"), RINGLOG_V_I64(7)};
  EXPECT_RC(ringlog_log_site_ctx(site, 1700000000123456789ull, &tc, given, 2), RINGLOG_OK);
  /* 0 and NULL: now, and the thread's context (none here). */
  ringlog_value now[] = {RINGLOG_V_STR("now"), RINGLOG_V_I64(8)};
  EXPECT_RC(ringlog_log_site_ctx(site, 0, NULL, now, 2), RINGLOG_OK);
  CHECK(READ_NEW() == 2);
  int seen = 0;
  for (int i = 0; i < g_nrecs; i++) {
    const jrecord *x = &g_recs[i];
    if (STR_IS(x, "user", "given")) {
      seen++;
      CHECK(STR_IS(x, "ts", "2023-11-14T22:13:20.123456789Z"));
      CHECK(STR_IS(x, "trace_id", "0102030405060708090a0b0c0d0e0f10"));
      CHECK(STR_IS(x, "span_id", "a0a1a2a3a4a5a6a7"));
      CHECK(STR_IS(x, "trace_flags", "01"));
      CHECK(raw_is(x, "n", 'n', "7"));
    } else if (STR_IS(x, "user", "now")) {
      seen++;
      CHECK(!STR_IS(x, "ts", "1970-01-01T00:00:00.000000000Z"));
      CHECK(!STR_IS(x, "trace_id", "0102030405060708090a0b0c0d0e0f10"));
    }
  }
  CHECK(seen == 2);
  ringlog_site_free(site);
  ringlog_site_free(NULL); /* ignored */
}

/* ----------------------------------------------------------------- main */

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  if (strlen(argv[1]) > 600 || strpbrk(argv[1], "\"\\") != NULL) {
    fprintf(stderr, "abi_bad_input: the scratch directory path must be short and have no quotes\n");
    return 2;
  }
  snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
  snprintf(g_first_log, sizeof g_first_log, "%s/before_init.log", g_dir);
  snprintf(g_reinit_log, sizeof g_reinit_log, "%s/reinit.log", g_dir);

  /* Before any ringlog call: the runtime that starts on its own reads these. */
  char env_cfg[1024];
  snprintf(env_cfg, sizeof env_cfg,
           "{\"ring_dir\": \"%s/rings\", \"ring_capacity\": 4096, \"full_policy\": \"block\", "
           "\"block_timeout_ms\": 5000}",
           g_dir);
  setenv("RINGLOG_CONFIG", env_cfg, 1);
  setenv("RINGLOG_OUTPUT", g_first_log, 1);
  unsetenv("RINGLOG_LEVEL");
  unsetenv("RINGLOG_FORMAT");

  CASE(before_init_uses_defaults);
  if (g_app == NULL) {
    printf("0 passed, 1 failed\n");
    return 1;
  }
  CASE(second_init_while_running);
  CASE(null_logger);
  CASE(null_message);
  CASE(null_fields);
  CASE(null_pointers_inside_fields);
  CASE(field_type_out_of_range);
  CASE(arrays_are_written_as_lists);
  CASE(call_site_bad_input);
  CASE(level_out_of_range);
  CASE(invalid_utf8);
  CASE(embedded_nul);
  CASE(control_characters);
  CASE(record_larger_than_ring);
  CASE(malformed_traceparent);
  CASE(recover_bad_input);
  CASE(sink_stats_bad_input);
  CASE(reconfigure_level);
  CASE(log_after_shutdown);
  CASE(malformed_config);
  CASE(reinit_after_shutdown);

  for (int i = 0; i < g_nrecs; i++) free(g_raw[i]);
  ringlog_logger_free(g_app);
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed ? 1 : 0;
}
