// Parsing and naming of the small value types used in config files:
// durations, sizes, signals, enums, and the default paths.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "config/config.h"

namespace muster::config {
namespace {

// Reads the decimal digits at the front of `text` into `value` and drops them
// from `text`. False when there are none or the number overflows.
bool take_number(std::string_view& text, std::uint64_t& value) {
  std::size_t n = 0;
  value = 0;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9') {
    if (__builtin_mul_overflow(value, 10u, &value) ||
        __builtin_add_overflow(value, std::uint64_t(text[n] - '0'), &value)) {
      return false;
    }
    ++n;
  }
  text.remove_prefix(n);
  return n > 0;
}

// Reads the letters at the front of `text` and drops them from `text`.
std::string_view take_unit(std::string_view& text) {
  std::size_t n = 0;
  while (n < text.size() && std::isalpha(static_cast<unsigned char>(text[n]))) ++n;
  std::string_view unit = text.substr(0, n);
  text.remove_prefix(n);
  return unit;
}

std::optional<std::uint64_t> duration_unit_ms(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60 * 1000;
  if (unit == "h") return 60 * 60 * 1000;
  return std::nullopt;
}

std::optional<std::uint64_t> size_unit_bytes(std::string_view unit) {
  if (unit == "B") return 1;
  if (unit == "KiB") return std::uint64_t(1) << 10;
  if (unit == "MiB") return std::uint64_t(1) << 20;
  if (unit == "GiB") return std::uint64_t(1) << 30;
  return std::nullopt;
}

struct SignalName {
  int number;
  const char* name;  // without the "SIG" prefix
};

// The standard Linux signals, in number order.
constexpr std::array<SignalName, 31> kSignals = {{
    {SIGHUP, "HUP"},   {SIGINT, "INT"},       {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},   {SIGFPE, "FPE"},
    {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},     {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"},     {SIGTERM, "TERM"}, {SIGSTKFLT, "STKFLT"},
    {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"},     {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"},
    {SIGTTIN, "TTIN"}, {SIGTTOU, "TTOU"},     {SIGURG, "URG"},   {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"}, {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"},
    {SIGIO, "IO"},     {SIGPWR, "PWR"},       {SIGSYS, "SYS"},
}};

}  // namespace

std::optional<Duration> parse_duration(const std::string& text) {
  std::string_view rest = text;
  if (rest.empty()) return std::nullopt;
  std::uint64_t total = 0;
  while (!rest.empty()) {
    std::uint64_t count = 0;
    if (!take_number(rest, count)) return std::nullopt;
    std::optional<std::uint64_t> unit = duration_unit_ms(take_unit(rest));
    if (!unit || __builtin_mul_overflow(count, *unit, &count) ||
        __builtin_add_overflow(total, count, &total)) {
      return std::nullopt;
    }
  }
  if (total > std::uint64_t(std::numeric_limits<Duration::rep>::max())) return std::nullopt;
  return Duration(static_cast<Duration::rep>(total));
}

std::string format_duration(Duration duration) {
  if (duration.count() == 0) return "0s";
  std::string out = duration.count() < 0 ? "-" : "";
  // Unsigned so that negating the most negative count is defined.
  std::uint64_t ms = static_cast<std::uint64_t>(duration.count());
  if (duration.count() < 0) ms = 0 - ms;
  const std::pair<std::uint64_t, const char*> units[] = {
      {3'600'000, "h"}, {60'000, "m"}, {1'000, "s"}, {1, "ms"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

std::optional<std::uint64_t> parse_size(const std::string& text) {
  std::string_view rest = text;
  std::uint64_t count = 0;
  if (!take_number(rest, count)) return std::nullopt;
  std::optional<std::uint64_t> unit = size_unit_bytes(take_unit(rest));
  if (!unit || !rest.empty() || __builtin_mul_overflow(count, *unit, &count)) {
    return std::nullopt;
  }
  return count;
}

std::optional<int> parse_signal(const std::string& text) {
  std::string name = text;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::string_view rest = name;
  if (rest.starts_with("SIG")) rest.remove_prefix(3);
  if (rest.empty()) return std::nullopt;

  std::uint64_t number = 0;
  std::string_view digits = rest;
  if (take_number(digits, number)) {
    if (!digits.empty() || number < 1 || number > std::uint64_t(SIGRTMAX)) return std::nullopt;
    return static_cast<int>(number);
  }
  for (const SignalName& signal : kSignals) {
    if (rest == signal.name) return signal.number;
  }
  return std::nullopt;
}

std::string signal_name(int signo) {
  for (const SignalName& signal : kSignals) {
    if (signal.number == signo) return std::string("SIG") + signal.name;
  }
  return "SIG" + std::to_string(signo);
}

unsigned available_parallelism() {
  // The affinity mask may be larger than cpu_set_t on very big machines:
  // sched_getaffinity then fails with EINVAL and we retry with a larger set.
  for (int cpus = CPU_SETSIZE; cpus <= (1 << 20); cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (set == nullptr) break;
    std::size_t size = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(size, set);
    int rc = sched_getaffinity(0, size, set);
    int count = rc == 0 ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (rc == 0) return count > 0 ? static_cast<unsigned>(count) : 1;
    if (errno != EINVAL) break;
  }
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<unsigned>(online) : 1;
}

std::string default_config_path() {
  return env_value("MUSTER_CONFIG").value_or("/etc/muster/muster.toml");
}

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::trace: return "trace";
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "?";
}

const char* to_string(LogFormat format) {
  switch (format) {
    case LogFormat::text: return "text";
    case LogFormat::json: return "json";
  }
  return "?";
}

const char* to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::none: return "none";
    case Protocol::node: return "node";
    case Protocol::systemd: return "systemd";
  }
  return "?";
}

const char* to_string(Scheduling scheduling) {
  switch (scheduling) {
    case Scheduling::rr: return "rr";
    case Scheduling::none: return "none";
    case Scheduling::reuseport: return "reuseport";
  }
  return "?";
}

const char* to_string(Affinity affinity) {
  switch (affinity) {
    case Affinity::none: return "none";
    case Affinity::client_ip: return "client-ip";
  }
  return "?";
}

const char* to_string(Serialization serialization) {
  switch (serialization) {
    case Serialization::json: return "json";
    case Serialization::advanced: return "advanced";
  }
  return "?";
}

const char* to_string(Ready ready) {
  switch (ready) {
    case Ready::spawn: return "spawn";
    case Ready::online: return "online";
    case Ready::listening: return "listening";
    case Ready::notify: return "notify";
    case Ready::automatic: return "auto";
  }
  return "?";
}

const char* to_string(Output output) {
  switch (output) {
    case Output::log: return "log";
    case Output::file: return "file";
    case Output::journal: return "journal";
    case Output::inherit: return "inherit";
    case Output::null: return "null";
  }
  return "?";
}

const char* to_string(RestartMode mode) {
  switch (mode) {
    case RestartMode::always: return "always";
    case RestartMode::on_failure: return "on-failure";
    case RestartMode::never: return "never";
  }
  return "?";
}

}  // namespace muster::config
