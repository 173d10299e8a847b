// The event history behind `musterctl events`: bounded in count and in bytes.
#include <catch2/catch.hpp>

#include <string>

#include "daemon/common/events.h"
#include "ipc/utf8.h"

using muster::daemon::EventBus;

TEST_CASE("the event history keeps the newest 1000 events", "[events]") {
  EventBus bus;
  for (int i = 0; i < 1500; ++i) bus.publish("message", "web", {{"message", i}});
  auto recent = bus.recent();
  REQUIRE(recent.size() == EventBus::kHistory);
  CHECK(recent.front().as_object().at("message") == 500);
  CHECK(recent.back().as_object().at("message") == 1499);
}

TEST_CASE("big messages push old events out so the history stays within its bytes", "[events]") {
  EventBus bus;
  bus.publish("fork", "web", {{"id", 1}});
  std::string mib(1 << 20, 'x');
  for (int i = 0; i < 12; ++i) bus.publish("message", "web", {{"message", mib}, {"n", i}});
  auto recent = bus.recent();
  CHECK(boost::json::serialize(recent).size() <= EventBus::kHistoryBytes);
  CHECK(recent.size() == 3);  // a 1 MiB event line is a little over 1 MiB
  CHECK(recent.back().as_object().at("n") == 11);
  CHECK(recent.back().as_object().at("message").as_string().size() == mib.size());
}

TEST_CASE("the history's bytes are counted as sent, C1 controls as \\u escapes", "[events]") {
  EventBus bus;
  // 512 KiB of U+0085 (two bytes each) is 1.5 MiB as \u0085 escapes.
  std::string c1;
  for (int i = 0; i < (256 << 10); ++i) c1 += "\xC2\x85";
  for (int i = 0; i < 8; ++i) bus.publish("message", "web", {{"message", c1}, {"n", i}});
  auto recent = bus.recent();
  CHECK(recent.size() == 2);
  std::string sent = boost::json::serialize(recent);
  muster::ipc::make_json_printable(sent);  // what the control socket does
  CHECK(sent.size() > 2 * 3 * c1.size());
  CHECK(sent.size() <= EventBus::kHistoryBytes);
}
