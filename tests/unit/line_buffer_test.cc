#include <catch2/catch.hpp>

#include "ipc/line_buffer.h"

using muster::ipc::LineBuffer;

TEST_CASE("lines split across reads and several per read come out whole", "[framing]") {
  LineBuffer b(100);
  b.append("one\ntw");
  CHECK(*b.next_line() == "one");
  CHECK_FALSE(b.next_line());
  b.append("o\nthree\nfour\n");
  CHECK(*b.next_line() == "two");
  CHECK(*b.next_line() == "three");
  CHECK(*b.next_line() == "four");
  CHECK_FALSE(b.next_line());
  CHECK(b.buffered() == 0);
}

TEST_CASE("an empty line is a line", "[framing]") {
  LineBuffer b(10);
  b.append("\n\nx\n");
  CHECK(*b.next_line() == "");
  CHECK(*b.next_line() == "");
  CHECK(*b.next_line() == "x");
}

TEST_CASE("a line longer than the limit overflows instead of growing", "[framing]") {
  LineBuffer b(8);
  b.append("123456789");
  CHECK_FALSE(b.next_line());
  CHECK(b.overflowed());
  b.append("\nok\n");
  CHECK_FALSE(b.next_line());  // stays overflowed: the stream is out of step
}

TEST_CASE("a complete line over the limit overflows too", "[framing]") {
  LineBuffer b(4);
  b.append("12345\n");
  CHECK_FALSE(b.next_line());
  CHECK(b.overflowed());
}

TEST_CASE("worker output longer than the limit comes out in pieces", "[framing]") {
  LineBuffer b(4);
  b.append("abcdefghij\nxy\n");
  CHECK(*b.next_line_or_chunk() == "abcd");
  CHECK(*b.next_line_or_chunk() == "efgh");
  CHECK(*b.next_line_or_chunk() == "ij");
  CHECK(*b.next_line_or_chunk() == "xy");
  CHECK_FALSE(b.next_line_or_chunk());
  CHECK_FALSE(b.overflowed());
}

TEST_CASE("take_rest returns an unterminated tail", "[framing]") {
  LineBuffer b(100);
  b.append("a\nbc");
  CHECK(*b.next_line() == "a");
  CHECK(b.take_rest() == "bc");
  CHECK(b.buffered() == 0);
}
