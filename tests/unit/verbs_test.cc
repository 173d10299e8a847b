// Each control verb is declared once (ipc/verbs.h); these cases fail when a
// declared verb lacks musterd's handler, musterctl's subcommand, request or
// reply formatter, its man page entry, its shell completion or its row in
// docs/control-protocol.md, or when one of those names a verb not declared.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "cli/format.h"
#include "cli/verbs.h"
#include "daemon/wiring/commands.h"
#include "ipc/control_protocol.h"
#include "ipc/verbs.h"

using muster::ipc::kVerbs;

namespace {

std::string source_file(const std::string& path) {
  std::ifstream in(std::string(MUSTER_SOURCE_DIR) + "/" + path);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool declared(std::string_view name) { return muster::ipc::find_verb(name) != nullptr; }

// musterctl's arguments for a request of every verb that names something.
muster::cli::Args sample_args() {
  muster::cli::Args args;
  args.app = "web";
  args.target = "web";
  args.id = 3;
  args.count = 2;
  args.message = R"({"hello":1})";
  args.binary = "/usr/sbin/musterd";
  return args;
}

// musterctl's daemon verbs, as its main() adds them.
const CLI::App& musterctl() {
  static muster::cli::Args args;
  static const auto app = [] {
    auto made = std::make_unique<CLI::App>();
    muster::cli::add_daemon_verbs(*made, args);
    return made;
  }();
  return *app;
}

}  // namespace

TEST_CASE("every declared verb has musterd's handler, and every handler is declared", "[verbs]") {
  const auto handled = muster::daemon::handled_verbs();
  for (const auto& verb : kVerbs) {
    INFO(verb.name);
    CHECK(std::count(handled.begin(), handled.end(), verb.name) == 1);
  }
  for (const auto& name : handled) {
    INFO(name);
    CHECK(declared(name));
  }
  CHECK(handled.size() == kVerbs.size());
}

TEST_CASE("every declared verb has a musterctl subcommand with the declared help", "[verbs]") {
  const CLI::App& app = musterctl();
  for (const auto& verb : kVerbs) {
    INFO(verb.name);
    CHECK(muster::cli::has_cli_verb(verb.name));
    CHECK(app.get_subcommand(std::string(verb.name))->get_description() == verb.help);
    CHECK_FALSE(verb.help.empty());
  }
  CHECK(app.get_subcommands({}).size() == kVerbs.size());
}

TEST_CASE("every declared verb has a reply formatter in musterctl", "[verbs]") {
  for (const auto& verb : kVerbs) {
    INFO(verb.name);
    CHECK(muster::cli::has_reply_formatter(verb.name));
  }
  CHECK_FALSE(muster::cli::has_reply_formatter("no-such-verb"));
}

TEST_CASE("the request musterctl builds for each verb is one musterd accepts", "[verbs]") {
  const auto args = sample_args();
  for (const auto& verb : kVerbs) {
    INFO(verb.name);
    auto request = muster::cli::build_request(std::string(verb.name), args);
    auto parsed = muster::ipc::parse_request(boost::json::serialize(request));
    if (!parsed) FAIL(parsed.error().message);
  }
}

// "-" as troff writes it in a man page: "\-".
std::string troff(std::string_view text) {
  std::string out;
  for (char c : text) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

// Where the man page's entry for `verb` begins (".TP", then its name in
// bold), or npos.
std::size_t man_entry(const std::string& man, std::string_view verb) {
  for (const char* macro : {".B ", ".BR ", ".BI "}) {
    const std::string heading = std::string(".TP\n") + macro + troff(verb);
    for (auto at = man.find(heading); at != std::string::npos; at = man.find(heading, at + 1)) {
      const char after = man[at + heading.size()];
      if (after == ' ' || after == '\n') return at;
    }
  }
  return std::string::npos;
}

// The long flags of a musterctl verb ("--no-wait").
std::vector<std::string> long_flags(const CLI::App& verb) {
  std::vector<std::string> out;
  for (const CLI::Option* option : verb.get_options())
    for (const auto& name : option->get_lnames())
      if (name != "help") out.push_back("--" + name);
  return out;
}

TEST_CASE("every declared verb and each of its flags has an entry in musterctl(1)", "[verbs]") {
  const std::string man = source_file("packaging/man/musterctl.1");
  const CLI::App& app = musterctl();
  for (const auto& verb : kVerbs) {
    INFO(verb.name);
    const std::size_t at = man_entry(man, verb.name);
    REQUIRE(at != std::string::npos);
    // The entry runs to the next verb's (the page lists them in kVerbs' order).
    std::size_t end = man.size();
    for (const auto& other : kVerbs)
      if (auto next = man_entry(man, other.name); next > at && next < end) end = next;
    const std::string entry = man.substr(at, end - at);
    for (const auto& flag : long_flags(*app.get_subcommand(std::string(verb.name)))) {
      INFO(flag);
      CHECK(entry.find(troff(flag)) != std::string::npos);
    }
  }
}

// The flags the completion offers a verb: its `start | reload) opts+="..."`
// lines, padded with spaces.
std::string completed_flags(const std::string& completion, std::string_view verb) {
  std::istringstream lines(completion);
  std::string offered = " ";
  for (std::string line; std::getline(lines, line);) {
    const auto arrow = line.find(") opts+=\"");
    if (arrow == std::string::npos) continue;
    std::istringstream patterns(line.substr(0, arrow));
    bool ours = false;
    for (std::string word; patterns >> word;) ours = ours || word == verb;
    const auto from = arrow + std::string(") opts+=\"").size();
    if (ours) offered += line.substr(from, line.find('"', from) - from) + " ";
  }
  return offered;
}

TEST_CASE("every declared verb is completed by the bash completion", "[verbs]") {
  const std::string completion = source_file("packaging/bash-completion/musterctl");
  auto start = completion.find("local verbs=\"");
  REQUIRE(start != std::string::npos);
  start += std::string("local verbs=\"").size();
  std::istringstream words(completion.substr(start, completion.find('"', start) - start));
  std::vector<std::string> listed;
  for (std::string word; words >> word;) listed.push_back(word);
  for (const auto& verb : kVerbs) {
    INFO(verb.name);
    CHECK(std::count(listed.begin(), listed.end(), verb.name) == 1);
  }
  for (const auto& word : listed) {
    INFO(word);
    CHECK((declared(word) || word == "help" || word == "check" || word == "top" ||
           word == "import"));  // musterctl's own
  }
}

TEST_CASE("the bash completion offers each verb's flags", "[verbs]") {
  const std::string completion = source_file("packaging/bash-completion/musterctl");
  const CLI::App& app = musterctl();
  for (const auto& verb : kVerbs) {
    const std::string offered = completed_flags(completion, verb.name);
    for (const auto& flag : long_flags(*app.get_subcommand(std::string(verb.name)))) {
      INFO(std::string(verb.name) + " " + flag);
      CHECK(offered.find(" " + flag + " ") != std::string::npos);
    }
  }
}

TEST_CASE("every declared verb has a row in docs/control-protocol.md", "[verbs]") {
  const std::string doc = source_file("docs/control-protocol.md");
  for (const auto& verb : kVerbs) {
    INFO(verb.name);
    CHECK(doc.find("\n| `{\"verb\":\"" + std::string(verb.name) + "\"") != std::string::npos);
  }
}

TEST_CASE("musterctl upgrade --binary takes an absolute path only", "[verbs]") {
  muster::cli::Args args;
  CLI::App app;
  muster::cli::add_daemon_verbs(app, args);
  CHECK_THROWS_AS(app.parse("upgrade --binary sbin/musterd", false), CLI::ValidationError);
  app.clear();
  app.parse("upgrade --binary /opt/muster/musterd", false);
  auto request = muster::cli::build_request("upgrade", args);
  CHECK(request.at("binary") == "/opt/muster/musterd");
  CHECK_FALSE(muster::cli::build_request("upgrade", muster::cli::Args{}).contains("binary"));
}

TEST_CASE("musterctl upgrade says both versions and musterd's pid", "[verbs]") {
  const boost::json::object reply{
      {"ok", true}, {"from", "0.2.0"}, {"to", "0.2.0+alt"}, {"pid", 1234}};
  CHECK(muster::cli::format_reply({{"verb", "upgrade"}}, reply) ==
        "upgraded from 0.2.0 to 0.2.0+alt (pid 1234)\n");
}

TEST_CASE("a verb that is not declared is refused by the request parser", "[verbs]") {
  auto parsed = muster::ipc::parse_request(R"({"verb":"frobnicate"})");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message == "unknown verb 'frobnicate'");
}
