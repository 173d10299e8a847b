// docs/coming-from-pm2.md shows the importer's own tables (cli/pm2_tables.h):
// every key and command row, and no row that is not in them, so the two
// cannot drift.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/pm2_tables.h"

namespace {

namespace pm2 = muster::cli::pm2;

std::string doc() {
  std::ifstream in(std::string(MUSTER_SOURCE_DIR) + "/docs/coming-from-pm2.md");
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The table rows (lines starting "| `") under the heading `title`.
std::vector<std::string> rows_under(const std::string& text, const std::string& title) {
  auto at = text.find("\n## " + title + "\n");
  REQUIRE(at != std::string::npos);
  const auto end = text.find("\n## ", at + 1);
  std::istringstream lines(text.substr(at, end == std::string::npos ? end : end - at));
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("| `", 0) == 0) rows.push_back(line);
  return rows;
}

// "a, b" as "`a`, `b`"; none as an em dash.
std::string code_list(std::string_view items) {
  if (items.empty()) return "—";
  std::string out;
  while (!items.empty()) {
    auto comma = items.find(", ");
    out += (out.empty() ? "`" : ", `") + std::string(items.substr(0, comma)) + "`";
    items = comma == std::string_view::npos ? "" : items.substr(comma + 2);
  }
  return out;
}

}  // namespace

TEST_CASE("the doc's key map is the importer's key table", "[import-pm2]") {
  const auto rows = rows_under(doc(), "Ecosystem keys");
  CHECK(rows.size() == pm2::kKeys.size());
  for (const auto& key : pm2::kKeys) {
    const std::string row = "| `" + std::string(key.pm2) + "` | " + code_list(key.muster) + " | " +
                            std::string(key.note) + " |";
    INFO(row);
    CHECK(std::find(rows.begin(), rows.end(), row) != rows.end());
  }
}

TEST_CASE("the doc's command map is the importer's command table", "[import-pm2]") {
  const auto rows = rows_under(doc(), "Commands");
  CHECK(rows.size() == pm2::kCommands.size());
  for (const auto& command : pm2::kCommands) {
    const std::string row = "| `" + std::string(command.pm2) + "` | " +
                            code_list(command.musterctl.empty() ? "" : command.musterctl) + " | " +
                            std::string(command.note) + " |";
    INFO(row);
    CHECK(std::find(rows.begin(), rows.end(), row) != rows.end());
  }
}
