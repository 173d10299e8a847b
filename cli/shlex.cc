// A port of CPython's Lib/shlex.py read_token() in posix mode, without
// punctuation_chars: the two ways supervisord configures it.
#include "cli/shlex.h"

#include <cctype>
#include <optional>

namespace muster::cli::shlex {
namespace {

bool whitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool quote_char(char c) { return c == '\'' || c == '"'; }

struct Lexer {
  const std::string& text;
  bool posix;             // posix=True: quotes join words, backslash escapes
  bool whitespace_split;  // shlex.split: any non-blank character is part of a word
  bool comments;          // '#' starts a comment (shlex.shlex's default commenters)
  bool (*wordchar)(char);
  std::size_t pos = 0;

  void skip_line() {
    while (pos < text.size() && text[pos] != '\n') ++pos;
  }

  // The text of a quote opened by `q` (pos after it), with posix escapes.
  Result<void> quoted(char q, std::string& token) {
    for (;;) {
      if (pos >= text.size()) return Error{"No closing quotation"};
      char c = text[pos++];
      if (c == q) return {};
      if (q == '"' && c == '\\') {
        if (pos >= text.size()) return Error{"No escaped character"};
        char next = text[pos++];
        if (next != '"' && next != '\\') token += '\\';
        token += next;
      } else {
        token += c;
      }
    }
  }

  // The next token, nullopt at the end.
  Result<std::optional<std::string>> next() {
    std::string token;
    bool quoted_any = false, in_word = false;
    while (pos < text.size()) {
      char c = text[pos];
      if (whitespace(c)) {
        ++pos;
        if (in_word || quoted_any) break;
        continue;
      }
      if (comments && c == '#') {
        skip_line();
        if (in_word || quoted_any) break;
        continue;
      }
      if (quote_char(c) && !posix) {
        // A quote opens a token of its own, quotes kept; inside a word it is
        // a word character.
        if (in_word) {
          token += c;
          ++pos;
          continue;
        }
        std::size_t close = text.find(c, pos + 1);
        if (close == std::string::npos) return Error{"No closing quotation"};
        token = text.substr(pos, close - pos + 1);
        pos = close + 1;
        return std::optional<std::string>(token);
      }
      if (quote_char(c)) {
        ++pos;
        quoted_any = in_word = true;
        if (auto r = quoted(c, token); !r) return r.error();
        continue;
      }
      if (c == '\\' && posix) {
        ++pos;
        if (pos >= text.size()) return Error{"No escaped character"};
        token += text[pos++];
        in_word = true;
        continue;
      }
      if (whitespace_split || wordchar(c)) {
        token += c;
        ++pos;
        in_word = true;
        continue;
      }
      // Any other character is a token of its own, ending a word before it.
      if (in_word || quoted_any) break;
      ++pos;
      return std::optional<std::string>(std::string(1, c));
    }
    if (!in_word && !quoted_any) return std::optional<std::string>();
    return std::optional<std::string>(token);
  }
};

bool never(char) { return false; }

// shlex's posix wordchars (letters, digits, '_', Latin-1 letters: here every
// non-ASCII byte) plus supervisord's '/.+-():'.
bool key_value_wordchar(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || u >= 0x80 || c == '_' || c == '/' || c == '.' || c == '+' || c == '-' ||
         c == '(' || c == ')' || c == ':';
}

Result<std::vector<std::string>> tokens(Lexer lexer) {
  std::vector<std::string> out;
  for (;;) {
    auto token = lexer.next();
    if (!token) return token.error();
    if (!token->has_value()) return out;
    out.push_back(**token);
  }
}

}  // namespace

Result<std::vector<std::string>> split(const std::string& text) {
  return tokens(Lexer{text, true, true, false, never});
}

Result<std::vector<std::pair<std::string, std::string>>> key_value_pairs(const std::string& text) {
  auto list = tokens(Lexer{text, false, false, true, key_value_wordchar});
  if (!list) return list.error();
  std::vector<std::pair<std::string, std::string>> out;
  // Each pair is KEY '=' VALUE, then one token (the ',') skipped unread.
  for (std::size_t i = 0; i < list->size(); i += 4) {
    if (i + 2 >= list->size() || (*list)[i + 1] != "=")
      return Error{"Unexpected end of key/value pairs in value '" + text + "'"};
    const std::string& key = (*list)[i];
    // v.strip('\'"'): every quote at either end.
    std::string value = (*list)[i + 2];
    std::size_t first = value.find_first_not_of("'\""), last = value.find_last_not_of("'\"");
    value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
    bool replaced = false;
    for (auto& [k, v] : out)
      if (k == key) v = value, replaced = true;
    if (!replaced) out.emplace_back(key, value);
  }
  return out;
}

std::string quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789@%+=:,./-_") == std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\"'\"'") : std::string(1, c);
  return out + "'";
}

}  // namespace muster::cli::shlex
