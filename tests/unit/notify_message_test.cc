#include <catch2/catch.hpp>

#include "ipc/notify_message.h"

using muster::ipc::parse_notify;

TEST_CASE("READY, STATUS and WATCHDOG are read from one datagram", "[notify]") {
  auto m = parse_notify("READY=1\nSTATUS=serving 3 clients\nWATCHDOG=1\n");
  CHECK(m.ready);
  CHECK(m.watchdog);
  CHECK_FALSE(m.watchdog_trigger);
  CHECK(*m.status == "serving 3 clients");
}

TEST_CASE("STOPPING, RELOADING, WATCHDOG=trigger and ERRNO are recognised", "[notify]") {
  auto m = parse_notify("STOPPING=1\nRELOADING=1\nWATCHDOG=trigger\nERRNO=2");
  CHECK(m.stopping);
  CHECK(m.reloading);
  CHECK(m.watchdog_trigger);
  CHECK(*m.errno_value == 2);
}

TEST_CASE("garbage and unknown assignments are ignored", "[notify]") {
  auto m = parse_notify(std::string("\0\xff\nREADY\n=1\nREADY=0\nMAINPID=1\nFDSTORE=1\nERRNO=x\nERRNO=-1", 49));
  CHECK_FALSE(m.ready);
  CHECK_FALSE(m.errno_value);
  CHECK_FALSE(m.status);
  CHECK_FALSE(parse_notify("").ready);
}

TEST_CASE("a status is bounded and made printable", "[notify]") {
  auto m = parse_notify("STATUS=" + std::string(1000, 'a') + "\tb");
  CHECK(m.status->size() == muster::ipc::kMaxStatus);
  CHECK(*parse_notify("STATUS=a\tb\x1b").status == "a b ");
}
