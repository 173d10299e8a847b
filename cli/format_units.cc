// Durations, byte counts and aligned tables as musterctl prints them
// (declared in cli/format.h).
#include <algorithm>
#include <cstdio>
#include <iterator>

#include "cli/format.h"

namespace muster::cli {

std::string format_duration(std::int64_t ms) {
  std::int64_t s = std::max<std::int64_t>(ms, 0) / 1000;
  auto two = [](std::int64_t big, const char* big_unit, std::int64_t small,
                const char* small_unit) {
    return std::to_string(big) + big_unit + std::to_string(small) + small_unit;
  };
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return two(s / 60, "m", s % 60, "s");
  if (s < 86400) return two(s / 3600, "h", s % 3600 / 60, "m");
  return two(s / 86400, "d", s % 86400 / 3600, "h");
}

std::string format_bytes(std::uint64_t bytes) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + "B";
  double value = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f%s", value, units[unit]);
  return text;
}

std::string format_table(const std::vector<Row>& rows, std::string_view indent,
                         const Paint& paint) {
  std::vector<std::size_t> widths;
  for (const Row& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    std::string line(indent);
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string_view colour = paint && !row[i].empty() ? paint(r, i) : std::string_view();
      line += colour;
      line += row[i];
      if (!colour.empty()) line += "\x1b[0m";
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();  // an empty last column
    out += line + '\n';
  }
  return out;
}

}  // namespace muster::cli
