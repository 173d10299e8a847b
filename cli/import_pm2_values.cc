// Value conversions of the PM2 importer: PM2's string forms (args, sizes,
// times) as PM2 7 reads them (lib/tools/Config.js), and TOML text.
#include <cmath>
#include <regex>

#include "cli/import_pm2_parts.h"

namespace muster::cli::pm2 {

std::vector<std::string> split_args(const std::string& text) {
  // Config._valid's split of a string where an array is expected: KEY="..."
  // and KEY='...' stay whole (quotes kept), a quoted word loses its quotes.
  static const std::regex word(
      R"re([^\s"'=]+="[^"]*"|[^\s"'=]+='[^']*'|"([^"]*)"|'([^']*)'|\S+)re");
  std::vector<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), word), end; it != end; ++it) {
    std::string w = it->str();
    if (w.size() >= 2 && (w.front() == '"' || w.front() == '\'') && w.back() == w.front())
      w = w.substr(1, w.size() - 2);
    if (w.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(w);
  }
  return out;
}

std::string env_text(const json::value& value) {
  if (value.is_string()) return std::string(value.get_string());
  if (value.is_bool()) return value.get_bool() ? "true" : "false";
  if (value.is_null()) return "null";
  if (value.is_double()) {
    // As JavaScript prints a number: 3000, not 3000.0.
    double d = value.get_double();
    if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(std::int64_t(d));
  }
  return json::serialize(value);  // numbers, and objects as mergeEnvironmentVariables
}

std::string display(const json::value& value) { return json::serialize(value); }

std::optional<std::uint64_t> number_of(const json::value& value) {
  if (value.is_int64() && value.get_int64() >= 0) return std::uint64_t(value.get_int64());
  if (value.is_uint64()) return value.get_uint64();
  if (value.is_double() && value.get_double() >= 0) return std::uint64_t(value.get_double());
  if (value.is_string()) {
    // Config._valid parses numeric strings ("3000") where a number is expected.
    static const std::regex digits(R"(\s*(\d+)(\.\d*)?\s*)");
    std::smatch m;
    const std::string s(value.get_string());
    if (std::regex_match(s, m, digits)) return std::stoull(m[1].str());
  }
  return std::nullopt;
}

namespace {

std::string ms_text(std::uint64_t ms) {
  if (ms % 3'600'000 == 0 && ms) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// "NUMBER" + one unit letter of `units`, as PM2's sbyte and stime types.
std::optional<std::pair<std::uint64_t, char>> number_and_unit(const json::value& value,
                                                              const std::string& units) {
  if (auto n = number_of(value)) return std::pair{*n, '\0'};
  if (!value.is_string()) return std::nullopt;
  const std::string s(value.get_string());
  static const std::regex form(R"((\d+)([A-Za-z]))");
  std::smatch m;
  if (!std::regex_match(s, m, form) || units.find(m[2].str()[0]) == std::string::npos)
    return std::nullopt;
  return std::pair{std::stoull(m[1].str()), m[2].str()[0]};
}

}  // namespace

std::optional<std::string> duration_ms(const json::value& value) {
  if (auto n = number_of(value)) return ms_text(*n);
  return std::nullopt;
}

std::optional<std::string> pm2_uptime(const json::value& value) {
  auto nu = number_and_unit(value, "hms");
  if (!nu) return std::nullopt;
  const auto [n, unit] = *nu;
  if (unit == '\0') return ms_text(n);
  return std::to_string(n) + unit;
}

std::optional<std::string> pm2_size(const json::value& value) {
  auto nu = number_and_unit(value, "KMG");
  if (!nu) return std::nullopt;
  const auto [n, unit] = *nu;
  switch (unit) {
    case 'K': return std::to_string(n) + "KiB";
    case 'M': return std::to_string(n) + "MiB";
    case 'G': return std::to_string(n) + "GiB";
    default: break;
  }
  // Bytes: the largest unit that divides them, for a readable line.
  if (n && n % (1u << 30) == 0) return std::to_string(n >> 30) + "GiB";
  if (n && n % (1u << 20) == 0) return std::to_string(n >> 20) + "MiB";
  if (n && n % (1u << 10) == 0) return std::to_string(n >> 10) + "KiB";
  return std::to_string(n) + "B";
}

std::vector<std::string> string_list(const json::value& value) {
  std::vector<std::string> out;
  if (value.is_string()) out.push_back(std::string(value.get_string()));
  if (value.is_array())
    for (const auto& v : value.get_array()) out.push_back(env_text(v));
  return out;
}

std::string app_name(const std::string& name) {
  std::string out;
  for (unsigned char c : name)
    out += (std::isalnum(c) || c == '_' || c == '.' || c == '-') ? char(c) : '-';
  return out.empty() ? "app" : out;
}

}  // namespace muster::cli::pm2
