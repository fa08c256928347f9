/*
 * ringlog.hpp: a header-only C++17 layer over the ringlog C ABI (ringlog.h).
 *
 *   ringlog::Init init;                                  // optional; shuts down in its destructor
 *   auto log = ringlog::Logger::get("billing");
 *   auto req = log.with(ringlog::field("request_id", id));
 *   req.info("charge ok", ringlog::field("cents", 1250), ringlog::field("card", card_bytes_view),
 *            ringlog::group("user", ringlog::field("name", name), ringlog::field("vip", true)));
 *
 * FIELDS
 *   ringlog::field(key, value) picks the field type from the value's C++
 *   type: std::string_view, const char * and std::string give STR (a NULL
 *   const char * gives NULL); signed integers give I64, unsigned integers
 *   U64, floating point F64, bool BOOL, nullptr NULL, and
 *   ringlog::bytes(ptr, len) gives BYTES (written as base64). char is
 *   refused (say field(k, std::string_view(&c, 1)) or field(k, int{c})),
 *   and so is any other pointer, which would otherwise turn into a bool.
 *   ringlog::group(key, fields...) gives a GROUP (written as an object);
 *   groups nest. A raw ringlog_field may be passed wherever a field may.
 *
 * OWNERSHIP
 *   A Field is a view: it points at the key and at string or byte data it
 *   was made from and owns nothing. Keep that data alive until the call that
 *   takes the field returns; temporaries inside the logging statement live
 *   long enough. A Group owns its child fields and groups by value (in a
 *   std::tuple and a std::array) and so may be stored, copied and reused
 *   with the same rule for the data its fields point at. ringlog copies
 *   everything during each call and keeps no pointer afterwards.
 *   Logger owns one ringlog_logger handle: it is move-only and frees the
 *   handle in its destructor. Init owns the runtime's life: its destructor
 *   calls ringlog_shutdown (after which every logger refuses records with
 *   RINGLOG_E_SHUTDOWN). TraceScope owns the calling thread's trace context
 *   for its scope and clears it on exit.
 *
 * ERRORS
 *   Set-up calls (Init, Logger::get, Logger::with, TraceScope, flush, stats)
 *   throw ringlog::Error, a std::runtime_error carrying the RINGLOG_E_* code
 *   and ringlog_last_error(). The logging calls are noexcept and return the
 *   ringlog_result of ringlog_log, as the hot path should not throw.
 *
 * COST
 *   The logging calls check the level first (one relaxed atomic load) and
 *   return RINGLOG_OK at once when it is off, building nothing; only the
 *   arguments themselves are evaluated, as for any C++ call, and field()
 *   only records a pointer and a length. When the level is on they build a
 *   stack array of ringlog_field and call ringlog_log once. Nothing here
 *   allocates.
 *
 * THREADS
 *   Every function may be called from any thread. A Logger's const members
 *   (enabled, the logging calls, with) may be used by many threads at once;
 *   moving, assigning or destroying it needs exclusive access. Fields and
 *   Groups may be shared read-only between threads (a logging call copies a
 *   group before binding it). A TraceScope belongs to the thread that made
 *   it and must be destroyed on that thread, in reverse order of creation.
 */
#ifndef RINGLOG_HPP
#define RINGLOG_HPP

#include <ringlog.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace ringlog {

/* ------------------------------------------------------------------ errors */

/* A failed ringlog call: code() is the RINGLOG_E_* value, what() names the
 * call and carries ringlog_last_error(). */
class Error : public std::runtime_error {
 public:
  Error(ringlog_result code, const std::string& what) : std::runtime_error(what), code_(code) {}
  ringlog_result code() const noexcept { return code_; }

 private:
  ringlog_result code_;
};

/* The calling thread's last error message (owned by ringlog; valid until the
 * next ringlog call on this thread). */
inline const char* last_error() noexcept { return ringlog_last_error(); }

/* The library version, e.g. "0.1.0". */
inline const char* version() noexcept { return ringlog_version(); }

