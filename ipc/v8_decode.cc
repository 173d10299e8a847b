// Reading V8's value-serialization format (v8/src/objects/value-serializer.cc,
// ValueDeserializer), bounded for input from a worker.
#include <cmath>
#include <cstring>

#include "ipc/utf8.h"
#include "ipc/v8_tags.h"
#include "ipc/v8_value.h"

namespace muster::ipc::v8 {
namespace {

// Thrown inside the reader only, caught by decode(): a recursive descent
// whose every step can fail reads best with one exit.
struct DecodeRefused {
  std::string message;
};

class Reader {
 public:
  Reader(std::string_view data, Host host) : data_(data), host_(host) {}

  Value message() {
    if (take() != tag::kVersion) refuse("no V8 serialization header (0xFF)");
    std::uint32_t version = varint();
    if (version < kOldestVersion || version > kVersion)
      refuse("unsupported V8 serialization version " + std::to_string(version));
    Value v = value(0);
    if (pos_ != data_.size()) refuse("bytes after the value");
    return v;
  }

 private:
  [[noreturn]] static void refuse(std::string message) { throw DecodeRefused{std::move(message)}; }

  std::uint8_t take() {
    if (pos_ >= data_.size()) refuse("message ends in the middle of a value");
    return static_cast<std::uint8_t>(data_[pos_++]);
  }
  std::string_view take_bytes(std::uint64_t n) {
    if (n > data_.size() - pos_) refuse("message ends in the middle of a value");
    std::string_view bytes = data_.substr(pos_, n);
    pos_ += n;
    return bytes;
  }
  std::uint64_t varint64() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = take();
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    refuse("varint longer than 64 bits");
  }
  std::uint32_t varint() {
    std::uint64_t v = varint64();
    if (v > UINT32_MAX) refuse("varint over 32 bits");
    return static_cast<std::uint32_t>(v);
  }
  double float64() {
    std::string_view b = take_bytes(8);
    double d;
    std::memcpy(&d, b.data(), 8);  // little-endian, as every host Node runs on here
    return d;
  }
  // The next tag, past padding and object-count checks (as ReadTag does).
  std::uint8_t peek_tag() {
    for (;;) {
      if (pos_ >= data_.size()) refuse("message ends in the middle of a value");
      auto t = static_cast<std::uint8_t>(data_[pos_]);
      if (t == tag::kPadding) {
        ++pos_;
      } else if (t == tag::kVerifyObjectCount) {
        ++pos_;
        varint();
      } else {
        return t;
      }
    }
  }
  Value counted(Value v) {
    if (++values_ > kMaxValues) refuse("more than 262144 values in one message");
    return v;
  }
  std::uint32_t new_id() {
    if (next_id_ >= kMaxValues) refuse("too many objects");
    return next_id_++;
  }
  std::uint32_t length_bound(std::uint32_t n) {
    // Every element takes at least one byte: a length past what is left is a lie.
    if (n > data_.size() - pos_) refuse("array length over the message's size");
    return n;
  }

  Value value(int depth);
  Value primitive(std::uint8_t t);
  Value string(std::uint8_t t);
  Value bigint();
  Value object(int depth);
  Value dense_array(int depth);
  Value sparse_array(int depth);
  Value regexp();
  Value collection(int depth, Kind kind, std::uint8_t end);
  Value host_object();
  // Reads key, value pairs into `v.items` up to `end`; returns how many.
  std::uint32_t properties(Value& v, std::uint8_t end, int depth);
  Value key();

