// INI files read as Python's configparser reads them for supervisord
// (supervisor/options.py, UnhosedConfigParser: a RawConfigParser with
// inline_comment_prefixes (';', '#') and strict=False). Pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace muster::cli::ini {

// Where a value (or a problem) comes from: 1-based line.
struct Origin {
  std::string file;
  int line = 0;
};
// "FILE:LINE", as errors and comments name it.
inline std::string where(const Origin& origin) {
  return origin.file + ":" + std::to_string(origin.line);
}

struct Value {
  std::string text;  // continuation lines joined with '\n', trailing space stripped
  Origin origin;
};

struct Section {
  std::string name;  // as written between the brackets
  Origin origin;     // where it was first opened
  // Keys lower-cased, in the order first set; a later value replaces an
  // earlier one (strict=False), across files too.
  std::vector<std::pair<std::string, Value>> options;

  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value value);
};

struct Document {
  std::vector<Section> sections;  // in the order first opened; [DEFAULT] excluded
  Section defaults{"DEFAULT", {}, {}};

  Section* find(const std::string& name);
  const Section* find(const std::string& name) const;
  // The section's value, else [DEFAULT]'s (configparser's fallback).
  const Value* get(const Section& section, const std::string& key) const;
};

struct ParseError {
  Origin origin;
  std::string message;

  std::string to_string() const;  // "FILE:LINE: message"
};

// Adds `text` (the contents of `file`) to `doc`, as configparser's read()
// does: sections already present gain or replace keys. Returns every line
// configparser would refuse; `doc` keeps what was read around them.
std::vector<ParseError> read(Document& doc, const std::string& text, const std::string& file);

// Where the first inline comment of `line` starts: ';' or '#' at the start
// or after whitespace; npos when there is none.
std::size_t inline_comment_start(const std::string& line);

}  // namespace muster::cli::ini