namespace detail {
inline void check(ringlog_result rc, const char* call) {
  if (rc != RINGLOG_OK) {
    throw Error(rc, std::string(call) + " failed (code " + std::to_string(rc) + "): " + ringlog_last_error());
  }
}
}  // namespace detail

/* ------------------------------------------------------------------ levels */

/* OpenTelemetry severity numbers; any number 1..24 may be cast to Level. */
enum class Level : ringlog_level {
  trace = RINGLOG_LEVEL_TRACE,
  debug = RINGLOG_LEVEL_DEBUG,
  info = RINGLOG_LEVEL_INFO,
  warn = RINGLOG_LEVEL_WARN,
  error = RINGLOG_LEVEL_ERROR,
  fatal = RINGLOG_LEVEL_FATAL,
};

/* ------------------------------------------------------------------ fields */

/* One key/value pair: a view of the key and of any string or byte data. */
struct Field {
  ringlog_field raw;
};

/* A byte string for a BYTES field: see bytes(). */
struct Bytes {
  const void* ptr;
  std::size_t len;
};

/* Marks `len` bytes at `ptr` as a BYTES value (written as base64). */
inline constexpr Bytes bytes(const void* ptr, std::size_t len) noexcept { return Bytes{ptr, len}; }

namespace detail {
inline ringlog_field make(std::string_view key, ringlog_field_type type) noexcept {
  ringlog_field f{};
  f.key = key.data();
  f.key_len = key.size();
  f.type = type;
  return f;
}

inline Field text(std::string_view key, const char* ptr, std::size_t len) noexcept {
  Field f{make(key, RINGLOG_FIELD_STR)};
  f.raw.value.str.ptr = ptr;
  f.raw.value.str.len = len;
  return f;
}

template <class T>
inline constexpr bool is_char_v =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char16_t> ||
    std::is_same_v<T, char32_t>;

template <class T>
inline constexpr bool is_signed_int_v =
    std::is_integral_v<T> && std::is_signed_v<T> && !std::is_same_v<T, bool> && !is_char_v<T>;

template <class T>
inline constexpr bool is_unsigned_int_v =
    std::is_integral_v<T> && std::is_unsigned_v<T> && !std::is_same_v<T, bool> && !is_char_v<T>;
}  // namespace detail

/* STR from text. */
inline Field field(std::string_view key, std::string_view value) noexcept {
  return detail::text(key, value.data(), value.size());
}
inline Field field(std::string_view key, const std::string& value) noexcept {
  return detail::text(key, value.data(), value.size());
}
/* STR from a NUL-terminated string; a NULL pointer gives a NULL field. */
inline Field field(std::string_view key, const char* value) noexcept {
  if (value == nullptr) return Field{detail::make(key, RINGLOG_FIELD_NULL)};
  return detail::text(key, value, std::char_traits<char>::length(value));
}
inline Field field(std::string_view key, char* value) noexcept {
  return field(key, static_cast<const char*>(value));
}

/* I64 from any signed integer. */
template <class T, std::enable_if_t<detail::is_signed_int_v<T>, int> = 0>
inline Field field(std::string_view key, T value) noexcept {
  Field f{detail::make(key, RINGLOG_FIELD_I64)};
  f.raw.value.i64 = static_cast<std::int64_t>(value);
  return f;
}

/* U64 from any unsigned integer. */
template <class T, std::enable_if_t<detail::is_unsigned_int_v<T>, int> = 0>
inline Field field(std::string_view key, T value) noexcept {
  Field f{detail::make(key, RINGLOG_FIELD_U64)};
  f.raw.value.u64 = static_cast<std::uint64_t>(value);
  return f;
}

/* F64 from any floating-point value (NaN and infinities are written as
 * strings). */
template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
inline Field field(std::string_view key, T value) noexcept {
  Field f{detail::make(key, RINGLOG_FIELD_F64)};
  f.raw.value.f64 = static_cast<double>(value);
  return f;
}

/* BOOL. */
template <class T, std::enable_if_t<std::is_same_v<T, bool>, int> = 0>
inline Field field(std::string_view key, T value) noexcept {
  Field f{detail::make(key, RINGLOG_FIELD_BOOL)};
  f.raw.value.boolean = value;
  return f;
}

