// One App in the Supervision fixture (tests/unit/supervision_fixture.h), for
// the [app] cases (tests/unit/app_*_test.cc), and the ways a test makes its
// workers crash or become ready. The app goes before the fixture's loop and
// launcher: its workers' destructors signal through the launcher.
#pragma once

#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <memory>
#include <string>

#include "daemon/supervision/app.h"
#include "tests/unit/supervision_fixture.h"

namespace muster::test {

struct AppTest : Supervision {
  explicit AppTest(config::AppConfig config) {
    app = std::make_unique<daemon::App>(io, context, config, [this] { return ++last_id; });
  }
  ~AppTest() { app.reset(); }

  // Kills slot `instance`'s current worker with `signo`, and lets the app see it.
  void crash(unsigned instance, int signo = SIGSEGV) {
    pid_t pid = launcher.pid_of(instance);
    REQUIRE(launcher.alive(pid));
    launcher.die(pid, signo);
    run();
  }
  // The worker of process `pid` sends READY=1 (ready = "notify"), and the
  // app hears of it.
  void notify_ready(pid_t pid) {
    for (auto* worker : app->workers()) {
      if (worker->pid() != pid) continue;
      ipc::NotifyMessage ready;
      ready.ready = true;
      worker->on_notify(ready);
      run();
      return;
    }
    FAIL("no worker has pid " << pid);
  }
  // Each worker spawned from the `first`-th spawn on sends READY=1, and so
  // do those their readiness brings (a rolling reload's next new workers).
  void notify_ready_from(std::size_t first) {
    for (std::size_t i = first; i < spawns() && i < first + 100; ++i)
      notify_ready(launcher.spawned.at(i).pid);
  }
  std::size_t spawns() const { return launcher.spawned.size(); }
  // Whether the i-th spawn had `arg` among its arguments.
  bool spawned_with(std::size_t i, const std::string& arg) const {
    const auto& args = launcher.spawned.at(i).spec.args;
    return std::count(args.begin(), args.end(), arg) == 1;
  }
  std::int64_t restart_field(std::size_t i, const char* field) const {
    return events_named("restart").at(i).at(field).as_int64();
  }

  unsigned last_id = 0;
  std::unique_ptr<daemon::App> app;
};

// An app whose policy the cases below count on, whatever the defaults become.
inline config::AppConfig policy_app(unsigned instances = 1) {
  using namespace std::chrono_literals;
  auto c = plain_app(instances);
  c.restart_delay = 1s;
  c.restart_delay_max = 30s;
  c.min_uptime = 5s;
  c.max_restarts = 10;
  c.restart_window = 60s;
  c.failed_retry = 0s;
  return c;
}

}  // namespace muster::test
