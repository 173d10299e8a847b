// The V8 value decoder (ipc/v8_value.h) on hostile bytes, as a worker on an
// 'advanced' channel could send them, in both host-object layouts. Checked
// for every input it accepts: what it encodes back decodes again to the same
// value (the same JSON rendering), and the rendering, read back by
// from_json, encodes to something the decoder accepts.
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ipc/v8_json.h"
#include "ipc/v8_value.h"

namespace {

namespace json = boost::json;
namespace v8 = muster::ipc::v8;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "v8_value_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

void check(std::string_view bytes, v8::Host host) {
  auto value = v8::decode(bytes, host);
  if (!value.ok()) {
    if (value.error().message.empty()) fail("a refusal without words", "");
    return;
  }
  std::string rendering = json::serialize(v8::to_json(*value));
  std::string again = v8::encode(*value, host);
  auto decoded = v8::decode(again, host);
  if (!decoded.ok()) fail("re-encoding refused", decoded.error().message);
  if (json::serialize(v8::to_json(*decoded)) != rendering)
    fail("re-encoding changed the value", rendering);
  // A rendering may not read back (an object with a repeated key keeps one),
  // but what does read back must encode to bytes the decoder takes.
  auto parsed = v8::from_json(json::parse(rendering));
  if (!parsed.ok()) return;
  auto round = v8::decode(v8::encode(*parsed, host), host);
  if (!round.ok()) fail("from_json produced an undecodable value", round.error().message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check(bytes, v8::Host::v8_serialize);
  check(bytes, v8::Host::channel);
  return 0;
}
