// What each supervisord setting becomes in muster: one table that the
// importer (cli/import_supervisord.cc) writes its comments from and that
// docs/coming-from-supervisord.md is checked against (tests/unit), so the
// two cannot drift apart.
#pragma once

#include <span>
#include <string_view>

namespace muster::cli::supervisord {

struct KeyMapping {
  std::string_view key;     // supervisord's key in [program:x] (lower case)
  std::string_view muster;  // muster's [apps.NAME] key(s), "" when there is none
  std::string_view note;    // how it maps, or why there is no equivalent
};

// Every key of [program:x] that supervisord reads (supervisor/options.py,
// _processes_from_section), in its documentation's order.
std::span<const KeyMapping> program_keys();
const KeyMapping* find_program_key(std::string_view key);

// Sections other than [program:x], [group:x] and [include]: what muster has
// instead. `key` is the section name, or its prefix up to the ':'.
std::span<const KeyMapping> other_sections();
const KeyMapping* find_section(std::string_view name);

// supervisorctl commands an operator types daily and their musterctl form.
struct CommandMapping {
  std::string_view supervisorctl;
  std::string_view musterctl;  // "" when there is none
  std::string_view note;
};
std::span<const CommandMapping> commands();

}  // namespace muster::cli::supervisord
