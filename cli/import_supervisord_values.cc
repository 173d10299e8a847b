#include "cli/import_supervisord_values.h"

#include <algorithm>
#include <cctype>

#include "config/config.h"

namespace muster::cli::supervisord {
namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string strip(const std::string& text) {
  std::size_t begin = text.find_first_not_of(" \t\n\r\f\v");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\n\r\f\v") - begin + 1);
}

}  // namespace

std::optional<bool> boolean(const std::string& text) {
  std::string s = lower(text);
  if (s == "yes" || s == "true" || s == "on" || s == "1") return true;
  if (s == "no" || s == "false" || s == "off" || s == "0") return false;
  return std::nullopt;
}

std::optional<std::int64_t> integer(const std::string& text) {
  std::string s = strip(text);
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i >= s.size() || s.size() > 18) return std::nullopt;
  if (!std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i), s.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
    return std::nullopt;
  return std::stoll(s);
}

std::optional<std::uint64_t> byte_size(const std::string& text) {
  std::string s = lower(text);
  std::uint64_t unit = 1;
  for (auto [suffix, size] :
       {std::pair{"kb", 1ULL << 10}, {"mb", 1ULL << 20}, {"gb", 1ULL << 30}}) {
    if (s.size() >= 2 && s.ends_with(suffix)) {
      s.resize(s.size() - 2);
      unit = size;
    }
  }
  auto n = integer(s);
  if (!n || *n < 0) return std::nullopt;
  return static_cast<std::uint64_t>(*n) * unit;
}

std::optional<std::vector<int>> exit_codes(const std::string& text) {
  std::vector<int> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = text.find(',', start);
    auto n = integer(text.substr(start, comma == std::string::npos ? comma : comma - start));
    if (!n || *n < 0 || *n > 255) return std::nullopt;
    out.push_back(static_cast<int>(*n));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::optional<std::string> auto_restart(const std::string& text) {
  if (auto b = boolean(text)) return std::string(*b ? "always" : "never");
  if (lower(text) == "unexpected") return std::string("on-failure");
  return std::nullopt;
}

std::optional<int> signal_number(const std::string& text) {
  std::string s = strip(text);
  if (auto n = integer(s)) {
    if (*n <= 0 || *n > 64) return std::nullopt;
    return static_cast<int>(*n);
  }
  return config::parse_signal(lower(s).starts_with("sig") ? s : "SIG" + s);
}

std::string size_text(std::uint64_t bytes) {
  for (auto [unit, size] : {std::pair{"GiB", 1ULL << 30}, {"MiB", 1ULL << 20}, {"KiB", 1ULL << 10}})
    if (bytes % size == 0) return std::to_string(bytes / size) + unit;
  return std::to_string(bytes) + "B";
}

LogFile log_file(const std::string& text, const std::string& home) {
  std::string s = lower(text);
  if (s == "none" || s == "off") return {LogFile::Kind::none, ""};
  if (s == "auto") return {LogFile::Kind::automatic, ""};
  if (s == "syslog") return {LogFile::Kind::syslog, ""};
  // os.path.expanduser, for the current user only.
  if (text == "~" || text.starts_with("~/")) return {LogFile::Kind::path, home + text.substr(1)};
  return {LogFile::Kind::path, text};
}

}  // namespace muster::cli::supervisord
