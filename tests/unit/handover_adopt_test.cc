// An upgrade in place as App and Worker see it: an app written down in one
// fixture (the musterd before the exec) and adopted in a fresh one (the
// musterd after it). The fake launcher of the second is told the processes
// run; nothing is spawned for them, and the policy goes on where it was.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "daemon/network/listen_socket.h"
#include "daemon/network/rr_handle.h"
#include "daemon/output/output_sink.h"
#include "tests/unit/app_fixture.h"

using namespace std::chrono_literals;
using muster::daemon::App;
using muster::daemon::AppState;
using muster::daemon::Worker;
using muster::daemon::WorkerRecord;
using muster::test::AppTest;
using muster::test::policy_app;

namespace {

// The musterd after the exec: a fresh app, told of `before`'s processes.
struct Adopting : AppTest {
  explicit Adopting(const AppTest& before) : AppTest(before.app->config()) {
    last_id = before.last_id;
    for (auto* w : before.app->workers()) {
      launcher.pretend_running(w->pid());
      workers.push_back({w->record(), {}});
    }
    record = before.app->record();
  }
  muster::Result<void> adopt() { return app->adopt(record, std::move(workers)); }

  muster::daemon::AppRecord record;
  std::vector<App::AdoptedWorker> workers;
};

void start(AppTest& t) {
  t.app->start();
  t.run();
}

}  // namespace

TEST_CASE("an adopted worker keeps its pid, id, slot and restarts, and nothing is spawned",
          "[handover]") {
  AppTest before(policy_app(2));
  start(before);
  before.crash(1);
  before.advance(1300ms, 10ms);  // slot 1 refilled: restarts 1
  REQUIRE(before.spawns() == 3);
  Adopting after(before);
  REQUIRE(after.adopt());
  after.run();
  CHECK(after.spawns() == 0);
  CHECK(after.launcher.adopted.size() == 2);
  auto old_workers = before.app->workers();
  auto new_workers = after.app->workers();
  REQUIRE(new_workers.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(new_workers[i]->pid() == old_workers[i]->pid());
    CHECK(new_workers[i]->identity().id == old_workers[i]->identity().id);
    CHECK(new_workers[i]->identity().instance == old_workers[i]->identity().instance);
    CHECK(new_workers[i]->identity().restarts == old_workers[i]->identity().restarts);
    CHECK(new_workers[i]->ready());
  }
  CHECK(after.app->state() == AppState::running);
  CHECK(after.app->counters().crashes == 1);
  auto was = before.app->record(), is = after.app->record();
  CHECK(is.restarts == was.restarts);
  REQUIRE(is.slots.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(is.slots[i].restarts == was.slots[i].restarts);
    CHECK(is.slots[i].backoff == was.slots[i].backoff);
    CHECK(is.slots[i].crash_ages.size() == was.slots[i].crash_ages.size());
    CHECK(is.slots[i].exits == was.slots[i].exits);
  }
}

TEST_CASE("an adopted worker that crashes is refilled as before the upgrade: restarts + 1",
          "[handover]") {
  AppTest before(policy_app());
  start(before);
  before.crash(0);
  before.advance(1300ms, 10ms);
  Adopting after(before);
  REQUIRE(after.adopt());
  pid_t pid = after.app->workers().at(0)->pid();
  after.launcher.die(pid, SIGSEGV);
  after.run();
  // The backoff went on: a second young crash waits 2 s, not the first 1 s.
  CHECK(after.restart_field(0, "backoff_ms") == 2000);
  after.advance(2500ms, 10ms);
  REQUIRE(after.spawns() == 1);
  REQUIRE(after.app->workers().size() == 1);
  CHECK(after.app->workers()[0]->identity().restarts == 2);
  CHECK(after.app->workers()[0]->identity().id > before.app->workers()[0]->identity().id);
  CHECK(after.app->counters().restarts == 2);
}

TEST_CASE("a stopped app stays stopped after the upgrade", "[handover]") {
  AppTest before(policy_app(2));
  start(before);
  before.app->stop(nullptr);
  before.run();
  REQUIRE(!before.app->busy_for_handover());
  Adopting after(before);
  REQUIRE(after.adopt());
  after.advance(10s, 100ms);
  CHECK(after.spawns() == 0);
  CHECK(after.app->state() == AppState::stopped);
}

TEST_CASE("a slot waiting for its refill is refilled after what was left of the delay",
          "[handover]") {
  AppTest before(policy_app());
  start(before);
  before.crash(0);
  auto delay = std::chrono::milliseconds(before.restart_field(0, "delay_ms"));
  before.advance(600ms);  // of 800..1200 ms
  REQUIRE(!before.app->busy_for_handover());
  Adopting after(before);
  REQUIRE(after.record.slots[0].next_try_ms);
  CHECK(*after.record.slots[0].next_try_ms <= (delay - 600ms).count());
  REQUIRE(after.adopt());
  after.advance(delay - 600ms - 100ms, 10ms);
  CHECK(after.spawns() == 0);
  after.advance(200ms, 10ms);
  CHECK(after.spawns() == 1);
}

