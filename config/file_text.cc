#include "config/file_text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace muster::config {
namespace {

// Closes the file however the read ends (config/ uses nothing of ipc/).
struct OpenFile {
  int fd;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

std::string cannot_read(int error) { return std::string("cannot read: ") + std::strerror(error); }

std::string too_large() {
  return "is larger than " + std::to_string(kMaxConfigBytes / (1024 * 1024)) +
         " MiB: not a config file";
}

// What a write to the file changes: its size and its times. (The times alone
// can miss a write in the same clock tick; the size alone, one that keeps it.)
bool unchanged(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_ctim.tv_sec == b.st_ctim.tv_sec &&
         a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// Everything from `offset` 0 (pread: the same descriptor is read again on a
// retry) to the end, at most kMaxConfigBytes + 1 bytes; the errno on failure.
Result<std::string> read_all(int fd, bool seekable) {
  std::string text;
  char buffer[65536];
  for (;;) {
    ssize_t n = seekable ? ::pread(fd, buffer, sizeof buffer, static_cast<off_t>(text.size()))
                         : ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(errno);
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigBytes) return text;
  }
}

}  // namespace

Result<std::string> read_config_text(const std::string& path) {
  auto failure = [](std::string why, int errno_value = 0) {
    return Error{std::move(why), errno_value};
  };
  auto unreadable = [&](int errno_value) { return failure(cannot_read(errno_value), errno_value); };
  OpenFile file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
  if (file.fd < 0) return unreadable(errno);
  struct stat before {};
  if (::fstat(file.fd, &before) < 0) return unreadable(errno);
  const bool regular = S_ISREG(before.st_mode);
  for (int attempt = 0; attempt < kConfigReadTries; ++attempt) {
    if (regular && static_cast<std::uint64_t>(before.st_size) > kMaxConfigBytes)
      return failure(too_large());
    auto read = read_all(file.fd, regular);
    if (!read) return unreadable(read.error().errno_value);
    std::string& text = *read;
    if (text.size() > kMaxConfigBytes) return failure(too_large());
    if (!regular) return std::move(text);
    struct stat after {};
    if (::fstat(file.fd, &after) < 0) return unreadable(errno);
    if (unchanged(before, after) && text.size() == static_cast<std::size_t>(after.st_size))
      return std::move(text);
    before = after;  // written while we read: read again what it is now
  }
  return failure("changed while it was read, " + std::to_string(kConfigReadTries) +
                 " times in a row: it is being written. Write the new config to a temporary "
                 "file and rename it over this one (a rename is atomic), then reload");
}

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace muster::config
