// The control verbs, each declared once: its name, the request fields it
// takes, whether it is answered only once done, and its help text (what
// `musterctl VERB --help` says). Everything else about a verb is derived
// from this list or checked against it (tests/unit/verbs_test.cc): the
// request parser (control_protocol.cc), musterd's handler table
// (daemon/wiring/commands.cc), musterctl's subcommands, requests and reply
// formatters (cli/verbs.cc), the man page, the shell completion and
// docs/control-protocol.md. To add a verb, start here.
#pragma once

#include <array>
#include <string_view>

namespace muster::ipc {

// Whether a verb takes a request field.
enum class Need { no, optional, required };

struct Verb {
  std::string_view name;
  Need app = Need::no;
  Need id = Need::no;
  Need count = Need::no;
  Need signal = Need::no;
  Need message = Need::no;      // send: any JSON value
  Need follow = Need::no;       // stream until the client closes
  Need wait = Need::no;         // false: answer before the work is done
  Need allow_empty = Need::no;  // reload-config
  Need show_env = Need::no;     // describe: secret-looking values unmasked
  Need binary = Need::no;       // upgrade: the new musterd's absolute path
  bool app_or_id = false;       // exactly one of app and id (both optional above)
  // Answered once the work is done (start, stop...), which may take as long
  // as the apps' readiness and stop timeouts: musterctl waits longer.
  bool slow = false;
  std::string_view help;
};

// In the order `musterctl --help` lists them.
extern const std::array<Verb, 18> kVerbs;

// The declaration of `name`, or null.
const Verb* find_verb(std::string_view name);

}  // namespace muster::ipc
