#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "daemon/supervision/worker_env.h"

using muster::daemon::login_variables;
using muster::daemon::LoginRecord;
using Vars = std::vector<std::string>;

TEST_CASE("a user's HOME, USER, LOGNAME and SHELL are set as systemd sets them for User=") {
  CHECK(login_variables({"alice", "/home/alice", "/bin/bash"}) ==
        Vars{"USER=alice", "LOGNAME=alice", "HOME=/home/alice", "SHELL=/bin/bash"});
  CHECK(login_variables({"root", "/root", "/bin/sh"}) ==
        Vars{"USER=root", "LOGNAME=root", "HOME=/root", "SHELL=/bin/sh"});
}

TEST_CASE("a home of / and a nologin shell are left unset, as systemd leaves them") {
  CHECK(login_variables({"nobody", "/", "/usr/sbin/nologin"}) ==
        Vars{"USER=nobody", "LOGNAME=nobody"});
  CHECK(login_variables({"svc", "//", "/bin/false"}) == Vars{"USER=svc", "LOGNAME=svc"});
  CHECK(login_variables({"svc", "", "/usr/bin/true"}) == Vars{"USER=svc", "LOGNAME=svc"});
  CHECK(login_variables({"svc", "relative", "sh"}) == Vars{"USER=svc", "LOGNAME=svc"});
  // Debian's nobody: a home that does not exist is still set (systemd does).
  CHECK(login_variables({"nobody", "/nonexistent", "/usr/sbin/nologin"}) ==
        Vars{"USER=nobody", "LOGNAME=nobody", "HOME=/nonexistent"});
}
