#include "daemon/output/output_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <variant>
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

constexpr const char* kLink = "it is a symbolic link, which musterd does not follow";

// Why musterd does not write the file `st` describes, or nullopt: a link
// (another user's, planted for root to write through), anything but a
// regular file, or a file with a second name (a hard link to someone
// else's file: fs.protected_hardlinks is not set everywhere).
std::optional<std::string> refused(const struct stat& st) {
  if (S_ISLNK(st.st_mode)) return kLink;
  if (!S_ISREG(st.st_mode)) {
    const char* what = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "a device";
    return std::string("it is ") + what + ", not a regular file";
  }
  if (st.st_nlink > 1)
    return "it has " + std::to_string(st.st_nlink) +
           " names (hard links); musterd writes only a file with one";
  return std::nullopt;
}

// The last call's errno as an Error worded by strerror.
Error last_error() {
  int e = errno;
  return Error{std::strerror(e), e};
}

// Opens `name` in `dir` for appending, creating it, without following a
// link and without blocking or taking a terminal: a FIFO or a device is
// refused before it is opened, and O_NONBLOCK covers one swapped in between.
Result<ipc::UniqueFd> open_for_append(int dir, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    if (auto why = refused(st)) return Error{*why, EPERM};
  ipc::UniqueFd fd(::openat(
      dir, name.c_str(),
      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0640));
  if (!fd && errno == ELOOP) return Error{kLink, ELOOP};
  if (!fd || ::fstat(fd.get(), &st) < 0) return last_error();
  if (auto why = refused(st)) return Error{*why, EPERM};
  int flags = ::fcntl(fd.get(), F_GETFL);  // a regular file: writes may block as ever
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) < 0) return last_error();
  return fd;
}

}  // namespace

Result<OutputFile::Configured> OutputFile::configure(const std::string& path,
                                                     std::uint64_t max_size, unsigned keep) {
  max_size_ = max_size;
  keep_ = keep;  // a lowered keep takes effect over the next rotations (see rotate)
  if (fd_ && path == path_) return Configured::unchanged;
  path_ = path;
  name_ = fs::path(path).filename().string();
  dir_ = config::PinnedDir();
  if (auto opened = open(); !opened) return opened.error();
  return Configured::opened;
}

Result<void> OutputFile::reopen() {
  if (path_.empty()) return {};
  dir_ = config::PinnedDir();
  return open();
}

void OutputFile::close() {
  fd_.reset();
  dir_ = config::PinnedDir();
  path_.clear();
  rotated_.clear();
  cut_.clear();
}

Result<void> OutputFile::append(std::string_view line) {
  if (!fd_)
    if (auto opened = open(); !opened) return opened;
  if (!cut_.empty()) {
    // The file ends in the head of a line whose write failed (that line went
    // elsewhere whole): end it visibly before anything else follows it.
    if (auto ended = write_all(" [muster: line cut: " + cut_ + "]\n"); !ended) return ended;
    cut_.clear();
  }
  if (size_ > 0 && size_ + line.size() > max_size_)
    if (auto rotated = rotate(); !rotated) return rotated;
  if (auto written = write_all(line); !written) return written;
  if (!deleted()) return {};
  // Writes into a deleted file succeed and go nowhere (rm, or its directory
  // removed with rm -r), so every write is followed by an fstat (cheap next
  // to the write): this line is not kept, so it goes into a new file at the
  // path, or is reported lost if the directory is gone.
  spdlog::warn("{}: output_file {} was deleted; creating it again", app_, path_);
  fd_.reset();
  if (auto opened = open(); !opened) return opened;
  return write_all(line);
}

Result<void> OutputFile::open() {
  fd_.reset();
  bool fresh = !dir_;
  if (fresh)
    if (auto pinned = pin(); !pinned) return pinned;
  auto opened = open_for_append(dir_.fd(), name_);
  if (!opened && opened.error().errno_value == ENOENT && !fresh) {
    // The directory resolved before was removed (rm -r): its path may lead
    // to a new one by now.
    dir_ = config::PinnedDir();
    if (auto pinned = pin(); !pinned) return pinned;
    opened = open_for_append(dir_.fd(), name_);
  }
  if (!opened) return opened.error();
  fd_ = std::move(opened).value();
  struct stat st {};
  size_ = ::fstat(fd_.get(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  cut_.clear();  // a cut line is in the file that was closed
  return {};
}

// Resolves the file's directory (no link followed) and scans it for rotated
// files: a new directory has rotated files of its own.
Result<void> OutputFile::pin() {
  fs::path parent = fs::path(path_).parent_path();
  auto pinned = config::PinnedDir::open(parent.empty() ? "." : parent.string());
  if (!pinned)
    return Error(pinned.error());  // its message and errno; the walk's kind is not needed
  dir_ = std::move(pinned).value();
  find_rotated();
  return {};
}

// The file becomes FILE.N (N one above the newest), then the oldest beyond
// output_keep are deleted. Nothing else is renamed, so the cost does not grow
// with output_keep. At most two deletions per rotation: after output_keep was
// lowered, the surplus shrinks by one file per rotation instead of all at once.
Result<void> OutputFile::rotate() {
  fd_.reset();
  const int dir = dir_.fd();
  if (keep_ == 0) {
    if (::unlinkat(dir, name_.c_str(), 0) < 0 && errno != ENOENT) return last_error();
  } else if (::renameat(dir, name_.c_str(), dir, numbered(next_).c_str()) == 0) {
    rotated_.push_back(next_++);
  } else if (errno != ENOENT) {  // ENOENT: deleted meanwhile, nothing to keep
    return last_error();
  }
  for (int i = 0; i < 2 && rotated_.size() > keep_; ++i) {
    std::string oldest = numbered(rotated_.front());
    if (::unlinkat(dir, oldest.c_str(), 0) < 0 && errno != ENOENT)
      spdlog::warn("{}: cannot delete the rotated output file {}/{}: {}", app_, dir_.path(), oldest,
                   std::strerror(errno));
    rotated_.pop_front();
  }
  return open();
}

Result<void> OutputFile::write_all(std::string_view text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd_.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error why = n < 0 ? last_error() : Error{"nothing written"};
      if (done > 0) cut_ = why.message;
      return why;
    }
    done += static_cast<std::size_t>(n);
    size_ += static_cast<std::uint64_t>(n);
  }
  return {};
}

bool OutputFile::deleted() const {
  struct stat st {};
  return ::fstat(fd_.get(), &st) == 0 && st.st_nlink == 0;
}

// Rotated files already there (an earlier musterd's) are kept and counted, and
// numbering goes on above the highest. Once per directory, not per rotation.
void OutputFile::find_rotated() {
  std::vector<std::uint64_t> found;
  // A directory stream of its own: dir_ is an O_PATH descriptor.
  ipc::UniqueFd fd(::openat(dir_.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (DIR* listing = fd ? ::fdopendir(fd.get()) : nullptr) {
    fd.release();  // the stream owns it now
    std::string prefix = name_ + ".";
    while (const dirent* entry = ::readdir(listing))
      if (auto n = rotation_number(entry->d_name, prefix)) found.push_back(n);
    ::closedir(listing);
  }
  std::sort(found.begin(), found.end());
  rotated_.assign(found.begin(), found.end());
  next_ = found.empty() ? 1 : found.back() + 1;
}

}  // namespace muster::daemon
