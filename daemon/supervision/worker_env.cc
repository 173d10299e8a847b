#include "daemon/supervision/worker_env.h"

#include <pwd.h>
#include <unistd.h>
#include <cerrno>

#include <string_view>

#include "config/executable.h"
#include "daemon/supervision/worker.h"

namespace muster::daemon {

namespace {

// systemd's shell_is_placeholder(): a shell no one logs in with.
bool placeholder_shell(std::string_view shell) {
  for (std::string_view none : {"/nologin", "/false", "/true"})
    if (shell.ends_with(none)) return true;
  return false;
}

}  // namespace

std::vector<std::string> login_variables(const LoginRecord& record) {
  std::vector<std::string> vars{"USER=" + record.name, "LOGNAME=" + record.name};
  if (record.home.starts_with('/') && record.home.find_first_not_of('/') != std::string::npos)
    vars.push_back("HOME=" + record.home);
  if (record.shell.starts_with('/') && !placeholder_shell(record.shell))
    vars.push_back("SHELL=" + record.shell);
  return vars;
}

std::optional<LoginRecord> login_record(uid_t uid) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::string buffer(size > 0 ? static_cast<std::size_t>(size) : 4096, '\0');
  struct passwd entry {};
  struct passwd* found = nullptr;
  int r;
  // A larger buffer for a long entry; bounded, as an entry is.
  while ((r = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
         buffer.size() < (1u << 20))
    buffer.resize(buffer.size() * 2);
  if (r != 0 || !found) return std::nullopt;
  return LoginRecord{found->pw_name ? found->pw_name : "", found->pw_dir ? found->pw_dir : "",
                     found->pw_shell ? found->pw_shell : ""};
}

std::vector<std::string> worker_environment(const config::AppConfig& app, const WorkerIdentity& who,
                                            uid_t uid, std::string& path) {
  path = config::worker_path(app);
  std::vector<std::string> env = config::inherited_environment(app, ::environ);
  auto has = [&](std::string_view name) {
    for (const auto& e : env)
      if (e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=') return true;
    return app.env.contains(std::string(name));
  };
  // A uid with no passwd entry gets none of them: systemd refuses a User=
  // with no entry (muster refuses such a `user` too), and sets none for a
  // service without User=.
  std::vector<std::string> login;
  if (auto record = login_record(uid)) login = login_variables(*record);
  for (auto& var : login)
    if (!has(std::string_view(var).substr(0, var.find('=')))) env.push_back(std::move(var));
  env.push_back("PATH=" + path);
  for (const auto& [k, v] : app.env)
    if (k != "PATH") env.push_back(k + "=" + v);
  env.push_back("MUSTER_APP=" + who.app);
  env.push_back("MUSTER_WORKER_ID=" + std::to_string(who.id));
  env.push_back("MUSTER_INSTANCE=" + std::to_string(who.instance));
  return env;
}

}  // namespace muster::daemon
