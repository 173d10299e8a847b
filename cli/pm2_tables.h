// What `musterctl import pm2` knows of PM2: every key of an ecosystem file
// (PM2 7's lib/API/schema.json) with the muster key it becomes, or none and
// why, and the PM2 commands a user types daily with their musterctl
// equivalents. The importer writes these notes as comments, and
// docs/coming-from-pm2.md shows the same rows (tests/unit/import_pm2_doc_test.cc
// keeps the two equal).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace muster::cli::pm2 {

struct KeyMapping {
  std::string_view pm2;     // the key as PM2's schema names it
  std::string_view muster;  // the muster key(s) it becomes; empty: none
  std::string_view note;    // how, or why there is no equivalent
};

extern const std::array<KeyMapping, 65> kKeys;

// The row for a canonical key (after canonical_key()); `env_production` and
// any other `env_NAME` find the row `env_<name>`. Null for a key PM2 does not know.
const KeyMapping* find_key(std::string_view key);

// PM2's own name of a key written under one of its aliases (`interpreter`,
// `out`, `err_log`, `interpreterArgs`, the camelCase form of any key...).
std::string canonical_key(std::string_view key);

struct CommandMapping {
  std::string_view pm2;        // as typed
  std::string_view musterctl;  // its equivalent; empty: none
  std::string_view note;
};

extern const std::array<CommandMapping, 26> kCommands;

}  // namespace muster::cli::pm2
