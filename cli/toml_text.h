// TOML text for what musterctl writes as a config (the importers): a basic
// string with its escapes, and an array of them.
#pragma once

#include <string>
#include <vector>

namespace muster::cli {

// "text" with '"', '\\' and control characters (DEL too) escaped.
std::string toml_string(const std::string& text);
// ["a", "b"]
std::string toml_strings(const std::vector<std::string>& items);

}  // namespace muster::cli
