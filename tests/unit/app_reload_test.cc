// App's rolling replacements against the fake launcher and the manual clock:
// reload_surge, a new worker that misses ready_timeout, max_memory, and
// config updates (reload-config): policy in place, worker-facing settings by
// a rolling reload that goes back to the previous settings when it fails.
#include <catch2/catch.hpp>

#include <signal.h>

#include <map>
#include <optional>

#include "tests/unit/app_fixture.h"

using namespace std::chrono_literals;
using muster::daemon::AppState;
using muster::test::AppTest;
using muster::test::policy_app;

namespace {

using Answer = std::optional<muster::Result<void>>;

// Workers that are ready only when the test says so (READY=1), started with
// `version` as their argument.
muster::config::AppConfig notify_app(unsigned instances, const char* version = "v1") {
  auto c = policy_app(instances);
  c.ready = muster::config::Ready::notify;
  c.args = {version};
  return c;
}

// Starts the app and makes every first worker ready.
void start_ready(AppTest& t) {
  t.app->start();
  t.run();
  for (std::size_t i = 0; i < t.spawns(); ++i) t.notify_ready(t.launcher.spawned.at(i).pid);
}

auto answer_into(Answer& answer) {
  return [&answer](muster::Result<void> result) { answer = result; };
}

// As reload-config does for an app whose worker-facing settings changed.
void reload_config(AppTest& t, const muster::config::AppConfig& next, Answer& answer) {
  t.app->update_config(next, true, answer_into(answer));
  t.run();
}

}  // namespace

TEST_CASE("a rolling reload runs at most reload_surge new workers, old ones stay until replaced",
          "[app]") {
  auto c = notify_app(4);
  c.reload_surge = 2;
  AppTest t(c);
  start_ready(t);
  Answer answer;
  t.app->reload(answer_into(answer));
  t.run();
  CHECK(t.spawns() == 6);  // two new ones, not more
  CHECK(t.launcher.live() == 6);
  t.advance(20s, 1s);  // nobody is ready: nothing more starts, nothing is stopped
  CHECK(t.spawns() == 6);
  CHECK(t.launcher.live() == 6);
  t.notify_ready(t.launcher.spawned.at(4).pid);
  CHECK(t.spawns() == 7);         // one ready: one more new one
  CHECK(t.launcher.live() == 6);  // and the old one it replaced has gone
  for (std::size_t i = 5; i < 8; ++i) {
    REQUIRE(t.spawns() > i);
    t.notify_ready(t.launcher.spawned.at(i).pid);
  }
  REQUIRE(answer);
  CHECK(answer->ok());
  CHECK(t.spawns() == 8);
  CHECK(t.launcher.live() == 4);
  auto phases = t.events_named("reload");
  REQUIRE(phases.size() == 2);
  CHECK(phases[0].at("phase") == "start");
  CHECK(phases[1].at("phase") == "done");
  CHECK(phases[1].at("replaced") == 4);
}

TEST_CASE("replacing several slots (restart ID, max_memory) keeps to reload_surge too", "[app]") {
  AppTest t(notify_app(3));
  start_ready(t);
  int answers = 0;
  for (unsigned i = 0; i < 3; ++i)
    t.app->replace(i, [&](muster::Result<void> result) { answers += result ? 1 : 100; });
  t.run();
  CHECK(t.spawns() == 4);  // reload_surge = 1
  t.notify_ready(t.launcher.spawned.at(3).pid);
  CHECK(t.spawns() == 5);
  t.notify_ready(t.launcher.spawned.at(4).pid);
  CHECK(t.spawns() == 6);
  t.notify_ready(t.launcher.spawned.at(5).pid);
  CHECK(answers == 3);
  CHECK(t.launcher.live() == 3);
  CHECK(t.events_named("reload").empty());  // replacements are not a reload
}

TEST_CASE("a reload whose new worker misses ready_timeout stops; the old ones keep serving",
          "[app]") {
  auto c = notify_app(2);
  c.ready_timeout = 10s;
  AppTest t(c);
  start_ready(t);
  pid_t old0 = t.launcher.pid_of(0), old1 = t.launcher.pid_of(1);
  Answer answer;
  t.app->reload(answer_into(answer));
  t.run();
  REQUIRE(t.spawns() == 3);
  pid_t fresh = t.launcher.spawned.at(2).pid;
  t.advance(9s, 500ms);
  CHECK_FALSE(answer);
  t.advance(2s, 500ms);
  REQUIRE(answer);
  REQUIRE_FALSE(answer->ok());
  CHECK(answer->error().message.find("ready_timeout") != std::string::npos);
  CHECK_FALSE(t.launcher.alive(fresh));
  CHECK(t.launcher.alive(old0));
  CHECK(t.launcher.alive(old1));
  CHECK(t.events_named("ready_timeout").size() == 1);
  CHECK(t.events_named("reload").back().at("phase") == "failed");
  CHECK(t.app->state() == AppState::running);
  t.advance(60s, 1s);
  CHECK(t.spawns() == 3);  // the reload is over: no new worker is tried
}

