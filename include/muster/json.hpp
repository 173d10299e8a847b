// muster/json.hpp: the small JSON reader/writer that muster/worker.hpp uses for Node's
// cluster IPC messages: json::Value, quote(), dump(), parse() and minify().
// Header-only, C++17, standard library only.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace muster {
namespace json {

// A parsed JSON value. Numbers keep their source text in `s`; an object's members
// are keys[i] -> items[i] (parallel vectors keep the type complete for every compiler).
struct Value {
  enum class Type { null, boolean, number, string, array, object } type = Type::null;
  bool b = false;
  std::string s;
  std::vector<Value> items;
  std::vector<std::string> keys;

  const Value* get(std::string_view key) const {
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key) return &items[i];
    return nullptr;
  }
  bool is(Type t) const { return type == t; }
  long long as_int(long long fallback = 0) const {
    return type == Type::number ? static_cast<long long>(std::strtod(s.c_str(), nullptr))
                                : fallback;
  }
};

inline std::string quote(std::string_view in) {
  std::string out = "\"";
  for (char ch : in) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

inline std::string dump(const Value& v) {
  switch (v.type) {
    case Value::Type::null: return "null";
    case Value::Type::boolean: return v.b ? "true" : "false";
    case Value::Type::number: return v.s;
    case Value::Type::string: return quote(v.s);
    case Value::Type::array: {
      std::string out = "[";
      for (auto& i : v.items) out += (out.size() > 1 ? "," : "") + dump(i);
      return out + "]";
    }
    case Value::Type::object: {
      std::string out = "{";
      for (size_t i = 0; i < v.keys.size(); ++i)
        out += (i ? "," : "") + quote(v.keys[i]) + ":" + dump(v.items[i]);
      return out + "}";
    }
  }
  return "null";
}

namespace detail {
class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}
  bool whole(Value& v) { return value(v, 0) && (ws(), i_ == t_.size()); }

 private:
  std::string_view t_;
  size_t i_ = 0;

  bool more() const { return i_ < t_.size(); }
  bool digit() const { return more() && t_[i_] >= '0' && t_[i_] <= '9'; }
  void digits() {
    while (digit()) ++i_;
  }
  bool eat(char c) { return more() && t_[i_] == c ? (++i_, true) : false; }
  void ws() {
    while (more() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
  }
  bool word(std::string_view w) {
    return t_.substr(i_, w.size()) == w ? (i_ += w.size(), true) : false;
  }

  bool value(Value& v, int depth) {
    ws();
    if (!more() || depth > 64) return false;  // the depth bound keeps hostile input off the stack
    char c = t_[i_];
    if (c == '{') return v.type = Value::Type::object, object(v, depth);
    if (c == '[') return v.type = Value::Type::array, array(v, depth);
    if (c == '"') return v.type = Value::Type::string, string(v.s);
    if (c == 't') return v.type = Value::Type::boolean, v.b = true, word("true");
    if (c == 'f') return v.type = Value::Type::boolean, word("false");
    if (c == 'n') return word("null");
    v.type = Value::Type::number;
    return number(v.s);
  }
  bool object(Value& v, int depth) {
    ++i_;
    ws();
    if (eat('}')) return true;
    do {
      ws();
      v.keys.emplace_back();
      v.items.emplace_back();
      if (!more() || t_[i_] != '"' || !string(v.keys.back())) return false;
      ws();
      if (!eat(':') || !value(v.items.back(), depth + 1)) return false;
      ws();
    } while (eat(','));
    return eat('}');
  }
  bool array(Value& v, int depth) {
    ++i_;
    ws();
    if (eat(']')) return true;
    do {
      v.items.emplace_back();
      if (!value(v.items.back(), depth + 1)) return false;
      ws();
    } while (eat(','));
    return eat(']');
  }
  bool number(std::string& out) {
    size_t start = i_;
    eat('-');
    if (!eat('0')) {
      if (!digit()) return false;
      digits();
    }
    if (eat('.')) {
      if (!digit()) return false;
      digits();
    }
    if (eat('e') || eat('E')) {
      if (!eat('+')) eat('-');
      if (!digit()) return false;
      digits();
    }
    out.assign(t_.substr(start, i_ - start));
    return true;
  }
  bool hex4(unsigned& u) {
    if (t_.size() - i_ < 4) return false;
    u = 0;
    for (int k = 0; k < 4; ++k) {
      char c = t_[i_++];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return false;
      u = u * 16 + static_cast<unsigned>(d);
    }
    return true;
  }
  static void utf8(std::string& out, unsigned u) {  // a lone surrogate comes out as WTF-8
    if (u < 0x80) {
      out += static_cast<char>(u);
    } else if (u < 0x800) {
      out += static_cast<char>(0xC0 | (u >> 6));
      out += static_cast<char>(0x80 | (u & 0x3F));
    } else if (u < 0x10000) {
      out += static_cast<char>(0xE0 | (u >> 12));
      out += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (u & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (u >> 18));
      out += static_cast<char>(0x80 | ((u >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (u & 0x3F));
    }
  }
  bool string(std::string& out) {
    ++i_;
    while (more()) {
      unsigned char c = static_cast<unsigned char>(t_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (!more()) return false;
      switch (t_[i_++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned u = 0, lo = 0;
          if (!hex4(u)) return false;
          size_t save = i_;
          if (u >= 0xD800 && u < 0xDC00 && word("\\u") && hex4(lo) && lo >= 0xDC00 && lo < 0xE000)
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
          else
            i_ = save;
          utf8(out, u);
          break;
        }
        default: return false;
      }
    }
    return false;
  }
};
}  // namespace detail

// Exactly one JSON value (surrounding whitespace allowed), or nullopt.
inline std::optional<Value> parse(std::string_view text) {
  Value v;
  if (!detail::Parser(text).whole(v)) return std::nullopt;
  return v;
}

// Valid JSON text on one line: the insignificant whitespace removed, the rest kept byte for byte.
inline std::optional<std::string> minify(std::string_view text) {
  if (!parse(text)) return std::nullopt;
  std::string out;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      in_string = escaped || c != '"';
      escaped = !escaped && c == '\\';
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      continue;
    } else {
      in_string = c == '"';
    }
    out += c;
  }
  return out;
}
}  // namespace json
}  // namespace muster
