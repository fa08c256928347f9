// A small request-handling service logging through ringlog.hpp.
//
// main() starts ringlog (ringlog::Init), then four std::thread workers
// handle simulated checkout requests. Each request gets a child logger
// carrying request_id and worker and runs inside a ringlog::TraceScope
// built from its traceparent header. Failed payments throw, are caught and
// logged at ERROR; a malformed traceparent throws ringlog::Error, which is
// caught and logged. At the end the counters are printed.
//
// Records go where the configuration says: by default JSON lines on stderr
// (RINGLOG_OUTPUT, RINGLOG_FORMAT and RINGLOG_CONFIG change that).
#include <ringlog.hpp>

#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kWorkers = 4;
constexpr int kRequestsPerWorker = 25;

class PaymentError : public std::runtime_error {
 public:
  PaymentError(int code, const std::string& reason) : std::runtime_error(reason), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

struct Request {
  std::uint64_t id;
  std::string traceparent;
  std::optional<std::string> user;
  std::int64_t cents;
  std::array<unsigned char, 6> session;
};

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 2685821657736338717ULL;
  }

 private:
  std::uint64_t state_;
};

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

Request make_request(std::uint64_t id, Rng& rng) {
  Request r{};
  r.id = id;
  r.traceparent = id == 42 ? std::string("00-garbage")
                           : "00-" + hex(rng.next() | 1) + hex(rng.next()) + "-" + hex(rng.next() | 1) + "-01";
  if (id % 5 != 0) r.user = id % 2 ? "alice" : "bob";
  r.cents = static_cast<std::int64_t>(rng.next() % 100000);
  for (auto& b : r.session) b = static_cast<unsigned char>(rng.next());
  return r;
}

void charge_card(const Request& r) {
  if (r.id % 7 == 3) throw PaymentError(402, "card_declined");
  if (r.cents > 90000) throw PaymentError(422, "amount_over_limit");
}

void handle(const ringlog::Logger& root, int worker, const Request& req) {
  const auto started = std::chrono::steady_clock::now();
  const std::string request_id = "req-" + std::to_string(req.id);
  const ringlog::Logger log = root.with(ringlog::field("request_id", request_id), ringlog::field("worker", worker));

  std::optional<ringlog::TraceScope> trace;
  try {
    trace.emplace(req.traceparent);
  } catch (const ringlog::Error& e) {
    log.warn("ignoring malformed traceparent header", ringlog::field("header", req.traceparent),
             ringlog::field("error", e.what()), ringlog::field("code", e.code()));
  }

  log.info("request received",
           ringlog::group("http", ringlog::field("method", "POST"), ringlog::field("path", "/v1/checkout")),
           req.user ? ringlog::field("user", *req.user) : ringlog::field("user", nullptr),
           ringlog::field("session", ringlog::bytes(req.session.data(), req.session.size())),
           ringlog::field("amount_cents", req.cents));

  try {
    charge_card(req);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    log.info("payment captured", ringlog::field("amount_cents", req.cents), ringlog::field("duration_ms", ms),
             ringlog::field("status", 200u));
  } catch (const PaymentError& e) {
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    log.error("payment failed", ringlog::field("error_code", e.code()), ringlog::field("reason", e.what()),
              ringlog::field("retryable", e.code() != 402), ringlog::field("duration_ms", ms));
  }
  log.debug("request done");  // off at the default level: returns at once
}

}  // namespace

int main() {
  try {
    ringlog::Init init;  // RINGLOG_CONFIG or the defaults; shuts down at scope exit
    const ringlog::Logger root = ringlog::Logger::get("service.cpp");

    if (root.info("service starting", ringlog::field("version", ringlog::version()),
                  ringlog::field("workers", kWorkers)) != RINGLOG_OK) {
      std::fprintf(stderr, "service: could not log: %s\n", ringlog::last_error());
    }

    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&root, w] {
        Rng rng(0x9e3779b97f4a7c15ULL * (static_cast<std::uint64_t>(w) + 1u));
        for (int i = 0; i < kRequestsPerWorker; ++i) {
          const auto id = static_cast<std::uint64_t>(i * kWorkers + w);
          handle(root, w, make_request(id, rng));
        }
        root.info("worker done", ringlog::field("worker", w), ringlog::field("requests", kRequestsPerWorker));
      });
    }
    for (auto& t : workers) t.join();

    root.info("service stopping");
    ringlog::flush(10000);
    const ringlog_stats s = ringlog::stats();
    std::printf("ringlog stats: logged=%" PRIu64 " written=%" PRIu64 " dropped_full=%" PRIu64
                " rejected_invalid=%" PRIu64 " bytes_written=%" PRIu64 "\n",
                s.logged, s.written, s.dropped_full, s.rejected_invalid, s.bytes_written);
    return 0;
  } catch (const ringlog::Error& e) {
    std::fprintf(stderr, "service: %s\n", e.what());
    return 1;
  }
}
