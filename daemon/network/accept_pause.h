// What every accept loop (control socket, metrics endpoint, each round-robin
// listener) does when accept() fails with an error that does not end by
// itself: EMFILE/ENFILE (out of file descriptors), ENOBUFS/ENOMEM (out of
// kernel memory), or anything else it does not know to be transient. The
// listening socket stays readable while clients wait in its backlog, so
// accepting again at once spins: musterd used a whole CPU and wrote 58 MB of
// "accept failed" lines in 3 s at `ulimit -n 40`. Instead the loop
//  - sheds the oldest waiting client with the reserve descriptor (one fd of
//    /dev/null kept open for this, the classic trick): closed to make room for
//    one accept(), whose connection is told why (a farewell line) and closed
//    at once, then reopened — so a client learns it was refused instead of
//    waiting in the backlog;
//  - pauses: it stops waiting on the socket for kPause, then tries again;
//  - logs once per episode (when it begins and when accepting has worked
//    again for a second: at the limit, accepts that work and fail alternate)
//    and counts episodes and shed clients (muster_accept_pauses_total,
//    muster_accept_shed_total; docs/metrics.md).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace muster::daemon {

// Which kind of accept loop: the `listener` label of the metrics.
enum class Listener { control, metrics, rr };
const char* to_string(Listener);

struct AcceptPauseCounts {
  std::uint64_t pauses = 0;  // episodes: the loop paused after accepting normally
  std::uint64_t shed = 0;    // clients closed at once with the reserve descriptor
};
// Process-wide totals per kind of listener (the fd limit is the process's).
const AcceptPauseCounts& accept_pause_counts(Listener kind);

// accept()'s errors that end with the connection they concern (Linux
// accept(2): "treat them like EAGAIN by retrying"): accept again at once.
bool accept_error_is_transient(int err);

class AcceptPause {
 public:
  static constexpr auto kPause = std::chrono::milliseconds(100);
  // An episode is over once accepting has worked for this long.
  static constexpr auto kSettle = std::chrono::seconds(1);

  // `name` says which listener in the log ("control socket", "socket web");
  // `resume` runs after each pause: the loop tries accepting again.
  AcceptPause(boost::asio::io_context& io, Listener kind, std::string name,
              std::function<void()> resume);
  ~AcceptPause();
  AcceptPause(const AcceptPause&) = delete;
  AcceptPause& operator=(const AcceptPause&) = delete;

  // accept() on the listening socket `listen_fd` failed with `err` (never
  // EAGAIN). True: the loop must not wait on the socket now; `resume` runs
  // after the pause. False: a transient error, accept again at once. On
  // EMFILE/ENFILE the oldest waiting client is shed, sent `farewell` first.
  bool failed(int err, int listen_fd, std::string_view farewell = {});
  // An accept() worked: an episode under way ends (and is logged) if no
  // accept() fails again within kSettle.
  void accepted();
  bool paused() const { return paused_; }
  // Stops a pause under way (the loop is closing); `resume` does not run.
  void cancel();

 private:
  void shed(int listen_fd, std::string_view farewell);

  Listener kind_;
  std::string name_;
  std::function<void()> resume_;
  boost::asio::steady_timer timer_;   // the pause
  boost::asio::steady_timer settle_;  // the end of an episode
  bool paused_ = false;
  bool in_episode_ = false;
  std::uint64_t failures_ = 0;                  // failed accepts, ever
  std::uint64_t settling_ = ~std::uint64_t{0};  // failures_ when settle_ was armed
  std::chrono::steady_clock::time_point episode_start_{};
  std::uint64_t episode_shed_ = 0;
  // Completions of the timers check `alive`, a copy of watch_, not `this`:
  // one already queued when the owner (an RrHandle of a swept socket, say) is
  // freed must do nothing.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  std::weak_ptr<char> watch_ = alive_;
};

}  // namespace muster::daemon
