// Node's 'advanced' IPC framing (lib/internal/child_process/serialization.js):
// each message is a 4-byte big-endian length, then V8's header and value as
// ChildProcessSerializer writes them. The channel (ipc/node_channel) keeps
// speaking JSON to the daemon; these convert at the wire.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace muster::ipc {

// Splits the stream into message payloads (the bytes after each length).
class FrameBuffer {
 public:
  explicit FrameBuffer(std::size_t max_payload) : max_payload_(max_payload) {}
  void append(std::string_view bytes) { data_.append(bytes); }
  // The next whole payload, or nullopt; once a length is over the bound,
  // overflowed() turns true and no more come.
  std::optional<std::string> next();
  bool overflowed() const { return overflowed_; }
  std::size_t buffered() const { return data_.size() - start_; }
  // Whatever is buffered and not yet returned (part of a frame, or frames
  // not yet asked for), for a channel handed over to a new one (which starts
  // by append()ing it).
  std::string take_rest();

 private:
  std::size_t max_payload_;
  std::string data_;
  std::size_t start_ = 0;
  bool overflowed_ = false;
};

// The length prefix and `payload`.
std::string v8_frame(std::string_view payload);
// A message given as JSON text (with v8_json.h's `$` forms) as a frame.
Result<std::string> v8_frame_from_json(std::string_view json_text);

// A payload as the daemon reads it: a message whose "cmd" starts with NODE_
// (Node-internal, the cluster protocol) as JSON.stringify would have sent it
// (undefined members left out); any other in v8_json.h's rendering.
// `unsupported` is set, and the value is {"$unsupported": why}, for a
// well-framed message holding a value muster does not read (an Error...):
// it can still be relayed as it came.
struct ChannelMessage {
  boost::json::value json;
  bool unsupported = false;
};
Result<ChannelMessage> v8_payload_to_json(std::string_view payload);

}  // namespace muster::ipc
