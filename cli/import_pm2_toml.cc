// The imported config as TOML text: a header of comments, then per app its
// notes, its [apps.NAME] table, its env, its environments and, as comments,
// what PM2 had that muster has not.
#include <sstream>

#include "cli/import_pm2_parts.h"

namespace muster::cli::pm2 {
namespace {

// A bare key when TOML allows one, else a quoted key.
std::string key_text(const std::string& key) {
  for (unsigned char c : key)
    if (!std::isalnum(c) && c != '_' && c != '-') return toml_string(key);
  return key.empty() ? "\"\"" : key;
}

void env_table(std::ostringstream& out, const std::string& header, const Env& env) {
  if (env.empty()) return;
  out << "\n[" << header << "]\n";
  for (const auto& [k, v] : env) out << key_text(k) << " = " << toml_string(v) << "\n";
}

void app_text(std::ostringstream& out, const App& app) {
  out << "\n";
  for (const auto& n : app.notes) out << "# " << n << "\n";
  out << "[apps." << app.name << "]\n";
  std::size_t width = 0;
  for (const auto& l : app.lines)
    if (!l.value.empty()) width = std::max(width, l.key.size() + 3 + l.value.size());
  width = std::min<std::size_t>(width, 40);
  for (const auto& l : app.lines) {
    std::string text = l.key + " = " + l.value;
    if (!l.comment.empty())
      text += std::string(text.size() < width ? width - text.size() : 0, ' ') + "  # " + l.comment;
    out << text << "\n";
  }
  for (const auto& d : app.dropped) out << "# " << d << "\n";
  env_table(out, "apps." + app.name + ".env", app.env);
  for (const auto& [name, env] : app.environments)
    env_table(out, "apps." + app.name + ".environments." + key_text(name) + ".env", env);
}

}  // namespace

std::string render(const std::vector<App>& apps, const std::vector<std::string>& header) {
  std::ostringstream out;
  for (const auto& h : header) out << "# " << h << "\n";
  for (const auto& app : apps) app_text(out, app);
  return out.str();
}

}  // namespace muster::cli::pm2
