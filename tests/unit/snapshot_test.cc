// What `status`, /metrics and /readyz show for a snapshot (daemon/observe/snapshot.h):
// each is a pure function of hand-built plain values, so the three views are
// checked here without a daemon, and checked to agree on the same snapshot.
#include <catch2/catch.hpp>

#include <string>

#include "daemon/observe/health.h"
#include "daemon/observe/metrics.h"
#include "daemon/observe/status_json.h"

using namespace muster::daemon;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

WorkerSnapshot worker(unsigned id, unsigned instance, bool ready) {
  WorkerSnapshot w;
  w.id = id;
  w.instance = instance;
  w.pid = 4000 + static_cast<int>(id);
  w.state = WorkerState::listening;
  w.uptime = 1500ms;
  w.connections = 7;
  w.rss_bytes = 1048576;
  w.cpu_seconds = 0.25;
  w.ready = ready;
  return w;
}

AppSnapshot running_app(std::string name) {
  AppSnapshot a;
  a.name = std::move(name);
  a.state = AppState::running;
  a.wanted_up = true;
  a.protocol = muster::config::Protocol::systemd;
  a.instances = 2;
  a.config_instances = 2;
  a.workers = {worker(1, 0, true), worker(2, 1, true)};
  return a;
}

DaemonSnapshot daemon_of(std::vector<AppSnapshot> apps) {
  DaemonSnapshot d;
  d.apps = std::move(apps);
  return d;
}

