// Python's shlex as supervisord uses it: shlex.split() for a program's
// command (supervisor/process.py, get_execv_args) and a non-posix
// shlex.shlex with extra word characters for KEY=VAL lists
// (supervisor/datatypes.py, dict_of_key_value_pairs, as released up to 4.3;
// 4.4 moves to posix mode). Pure functions; errors are Python's messages.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace muster::cli::shlex {

// shlex.split(text): words split on whitespace, '…' and "…" quoting,
// backslash escapes (inside "…" only before '"' and '\'), no comments.
Result<std::vector<std::string>> split(const std::string& text);

// dict_of_key_value_pairs: 'A=1,B="x, y"' -> {{"A","1"},{"B","x, y"}}, in
// order (a repeated key keeps its last value, where it was first set). A
// quote opens a token only at its start; quotes at a value's ends are
// stripped; no backslash escapes.
Result<std::vector<std::pair<std::string, std::string>>> key_value_pairs(const std::string& text);

// A word as a POSIX shell reads it back: unchanged when it is plain, else
// in single quotes.
std::string quote(const std::string& word);

}  // namespace muster::cli::shlex
