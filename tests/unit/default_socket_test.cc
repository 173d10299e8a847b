// musterd's default control socket (config/default_socket.cc): always in a
// directory of the daemon's own uid, never a name in a shared one.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "config/default_socket.h"

using namespace muster::config;

namespace {

// Inputs where only the directories in `usable` exist or can be made.
DefaultSocketInputs inputs(uid_t uid,
                           std::set<std::string> usable = {"/run/muster", "/tmp/muster-1000"}) {
  DefaultSocketInputs in;
  in.uid = uid;
  in.usable = [usable](const std::string& dir) { return usable.count(dir) > 0; };
  return in;
}

}  // namespace

TEST_CASE("systemd's RUNTIME_DIRECTORY comes first, for any user, its first entry") {
  for (uid_t uid : {0u, 1000u}) {
    DefaultSocketInputs in = inputs(uid);
    in.runtime_directory = "/run/muster:/run/other";
    in.xdg_runtime_dir = "/run/user/1000";
    DefaultSocket chosen = choose_default_socket(in);
    CHECK(chosen.path == "/run/muster/muster.sock");
    CHECK(chosen.directory == "/run/muster");
    CHECK(chosen.why == "$RUNTIME_DIRECTORY/muster.sock");
  }
}

TEST_CASE("root's default is /run/muster/muster.sock, whatever XDG_RUNTIME_DIR says") {
  DefaultSocketInputs in = inputs(0);
  in.xdg_runtime_dir = "/run/user/1000";
  DefaultSocket chosen = choose_default_socket(in);
  CHECK(chosen.path == "/run/muster/muster.sock");
  CHECK(chosen.directory == "/run/muster");
}

TEST_CASE("root falls back to its own /tmp/muster-0 only when /run cannot take it") {
  DefaultSocket chosen = choose_default_socket(inputs(0, {"/tmp/muster-0"}));
  CHECK(chosen.path == "/tmp/muster-0/muster.sock");
  CHECK(chosen.why.find("/run is not writable") != std::string::npos);
  // Neither: the usual one, so that musterd's error names it.
  CHECK(choose_default_socket(inputs(0, {})).path == "/run/muster/muster.sock");
}

TEST_CASE("another user's default is XDG_RUNTIME_DIR, else a directory of its own in /tmp") {
  DefaultSocketInputs in = inputs(1000);
  in.xdg_runtime_dir = "/run/user/1000";
  CHECK(choose_default_socket(in).path == "/run/user/1000/muster.sock");
  in.xdg_runtime_dir.reset();
  DefaultSocket chosen = choose_default_socket(in);
  CHECK(chosen.path == "/tmp/muster-1000/muster.sock");
  CHECK(chosen.directory == "/tmp/muster-1000");
}

TEST_CASE("a user's default moves to /run/muster-UID when only /run is writable") {
  DefaultSocket chosen = choose_default_socket(inputs(1000, {"/run/muster-1000"}));
  CHECK(chosen.path == "/run/muster-1000/muster.sock");
  CHECK(choose_default_socket(inputs(1000, {})).path == "/tmp/muster-1000/muster.sock");
}

TEST_CASE("no default is a name directly in a shared directory") {
  for (uid_t uid : {0u, 1000u}) {
    for (const auto& usable : {std::set<std::string>{},
                               {"/run/muster", "/tmp/muster-1000"},
                               {"/tmp/muster-0", "/run/muster-1000"}}) {
      std::string dir = choose_default_socket(inputs(uid, usable)).directory;
      CHECK(dir != "/tmp");
      CHECK(dir != "/run");
    }
  }
}