/* NULL. */
inline Field field(std::string_view key, std::nullptr_t) noexcept {
  return Field{detail::make(key, RINGLOG_FIELD_NULL)};
}

/* BYTES. */
inline Field field(std::string_view key, Bytes value) noexcept {
  Field f{detail::make(key, RINGLOG_FIELD_BYTES)};
  f.raw.value.str.ptr = static_cast<const char*>(value.ptr);
  f.raw.value.str.len = value.len;
  return f;
}

/* Refused: a character (ambiguous: text or number?) and any other pointer
 * (it would silently become a bool). */
template <class T, std::enable_if_t<detail::is_char_v<T>, int> = 0>
Field field(std::string_view key, T value) = delete;
template <class T>
Field field(std::string_view key, T* value) = delete;

/* ------------------------------------------------------------------ groups */

template <class... Children>
class Group;

namespace detail {
template <class T>
struct is_group : std::false_type {};
template <class... C>
struct is_group<Group<C...>> : std::true_type {};

template <class T>
inline constexpr bool is_field_like_v =
    std::is_same_v<T, Field> || std::is_same_v<T, ringlog_field> || is_group<T>::value;

/* The ringlog_field for a child, binding nested groups in place. */
inline ringlog_field bind_field(Field& f) noexcept { return f.raw; }
inline ringlog_field bind_field(ringlog_field& f) noexcept { return f; }
template <class... C>
ringlog_field bind_field(Group<C...>& g) noexcept;
}  // namespace detail

/* A nested group of fields, written as an object under `key`. It owns its
 * children (fields and nested groups) by value and the ringlog_field array
 * that points at them, so it stays valid when stored, copied or moved; the
 * array is rebuilt each time the group is bound for a call. */
template <class... Children>
class Group {
  static_assert((detail::is_field_like_v<Children> && ...),
                "a group holds ringlog::field(...), ringlog::group(...) or ringlog_field values");

 public:
  template <class... Args>
  explicit Group(std::string_view key, Args&&... children) noexcept
      : key_(key), children_(std::forward<Args>(children)...), fields_{} {}

  std::string_view key() const noexcept { return key_; }
  static constexpr std::size_t size() noexcept { return sizeof...(Children); }

  /* Fills the array from the children (binding nested groups) and returns
   * the GROUP (or ARRAY) field pointing at it. Valid while this object is
   * neither moved nor destroyed nor bound again. */
  ringlog_field bind() noexcept {
    bind_children(std::index_sequence_for<Children...>{});
    ringlog_field f = detail::make(key_, type_);
    f.value.group.fields = fields_.data();
    f.value.group.n = fields_.size();
    return f;
  }

 private:
  template <std::size_t... I>
  void bind_children(std::index_sequence<I...>) noexcept {
    ((fields_[I] = detail::bind_field(std::get<I>(children_))), ...);
  }

  template <class... A>
  friend auto array(std::string_view key, A&&... items) noexcept;

  ringlog_field_type type_ = RINGLOG_FIELD_GROUP;
  std::string_view key_;
  std::tuple<Children...> children_;
  std::array<ringlog_field, sizeof...(Children)> fields_;
};

template <class... C>
ringlog_field detail::bind_field(Group<C...>& g) noexcept {
  return g.bind();
}

/* A GROUP field: group("user", field("name", n), field("id", 7)). */
template <class... Args>
inline Group<std::decay_t<Args>...> group(std::string_view key, Args&&... children) noexcept {
  return Group<std::decay_t<Args>...>(key, std::forward<Args>(children)...);
}

namespace detail {
/* An array member: a field, a group or an array as it is (its key is not
 * written), any other value through field() with an empty key. */
template <class T>
inline decltype(auto) item(T&& v) noexcept {
  using D = std::decay_t<T>;
  if constexpr (is_field_like_v<D>) {
    return std::forward<T>(v);
  } else {
    return field(std::string_view{}, std::forward<T>(v));
  }
}
}  // namespace detail

