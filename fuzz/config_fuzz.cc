// The config loader (config/load_string) on arbitrary TOML text: toml++'s
// parser and every table reader behind it.
//
// Checked: a config comes back iff there are no errors, errors are in file
// order, point into the file and show no raw control character, the bounds
// hold, and loading is deterministic. The host checks are not run: their
// answers depend on the machine, not on the input.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/config.h"

namespace {

using muster::config::ConfigError;
using muster::config::LoadResult;

const std::string kPath = "/srv/fuzz/muster.toml";

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "config_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The loader reads these; keep every run the same.
  ::unsetenv("MUSTER_SCHED_POLICY");
  ::unsetenv("NODE_CLUSTER_SCHED_POLICY");
  ::setenv("XDG_RUNTIME_DIR", "/run/user/0", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  LoadResult result = muster::config::load_string(text, kPath);
  if (result.config.has_value() == !result.errors.empty())
    fail("config and errors disagree", result.errors.empty() ? "" : result.errors[0].to_string());
  int lines = 1;
  for (char c : text) lines += c == '\n';
  const ConfigError* previous = nullptr;
  for (const ConfigError& error : result.errors) {
    std::string shown = error.to_string();
    if (error.file != kPath) fail("error names another file", shown);
    if (error.message.empty()) fail("error without a message", shown);
    for (char c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) fail("raw control character", shown);
    if (error.line < 0 || error.line > lines || error.column < 0)
      fail("error outside the file", shown);
    if (previous && (previous->line > error.line ||
                     (previous->line == error.line && previous->column > error.column)))
      fail("errors out of file order", previous->to_string() + " / " + shown);
    previous = &error;
  }
  LoadResult again = muster::config::load_string(text, kPath);
  if (again.errors.size() != result.errors.size()) fail("loading is not deterministic");
  for (std::size_t i = 0; i < again.errors.size(); ++i)
    if (again.errors[i].to_string() != result.errors[i].to_string())
      fail("loading is not deterministic", again.errors[i].to_string());
  if (result.config) {
    for (const auto& app : result.config->apps) {
      if (app.name.empty()) fail("app without a name");
      if (app.cwd.empty() || app.cwd[0] != '/') fail("app cwd not absolute", app.cwd);
      if (app.instances == 0) fail("instances left at 0", app.name);
      if (app.instances > muster::config::kMaxInstances)
        fail("instances above the bound", app.name);
      if (app.output_keep > muster::config::kMaxOutputKeep)
        fail("output_keep above the bound", app.name);
      if (app.name == muster::config::kAllApps) fail("an app named all", app.name);
    }
    if (result.config->apps != again.config->apps) fail("apps differ between two loads");
    if (result.config->sockets != again.config->sockets) fail("sockets differ between two loads");
  }
  return 0;
}
