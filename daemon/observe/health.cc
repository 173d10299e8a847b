#include "daemon/observe/health.h"

#include <string>

#include "daemon/observe/metrics.h"
#include "daemon/observe/snapshot.h"
#include "ipc/utf8.h"

namespace muster::daemon {
namespace {

// Why APP is not ready, or "" when it is.
std::string not_ready(const AppSnapshot& app) {
  if (app.state == AppState::failed) return app.name + ": failed (every slot in a crash loop)";
  if (!app.waiting_for.empty()) {
    std::string names;
    for (const auto& name : app.waiting_for) names += (names.empty() ? "" : ", ") + name;
    return app.name + ": waiting for " + names + " (after)";
  }
  if (!app.wanted_up || app.instances == 0) return "";
  if (app.ready_workers() > 0) return "";
  std::string stopped;  // ready workers that a signal stopped: ready no longer
  for (const WorkerSnapshot& w : app.workers)
    if (w.ready && w.stopped) stopped += (stopped.empty() ? "" : ", ") + std::to_string(w.id);
  std::string why = app.name + ": no ready worker (0/" + std::to_string(app.instances) + ")";
  if (!stopped.empty()) why += "; stopped by a signal (SIGCONT resumes): worker " + stopped;
  return why;
}

// The value of `key` in a query string "a=1&app=web", or nullopt.
std::optional<std::string_view> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (pair.substr(0, pair.find('=')) == key && pair.find('=') != std::string_view::npos)
      return pair.substr(pair.find('=') + 1);
  }
  return std::nullopt;
}

}  // namespace

MetricsServer::Reply readyz(const DaemonSnapshot& s, std::string_view query) {
  if (s.shutting_down) return {503, "not ready: musterd is shutting down\n"};
  std::string why;
  if (auto name = query_value(query, "app")) {
    const AppSnapshot* app = s.find_app(*name);
    // The name is the requester's bytes: escaped, so the body stays UTF-8 text.
    if (!app) return {404, "no app named '" + ipc::escape_controls(*name) + "'\n"};
    why = not_ready(*app);
    if (!why.empty()) why += "\n";
  } else {
    for (const auto& app : s.apps) {
      if (app.removed) continue;
      if (auto one = not_ready(app); !one.empty()) why += one + "\n";
    }
  }
  if (why.empty()) return {200, "ready\n"};
  return {503, "not ready:\n" + why};
}

MetricsServer::Reply route_http(const std::function<DaemonSnapshot()>& snapshot,
                                std::string_view path, std::string_view query) {
  if (path == "/metrics") {
    const DaemonSnapshot daemon = snapshot();
    return {200, render_prometheus(collect_metrics(daemon, process_snapshot())), true};
  }
  if (path == "/healthz") return {200, "ok\n"};
  if (path == "/readyz") return readyz(snapshot(), query);
  return {404, "not found; musterd serves /metrics, /healthz and /readyz\n"};
}

}  // namespace muster::daemon
