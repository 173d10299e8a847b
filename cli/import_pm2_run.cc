// `musterctl import pm2 FILE`: read the file (JSON, or JavaScript through
// node), convert it, print the config and the warnings.
#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/exit_code.h"
#include "cli/import_pm2.h"
#include "cli/import_pm2_node.h"

namespace muster::cli::pm2 {
namespace {

namespace json = boost::json;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// JSON text as a value, or an error naming LINE:COLUMN of the first problem.
std::optional<json::value> parse(const std::string& text, std::string& error) {
  json::stream_parser parser;
  boost::system::error_code ec;
  std::size_t used = parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (!ec) return parser.release();
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < used && i < text.size(); ++i) {
    if (text[i] == '\n')
      ++line, column = 1;
    else
      ++column;
  }
  error = std::to_string(line) + ":" + std::to_string(column) + ": not JSON: " + ec.message();
  return std::nullopt;
}

int fail(const std::string& path, const std::string& why) {
  std::cerr << "musterctl: " << path << ": " << why << "\n";
  return kExitFailed;
}

}  // namespace

int run_import(const std::string& path) {
  std::string text, error;
  std::optional<json::value> value;
  if (ends_with(path, ".js") || ends_with(path, ".cjs") || ends_with(path, ".mjs")) {
    if (!std::filesystem::is_regular_file(path)) return fail(path, "no such file");
    NodeResult node;
    try {
      node = evaluate_with_node(path);
    } catch (const std::exception& e) {
      return fail(path, std::string("cannot run node: ") + e.what());
    }
    if (!node.ok) return fail(path, node.error);
    value = parse(node.json, error);
    if (!value) return fail(path, "node printed no JSON: " + error);
  } else if (ends_with(path, ".yaml") || ends_with(path, ".yml")) {
    return fail(path, "YAML ecosystem files are not read: give the same apps as .json or .js");
  } else {
    std::ifstream in(path);
    if (!in) return fail(path, std::string("cannot read: ") + std::strerror(errno));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    value = parse(buffer.str(), error);
    if (!value) {
      std::cerr << "musterctl: " << path << ":" << error << "\n";  // PATH:LINE:COLUMN: ...
      return kExitFailed;
    }
  }
  const std::string dir = std::filesystem::absolute(path).parent_path().string();
  Outcome outcome = convert(*value, path, dir, real_host());
  if (!outcome.imported) return fail(path, outcome.error);
  std::cout << outcome.imported->toml;
  for (const auto& w : outcome.imported->warnings) std::cerr << path << ": warning: " << w << "\n";
  return kExitOk;
}

}  // namespace muster::cli::pm2
