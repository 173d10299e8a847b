// What a musterd says about itself for an in-place upgrade (issue 25):
// `musterd --upgrade-info` prints one JSON line,
//   {"version":"0.2.0","state_formats":[1]}
// its version and the state formats (state_file.h) it can restore from. The
// old musterd reads it (binary_check.h) before handing over to a new binary.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace muster::daemon::handover {

struct BinaryInfo {
  std::string version;
  std::vector<int> formats;  // the state formats it reads
};

// What this musterd prints for --upgrade-info (without the newline).
std::string upgrade_info_json();

// The answer in `output` (its first line), or what is wrong with it, as a
// phrase to follow the command's name ("printed no JSON: ...").
Result<BinaryInfo> parse_upgrade_info(std::string_view output);

// Whether a binary that answered `info` reads the state this musterd
// writes (kStateFormat); if not, a phrase saying so.
Result<void> reads_our_state(const BinaryInfo& info);

}  // namespace muster::daemon::handover
