// Behaviours that fuzzing (fuzz/, scripts/fuzz) found broken, kept fixed.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include "ipc/control_protocol.h"
#include "ipc/line_buffer.h"
#include "ipc/node_channel.h"
#include "tests/support/recv_fds.h"

using muster::ipc::LineBuffer;
using muster::ipc::NodeChannel;
using muster::ipc::UniqueFd;
namespace json = boost::json;

namespace {

// A channel with the test as the worker, which reads only when asked to.
struct Channel {
  boost::asio::io_context io;
  UniqueFd worker;
  std::shared_ptr<NodeChannel> channel;
  std::optional<std::string> closed;
  std::optional<json::value> last;  // the last message from the worker

  Channel() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    worker.reset(sv[1]);
    channel = std::make_shared<NodeChannel>(io, UniqueFd(sv[0]));
    channel->start([this](json::value m, UniqueFd) { last = std::move(m); },
                   [this](const std::string& e) { closed = e; });
  }
  ~Channel() { channel->close(); }

  void write(const std::string& bytes) {
    REQUIRE(::send(worker.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
    io.poll();
  }
  // One recvmsg: the bytes and the fd that came with them (none: not set).
  std::pair<std::string, UniqueFd> read() {
    auto got = muster::testing::recv_fds(worker.get());
    UniqueFd fd;
    if (!got.fds.empty()) fd = std::move(got.fds.front());
    return {std::move(got.bytes), std::move(fd)};
  }
};

ino_t inode_of(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  return st.st_ino;
}

}  // namespace

TEST_CASE("a long line arriving a byte per read is split in linear time", "[fuzz][framing]") {
  // Each read used to search the whole partial line again: a worker or client
  // dribbling a 1 MiB line held the daemon's only thread for minutes.
  constexpr std::size_t kLength = 1 << 20;
  LineBuffer lines(kLength);
  auto start = std::chrono::steady_clock::now();
  bool early = false;
  for (std::size_t i = 0; i < kLength; ++i) {
    lines.append("x");
    early = early || lines.next_line().has_value();
  }
  CHECK_FALSE(early);
  lines.append("\n");
  auto line = lines.next_line();
  REQUIRE(line);
  CHECK(line->size() == kLength);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("chunked reading of a long dribbled line keeps every byte", "[fuzz][framing]") {
  LineBuffer lines(4);
  std::string seen;
  for (char c : std::string("abcdefghij\nkl\nmnopqrs")) {
    lines.append(std::string_view(&c, 1));
    while (auto piece = lines.next_line_or_chunk()) seen += *piece + "|";
  }
  seen += lines.take_rest();
  CHECK(seen == "abcd|efgh|ij|kl|mnop|qrs");
}

TEST_CASE("a handle keeps its own fd: the caller may close it before the worker gets it",
          "[fuzz][channel]") {
  // A worker can answer a newconn before it has the connection; the daemon
  // then closes its copy, and the number could name another connection by
  // the time the queued handle is written.
  Channel c;
  int first[2], second[2];
  REQUIRE(::pipe2(first, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(second, O_CLOEXEC) == 0);
  UniqueFd first_read(first[0]), first_write(first[1]), second_write(second[1]);
  ino_t second_inode = inode_of(second[0]);
  REQUIRE(c.channel->send(json::value{{"n", 1}}, first_read.get()));
  REQUIRE(c.channel->send(json::value{{"n", 2}}, second[0]));  // waits for the first ACK
  ::close(second[0]);
  int other[2];
  REQUIRE(::pipe2(other, O_CLOEXEC) == 0);  // likely reuses second[0]'s number
  UniqueFd other_read(other[0]), other_write(other[1]);
  auto [line, fd] = c.read();
  CHECK(line.find(R"("n":1)") != std::string::npos);
  c.write("{\"cmd\":\"NODE_HANDLE_ACK\"}\n");
  auto [line2, fd2] = c.read();
  CHECK(line2.find(R"("n":2)") != std::string::npos);
  REQUIRE(fd2);
  CHECK(inode_of(fd2.get()) == second_inode);
  CHECK_FALSE(c.closed);
}

TEST_CASE("an ACK for a handle the daemon has not written yet is a protocol error",
          "[fuzz][channel]") {
  Channel c;
  // Fill the socket so that the handle message stays queued on our side.
  std::string filler(256 * 1024, 'x');
  for (int i = 0; i < 8; ++i) REQUIRE(c.channel->send(json::value(filler)));
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  UniqueFd read_end(p[0]), write_end(p[1]);
  REQUIRE(c.channel->send(json::value{{"n", 1}}, read_end.get()));
  c.write("{\"cmd\":\"NODE_HANDLE_ACK\"}\n");
  c.io.poll();
  REQUIRE(c.closed);
  CHECK(*c.closed == "worker acknowledged a handle before receiving it");
}

TEST_CASE("NACKs from a worker that does not read end its channel", "[fuzz][channel]") {
  // Each NACK queues the handle again; with no bound the queue grew forever.
  Channel c;
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  UniqueFd read_end(p[0]), write_end(p[1]);
  REQUIRE(c.channel->send(json::value{{"n", 1}}, read_end.get()));
  std::string nacks;
  for (int i = 0; i < 100; ++i) nacks += "{\"cmd\":\"NODE_HANDLE_NACK\"}\n";
  for (int i = 0; i < 2000 && !c.closed; ++i) {
    if (::send(c.worker.get(), nacks.data(), nacks.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) break;
    c.io.poll();
  }
  c.io.poll();
  CHECK(c.closed);
}

TEST_CASE("a number too large for a double reaches a worker as null, not Infinity",
          "[fuzz][channel]") {
  // Boost.JSON writes an infinite double as `Infinity`, which kills a Node
  // worker (SyntaxError); Node's own round trip of 1e999 gives null.
  auto parsed = muster::ipc::parse_request(
      R"({"verb":"send","app":"web","message":{"n":1e999,"m":[-1e999,2]}})");
  REQUIRE(parsed.ok());
  auto* request = &*parsed;
  REQUIRE(request->message);
  CHECK(json::serialize(*request->message) == R"({"n":null,"m":[null,2]})");

  Channel c;
  c.write("{\"data\":{\"k\":1e400}}\n");
  REQUIRE(c.last);
  CHECK(json::serialize(*c.last) == R"({"data":{"k":null}})");
}
