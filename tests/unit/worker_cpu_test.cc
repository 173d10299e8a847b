// A worker's CPU % (status, `musterctl status`): from two /proc samples at
// least Worker::kCpuWindow apart, on the supervision clock.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>

#include "daemon/common/clock.h"
#include "daemon/observe/snapshot.h"
#include "tests/unit/app_fixture.h"

using namespace std::chrono_literals;
using muster::daemon::Clock;
using muster::test::AppTest;
using muster::test::policy_app;

namespace {

// A worker that burns `share` of a core from `since` on.
auto burning(double share, Clock::time_point since) {
  return [share, since](pid_t) {
    muster::daemon::ProcUsage usage;
    usage.state = 'S';
    usage.rss_bytes = 10 << 20;
    usage.cpu_seconds = share * std::chrono::duration<double>(Clock::now() - since).count();
    return std::optional(usage);
  };
}

std::optional<double> cpu_of(AppTest& t) { return t.app->snapshot().workers.at(0).cpu_percent; }

}  // namespace

TEST_CASE("a worker's CPU % is its CPU time over the time between two samples", "[worker]") {
  AppTest t(policy_app());
  t.context.read_usage = burning(0.25, Clock::now());
  t.app->start();
  t.run();
  CHECK_FALSE(cpu_of(t).has_value());  // one sample at most: no rate yet
  t.advance(4500ms, 100ms);            // usage rounds every 2 s
  REQUIRE(cpu_of(t).has_value());
  CHECK(*cpu_of(t) == Approx(25.0).margin(0.5));
}

TEST_CASE("samples closer than a second apart keep the CPU % of the older window", "[worker]") {
  AppTest t(policy_app());
  t.context.read_usage = burning(0.5, Clock::now());
  t.app->start();
  t.run();
  t.advance(4500ms, 100ms);
  REQUIRE(cpu_of(t).has_value());
  const double before = *cpu_of(t);
  t.context.read_usage = burning(2.0, Clock::now() - 10s);  // a jump in CPU time
  t.advance(100ms, 10ms);
  t.app->workers().at(0)->sample_usage();  // 0.1 s after the last: too close to count
  CHECK(*cpu_of(t) == before);
}
