// Internal to config/: reading TOML tables into plain values while collecting
// every problem with its position. Only config/*.cc include this (and toml++).
#pragma once

#include <toml++/toml.h>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace muster::config::detail {

// Every problem of one file, handed back together once reading is done.
class ErrorList {
 public:
  explicit ErrorList(std::string_view file);

  // The key and message are shown with control characters escaped
  // (printable()), as is the file name: they may echo what the file holds.
  void add(const toml::source_region& where, std::string_view key, std::string_view message);
  // A problem that is not in the file (e.g. in the daemon's environment).
  void add_unplaced(std::string_view key, std::string_view message);
  bool empty() const { return errors_.empty(); }
  // A node moved into a table from elsewhere (an environment's overlay) is
  // named as it was written: errors at `where` with a key under `from`
  // ("apps.api") get it under `to` ("apps.api.environments.production").
  void rename_at(const toml::source_region& where, const std::string& from, const std::string& to);
  // The errors in file order (by line, then column).
  std::vector<ConfigError> take_sorted();

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::map<std::pair<int, int>, std::pair<std::string, std::string>> renamed_;
};

// `"text"` with quotes, backslashes and control characters escaped: a TOML
// string that can be pasted back into the file.
std::string quote(std::string_view text);
// The TOML type of `node` as a user would name it: "integer", "table"...
const char* type_name(const toml::node& node);

// The entries of `table` in file order (toml++ keeps them sorted by key).
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& table);
// App and socket names: letters, digits, '_', '.' and '-' (no ':', which
// separates names in LISTEN_FDNAMES).
bool valid_name(std::string_view name);
// `path` made absolute against `dir` and normalized, without a trailing '/'.
std::string resolve_path(const std::filesystem::path& dir, std::string_view path);
// Why a unix socket cannot be bound at `path` (which must be resolved): it
// does not fit in sockaddr_un's sun_path with its NUL; nullopt if it does.
std::optional<std::string> unix_path_too_long(std::string_view path);

// One TOML table, read key by key. Every key the reader asks for is known;
// anything else in the table is reported by report_unknown_keys().
//
// The read_* functions leave `out` untouched when the key is absent and
// return false iff the key is present but invalid (the error is recorded).
class Section {
 public:
  // `path` is the dotted key of the table itself ("" for the root).
  Section(const toml::table& table, std::string path, ErrorList& errors)
      : table_(table), path_(std::move(path)), errors_(errors) {}

  // The value of `key` or nullptr; marks `key` as known either way.
  const toml::node* find(std::string_view key);
  // "apps.web" + "exec" -> "apps.web.exec".
  std::string path_of(std::string_view key) const;

  void error(const toml::node& at, std::string_view key, std::string message);
  // "expected <what>, got <type>"
  void wrong_type(const toml::node& at, std::string_view key, std::string_view what);
  // "expected <what>, got <shown>"
  void bad_value(const toml::node& at, std::string_view key, std::string_view what,
                 std::string_view shown);

  bool read_string(std::string_view key, std::string& out);
  bool read_nonempty_string(std::string_view key, std::string& out);
  bool read_bool(std::string_view key, bool& out);
  bool read_count(std::string_view key, unsigned& out);  // an integer >= 0
  // An integer from `min` to `max`; `what` describes one for the message.
  bool read_integer(std::string_view key, std::int64_t min, std::int64_t max, std::string_view what,
                    std::int64_t& out);
  bool read_mode(std::string_view key, unsigned& out);  // octal digits, like "0600"
  bool read_duration(std::string_view key, Duration& out);
  bool read_signal(std::string_view key, int& out);
  bool read_string_list(std::string_view key, std::vector<std::string>& out);
  bool read_string_map(std::string_view key, std::map<std::string, std::string>& out);
  template <class Enum>
  bool read_choice(std::string_view key, Enum& out, std::initializer_list<Enum> choices);
  // Reads a string and turns it into a T with `convert`, which returns
  // nullopt for a bad value; `what` describes a good one for the message.
  template <class T, class Convert>
  bool read_converted(std::string_view key, T& out, std::string_view what, Convert convert);

  void report_unknown_keys();
  // False (and an error at `at`) when `text` holds a NUL byte. Every string
  // of the file reaches the OS as a C string, which would silently end there.
  bool refuse_nul(const toml::node& at, std::string_view key, std::string_view text);

  const toml::table& table() const { return table_; }
  ErrorList& errors() { return errors_; }

 private:
  const toml::table& table_;
  std::string path_;
  ErrorList& errors_;
  std::set<std::string, std::less<>> known_;
};

template <class T, class Convert>
bool Section::read_converted(std::string_view key, T& out, std::string_view what, Convert convert) {
  const toml::node* node = find(key);
  if (node == nullptr) return true;
  const toml::value<std::string>* text = node->as_string();
  if (text == nullptr) {
    wrong_type(*node, key, what);
    return false;
  }
  if (!refuse_nul(*node, key, text->get())) return false;
  std::optional<T> value = convert(text->get());
  if (!value) {
    bad_value(*node, key, what, quote(text->get()));
    return false;
  }
  out = std::move(*value);
  return true;
}

template <class Enum>
bool Section::read_choice(std::string_view key, Enum& out, std::initializer_list<Enum> choices) {
  std::string what;
  if (choices.size() == 1) {
    what = quote(to_string(*choices.begin()));
  } else {
    what = "one of ";
    for (Enum choice : choices) {
      if (choice != *choices.begin()) what += ", ";
      what += to_string(choice);
    }
  }
  return read_converted(key, out, what, [&](const std::string& text) -> std::optional<Enum> {
    for (Enum choice : choices) {
      if (text == to_string(choice)) return choice;
    }
    return std::nullopt;
  });
}

}  // namespace muster::config::detail
