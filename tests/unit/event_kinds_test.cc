// One list of event kinds everywhere (ipc/event_kinds.h): what musterd
// publishes, `musterctl events --help`, README, musterctl(1) and
// docs/control-protocol.md.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "ipc/event_kinds.h"
#include "ipc/verbs.h"

using muster::ipc::kEventKinds;

namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string source_file(const std::string& path) {
  return read(std::filesystem::path(MUSTER_SOURCE_DIR) / path);
}

// "fork, online, ..., relay_dropped".
std::string listed() {
  std::string text;
  for (const auto& kind : kEventKinds) {
    if (!text.empty()) text += ", ";
    text += kind;
  }
  return text;
}

// Whitespace runs become one space (the docs wrap lines).
std::string flat(const std::string& text) {
  return std::regex_replace(text, std::regex(R"(\s+)"), " ");
}

}  // namespace

TEST_CASE("every event musterd publishes is a declared kind, and every kind is published",
          "[events]") {
  const std::regex publish(R"re(publish\(\s*"([a-z_]+)")re");
  std::set<std::string> published;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::filesystem::path(MUSTER_SOURCE_DIR) / "daemon")) {
    if (entry.path().extension() != ".cc") continue;
    const std::string text = read(entry.path());
    for (std::sregex_iterator it(text.begin(), text.end(), publish), end; it != end; ++it)
      published.insert((*it)[1]);
  }
  std::set<std::string> declared(kEventKinds.begin(), kEventKinds.end());
  CHECK(published == declared);
}

TEST_CASE("musterctl events --help lists every kind, in order", "[events]") {
  const auto* events = muster::ipc::find_verb("events");
  REQUIRE(events != nullptr);
  CHECK_THAT(std::string(events->help), Catch::Contains(listed() + "."));
}

TEST_CASE("README, musterctl(1) and docs/control-protocol.md list every kind, in order",
          "[events]") {
  CHECK_THAT(source_file("README.md"), Catch::Contains(listed()));
  CHECK_THAT(flat(source_file("docs/control-protocol.md")), Catch::Contains(listed()));
  // musterctl(1): ".BR fork ,\n.BR online ,\n ... .BR relay_dropped ."
  std::string man;
  for (const auto& kind : kEventKinds)
    man += ".BR " + std::string(kind) + (kind == kEventKinds.back() ? " .\n" : " ,\n");
  CHECK_THAT(source_file("packaging/man/musterctl.1"), Catch::Contains(man));
}
