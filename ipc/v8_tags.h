// V8's serialization tags (v8/src/objects/value-serializer.cc, enum class
// SerializationTag) and the text conversions its strings need. Shared by the
// reader and writer only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace muster::ipc::v8::tag {

inline constexpr std::uint8_t kVersion = 0xFF;
inline constexpr std::uint8_t kPadding = '\0';
inline constexpr std::uint8_t kVerifyObjectCount = '?';
inline constexpr std::uint8_t kTheHole = '-';
inline constexpr std::uint8_t kUndefined = '_';
inline constexpr std::uint8_t kNull = '0';
inline constexpr std::uint8_t kTrue = 'T';
inline constexpr std::uint8_t kFalse = 'F';
inline constexpr std::uint8_t kInt32 = 'I';
inline constexpr std::uint8_t kUint32 = 'U';
inline constexpr std::uint8_t kDouble = 'N';
inline constexpr std::uint8_t kBigInt = 'Z';
inline constexpr std::uint8_t kUtf8String = 'S';
inline constexpr std::uint8_t kOneByteString = '"';
inline constexpr std::uint8_t kTwoByteString = 'c';
inline constexpr std::uint8_t kObjectReference = '^';
inline constexpr std::uint8_t kBeginObject = 'o';
inline constexpr std::uint8_t kEndObject = '{';
inline constexpr std::uint8_t kBeginSparseArray = 'a';
inline constexpr std::uint8_t kEndSparseArray = '@';
inline constexpr std::uint8_t kBeginDenseArray = 'A';
inline constexpr std::uint8_t kEndDenseArray = '$';
inline constexpr std::uint8_t kDate = 'D';
inline constexpr std::uint8_t kRegExp = 'R';
inline constexpr std::uint8_t kBeginMap = ';';
inline constexpr std::uint8_t kEndMap = ':';
inline constexpr std::uint8_t kBeginSet = '\'';
inline constexpr std::uint8_t kEndSet = ',';
inline constexpr std::uint8_t kHostObject = '\\';

// "tag 'B' (0x42, ArrayBuffer)": for errors.
std::string describe(std::uint8_t tag);

}  // namespace muster::ipc::v8::tag

namespace muster::ipc::v8 {

// V8's one-byte strings are Latin-1; its two-byte strings UTF-16LE, where a
// lone surrogate (which UTF-8 cannot hold) becomes U+FFFD.
std::string latin1_to_utf8(std::string_view latin1);
std::string utf16le_to_utf8(std::string_view utf16le);
// Valid UTF-8 in; false if a code point is over U+00FF.
bool utf8_to_latin1(std::string_view utf8, std::string& latin1);
std::string utf8_to_utf16le(std::string_view utf8);

}  // namespace muster::ipc::v8
