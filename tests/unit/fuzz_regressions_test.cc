// Behaviours that fuzzing (fuzz/, scripts/fuzz) found broken, kept fixed.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "ipc/line_buffer.h"

using muster::ipc::LineBuffer;

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
