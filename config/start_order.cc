// `after` (config/start_order.h): cycles, layers, and the checks of each
// entry with its position.
#include "config/start_order.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "config/apps.h"

namespace muster::config {
namespace {

std::optional<std::size_t> app_index(const std::vector<AppConfig>& apps, const std::string& name) {
  for (std::size_t i = 0; i < apps.size(); ++i)
    if (apps[i].name == name) return i;
  return std::nullopt;
}

enum class Mark { unseen, on_path, done };

}  // namespace

std::vector<std::vector<AfterEdge>> after_cycles(const std::vector<AppConfig>& apps) {
  std::vector<std::vector<AfterEdge>> cycles;
  std::vector<Mark> marks(apps.size(), Mark::unseen);
  std::vector<AfterEdge> path;  // the edges from the search's root to the app being visited
  std::function<void(std::size_t)> visit = [&](std::size_t app) {
    marks[app] = Mark::on_path;
    for (std::size_t entry = 0; entry < apps[app].after.size(); ++entry) {
      auto next = app_index(apps, apps[app].after[entry]);
      if (!next || *next == app) continue;
      AfterEdge edge{app, entry};
      if (marks[*next] == Mark::on_path) {
        // The cycle: the path's edges from the one leaving *next, then this one.
        auto from = std::find_if(path.begin(), path.end(),
                                 [&](const AfterEdge& e) { return e.app == *next; });
        std::vector<AfterEdge> cycle(from, path.end());
        cycle.push_back(edge);
        cycles.push_back(std::move(cycle));
      } else if (marks[*next] == Mark::unseen) {
        path.push_back(edge);
        visit(*next);
        path.pop_back();
      }
    }
    marks[app] = Mark::done;
  };
  for (std::size_t app = 0; app < apps.size(); ++app)
    if (marks[app] == Mark::unseen) visit(app);
  return cycles;
}

std::string spell_cycle(const std::vector<AppConfig>& apps, const std::vector<AfterEdge>& cycle) {
  std::string out;
  for (const AfterEdge& edge : cycle) out += apps[edge.app].name + " -> ";
  return out + (cycle.empty() ? "" : apps[cycle.front().app].name);
}

std::vector<unsigned> start_layers(const std::vector<const AppConfig*>& apps) {
  std::vector<std::optional<unsigned>> layers(apps.size());
  std::vector<bool> visiting(apps.size(), false);
  std::function<unsigned(std::size_t)> layer = [&](std::size_t app) -> unsigned {
    if (layers[app]) return *layers[app];
    visiting[app] = true;
    unsigned deepest = 0;
    for (const std::string& name : apps[app]->after) {
      auto dep = std::find_if(apps.begin(), apps.end(),
                              [&](const AppConfig* other) { return other->name == name; });
      auto index = static_cast<std::size_t>(dep - apps.begin());
      if (dep == apps.end() || visiting[index]) continue;
      deepest = std::max(deepest, layer(index) + 1);
    }
    visiting[app] = false;
    layers[app] = deepest;
    return deepest;
  };
  std::vector<unsigned> out;
  for (std::size_t app = 0; app < apps.size(); ++app) out.push_back(layer(app));
  return out;
}

namespace detail {

// Each entry names another app of the file, once; then no cycles.
void check_after(const toml::table& root, const Config& config, ErrorList& errors) {
  const std::vector<AppConfig>& apps = config.apps;
  auto entry_node = [&](const AppConfig& app, std::size_t entry) -> const toml::node* {
    const toml::array* after = root["apps"][app.name]["after"].as_array();
    return after ? after->get(entry) : nullptr;
  };
  auto add = [&](const AppConfig& app, std::size_t entry, const std::string& message) {
    if (const toml::node* at = entry_node(app, entry))
      errors.add(at->source(), "apps." + app.name + ".after[" + std::to_string(entry) + "]",
                 message);
  };
  for (const AppConfig& app : apps) {
    for (std::size_t i = 0; i < app.after.size(); ++i) {
      const std::string& name = app.after[i];
      auto earlier = app.after.begin() + static_cast<std::ptrdiff_t>(i);
      if (name == app.name)
        add(app, i, "an app cannot start after itself");
      else if (std::find(app.after.begin(), earlier, name) != earlier)
        add(app, i, "expected each app once, got " + quote(name) + " again");
      else if (!app_index(apps, name))
        add(app, i, "no app named " + quote(name) + " in this file");
    }
  }
  for (const auto& cycle : after_cycles(apps)) {
    const AfterEdge& first = cycle.front();
    add(apps[first.app], first.entry,
        "apps may not wait for each other in a cycle: " + spell_cycle(apps, cycle));
  }
}

}  // namespace detail
}  // namespace muster::config
