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

}  // namespace muster::daemon
