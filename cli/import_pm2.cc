// The PM2 importer's entry: which kind of file it is, the header, each app
// (import_pm2_app.cc), the text (import_pm2_toml.cc); and the real host.
#include "cli/import_pm2.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "cli/import_pm2_parts.h"

namespace muster::cli::pm2 {
namespace {

std::vector<std::string> header(const std::string& source, bool dump, bool environments) {
  std::vector<std::string> h = {
      "Imported by `musterctl import pm2` from " + source +
          (dump ? " (PM2's saved process list)." : " (a PM2 ecosystem file)."),
      "PM2 keys muster has no equivalent for are comments: # pm2 KEY = VALUE: why.",
      "Workers get a clean environment: env below, not the shell's as under PM2",
      "(env_inherit = [\"NAME\"] passes one of musterd's variables on).",
  };
  if (!dump)
    h.push_back(
        "Relative paths are relative to this file: save it where pm2 ran, as PM2 took "
        "them from there.");
  if (environments)
    h.push_back(
        "env_NAME became environments.NAME: `musterd --environment NAME`, as "
        "`pm2 start --env NAME`.");
  return h;
}

}  // namespace

Outcome convert(const json::value& value, const std::string& source, const std::string& dir,
                const Host& host) {
  std::vector<std::string> notes;
  std::vector<Source> sources;
  std::string error;
  const bool dump = is_dump(value);
  if (dump)
    sources = dump_apps(value.get_array(), notes);
  else
    sources = ecosystem_apps(value, error);
  if (!error.empty()) return {std::nullopt, error};
  for (const auto& s : sources)
    if (!s.conf.contains("script"))
      return {std::nullopt, "app " +
                                (s.conf.contains("name") ? display(s.conf.at("name"))
                                                         : std::string("without a name")) +
                                " has no script"};
  Imported out;
  std::vector<App> apps;
  bool environments = false;
  for (const auto& s : sources) {
    apps.push_back(convert_app(s, dir, host, out.warnings));
    environments = environments || !apps.back().environments.empty();
  }
  auto h = header(source, dump, environments);
  h.insert(h.end(), notes.begin(), notes.end());
  out.toml = render(apps, h);
  return {std::move(out), ""};
}

Host real_host() {
  Host host;
  host.file_kind = [](const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return Host::Kind::missing;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Host::Kind::missing;
    char bytes[512];
    const ssize_t n = ::read(fd, bytes, sizeof bytes);
    ::close(fd);
    // lib/tools/isbinaryfile.js, its first rule: a NUL byte in the first 512.
    for (ssize_t i = 0; i < n; ++i)
      if (bytes[i] == '\0') return Host::Kind::binary;
    return Host::Kind::text;
  };
  if (const char* home = std::getenv("HOME")) host.home = home;
  return host;
}

}  // namespace muster::cli::pm2
