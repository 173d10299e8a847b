// Python's `text % mapping` (printf-style formatting with %(name)s keys), as
// supervisord expands its config values (supervisor/options.py, expand()):
// %(program_name)s, %(process_num)02d, %(ENV_HOME)s, %(here)s, '%%'.
// Pure function.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>

#include "base/result.h"

namespace muster::cli::pyformat {

// A name's value: a string, or an integer (process_num, numprocs).
using Arg = std::variant<std::string, std::int64_t>;
using Args = std::map<std::string, Arg>;

// `text` with each %(name)FLAGS WIDTH .PRECISION TYPE replaced (types s r a
// d i u x X o c); the error names the first unknown name or bad spec.
Result<std::string> expand(const std::string& text, const Args& args);

// Whether `text` names `name` in any %(name)... spec.
bool mentions(const std::string& text, const std::string& name);

}  // namespace muster::cli::pyformat