TEST_CASE("a slot parked in a crash loop stays parked after the upgrade", "[handover]") {
  auto c = policy_app(2);
  c.max_restarts = 1;
  AppTest before(c);
  start(before);
  before.crash(0);
  before.advance(1300ms, 10ms);
  before.crash(0);  // the second within the window: parked
  REQUIRE(before.events_named("crash_loop").size() == 1);
  Adopting after(before);
  CHECK(after.record.slots[0].crash_loop);
  REQUIRE(after.adopt());
  after.advance(60s, 1s);
  CHECK(after.spawns() == 0);
  CHECK(after.app->workers().size() == 1);
  CHECK(after.app->record().slots[0].crash_loop);
  CHECK(after.app->state() == AppState::running);
}

TEST_CASE("no upgrade while a worker is spawning or not ready, or an app reloads", "[handover]") {
  auto c = policy_app();
  c.ready = muster::config::Ready::notify;
  AppTest t(c);
  t.app->start();
  CHECK(t.app->busy_for_handover() == "web has workers waiting to be started");
  t.run();
  CHECK(t.app->busy_for_handover() == "web[1] is not ready yet");
  t.notify_ready(t.launcher.pid_of(0));
  CHECK(!t.app->busy_for_handover());
  t.app->reload([](muster::Result<void>) {});
  t.run();
  CHECK(t.app->busy_for_handover() == "web is reloading");

  // A worker handed to the launcher, not answered yet.
  auto sink = std::make_shared<muster::daemon::OutputSink>(c, t.events);
  auto spawning =
      std::make_shared<Worker>(t.io, t.context, c, muster::daemon::WorkerIdentity{"web", 9, 0, 0},
                               sink, [](Worker&, const muster::daemon::ExitInfo&) {});
  spawning->start();
  CHECK(spawning->busy_for_handover() == "web[9] is spawning");
  t.run();
  CHECK(spawning->busy_for_handover() == "web[9] is not ready yet");
}

namespace {

// A Node worker started before the exec, and its app's fresh App after it:
// the worker's record and channel (the test holds the channel's far end).
struct NodeAdopting : AppTest {
  NodeAdopting(unsigned id, const char* state) : AppTest(node_app()) {
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    theirs.reset(pair[1]);
    channel = std::make_shared<muster::ipc::NodeChannel>(io, muster::ipc::UniqueFd(pair[0]));
    record.app = "web";
    record.id = id;
    record.pid = 3999000 + static_cast<int>(id);
    record.state = state;
    record.ready = record.channel = true;
  }
  static muster::config::AppConfig node_app() {
    auto c = policy_app();
    c.protocol = muster::config::Protocol::node;
    return c;
  }
  // Adopts the worker into the app, running.
  Worker* adopt(std::function<muster::daemon::ListenSocket*(const std::string&)> find = nullptr) {
    launcher.pretend_running(record.pid);
    auto state = app->record();
    state.state = "running";
    std::vector<App::AdoptedWorker> workers;
    workers.push_back({record, {channel, nullptr, nullptr, std::move(find)}});
    REQUIRE(app->adopt(state, std::move(workers)));
    return app->find_worker(record.id);
  }

  WorkerRecord record;
  std::shared_ptr<muster::ipc::NodeChannel> channel;
  muster::ipc::UniqueFd theirs;
};

}  // namespace

TEST_CASE("an adopted worker's Node channel goes on: messages both ways", "[handover]") {
  NodeAdopting t(5, "online");
  t.record.uptime_ms = 60000;
  t.record.seq = 40;
  Worker* w = t.adopt();
  REQUIRE(w);
  CHECK(w->uptime() >= 60s);
  const std::string hello = "{\"hello\":1}\n";
  REQUIRE(::write(t.theirs.get(), hello.data(), hello.size()) == ssize_t(hello.size()));
  t.run();
  REQUIRE(t.events_named("message").size() == 1);
  CHECK(t.events_named("message")[0].at("message").at("hello") == 1);
  REQUIRE(w->send_message(boost::json::object{{"back", true}}));
  t.run();
  char got[64] = {};
  CHECK(::read(t.theirs.get(), got, sizeof got) > 0);
  CHECK(std::string(got) == "{\"back\":true}\n");
  CHECK(w->record().seq == 40);  // a user message is no NODE_CLUSTER one
}

TEST_CASE("an adopted worker is back in its socket's round robin: connections come to it",
          "[handover]") {
  NodeAdopting t(6, "listening");
  muster::config::SocketConfig sc;
  sc.name = "http";
  sc.listen = "127.0.0.1:0";
  sc.host = "127.0.0.1";
  auto bound = muster::daemon::bind_listen(sc);
  REQUIRE(bound);
  muster::daemon::ListenSocket socket(sc, std::move(*bound), false);
  const std::string key = "127.0.0.1:0:4:";
  t.record.asked_server = true;
  t.record.server_keys = t.record.servers = {key};
  Worker* w = t.adopt([&](const std::string& k) { return k == key ? &socket : nullptr; });
  REQUIRE(w);
  REQUIRE(socket.round_robin_if_any());
  CHECK(socket.round_robin_if_any()->workers() == 1);
  CHECK(w->record().servers == t.record.servers);

  muster::ipc::UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(socket.port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(client.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  std::string got;
  for (int i = 0; i < 200 && got.find("newconn") == std::string::npos; ++i) {
    t.run();
    pollfd p{t.theirs.get(), POLLIN, 0};
    if (::poll(&p, 1, 10) != 1) continue;
    char buf[512];
    ssize_t n = ::recv(t.theirs.get(), buf, sizeof buf, 0);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  CHECK(got.find("\"act\":\"newconn\"") != std::string::npos);
}
