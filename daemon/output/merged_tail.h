// `logs all`: the recent output of several apps as one tail. Each app's tail
// is in the order its lines were read; merged, lines go by their "time" (when
// musterd read them, RFC 3339 UTC with milliseconds, so text order is time
// order), a tie going to the app listed first. An app's own lines keep their
// order even if the clock stepped back.
#pragma once

#include <boost/json/array.hpp>
#include <cstddef>
#include <vector>

namespace muster::daemon {

// The last `n` lines of the merge of `tails` (each a list of line objects
// with a "time" string, oldest first), oldest first.
boost::json::array merge_tails(std::vector<boost::json::array> tails, std::size_t n);

// A `logs` reply holds at most this many bytes of lines: a control client is
// dropped once 8 MiB wait for it, and 1000 lines of 16 KiB (48 KiB as JSON
// when they are not UTF-8) would be 16 MiB or more.
inline constexpr std::size_t kMaxLogsReplyBytes = 4 << 20;

// Removes the oldest of `lines` until the rest, as the control socket sends
// them (ipc::make_json_printable), fit in `max_bytes`; returns how many went.
std::size_t keep_newest_within(boost::json::array& lines, std::size_t max_bytes);

}  // namespace muster::daemon
