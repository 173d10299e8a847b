#include "daemon/output/merged_tail.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "ipc/utf8.h"

namespace muster::daemon {
namespace {

std::string_view time_of(const boost::json::value& line) {
  const auto* o = line.if_object();
  const auto* t = o ? o->if_contains("time") : nullptr;
  return (t && t->is_string()) ? std::string_view(t->get_string()) : std::string_view();
}

}  // namespace

boost::json::array merge_tails(std::vector<boost::json::array> tails, std::size_t n) {
  std::size_t total = 0;
  for (const auto& t : tails) total += t.size();
  std::size_t skip = total > n ? total - n : 0;  // the oldest lines beyond n
  std::vector<std::size_t> next(tails.size(), 0);
  boost::json::array out;
  out.reserve(total - skip);
  // A k-way merge: few apps, at most 1000 lines each, so a scan per line is cheap.
  for (std::size_t taken = 0; taken < total; ++taken) {
    std::size_t pick = tails.size();
    for (std::size_t i = 0; i < tails.size(); ++i) {
      if (next[i] == tails[i].size()) continue;
      if (pick == tails.size() || time_of(tails[i][next[i]]) < time_of(tails[pick][next[pick]]))
        pick = i;
    }
    boost::json::value& line = tails[pick][next[pick]++];
    if (taken >= skip) out.push_back(std::move(line));
  }
  return out;
}

std::size_t keep_newest_within(boost::json::array& lines, std::size_t max_bytes) {
  std::size_t bytes = 0;
  std::size_t keep = 0;  // how many of the newest fit
  for (auto it = lines.rbegin(); it != lines.rend(); ++it, ++keep) {
    std::string text = boost::json::serialize(*it);
    ipc::make_json_printable(text);
    bytes += text.size() + 1;  // and its comma
    if (bytes > max_bytes) break;
  }
  const std::size_t omitted = lines.size() - keep;
  lines.erase(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(omitted));
  return omitted;
}

}  // namespace muster::daemon
