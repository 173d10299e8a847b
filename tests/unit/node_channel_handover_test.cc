// Handing a Node channel over to a new NodeChannel (ipc/node_channel.h, for
// musterd upgrading itself in place, issue 25), over a real socketpair with
// the test playing the worker: every message arrives once, in order, however
// the hand-over cuts the stream; only a quiet channel goes.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ipc/node_channel.h"
#include "ipc/passed_fds.h"
#include "ipc/v8_frames.h"
#include "tests/support/recv_fds.h"
#include "tests/support/run_until.h"

// In the channel's namespace: the test speaks of its types by their names.
namespace muster::ipc {
namespace {

namespace json = boost::json;
using testing::run_for;
using testing::run_until;

// One daemon-side channel and what came out of it.
struct Side {
  std::shared_ptr<NodeChannel> channel;
  std::vector<std::string> got;  // each message, serialised
  std::optional<std::string> closed;
  // Runs after a message is recorded (e.g. to hand the channel over there).
  std::function<void()> after_message;

  void start() {
    channel->start(
        [this](json::value m, UniqueFd) {
          got.push_back(json::serialize(m));
          if (after_message) after_message();
        },
        [this](const std::string& e) { closed = e; });
  }
};

struct Fixture {
  boost::asio::io_context io;
  UniqueFd worker;  // the test's end
  Side old_side, new_side;

  explicit Fixture(Serialization s = Serialization::json) {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    worker.reset(sv[1]);
    old_side.channel = std::make_shared<NodeChannel>(io, UniqueFd(sv[0]), s);
    old_side.start();
  }
  ~Fixture() {
    for (Side* side : {&old_side, &new_side})
      if (side->channel) side->channel->close();
  }

