// An app's output_file as musterd writes it: whole lines appended, rotated by
// size. Rotated files are numbered upward (FILE.1, FILE.2, ...; the highest
// is the newest) and keep their name until they are deleted, so a rotation
// is one rename and at most two unlinks whatever output_keep is. A line that
// does not reach the file is reported to the caller, which sends it
// elsewhere; a line cut short in the file is ended with a marker by the next
// write that works.
//
// musterd often runs as root and the file's directory may be writable by
// others, so the directory is resolved without following any link
// (config/pinned_dir.h) and every open, rename, unlink and scan happens
// relative to it; the file is opened with O_NOFOLLOW and written only if it
// is a regular file with one name. The directory is resolved again when the path
// changes (configure), at reopen(), and when the one resolved was removed.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"
#include "config/pinned_dir.h"
#include "ipc/unique_fd.h"

namespace muster::daemon {

class OutputFile {
 public:
  explicit OutputFile(std::string app) : app_(std::move(app)) {}

  // What configure did with the file.
  enum class Configured {
    unchanged,  // the same file stays open
    opened,     // a new path (or a closed file) was opened
  };
  // Targets `path`: a new path (or a closed file) has its directory
  // resolved, is scanned for rotated files and opened at once; the error
  // says why it cannot be opened.
  Result<Configured> configure(const std::string& path, std::uint64_t max_size, unsigned keep);
  // Closes the file, resolves its directory again, scans it for rotated
  // files anew and opens the file there (SIGUSR1: after logrotate renamed the
  // file without copytruncate, the open descriptor would go on writing into
  // the renamed one). Done (also with no file configured), or why it cannot
  // be opened.
  Result<void> reopen();
  void close();
  const std::string& path() const { return path_; }

  // Appends `line` (ending in '\n'), reopening the file if it is closed or
  // was deleted. Done if all of it is in the file, else why not.
  Result<void> append(std::string_view line);

 private:
  Result<void> open();
  Result<void> pin();
  Result<void> rotate();
  Result<void> write_all(std::string_view text);
  bool deleted() const;
  void find_rotated();
  std::string numbered(std::uint64_t n) const { return name_ + "." + std::to_string(n); }

  std::string app_;  // for the log
  std::string path_;
  config::PinnedDir dir_;  // path_'s directory: every open, rename and unlink is made in it
  std::string name_;       // path_'s last component
  std::uint64_t max_size_ = 0;
  unsigned keep_ = 0;
  ipc::UniqueFd fd_;
  std::uint64_t size_ = 0;
  std::deque<std::uint64_t> rotated_;  // numbers of the rotated files, oldest first
  std::uint64_t next_ = 1;             // the next rotated file's number
  std::string cut_;                    // non-empty: the file ends in a cut line; why
};

}  // namespace muster::daemon
