// docs/coming-from-supervisord.md's tables are the importer's tables
// (cli/import_supervisord_keys.cc), row for row, and every musterctl
// command it names is one musterctl has.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/import_supervisord_keys.h"
#include "ipc/verbs.h"

namespace sv = muster::cli::supervisord;

namespace {

std::string doc_text() {
  std::ifstream in(std::string(MUSTER_SOURCE_DIR) + "/docs/coming-from-supervisord.md");
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The table rows ("| `...") of the section under `heading`.
std::vector<std::string> rows_under(const std::string& doc, const std::string& heading) {
  std::size_t at = doc.find("\n## " + heading + "\n");
  REQUIRE(at != std::string::npos);
  std::size_t end = doc.find("\n## ", at + 1);
  std::istringstream lines(doc.substr(at, end == std::string::npos ? end : end - at));
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with("| `")) rows.push_back(line);
  return rows;
}

std::string cell(std::string_view text) {
  return text.empty() ? "—" : "`" + std::string(text) + "`";
}

std::string section_cell(std::string_view name) {
  bool single = name == "supervisord" || name == "unix_http_server" || name == "inet_http_server" ||
                name == "supervisorctl";
  return "`[" + std::string(name) + (single ? "" : ":x") + "]`";
}

}  // namespace

TEST_CASE("the doc's config key map is the importer's table", "[import-supervisord]") {
  auto rows = rows_under(doc_text(), "Config keys");
  std::vector<std::string> expected;
  for (const sv::KeyMapping& m : sv::program_keys())
    expected.push_back("| `" + std::string(m.key) + "` | " + cell(m.muster) + " | " +
                       std::string(m.note) + " |");
  CHECK(rows == expected);
}

TEST_CASE("the doc's section map is the importer's table", "[import-supervisord]") {
  auto rows = rows_under(doc_text(), "Other sections");
  std::vector<std::string> expected;
  for (const sv::KeyMapping& m : sv::other_sections())
    expected.push_back("| " + section_cell(m.key) + " | " + cell(m.muster) + " | " +
                       std::string(m.note) + " |");
  CHECK(rows == expected);
}

TEST_CASE("the doc's command map is the importer's, and names musterctl's verbs",
          "[import-supervisord]") {
  auto rows = rows_under(doc_text(), "Commands");
  std::vector<std::string> expected;
  for (const sv::CommandMapping& m : sv::commands()) {
    expected.push_back("| `" + std::string(m.supervisorctl) + "` | " + cell(m.musterctl) + " | " +
                       std::string(m.note) + " |");
    std::string_view command = m.musterctl;
    if (!command.starts_with("musterctl ")) continue;
    command.remove_prefix(10);
    std::string verb(command.substr(0, command.find(' ')));
    INFO(m.musterctl);
    CHECK((muster::ipc::find_verb(verb) != nullptr || verb == "check" || verb == "import"));
  }
  CHECK(rows == expected);
}
