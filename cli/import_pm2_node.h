// Evaluating a JavaScript ecosystem file: the user's own `node` (along PATH)
// loads it and prints module.exports as JSON, within a time and size bound.
#pragma once

#include <string>

namespace muster::cli::pm2 {

struct NodeResult {
  bool ok = false;
  std::string json;   // node's stdout when ok
  std::string error;  // why not: node missing, its exit status and stderr, a timeout
};

// Runs node in the file's directory, as pm2 runs where the file is.
NodeResult evaluate_with_node(const std::string& path);

}  // namespace muster::cli::pm2
