// Mirrors CPython's PyUnicode_Format for a mapping argument, for the types
// a config plausibly uses; float types are refused as supervisord users
// never need them.
#include "cli/pyformat.h"

#include <cctype>
#include <cstdlib>

namespace muster::cli::pyformat {
namespace {

struct Spec {
  std::string name;
  bool left = false, zero = false, plus = false, blank = false, alternate = false;
  std::size_t width = 0;
  int precision = -1;
  char type = 's';
};

std::string pad(std::string body, const Spec& spec, bool numeric) {
  if (body.size() >= spec.width) return body;
  std::size_t fill = spec.width - body.size();
  if (spec.left) return body + std::string(fill, ' ');
  if (spec.zero && numeric) {
    std::size_t sign =
        (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
    if (spec.alternate && body.size() > sign + 1 && body[sign] == '0') sign += 2;
    return body.substr(0, sign) + std::string(fill, '0') + body.substr(sign);
  }
  return std::string(fill, ' ') + body;
}

std::string digits(std::uint64_t n, int base, bool upper) {
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), set[n % static_cast<unsigned>(base)]);
    n /= static_cast<unsigned>(base);
  } while (n != 0);
  return out;
}

Result<std::string> integer(const Spec& spec, const Arg& arg) {
  if (!std::holds_alternative<std::int64_t>(arg))
    return Error{"%" + std::string(1, spec.type) + " format: a real number is required, not str"};
  std::int64_t n = std::get<std::int64_t>(arg);
  std::uint64_t magnitude =
      n < 0 ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
  int base = spec.type == 'x' || spec.type == 'X' ? 16 : spec.type == 'o' ? 8 : 10;
  std::string body = digits(magnitude, base, spec.type == 'X');
  if (spec.precision > 0 && body.size() < static_cast<std::size_t>(spec.precision))
    body.insert(0, static_cast<std::size_t>(spec.precision) - body.size(), '0');
  if (spec.alternate && base != 10)
    body.insert(0, base == 16 ? std::string("0") + spec.type : "0o");
  body.insert(0, n < 0 ? "-" : spec.plus ? "+" : spec.blank ? " " : "");
  return pad(body, spec, true);
}

Result<std::string> convert(const Spec& spec, const Arg& arg) {
  switch (spec.type) {
    case 's':
    case 'r':
    case 'a': {
      std::string body = std::holds_alternative<std::string>(arg)
                             ? std::get<std::string>(arg)
                             : std::to_string(std::get<std::int64_t>(arg));
      if (spec.type != 's' && std::holds_alternative<std::string>(arg)) body = "'" + body + "'";
      if (spec.precision >= 0 && body.size() > static_cast<std::size_t>(spec.precision))
        body.resize(static_cast<std::size_t>(spec.precision));
      return pad(body, spec, false);
    }
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o': return integer(spec, arg);
    case 'c':
      if (std::holds_alternative<std::string>(arg) && std::get<std::string>(arg).size() == 1)
        return pad(std::get<std::string>(arg), spec, false);
      return Error{"%c requires a single character"};
    default: return Error{std::string("unsupported format character '") + spec.type + "'"};
  }
}

// Reads the spec after '%' at text[pos]; pos ends after its type.
Result<Spec> parse_spec(const std::string& text, std::size_t& pos) {
  Spec spec;
  if (pos >= text.size() || text[pos] != '(') return Error{"format requires a mapping"};
  std::size_t close = text.find(')', pos);
  if (close == std::string::npos) return Error{"incomplete format key"};
  spec.name = text.substr(pos + 1, close - pos - 1);
  pos = close + 1;
  for (; pos < text.size(); ++pos) {
    char c = text[pos];
    if (c == '-')
      spec.left = true;
    else if (c == '0')
      spec.zero = true;
    else if (c == '+')
      spec.plus = true;
    else if (c == ' ')
      spec.blank = true;
    else if (c == '#')
      spec.alternate = true;
    else
      break;
  }
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])))
    spec.width = spec.width * 10 + static_cast<std::size_t>(text[pos++] - '0');
  if (pos < text.size() && text[pos] == '.') {
    spec.precision = 0;
    while (++pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])))
      spec.precision = spec.precision * 10 + (text[pos] - '0');
  }
  while (pos < text.size() && (text[pos] == 'h' || text[pos] == 'l' || text[pos] == 'L')) ++pos;
  if (pos >= text.size()) return Error{"incomplete format"};
  spec.type = text[pos++];
  return spec;
}

}  // namespace

Result<std::string> expand(const std::string& text, const Args& args) {
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    char c = text[pos++];
    if (c != '%') {
      out += c;
      continue;
    }
    if (pos < text.size() && text[pos] == '%') {
      out += '%';
      ++pos;
      continue;
    }
    auto spec = parse_spec(text, pos);
    if (!spec) return spec.error();
    auto arg = args.find(spec->name);
    if (arg == args.end()) return Error{"no name '" + spec->name + "' to expand"};
    auto piece = convert(*spec, arg->second);
    if (!piece) return piece.error();
    out += *piece;
  }
  return out;
}

bool mentions(const std::string& text, const std::string& name) {
  return text.find("%(" + name + ")") != std::string::npos;
}

}  // namespace muster::cli::pyformat
