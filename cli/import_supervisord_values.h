// supervisord's value types (supervisor/datatypes.py) as pure functions:
// each returns nullopt where supervisord raises ValueError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace muster::cli::supervisord {

std::optional<bool> boolean(const std::string& text);             // true/yes/on/1, false/no/off/0
std::optional<std::int64_t> integer(const std::string& text);     // Python's int()
std::optional<std::uint64_t> byte_size(const std::string& text);  // "50MB" = 50 * 1024 * 1024
std::optional<std::vector<int>> exit_codes(const std::string& text);  // "0,2", each 0..255
// autorestart: "always", "never" or "on-failure" (muster's restart values).
std::optional<std::string> auto_restart(const std::string& text);
// "TERM", "sigterm", "15" -> 15.
std::optional<int> signal_number(const std::string& text);
// A byte count as muster writes sizes: "50MiB", "512KiB", "100B".
std::string size_text(std::uint64_t bytes);

// A stdout_logfile / stderr_logfile value.
struct LogFile {
  enum class Kind { automatic, none, syslog, path } kind = Kind::automatic;
  std::string path;  // Kind::path: with "~" expanded

  bool operator==(const LogFile&) const = default;
};
LogFile log_file(const std::string& text, const std::string& home);

}  // namespace muster::cli::supervisord
