// The launcher seam (daemon/launch/launcher.h): the real launcher against real
// processes, and a Worker against the fake one, in milliseconds.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <optional>

#include "daemon/launch/process_launcher.h"
#include "daemon/output/output_sink.h"
#include "tests/unit/supervision_fixture.h"

using namespace std::chrono_literals;
using muster::daemon::ExitInfo;
using muster::daemon::ProcessExit;
using muster::daemon::SignalTarget;
using muster::daemon::Worker;
using muster::test::Supervision;

namespace {

muster::daemon::SpawnSpec shell(const std::string& script) {
  muster::daemon::SpawnSpec spec;
  spec.executable = "/bin/sh";
  spec.args = {"-c", script};
  spec.env = {"PATH=/usr/bin:/bin"};
  return spec;
}

// Runs the loop until `done` holds, for at most 10 s of real time.
template <typename Done>
void run_until(boost::asio::io_context& io, Done done) {
  auto until = std::chrono::steady_clock::now() + 10s;
  io.restart();
  while (!done() && std::chrono::steady_clock::now() < until) io.run_one_for(100ms);
}

// The real launcher's answer (from its spawner thread, through the loop).
muster::daemon::Launcher::Started spawn_now(boost::asio::io_context& io,
                                            muster::daemon::ProcessLauncher& launcher,
                                            const muster::daemon::SpawnSpec& spec) {
  std::optional<muster::daemon::Launcher::Started> started;
  launcher.spawn(spec, [&](muster::daemon::Launcher::Started s) { started = std::move(s); });
  run_until(io, [&] { return started.has_value(); });
  REQUIRE(started);
  return *started;
}

// One worker life against the fake launcher; `exits` records what its exit
// handler was told.
struct OneWorker : Supervision {
  explicit OneWorker(muster::config::AppConfig app = muster::test::plain_app()) : app(app) {}
  std::shared_ptr<Worker> start() {
    auto sink = std::make_shared<muster::daemon::OutputSink>(app, events);
    worker = std::make_shared<Worker>(
        io, context, app, muster::daemon::WorkerIdentity{"web", 7, 0, 0}, sink,
        [this](Worker&, const ExitInfo& info) { exits.push_back(info); });
    worker->start();
    run();
    return worker;
  }
  bool killed_with(int signo) const {
    return std::any_of(launcher.signals.begin(), launcher.signals.end(),
                       [&](const auto& s) { return s.signo == signo; });
  }
  muster::config::AppConfig app;
  std::shared_ptr<Worker> worker;
  std::vector<ExitInfo> exits;
};

}  // namespace

TEST_CASE("the real launcher reports a worker's death by SIGSEGV once, and leaves no zombie",
          "[launcher]") {
  boost::asio::io_context io;
  muster::daemon::ProcessLauncher launcher(io);
  auto started = spawn_now(io, launcher, shell("kill -SEGV $$"));
  REQUIRE(started.ok());
  pid_t pid = *started;
  CHECK(launcher.owns(pid));            // the orphan reaper must leave it alone
  CHECK_FALSE(launcher.owns(pid + 1));  // no spawn under way: only its own
  std::vector<ProcessExit> exits;
  REQUIRE(launcher.watch_exit(pid, [&](const ProcessExit& e) { exits.push_back(e); }));
  run_until(io, [&] { return !exits.empty(); });
  io.restart();
  io.poll();
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].signal == SIGSEGV);
  CHECK_FALSE(exits[0].code);
  CHECK_FALSE(launcher.owns(pid));
  CHECK(::waitpid(pid, nullptr, WNOHANG) == -1);  // reaped already: ECHILD
}

TEST_CASE("the real launcher says which errno an exec failed with", "[launcher]") {
  boost::asio::io_context io;
  muster::daemon::ProcessLauncher launcher(io);
  auto spec = shell("");
  spec.executable = "/nonexistent/muster-worker";
  auto started = spawn_now(io, launcher, spec);
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().message ==
        "cannot start '/nonexistent/muster-worker': No such file or directory");
  CHECK(started.error().errno_value == ENOENT);
}

TEST_CASE("the real launcher's group signal ends the worker with its children", "[launcher]") {
  boost::asio::io_context io;
  muster::daemon::ProcessLauncher launcher(io);
  auto started = spawn_now(io, launcher, shell("sleep 30 & wait"));
  REQUIRE(started.ok());
  pid_t pid = *started;
  std::optional<ProcessExit> exit;
  REQUIRE(launcher.watch_exit(pid, [&](const ProcessExit& e) { exit = e; }));
  CHECK(launcher.signal(pid, SIGKILL, SignalTarget::group) == 0);
  run_until(io, [&] { return exit.has_value(); });
  REQUIRE(exit);
  CHECK(exit->signal == SIGKILL);
}

