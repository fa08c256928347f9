// spdlog's async logger next to ringlog's C ABI, on the same workload: one
// thread logs N records (default 1,000,000) "request handled" with
// user="alice", status=200 and latency_ms=12.5, written as one JSON line
// per record to a file. Neither side may lose a record: spdlog uses
// async_overflow_policy::block, ringlog "full_policy": "block", and every
// output file must have exactly N lines.
//
// spdlog: async_logger on its own thread pool (one worker, queue of
// 131072 messages) with a basic_file_sink_mt and a pattern that writes a
// JSON-looking line: the caller formats the fields into the message, the
// worker adds time, level and logger name. ringlog: ringlog_log with three
// typed fields, a file sink with the JSON encoder, a 16 MiB ring.
//
// Each measurement runs in a forked child, so both start cold:
//   paced  batches of 20 calls timed as a batch, 50 us spinning pause
//          between batches; percentiles of ns per call over the batches
//          after the first 20% (warm-up; those records still count in
//          the file).
//   burst  N calls back to back: caller ns per call = loop time / N;
//          end-to-end records/s = N / time until everything is in the
//          file (ringlog: ringlog_flush returned; spdlog: flush queued,
//          thread pool joined, file closed); process CPU per record.
// Rounds alternate which library goes first; the table shows medians.
//
// Usage: spdlog_vs_ringlog [N] [ROUNDS] [DIR]   (see run.sh)

#include <ringlog.h>

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBatch = 20;
constexpr auto kPause = std::chrono::microseconds(50);
constexpr size_t kSpdlogQueue = 131072;

double ns_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

double process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

void spin_pause() {
  auto until = Clock::now() + kPause;
  while (Clock::now() < until) {
  }
}

uint64_t count_lines(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  std::vector<char> buf(1 << 20);
  uint64_t n = 0;
  size_t k;
  while ((k = std::fread(buf.data(), 1, buf.size(), f)) > 0) n += std::count(buf.data(), buf.data() + k, '\n');
  std::fclose(f);
  return n;
}

std::string first_line(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {};
  char buf[1024];
  std::string s;
  if (std::fgets(buf, sizeof buf, f)) s = buf;
  std::fclose(f);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "spdlog_vs_ringlog: %s (%s)\n", what, ringlog_last_error());
  std::_Exit(2);
}

// ------------------------------------------------------------- backends

struct Ringlog {
  ringlog_logger* l = nullptr;
  ringlog_field f[3];

  explicit Ringlog(const std::string& path) {
    std::string cfg =
        R"({"ring_capacity": 16777216, "full_policy": "block", "block_timeout_ms": 60000,)"
        R"( "sinks": {"file": {"type": "file", "path": ")" +
        path + R"("}}})";
    if (ringlog_init(cfg.data(), cfg.size()) != RINGLOG_OK) die("ringlog_init");
    if (ringlog_logger_get("bench", 5, &l) != RINGLOG_OK) die("ringlog_logger_get");
    static const char user[] = "alice";
    f[0].key = "user";
    f[0].key_len = 4;
    f[0].type = RINGLOG_FIELD_STR;
    f[0].value.str = ringlog_bytes{user, 5};
    f[1].key = "status";
    f[1].key_len = 6;
    f[1].type = RINGLOG_FIELD_I64;
    f[1].value.i64 = 200;
    f[2].key = "latency_ms";
    f[2].key_len = 10;
    f[2].type = RINGLOG_FIELD_F64;
    f[2].value.f64 = 12.5;
  }

  inline void log() {
    static const char msg[] = "request handled";
    if (ringlog_log(l, RINGLOG_LEVEL_INFO, msg, sizeof msg - 1, f, 3) != RINGLOG_OK) die("ringlog_log");
  }

  void finish(uint64_t n) {
    if (ringlog_flush(120000) != RINGLOG_OK) die("ringlog_flush");
    ringlog_stats st{};
    ringlog_stats_get(&st);
    if (st.dropped_full != 0 || st.written != n) {
      std::fprintf(stderr, "ringlog: dropped %" PRIu64 " written %" PRIu64 " of %" PRIu64 "\n", st.dropped_full,
                   st.written, n);
      std::_Exit(2);
    }
    ringlog_logger_free(l);
    ringlog_shutdown();
  }
};

struct Spdlog {
  std::shared_ptr<spdlog::details::thread_pool> tp;
  std::shared_ptr<spdlog::async_logger> logger;

  explicit Spdlog(const std::string& path) {
    tp = std::make_shared<spdlog::details::thread_pool>(kSpdlogQueue, 1);
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
    logger = std::make_shared<spdlog::async_logger>("bench", std::move(sink), tp,
                                                    spdlog::async_overflow_policy::block);
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%FZ","level":"%l","logger":"%n","msg":"%v})",
                        spdlog::pattern_time_type::utc);
    logger->set_level(spdlog::level::info);
  }

  inline void log() {
    static const char* user = "alice";
    logger->info(R"(request handled","user":"{}","status":{},"latency_ms":{})", user, int64_t{200}, 12.5);
  }

  void finish(uint64_t) {
    logger->flush();  // queued behind every record
    logger.reset();
    tp.reset();  // joins the worker after it has drained the queue
  }
};

// --------------------------------------------------------------- child

using Result = std::map<std::string, double>;