  void write(const std::string& bytes, int fd = -1) {
    REQUIRE(send_with_fd(worker.get(), bytes.data(), bytes.size(), fd, MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // Everything the daemon side has written so far.
  std::string read_all() {
    std::string data;
    for (auto got = testing::recv_fds(worker.get()); got.n > 0;
         got = testing::recv_fds(worker.get()))
      data += got.bytes;
    return data;
  }
  // The new channel, taking over from `handover`, started.
  void take_over(NodeChannel::Handover handover) {
    new_side.channel = std::make_shared<NodeChannel>(io, std::move(handover));
    new_side.start();
  }
  bool got(Side& side, std::size_t n) {
    return run_until(io, [&] { return side.got.size() >= n || side.closed; });
  }
};

std::string frame(std::string_view json_text) {
  auto f = v8_frame_from_json(json_text);
  REQUIRE(f.ok());
  return *f;
}

int dev_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

using Messages = std::vector<std::string>;

}  // namespace

TEST_CASE("a line cut by the hand-over is delivered once, by the new channel", "[handover]") {
  Fixture f;
  f.write("{\"n\":1}\n{\"n\":2");
  REQUIRE(f.got(f.old_side, 1));
  auto handover = f.old_side.channel->hand_over();
  REQUIRE(handover.ok());
  CHECK(handover->unread == R"({"n":2)");
  f.write("}\n{\"n\":3}\n");
  run_for(f.io);
  CHECK(f.old_side.got == Messages{R"({"n":1})"});
  f.take_over(std::move(*handover));
  REQUIRE(f.got(f.new_side, 2));
  run_for(f.io);
  CHECK(f.new_side.got == Messages{R"({"n":2})", R"({"n":3})"});
  CHECK_FALSE(f.old_side.closed);
  CHECK_FALSE(f.new_side.closed);
}

TEST_CASE("whole lines not yet dispatched at the hand-over come out of the new channel",
          "[handover]") {
  Fixture f;
  std::optional<Result<NodeChannel::Handover>> handover;
  // Handed over from inside the handler of the first message of a read that
  // holds three and a half.
  f.old_side.after_message = [&] { handover = f.old_side.channel->hand_over(); };
  f.write("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\"");
  REQUIRE(f.got(f.old_side, 1));
  run_for(f.io);
  REQUIRE(handover);
  REQUIRE(handover->ok());
  CHECK((*handover)->unread == "{\"n\":2}\n{\"n\":3}\n{\"n\"");
  f.take_over(std::move(**handover));
  REQUIRE(f.got(f.new_side, 2));
  f.write(":4}\n");
  REQUIRE(f.got(f.new_side, 3));
  run_for(f.io);
  CHECK(f.old_side.got == Messages{R"({"n":1})"});
  CHECK(f.new_side.got == Messages{R"({"n":2})", R"({"n":3})", R"({"n":4})"});
}

TEST_CASE("V8 frames whole and cut at the hand-over come out of the new channel once",
          "[handover]") {
  Fixture f(Serialization::advanced);
  std::optional<Result<NodeChannel::Handover>> handover;
  f.old_side.after_message = [&] { handover = f.old_side.channel->hand_over(); };
  std::string four = frame(R"({"n":4,"s":"four"})");
  // Cut inside the length prefix: the new channel does not even know the size yet.
  f.write(frame(R"({"n":1})") + frame(R"({"n":2})") + frame(R"({"n":3})") + four.substr(0, 2));
  REQUIRE(f.got(f.old_side, 1));
  run_for(f.io);
  REQUIRE(handover);
  REQUIRE(handover->ok());
  CHECK((*handover)->serialization == Serialization::advanced);
  f.take_over(std::move(**handover));
  REQUIRE(f.got(f.new_side, 2));
  f.write(four.substr(2));
  REQUIRE(f.got(f.new_side, 3));
  run_for(f.io);
  CHECK(f.old_side.got == Messages{R"({"n":1})"});
  CHECK(f.new_side.got == Messages{R"({"n":2})", R"({"n":3})", R"({"n":4,"s":"four"})"});
  // And the new channel speaks V8 to the worker too.
  REQUIRE(f.new_side.channel->send(json::parse(R"({"back":true})")));
  CHECK(f.read_all() == frame(R"({"back":true})"));
}

TEST_CASE("a channel with bytes queued for the worker is not handed over until they are sent",
          "[handover]") {
  Fixture f;
  // The worker does not read: the socket fills, the rest waits in the outbox.
  std::string big = json::serialize(json::value(std::string(512 * 1024, 'x')));
  for (int i = 0; i < 64 && f.old_side.channel->queued_bytes() == 0; ++i)
    REQUIRE(f.old_side.channel->send_serialized(big));
  REQUIRE(f.old_side.channel->queued_bytes() > 0);
  CHECK_FALSE(f.old_side.channel->quiet());
  auto refused = f.old_side.channel->hand_over();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("not yet written") != std::string::npos);
  // Refused, it goes on: once the worker has read everything it is quiet.
  std::string read;
  run_until(f.io, [&] {
    read += f.read_all();
    return f.old_side.channel->quiet();
  });
  read += f.read_all();
  CHECK(read.size() % (big.size() + 1) == 0);
  CHECK(f.old_side.channel->hand_over().ok());
}

TEST_CASE("a handle awaiting its ACK, or waiting behind one, holds the hand-over back",
          "[handover]") {
  Fixture f;
  UniqueFd a(dev_null()), b(dev_null());
  REQUIRE(f.old_side.channel->send(json::parse(R"({"h":1})"), a.get()));
  REQUIRE(f.old_side.channel->send(json::parse(R"({"h":2})"), b.get()));
  CHECK_FALSE(f.old_side.channel->quiet());
  auto refused = f.old_side.channel->hand_over();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("ACK") != std::string::npos);
  f.read_all();
  f.write("{\"cmd\":\"NODE_HANDLE_ACK\"}\n");
  run_for(f.io);
  CHECK_FALSE(f.old_side.channel->quiet());  // the second one is in flight now
  f.read_all();
  f.write("{\"cmd\":\"NODE_HANDLE_ACK\"}\n");
  REQUIRE(run_until(f.io, [&] { return f.old_side.channel->quiet(); }));
  CHECK(f.old_side.channel->hand_over().ok());
  CHECK_FALSE(f.old_side.closed);
}

TEST_CASE("a received descriptor whose NODE_HANDLE line is not whole holds the hand-over back",
          "[handover]") {
  Fixture f;
  UniqueFd fd(dev_null());
  // The fd rides on the first byte of its line; the line comes in two.
  f.write(R"({"cmd":"NODE_HANDLE","type":"net.Native",)", fd.get());
  run_for(f.io);
  CHECK_FALSE(f.old_side.channel->quiet());
  auto refused = f.old_side.channel->hand_over();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("not yet claimed") != std::string::npos);
  f.write("\"msg\":{\"h\":1}}\n");
  REQUIRE(f.got(f.old_side, 1));
  CHECK(f.read_all() == "{\"cmd\":\"NODE_HANDLE_ACK\"}\n");
  CHECK(f.old_side.channel->quiet());
  CHECK(f.old_side.channel->hand_over().ok());
}

TEST_CASE("a channel handed over runs no handler and leaves the socket open", "[handover]") {
  Fixture f;
  auto handover = f.old_side.channel->hand_over();  // its read is pending
  REQUIRE(handover.ok());
  CHECK_FALSE(f.old_side.channel->is_open());
  f.write("{\"n\":1}\n");
  run_for(f.io);
  CHECK(f.old_side.got.empty());
  CHECK_FALSE(f.old_side.closed);
  CHECK_FALSE(f.old_side.channel->hand_over().ok());  // once only
  f.old_side.channel->close();                        // no effect on a socket it no longer holds
  f.old_side.channel.reset();
  run_for(f.io);
  // The worker sees no end of stream: nothing to read, and its writes go through.
  char byte;
  CHECK(::recv(f.worker.get(), &byte, 1, MSG_DONTWAIT) < 0);
  CHECK(errno == EAGAIN);
  CHECK(::fcntl(handover->fd.get(), F_GETFD) >= 0);
  // Now the hand-over holds the last copy of our end: dropping it ends the
  // stream (a reset, as the line the worker wrote was never read).
  handover->fd.reset();
  CHECK(::recv(f.worker.get(), &byte, 1, MSG_DONTWAIT) < 0);
  CHECK(errno == ECONNRESET);
}

TEST_CASE("the new channel carries messages and handles both ways", "[handover]") {
  Fixture f;
  auto handover = f.old_side.channel->hand_over();
  REQUIRE(handover.ok());
  CHECK(handover->unread.empty());
  f.take_over(std::move(*handover));
  UniqueFd fd(dev_null());
  REQUIRE(f.new_side.channel->send(json::parse(R"({"to":"worker"})"), fd.get()));
  auto sent = testing::recv_fds(f.worker.get());
  CHECK(sent.bytes ==
        "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"to\":\"worker\"}}\n");
  CHECK(sent.fds.size() == 1);
  f.write("{\"cmd\":\"NODE_HANDLE_ACK\"}\n{\"to\":\"daemon\"}\n");
  REQUIRE(f.got(f.new_side, 1));
  CHECK(f.new_side.got == Messages{R"({"to":"daemon"})"});
  CHECK(f.new_side.channel->quiet());
  CHECK_FALSE(f.new_side.closed);
}

}  // namespace muster::ipc