/* An ARRAY field, written as a JSON list: array("tags", "a", "b", 3,
 * group("", field("k", 1))). Members are values, fields, groups or arrays;
 * their keys are not written. */
template <class... A>
inline auto array(std::string_view key, A&&... items) noexcept {
  Group<std::decay_t<decltype(detail::item(std::forward<A>(items)))>...> g(
      key, detail::item(std::forward<A>(items))...);
  g.type_ = RINGLOG_FIELD_ARRAY;
  return g;
}

namespace detail {
/* Builds a stack array of the caller's fields and hands it to `f`. Groups
 * are copied into `args` first, so a group shared between threads is
 * never written. */
template <class Fn, class... Fs, std::size_t... I>
inline auto with_fields(Fn&& f, std::index_sequence<I...>, const Fs&... fs) noexcept {
  static_assert((is_field_like_v<Fs> && ...),
                "log arguments must be ringlog::field(...), ringlog::group(...) or ringlog_field");
  std::tuple<Fs...> args(fs...);
  (void)args;  // unused when there are no fields
  const std::array<ringlog_field, sizeof...(Fs)> arr{{bind_field(std::get<I>(args))...}};
  return f(arr.data(), arr.size());
}
}  // namespace detail

/* ------------------------------------------------------------------ logger */

/* A logger handle: move-only, freed in the destructor. */
class Logger {
 public:
  /* The root logger called `name`; starts ringlog with the defaults and the
   * environment if nothing started it. Throws Error. */
  static Logger get(std::string_view name) {
    ringlog_logger* h = nullptr;
    detail::check(ringlog_logger_get(name.data(), name.size(), &h), "ringlog_logger_get");
    return Logger(h);
  }