  std::string_view data_;
  Host host_;
  std::size_t pos_ = 0;
  std::size_t values_ = 0;
  std::uint32_t next_id_ = 0;
};

Value Reader::value(int depth) {
  if (depth > kMaxDepth) refuse("nested more than 32 levels deep");
  std::uint8_t t = peek_tag();
  ++pos_;
  switch (t) {
    case tag::kBeginObject: return object(depth);
    case tag::kBeginDenseArray: return dense_array(depth);
    case tag::kBeginSparseArray: return sparse_array(depth);
    case tag::kBeginMap: return collection(depth, Kind::map, tag::kEndMap);
    case tag::kBeginSet: return collection(depth, Kind::set, tag::kEndSet);
    case tag::kHostObject: return host_object();
    case tag::kRegExp: return regexp();
    case tag::kDate: {
      Value v = counted(Value::of(Kind::date));
      new_id();
      v.number = float64();
      return v;
    }
    case tag::kObjectReference: {
      Value v = counted(Value::of(Kind::ref));
      v.count = varint();
      if (v.count >= next_id_)
        refuse("reference to object " + std::to_string(v.count) + " before it");
      return v;
    }
    default: return primitive(t);
  }
}

Value Reader::primitive(std::uint8_t t) {
  switch (t) {
    case tag::kUndefined: return counted(Value::of(Kind::undefined));
    case tag::kNull: return counted(Value::of(Kind::null));
    case tag::kTrue: return counted(Value::truth(true));
    case tag::kFalse: return counted(Value::truth(false));
    case tag::kInt32: {
      std::uint32_t z = varint();  // zigzag
      return counted(Value::integer(static_cast<std::int32_t>((z >> 1) ^ (0u - (z & 1)))));
    }
    case tag::kUint32: {
      std::uint32_t n = varint();
      return counted(n <= INT32_MAX ? Value::integer(static_cast<std::int32_t>(n))
                                    : Value::numeric(n));
    }
    case tag::kDouble: return counted(Value::numeric(float64()));
    case tag::kBigInt: return counted(bigint());
    case tag::kOneByteString:
    case tag::kTwoByteString:
    case tag::kUtf8String: return counted(string(t));
    default: refuse("unsupported V8 value: " + tag::describe(t));
  }
}

Value Reader::string(std::uint8_t t) {
  std::string_view raw = take_bytes(varint());
  if (t == tag::kUtf8String) return Value::text(to_valid_utf8(raw));
  if (t == tag::kOneByteString) return Value::text(latin1_to_utf8(raw));
  if (raw.size() % 2) refuse("two-byte string of an odd byte length");
  return Value::text(utf16le_to_utf8(raw));
}

Value Reader::bigint() {
  std::uint32_t bitfield = varint();
  Value v = Value::of(Kind::bigint);
  v.flag = bitfield & 1;
  std::uint32_t length = bitfield >> 1;
  if (length % 8) refuse("BigInt of " + std::to_string(length) + " bytes (not whole digits)");
  v.bytes = take_bytes(length);
  return v;
}

Value Reader::key() {
  std::uint8_t t = peek_tag();
  ++pos_;
  if (t != tag::kOneByteString && t != tag::kTwoByteString && t != tag::kUtf8String &&
      t != tag::kInt32 && t != tag::kUint32 && t != tag::kDouble)
    refuse("property key that is not a string or an array index");
  Value k = primitive(t);
  if (k.kind == Kind::string) return k;
  if (k.kind == Kind::int32)
    return Value::text(std::to_string(static_cast<std::int32_t>(k.number)));
  if (k.kind == Kind::number && std::isfinite(k.number) && k.number >= 0 &&
      k.number < 4294967295.0 && std::floor(k.number) == k.number)
    return Value::text(std::to_string(static_cast<std::uint32_t>(k.number)));
  refuse("property key that is not a string or an array index");
}

std::uint32_t Reader::properties(Value& v, std::uint8_t end, int depth) {
  std::uint32_t n = 0;
  while (peek_tag() != end) {
    v.items.push_back(key());
    v.items.push_back(value(depth + 1));
    ++n;
  }
  ++pos_;
  return n;
}

Value Reader::object(int depth) {
  Value v = counted(Value::of(Kind::object));
  new_id();
  std::uint32_t n = properties(v, tag::kEndObject, depth);
  if (varint() != n) refuse("object's property count does not match");
  return v;
}

Value Reader::dense_array(int depth) {
  Value v = counted(Value::of(Kind::array));
  v.flag = true;
  v.count = length_bound(varint());
  new_id();
  for (std::uint32_t i = 0; i < v.count; ++i) {
    if (peek_tag() == tag::kTheHole) {
      ++pos_;
      v.items.push_back(counted(Value::of(Kind::hole)));
    } else {
      v.items.push_back(value(depth + 1));
    }
  }
  std::uint32_t n = properties(v, tag::kEndDenseArray, depth);
  if (varint() != n || varint() != v.count) refuse("dense array's counts do not match");
  return v;
}

Value Reader::sparse_array(int depth) {
  Value v = counted(Value::of(Kind::array));
  v.count = varint();
  new_id();
  std::uint32_t n = properties(v, tag::kEndSparseArray, depth);
  if (varint() != n || varint() != v.count) refuse("sparse array's counts do not match");
  return v;
}

Value Reader::regexp() {
  Value v = counted(Value::of(Kind::regexp));
  new_id();
  std::uint8_t t = peek_tag();
  ++pos_;
  if (t != tag::kOneByteString && t != tag::kTwoByteString && t != tag::kUtf8String)
    refuse("RegExp without a source string");
  v.bytes = string(t).bytes;
  v.count = varint();
  if (v.count >= 1u << 9) refuse("RegExp flags " + std::to_string(v.count) + " unknown");
  return v;
}

Value Reader::collection(int depth, Kind kind, std::uint8_t end) {
  Value v = counted(Value::of(kind));
  new_id();
  while (peek_tag() != end) v.items.push_back(value(depth + 1));
  ++pos_;
  if (kind == Kind::map && v.items.size() % 2) refuse("Map with a key and no value");
  if (varint() != v.items.size()) refuse("Map or Set's length does not match");
  return v;
}

Value Reader::host_object() {
  new_id();
  if (host_ == Host::channel) {
    // ChildProcessSerializer: 0, a typed array follows; 1, a native object
    // sent as { ...object } (a handle wrapper: nothing a message should hold).
    std::uint32_t kind = varint();
    if (kind == 1) refuse("unsupported V8 value: host object that is not a typed array");
    if (kind != 0) refuse("host object of unknown kind " + std::to_string(kind));
  }
  Value v = counted(Value::of(Kind::view));
  v.count = varint();
  if (v.count >= kViewTypes) refuse("host object of unknown view type " + std::to_string(v.count));
  v.bytes = take_bytes(varint());
  if (v.bytes.size() % view_element_size(static_cast<ViewType>(v.count)))
    refuse("typed array's byte length is not a whole number of elements");
  return v;
}

}  // namespace

Result<Value> decode(std::string_view data, Host host) {
  if (data.size() > kMaxBytes) return Error{"message over 1 MiB"};
  try {
    return Reader(data, host).message();
  } catch (const DecodeRefused& r) {
    return Error{r.message};
  }
}

}  // namespace muster::ipc::v8