template <class B>
Result run(B& b, bool paced, uint64_t n) {
  Result r;
  if (paced) {
    size_t batches = n / kBatch;
    std::vector<double> per_call;
    per_call.reserve(batches);
    for (size_t i = 0; i < batches; i++) {
      auto t0 = Clock::now();
      for (int k = 0; k < kBatch; k++) b.log();
      per_call.push_back(ns_since(t0) / kBatch);
      spin_pause();
    }
    b.finish(n);
    std::vector<double> v(per_call.begin() + batches / 5, per_call.end());
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v[size_t(std::llround(double(v.size() - 1) * q))]; };
    double sum = 0;
    for (double x : v) sum += x;
    r["p50_ns"] = at(0.50);
    r["p99_ns"] = at(0.99);
    r["p999_ns"] = at(0.999);
    r["mean_ns"] = sum / double(v.size());
  } else {
    double cpu0 = process_cpu_ns();
    auto t0 = Clock::now();
    for (uint64_t i = 0; i < n; i++) b.log();
    double calls = ns_since(t0);
    b.finish(n);
    double e2e = ns_since(t0);
    r["caller_ns"] = calls / double(n);
    r["e2e_rps"] = double(n) / (e2e / 1e9);
    r["cpu_ns_per_rec"] = (process_cpu_ns() - cpu0) / double(n);
  }
  return r;
}

// Runs one measurement in a forked child; returns its results.
Result child(const std::string& lib, bool paced, uint64_t n, const std::string& dir, std::string* sample) {
  std::string path = dir + "/" + lib + (paced ? "-paced" : "-burst") + ".log";
  std::remove(path.c_str());
  int fd[2];
  if (pipe(fd) != 0) die("pipe");
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(fd[0]);
    Result r;
    if (lib == "ringlog") {
      Ringlog b(path);
      r = run(b, paced, n);
    } else {
      Spdlog b(path);
      r = run(b, paced, n);
    }
    std::string out;
    for (auto& [k, v] : r) out += k + "=" + std::to_string(v) + "\n";
    if (write(fd[1], out.data(), out.size()) != ssize_t(out.size())) std::_Exit(3);
    std::_Exit(0);
  }
  close(fd[1]);
  std::string text;
  char buf[4096];
  ssize_t k;
  while ((k = read(fd[0], buf, sizeof buf)) > 0) text.append(buf, size_t(k));
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "%s/%s child failed (status %d)\n", lib.c_str(), paced ? "paced" : "burst", status);
    std::exit(1);
  }
  Result r;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string line = text.substr(pos, eol - pos);
    size_t eq = line.find('=');
    r[line.substr(0, eq)] = std::strtod(line.c_str() + eq + 1, nullptr);
    pos = eol + 1;
  }
  uint64_t lines = count_lines(path);
  if (lines != n) {
    std::fprintf(stderr, "%s/%s: %" PRIu64 " lines in %s, %" PRIu64 " logged\n", lib.c_str(),
                 paced ? "paced" : "burst", lines, path.c_str(), n);
    std::exit(1);
  }
  r["lines"] = double(lines);
  FILE* f = std::fopen(path.c_str(), "rb");
  std::fseek(f, 0, SEEK_END);
  r["bytes_per_line"] = double(std::ftell(f)) / double(n);
  std::fclose(f);
  *sample = first_line(path);
  std::remove(path.c_str());
  return r;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  std::string dir;
  if (argc > 3) {
    dir = argv[3];
  } else {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/spdlog_vs_ringlog.XXXXXX";
    std::vector<char> b(tmpl.begin(), tmpl.end());
    b.push_back('\0');
    if (!mkdtemp(b.data())) die("mkdtemp");
    dir = b.data();
  }
  std::printf("spdlog_vs_ringlog: %" PRIu64 " records per run, %d round(s), batches of %d with a %d us pause\n", n,
              rounds, kBatch, int(kPause.count()));
  std::printf("spdlog %d.%d.%d, ringlog %s\n", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH,
              ringlog_version());
  std::map<std::string, std::map<std::string, std::vector<double>>> res;
  std::map<std::string, std::string> samples;
  for (int round = 0; round < rounds; round++) {
    std::vector<std::string> order = {"ringlog", "spdlog"};
    if (round % 2) std::swap(order[0], order[1]);
    for (auto& lib : order) {
      for (bool paced : {true, false}) {
        std::string s;
        for (auto& [k, v] : child(lib, paced, n, dir, &s)) res[lib][k].push_back(v);
        samples[lib] = s;
      }
    }
    std::fprintf(stderr, "spdlog_vs_ringlog: round %d of %d done\n", round + 1, rounds);
  }
  if (argc <= 3) rmdir(dir.c_str());

  struct Row {
    const char* name;
    const char* key;
    bool higher_better;
    bool ratio;
  };
  const Row rows[] = {
      {"caller p50 ns/call (paced)", "p50_ns", false, true},
      {"caller p99 ns/call (paced)", "p99_ns", false, true},
      {"caller p99.9 ns/call (paced)", "p999_ns", false, true},
      {"caller mean ns/call (paced)", "mean_ns", false, true},
      {"caller ns/call (back-to-back)", "caller_ns", false, true},
      {"end-to-end records/s", "e2e_rps", true, true},
      {"process CPU ns/record", "cpu_ns_per_rec", false, true},
      {"bytes per line", "bytes_per_line", false, false},
      {"lines per file (each run)", "lines", true, false},
  };
  std::printf("\n%-32s %14s %14s %18s\n", "metric (median of rounds)", "ringlog", "spdlog", "ringlog advantage");
  for (const Row& row : rows) {
    double a = median(res["ringlog"][row.key]);
    double b = median(res["spdlog"][row.key]);
    char ratio[32] = "-";
    if (row.ratio) std::snprintf(ratio, sizeof ratio, "%.2fx", row.higher_better ? a / b : b / a);
    std::printf("%-32s %14.1f %14.1f %18s\n", row.name, a, b, ratio);
  }
  std::printf("\n(ratio > 1: ringlog is better by that factor; lower ns and higher records/s are better)\n");
  for (auto& [lib, s] : samples) std::printf("sample line, %s: %s\n", lib.c_str(), s.c_str());
  return 0;
}
