#include "ipc/duplicate_keys.h"

#include <boost/json/basic_parser_impl.hpp>
#include <cstdint>
#include <unordered_set>
#include <vector>

namespace muster::ipc {
namespace {

using boost::json::string_view;
using boost::system::error_code;

// A basic_parser handler that only looks at keys: one set per open object.
// Sets, not a scan of the keys so far: a 64 KiB line can hold thousands of
// keys in one object.
struct KeyWatcher {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::vector<std::unordered_set<std::string>> open;  // innermost last
  std::string key;                                    // the key being read (it may come in parts)
  std::string top_key;                                // the latest key of the outermost object
  std::optional<std::string> duplicate;

  bool on_object_begin(error_code&) {
    open.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    open.pop_back();
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code& ec) {
    key.append(s.data(), s.size());
    if (open.size() == 1) top_key = key;
    if (!open.back().insert(key).second) {
      duplicate = "duplicate key '" + key + "'";
      if (open.size() > 1) *duplicate += " in '" + top_key + "'";
      // Any error stops the parser; which one does not matter.
      ec = make_error_code(boost::json::error::syntax);
      return false;
    }
    key.clear();
    return true;
  }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t, error_code&) { return true; }
  bool on_string_part(string_view, std::size_t, error_code&) { return true; }
  bool on_string(string_view, std::size_t, error_code&) { return true; }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t, string_view, error_code&) { return true; }
  bool on_uint64(std::uint64_t, string_view, error_code&) { return true; }
  bool on_double(double, string_view, error_code&) { return true; }
  bool on_bool(bool, error_code&) { return true; }
  bool on_null(error_code&) { return true; }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }
};

}  // namespace

std::optional<std::string> find_duplicate_key(std::string_view json) {
  // Default options, as boost::json::parse uses: the same texts are accepted.
  boost::json::basic_parser<KeyWatcher> parser{boost::json::parse_options{}};
  error_code ec;
  parser.write_some(false, json.data(), json.size(), ec);
  return parser.handler().duplicate;
}

}  // namespace muster::ipc
