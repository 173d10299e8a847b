#include "daemon/spawner.h"

#include <fcntl.h>
#include <signal.h>

#include <boost/asio/post.hpp>
#include <cerrno>

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
  if (same) spec.stderr_fd = spec.stdout_fd;
  else if (spec.stderr_fd >= 0 && (spec.stderr_fd = copy_fd(spec.stderr_fd, held)) < 0)
    return errno;
  for (auto& [from, to] : spec.pass_fds)
    if ((from = copy_fd(from, held)) < 0) return errno;
  return 0;
}

}  // namespace

Spawner::Spawner(boost::asio::io_context& io) : io_(io) {
  // The thread takes no signal: musterd's handlers run on the loop's thread,
  // and spawn() blocks them around clone anyway.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  thread_ = std::thread([this] { run(); });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

Spawner::~Spawner() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Spawner::submit(const SpawnSpec& spec, Done done) {
  Job job{spec, {}, std::move(done)};
  if (int err = take_copies(job.spec, job.held)) {
    Started error = "cannot start '" + spec.executable + "': " + describe_errno(err);
    boost::asio::post(io_, [done = std::move(job.done), error] { done(error); });
    return;
  }
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void Spawner::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return quit_ || !jobs_.empty(); });
      if (quit_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Started started = spawn(job.spec);
    job.held.clear();  // the child has its own copies, or there is no child
    boost::asio::post(io_, [done = std::move(job.done), started = std::move(started)] {
      done(started);
    });
  }
}

}  // namespace muster::daemon
