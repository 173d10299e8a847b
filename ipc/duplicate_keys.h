// Finds a repeated key in a JSON object, at any depth. Boost.JSON's parse
// keeps the last of duplicate keys (as Node's JSON.parse does), so
// {"verb":"ping","verb":"shutdown"} reads as a shutdown while a log, a proxy
// or a human reading the line sees a ping. The control protocol refuses such
// lines instead of picking one (RFC 7493, I-JSON: names MUST be unique).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace muster::ipc {

// For JSON text that boost::json::parse accepts (call it after a successful
// parse): nullopt if every object's keys are distinct, else a description of
// the first repeat, e.g. "duplicate key 'verb'" or, below the top level,
// "duplicate key 'a' in 'message'" (naming the top-level field it is under).
std::optional<std::string> find_duplicate_key(std::string_view json);

}  // namespace muster::ipc
