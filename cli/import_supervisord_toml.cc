// The imported config as muster.toml text (SPEC24: [groups], autostart,
// after), with comments where supervisord's meaning does not carry over.
#include <sstream>

#include "cli/import_supervisord.h"
#include "cli/import_supervisord_program.h"

namespace muster::cli::supervisord {
namespace {

bool bare_key(const std::string& key) {
  return !key.empty() && key.find_first_not_of(
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                             "0123456789_-") == std::string::npos;
}

std::string toml_key(const std::string& key) { return bare_key(key) ? key : toml_string(key); }

void write_comment(std::ostream& out, const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out << "# " << line << '\n';
}

void write_app(std::ostream& out, const App& app) {
  out << "\n# " << app.source << '\n';
  out << "[apps." << toml_key(app.name) << "]\n";
  for (const auto& [key, value] : app.keys) out << key << " = " << value << '\n';
  for (const std::string& comment : app.comments) write_comment(out, comment);
  if (app.env.empty()) return;
  out << "[apps." << toml_key(app.name) << ".env]\n";
  for (const auto& [key, value] : app.env)
    out << toml_key(key) << " = " << toml_string(value) << '\n';
}

}  // namespace

std::string to_toml(const Imported& imported, const std::vector<std::string>& files) {
  std::ostringstream out;
  out << "# Imported from supervisord's config by `musterctl import supervisord";
  for (const std::string& file : files) out << ' ' << file;
  out << "`.\n"
         "# %(ENV_X)s and %(host_node_name)s were expanded here, at import. muster's workers\n"
         "# get a clean environment (README, Worker environment): add env_inherit = [\"NAME\"]\n"
         "# to an app for what it took from supervisord's environment.\n";
  for (const std::string& comment : imported.comments) write_comment(out, comment);
  if (!imported.groups.empty()) {
    out << "\n[groups]\n";
    for (const auto& [name, apps] : imported.groups)
      out << toml_key(name) << " = " << toml_strings(apps) << '\n';
  }
  for (const App& app : imported.apps) write_app(out, app);
  return out.str();
}

}  // namespace muster::cli::supervisord
