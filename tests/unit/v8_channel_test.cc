// The Node channel in 'advanced' mode (ipc/node_channel.h, ipc/v8_frames.h):
// length-prefixed V8 values both ways, handles by SCM_RIGHTS as in json mode,
// cluster messages read as JSON.stringify would have sent them.
#include <sys/socket.h>
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <optional>
#include <string>

#include "ipc/node_channel.h"
#include "ipc/passed_fds.h"
#include "ipc/v8_frames.h"
#include "ipc/v8_json.h"
#include "ipc/v8_value.h"
#include "tests/support/recv_fds.h"

using muster::ipc::FrameBuffer;
using muster::ipc::NodeChannel;
using muster::ipc::Serialization;
using muster::ipc::UniqueFd;
namespace json = boost::json;
namespace v8 = muster::ipc::v8;

namespace {

// A frame as a Node worker writes it, from JSON with the rendering's $ forms.
std::string frame(std::string_view text) {
  auto f = muster::ipc::v8_frame_from_json(text);
  REQUIRE(f.ok());
  return *f;
}

// What a frame holds, rendered.
std::string rendered(std::string_view frame_bytes) {
  REQUIRE(frame_bytes.size() >= 4);
  auto v = v8::decode(frame_bytes.substr(4), v8::Host::channel);
  REQUIRE(v.ok());
  return json::serialize(v8::to_json(*v));
}

struct Channel {
  boost::asio::io_context io;
  UniqueFd worker;
  std::shared_ptr<NodeChannel> channel;
  std::optional<std::string> closed;
  std::vector<std::pair<std::string, bool>> got;  // rendering, came with an fd
  std::string payload;                            // the last one's V8 bytes

  Channel() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    worker.reset(sv[1]);
    channel = std::make_shared<NodeChannel>(io, UniqueFd(sv[0]), Serialization::advanced);
    channel->start(
        [this](json::value m, UniqueFd fd) {
          got.emplace_back(json::serialize(m), bool(fd));
          payload = channel->v8_payload();
        },
        [this](const std::string& e) { closed = e; });
  }
  ~Channel() { channel->close(); }

  void write(const std::string& bytes, int fd = -1) {
    REQUIRE(muster::ipc::send_with_fd(worker.get(), bytes.data(), bytes.size(), fd, MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
    io.poll();
  }
};

}  // namespace

TEST_CASE("frames are split from a stream however the reads fall", "[v8_channel]") {
  std::string a = frame(R"({"a":1})"), b = frame(R"({"$buffer":"AAE="})");
  std::string stream = a + b;
  FrameBuffer frames(1 << 20);
  std::vector<std::string> out;
  for (char c : stream) {
    frames.append(std::string_view(&c, 1));
    while (auto p = frames.next()) out.push_back(*p);
  }
  REQUIRE(out.size() == 2);
  CHECK(out[0] == a.substr(4));
  CHECK(out[1] == b.substr(4));
}

TEST_CASE("a frame announced over 1 MiB overflows at once", "[v8_channel]") {
  FrameBuffer frames(1 << 20);
  frames.append(std::string("\x00\x10\x00\x01", 4));
  CHECK_FALSE(frames.next());
  CHECK(frames.overflowed());
}

TEST_CASE("an advanced worker's messages reach the daemon as JSON", "[v8_channel]") {
  Channel c;
  c.write(frame(R"({"cmd":"NODE_CLUSTER","act":"online","fd":{"$undefined":true},"seq":0})") +
          frame(R"({"b":{"$buffer":"aGk="},"u":{"$undefined":true}})"));
  REQUIRE(c.got.size() == 2);
  // Node's own messages as JSON.stringify would have sent them.
  CHECK(c.got[0].first == R"({"cmd":"NODE_CLUSTER","act":"online","seq":0})");
  // A user message in the documented rendering, with its bytes as they came.
  CHECK(c.got[1].first == R"({"b":{"$buffer":"aGk="},"u":{"$undefined":true}})");
  CHECK(muster::ipc::v8_frame(c.payload) ==
        frame(R"({"b":{"$buffer":"aGk="},"u":{"$undefined":true}})"));
}

TEST_CASE("a handle comes with its NODE_HANDLE frame and is ACKed in V8", "[v8_channel]") {
  Channel c;
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  UniqueFd a(pair[0]), b(pair[1]);
  c.write(frame(R"({"cmd":"NODE_HANDLE","type":"net.Native","msg":{"x":1}})"), a.get());
  REQUIRE(c.got.size() == 1);
  CHECK(c.got[0] == std::make_pair(std::string(R"({"x":1})"), true));
  auto ack = muster::testing::recv_fds(c.worker.get());
  CHECK(rendered(ack.bytes) == R"({"cmd":"NODE_HANDLE_ACK"})");
}

TEST_CASE("the daemon's messages and handles go to an advanced worker as V8 frames",
          "[v8_channel]") {
  Channel c;
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  UniqueFd a(pair[0]), b(pair[1]);
  REQUIRE(
      c.channel->send(json::parse(R"({"cmd":"NODE_CLUSTER","act":"newconn","seq":1})"), a.get()));
  c.io.poll();
  auto got = muster::testing::recv_fds(c.worker.get());
  REQUIRE(got.fds.size() == 1);
  CHECK(
      rendered(got.bytes) ==
      R"({"cmd":"NODE_HANDLE","type":"net.Native","msg":{"cmd":"NODE_CLUSTER","act":"newconn","seq":1}})");
  c.write(frame(R"({"cmd":"NODE_HANDLE_ACK"})"));
  CHECK_FALSE(c.closed);
  // A message that does not convert is not sent; the channel stays.
  CHECK_FALSE(c.channel->send_serialized(R"({"$nope":1})"));
  CHECK(c.channel->conversion_error().starts_with("unknown \"$nope\""));
  CHECK(c.channel->is_open());
  // A relayed payload goes as it came.
  std::string raw = frame(R"({"m":{"$map":[[1,2]]}})");
  REQUIRE(c.channel->send_v8(raw.substr(4)));
  c.io.poll();
  CHECK(muster::testing::recv_fds(c.worker.get()).bytes == raw);
}

TEST_CASE("an unsupported value is passed on; a broken frame breaks the channel", "[v8_channel]") {
  Channel c;
  std::string error_value = std::string("\xFF\x0Fr", 3);  // V8's tag for an Error
  c.write(muster::ipc::v8_frame(error_value));
  REQUIRE(c.got.size() == 1);
  CHECK(c.got[0].first == R"x({"$unsupported":"unsupported V8 value: tag 'r' (0x72, Error)"})x");
  CHECK(c.payload == error_value);
  c.write(muster::ipc::v8_frame("not V8"));
  REQUIRE(c.closed);
  CHECK(c.closed->starts_with("worker sent an unreadable V8 message"));
}
