// What a Worker or an App needs around it in a unit test: the event loop, the
// fake launcher (tests/unit/fake_launcher.h), and the daemon's tables, empty.
// Time moves only through advance() (tests/unit/manual_clock.h).
#pragma once

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "daemon/common/events.h"
#include "daemon/network/listen_socket.h"
#include "daemon/network/on_demand.h"
#include "daemon/supervision/worker.h"
#include "tests/unit/fake_launcher.h"
#include "tests/unit/manual_clock.h"

namespace muster::test {

struct Supervision {
  // Before the loop: handlers the loop still holds when it is destroyed keep
  // workers, whose destructors signal through the launcher.
  FakeLauncher launcher{io};
  boost::asio::io_context io;
  daemon::SocketTable sockets;
  daemon::OnDemandSockets on_demand{io};
  daemon::EventBus events;
  daemon::WorkerContext context{launcher, sockets, on_demand, events, {}, nullptr};

  // The workers the launcher's exit handlers hold go first, while the loop
  // (and the timer service their timers belong to) is whole; found by ASan.
  ~Supervision() { launcher.drop_watches(); }

  void run() { run_ready(io); }
  void advance(daemon::Clock::duration by) { test::advance(io, by); }
  // Moves time in steps of `step`, so that timers armed on the way fire in
  // their turn.
  void advance(daemon::Clock::duration by, daemon::Clock::duration step) {
    for (auto done = daemon::Clock::duration{0}; done < by; done += step)
      advance(std::min(step, by - done));
  }

  // Events published so far with this name.
  std::vector<boost::json::object> events_named(const std::string& name) const {
    std::vector<boost::json::object> out;
    for (const auto& e : events.recent())
      if (e.as_object().at("event") == name.c_str()) out.push_back(e.as_object());
    return out;
  }
};

// A plain app of `instances` workers that never touch a file or a socket.
inline config::AppConfig plain_app(unsigned instances = 1) {
  config::AppConfig app;
  app.name = "web";
  app.exec = "/bin/true";
  app.instances = instances;
  app.output = config::Output::null;
  app.ready = config::Ready::spawn;
  return app;
}

}  // namespace muster::test