TEST_CASE("a worker's spawn hands the launcher its executable and identity", "[launcher]") {
  OneWorker t;
  t.start();
  REQUIRE(t.launcher.spawned.size() == 1);
  const auto& spec = t.launcher.spawned[0].spec;
  CHECK(spec.executable == "/bin/true");
  for (const char* e : {"MUSTER_APP=web", "MUSTER_WORKER_ID=7", "MUSTER_INSTANCE=0"})
    CHECK(std::count(spec.env.begin(), spec.env.end(), e) == 1);
  CHECK(t.worker->pid() == t.launcher.spawned[0].pid);
  CHECK(t.worker->ready());  // ready = "spawn"
}

TEST_CASE("a worker that dies of SIGSEGV has crashed", "[launcher]") {
  OneWorker t;
  t.start();
  t.launcher.die(t.worker->pid(), SIGSEGV);
  t.run();
  REQUIRE(t.exits.size() == 1);
  CHECK(t.exits[0].signal == SIGSEGV);
  CHECK_FALSE(t.exits[0].voluntary);
  CHECK_FALSE(t.exits[0].clean());
  CHECK(t.worker->state() == muster::daemon::WorkerState::dead);
}

TEST_CASE("an exec that fails with ENOENT reaches the exit handler as a spawn error",
          "[launcher]") {
  OneWorker t;
  t.launcher.fail_spawns_with("cannot start '/bin/true': No such file or directory");
  t.start();
  REQUIRE(t.exits.size() == 1);
  CHECK(t.exits[0].describe() ==
        "spawn failed: cannot start '/bin/true': No such file or directory");
  CHECK(t.launcher.spawned.empty());
}

TEST_CASE("a worker that never becomes ready is killed at ready_timeout, as a crash",
          "[launcher]") {
  auto app = muster::test::plain_app();
  app.ready = muster::config::Ready::notify;  // and it never notifies
  app.ready_timeout = 2s;
  OneWorker t(app);
  t.start();
  t.advance(1900ms, 100ms);
  CHECK(t.launcher.signals.empty());
  t.advance(200ms, 100ms);
  CHECK(t.killed_with(SIGKILL));
  REQUIRE(t.exits.size() == 1);
  CHECK(t.exits[0].forced);
  CHECK_FALSE(t.exits[0].voluntary);
  CHECK(t.exits[0].reason == "did not become ready within ready_timeout");
}

TEST_CASE("a stop sends stop_signal to the group, and SIGKILL only after stop_timeout",
          "[launcher]") {
  auto app = muster::test::plain_app();
  app.stop_timeout = 3s;
  OneWorker t(app);
  t.launcher.obey_signals = false;  // it ignores SIGTERM
  t.start();
  t.worker->stop();
  REQUIRE(t.launcher.signals.size() == 1);
  CHECK(t.launcher.signals[0].signo == SIGTERM);
  CHECK(t.launcher.signals[0].target == SignalTarget::group_or_process);
  t.advance(2900ms, 100ms);
  CHECK_FALSE(t.killed_with(SIGKILL));
  t.advance(200ms, 100ms);
  CHECK(t.killed_with(SIGKILL));
  REQUIRE(t.exits.size() == 1);
  CHECK(t.exits[0].voluntary);  // asked to go: not a crash
}

TEST_CASE("while a spawn is under way the orphan reaper leaves every pid alone", "[launcher]") {
  // The child's pid reaches the loop only with the spawner's answer: until
  // then any exited child may be it, and must not be reaped behind its watch.
  boost::asio::io_context io;
  muster::daemon::ProcessLauncher launcher(io);
  std::optional<muster::daemon::Launcher::Started> started;
  launcher.spawn(shell("exit 3"), [&](muster::daemon::Launcher::Started s) { started = s; });
  CHECK(launcher.owns(1));
  run_until(io, [&] { return started.has_value(); });
  REQUIRE(started);
  pid_t pid = **started;
  CHECK(launcher.owns(pid));
  CHECK_FALSE(launcher.owns(1));
  std::optional<ProcessExit> exit;
  REQUIRE(launcher.watch_exit(pid, [&](const ProcessExit& e) { exit = e; }));
  run_until(io, [&] { return exit.has_value(); });
  REQUIRE(exit);
  CHECK(exit->code == 3);
}

TEST_CASE("a worker stopped while it is being spawned gets its stop signal once it runs",
          "[launcher]") {
  OneWorker t;
  t.launcher.obey_signals = false;
  auto sink = std::make_shared<muster::daemon::OutputSink>(t.app, t.events);
  t.worker = std::make_shared<Worker>(
      t.io, t.context, t.app, muster::daemon::WorkerIdentity{"web", 7, 0, 0}, sink,
      [&](Worker&, const ExitInfo& info) { t.exits.push_back(info); });
  t.worker->start();
  t.worker->stop();  // before the launcher has answered
  CHECK(t.launcher.signals.empty());
  t.run();
  REQUIRE(t.launcher.signals.size() == 1);
  CHECK(t.launcher.signals[0].signo == SIGTERM);
  CHECK(t.launcher.signals[0].pid == t.worker->pid());
}
