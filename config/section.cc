// How a TOML table is read into plain values, and how problems are recorded.
#include "config/section.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <tuple>

namespace muster::config::detail {

ErrorList::ErrorList(std::string_view file) : file_(printable(file)) {}

void ErrorList::add(const toml::source_region& where, std::string_view key,
                    std::string_view message) {
  int line = static_cast<int>(where.begin.line);
  int column = static_cast<int>(where.begin.column);
  std::string named(key);
  if (auto it = renamed_.find({line, column}); it != renamed_.end()) {
    const auto& [from, to] = it->second;
    bool under =
        named.starts_with(from) &&
        (named.size() == from.size() || named[from.size()] == '.' || named[from.size()] == '[');
    if (under) named = to + named.substr(from.size());
  }
  errors_.push_back(ConfigError{file_, line, column, printable(named), printable(message)});
}

void ErrorList::rename_at(const toml::source_region& where, const std::string& from,
                          const std::string& to) {
  renamed_[{static_cast<int>(where.begin.line), static_cast<int>(where.begin.column)}] = {from, to};
}

void ErrorList::add_unplaced(std::string_view key, std::string_view message) {
  errors_.push_back(ConfigError{file_, 0, 0, printable(key), printable(message)});
}

std::vector<ConfigError> ErrorList::take_sorted() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return std::move(errors_);
}

namespace {

// Appends `c` to `out`, escaped as in a TOML basic string if it is a control
// character; returns false (appending nothing) if it is not one.
bool append_escaped_control(char c, std::string& out) {
  switch (c) {
    case '\b': out += "\\b"; return true;
    case '\t': out += "\\t"; return true;
    case '\n': out += "\\n"; return true;
    case '\f': out += "\\f"; return true;
    case '\r': out += "\\r"; return true;
    default: break;
  }
  if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) return false;
  char escape[8];
  std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned char>(c));
  out += escape;
  return true;
}

}  // namespace

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (!append_escaped_control(c, out)) {
      out += c;
    }
  }
  return out + "\"";
}

const char* type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
  }
  return "unknown";
}

std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(
    const toml::table& table) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (const auto& [key, node] : table) entries.emplace_back(&key, &node);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const toml::source_position& x = a.second->source().begin;
    const toml::source_position& y = b.second->source().begin;
    return std::tie(x.line, x.column) < std::tie(y.line, y.column);
  });
  return entries;
}

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::string resolve_path(const std::filesystem::path& dir, std::string_view path) {
  // `/` keeps an absolute `path`.
  std::filesystem::path resolved = (dir / path).lexically_normal();
  if (!resolved.has_filename() && resolved != resolved.root_path()) {
    resolved = resolved.parent_path();
  }
  return resolved.string();
}

const toml::node* Section::find(std::string_view key) {
  known_.emplace(key);
  return table_.get(key);
}

std::string Section::path_of(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

void Section::error(const toml::node& at, std::string_view key, std::string message) {
  errors_.add(at.source(), path_of(key), std::move(message));
}

void Section::wrong_type(const toml::node& at, std::string_view key, std::string_view what) {
  error(at, key, "expected " + std::string(what) + ", got " + type_name(at));
}

void Section::bad_value(const toml::node& at, std::string_view key, std::string_view what,
                        std::string_view shown) {
  error(at, key, "expected " + std::string(what) + ", got " + std::string(shown));
}

bool Section::read_string(std::string_view key, std::string& out) {
  return read_converted(key, out, "a string",
                        [](const std::string& text) { return std::optional(text); });
}

bool Section::read_nonempty_string(std::string_view key, std::string& out) {
  return read_converted(key, out, "a non-empty string",
                        [](const std::string& text) -> std::optional<std::string> {
                          if (text.empty()) return std::nullopt;
                          return text;
                        });
}

bool Section::read_bool(std::string_view key, bool& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return true;
  const toml::value<bool>* value = node->as_boolean();
  if (value == nullptr) {
    wrong_type(*node, key, "true or false");
    return false;
  }
  out = value->get();
  return true;
}

bool Section::read_count(std::string_view key, unsigned& out) {
  std::int64_t value = out;
  if (!read_integer(key, 0, std::numeric_limits<unsigned>::max(), "a non-negative integer",
                    value)) {
    return false;
  }
  out = static_cast<unsigned>(value);
  return true;
}

bool Section::read_integer(std::string_view key, std::int64_t min, std::int64_t max,
                           std::string_view what, std::int64_t& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return true;
  const toml::value<std::int64_t>* number = node->as_integer();
  if (number == nullptr) {
    wrong_type(*node, key, what);
    return false;
  }
  std::int64_t value = number->get();
  if (value < min || value > max) {
    bad_value(*node, key, what, std::to_string(value));
    return false;
  }
  out = value;
  return true;
}

bool Section::read_mode(std::string_view key, unsigned& out) {
  // 1 to 4 octal digits: "0600", "755".
  auto parse = [](const std::string& text) -> std::optional<unsigned> {
    if (text.empty() || text.size() > 4) return std::nullopt;
    unsigned mode = 0;
    for (char c : text) {
      if (c < '0' || c > '7') return std::nullopt;
      mode = mode * 8 + unsigned(c - '0');
    }
    return mode;
  };
  return read_converted(key, out, R"(an octal file mode like "0600")", parse);
}

bool Section::read_duration(std::string_view key, Duration& out) {
  return read_converted(key, out, R"(a duration like "250ms" or "1m30s")", parse_duration);
}

bool Section::read_signal(std::string_view key, int& out) {
  return read_converted(key, out, R"(a signal name like "SIGTERM" or a number)", parse_signal);
}

bool Section::read_string_list(std::string_view key, std::vector<std::string>& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return true;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    wrong_type(*node, key, "an array of strings");
    return false;
  }
  std::vector<std::string> values;
  bool ok = true;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    if (const auto* text = item.as_string()) {
      ok = refuse_nul(item, item_key, text->get()) && ok;
      values.push_back(text->get());
    } else {
      wrong_type(item, item_key, "a string");
      ok = false;
    }
  }
  if (ok) out = std::move(values);
  return ok;
}

bool Section::read_string_map(std::string_view key, std::map<std::string, std::string>& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return true;
  const toml::table* table = node->as_table();
  if (table == nullptr) {
    wrong_type(*node, key, "a table of strings");
    return false;
  }
  std::map<std::string, std::string> values;
  bool ok = true;
  for (const auto& [name, item] : *table) {
    std::string item_key = std::string(key) + "." + std::string(name.str());
    if (const auto* text = item.as_string()) {
      ok = refuse_nul(item, item_key, text->get()) && ok;
      values.emplace(name.str(), text->get());
    } else {
      wrong_type(item, item_key, "a string");
      ok = false;
    }
  }
  if (ok) out = std::move(values);
  return ok;
}

bool Section::refuse_nul(const toml::node& at, std::string_view key, std::string_view text) {
  if (text.find('\0') == std::string_view::npos) return true;
  bad_value(at, key, "a string without NUL bytes", quote(text));
  return false;
}

void Section::report_unknown_keys() {
  for (const auto& [key, value] : table_) {
    if (!known_.contains(key.str())) {
      errors_.add(key.source(), path_of(key.str()), "unknown key");
    }
  }
}

}  // namespace muster::config::detail

namespace muster::config {

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (!detail::append_escaped_control(c, out)) out += c;
  }
  return out;
}

}  // namespace muster::config
