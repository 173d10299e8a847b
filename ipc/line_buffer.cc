#include "ipc/line_buffer.h"

#include <algorithm>

namespace muster::ipc {

std::optional<std::string> LineBuffer::next_line() {
  if (overflowed_) return std::nullopt;
  auto nl = data_.find('\n', std::max(start_, scanned_));
  if (nl == std::string::npos) {
    if (data_.size() - start_ > max_line_) overflowed_ = true;
    scanned_ = data_.size() - start_;
    // Compact so the buffer never holds more than one partial line.
    if (start_ > 0) {
      data_.erase(0, start_);
      start_ = 0;
    }
    return std::nullopt;
  }
  if (nl - start_ > max_line_) {
    overflowed_ = true;
    return std::nullopt;
  }
  std::string line = data_.substr(start_, nl - start_);
  start_ = nl + 1;
  if (start_ == data_.size()) {
    data_.clear();
    start_ = 0;
  }
  scanned_ = start_;
  return line;
}

std::optional<std::string> LineBuffer::next_line_or_chunk() {
  auto nl = data_.find('\n', std::max(start_, scanned_));
  scanned_ = nl == std::string::npos ? data_.size() : nl;
  std::size_t len = nl == std::string::npos ? data_.size() - start_ : nl - start_;
  if (len > max_line_) {
    std::string chunk = data_.substr(start_, max_line_);
    start_ += max_line_;
    return chunk;
  }
  return next_line();
}

std::string LineBuffer::take_rest() {
  std::string rest = data_.substr(start_);
  data_.clear();
  start_ = 0;
  scanned_ = 0;
  return rest;
}

}  // namespace muster::ipc
