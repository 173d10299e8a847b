// The daemon's end of the Node IPC channel, driven over a real socketpair with
// the test playing the worker.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "ipc/node_channel.h"
#include "ipc/passed_fds.h"
#include "tests/support/recv_fds.h"

using muster::ipc::NodeChannel;
using muster::ipc::UniqueFd;
namespace json = boost::json;

namespace {

struct Received {
  json::value message;
  bool had_fd;
};

struct Fixture {
  boost::asio::io_context io;
  int worker = -1;  // the test's end
  std::shared_ptr<NodeChannel> channel;
  std::vector<Received> got;
  std::optional<std::string> closed;

  Fixture() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    worker = sv[1];
    channel = std::make_shared<NodeChannel>(io, UniqueFd(sv[0]));
    channel->start([this](json::value m, UniqueFd fd) { got.push_back({std::move(m), bool(fd)}); },
                   [this](const std::string& error) { closed = error; });
  }
  ~Fixture() {
    channel->close();
    ::close(worker);
  }

  void write(const std::string& bytes, int fd = -1) {
    REQUIRE(muster::ipc::send_with_fd(worker, bytes.data(), bytes.size(), fd, 0) ==
            static_cast<ssize_t>(bytes.size()));
  }

  // Reads what the daemon side sent: lines, and how many fds came with them.
  std::pair<std::vector<std::string>, int> read_all() {
    std::string data;
    int fds = 0;
    for (;;) {
      auto got = muster::testing::recv_fds(worker);  // the fds are closed with it
      if (got.n <= 0) break;
      fds += static_cast<int>(got.fds.size());
      data += got.bytes;
    }
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (auto nl = data.find('\n'); nl != std::string::npos; nl = data.find('\n', start)) {
      lines.push_back(data.substr(start, nl - start));
      start = nl + 1;
    }
    return {lines, fds};
  }

  void run() {
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
  }
};

int dev_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

}  // namespace

TEST_CASE("messages split across writes and batched in one arrive whole", "[channel]") {
  Fixture f;
  f.write(R"({"cmd":"NODE_CLUSTER","act":"online","seq":0})" "\n" R"({"a")");
  f.run();
  f.write(R"(:1})" "\n" R"("just a string")" "\n");
  f.run();
  REQUIRE(f.got.size() == 3);
  CHECK(f.got[0].message.at("act") == "online");
  CHECK(f.got[1].message.at("a") == 1);
  CHECK(f.got[2].message == "just a string");
  CHECK_FALSE(f.closed);
}

TEST_CASE("a NODE_HANDLE with its fd is unwrapped and acknowledged", "[channel]") {
  Fixture f;
  int fd = dev_null();
  f.write(R"({"cmd":"NODE_HANDLE","type":"net.Native","msg":{"hello":1}})" "\n", fd);
  ::close(fd);
  f.run();
  REQUIRE(f.got.size() == 1);
  CHECK(f.got[0].had_fd);
  CHECK(f.got[0].message.at("hello") == 1);
  auto [lines, fds] = f.read_all();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == R"({"cmd":"NODE_HANDLE_ACK"})");
}

TEST_CASE("a NODE_HANDLE without an fd is a protocol error", "[channel]") {
  Fixture f;
  f.write(R"({"cmd":"NODE_HANDLE","type":"net.Native","msg":{}})" "\n");
  f.run();
  REQUIRE(f.closed);
  CHECK(f.closed->find("without a file descriptor") != std::string::npos);
}

TEST_CASE("invalid JSON closes the channel with a reason", "[channel]") {
  Fixture f;
  f.write("not json\n");
  f.run();
  REQUIRE(f.closed);
  CHECK(f.closed->find("invalid JSON") != std::string::npos);
}

TEST_CASE("a line over the limit closes the channel instead of growing", "[channel]") {
  Fixture f;
  std::string big(NodeChannel::kMaxLine + 10, 'x');
  for (std::size_t off = 0; off < big.size() && !f.closed; off += 65536) {
    f.write(big.substr(off, 65536));
    f.run();
  }
  REQUIRE(f.closed);
  CHECK(f.closed->find("over 1 MiB") != std::string::npos);
}

TEST_CASE("the worker closing its end is a clean close", "[channel]") {
  Fixture f;
  ::shutdown(f.worker, SHUT_WR);
  f.run();
  REQUIRE(f.closed);
  CHECK(f.closed->empty());
}

TEST_CASE("handle messages wait for the previous one's ACK; a NACK resends", "[channel]") {
  Fixture f;
  int fd = dev_null();
  f.channel->send(json::object{{"n", 1}}, fd);
  f.channel->send(json::object{{"n", 2}}, fd);
  f.channel->send(json::object{{"plain", true}});  // not held back
  f.run();
  auto [lines, fds] = f.read_all();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == R"({"cmd":"NODE_HANDLE","type":"net.Native","msg":{"n":1}})");
  CHECK(lines[1] == R"({"plain":true})");
  CHECK(fds == 1);

  f.write(R"({"cmd":"NODE_HANDLE_NACK"})" "\n");
  f.run();
  std::tie(lines, fds) = f.read_all();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(R"("n":1)") != std::string::npos);
  CHECK(fds == 1);

  f.write(R"({"cmd":"NODE_HANDLE_ACK"})" "\n");
  f.run();
  std::tie(lines, fds) = f.read_all();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(R"("n":2)") != std::string::npos);
  CHECK(fds == 1);
  ::close(fd);
}

TEST_CASE("an ACK for nothing is a protocol error", "[channel]") {
  Fixture f;
  f.write(R"({"cmd":"NODE_HANDLE_ACK"})" "\n");
  f.run();
  REQUIRE(f.closed);
}

TEST_CASE("fds sent without NODE_HANDLE messages are bounded", "[channel]") {
  Fixture f;
  int fd = dev_null();
  for (std::size_t i = 0; i <= NodeChannel::kMaxFdsInFlight && !f.closed; ++i) {
    f.write("{}\n", fd);
    f.run();
  }
  ::close(fd);
  REQUIRE(f.closed);
}
