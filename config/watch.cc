// [apps.NAME] watch, watch_ignore and watch_delay: reload on file changes,
// for development (daemon/watch/ does the watching).
#include "config/apps.h"
#include "config/watch_glob.h"

namespace muster::config::detail {
namespace {

constexpr Duration kMinWatchDelay = std::chrono::milliseconds(50);
constexpr Duration kMaxWatchDelay = std::chrono::seconds(60);

// Each entry of `key` (already read into `entries`): not empty, and a glob
// that fnmatch(3) reads as one where it is a glob (always, for `globs_only`).
void check_entries(Section& s, std::string_view key, const std::vector<std::string>& entries,
                   bool globs_only) {
  if (entries.empty()) return;
  const toml::array& items = *s.find(key)->as_array();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string& entry = entries[i];
    std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    if (entry.empty()) {
      s.bad_value(*items.get(i), item_key,
                  globs_only ? "a glob on file names like \"*.log\""
                             : "a path relative to cwd like \"src\" or a glob like \"*.js\"",
                  "\"\"");
    } else if (globs_only || is_glob(entry)) {
      if (auto problem = glob_problem(entry))
        s.error(*items.get(i), item_key, "bad glob " + quote(entry) + ": " + *problem);
    }
  }
}

void read_watch_delay(Section& s, AppConfig& app) {
  const toml::node* node = s.find("watch_delay");
  if (!s.read_duration("watch_delay", app.watch_delay) || node == nullptr) return;
  if (app.watch_delay < kMinWatchDelay || app.watch_delay > kMaxWatchDelay) {
    s.bad_value(*node, "watch_delay",
                "a duration from " + format_duration(kMinWatchDelay) + " to " +
                    format_duration(kMaxWatchDelay),
                quote(node->as_string()->get()));
    app.watch_delay = std::chrono::milliseconds(500);
  }
}

}  // namespace

void read_watch(Section& s, AppConfig& app) {
  if (s.read_string_list("watch", app.watch)) check_entries(s, "watch", app.watch, false);
  if (s.read_string_list("watch_ignore", app.watch_ignore))
    check_entries(s, "watch_ignore", app.watch_ignore, true);
  read_watch_delay(s, app);
  if (!app.watch.empty()) return;
  for (const char* key : {"watch_ignore", "watch_delay"}) {
    if (const toml::node* node = s.find(key))
      s.error(*node, key, "only used with watch, but watch is empty or not set");
  }
}

}  // namespace muster::config::detail
