// What a config names must exist on the host that runs it: users and groups
// (getpwnam_r, getgrnam_r), the apps' programs along the worker's PATH, their
// working directories, the directories musterd writes output files and
// binds unix sockets in (no link on the way; as root, none others can change),
// and the journal for output = "journal".
#include "config/host_checks.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "config/executable.h"
#include "config/file_safety.h"
#include "config/socket_dir.h"

namespace muster::config::detail {
namespace {

// Whether the user (getpwnam_r) or group (getgrnam_r) database knows `name`.
// A failed lookup counts as unknown: nothing could be given to it.
template <class Entry>
bool known_name(int (*lookup)(const char*, Entry*, char*, std::size_t, Entry**),
                const std::string& name) {
  std::vector<char> buffer(1024);
  for (;;) {
    Entry entry;
    Entry* found = nullptr;
    int rc = lookup(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (std::size_t(1) << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    return rc == 0 && found != nullptr;
  }
}

// One [apps.NAME] or [sockets.NAME] table of the file, for errors at its keys.
struct Table {
  const toml::table* table;  // nullptr when the file has no such table
  std::string path;          // "apps.web"

  // The non-empty string value of `key` without NUL bytes, else nullptr
  // (absent, or wrong in a way the pure reading reports).
  const toml::node* string_at(std::string_view key) const {
    const toml::node* node = table ? table->get(key) : nullptr;
    if (node == nullptr || !node->is_string()) return nullptr;
    const std::string& text = node->as_string()->get();
    return text.empty() || text.find('\0') != std::string::npos ? nullptr : node;
  }

  void error(ErrorList& errors, const toml::node& at, std::string_view key,
             const std::string& message) const {
    errors.add(at.source(), path + "." + std::string(key), message);
  }
};

Table table_of(const toml::table& root, std::string_view kind, const std::string& name) {
  const toml::table* all = root.get(kind) ? root.get(kind)->as_table() : nullptr;
  const toml::node* node = all ? all->get(name) : nullptr;
  return Table{node ? node->as_table() : nullptr, std::string(kind) + "." + name};
}

void check_user(const Table& t, std::string_view key, ErrorList& errors) {
  if (const toml::node* at = t.string_at(key)) {
    const std::string& name = at->as_string()->get();
    if (!known_name(getpwnam_r, name))
      t.error(errors, *at, key, "no user named " + quote(name) + " on this host");
  }
}

void check_group(const Table& t, std::string_view key, ErrorList& errors) {
  if (const toml::node* at = t.string_at(key)) {
    const std::string& name = at->as_string()->get();
    if (!known_name(getgrnam_r, name))
      t.error(errors, *at, key, "no group named " + quote(name) + " on this host");
  }
}

// Why `path` is not a directory (stat's error, or what it is), or "".
std::string not_a_directory(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  return S_ISDIR(st.st_mode) ? "" : "not a directory";
}

// False when the cwd was written and is no directory: exec is then not looked
// for, as a relative one would be looked for there.
bool check_cwd(const Table& t, const AppConfig& app, ErrorList& errors) {
  const toml::node* at = t.string_at("cwd");
  if (at == nullptr) return true;  // the config file's directory
  std::string why = not_a_directory(app.cwd);
  if (why.empty()) return true;
  t.error(errors, *at, "cwd", "cannot use " + quote(app.cwd) + " as the working directory: " + why);
  return false;
}

void check_exec(const Table& t, const AppConfig& app, ErrorList& errors) {
  const toml::node* at = t.string_at("exec");
  if (at == nullptr) return;
  auto found = resolve_executable(app.exec, app.cwd, worker_path(app));
  if (!found) t.error(errors, *at, "exec", found.error().message);
}

// musterd itself opens, appends to and rotates (renames in its directory) the
// file, so musterd must be able to write both; the workers only get a pipe.
// It opens them relative to the directory, following no link (OutputFile),
// so a link on the way would fail at run time: it is reported here, and so
// is a directory others could plant a file in (as root).
void check_output_file(const Table& t, const AppConfig& app, ErrorList& errors) {
  const toml::node* at = t.string_at("output_file");
  if (at == nullptr || app.output != Output::file || app.output_file.empty()) return;
  std::string dir = std::filesystem::path(app.output_file).parent_path().string();
  std::string why = not_a_directory(dir);
  if (why.empty() && ::access(dir.c_str(), W_OK | X_OK) != 0) why = std::strerror(errno);
  if (!why.empty()) {
    t.error(errors, *at, "output_file",
            "musterd cannot create files in " + quote(dir) + ": " + why);
    return;
  }
  if (auto unsafe = unsafe_directory(dir, CreatedIn::directory)) {
    t.error(errors, *at, "output_file", *unsafe);
    return;
  }
  // A link or anything else another user may have put at the name is
  // judged when musterd opens the file (an output error, the app running):
  // refused here, it would let anyone who can create that name stop musterd
  // from starting.
  struct stat st {};
  if (::lstat(app.output_file.c_str(), &st) != 0) return;  // musterd creates it
  if (S_ISDIR(st.st_mode))
    why = "a directory";
  else if (S_ISREG(st.st_mode) && ::access(app.output_file.c_str(), W_OK) != 0)
    why = std::strerror(errno);
  if (!why.empty()) {
    t.error(errors, *at, "output_file",
            "musterd cannot write " + quote(app.output_file) + ": " + why);
  }
}

// musterd binds its control socket only where nobody else can replace or
// redirect it (config/socket_dir.h); a config that puts it elsewhere is
// refused here, at --check, start and reload-config alike.
void check_control_socket(const Table& daemon, const DaemonConfig& config, ErrorList& errors) {
  const toml::node* at = daemon.string_at("control_socket");
  if (at == nullptr || config.control_socket_default) return;
  std::string dir = std::filesystem::path(config.control_socket).parent_path().string();
  if (auto problem = socket_dir_problem(dir, SocketDirRule::configured)) {
    daemon.error(errors, *at, "control_socket",
                 "not a safe directory for the control socket: " + *problem +
                     "; use one only root or musterd's user can write to (or a sticky one "
                     "such as /tmp)");
  }
}

// bind() takes the whole path, so as root no directory on it may be one
// another user can change (daemon/network/socket_file.h); no link is followed.
void check_socket_path(const Table& t, const SocketConfig& socket, ErrorList& errors) {
  const toml::node* at = t.string_at("listen");
  if (at == nullptr || socket.path.empty()) return;
  std::string dir = std::filesystem::path(socket.path).parent_path().string();
  if (auto unsafe = unsafe_directory(dir, CreatedIn::whole_path))
    t.error(errors, *at, "listen", *unsafe);
}

// output = "journal": musterd sends each line to journald's socket
// (sd_journal_sendv), which only a host running systemd-journald has.
void check_journal(const Table& t, const AppConfig& app, ErrorList& errors) {
  const toml::node* at = t.string_at("output");
  if (at == nullptr || app.output != Output::journal) return;
  if (::access(kJournalSocket, W_OK) == 0) return;
  t.error(errors, *at, "output",
          std::string(R"(output = "journal" needs the systemd journal, which this host lacks ()") +
              kJournalSocket + ": " + std::strerror(errno) + ")");
}

}  // namespace

void check_host(const toml::table& root, const Config& config, ErrorList& errors) {
  Table daemon{root.get("daemon") ? root.get("daemon")->as_table() : nullptr, "daemon"};
  check_group(daemon, "control_group", errors);
  check_control_socket(daemon, config.daemon, errors);
  for (const SocketConfig& socket : config.sockets) {
    if (socket.family != SocketConfig::Family::unix_path) continue;
    Table t = table_of(root, "sockets", socket.name);
    check_socket_path(t, socket, errors);
    check_user(t, "owner", errors);
    check_group(t, "group", errors);
  }
  for (const AppConfig& app : config.apps) {
    Table t = table_of(root, "apps", app.name);
    check_user(t, "user", errors);
    check_group(t, "group", errors);
    if (check_cwd(t, app, errors)) check_exec(t, app, errors);
    check_output_file(t, app, errors);
    check_journal(t, app, errors);
  }
}

}  // namespace muster::config::detail
