// Exercises every part of ringlog.hpp: it must compile warning-free with
// -std=c++17 -Wall -Wextra -Werror -Wpedantic. At run time it checks the
// field types the helpers pick and the group layout, then logs one record
// with every field type to stdout (the test checks that it is JSON).
#include <ringlog.hpp>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace {

int failures = 0;

void expect(bool ok, const char* what, int line) {
  if (!ok) {
    std::fprintf(stderr, "hpp_compile: line %d: %s\n", line, what);
    ++failures;
  }
}
#define EXPECT(x) expect((x), #x, __LINE__)

// Compile-time: the overload chosen for each C++ type.
template <class T, class = void>
struct can_field : std::false_type {};
template <class T>
struct can_field<T, std::void_t<decltype(ringlog::field("k", std::declval<T>()))>> : std::true_type {};

static_assert(can_field<int>::value && can_field<unsigned long long>::value && can_field<double>::value);
static_assert(can_field<std::string>::value && can_field<std::string_view>::value && can_field<const char*>::value);
static_assert(can_field<char*>::value && can_field<std::nullptr_t>::value && can_field<ringlog::Bytes>::value);
static_assert(!can_field<char>::value, "char is refused");
static_assert(!can_field<const int*>::value, "other pointers are refused");
static_assert(!can_field<void*>::value, "other pointers are refused");
static_assert(std::is_nothrow_move_constructible_v<ringlog::Logger>);
static_assert(!std::is_copy_constructible_v<ringlog::Logger>);
static_assert(!std::is_copy_constructible_v<ringlog::TraceScope>);
static_assert(!std::is_copy_constructible_v<ringlog::Init>);
static_assert(std::is_base_of_v<std::runtime_error, ringlog::Error>);

enum class Color { red };

void check_fields() {
  const std::string s = "std::string";
  const std::string_view sv = "view";
  char mutable_text[] = "mutable";
  const char* null_text = nullptr;
  const unsigned char raw[] = {0, 1, 0xff};

  EXPECT(ringlog::field("a", sv).raw.type == RINGLOG_FIELD_STR);
  EXPECT(ringlog::field("a", sv).raw.value.str.len == 4);
  EXPECT(ringlog::field("a", s).raw.value.str.ptr == s.data());
  EXPECT(ringlog::field("a", "literal").raw.type == RINGLOG_FIELD_STR);
  EXPECT(ringlog::field("a", "literal").raw.value.str.len == 7);
  EXPECT(ringlog::field("a", mutable_text).raw.type == RINGLOG_FIELD_STR);
  EXPECT(ringlog::field("a", null_text).raw.type == RINGLOG_FIELD_NULL);
  EXPECT(ringlog::field("key", 1).raw.key_len == 3);

  EXPECT(ringlog::field("a", static_cast<signed char>(-1)).raw.type == RINGLOG_FIELD_I64);
  EXPECT(ringlog::field("a", static_cast<short>(-2)).raw.value.i64 == -2);
  EXPECT(ringlog::field("a", -3).raw.type == RINGLOG_FIELD_I64);
  EXPECT(ringlog::field("a", -4L).raw.value.i64 == -4);
  EXPECT(ringlog::field("a", LLONG_MIN).raw.value.i64 == LLONG_MIN);
  EXPECT(ringlog::field("a", std::int8_t{-5}).raw.type == RINGLOG_FIELD_I64);

  EXPECT(ringlog::field("a", static_cast<unsigned char>(200)).raw.type == RINGLOG_FIELD_U64);
  EXPECT(ringlog::field("a", static_cast<unsigned short>(7)).raw.value.u64 == 7);
  EXPECT(ringlog::field("a", 8u).raw.type == RINGLOG_FIELD_U64);
  EXPECT(ringlog::field("a", 9ul).raw.type == RINGLOG_FIELD_U64);
  EXPECT(ringlog::field("a", ULLONG_MAX).raw.value.u64 == ULLONG_MAX);
  EXPECT(ringlog::field("a", std::size_t{10}).raw.type == RINGLOG_FIELD_U64);

  EXPECT(ringlog::field("a", 1.5f).raw.type == RINGLOG_FIELD_F64);
  EXPECT(ringlog::field("a", 2.5).raw.value.f64 == 2.5);
  EXPECT(ringlog::field("a", 3.5L).raw.value.f64 == 3.5);

  EXPECT(ringlog::field("a", true).raw.type == RINGLOG_FIELD_BOOL);
  EXPECT(ringlog::field("a", false).raw.value.boolean == false);
  EXPECT(ringlog::field("a", nullptr).raw.type == RINGLOG_FIELD_NULL);

  const ringlog::Field b = ringlog::field("a", ringlog::bytes(raw, sizeof raw));
  EXPECT(b.raw.type == RINGLOG_FIELD_BYTES);
  EXPECT(b.raw.value.str.len == 3 && static_cast<const void*>(b.raw.value.str.ptr) == raw);
  (void)Color::red;

  // Groups own their children and their array; binding fills it.
  auto g = ringlog::group("outer", ringlog::field("x", 1),
                          ringlog::group("inner", ringlog::field("y", "z"), ringlog::field("n", nullptr)),
                          ringlog::group("empty"));
  static_assert(decltype(g)::size() == 3);
  auto copy = g;  // still valid after a copy
  const ringlog_field f = copy.bind();
  EXPECT(f.type == RINGLOG_FIELD_GROUP && f.value.group.n == 3);
  EXPECT(std::string_view(f.key, f.key_len) == "outer");
  const ringlog_field* kids = f.value.group.fields;
  EXPECT(kids[0].type == RINGLOG_FIELD_I64 && kids[0].value.i64 == 1);
  EXPECT(kids[1].type == RINGLOG_FIELD_GROUP && kids[1].value.group.n == 2);
  EXPECT(kids[1].value.group.fields[0].type == RINGLOG_FIELD_STR);
  EXPECT(kids[1].value.group.fields[1].type == RINGLOG_FIELD_NULL);
  EXPECT(kids[2].type == RINGLOG_FIELD_GROUP && kids[2].value.group.n == 0);

  // Arrays are groups tagged ARRAY; plain values become keyless fields.
  auto a = ringlog::array("tags", "a", 2, ringlog::group("", ringlog::field("k", true)),
                          ringlog::array("", 1.5), ringlog::field("ignored", nullptr));
  static_assert(decltype(a)::size() == 5);
  const ringlog_field af = a.bind();
  EXPECT(af.type == RINGLOG_FIELD_ARRAY && af.value.group.n == 5);
  const ringlog_field* items = af.value.group.fields;
  EXPECT(items[0].type == RINGLOG_FIELD_STR && items[0].key_len == 0);
  EXPECT(items[1].type == RINGLOG_FIELD_I64 && items[1].value.i64 == 2);
  EXPECT(items[2].type == RINGLOG_FIELD_GROUP && items[2].value.group.n == 1);
  EXPECT(items[3].type == RINGLOG_FIELD_ARRAY && items[3].value.group.fields[0].type == RINGLOG_FIELD_F64);
  EXPECT(items[4].type == RINGLOG_FIELD_NULL);
}

}  // namespace

