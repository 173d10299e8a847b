// Sockets bound on demand for Node workers (daemon/network/on_demand.cc,
// daemon/network/unix_bind.cc, daemon/network/socket_file.cc): the per-app switch and limit,
// the privileged-port rule, the grace before an unused socket closes, and
// that a socket file is removed only while it is the one musterd made. The
// binds are real (127.0.0.1, ephemeral ports; unix paths in a temp dir).
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

#include "daemon/network/on_demand.h"
#include "daemon/network/unix_bind.h"

using namespace muster;
using daemon::ListenSocket;
using daemon::OnDemandSockets;
using namespace std::chrono_literals;

namespace {

config::AppConfig app(unsigned max = 64, config::Duration grace = 10s, bool enabled = true) {
  config::AppConfig a;
  a.name = "web";
  a.protocol = config::Protocol::node;
  a.on_demand = enabled;
  a.max_on_demand_sockets = max;
  a.on_demand_grace = grace;
  return a;
}

// listen(PORT, "127.0.0.1") as Node's worker asks it, the index-th time.
daemon::ListenQuery tcp(int port, int index = 0) {
  daemon::ListenQuery q;
  q.address = "127.0.0.1";
  q.port = port;
  q.index = index;
  q.key = "127.0.0.1:" + std::to_string(port) + ":4:undefined:" + std::to_string(index);
  return q;
}

// What acquire() answered (when it answers at once).
struct Asked {
  OnDemandSockets::Answer answer = nullptr;
  bool answered = false;
  bool take = true;  // what the worker says
  OnDemandSockets::Done done() {
    return [this](OnDemandSockets::Answer a) {
      answer = a;
      answered = true;
      return take;
    };
  }
  ListenSocket* socket() const { return answer ? *answer : nullptr; }
  // As Node's worker gets it: a negative errno.
  int error() const { return answer ? 0 : -answer.error().errno_value; }
};

Asked ask(OnDemandSockets& sockets, const daemon::ListenQuery& q, unsigned worker = 1,
          const daemon::Credentials* credentials = nullptr, bool take = true) {
  Asked asked;
  asked.take = take;
  sockets.acquire("web", q, worker, credentials, asked.done());
  REQUIRE(asked.answered);
  return asked;
}

// Runs `io` for `time` (or until it has no work), also after an earlier run ran out.
void run(boost::asio::io_context& io, std::chrono::milliseconds time) {
  io.restart();
  io.run_for(time);
}

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/muster-od-test-XXXXXX";
    REQUIRE(::mkdtemp(name));
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

daemon::UnixBindResult bind_unix(const std::string& path) {
  boost::asio::io_context io;
  config::SocketConfig s;
  s.family = config::SocketConfig::Family::unix_path;
  s.path = path;
  s.listen = "unix:" + path;
  std::optional<daemon::UnixBindResult> result;
  daemon::bind_unix_as(io, s, nullptr, [&](daemon::UnixBindResult r) { result = std::move(r); });
  io.run_for(5s);
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }  // the child (musterd's orphan reaper's job)
  REQUIRE(result);
  return std::move(*result);
}

}  // namespace

TEST_CASE("an app gets at most max_on_demand_sockets, then EMFILE, and keeps what it has") {
  boost::asio::io_context io;
  OnDemandSockets sockets(io);
  sockets.configure(app(2));
  ListenSocket* first = ask(sockets, tcp(0, 0)).socket();
  REQUIRE(first);
  REQUIRE(ask(sockets, tcp(0, 1)).socket());
  CHECK(ask(sockets, tcp(0, 2)).error() == -EMFILE);
  CHECK(sockets.count("web") == 2);
  CHECK(sockets.refused("web", OnDemandSockets::Refusal::limit) == 1);
  // A socket it holds is shared, by any of its workers, whatever the limit.
  CHECK(ask(sockets, tcp(0, 0), 2).socket() == first);
}

TEST_CASE("on_demand = false refuses every query with EACCES") {
  boost::asio::io_context io;
  OnDemandSockets sockets(io);
  sockets.configure(app(64, 10s, false));
  CHECK(ask(sockets, tcp(0)).error() == -EACCES);
  CHECK(sockets.count("web") == 0);
  CHECK(sockets.refused("web", OnDemandSockets::Refusal::disabled) == 1);
}

