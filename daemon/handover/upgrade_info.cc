#include "daemon/handover/upgrade_info.h"

#include <algorithm>
#include <boost/json.hpp>
#include <limits>

#include "base/version.h"
#include "daemon/handover/state_file.h"

namespace muster::daemon::handover {
namespace json = boost::json;
namespace {

// How much of a line that is not JSON an error quotes.
constexpr std::size_t kQuoted = 80;

std::string_view first_line(std::string_view output) {
  output = output.substr(0, output.find('\n'));
  while (!output.empty() && (output.back() == '\r' || output.back() == ' '))
    output.remove_suffix(1);
  return output;
}

std::string quoted(std::string_view text) {
  if (text.size() <= kQuoted) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kQuoted)) + "...'";
}

Result<std::vector<int>> formats_in(const json::value* list) {
  if (!list || !list->is_array()) return Error{"printed no \"state_formats\" list"};
  std::vector<int> formats;
  for (const auto& item : list->get_array()) {
    if (!item.is_int64() || item.get_int64() < 0 ||
        item.get_int64() > std::numeric_limits<int>::max())
      return Error{"printed a \"state_formats\" item that is no format number: " +
                   json::serialize(item)};
    formats.push_back(static_cast<int>(item.get_int64()));
  }
  return formats;
}

std::string listed(const std::vector<int>& formats) {
  std::string out;
  for (int f : formats) out += (out.empty() ? "" : ", ") + std::to_string(f);
  return out.empty() ? "none" : out;
}

}  // namespace

std::string upgrade_info_json() {
  return json::serialize(
      json::object{{"version", version()}, {"state_formats", json::array{kStateFormat}}});
}

Result<BinaryInfo> parse_upgrade_info(std::string_view output) {
  std::string_view line = first_line(output);
  if (line.empty()) return Error{"printed nothing"};
  boost::system::error_code ec;
  json::value doc = json::parse(line, ec);
  if (ec || !doc.is_object()) return Error{"printed no JSON object: " + quoted(line)};
  const auto& answer = doc.get_object();
  const auto* version = answer.if_contains("version");
  if (!version || !version->is_string() || version->get_string().empty())
    return Error{"printed no \"version\""};
  auto formats = formats_in(answer.if_contains("state_formats"));
  if (!formats) return formats.error();
  return BinaryInfo{std::string(version->get_string()), std::move(*formats)};
}

Result<void> reads_our_state(const BinaryInfo& info) {
  if (std::find(info.formats.begin(), info.formats.end(), kStateFormat) != info.formats.end())
    return {};
  return Error{"(musterd " + info.version + ") reads state formats " + listed(info.formats) +
               ", not format " + std::to_string(kStateFormat) +
               " which this musterd writes: no state format in common"};
}

}  // namespace muster::daemon::handover
