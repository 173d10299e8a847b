#include "daemon/watch/app_watch.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "daemon/common/errno_text.h"

namespace muster::daemon {
namespace {

// A file written and closed, created (a link, a symlink), removed or renamed;
// for directories, the same tells the walk to follow.
constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                                IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;

std::string errno_words(int err) {
  std::string words = describe_errno(err);
  if (err == ENOSPC)
    words += " (the kernel's fs.inotify.max_user_watches is reached for musterd's user)";
  return words;
}

}  // namespace

Result<std::shared_ptr<AppWatch>> AppWatch::start(boost::asio::io_context& io,
                                                  const config::AppConfig& app, Changed changed,
                                                  Warn warn) {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return errno_error(err, "cannot watch files: inotify_init1: " + describe_errno(err) +
                                (err == EMFILE ? " (or fs.inotify.max_user_instances)" : ""));
  }
  auto self = std::make_shared<AppWatch>(io, app, fd, std::move(changed), std::move(warn));
  self->begin_walk();
  self->read_events();
  return self;
}

AppWatch::AppWatch(boost::asio::io_context& io, const config::AppConfig& app, int fd,
                   Changed changed, Warn warn)
    : app_(app.name),
      scope_(app),
      inotify_(io, fd),
      debounce_(std::make_shared<Debounce>(io, app.watch_delay, std::move(changed))),
      warn_(std::move(warn)) {}

void AppWatch::stop() {
  stopped_ = true;
  debounce_->cancel();
  boost::system::error_code ignored;
  inotify_.close(ignored);
  open_.reset();
  walks_.clear();
}

void AppWatch::warn(const std::string& message) {
  spdlog::warn("{}: watch: {}", app_, message);
  if (warn_) warn_(message);
}

void AppWatch::begin_walk() {
  for (const auto& entry : scope_.entries()) {
    struct stat st {};
    if (::lstat(entry.c_str(), &st) != 0) {
      warn(scope_.shown(entry) + ": " + describe_errno(errno) + "; watched for once it appears");
    } else if (S_ISLNK(st.st_mode)) {
      warn(scope_.shown(entry) +
           ": a symbolic link, which watch does not follow: changes to what it names are not "
           "seen");
    }
  }
  for (const auto& dir : scope_.starts()) walks_.push_back({dir, false});
  schedule_walk();
}

void AppWatch::schedule_walk() {
  if (walking_ || walks_.empty() || stopped_) return;
  walking_ = true;
  boost::asio::post(inotify_.get_executor(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->walk_step();
  });
}

bool AppWatch::open_front() {
  const std::string& dir = walks_.front().dir;
  if (!add_dir(dir)) return false;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR* listing = fd < 0 ? nullptr : ::fdopendir(fd);
  if (listing == nullptr) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    // Gone already (removed right after it appeared): nothing to watch in it.
    if (err != ENOENT) warn(scope_.shown(dir) + ": cannot list it: " + describe_errno(err));
    return false;
  }
  open_.reset(listing);
  return true;
}

