#include "daemon/launch/spawner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace muster::daemon {
namespace {

// A close-on-exec copy of `fd` kept in `held`; the copy's number, or -1.
int copy_fd(int fd, std::vector<ipc::UniqueFd>& held) {
  if (fd < 0) return fd;
  ipc::UniqueFd copy = ipc::duplicate(fd);
  if (!copy) return -1;
  held.push_back(std::move(copy));
  return held.back().get();
}

// The job's spec names copies of the caller's fds: the caller may close or
// reuse its own numbers while the thread starts the process. An errno.
int take_copies(SpawnSpec& spec, std::vector<ipc::UniqueFd>& held) {
  bool same = spec.stderr_fd == spec.stdout_fd;
  if (spec.stdout_fd >= 0 && (spec.stdout_fd = copy_fd(spec.stdout_fd, held)) < 0) return errno;
  if (same)
    spec.stderr_fd = spec.stdout_fd;
  else if (spec.stderr_fd >= 0 && (spec.stderr_fd = copy_fd(spec.stderr_fd, held)) < 0)
    return errno;
  for (auto& [from, to] : spec.pass_fds)
    if ((from = copy_fd(from, held)) < 0) return errno;
  return 0;
}

}  // namespace

Spawner::Spawner(boost::asio::io_context& io, Mode mode)
    : io_(io), finished_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), finished_watch_(io) {
  if (!finished_fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
  int watched = ::fcntl(finished_fd_.get(), F_DUPFD_CLOEXEC, 0);  // its own copy to close
  if (watched < 0) throw std::system_error(errno, std::generic_category(), "dup");
  finished_watch_.assign(watched);
  if (mode == Mode::caller) return;
  // The thread takes no signal: musterd's handlers run on the loop's thread,
  // and spawn() blocks them around clone anyway.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  thread_ = std::thread([this] { run(); });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

Spawner::~Spawner() {
  stop();
  if (thread_.joinable()) thread_.join();
}

void Spawner::stop() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_one();
}

void Spawner::run_here() { run(); }

void Spawner::run_on_thread(const std::function<void()>& task) {
  std::list<Job> one;
  one.push_back(Job{});
  one.front().task = &task;
  std::unique_lock lock(mutex_);
  task_done_ = false;
  jobs_.splice(jobs_.end(), one);
  wake_.notify_one();
  task_returned_.wait(lock, [this] { return task_done_ || quit_; });
}

void Spawner::submit(const SpawnSpec& spec, Done done) {
  std::list<Job> one;
  one.push_back(Job{spec, nullptr, {}, std::move(done), {}});
  Job& job = one.front();
  job.out_of_memory = "cannot start '" + spec.executable + "': " + describe_errno(ENOMEM);
  if (int err = take_copies(job.spec, job.held)) {
    job.started = Error{"cannot start '" + spec.executable + "': " + describe_errno(err), err};
    job.held.clear();
    std::lock_guard lock(mutex_);
    finished_.splice(finished_.end(), one);
    signal_finished();
  } else {
    std::lock_guard lock(mutex_);
    jobs_.splice(jobs_.end(), one);
  }
  wake_.notify_one();
  if (!watching_) watch();
}

void Spawner::run() {
  for (;;) {
    std::list<Job> one;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return quit_ || !jobs_.empty(); });
      if (quit_) return;
      one.splice(one.begin(), jobs_, jobs_.begin());
    }
    Job& job = one.front();
    if (job.task) {
      (*job.task)();
      std::lock_guard lock(mutex_);
      task_done_ = true;
      task_returned_.notify_all();
      continue;
    }
    try {
      job.started = spawn(job.spec);
    } catch (const std::bad_alloc&) {
      job.started = Error{std::move(job.out_of_memory), ENOMEM};  // moves: no allocation
    }
    job.held.clear();  // the child has its own copies, or there is no child
    std::lock_guard lock(mutex_);
    finished_.splice(finished_.end(), one);
    signal_finished();
  }
}

void Spawner::signal_finished() {
  std::uint64_t one = 1;
  // Only fails if the counter would overflow: it is read before that.
  [[maybe_unused]] auto n = ::write(finished_fd_.get(), &one, sizeof one);
}

// Spawner lives as long as the loop runs (a member of musterd's
// ProcessLauncher); a wait still pending when it goes is cancelled and its
// handler, if run at all, sees operation_aborted first.
void Spawner::watch() {
  watching_ = true;
  finished_watch_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                             [this](boost::system::error_code ec) {
                               if (ec == boost::asio::error::operation_aborted) return;
                               watching_ = false;
                               watch();
                               deliver();
                             });
}

void Spawner::deliver() {
  std::uint64_t count;
  [[maybe_unused]] auto n = ::read(finished_fd_.get(), &count, sizeof count);
  std::list<Job> done;
  {
    std::lock_guard lock(mutex_);
    done.splice(done.end(), finished_);
  }
  while (!done.empty()) {
    std::list<Job> one;
    one.splice(one.begin(), done, done.begin());
    try {
      one.front().done(std::move(one.front().started));
    } catch (...) {
      // The rest are delivered on the next turn; this one's handler failed
      // (the loop's edge logs it).
      std::lock_guard lock(mutex_);
      finished_.splice(finished_.begin(), done);
      signal_finished();
      throw;
    }
  }
}

}  // namespace muster::daemon
