// The records as JSON, and back with the first missing or bad field named:
// a state written by one musterd and read by another must fail loudly, never
// come back half-read.
#include "daemon/supervision/handover_records.h"

#include <boost/json.hpp>

namespace muster::daemon {
namespace json = boost::json;
namespace {

// Bytes that may not be UTF-8 (a V8 payload, a partial output line) as hex:
// Boost.JSON refuses a string that is not UTF-8.
std::string to_hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
  }
  return out;
}

struct Hex {
  std::string& bytes;
};

json::value optional_json(const std::optional<std::int64_t>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

template <class T>
Result<T> read_record(const json::value& v);

// Reads the fields of one record; the first failure is kept, and said with
// the record's name and the field's.
class Fields {
 public:
  Fields(const json::value& v, std::string what) : what_(std::move(what)) {
    object_ = v.if_object();
    if (!object_) error_ = Error{what_ + ": not an object"};
  }

  template <class T>
  Fields& operator()(const char* key, T&& out) {
    if (error_) return *this;
    const json::value* v = object_->if_contains(key);
    if (!v) {
      error_ = Error{what_ + ": '" + key + "' is missing"};
    } else if (auto why = read(*v, out)) {
      error_ = Error{what_ + ": '" + key + "' " + *why};
    }
    return *this;
  }

  template <class T>
  Result<T> result(T value) const {
    if (error_) return *error_;
    return value;
  }

 private:
  using Why = std::optional<std::string>;

  static Why read(const json::value& v, bool& out) {
    if (!v.is_bool()) return "is not true or false";
    out = v.get_bool();
    return std::nullopt;
  }
  static Why read(const json::value& v, std::string& out) {
    if (!v.is_string()) return "is not a string";
    out = std::string(v.get_string());
    return std::nullopt;
  }
  static Why read(const json::value& v, Hex out) {
    auto* s = v.if_string();
    auto bytes = s ? from_hex(*s) : std::nullopt;
    if (!bytes) return "is not a hex string";
    out.bytes = std::move(*bytes);
    return std::nullopt;
  }
  template <class T>
  requires std::is_integral_v<T>
  static Why read(const json::value& v, T& out) {
    boost::system::error_code ec;
    T n = v.is_number() ? v.to_number<T>(ec) : T{};
    if (!v.is_number() || ec) return "is not an integer in range";
    out = n;
    return std::nullopt;
  }
  template <class T>
  static Why read(const json::value& v, std::optional<T>& out) {
    out.reset();
    if (v.is_null()) return std::nullopt;
    T value{};
    if (auto why = read(v, value)) return why;
    out = value;
    return std::nullopt;
  }
  template <class T>
  static Why read(const json::value& v, std::vector<T>& out) {
    auto* array = v.if_array();
    if (!array) return "is not an array";
    out.clear();
    for (std::size_t i = 0; i < array->size(); ++i) {
      if constexpr (std::is_class_v<T> && !std::is_same_v<T, std::string>) {
        auto item = read_record<T>((*array)[i]);
        if (!item) return "[" + std::to_string(i) + "]: " + item.error().message;
        out.push_back(std::move(*item));
      } else {
        T item{};
        if (auto why = read((*array)[i], item)) return "[" + std::to_string(i) + "] " + *why;
        out.push_back(std::move(item));
      }
    }
    return std::nullopt;
  }

  const json::object* object_ = nullptr;
  std::string what_;
  std::optional<Error> error_;
};

json::value to_json(const ExitEntry& e) {
  return {{"time", e.time},
          {"id", e.id},
          {"pid", e.pid},
          {"code", e.code ? json::value(*e.code) : nullptr},
          {"signal", e.signal ? json::value(*e.signal) : nullptr},
          {"voluntary", e.voluntary},
          {"uptime_ms", e.uptime_ms},
          {"description", e.description}};
}

json::value to_json(const SlotRecord& s) {
  json::array exits;
  for (const auto& e : s.exits) exits.push_back(to_json(e));
  return {{"restarts", s.restarts},
          {"backoff", s.backoff},
          {"crash_ages", json::value_from(s.crash_ages)},
          {"crash_loop", s.crash_loop},
          {"last_exit", s.last_exit},
          {"next_try_ms", optional_json(s.next_try_ms)},
          {"exits", std::move(exits)}};
}

template <>
Result<ExitEntry> read_record(const json::value& v) {
  ExitEntry e;
  return Fields(v, "exit")("time", e.time)("id", e.id)("pid", e.pid)("code", e.code)(
             "signal", e.signal)("voluntary", e.voluntary)("uptime_ms", e.uptime_ms)("description",
                                                                                     e.description)
      .result(std::move(e));
}

template <>
Result<SlotRecord> read_record(const json::value& v) {
  SlotRecord s;
  return Fields(v, "slot")("restarts", s.restarts)("backoff", s.backoff)(
             "crash_ages", s.crash_ages)("crash_loop", s.crash_loop)("last_exit", s.last_exit)(
             "next_try_ms", s.next_try_ms)("exits", s.exits)
      .result(std::move(s));
}

}  // namespace

