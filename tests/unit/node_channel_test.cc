// The daemon's end of the Node IPC channel, driven over a real socketpair with
// the test playing the worker.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <chrono>
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
    channel->start(
        [this](json::value m, UniqueFd fd) {
          got.push_back({std::move(m), bool(fd)});
        },
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

  // Runs until the channel is closed, at most 5 s: on a loaded box the
  // reads of a big write take longer than one run().
  void run_until_closed() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!closed && std::chrono::steady_clock::now() < deadline) run();
  }
};

int dev_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

}  // namespace

TEST_CASE("messages split across writes and batched in one arrive whole", "[channel]") {
  Fixture f;
  f.write(R"({"cmd":"NODE_CLUSTER","act":"online","seq":0})"
          "\n"
          R"({"a")");
  f.run();
  f.write(R"(:1})"
          "\n"
          R"("just a string")"
          "\n");
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
  f.write(R"({"cmd":"NODE_HANDLE","type":"net.Native","msg":{"hello":1}})"
          "\n",
          fd);
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
  f.write(R"({"cmd":"NODE_HANDLE","type":"net.Native","msg":{}})"
          "\n");
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
  f.run_until_closed();
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

  f.write(R"({"cmd":"NODE_HANDLE_NACK"})"
          "\n");
  f.run();
  std::tie(lines, fds) = f.read_all();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(R"("n":1)") != std::string::npos);
  CHECK(fds == 1);

  f.write(R"({"cmd":"NODE_HANDLE_ACK"})"
          "\n");
  f.run();
  std::tie(lines, fds) = f.read_all();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(R"("n":2)") != std::string::npos);
  CHECK(fds == 1);
  ::close(fd);
}

TEST_CASE("an ACK for nothing is a protocol error", "[channel]") {
  Fixture f;
  f.write(R"({"cmd":"NODE_HANDLE_ACK"})"
          "\n");
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

namespace {

// Descriptors open in this process right now.
int open_fds() {
  int n = 0;
  for (int fd = 0; fd < 4096; ++fd)
    if (::fcntl(fd, F_GETFD) >= 0) ++n;
  return n;
}

ino_t inode(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  return st.st_ino;
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

// Reads one batch from the worker's end: the lines and the inodes of the fds that came.
std::pair<std::string, std::vector<ino_t>> take(int worker) {
  auto got = muster::testing::recv_fds(worker);
  std::vector<ino_t> inodes;
  for (auto& fd : got.fds) inodes.push_back(inode(fd.get()));
  return {got.bytes, inodes};
}

// Lends `fd` with the handle message {"n":n} and lets the channel write.
void lend(Fixture& f, int fd, int n) {
  std::string line = R"({"cmd":"NODE_HANDLE","type":"net.Native","msg":{"n":)";
  REQUIRE(f.channel->lend(line + std::to_string(n) + "}}", fd));
  f.run();
}

}  // namespace

TEST_CASE("a lent handle is sent without a copy and stays the lender's after the ACK",
          "[channel]") {
  Fixture f;
  int fd = dev_null();
  ino_t sent = inode(fd);
  int before = open_fds();
  lend(f, fd, 1);
  CHECK(open_fds() == before);  // no duplicate while it is in flight
  CHECK(f.channel->lent(fd));
  auto [bytes, inodes] = take(f.worker);
  CHECK(bytes.find(R"("n":1)") != std::string::npos);
  CHECK(inodes == std::vector<ino_t>{sent});
  f.write(R"({"cmd":"NODE_HANDLE_ACK"})"
          "\n");
  f.run();
  CHECK_FALSE(f.channel->lent(fd));
  CHECK(is_open(fd));  // the channel closes nothing it was lent
  CHECK(open_fds() == before);
  CHECK_FALSE(f.closed);
  ::close(fd);
}

TEST_CASE("a NACK resends the same lent descriptor, still open", "[channel]") {
  Fixture f;
  int fd = dev_null();
  ino_t sent = inode(fd);
  int before = open_fds();
  lend(f, fd, 1);
  CHECK(take(f.worker).second == std::vector<ino_t>{sent});
  f.write(R"({"cmd":"NODE_HANDLE_NACK"})"
          "\n");
  f.run();
  auto [bytes, inodes] = take(f.worker);
  CHECK(bytes.find(R"("n":1)") != std::string::npos);
  CHECK(inodes == std::vector<ino_t>{sent});
  CHECK(open_fds() == before);
  f.write(R"({"cmd":"NODE_HANDLE_ACK"})"
          "\n");
  f.run();
  CHECK(is_open(fd));
  CHECK_FALSE(f.closed);
  ::close(fd);
}

TEST_CASE("a lender that lets go before the ACK leaves the channel its own copy", "[channel]") {
  // A worker can answer a newconn before it has the connection; the daemon
  // then closes (or re-queues) its connection, and the number could name
  // another one by the time the queued handle is written.
  Fixture f;
  int first = dev_null(), second = dev_null();
  ino_t second_inode = inode(second);
  lend(f, first, 1);
  lend(f, second, 2);  // waits for the first one's ACK
  take(f.worker);
  int before = open_fds();
  REQUIRE(f.channel->keep(second));
  CHECK(open_fds() == before + 1);
  CHECK_FALSE(f.channel->lent(second));
  ::close(second);
  int other = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);  // likely takes second's number
  f.write(R"({"cmd":"NODE_HANDLE_ACK"})"
          "\n");
  f.run();
  auto [bytes, inodes] = take(f.worker);
  CHECK(bytes.find(R"("n":2)") != std::string::npos);
  CHECK(inodes == std::vector<ino_t>{second_inode});
  f.write(R"({"cmd":"NODE_HANDLE_ACK"})"
          "\n");
  f.run();
  CHECK(open_fds() == before);  // the copy is closed at its ACK, once
  CHECK(is_open(first));
  CHECK(is_open(other));
  CHECK_FALSE(f.closed);
  ::close(first);
  ::close(other);
}

TEST_CASE("a handle given to the channel is closed once, at its ACK", "[channel]") {
  Fixture f;
  int before = open_fds();
  UniqueFd given(dev_null());
  int number = given.get();
  REQUIRE(f.channel->send_serialized(R"({"cmd":"NODE_HANDLE","type":"net.Native","msg":{}})",
                                     std::move(given)));
  f.run();
  take(f.worker);
  CHECK(is_open(number));
  f.write(R"({"cmd":"NODE_HANDLE_ACK"})"
          "\n");
  f.run();
  CHECK_FALSE(is_open(number));
  CHECK(open_fds() == before);
  CHECK_FALSE(f.closed);
}
