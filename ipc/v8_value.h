// The part of V8's value-serialization format (v8/src/objects/value-serializer.cc)
// that Node's 'advanced' IPC channel carries (lib/internal/child_process/
// serialization.js): plain objects, arrays (dense and sparse), strings,
// numbers, BigInts, booleans, null, undefined, Dates, RegExps, Maps, Sets,
// back-references (shared objects and cycles), and Node's host objects for
// Buffers and typed arrays (lib/v8.js _writeHostObject). Everything else
// (ArrayBuffers, Errors, wrapper objects, shared or Wasm values) is refused
// with an error naming the tag. A Value is a tree: a second occurrence of an
// object is a `ref` to the id V8 gave the first (ids count objects in the
// order they begin), so a cycle needs no pointer back.
//
// Rendered as JSON for operators by v8_json.h; docs/compatibility.md
// ("Advanced serialization") documents that rendering.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace muster::ipc::v8 {

// Bounds, as the JSON channel's: a message is at most 1 MiB
// (NodeChannel::kMaxLine) and 32 levels deep (Boost.JSON's max_depth); the
// decoded tree holds at most kMaxValues values (each costs ~80 bytes).
inline constexpr std::size_t kMaxBytes = 1 << 20;
inline constexpr int kMaxDepth = 32;
inline constexpr std::size_t kMaxValues = 1 << 18;
// The format version every Node from v20 to v23 writes; 13 and 14 read the same.
inline constexpr std::uint32_t kVersion = 15;
inline constexpr std::uint32_t kOldestVersion = 13;

enum class Kind : std::uint8_t {
  undefined,
  null,
  boolean,
  int32,
  number,
  bigint,
  string,
  object,
  array,
  date,
  regexp,
  map,
  set,
  view,
  ref,
  hole,  // an element missing from a dense array
};

// Node's index of an ArrayBufferView type in its host objects (lib/v8.js
// arrayBufferViewTypes; 10 is a Buffer).
enum class ViewType : std::uint8_t {
  int8,
  uint8,
  uint8_clamped,
  int16,
  uint16,
  int32,
  uint32,
  float32,
  float64,
  data_view,
  buffer,
  bigint64,
  biguint64,
};
inline constexpr std::uint32_t kViewTypes = 13;
// "Int8Array" ... "DataView", "Buffer", "BigUint64Array".
std::string_view view_type_name(ViewType type);
std::optional<ViewType> view_type_named(std::string_view name);
// Bytes per element (1 for Buffer and DataView).
std::size_t view_element_size(ViewType type);

struct Value {
  Kind kind = Kind::undefined;
  // boolean: its value; bigint: negative; array: dense.
  bool flag = false;
  // int32, number: the number; date: milliseconds since the epoch.
  double number = 0;
  // array: its length; regexp: V8's flag bits; view: its ViewType; ref: the id.
  std::uint32_t count = 0;
  // string: UTF-8; bigint: the magnitude, little-endian, a multiple of 8
  // bytes; regexp: the source; view: the bytes.
  std::string bytes;
  // array (dense): `count` elements, then key, value, key, value... for its
  // other properties; array (sparse), object: key, value, ... (keys are
  // strings); map: key, value, ...; set: the members.
  std::vector<Value> items;

  static Value of(Kind kind) {
    Value v;
    v.kind = kind;
    return v;
  }
  static Value text(std::string utf8);
  static Value integer(std::int32_t n);
  static Value truth(bool b);
  static Value numeric(double n);
};

// How host objects are laid out: as v8.serialize() writes them (the
// DefaultSerializer), or on the IPC channel, where ChildProcessSerializer
// writes a uint32 first (0: an ArrayBufferView follows; 1: a plain object).
enum class Host { v8_serialize, channel };

// Header (0xFF, version) and one value, the whole of `data`.
Result<Value> decode(std::string_view data, Host host);
// Header and value, as Node's serializer writes them.
std::string encode(const Value& value, Host host);

// Regular-expression flags: V8's bits <-> "dgimsuvy" letters.
std::string regexp_flags_text(std::uint32_t bits);
std::optional<std::uint32_t> regexp_flags_bits(std::string_view letters);

}  // namespace muster::ipc::v8
