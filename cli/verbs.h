// musterctl's side of the control verbs declared in ipc/verbs.h: per verb,
// the subcommand (its help text comes from the declaration), its flags and
// the request they make. tests/unit/verbs_test.cc checks that every declared
// verb has one, and that the request each one builds is one musterd takes.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace muster::cli {

// Everything the command line can say; each verb reads the fields it owns.
struct Args {
  std::string socket;
  std::string daemon_uid;  // digits, after daemon_user() resolved a name
  bool json = false;
  bool raw = false;
  bool no_colour = false;  // --no-color
  bool no_wait = false;
  std::uint64_t lines = 100;
  std::string app;
  std::uint64_t count = 0;
  std::uint64_t id = 0;
  std::string signal = "SIGTERM";
  std::string file;
  std::string environment;  // check --environment
  bool print = false;       // check --print
  std::string target;       // send: a worker id or an app name
  std::string message;      // send: JSON text, checked by json_text()
  bool follow = false;
  bool allow_empty = false;  // reload-config
  bool show_env = false;     // describe
  std::string binary;        // upgrade --binary: absolute, checked by absolute_path()
  std::string help_verb;     // help: whose help to show
};

// A whole number of at least `min`, checked before conversion: CLI11 would
// wrap "-1" into a huge unsigned number.
CLI::Validator whole_number(std::uint64_t min);

// A subcommand for every verb of ipc::kVerbs, in its order, with its flags.
void add_daemon_verbs(CLI::App& app, Args& args);

// Whether musterctl has a subcommand for the declared verb `name`.
bool has_cli_verb(std::string_view name);

// The request line for a daemon verb (docs/control-protocol.md).
boost::json::object build_request(const std::string& verb, const Args& args);

}  // namespace muster::cli