TEST_CASE("a config update with only policy changes applies at once, without new workers",
          "[app]") {
  AppTest t(policy_app(2));
  t.app->start();
  t.run();
  auto changed = policy_app(2);
  changed.restart_delay = 3s;
  Answer answer;
  t.app->update_config(changed, false, answer_into(answer));
  REQUIRE(answer);
  CHECK(answer->ok());
  t.run();
  CHECK(t.spawns() == 2);
  CHECK(t.launcher.live() == 2);
  t.crash(0);
  CHECK(t.restart_field(0, "backoff_ms") == 3000);  // the next crash waits the new delay
}

TEST_CASE("a reload-config whose new workers fail goes back to the previous settings", "[app]") {
  AppTest t(notify_app(2, "v1"));
  start_ready(t);
  pid_t old1 = t.launcher.pid_of(1);
  Answer answer;
  reload_config(t, notify_app(2, "v2"), answer);
  REQUIRE(t.spawns() == 3);
  CHECK(t.spawned_with(2, "v2"));
  t.notify_ready(t.launcher.spawned.at(2).pid);  // slot 0 takes the new settings
  REQUIRE(t.spawns() == 4);
  CHECK(t.spawned_with(3, "v2"));
  t.launcher.die(t.launcher.spawned.at(3).pid, SIGSEGV);  // slot 1's does not
  t.run();
  REQUIRE(answer);
  REQUIRE_FALSE(answer->ok());
  CHECK(answer->error().message ==
        "the new worker for slot 1 killed by SIGSEGV before it was ready");
  CHECK(t.app->config().args == std::vector<std::string>{"v1"});
  CHECK(t.events_named("reload").back().at("phase") == "failed");
  CHECK(t.launcher.alive(old1));  // the old worker keeps serving
  // Slot 0, which took a new worker, gets one with the previous settings,
  // new one first.
  REQUIRE(t.spawns() == 5);
  CHECK(t.spawned_with(4, "v1"));
  CHECK(t.launcher.pid_of(0) == t.launcher.spawned.at(4).pid);
  CHECK(t.launcher.alive(t.launcher.spawned.at(2).pid));
  t.notify_ready(t.launcher.spawned.at(4).pid);
  CHECK_FALSE(t.launcher.alive(t.launcher.spawned.at(2).pid));
  CHECK(t.launcher.live() == 2);
  CHECK(t.app->state() == AppState::running);
}

TEST_CASE("after a reload-config that took, a failing one goes back to its settings, not older",
          "[app]") {
  AppTest t(notify_app(1, "v1"));
  start_ready(t);
  Answer took, failed;
  reload_config(t, notify_app(1, "v2"), took);
  REQUIRE(t.spawns() == 2);
  t.notify_ready(t.launcher.spawned.at(1).pid);
  REQUIRE(took);
  CHECK(took->ok());
  reload_config(t, notify_app(1, "v3"), failed);
  REQUIRE(t.spawns() == 3);
  t.launcher.die(t.launcher.spawned.at(2).pid, SIGSEGV);
  t.run();
  REQUIRE(failed);
  CHECK_FALSE(failed->ok());
  CHECK(t.app->config().args == std::vector<std::string>{"v2"});
  CHECK(t.launcher.alive(t.launcher.spawned.at(1).pid));  // the v2 worker serves on
  CHECK(t.spawns() == 3);  // no slot took v3: nothing to replace again
}

TEST_CASE("a reload-config during another's rolling reload gives every slot the newest settings",
          "[app]") {
  AppTest t(notify_app(2, "v1"));
  start_ready(t);
  Answer first, second;
  reload_config(t, notify_app(2, "v2"), first);
  t.notify_ready(t.launcher.spawned.at(2).pid);  // slot 0 has v2
  REQUIRE(t.spawns() == 4);                      // slot 1's v2 worker is on its way
  reload_config(t, notify_app(2, "v3"), second);
  t.notify_ready_from(3);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->ok());
  CHECK(second->ok());
  CHECK(t.spawns() == 6);  // slot 0 went round again
  for (std::size_t i = 4; i < 6; ++i) CHECK(t.spawned_with(i, "v3"));
  CHECK(t.launcher.live() == 2);
  CHECK(t.launcher.alive(t.launcher.spawned.at(4).pid));
  CHECK(t.launcher.alive(t.launcher.spawned.at(5).pid));
  CHECK(t.app->config().args == std::vector<std::string>{"v3"});
}

