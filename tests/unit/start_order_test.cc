// `after` at run time (daemon/supervision/start_order.cc), against the fake
// launcher: an app starts once those it names have a ready worker, a start
// is refused while one of them is stopped, and stops go dependents first.
#include <catch2/catch.hpp>

#include <boost/asio/post.hpp>
#include <memory>
#include <string>
#include <vector>

#include "daemon/supervision/start_order.h"
#include "tests/unit/app_fixture.h"

using namespace std::chrono_literals;
using muster::daemon::App;
using muster::daemon::StartOrder;
using muster::test::policy_app;

namespace {

// db (ready = "notify": ready only when a test says so) and api after db.
struct OrderTest : muster::test::Supervision {
  OrderTest() {
    auto db_config = policy_app(1);
    db_config.name = "db";
    db_config.args = {"db"};
    db_config.ready = muster::config::Ready::notify;
    auto api_config = policy_app(1);
    api_config.name = "api";
    api_config.args = {"api"};
    api_config.after = {"db"};
    db = std::make_unique<App>(io, context, db_config, [this] { return ++last_id; });
    api = std::make_unique<App>(io, context, api_config, [this] { return ++last_id; });
    launcher.obey_signals = false;  // a stopping worker exits when a test says so
    // As musterd does: the look is posted.
    context.start_order_changed = [this] { boost::asio::post(io, [this] { order.recheck(); }); };
  }
  ~OrderTest() {
    api.reset();
    db.reset();
  }

  // The spawns so far whose first argument is `name`.
  std::size_t spawns_of(const std::string& name) const {
    std::size_t n = 0;
    for (const auto& s : launcher.spawned) n += s.spec.args.at(0) == name ? 1 : 0;
    return n;
  }
  void db_ready() {
    for (auto* worker : db->workers()) {
      muster::ipc::NotifyMessage ready;
      ready.ready = true;
      worker->on_notify(ready);
    }
    run();
  }

  unsigned last_id = 0;
  std::unique_ptr<App> db;
  std::unique_ptr<App> api;
  StartOrder order{events, [this](const std::string& name) -> App* {
                     if (db && name == db->name()) return db.get();
                     if (api && name == api->name()) return api.get();
                     return nullptr;
                   }};
};

}  // namespace

TEST_CASE("an app waits for its after app's first ready worker, then starts", "[order]") {
  OrderTest t;
  t.order.start(*t.db);
  t.order.start(*t.api);
  t.run();
  CHECK(t.spawns_of("db") == 1);
  CHECK(t.spawns_of("api") == 0);
  CHECK(t.order.waiting_for(*t.api) == std::vector<std::string>{"db"});
  REQUIRE(t.events_named("waiting").size() == 1);
  CHECK(t.events_named("waiting")[0].at("app") == "api");
  // Time alone starts nothing: only db's readiness does.
  t.advance(10s, 1s);
  CHECK(t.spawns_of("api") == 0);
  t.db_ready();
  CHECK(t.spawns_of("api") == 1);
  CHECK(t.order.waiting_for(*t.api).empty());
  CHECK(t.api->wanted_up());
}

TEST_CASE("an app whose after apps are ready starts at once", "[order]") {
  OrderTest t;
  t.order.start(*t.db);
  t.run();
  t.db_ready();
  t.order.start(*t.api);
  t.run();
  CHECK(t.spawns_of("api") == 1);
  CHECK(t.events_named("waiting").empty());
}

TEST_CASE("an operator's start is refused while an after app is stopped", "[order]") {
  OrderTest t;
  auto why = t.order.blocked(*t.api);
  REQUIRE(why);
  CHECK(*why == "app 'api' starts after 'db', which is stopped; start 'db' first (or start all)");
  t.order.start(*t.db);
  CHECK_FALSE(t.order.blocked(*t.api));
}

TEST_CASE("a start waiting for an app that is then stopped gets the reason", "[order]") {
  OrderTest t;
  t.order.start(*t.db);
  std::optional<std::string> answer;
  t.order.start(*t.api, [&](muster::Result<void> r) { answer = r ? "ok" : r.error().message; });
  t.run();
  CHECK_FALSE(answer);
  bool stopped = false;
  t.order.stop({t.db.get()}, [&] { stopped = true; });
  t.run();
  CHECK_FALSE(answer);  // db is stopping: not yet down
  t.launcher.exit(t.launcher.spawned.at(0).pid, 0);
  t.run();
  REQUIRE(stopped);
  REQUIRE(answer);
  CHECK(*answer ==
        "app 'api' waits for 'db', which is stopped; it starts once 'db' has a ready worker");
  // It keeps waiting: db's next ready worker starts it.
  t.order.start(*t.db);
  t.run();
  t.db_ready();
  CHECK(t.spawns_of("api") == 1);
}

TEST_CASE("stopping a waiting app ends its wait", "[order]") {
  OrderTest t;
  t.order.start(*t.db);
  std::optional<std::string> answer;
  t.order.start(*t.api, [&](muster::Result<void> r) { answer = r ? "ok" : r.error().message; });
  t.order.stop({t.api.get()}, nullptr);
  REQUIRE(answer);
  CHECK(*answer == "the app was stopped");
  t.run();
  t.db_ready();
  CHECK(t.spawns_of("api") == 0);
}

TEST_CASE("a stop of both stops the dependent first, the other once it has exited", "[order]") {
  OrderTest t;
  t.order.start(*t.db);
  t.run();
  t.db_ready();
  t.order.start(*t.api);
  t.run();
  pid_t db_pid = t.launcher.spawned.at(0).pid;
  pid_t api_pid = t.launcher.spawned.at(1).pid;
  bool done = false;
  t.order.stop({t.db.get(), t.api.get()}, [&] { done = true; });
  t.run();
  // api got its stop signal; db has not been asked yet.
  CHECK(t.api->stopping());
  CHECK_FALSE(t.db->stopping());
  CHECK(t.db->wanted_up());
  t.launcher.exit(api_pid, 0);
  t.run();
  CHECK(t.db->stopping());
  CHECK_FALSE(done);
  t.launcher.exit(db_pid, 0);
  t.run();
  CHECK(done);
}

TEST_CASE("start order sorts apps after those they name, stably", "[order]") {
  OrderTest t;
  auto sorted = StartOrder::in_start_order({t.api.get(), t.db.get()});
  CHECK(sorted == std::vector<App*>{t.db.get(), t.api.get()});
}
