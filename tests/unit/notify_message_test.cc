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
  auto m = parse_notify(
      std::string("\0\xff\nREADY\n=1\nREADY=0\nMAINPID=1\nFDSTORE=1\nERRNO=x\nERRNO=-1", 49));
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

TEST_CASE("EXTEND_TIMEOUT_USEC, FDSTORE and MAINPID are recognised", "[notify]") {
  auto m = parse_notify("EXTEND_TIMEOUT_USEC=3000000\nFDSTORE=1\nFDNAME=db\nMAINPID=42");
  CHECK(*m.extend_timeout_usec == 3000000);
  CHECK(m.fdstore);
  CHECK(*m.main_pid == 42);
}

TEST_CASE("a malformed EXTEND_TIMEOUT_USEC or MAINPID is ignored", "[notify]") {
  for (const char* bad :
       {"EXTEND_TIMEOUT_USEC=", "EXTEND_TIMEOUT_USEC=-1", "EXTEND_TIMEOUT_USEC=1s",
        "EXTEND_TIMEOUT_USEC= 5", "EXTEND_TIMEOUT_USEC=99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_notify(bad).extend_timeout_usec);
  }
  CHECK_FALSE(parse_notify("MAINPID=x").main_pid);
  CHECK_FALSE(parse_notify("FDSTORE=0").fdstore);
}