TEST_CASE("a reload while one runs joins it", "[app]") {
  AppTest t(notify_app(2));
  start_ready(t);
  Answer first, second;
  t.app->reload(answer_into(first));
  t.run();
  t.app->reload(answer_into(second));
  t.run();
  t.notify_ready_from(2);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->ok());
  CHECK(second->ok());
  CHECK(t.spawns() == 4);
  CHECK(t.events_named("reload").size() == 2);  // one start, one done
  CHECK(t.app->counters().reloads_done == 1);
}

TEST_CASE("a reload of an app that is not running is refused and starts nothing", "[app]") {
  AppTest t(policy_app(2));
  Answer answer;
  t.app->reload(answer_into(answer));
  t.run();
  REQUIRE(answer);
  REQUIRE_FALSE(answer->ok());
  CHECK(answer->error().message == "app 'web' is stopped; start it first");
  CHECK(t.spawns() == 0);
  CHECK(t.app->state() == AppState::stopped);
}

TEST_CASE("an instances change in a config update scales, without a reload", "[app]") {
  AppTest t(policy_app(1));
  t.app->start();
  t.run();
  pid_t first = t.launcher.pid_of(0);
  Answer answer;
  t.app->update_config(policy_app(3), false, answer_into(answer));
  t.run();
  REQUIRE(answer);
  CHECK(answer->ok());
  CHECK(t.spawns() == 3);
  CHECK(t.launcher.alive(first));
  CHECK(t.app->config().instances == 3);
  CHECK(t.events_named("reload").empty());
}

TEST_CASE("a slot refilled during a failed reload-config goes back to the previous settings too",
          "[app]") {
  AppTest t(notify_app(2, "v1"));
  start_ready(t);
  Answer answer;
  reload_config(t, notify_app(2, "v2"), answer);
  REQUIRE(t.spawns() == 3);  // slot 0's new worker, not ready yet
  t.crash(1);                // slot 1's old worker crashes meanwhile
  t.advance(1300ms, 50ms);
  REQUIRE(t.spawns() == 4);
  CHECK(t.spawned_with(3, "v2"));  // refilled with the settings in force
  t.launcher.die(t.launcher.spawned.at(2).pid, SIGSEGV);
  t.run();
  REQUIRE(answer);
  REQUIRE_FALSE(answer->ok());
  CHECK(t.app->config().args == std::vector<std::string>{"v1"});
  // Slot 1 runs the failed settings: it gets a worker with the previous
  // ones, new one first, as a slot the reload had replaced does.
  REQUIRE(t.spawns() == 5);
  CHECK(t.spawned_with(4, "v1"));
  CHECK(t.launcher.pid_of(1) == t.launcher.spawned.at(4).pid);
  t.notify_ready(t.launcher.spawned.at(4).pid);
  CHECK_FALSE(t.launcher.alive(t.launcher.spawned.at(3).pid));
  CHECK(t.launcher.live() == 2);
}

TEST_CASE("a worker over max_memory is replaced new one first, with a memory event", "[app]") {
  std::map<pid_t, std::uint64_t> rss;  // before the app: its workers read it
  auto c = notify_app(2);
  c.max_memory = 100 << 20;
  AppTest t(c);
  t.context.read_usage = [&rss](pid_t pid) {
    muster::daemon::ProcUsage usage;
    usage.state = 'S';
    usage.rss_bytes = rss.count(pid) ? rss[pid] : 50 << 20;
    return std::optional(usage);
  };
  start_ready(t);
  pid_t big = t.launcher.pid_of(0), other = t.launcher.pid_of(1);
  rss[big] = 200 << 20;
  t.advance(2100ms, 100ms);  // a usage round (App::kUsageInterval)
  auto memory = t.events_named("memory");
  REQUIRE(memory.size() == 1);
  CHECK(memory[0].at("pid") == big);
  CHECK(t.app->counters().memory_replacements == 1);
  REQUIRE(t.spawns() == 3);
  CHECK(t.launcher.alive(big));  // until its replacement is ready
  t.notify_ready(t.launcher.spawned.at(2).pid);
  CHECK_FALSE(t.launcher.alive(big));
  CHECK(t.launcher.pid_of(0) == t.launcher.spawned.at(2).pid);
  CHECK(t.launcher.alive(other));
  t.advance(4s, 100ms);  // every worker under the limit now: nothing more
  CHECK(t.spawns() == 3);
  CHECK(t.events_named("memory").size() == 1);
}