std::string metrics_text(const DaemonSnapshot& d) {
  return render_prometheus(collect_metrics(d, ProcessSnapshot{}));
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("status shows a worker's figures as the snapshot holds them", "[snapshot]") {
  WorkerSnapshot w = worker(3, 1, true);
  w.restarts = 2;
  w.status_text = "serving";
  json::object o = worker_status_json(w);
  CHECK(json::serialize(o) ==
        R"({"id":3,"instance":1,"pid":4003,"state":"listening","uptime_ms":1500,)"
        R"("restarts":2,"connections":7,"rss_bytes":1048576,"cpu_percent":null,"ready":true,)"
        R"("stopped":false,)"
        R"("status":"serving"})");
}

TEST_CASE("a ready worker stopped by a signal is shown not ready, and no status text is left out",
          "[snapshot]") {
  WorkerSnapshot w = worker(3, 1, true);
  w.stopped = true;
  json::object o = worker_status_json(w);
  CHECK(o.at("ready") == false);
  CHECK(o.at("stopped") == true);
  CHECK_FALSE(o.contains("status"));
}

TEST_CASE("status lists an app's empty slots with why and when, and its config count",
          "[snapshot]") {
  AppSnapshot a = running_app("web");
  a.workers.pop_back();
  a.empty_slots = {{1, "exited with code 3", true, std::nullopt}};
  a.counters.restarts = 4;
  a.pending = 2;
  a.config_instances = 3;
  CHECK(json::serialize(app_status_json(a)) ==
        R"({"name":"web","state":"running","protocol":"systemd","scheduling":"rr",)"
        R"("instances":2,"ready":1,"restarts":4,"pending":2,"workers":[)" +
            json::serialize(worker_status_json(a.workers[0])) +
            R"(],"empty_slots":[{"instance":1,"last_exit":"exited with code 3",)"
            R"("crash_loop":true,"next_try_ms":null}],"config_instances":3})");
}

TEST_CASE("a stopped app shows no empty slots; a failed one says when it is retried",
          "[snapshot]") {
  AppSnapshot a = running_app("web");
  a.workers.clear();
  a.empty_slots = {{0, "", false, 250ms}};
  a.state = AppState::stopped;
  CHECK(app_status_json(a).at("empty_slots").as_array().empty());
  CHECK_FALSE(app_status_json(a).contains("retry_in_ms"));
  a.state = AppState::failed;
  a.retry_in = 9000ms;
  json::object o = app_status_json(a);
  CHECK(o.at("retry_in_ms") == 9000);
  CHECK(json::serialize(o.at("empty_slots")) ==
        R"([{"instance":0,"last_exit":null,"crash_loop":false,"next_try_ms":250}])");
}

TEST_CASE("an app without a protocol has no scheduling; a removed one no config count",
          "[snapshot]") {
  AppSnapshot a = running_app("batch");
  a.protocol = muster::config::Protocol::none;
  a.config_instances.reset();
  json::object o = app_status_json(a);
  CHECK(o.at("scheduling") == "none");
  CHECK_FALSE(o.contains("config_instances"));
}

TEST_CASE("status lists sockets, those bound on demand with their app", "[snapshot]") {
  DaemonSnapshot d = daemon_of({running_app("web")});
  d.sockets = {{"http", "127.0.0.1:0", "127.0.0.1:4321", "tcp", false, ""},
               {"node:3000", "0.0.0.0:3000", "0.0.0.0:3000", "tcp", true, "api"}};
  json::object reply = status_reply_fields(d);
  CHECK(json::serialize(reply.at("sockets")) ==
        R"([{"name":"http","listen":"127.0.0.1:0","bound":"127.0.0.1:4321","protocol":"tcp"},)"
        R"({"name":"node:3000","listen":"0.0.0.0:3000","bound":"0.0.0.0:3000",)"
        R"("protocol":"tcp","on_demand":true,"app":"api"}])");
  CHECK(reply.at("apps").as_array().size() == 1);
}

TEST_CASE("status of one app lists that app and every socket", "[snapshot]") {
  DaemonSnapshot d = daemon_of({running_app("web"), running_app("api")});
  d.sockets = {{"http", "127.0.0.1:0", "127.0.0.1:4321", "tcp", false, ""}};
  json::object reply = status_reply_fields(d, d.find_app("api"));
  REQUIRE(reply.at("apps").as_array().size() == 1);
  CHECK(reply.at("apps").as_array()[0].as_object().at("name") == "api");
  CHECK(reply.at("sockets").as_array().size() == 1);
}

TEST_CASE("an app removed from the config is not found by name", "[snapshot]") {
  DaemonSnapshot d = daemon_of({running_app("web")});
  d.apps[0].removed = true;
  CHECK(d.find_app("web") == nullptr);
  d.apps.push_back(running_app("web"));
  CHECK(d.find_app("web") == &d.apps[1]);
}

TEST_CASE("/metrics counts workers by state, ready and stopped from the snapshot", "[snapshot]") {
  AppSnapshot a = running_app("web");
  a.workers[1].stopped = true;
  a.workers.push_back(worker(5, 0, false));
  a.workers.back().state = WorkerState::disconnecting;
  a.counters.exited_connections = 100;
  std::string text = metrics_text(daemon_of({a}));
  CHECK(has_line(text, R"(muster_workers{app="web",state="listening"} 2)"));
  CHECK(has_line(text, R"(muster_workers{app="web",state="disconnecting"} 1)"));
  CHECK(has_line(text, R"(muster_workers_ready{app="web"} 1)"));
  CHECK(has_line(text, R"(muster_workers_stopped{app="web"} 1)"));
  CHECK(has_line(text, R"(muster_connections_total{app="web"} 121)"));
  CHECK(has_line(text, R"(muster_app_state{app="web",state="running"} 1)"));
  CHECK(has_line(text, R"(muster_app_instances{app="web"} 2)"));
  CHECK(has_line(text, R"(muster_worker_uptime_seconds{app="web",worker="5",slot="0"} 1.5)"));
}

TEST_CASE("/metrics leaves removed apps out and shows on-demand sockets of node apps only",
          "[snapshot]") {
  AppSnapshot gone = running_app("old");
  gone.removed = true;
  AppSnapshot node = running_app("api");
  node.protocol = muster::config::Protocol::node;
  node.on_demand = OnDemandSnapshot{2, {0, 3, 0, 1}};
  std::string text = metrics_text(daemon_of({gone, running_app("web"), node}));
  CHECK(text.find("app=\"old\"") == std::string::npos);
  CHECK(has_line(text, R"(muster_on_demand_sockets{app="api"} 2)"));
  CHECK(has_line(text, R"(muster_on_demand_refused_total{app="api",reason="limit"} 3)"));
  CHECK(text.find("muster_on_demand_sockets{app=\"web\"}") == std::string::npos);
}

TEST_CASE("/metrics shows the daemon's counters and its process figures", "[snapshot]") {
  DaemonSnapshot d;
  d.config_reloads = {3, 1, 0, false};
  d.events_dropped = 5;
  ProcessSnapshot p;
  p.open_fds = 42;
  p.accept_pauses[1].pauses = 6;
  std::string text = render_prometheus(collect_metrics(d, p));
  CHECK(has_line(text, R"(muster_config_reloads_total{result="applied"} 3)"));
  CHECK(has_line(text, R"(muster_config_reloads_total{result="rejected"} 1)"));
  CHECK(has_line(text, "muster_config_last_reload_successful 0"));
  CHECK(has_line(text, "muster_events_dropped_total 5"));
  CHECK(has_line(text, "process_open_fds 42"));
  CHECK(has_line(text, R"(muster_accept_pauses_total{listener="metrics"} 6)"));
}

TEST_CASE("/readyz is ready when every running app has a ready worker", "[snapshot]") {
  AppSnapshot stopped = running_app("idle");
  stopped.state = AppState::stopped;
  stopped.wanted_up = false;
  stopped.workers.clear();
  AppSnapshot none = running_app("zero");
  none.instances = 0;
  none.workers.clear();
  auto reply = readyz(daemon_of({running_app("web"), stopped, none}), "");
  CHECK(reply.status == 200);
  CHECK(reply.body == "ready\n");
}

TEST_CASE("/readyz names each app that is not ready, and why", "[snapshot]") {
  AppSnapshot failed = running_app("api");
  failed.state = AppState::failed;
  AppSnapshot paused = running_app("web");
  for (auto& w : paused.workers) w.stopped = true;
  auto reply = readyz(daemon_of({failed, paused}), "");
  CHECK(reply.status == 503);
  CHECK(reply.body ==
        "not ready:\n"
        "api: failed (every slot in a crash loop)\n"
        "web: no ready worker (0/2); stopped by a signal (SIGCONT resumes): worker 1, 2\n");
}

TEST_CASE("/readyz?app= asks about one app; an unknown or removed one is 404", "[snapshot]") {
  AppSnapshot starting = running_app("api");
  for (auto& w : starting.workers) w.ready = false;
  AppSnapshot gone = running_app("old");
  gone.removed = true;
  DaemonSnapshot d = daemon_of({running_app("web"), starting, gone});
  CHECK(readyz(d, "app=web").status == 200);
  auto api = readyz(d, "x=1&app=api");
  CHECK(api.status == 503);
  CHECK(api.body == "not ready:\napi: no ready worker (0/2)\n");
  CHECK(readyz(d, "app=old").status == 404);
  CHECK(readyz(d, "app=a%1b").body == "no app named 'a%1b'\n");
  CHECK(readyz(d, "").status == 503);  // removed apps are left out; api is not ready
}

TEST_CASE("/readyz is not ready while musterd shuts down", "[snapshot]") {
  DaemonSnapshot d = daemon_of({running_app("web")});
  d.shutting_down = true;
  auto reply = readyz(d, "");
  CHECK(reply.status == 503);
  CHECK(reply.body == "not ready: musterd is shutting down\n");
}

TEST_CASE("status, /metrics and /readyz agree on one snapshot", "[snapshot]") {
  AppSnapshot a = running_app("web");
  a.workers[0].stopped = true;
  a.workers[1].ready = false;
  DaemonSnapshot d = daemon_of({a});
  json::object app = status_reply_fields(d).at("apps").as_array()[0].as_object();
  std::size_t shown_ready = 0;
  for (const auto& w : app.at("workers").as_array())
    shown_ready += w.as_object().at("ready").as_bool() ? 1 : 0;
  CHECK(shown_ready == 0);
  CHECK(has_line(metrics_text(d), R"(muster_workers_ready{app="web"} 0)"));
  CHECK(readyz(d, "").status == 503);
}
