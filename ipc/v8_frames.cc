#include "ipc/v8_frames.h"

#include <boost/json.hpp>

#include "ipc/v8_json.h"
#include "ipc/v8_value.h"

namespace muster::ipc {
namespace json = boost::json;

namespace {

// JSON.stringify's view of an object: an undefined member is left out.
void drop_undefined(json::value& v) {
  if (auto* o = v.if_object()) {
    for (auto it = o->begin(); it != o->end();) {
      const json::object* member = it->value().if_object();
      if (member && member->size() == 1 && member->contains("$undefined")) {
        it = o->erase(it);
      } else {
        drop_undefined(it->value());
        ++it;
      }
    }
  } else if (auto* a = v.if_array()) {
    for (json::value& item : *a) drop_undefined(item);
  }
}

}  // namespace

std::optional<std::string> FrameBuffer::next() {
  if (overflowed_) return std::nullopt;
  if (data_.size() - start_ < 4) return std::nullopt;
  auto byte = [&](std::size_t i) {
    return static_cast<std::size_t>(static_cast<unsigned char>(data_[start_ + i]));
  };
  std::size_t length = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
  if (length > max_payload_) {
    overflowed_ = true;
    return std::nullopt;
  }
  if (data_.size() - start_ - 4 < length) return std::nullopt;
  std::string payload = data_.substr(start_ + 4, length);
  start_ += 4 + length;
  if (start_ == data_.size() || start_ > (64 << 10)) {
    data_.erase(0, start_);
    start_ = 0;
  }
  return payload;
}

std::string FrameBuffer::take_rest() {
  std::string rest = data_.substr(start_);
  data_.clear();
  start_ = 0;
  return rest;
}

std::string v8_frame(std::string_view payload) {
  std::string frame;
  frame.reserve(4 + payload.size());
  auto n = static_cast<std::uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) frame += static_cast<char>(n >> shift & 0xFF);
  frame += payload;
  return frame;
}

Result<std::string> v8_frame_from_json(std::string_view json_text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(json_text, ec);
  if (ec) return Error{"not JSON: " + ec.message()};
  auto value = v8::from_json(parsed);
  if (!value) return value.error();
  return v8_frame(v8::encode(*value, v8::Host::channel));
}

Result<ChannelMessage> v8_payload_to_json(std::string_view payload) {
  auto value = v8::decode(payload, v8::Host::channel);
  if (!value) {
    const std::string& why = value.error().message;
    if (!why.starts_with("unsupported V8 value")) return value.error();
    return ChannelMessage{json::object{{"$unsupported", why}}, true};
  }
  ChannelMessage m{v8::to_json(*value)};
  const json::object* o = m.json.if_object();
  const json::value* cmd = o ? o->if_contains("cmd") : nullptr;
  if (cmd && cmd->is_string() && cmd->get_string().starts_with("NODE_")) drop_undefined(m.json);
  return m;
}

}  // namespace muster::ipc
