// A Launcher for unit tests: no process is started. Each spawn is recorded
// (its SpawnSpec) and gets a made-up pid; the test then says how each one
// ends ("slot 0 died of SIGSEGV": die(pid, SIGSEGV)), makes spawns fail
// ("exec failed: ENOENT": fail_spawns_with), or leaves a process alone for as
// long as it likes ("never ready": nothing is ever sent on its behalf).
// Signals are recorded; a SIGKILL, or the stop signal when `obey_signals`,
// ends the process as the kernel would.
#pragma once

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/common/clock.h"
#include "daemon/launch/launcher.h"

namespace muster::test {

class FakeLauncher final : public daemon::Launcher {
 public:
  explicit FakeLauncher(boost::asio::io_context& io) : io_(io) {}
  // The exit handlers hold workers, whose destructors call signal() and
  // release(): they run while this is whole.
  ~FakeLauncher() { drop_watches(); }
  // Drops the exit handlers, and with them the workers they hold: call it
  // while the io_context is whole (their timers belong to its services).
  void drop_watches() {
    auto live = std::move(live_);
    live_.clear();
  }

  struct Spawned {
    pid_t pid;
    daemon::SpawnSpec spec;
  };
  struct Sent {
    pid_t pid;
    int signo;
    daemon::SignalTarget target;
  };

  // Every spawn fails with `message` until cleared (nullopt).
  void fail_spawns_with(std::optional<std::string> message) { failure_ = std::move(message); }
  // Signals end processes: SIGKILL always; any other only if this is set
  // (a worker that obeys its stop signal).
  bool obey_signals = true;
  // What preparing and handing over one spawn costs the loop: the clock
  // (tests/unit/manual_clock.h) moves on by this much in each spawn(), so that
  // work sliced by time (App's spawn batches) can be seen in its slices.
  daemon::Clock::duration spawn_cost{0};

  // Answered from the loop, as the real one's spawner thread does.
  void spawn(const daemon::SpawnSpec& spec, SpawnDone done) override {
    daemon::Clock::offset.fetch_add(spawn_cost.count());
    Started started = failure_ ? Started(Error{*failure_}) : Started(next_pid_++);
    if (started) {
      spawned.push_back({*started, spec});
      live_.emplace(*started, nullptr);
    }
    boost::asio::post(io_, [done = std::move(done), started] { done(started); });
  }

  // A process "started by the musterd before the exec": make it live first
  // (pretend_running), then a Worker adopts it.
  void pretend_running(pid_t pid) { live_.emplace(pid, nullptr); }
  void run_on_spawning_thread(const std::function<void()>& task) override { task(); }
  Result<void> adopt(pid_t pid) override {
    if (!live_.count(pid)) return Error{"No such process", ESRCH};
    adopted.push_back(pid);
    return {};
  }

  Result<void> watch_exit(pid_t pid, ExitHandler done) override {
    auto it = live_.find(pid);
    if (it == live_.end()) return Error{"No such process", ESRCH};
    it->second = std::move(done);
    return {};
  }

  int signal(pid_t pid, int signo, daemon::SignalTarget target) override {
    if (!live_.count(pid)) return ESRCH;
    signals.push_back({pid, signo, target});
    if (signo == SIGKILL || (obey_signals && signo != 0)) die(pid, signo);
    return 0;
  }

  void release(pid_t pid) override { released.push_back(pid); }

  // The process ends: killed by `signo` / exited with `code`. Its watcher
  // hears of it from the event loop, as from a pidfd.
  void die(pid_t pid, int signo) { end(pid, daemon::ProcessExit{std::nullopt, signo}); }
  void exit(pid_t pid, int code) { end(pid, daemon::ProcessExit{code, std::nullopt}); }

  bool alive(pid_t pid) const { return live_.count(pid) != 0; }
  std::size_t live() const { return live_.size(); }
  // The pid last spawned for an app's slot (MUSTER_INSTANCE), or 0.
  pid_t pid_of(unsigned instance) const {
    std::string want = "MUSTER_INSTANCE=" + std::to_string(instance);
    for (auto it = spawned.rbegin(); it != spawned.rend(); ++it)
      for (const auto& e : it->spec.env)
        if (e == want) return it->pid;
    return 0;
  }

  std::vector<Spawned> spawned;
  std::vector<Sent> signals;
  std::vector<pid_t> released;
  std::vector<pid_t> adopted;

 private:
  void end(pid_t pid, daemon::ProcessExit exit) {
    auto it = live_.find(pid);
    if (it == live_.end()) return;
    auto done = std::move(it->second);
    live_.erase(it);
    if (done) boost::asio::post(io_, [done = std::move(done), exit] { done(exit); });
  }

  boost::asio::io_context& io_;
  std::optional<std::string> failure_;
  pid_t next_pid_ = 3000000;  // above the pids a box usually has: /proc reads find nothing
  std::map<pid_t, ExitHandler> live_;
};

}  // namespace muster::test
