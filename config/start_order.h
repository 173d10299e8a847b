// `after`: the order apps start in (each once the apps it names have a ready
// worker) and stop in (dependents first). Pure: the config checks use it for
// cycles, musterd for its stop layers (daemon/supervision/start_order.h).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace muster::config {

// One `after` entry: apps[app].after[entry].
struct AfterEdge {
  std::size_t app = 0;
  std::size_t entry = 0;
};

// Every cycle of `after` among `apps`, each as the edges that close it, the
// first edge from the app the search met first (file order). Names not in
// `apps`, and an app naming itself, are not followed.
std::vector<std::vector<AfterEdge>> after_cycles(const std::vector<AppConfig>& apps);
// "a -> b -> a": the apps of `cycle`, back to the first.
std::string spell_cycle(const std::vector<AppConfig>& apps, const std::vector<AfterEdge>& cycle);

// Each app's start layer: 0 when it names no app of `apps` in `after`, else
// one more than the deepest it names. Apps start layer by layer up and stop
// layer by layer down. An edge that would close a cycle (never in a loaded
// config) is not followed.
std::vector<unsigned> start_layers(const std::vector<const AppConfig*>& apps);

}  // namespace muster::config
