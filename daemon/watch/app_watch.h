// One app's `watch`: an inotify instance read through the loop, the
// directories it watches (walked in bounded steps, never blocking the loop
// for long), and a Debounce that turns the changes into one batch once quiet.
// For development: it reloads the app, which a production config should not
// want (README, "Development: watch").
//
// Symlinks are never followed (IN_DONT_FOLLOW, O_NOFOLLOW): the watch stays in
// the tree as it is on disk, whoever runs musterd (docs/SECURITY.md).
#pragma once

#include <dirent.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "base/result.h"
#include "config/config.h"
#include "daemon/watch/debounce.h"
#include "daemon/watch/watch_scope.h"

namespace muster::daemon {

class AppWatch : public std::enable_shared_from_this<AppWatch> {
 public:
  // Directories watched per app at most: each is a kernel watch, counted
  // against fs.inotify.max_user_watches for musterd's user.
  static constexpr std::size_t kMaxDirs = 8192;
  // Directory entries read per step of the walk before the loop runs again.
  static constexpr std::size_t kEntriesPerStep = 256;

  using Changed = std::function<void(ChangeBatch)>;
  // Something will not be watched (a missing entry, the directory bound, a
  // kernel limit): logged here, and handed on for an event.
  using Warn = std::function<void(const std::string&)>;

  // Starts watching `app` (its cwd, watch, watch_ignore, watch_delay); the
  // error when no inotify instance can be had.
  static Result<std::shared_ptr<AppWatch>> start(boost::asio::io_context& io,
                                                 const config::AppConfig& app, Changed changed,
                                                 Warn warn);
  AppWatch(boost::asio::io_context& io, const config::AppConfig& app, int fd, Changed changed,
           Warn warn);
  // Stops watching: no batch fires after this.
  void stop();
  std::size_t watched_dirs() const { return by_wd_.size(); }

 private:
  struct Walk {
    std::string dir;
    bool report;  // a directory that appeared: its files count as changed
  };
  struct DirCloser {
    void operator()(DIR* dir) const { ::closedir(dir); }
  };

  void begin_walk();
  void schedule_walk();
  // Watches and opens the directory at the front of walks_; false when it is not.
  bool open_front();
  void walk_step();
  // Queues `dir` for the walk unless that would pass kMaxDirs.
  void follow_dir(const std::string& dir, bool report);
  // Warns (once) that the bound is reached; false.
  bool over_limit(const std::string& dir);
  // Watches `dir`; false (with a warning) when it is not.
  bool add_dir(const std::string& dir);
  void read_events();
  void take_events(std::size_t size);
  void on_event(int wd, std::uint32_t mask, const std::string& name);
  void forget_dirs_within(const std::string& dir);
  void warn(const std::string& message);

  std::string app_;
  WatchScope scope_;
  boost::asio::posix::stream_descriptor inotify_;
  std::shared_ptr<Debounce> debounce_;
  Warn warn_;
  std::unordered_map<int, std::string> by_wd_;
  std::map<std::string, int> by_path_;
  std::deque<Walk> walks_;
  std::unique_ptr<DIR, DirCloser> open_;  // the directory being read, walks_.front()
  bool walking_ = false;
  bool limit_warned_ = false;
  bool stopped_ = false;
  alignas(8) std::array<char, 16384> buffer_{};
};

}  // namespace muster::daemon
