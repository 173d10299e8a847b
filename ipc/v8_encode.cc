// Writing V8's value-serialization format as Node's serializer does
// (v8/src/objects/value-serializer.cc, ValueSerializer; lib/v8.js and
// lib/internal/child_process/serialization.js for host objects), so a value
// decoded from Node's bytes encodes back to the same bytes.
#include <cmath>
#include <cstring>

#include "ipc/v8_tags.h"
#include "ipc/v8_value.h"

namespace muster::ipc::v8 {
namespace {

class Writer {
 public:
  explicit Writer(Host host) : host_(host) {}

  std::string message(const Value& v) {
    out_ += static_cast<char>(tag::kVersion);
    varint(kVersion);
    value(v);
    return std::move(out_);
  }

 private:
  void byte(std::uint8_t b) { out_ += static_cast<char>(b); }
  void varint(std::uint64_t n) {
    do {
      std::uint8_t b = n & 0x7f;
      n >>= 7;
      byte(n ? b | 0x80 : b);
    } while (n);
  }
  void float64(double d) {
    char b[8];
    std::memcpy(b, &d, 8);
    out_.append(b, 8);
  }
  void int32(std::int32_t n) {
    byte(tag::kInt32);
    auto u = static_cast<std::uint32_t>(n);
    varint((u << 1) ^ (0u - (u >> 31)));  // zigzag
  }

  void value(const Value& v);
  void string(std::string_view utf8);
  void key(const std::string& k);
  void properties(const Value& v, std::size_t from);
  void array(const Value& v);
  void collection(const Value& v);
  void view(const Value& v);

  std::string out_;
  Host host_;
};

void Writer::value(const Value& v) {
  switch (v.kind) {
    case Kind::undefined: return byte(tag::kUndefined);
    case Kind::null: return byte(tag::kNull);
    case Kind::hole: return byte(tag::kTheHole);
    case Kind::boolean: return byte(v.flag ? tag::kTrue : tag::kFalse);
    case Kind::int32: return int32(static_cast<std::int32_t>(v.number));
    case Kind::number: byte(tag::kDouble); return float64(v.number);
    case Kind::bigint:
      byte(tag::kBigInt);
      varint(static_cast<std::uint64_t>(v.bytes.size()) << 1 | (v.flag ? 1 : 0));
      out_ += v.bytes;
      return;
    case Kind::string: return string(v.bytes);
    case Kind::ref: byte(tag::kObjectReference); return varint(v.count);
    case Kind::date: byte(tag::kDate); return float64(v.number);
    case Kind::regexp:
      byte(tag::kRegExp);
      string(v.bytes);
      return varint(v.count);
    case Kind::object:
      byte(tag::kBeginObject);
      properties(v, 0);
      byte(tag::kEndObject);
      return varint(v.items.size() / 2);
    case Kind::array: return array(v);
    case Kind::map:
    case Kind::set: return collection(v);
    case Kind::view: return view(v);
  }
}

void Writer::string(std::string_view utf8) {
  std::string latin1;
  if (utf8_to_latin1(utf8, latin1)) {
    byte(tag::kOneByteString);
    varint(latin1.size());
    out_ += latin1;
    return;
  }
  std::string utf16 = utf8_to_utf16le(utf8);
  // V8 aligns two-byte strings: the characters start at an even offset.
  std::size_t varint_size = 1;
  for (std::size_t n = utf16.size(); n >= 0x80; n >>= 7) ++varint_size;
  if ((out_.size() + 1 + varint_size) & 1) byte(tag::kPadding);
  byte(tag::kTwoByteString);
  varint(utf16.size());
  out_ += utf16;
}

// An array index (below 2^32 - 1, without leading zeros) is written as a
// number, as V8 does: an int32 while it fits, a double above.
void Writer::key(const std::string& k) {
  bool index = !k.empty() && k.size() <= 10 && (k == "0" || k[0] != '0') &&
               k.find_first_not_of("0123456789") == std::string::npos;
  std::uint64_t n = index ? std::stoull(k) : 0;
  if (!index || n >= 4294967295ull) return string(k);
  if (n <= INT32_MAX) return int32(static_cast<std::int32_t>(n));
  byte(tag::kDouble);
  float64(static_cast<double>(n));
}

void Writer::properties(const Value& v, std::size_t from) {
  for (std::size_t i = from; i + 1 < v.items.size(); i += 2) {
    key(v.items[i].bytes);
    value(v.items[i + 1]);
  }
}

void Writer::array(const Value& v) {
  if (!v.flag) {
    byte(tag::kBeginSparseArray);
    varint(v.count);
    properties(v, 0);
    byte(tag::kEndSparseArray);
    varint(v.items.size() / 2);
    return varint(v.count);
  }
  byte(tag::kBeginDenseArray);
  varint(v.count);
  for (std::size_t i = 0; i < v.count && i < v.items.size(); ++i) value(v.items[i]);
  properties(v, v.count);
  byte(tag::kEndDenseArray);
  varint((v.items.size() - std::min<std::size_t>(v.count, v.items.size())) / 2);
  varint(v.count);
}

void Writer::collection(const Value& v) {
  byte(v.kind == Kind::map ? tag::kBeginMap : tag::kBeginSet);
  for (const Value& item : v.items) value(item);
  byte(v.kind == Kind::map ? tag::kEndMap : tag::kEndSet);
  varint(v.items.size());
}

void Writer::view(const Value& v) {
  byte(tag::kHostObject);
  if (host_ == Host::channel) varint(0);  // ChildProcessSerializer: an ArrayBufferView
  varint(v.count);
  varint(v.bytes.size());
  out_ += v.bytes;
}

}  // namespace

std::string encode(const Value& value, Host host) { return Writer(host).message(value); }

}  // namespace muster::ipc::v8