void AppWatch::walk_step() {
  walking_ = false;
  std::size_t budget = kEntriesPerStep;
  while (budget > 0 && !walks_.empty() && !stopped_) {
    --budget;
    if (!open_ && !open_front()) {
      walks_.pop_front();
      continue;
    }
    const dirent* entry = ::readdir(open_.get());
    if (entry == nullptr) {
      open_.reset();
      walks_.pop_front();
      continue;
    }
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    Walk walk = walks_.front();
    bool is_dir = entry->d_type == DT_DIR;
    struct stat st {};
    if (entry->d_type == DT_UNKNOWN &&
        ::fstatat(::dirfd(open_.get()), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      is_dir = S_ISDIR(st.st_mode);
    if (is_dir) {
      if (scope_.watches_subdir(walk.dir, name)) follow_dir(join_path(walk.dir, name), walk.report);
    } else if (walk.report && scope_.counts(walk.dir, name)) {
      debounce_->note(scope_.shown(join_path(walk.dir, name)));
    }
  }
  schedule_walk();
}

// The walk's queue counts toward the bound too: a directory with more
// subdirectories than that queues no more than the bound allows.
void AppWatch::follow_dir(const std::string& dir, bool report) {
  if (by_wd_.size() + walks_.size() > kMaxDirs) {
    over_limit(dir);
    return;
  }
  walks_.push_back({dir, report});
}

bool AppWatch::over_limit(const std::string& dir) {
  if (!limit_warned_)
    warn("more than " + std::to_string(kMaxDirs) + " directories to watch; " + scope_.shown(dir) +
         " and the directories found after it are not watched (narrow watch, or add their "
         "names to watch_ignore)");
  limit_warned_ = true;
  return false;
}

bool AppWatch::add_dir(const std::string& dir) {
  if (by_path_.count(dir)) return false;
  if (by_wd_.size() >= kMaxDirs) return over_limit(dir);
  int wd = ::inotify_add_watch(inotify_.native_handle(), dir.c_str(), kMask);
  if (wd < 0) {
    int err = errno;
    // A directory removed while the walk came to it is no loss; a start is.
    const auto& starts = scope_.starts();
    if (err != ENOENT || std::find(starts.begin(), starts.end(), dir) != starts.end())
      warn(scope_.shown(dir) + ": not watched: " + errno_words(err));
    return false;
  }
  if (auto old = by_wd_.find(wd); old != by_wd_.end()) by_path_.erase(old->second);
  by_wd_[wd] = dir;
  by_path_[dir] = wd;
  return true;
}

void AppWatch::read_events() {
  inotify_.async_read_some(
      boost::asio::buffer(buffer_),
      [weak = weak_from_this()](const boost::system::error_code& ec, std::size_t size) {
        auto self = weak.lock();
        if (!self || self->stopped_) return;
        if (ec) {
          self->warn("stopped: reading inotify events failed: " + ec.message());
          return;
        }
        self->take_events(size);
        self->read_events();
      });
}

void AppWatch::take_events(std::size_t size) {
  std::size_t at = 0;
  while (at + sizeof(inotify_event) <= size) {
    inotify_event event{};
    std::memcpy(&event, buffer_.data() + at, sizeof event);
    const char* name = buffer_.data() + at + sizeof event;
    std::size_t next = at + sizeof event + event.len;
    if (next > size) break;  // the kernel hands whole events only
    on_event(event.wd, event.mask, event.len ? std::string(name, ::strnlen(name, event.len)) : "");
    at = next;
  }
}

void AppWatch::on_event(int wd, std::uint32_t mask, const std::string& name) {
  if (mask & IN_Q_OVERFLOW) {
    debounce_->note("(changes not named: the kernel's inotify queue overflowed)");
    return;
  }
  auto found = by_wd_.find(wd);
  if (found == by_wd_.end()) return;
  std::string dir = found->second;
  if (mask & IN_IGNORED) {  // the directory is gone, or its watch was removed
    if (auto path = by_path_.find(dir); path != by_path_.end() && path->second == wd)
      by_path_.erase(path);
    by_wd_.erase(found);
    return;
  }
  if (name.empty()) return;
  std::string path = join_path(dir, name);
  if (mask & IN_ISDIR) {
    if (mask & (IN_DELETE | IN_MOVED_FROM)) forget_dirs_within(path);
    if ((mask & (IN_CREATE | IN_MOVED_TO)) && scope_.watches_subdir(dir, name)) {
      follow_dir(path, true);
      schedule_walk();
    }
    return;
  }
  if (scope_.counts(dir, name)) debounce_->note(scope_.shown(path));
}

// A directory removed or moved away: its watches (and its subdirectories')
// would report under a path that no longer names them.
void AppWatch::forget_dirs_within(const std::string& dir) {
  for (auto it = by_path_.lower_bound(dir);
       it != by_path_.end() && it->first.compare(0, dir.size(), dir) == 0;) {
    if (!path_within(it->first, dir)) {
      ++it;
      continue;
    }
    ::inotify_rm_watch(inotify_.native_handle(), it->second);
    by_wd_.erase(it->second);
    it = by_path_.erase(it);
  }
}

}  // namespace muster::daemon
