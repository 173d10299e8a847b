#include "daemon/output/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <systemd/sd-daemon.h>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "daemon/output/journal.h"

#include "ipc/utf8.h"

namespace muster::daemon {
namespace {

// %j: the message as a JSON string literal (quoted and escaped), so worker
// output with quotes, control characters or bytes that are not UTF-8 cannot
// break a JSON log line (ipc::make_json_printable, as on the control socket).
class JsonMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    std::string quoted = boost::json::serialize(boost::json::string(text));
    ipc::make_json_printable(quoted);
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessage>();
  }
};

// %q: the message with every control character (newline too: one record,
// one line) and every byte that is not UTF-8 written as \xHH
// (ipc::escape_controls). Worker output is logged here, and a terminal or
// journalctl showing the log must not act on its escape sequences, nor
// journald keep a line as "blob data".
class EscapedMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string escaped = ipc::escape_controls({msg.payload.data(), msg.payload.size()});
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedMessage>();
  }
};

// %P: the sd-daemon(3) priority prefix of the line's level ("<4>" for a
// warning), which journald turns into the entry's PRIORITY= and strips.
class JournalPriority : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const char* prefix = SD_INFO;
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug: prefix = SD_DEBUG; break;
      case spdlog::level::info: prefix = SD_INFO; break;
      case spdlog::level::warn: prefix = SD_WARNING; break;
      case spdlog::level::err: prefix = SD_ERR; break;
      case spdlog::level::critical: prefix = SD_CRIT; break;
      case spdlog::level::off:
      case spdlog::level::n_levels: break;
    }
    dest.append(prefix, prefix + std::char_traits<char>::length(prefix));
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriority>();
  }
};

spdlog::level::level_enum to_spdlog(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::trace: return spdlog::level::trace;
    case config::LogLevel::debug: return spdlog::level::debug;
    case config::LogLevel::info: return spdlog::level::info;
    case config::LogLevel::warn: return spdlog::level::warn;
    case config::LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void setup_logging(config::LogLevel level, config::LogFormat format) {
  auto logger = spdlog::stderr_logger_st("musterd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(to_spdlog(level));
  // Worker output is logged at info and must not be lost in a crash.
  spdlog::flush_on(spdlog::level::trace);
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  // Under systemd the journal stamps each line itself and reads its priority
  // from the prefix; a JSON line keeps its own "time" for whoever parses it.
  bool journal = stderr_is_journal();
  std::string prefix = journal ? "%P" : "";
  formatter->add_flag<JournalPriority>('P');
  switch (format) {
    case config::LogFormat::text:
      formatter->add_flag<EscapedMessage>('q');
      formatter->set_pattern(prefix + (journal ? "%l %q" : "%Y-%m-%dT%H:%M:%S.%e%z %l %q"));
      break;
    case config::LogFormat::json:
      formatter->add_flag<JsonMessage>('j').set_pattern(
          prefix + R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":%j})");
      break;
  }
  spdlog::set_formatter(std::move(formatter));
}

}  // namespace muster::daemon
