// Mirrors configparser.RawConfigParser._read (CPython Lib/configparser.py)
// with supervisord's settings; comments name the behaviour they copy.
#include "cli/ini.h"

#include <algorithm>
#include <cctype>

namespace muster::cli::ini {
namespace {

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string strip(const std::string& text) {
  std::size_t begin = 0, end = text.size();
  while (begin < end && space(text[begin])) ++begin;
  while (end > begin && space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

std::string rstrip(std::string text) {
  while (!text.empty() && space(text.back())) text.pop_back();
  return text;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// One file's reading state: the section and option continuation lines go to.
struct Reader {
  Document& doc;
  std::string file;
  std::vector<ParseError> errors;
  Section* section = nullptr;
  std::string option;  // "" after a section header
  std::size_t indent = 0;

  Value* current() {
    if (section == nullptr || option.empty()) return nullptr;
    for (auto& [key, value] : section->options)
      if (key == option) return &value;
    return nullptr;
  }

  void header(const std::string& name, int line) {
    option.clear();
    if (name == "DEFAULT") {
      section = &doc.defaults;
      return;
    }
    section = doc.find(name);
    if (section != nullptr) return;
    doc.sections.push_back(Section{name, {file, line}, {}});
    section = &doc.sections.back();
  }

  // OPTCRE: the key is everything before the first '=' or ':'.
  void option_line(const std::string& text, int line) {
    std::size_t delimiter = text.find_first_of("=:");
    std::string key = delimiter == std::string::npos ? "" : rstrip(text.substr(0, delimiter));
    if (delimiter == std::string::npos || key.empty()) {
      errors.push_back(
          {{file, line}, "expected KEY = VALUE, a [section] or a comment, got '" + text + "'"});
      return;
    }
    option = lower(key);
    section->set(option, Value{strip(text.substr(delimiter + 1)), {file, line}});
  }

  void line(const std::string& raw, int number) {
    std::size_t comment = inline_comment_start(raw);
    std::string stripped = strip(raw);
    if (!stripped.empty() && (stripped[0] == '#' || stripped[0] == ';')) comment = 0;
    std::string value = strip(raw.substr(0, comment));
    if (value.empty()) {
      // empty_lines_in_values: kept inside a value, unless the line had a comment.
      if (comment == std::string::npos)
        if (Value* v = current()) v->text += '\n';
      return;
    }
    std::size_t level = raw.find_first_not_of(" \t\n\r\v\f");
    if (current() != nullptr && level > indent) {
      current()->text += '\n' + value;
      return;
    }
    indent = level;
    // SECTCRE "\[(?P<header>.+)\]": up to the last ']' of the line.
    std::size_t close = value.rfind(']');
    if (value[0] == '[' && close != std::string::npos && close > 1) {
      header(value.substr(1, close - 1), number);
    } else if (section == nullptr) {
      errors.push_back({{file, number}, "a key before any [section]: '" + value + "'"});
    } else {
      option_line(value, number);
    }
  }
};

}  // namespace

const Value* Section::find(const std::string& key) const {
  for (const auto& [name, value] : options)
    if (name == key) return &value;
  return nullptr;
}

void Section::set(const std::string& key, Value value) {
  for (auto& [name, old] : options) {
    if (name == key) {
      old = std::move(value);
      return;
    }
  }
  options.emplace_back(key, std::move(value));
}

Section* Document::find(const std::string& name) {
  for (Section& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

const Section* Document::find(const std::string& name) const {
  return const_cast<Document*>(this)->find(name);
}

const Value* Document::get(const Section& section, const std::string& key) const {
  if (const Value* v = section.find(key)) return v;
  return defaults.find(key);
}

std::string ParseError::to_string() const {
  return origin.file + (origin.line > 0 ? ":" + std::to_string(origin.line) : "") + ": " + message;
}

std::size_t inline_comment_start(const std::string& line) {
  for (std::size_t i = 0; i < line.size(); ++i)
    if ((line[i] == ';' || line[i] == '#') && (i == 0 || space(line[i - 1]))) return i;
  return std::string::npos;
}

std::vector<ParseError> read(Document& doc, const std::string& text, const std::string& file) {
  // Sections are found by pointer while reading: reserve so none moves.
  doc.sections.reserve(doc.sections.size() +
                       static_cast<std::size_t>(std::count(text.begin(), text.end(), '[')) + 1);
  Reader reader{doc, file, {}, nullptr, {}, 0};
  std::size_t start = 0;
  int number = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    reader.line(text.substr(start, end - start), ++number);
    start = end + 1;
  }
  for (Section& s : doc.sections)
    for (auto& [key, value] : s.options) value.text = rstrip(value.text);
  for (auto& [key, value] : doc.defaults.options) value.text = rstrip(value.text);
  return reader.errors;
}

}  // namespace muster::cli::ini
