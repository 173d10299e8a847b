// Splits a byte stream into newline-terminated lines, with a bound on how long a
// line may grow. Used for the control socket and worker output (and later the
// worker channel): one place owns the framing rules.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace muster::ipc {

class LineBuffer {
 public:
  explicit LineBuffer(std::size_t max_line) : max_line_(max_line) {}

  // Appends raw bytes read from the stream.
  void append(std::string_view bytes) { data_.append(bytes); }

  // The next complete line without its '\n' (a trailing '\r' is kept), or
  // nullopt if none is complete yet. Once a line exceeds max_line, overflowed()
  // turns true and no further lines are returned.
  std::optional<std::string> next_line();

  // Like next_line(), but a line longer than max_line comes out in max_line
  // pieces instead of overflowing (for worker output, where nothing is lost).
  std::optional<std::string> next_line_or_chunk();

  // Whatever is buffered and not yet returned: at end of stream, the last
  // line without its newline; for a reader handed over to a new one (which
  // starts by append()ing it), possibly whole lines too.
  std::string take_rest();

  bool overflowed() const { return overflowed_; }
  std::size_t buffered() const { return data_.size() - start_; }

 private:
  std::size_t max_line_;
  std::string data_;
  std::size_t start_ = 0;  // consumed prefix of data_, compacted lazily
  // data_[start_, scanned_) holds no '\n': a line arriving in many small
  // reads is searched once, not once per read (quadratic in its length).
  std::size_t scanned_ = 0;
  bool overflowed_ = false;
};

}  // namespace muster::ipc