int main() {
  check_fields();

  try {
    ringlog::Init bad(R"({"levle": "debug"})");
    EXPECT(false && "a bad config must throw");
  } catch (const ringlog::Error& e) {
    EXPECT(e.code() == RINGLOG_E_CONFIG);
    EXPECT(std::strstr(e.what(), "levle") != nullptr);
  }

  ringlog::Init init(R"({"level": "trace", "sinks": {"out": {"type": "stdout"}}})");
  ringlog::Logger root = ringlog::Logger::get("hpp");
  EXPECT(static_cast<bool>(root));
  EXPECT(root.enabled(ringlog::Level::trace));

  const std::string owner = "ada";
  const unsigned char raw[] = {0xde, 0xad, 0xbe, 0xef};
  const auto shared_group = ringlog::group("limits", ringlog::field("max", 10u), ringlog::field("soft", true));
  ringlog::Logger child = root.with(ringlog::field("component", "hpp_compile"), shared_group);
  {
    ringlog::TraceScope scope("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    EXPECT(child.info("every field type", ringlog::field("str", owner), ringlog::field("sv", std::string_view("v")),
                      ringlog::field("cstr", "c"), ringlog::field("i64", -42), ringlog::field("u64", 42u),
                      ringlog::field("f64", 0.5), ringlog::field("nan", std::nan("")),
                      ringlog::field("bool", true), ringlog::field("null", nullptr),
                      ringlog::field("bytes", ringlog::bytes(raw, sizeof raw)),
                      ringlog::group("g", ringlog::field("a", 1), ringlog::group("h", ringlog::field("b", 2))),
                      ringlog::array("list", "x", 1, ringlog::array("", true)), shared_group) == RINGLOG_OK);
  }
  static const std::uint8_t trace_id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  static const std::uint8_t span_id[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  {
    ringlog::TraceScope scope(trace_id, span_id, 1);
    EXPECT(root.trace("trace") == RINGLOG_OK);
  }
  EXPECT(root.debug("debug") == RINGLOG_OK);
  EXPECT(root.warn("warn", ringlog::field("k", 1)) == RINGLOG_OK);
  EXPECT(root.error("error") == RINGLOG_OK);
  EXPECT(root.fatal("fatal") == RINGLOG_OK);
  EXPECT(root.log(static_cast<ringlog::Level>(24), "level 24") == RINGLOG_OK);
  EXPECT(root.log(static_cast<ringlog::Level>(0), "bad level") == RINGLOG_E_LEVEL);

  try {
    ringlog::TraceScope bad("00-bad");
    EXPECT(false && "a bad traceparent must throw");
  } catch (const ringlog::Error& e) {
    EXPECT(e.code() == RINGLOG_E_TRACE);
  }

  ringlog::reconfigure(R"({"level": "info"})");
  EXPECT(!root.enabled(ringlog::Level::debug));
  EXPECT(root.debug("off", ringlog::field("never", 1)) == RINGLOG_OK);

  ringlog::Logger moved = std::move(root);
  EXPECT(!root && moved);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT(root.info("from a moved-from logger") == RINGLOG_E_NULL);
  ringlog::Logger other;
  other = std::move(moved);
  ringlog_logger* h = other.release();
  ringlog::Logger adopted(h);
  EXPECT(adopted.native() == h);

  ringlog::flush(5000);
  const ringlog_stats s = ringlog::stats();
  EXPECT(s.logged == 7 && s.written == 7);
  EXPECT(std::strlen(ringlog::version()) > 0);
  EXPECT(ringlog::last_error() != nullptr);

  if (failures != 0) {
    std::fprintf(stderr, "hpp_compile: %d checks failed\n", failures);
    return 1;
  }
  return 0;
}