json::value to_json(const WorkerRecord& r) {
  return {{"app", r.app},
          {"id", r.id},
          {"instance", r.instance},
          {"restarts", r.restarts},
          {"pid", r.pid},
          {"uptime_ms", r.uptime_ms},
          {"state", r.state},
          {"ready", r.ready},
          {"asked_server", r.asked_server},
          {"after_disconnect", r.after_disconnect},
          {"connections", r.connections},
          {"seq", r.seq},
          {"server_keys", json::value_from(r.server_keys)},
          {"servers", json::value_from(r.servers)},
          {"server_sockets", json::value_from(r.server_sockets)},
          {"status_text", r.status_text},
          {"inspector", r.inspector},
          {"inspector_signal", r.inspector_signal},
          {"must_listen", r.must_listen},
          {"reloading", r.reloading},
          {"channel", {{"present", r.channel}, {"serialization", r.serialization}}},
          {"channel_fd", r.channel_fd},
          {"stdout_fd", r.stdout_fd},
          {"stderr_fd", r.stderr_fd},
          {"channel_unread", to_hex(r.channel_unread)},
          {"stdout_partial", to_hex(r.stdout_partial)},
          {"stderr_partial", to_hex(r.stderr_partial)}};
}

template <>
Result<WorkerRecord> from_json(const json::value& v) {
  WorkerRecord r;
  Fields f(v, "worker record");
  f("app", r.app)("id", r.id)("instance", r.instance)("restarts", r.restarts)("pid", r.pid)(
      "uptime_ms", r.uptime_ms)("state", r.state)("ready", r.ready)("asked_server", r.asked_server)(
      "after_disconnect", r.after_disconnect)("connections", r.connections)("seq", r.seq)(
      "server_keys", r.server_keys)("servers", r.servers)("server_sockets", r.server_sockets)(
      "status_text", r.status_text)("inspector", r.inspector)(
      "inspector_signal", r.inspector_signal)("must_listen", r.must_listen)(
      "reloading", r.reloading)("channel_fd", r.channel_fd)("stdout_fd", r.stdout_fd)(
      "stderr_fd", r.stderr_fd)("channel_unread", Hex{r.channel_unread})(
      "stdout_partial", Hex{r.stdout_partial})("stderr_partial", Hex{r.stderr_partial});
  auto done = f.result(std::move(r));
  if (!done) return done;
  auto* channel = v.as_object().if_contains("channel");
  WorkerRecord& out = *done;
  auto read = Fields(channel ? *channel : json::value(), "worker record: 'channel'")(
                  "present", out.channel)("serialization", out.serialization)
                  .result(0);
  if (!read) return read.error();
  return done;
}

json::value to_json(const AppRecord& r) {
  json::array slots;
  for (const auto& s : r.slots) slots.push_back(to_json(s));
  return {{"name", r.name},
          {"state", r.state},
          {"instances", r.instances},
          {"counters",
           {{"exits", r.exits},
            {"crashes", r.crashes},
            {"restarts", r.restarts},
            {"reloads_done", r.reloads_done},
            {"reloads_failed", r.reloads_failed},
            {"memory_replacements", r.memory_replacements},
            {"exited_connections", r.exited_connections},
            {"failures", r.failures}}},
          {"retry_ms", optional_json(r.retry_ms)},
          {"slots", std::move(slots)}};
}

template <>
Result<AppRecord> from_json(const json::value& v) {
  AppRecord r;
  auto done = Fields(v, "app record")("name", r.name)("state", r.state)("instances", r.instances)(
                  "retry_ms", r.retry_ms)("slots", r.slots)
                  .result(std::move(r));
  if (!done) return done;
  auto* counters = v.as_object().if_contains("counters");
  AppRecord& out = *done;
  auto read =
      Fields(counters ? *counters : json::value(), "app record: 'counters'")("exits", out.exits)(
          "crashes", out.crashes)("restarts", out.restarts)("reloads_done", out.reloads_done)(
          "reloads_failed", out.reloads_failed)("memory_replacements", out.memory_replacements)(
          "exited_connections", out.exited_connections)("failures", out.failures)
          .result(0);
  if (!read) return read.error();
  return done;
}

}  // namespace muster::daemon
