// Reading a config file as it is at one moment. A tool that truncates the file
// and then writes it (`cat new > muster.toml`, many editors' save) leaves it
// empty, then half-written, for a moment; a reload that reads it then must see
// that, not apply it. So the file is read through one descriptor, its size
// and times are compared before and after, and a read that overlapped a write
// is done again (a few times at most).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace muster::config {

// Larger is not a config file (a wrong -c path, say): it is refused rather
// than read into memory.
inline constexpr std::size_t kMaxConfigBytes = 16 * 1024 * 1024;
// Reads of a regular file that keeps changing before it is given up.
inline constexpr int kConfigReadTries = 5;

// The whole text of the file at `path`, or why it cannot be had (without the
// path; with the errno when one was behind it). A regular file is read until a read begins and ends
// with the same size, modification and change times and got all of it; anything else (a pipe,
// /dev/stdin) is read once, to its end.
Result<std::string> read_config_text(const std::string& path);

// True if `text` has nothing but spaces, tabs and line ends: what a file
// caught between its truncation and its first write holds.
bool blank(std::string_view text);

}  // namespace muster::config