TEST_CASE("a privileged port is refused to a worker not running as root, before any bind") {
  boost::asio::io_context io;
  OnDemandSockets sockets(io);
  sockets.configure(app());
  int start = daemon::unprivileged_port_start();
  if (start <= 1) return;  // no privileged ports on this host
  daemon::Credentials nobody{65534, 65534, {65534}};
  CHECK(ask(sockets, tcp(start - 1), 1, &nobody).error() == -EACCES);
  CHECK(sockets.refused("web", OnDemandSockets::Refusal::privileged) == 1);
  CHECK(sockets.count("web") == 0);
}

TEST_CASE("two apps asking for one address do not share a socket") {
  boost::asio::io_context io;
  OnDemandSockets sockets(io);
  sockets.configure(app());
  config::AppConfig other = app();
  other.name = "other";
  sockets.configure(other);
  ListenSocket* web = ask(sockets, tcp(0)).socket();
  REQUIRE(web);
  auto q = tcp(web->port());
  Asked asked;
  sockets.acquire("other", q, 7, nullptr, asked.done());
  CHECK(asked.error() == -EADDRINUSE);
}

TEST_CASE("a socket no worker uses is closed after on_demand_grace, not before") {
  boost::asio::io_context io;
  OnDemandSockets sockets(io);
  sockets.configure(app(64, 200ms));
  auto q = tcp(0);
  REQUIRE(ask(sockets, q, 1).socket());
  REQUIRE(ask(sockets, q, 2).socket());
  sockets.release("web", q.key, 1);
  run(io, 300ms);
  CHECK(sockets.count("web") == 1);  // worker 2 still uses it
  sockets.release_all("web", 2);
  run(io, 50ms);
  CHECK(sockets.count("web") == 1);  // within the grace
  run(io, 300ms);
  CHECK(sockets.count("web") == 0);
}

TEST_CASE("a socket used again within the grace stays open") {
  boost::asio::io_context io;
  OnDemandSockets sockets(io);
  sockets.configure(app(64, 200ms));
  auto q = tcp(0);
  ListenSocket* socket = ask(sockets, q, 1).socket();
  sockets.release_all("web", 1);
  run(io, 50ms);
  CHECK(ask(sockets, q, 2).socket() == socket);
  run(io, 300ms);
  CHECK(sockets.count("web") == 1);
}

TEST_CASE("a socket its worker could no longer take is closed after the grace") {
  boost::asio::io_context io;
  OnDemandSockets sockets(io);
  sockets.configure(app(64, 0ms));
  REQUIRE(ask(sockets, tcp(0), 1, nullptr, false).socket());
  run(io, 50ms);
  CHECK(sockets.count("web") == 0);
}

TEST_CASE("a unix path is bound in a child, and an existing file is never replaced") {
  TempDir dir;
  std::string path = dir.path + "/web.sock";
  auto result = bind_unix(path);
  REQUIRE(result.ok());
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  auto again = bind_unix(path);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().errno_value == EADDRINUSE);
  // The first one's file goes when it is removed.
  CHECK(result.value().file.remove());
  CHECK(::lstat(path.c_str(), &st) < 0);
  auto relative = bind_unix("web.sock");
  REQUIRE_FALSE(relative.ok());
  CHECK(relative.error().errno_value == EINVAL);
}

TEST_CASE("a socket file is removed where it was made, and only while it is the same one") {
  TempDir dir;
  std::string work = dir.path + "/work";
  REQUIRE(::mkdir(work.c_str(), 0755) == 0);
  auto bound = bind_unix(work + "/a.sock");
  REQUIRE(bound.ok());
  auto& file = bound.value().file;
  // The directory moves and a symlink to another takes its place, holding a
  // file of the same name: that file is not touched; ours is removed.
  std::string other = dir.path + "/other";
  REQUIRE(::mkdir(other.c_str(), 0755) == 0);
  REQUIRE(::rename(work.c_str(), (dir.path + "/moved").c_str()) == 0);
  REQUIRE(::symlink(other.c_str(), work.c_str()) == 0);
  std::filesystem::path victim = other + "/a.sock";
  {
    std::FILE* f = std::fopen(victim.c_str(), "w");
    REQUIRE(f);
    std::fclose(f);
  }
  CHECK(file.remove());
  CHECK(std::filesystem::exists(victim));
  CHECK_FALSE(std::filesystem::exists(dir.path + "/moved/a.sock"));

  // A different file in our socket's place is left alone.
  auto second = bind_unix(dir.path + "/b.sock");
  REQUIRE(second.ok());
  REQUIRE(::unlink((dir.path + "/b.sock").c_str()) == 0);
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string b = dir.path + "/b.sock";
  std::memcpy(addr.sun_path, b.c_str(), b.size() + 1);
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(s);
  CHECK_FALSE(second.value().file.remove());
  CHECK(std::filesystem::exists(b));
}
