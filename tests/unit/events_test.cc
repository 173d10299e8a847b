// The event history behind `musterctl events`: bounded in count and in bytes.
#include <catch2/catch.hpp>

#include <string>

#include "daemon/events.h"

using muster::daemon::EventBus;

TEST_CASE("the event history keeps the newest 1000 events", "[events]") {
  EventBus bus;
  for (int i = 0; i < 1500; ++i) bus.publish("message", "web", {{"message", i}});
  auto recent = bus.recent();
  REQUIRE(recent.size() == EventBus::kHistory);
  CHECK(recent.front().as_object().at("message") == 500);
  CHECK(recent.back().as_object().at("message") == 1499);
}

TEST_CASE("big messages push old events out so the history stays within its bytes",
          "[events]") {
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
