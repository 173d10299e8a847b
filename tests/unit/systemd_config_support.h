// What the systemd-protocol config tests share (systemd_config_test.cc,
// readiness_config_test.cc).
#pragma once

#include <string>

#include "tests/unit/config_support.h"

namespace muster::test {

// Lines 1-4: a TCP socket "web" and a unix socket "admin".
inline const std::string kTwoSockets =
    kWebSocket + "[sockets.admin]\nlisten = \"unix:admin.sock\"\n";

// "[apps.web]" with exec and the given protocol on its next two lines,
// then `rest`; the header is on line 1.
inline std::string app(const std::string& protocol, const std::string& rest = "") {
  return "[apps.web]\nexec = \"x\"\nprotocol = \"" + protocol + "\"\n" + rest;
}

}  // namespace muster::test
