#include "daemon/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <spdlog/spdlog.h>
#include <vector>

namespace muster::daemon {
namespace fs = std::filesystem;

namespace {

// "12" of "web.log.12" for prefix "web.log."; 0 for any other name (a rotated
// file's number starts at 1 and has no leading zero).
std::uint64_t rotation_number(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return 0;
  std::string_view digits = name.substr(prefix.size());
  if (digits.size() > 18 || digits.front() == '0') return 0;
  std::uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

std::optional<std::string> OutputFile::configure(const std::string& path,
                                                 std::uint64_t max_size, unsigned keep) {
  max_size_ = max_size;
  keep_ = keep;  // a lowered keep takes effect over the next rotations (see rotate)
  if (fd_ && path == path_) return std::nullopt;
  path_ = path;
  find_rotated();
  return open();
}

void OutputFile::close() {
  fd_.reset();
  path_.clear();
  rotated_.clear();
  cut_.clear();
}

std::string OutputFile::reopen() {
  if (path_.empty()) return "";
  fd_.reset();
  find_rotated();
  return open();
}

std::string OutputFile::append(std::string_view line) {
  if (!fd_)
    if (auto error = open(); !error.empty()) return error;
  if (!cut_.empty()) {
    // The file ends in the head of a line whose write failed (that line went
    // elsewhere whole): end it visibly before anything else follows it.
    if (auto error = write_all(" [muster: line cut: " + cut_ + "]\n"); !error.empty())
      return error;
    cut_.clear();
  }
  if (size_ > 0 && size_ + line.size() > max_size_)
    if (auto error = rotate(); !error.empty()) return error;
  if (auto error = write_all(line); !error.empty()) return error;
  if (!deleted()) return "";
  // Writes into a deleted file succeed and go nowhere (rm, or its directory
  // removed with rm -r), so every write is followed by an fstat (cheap next
  // to the write): this line is not kept, so it goes into a new file at the
  // path, or is reported lost if the directory is gone.
  spdlog::warn("{}: output_file {} was deleted; creating it again", app_, path_);
  fd_.reset();
  if (auto error = open(); !error.empty()) return error;
  return write_all(line);
}

std::string OutputFile::open() {
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd_) return std::strerror(errno);
  struct stat st {};
  size_ = ::fstat(fd_.get(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  cut_.clear();  // a cut line is in the file that was closed
  return "";
}

// The file becomes FILE.N (N one above the newest), then the oldest beyond
// output_keep are deleted. Nothing else is renamed, so the cost does not grow
// with output_keep. At most two deletions per rotation: after output_keep was
// lowered, the surplus shrinks by one file per rotation instead of all at once.
std::string OutputFile::rotate() {
  fd_.reset();
  if (keep_ == 0) {
    if (::unlink(path_.c_str()) < 0 && errno != ENOENT) return std::strerror(errno);
  } else if (::rename(path_.c_str(), numbered(next_).c_str()) == 0) {
    rotated_.push_back(next_++);
  } else if (errno != ENOENT) {  // ENOENT: deleted meanwhile, nothing to keep
    return std::strerror(errno);
  }
  for (int i = 0; i < 2 && rotated_.size() > keep_; ++i) {
    std::string oldest = numbered(rotated_.front());
    if (::unlink(oldest.c_str()) < 0 && errno != ENOENT)
      spdlog::warn("{}: cannot delete the rotated output file {}: {}", app_, oldest,
                   std::strerror(errno));
    rotated_.pop_front();
  }
  return open();
}

std::string OutputFile::write_all(std::string_view text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd_.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = n < 0 ? std::strerror(errno) : "nothing written";
      if (done > 0) cut_ = why;
      return why;
    }
    done += static_cast<std::size_t>(n);
    size_ += static_cast<std::uint64_t>(n);
  }
  return "";
}

bool OutputFile::deleted() const {
  struct stat st {};
  return ::fstat(fd_.get(), &st) == 0 && st.st_nlink == 0;
}

// Rotated files already there (an earlier musterd's) are kept and counted, and
// numbering goes on above the highest. Once per path, not per rotation.
void OutputFile::find_rotated() {
  fs::path file(path_);
  fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  std::string prefix = file.filename().string() + ".";
  std::vector<std::uint64_t> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (auto n = rotation_number(it->path().filename().string(), prefix)) found.push_back(n);
  std::sort(found.begin(), found.end());
  rotated_.assign(found.begin(), found.end());
  next_ = found.empty() ? 1 : found.back() + 1;
}

}  // namespace muster::daemon
