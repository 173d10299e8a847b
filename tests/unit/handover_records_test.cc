// The records an upgrade in place hands from one musterd to the next
// (daemon/supervision/handover_records.h): through JSON text and back as they
// were, and a bad one refused with its field named.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <string>

#include "daemon/supervision/handover_records.h"
#include "daemon/supervision/restart_policy.h"

using namespace std::chrono_literals;
using muster::daemon::AppRecord;
using muster::daemon::from_json;
using muster::daemon::WorkerRecord;
namespace json = boost::json;

namespace {

WorkerRecord worker_record() {
  WorkerRecord r;
  r.app = "web";
  r.id = 7;
  r.instance = 2;
  r.restarts = 3;
  r.pid = 4242;
  r.uptime_ms = 120000;
  r.state = "listening";
  r.ready = r.asked_server = true;
  r.connections = 99;
  r.seq = 12;
  r.server_keys = {"0.0.0.0:3000:4:tcp"};
  r.servers = {"0.0.0.0:3000:4:tcp"};
  r.status_text = "serving";
  r.inspector = "127.0.0.1:9231";
  r.must_listen = true;
  r.channel = true;
  r.serialization = "advanced";
  r.channel_fd = 9;
  r.stdout_fd = 10;
  r.channel_unread = std::string("\xff\x0d\x00\x01", 4);  // V8 bytes: no UTF-8
  r.stdout_partial = "half a li";
  return r;
}

AppRecord app_record() {
  AppRecord r;
  r.name = "web";
  r.state = "failed";
  r.instances = 2;
  r.exits = 5;
  r.crashes = 4;
  r.failures = 1;
  r.retry_ms = 2500;
  muster::daemon::SlotRecord loop;
  loop.restarts = 3;
  loop.backoff = 2;
  loop.crash_ages = {9000, 400};
  loop.crash_loop = true;
  loop.last_exit = "killed by SIGSEGV";
  loop.exits.push_back(
      {"2026-12-07T19:00:00Z", 4, 301, std::nullopt, 11, false, 350, "killed by SIGSEGV"});
  muster::daemon::SlotRecord waiting;
  waiting.next_try_ms = 700;
  waiting.exits.push_back({"2026-12-07T19:00:01Z", 5, 302, 1, std::nullopt, false, 20, "exited"});
  r.slots = {loop, waiting};
  return r;
}

// As the memfd carries it: text.
json::value through_text(const json::value& v) { return json::parse(json::serialize(v)); }

std::string error_of(const json::value& v) {
  auto r = from_json<WorkerRecord>(v);
  REQUIRE(!r);
  return r.error().message;
}

}  // namespace

TEST_CASE("a worker record comes back from JSON as it was", "[handover]") {
  WorkerRecord r = worker_record();
  auto back = from_json<WorkerRecord>(through_text(to_json(r)));
  REQUIRE(back);
  CHECK(*back == r);
  CHECK(back->channel_unread.size() == 4);
}

TEST_CASE("an app record comes back from JSON as it was", "[handover]") {
  AppRecord r = app_record();
  auto back = from_json<AppRecord>(through_text(to_json(r)));
  REQUIRE(back);
  CHECK(*back == r);
  CHECK(!back->slots[0].next_try_ms);
  CHECK(back->slots[1].exits[0].code == 1);
}

TEST_CASE("a record with a missing or bad field is refused with the field named", "[handover]") {
  json::object w = to_json(worker_record()).as_object();
  w.erase("pid");
  CHECK(error_of(w) == "worker record: 'pid' is missing");
  w["pid"] = "4242";
  CHECK(error_of(w) == "worker record: 'pid' is not an integer in range");
  w["pid"] = 4242;
  w["instance"] = -1;
  CHECK(error_of(w) == "worker record: 'instance' is not an integer in range");
  w["instance"] = 2;
  w["stdout_partial"] = "zz";
  CHECK(error_of(w) == "worker record: 'stdout_partial' is not a hex string");
  w["stdout_partial"] = "";
  w["channel"].as_object().erase("serialization");
  CHECK(error_of(w) == "worker record: 'channel': 'serialization' is missing");
  CHECK(error_of(json::array{}) == "worker record: not an object");

  json::object a = to_json(app_record()).as_object();
  a["slots"].as_array()[1].as_object()["crash_ages"] = json::array{1, "x"};
  auto bad = from_json<AppRecord>(a);
  REQUIRE(!bad);
  CHECK(bad.error().message ==
        "app record: 'slots' [1]: slot: 'crash_ages' [1] is not an integer in range");
  a = to_json(app_record()).as_object();
  a["counters"].as_object().erase("failures");
  bad = from_json<AppRecord>(a);
  REQUIRE(!bad);
  CHECK(bad.error().message == "app record: 'counters': 'failures' is missing");
}

TEST_CASE("a crash window keeps its crashes' ages across a clock change", "[handover]") {
  muster::daemon::CrashWindow old_window(2, 10s);
  auto then = muster::daemon::Clock::now();
  CHECK(!old_window.record(then - 5s));
  CHECK(!old_window.record(then - 1s));
  auto ages = old_window.ages(then);
  REQUIRE(ages.size() == 2);
  CHECK(ages[0] == 5s);
  // Another clock (a new process): the same ages, the same verdict.
  auto now = then + 1h;
  muster::daemon::CrashWindow window(2, 10s);
  window.restore(ages, now);
  CHECK(window.record(now));  // the third within 10 s: a loop
  muster::daemon::CrashWindow later(2, 10s);
  later.restore(ages, now);
  CHECK(!later.record(now + 6s));  // the oldest has left the window
}