  /* Takes ownership of a handle from ringlog_logger_get/_with (may be NULL). */
  explicit Logger(ringlog_logger* handle) noexcept : h_(handle) {}
  Logger() noexcept = default;
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  Logger(Logger&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  Logger& operator=(Logger&& o) noexcept {
    if (this != &o) {
      ringlog_logger_free(h_);
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  ~Logger() { ringlog_logger_free(h_); }

  /* A child logger whose records all carry `fields` (copied now). Throws
   * Error. */
  template <class... Fs>
  Logger with(const Fs&... fields) const {
    ringlog_logger* out = nullptr;
    ringlog_result rc = detail::with_fields(
        [&](const ringlog_field* p, std::size_t n) { return ringlog_logger_with(h_, p, n, &out); },
        std::index_sequence_for<Fs...>{}, fields...);
    detail::check(rc, "ringlog_logger_with");
    return Logger(out);
  }

  /* True when a record at `level` would be logged; false for an empty
   * (moved-from) logger. */
  bool enabled(Level level) const noexcept {
    return ringlog_logger_enabled(h_, static_cast<ringlog_level>(level));
  }

  /* Logs one record. RINGLOG_OK when written or when the level is off;
   * otherwise the RINGLOG_E_* code (RINGLOG_E_NULL for an empty logger,
   * RINGLOG_E_LEVEL for a number outside 1..24). */
  template <class... Fs>
  ringlog_result log(Level level, std::string_view msg, const Fs&... fields) const noexcept {
    if (h_ == nullptr) return RINGLOG_E_NULL;
    if (!enabled(level)) {
      // Off, or not a level: let ringlog report (and record) the latter.
      const unsigned n = static_cast<unsigned>(level);
      return n >= 1 && n <= 24 ? RINGLOG_OK
                               : ringlog_log(h_, static_cast<ringlog_level>(level), msg.data(), msg.size(), nullptr, 0);
    }
    return detail::with_fields(
        [&](const ringlog_field* p, std::size_t n) {
          return ringlog_log(h_, static_cast<ringlog_level>(level), msg.data(), msg.size(), p, n);
        },
        std::index_sequence_for<Fs...>{}, fields...);
  }

  template <class... Fs>
  ringlog_result trace(std::string_view msg, const Fs&... fields) const noexcept {
    return log(Level::trace, msg, fields...);
  }
  template <class... Fs>
  ringlog_result debug(std::string_view msg, const Fs&... fields) const noexcept {
    return log(Level::debug, msg, fields...);
  }
  template <class... Fs>
  ringlog_result info(std::string_view msg, const Fs&... fields) const noexcept {
    return log(Level::info, msg, fields...);
  }
  template <class... Fs>
  ringlog_result warn(std::string_view msg, const Fs&... fields) const noexcept {
    return log(Level::warn, msg, fields...);
  }
  template <class... Fs>
  ringlog_result error(std::string_view msg, const Fs&... fields) const noexcept {
    return log(Level::error, msg, fields...);
  }
  template <class... Fs>
  ringlog_result fatal(std::string_view msg, const Fs&... fields) const noexcept {
    return log(Level::fatal, msg, fields...);
  }

  /* The C handle (still owned by this object). */
  ringlog_logger* native() const noexcept { return h_; }
  /* Gives up ownership of the C handle. */
  ringlog_logger* release() noexcept { return std::exchange(h_, nullptr); }
  explicit operator bool() const noexcept { return h_ != nullptr; }

 private:
  ringlog_logger* h_ = nullptr;
};

/* ----------------------------------------------------------- runtime, trace */

/* Starts ringlog for its lifetime: the constructor calls ringlog_init (with
 * no document: RINGLOG_CONFIG or the defaults), the destructor
 * ringlog_shutdown. The RINGLOG_LEVEL/_OUTPUT/_FORMAT overrides apply
 * either way. Throws Error (RINGLOG_E_CONFIG, RINGLOG_E_IO, or
 * RINGLOG_E_STATE when ringlog is already running, for instance because a
 * logger was requested before). */
class Init {
 public:
  Init() { detail::check(ringlog_init(nullptr, 0), "ringlog_init"); }
  explicit Init(std::string_view config_json) {
    detail::check(ringlog_init(config_json.data() != nullptr ? config_json.data() : "", config_json.size()),
                  "ringlog_init");
  }
  Init(const Init&) = delete;
  Init& operator=(const Init&) = delete;
  ~Init() { (void)ringlog_shutdown(); }
};

/* Sets the calling thread's trace context for the scope; clears it on exit.
 * Throws Error (RINGLOG_E_TRACE for a malformed traceparent). */
class TraceScope {
 public:
  explicit TraceScope(std::string_view traceparent) {
    detail::check(ringlog_context_set_traceparent(traceparent.data(), traceparent.size()),
                  "ringlog_context_set_traceparent");
  }
  TraceScope(const std::uint8_t (&trace_id)[16], const std::uint8_t (&span_id)[8], std::uint8_t flags) {
    detail::check(ringlog_context_set(trace_id, span_id, flags), "ringlog_context_set");
  }
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;
  ~TraceScope() { (void)ringlog_context_clear(); }
};

/* Waits until everything logged so far is written, at most `timeout_ms`.
 * Throws Error (RINGLOG_E_TIMEOUT, RINGLOG_E_SHUTDOWN, RINGLOG_E_STATE). */
inline void flush(std::uint64_t timeout_ms = 5000) { detail::check(ringlog_flush(timeout_ms), "ringlog_flush"); }

/* The counters. Throws Error (RINGLOG_E_STATE before anything started). */
inline ringlog_stats stats() {
  ringlog_stats s{};
  detail::check(ringlog_stats_get(&s), "ringlog_stats_get");
  return s;
}

/* Changes levels at run time (see ringlog_reconfigure). Throws Error. */
inline void reconfigure(std::string_view config_json) {
  detail::check(ringlog_reconfigure(config_json.data() != nullptr ? config_json.data() : "", config_json.size()),
                "ringlog_reconfigure");
}

/* Stops ringlog now (also done by Init's destructor and at exit). Throws
 * Error (RINGLOG_E_TIMEOUT). */
inline void shutdown() { detail::check(ringlog_shutdown(), "ringlog_shutdown"); }

}  // namespace ringlog

#endif /* RINGLOG_HPP */
