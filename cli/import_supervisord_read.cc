// Reading supervisord's files: the ones named, then what each one's
// [include] files= names (supervisor/options.py, ServerOptions.read_config).
#include <glob.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/exit_code.h"
#include "cli/import_supervisord.h"
#include "cli/pyformat.h"

extern char** environ;

namespace muster::cli::supervisord {
namespace fs = std::filesystem;
namespace {

Result<void> read_one(ini::Document& doc, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{file + ": cannot read: " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{file + ": cannot read: " + std::strerror(errno)};
  auto errors = ini::read(doc, text.str(), file);
  if (!errors.empty()) return Error{errors.front().to_string()};
  return {};
}

// Python's glob.glob(os.path.join(base, pattern)), sorted.
std::vector<std::string> glob_files(const std::string& base, const std::string& pattern) {
  std::string full = pattern.starts_with('/') ? pattern : (fs::path(base) / pattern).string();
  glob_t found{};
  std::vector<std::string> out;
  if (::glob(full.c_str(), GLOB_NOSORT, nullptr, &found) == 0)
    for (std::size_t i = 0; i < found.gl_pathc; ++i) out.emplace_back(found.gl_pathv[i]);
  ::globfree(&found);
  std::sort(out.begin(), out.end());
  return out;
}

Context this_host() {
  Context context;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::size_t eq = entry.find('=');
    if (eq != std::string::npos) context.environ[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  utsname name{};
  if (::uname(&name) == 0) context.host_node_name = name.nodename;
  return context;
}

// [include] files= of `file`, if that file set it: each pattern's matches.
Result<void> read_includes(ini::Document& doc, const std::string& file,
                           std::vector<std::string>& warnings) {
  const ini::Section* include = doc.find("include");
  const ini::Value* files = include ? include->find("files") : nullptr;
  if (include == nullptr || include->origin.file != file) return {};
  if (files == nullptr)
    return Error{file + ":" + std::to_string(include->origin.line) +
                 ": [include] has no files= setting"};
  std::string base = fs::absolute(file).parent_path().string();
  Context context = this_host();
  pyformat::Args args{{"here", base}, {"host_node_name", context.host_node_name}};
  for (const auto& [key, value] : context.environ) args["ENV_" + key] = value;
  auto expanded = pyformat::expand(files->text, args);
  if (!expanded)
    return Error{files->origin.file + ":" + std::to_string(files->origin.line) +
                 ": [include] files: " + expanded.error().message};
  std::istringstream patterns(*expanded);
  for (std::string pattern; patterns >> pattern;) {
    auto matches = glob_files(base, pattern);
    if (matches.empty()) warnings.push_back(file + ": no file matches [include] " + pattern);
    for (const std::string& match : matches)
      if (auto r = read_one(doc, match); !r) return r.error();
  }
  return {};
}

}  // namespace

Result<ini::Document> read_files(const std::vector<std::string>& files,
                                 std::vector<std::string>& warnings) {
  ini::Document doc;
  for (const std::string& file : files) {
    if (auto r = read_one(doc, file); !r) return r.error();
    if (auto r = read_includes(doc, file, warnings); !r) return r.error();
  }
  return doc;
}

int run_import_supervisord(const std::vector<std::string>& files) {
  std::vector<std::string> warnings;
  auto doc = read_files(files, warnings);
  if (!doc) {
    std::cerr << "musterctl: " << doc.error().message << '\n';
    return kExitFailed;
  }
  auto imported = convert(*doc, this_host());
  if (!imported) {
    std::cerr << "musterctl: " << imported.error().message << '\n';
    return kExitFailed;
  }
  warnings.insert(warnings.end(), imported->warnings.begin(), imported->warnings.end());
  for (const std::string& w : warnings) std::cerr << "musterctl: warning: " << w << '\n';
  std::cout << to_toml(*imported, files);
  return kExitOk;
}

}  // namespace muster::cli::supervisord
