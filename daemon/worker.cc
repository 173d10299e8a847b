#include "daemon/worker.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <spdlog/spdlog.h>

#include "config/executable.h"
#include "daemon/events.h"
#include "daemon/worker_env.h"
#include "daemon/memory_reserve.h"
#include "daemon/orphan_reaper.h"
#include "daemon/output_sink.h"

namespace muster::daemon {
namespace asio = boost::asio;

namespace {
// ready = "auto": how long an online worker may go without asking for a
// server before it counts as one that does not listen (ready_timeout, if
// shorter, ends the wait the same way).
constexpr Duration kListenWait = std::chrono::seconds(5);
}  // namespace

const char* to_string(WorkerState s) {
  switch (s) {
    case WorkerState::spawning: return "spawning";
    case WorkerState::online: return "online";
    case WorkerState::listening: return "listening";
    case WorkerState::disconnecting: return "disconnecting";
    case WorkerState::dead: return "dead";
  }
  return "?";
}

std::string ExitInfo::describe() const {
  if (!spawn_error.empty()) return "spawn failed: " + spawn_error;
  if (signal && !reason.empty()) return "killed by " + config::signal_name(*signal) + " (" + reason + ")";
  if (signal) return "killed by " + config::signal_name(*signal);
  if (code) return "exited with code " + std::to_string(*code);
  return "exited";
}

Worker::Worker(asio::io_context& io, WorkerContext& context, const config::AppConfig& app,
               WorkerIdentity identity, std::shared_ptr<OutputSink> output, ExitHandler on_exit)
    : io_(io), context_(context), app_(app), identity_(std::move(identity)),
      sink_(std::move(output)), on_exit_(std::move(on_exit)),
      stop_timer_(io), exit_watch_(io), drain_timer_(io), quiet_timer_(io),
      ready_timer_(io), watchdog_timer_(io), probe_timer_(io) {}

Worker::~Worker() {
  // A life whose exit was never collected: it ends now, and the orphan reaper
  // collects it (its pid is still ours: nobody else reaps it).
  if (pid_ > 0 && state_ != WorkerState::dead) {
    kill_group(SIGKILL);
    OrphanReaper::release(pid_);
  }
}

void Worker::sample_usage() const {
  if (pid_ <= 0 || state_ == WorkerState::dead) return;
  if (auto usage = read_proc_usage(pid_)) usage_ = *usage;
}

const ProcUsage& Worker::usage() const {
  if (usage_.rss_bytes == 0) sample_usage();
  return usage_;
}

Duration Worker::uptime() const {
  if (state_ == WorkerState::spawning && pid_ == 0) return Duration{0};
  if (state_ == WorkerState::dead) return exit_.uptime;
  return std::chrono::duration_cast<Duration>(Clock::now() - started_);
}

void Worker::start() {
  std::string error = launch();
  child_channel_end_.reset();  // the worker has its copy now
  if (!error.empty()) {
    exit_.spawn_error = error;
    on(Event::spawn_failed);
    return;
  }
  started_ = Clock::now();
  on(Event::spawned);
}

// Everything up to the running process; an error message, or "" and pid_ set.
std::string Worker::launch() {
  std::string error;
  std::string path;
  SpawnSpec spec;
  auto creds = resolve_credentials(app_);
  if (auto* c = std::get_if<Credentials>(&creds)) spec.credentials = credentials_ = *c;
  spec.env = worker_environment(app_, identity_, credentials_ ? credentials_->uid : ::getuid(), path);
  spec.args = app_.args;
  spec.cwd = app_.cwd;
  auto exe = config::resolve_executable(app_.exec, app_.cwd, path);
  if (exe.index() == 1) error = std::get<1>(exe);
  if (auto* msg = std::get_if<std::string>(&creds)) error = *msg;
  if (error.empty()) {
    spec.executable = std::get<0>(exe);
    error = prepare_channel(spec);
    if (error.empty()) error = prepare_sockets(spec);
  }
  // The child's copies are all it needs, whatever happens.
  ipc::UniqueFd stdout_fd, stderr_fd;
  if (error.empty()) {
    open_output(spec, error);
    stdout_fd.reset(spec.stdout_fd);
    if (spec.stderr_fd != spec.stdout_fd) stderr_fd.reset(spec.stderr_fd);
  }
  if (error.empty()) {
    auto result = spawn(spec);
    if (auto* msg = std::get_if<std::string>(&result)) error = *msg;
    else pid_ = std::get<pid_t>(result);
  }
  return error;
}

// Node protocol: a socketpair whose far end becomes the worker's fd 3
// (NODE_CHANNEL_FD), as child_process.fork() sets it up.
std::string Worker::prepare_channel(SpawnSpec& spec) {
  if (app_.protocol != config::Protocol::node) return "";
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    return "cannot create the IPC channel: " + describe_errno(errno);
  child_channel_end_.reset(pair[1]);
  channel_ = std::make_shared<ipc::NodeChannel>(io_, ipc::UniqueFd(pair[0]));
  constexpr int kChannelFd = 3;
  spec.pass_fds.emplace_back(pair[1], kChannelFd);
  spec.env.push_back("NODE_CHANNEL_FD=" + std::to_string(kChannelFd));
  spec.env.push_back("NODE_UNIQUE_ID=" + std::to_string(identity_.id));
  spec.env.push_back("NODE_CHANNEL_SERIALIZATION_MODE=json");
  return "";
}

void Worker::mark_ready(config::Ready reached) {
  auto wanted = app_.ready == config::Ready::automatic ? config::Ready::listening : app_.ready;
  if (!ready_ && reached == wanted) become_ready();
}

void Worker::become_ready() {
  ready_ = true;
  sample_usage();  // a ready worker has loaded what it runs: a figure worth showing
  ready_timer_.cancel();
  spdlog::debug("{}[{}] ready", identity_.app, identity_.id);
  if (auto callback = std::move(on_ready_)) asio::post(io_, std::move(callback));
}

// A drain the worker started itself (cluster.worker.disconnect()) is bounded
// only if the user asked for it: Node's primary waits as long as it takes.
void Worker::start_drain_timer() {
  if (draining_ || stopping_ || app_.drain_timeout.count() <= 0) return;
  draining_ = true;
  drain_timer_.expires_after(app_.drain_timeout);
  drain_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->on(Event::drain_timeout);
  });
}

void Worker::arm_watchdog() {
  if (app_.watchdog.count() <= 0) return;
  watchdog_timer_.expires_after(app_.watchdog);
  watchdog_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->on(Event::watchdog_timeout);
  });
}

// The worker is broken in a way it will not fix itself: end it now; its exit
// counts as a crash (backoff, crash-loop detection).
void Worker::crash(const char* why) {
  spdlog::warn("{}[{}] {}; killing it", identity_.app, identity_.id, why);
  forced_ = true;
  if (exit_.reason.empty()) exit_.reason = why;
  kill_group(SIGKILL);
}

void Worker::stop() {
  kill_after_disconnect_ = true;
  on(Event::stop);
}

void Worker::disconnect() {
  voluntary_ = true;
  on(Event::stop);
}

bool Worker::send_signal(int signo) {
  if (state_ == WorkerState::dead || pid_ <= 0) return false;
  if (::kill(pid_, signo) != 0) return false;
  operator_signals_.sent(signo, Clock::now(), app_.stop_signal, app_.stop_timeout);
  return true;
}

void Worker::kill_now() {
  if (state_ != WorkerState::dead) kill_group(SIGKILL);
}

void Worker::kill_group(int signo) {
  // The worker leads its own process group (setsid at spawn): this reaches its
  // children too. Falls back to the pid if the group is already gone.
  if (pid_ > 0 && ::kill(-pid_, signo) < 0) ::kill(pid_, signo);
}

void Worker::on(Event event) {
  auto self = shared_from_this();
  auto& events = context_.events;
  boost::json::object who{{"id", identity_.id}, {"pid", pid_}};
  switch (event) {
    case Event::spawned:
      spdlog::info("{}[{}] started, pid {}, instance {}", identity_.app, identity_.id, pid_,
                   identity_.instance);
      events.publish("fork", identity_.app,
                     {{"id", identity_.id}, {"pid", pid_}, {"instance", identity_.instance}});
      wait_for_exit();
      read_output();
      mark_ready(config::Ready::spawn);
      if (!ready_) arm_ready_timer(boost::asio::steady_timer::clock_type::now() + app_.ready_timeout);
      arm_watchdog();
      if (channel_) {
        channel_->start(
            [w = weak_from_this()](boost::json::value m, ipc::UniqueFd fd) {
              auto self = w.lock();
              if (!self) return;
              try {
                self->on_channel_message(std::move(m), std::move(fd));
              } catch (const std::exception& e) {
                memory_reserve::release_if_out_of_memory(e);
                // Out of memory, say: this one message is not acted on.
                spdlog::error("{}[{}] its message could not be handled: {}",
                              self->identity_.app, self->identity_.id, e.what());
              }
            },
            [w = weak_from_this()](const std::string& error) {
              if (auto self = w.lock()) self->on_channel_closed(error);
            });
      } else {
        // Without a channel there is nothing more to wait for: the process runs.
        on(Event::online);
      }
      return;
    case Event::spawn_failed:
      state_ = WorkerState::dead;
      spdlog::error("{}[{}] {}", identity_.app, identity_.id, exit_.describe());
      asio::post(io_, [self] { self->on_exit_(*self, self->exit_); });
      return;
    case Event::online:
      if (state_ != WorkerState::spawning) return;
      state_ = WorkerState::online;
      events.publish("online", identity_.app, who);
      mark_ready(config::Ready::online);
      if (!ready_ && channel_) probe_own_listen();
      if (!ready_ && app_.ready == config::Ready::automatic && !must_listen_) {
        quiet_timer_.expires_after(kListenWait);
        quiet_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
          if (auto self = w.lock(); self && !ec) self->on(Event::quiet);
        });
      }
      return;
    case Event::quiet:
      // Node lets a worker run without servers (a background job): one that
      // has asked for none is ready as it is, never killed for not listening.
      if (ready_ || state_ != WorkerState::online || asked_server_ || must_listen_) return;
      spdlog::info("{}[{}] asked for no server: ready without listening", identity_.app,
                   identity_.id);
      become_ready();
      return;
    case Event::server_requested:
      asked_server_ = true;
      // It listens again: whatever it closed was not a disconnect.
      if (draining_ && !after_disconnect_) {
        draining_ = false;
        drain_timer_.cancel();
      }
      return;
    case Event::servers_closed:
      // The first sign of a worker's own disconnect (it closes every server,
      // then waits for their connections to end); a server.close() alone
      // looks the same, so only a drain_timeout the user set applies here.
      if (state_ == WorkerState::online || state_ == WorkerState::listening) start_drain_timer();
      return;
    case Event::left_on_its_own:
      after_disconnect_ = true;
      voluntary_ = true;
      start_drain_timer();
      return;
    case Event::drain_timeout:
      if (state_ == WorkerState::dead || !draining_) return;
      spdlog::warn("{}[{}] did not finish leaving within drain_timeout ({}ms); sending SIGKILL",
                   identity_.app, identity_.id, app_.drain_timeout.count());
      voluntary_ = true;  // it was leaving on its own: not a crash
      if (exit_.reason.empty()) exit_.reason = "drain_timeout";
      kill_group(SIGKILL);
      return;
    case Event::listening:
      if (state_ != WorkerState::online && state_ != WorkerState::listening) return;
      state_ = WorkerState::listening;
      mark_ready(config::Ready::listening);
      return;
    case Event::notified_ready:
      // systemd protocol: READY=1 is the listening of a socket-activated server.
      if (state_ == WorkerState::online) state_ = WorkerState::listening;
      mark_ready(config::Ready::notify);
      return;
    case Event::stopping:
      // STOPPING=1: the worker is on its way out; stop_timeout bounds it.
      if (state_ != WorkerState::online && state_ != WorkerState::listening) return;
      state_ = WorkerState::disconnecting;
      start_stop_timer();
      return;
    case Event::ready_timeout:
      if (ready_ || state_ == WorkerState::dead || state_ == WorkerState::disconnecting) return;
      if (app_.ready == config::Ready::automatic && state_ == WorkerState::online &&
          !asked_server_ && !must_listen_) {
        on(Event::quiet);
        return;
      }
      events.publish("ready_timeout", identity_.app, who);
      crash("did not become ready within ready_timeout");
      return;
    case Event::watchdog_timeout:
      if (state_ == WorkerState::dead) return;
      events.publish("watchdog", identity_.app, who);
      crash("missed its watchdog");
      return;
    case Event::stop:
      if (state_ == WorkerState::dead || stopping_) return;
      if (state_ == WorkerState::disconnecting) {
        stopping_ = true;
        voluntary_ = true;
        // Leaving on its own, unbounded (drain_timeout off): a stop bounds it.
        if (after_disconnect_) start_stop_timer();
        if (kill_after_disconnect_ && !has_channel()) kill_group(app_.stop_signal);
        return;
      }
      state_ = WorkerState::disconnecting;
      stopping_ = true;
      voluntary_ = true;
      if (has_channel()) {
        after_disconnect_ = true;  // as Node's worker.disconnect() sets it
        // Node's worker.disconnect(): the worker closes its servers and goes.
        spdlog::debug("{}[{}] disconnecting", identity_.app, identity_.id);
        leave_sockets();
        send_cluster({{"act", "disconnect"}});
      } else {
        spdlog::debug("{}[{}] stopping with {}", identity_.app, identity_.id,
                      config::signal_name(app_.stop_signal));
        kill_group(app_.stop_signal);
      }
      start_stop_timer();
      return;
    case Event::channel_closed:
      leave_sockets();
      parked_.clear();
      events.publish("disconnect", identity_.app, who);
      if (state_ == WorkerState::dead) return;
      if (stopping_ && kill_after_disconnect_) kill_group(app_.stop_signal);
      if (after_disconnect_ && !stopping_) {
        // Its own disconnect is done; Node's primary lets it linger as long
        // as its event loop keeps it alive. drain_timeout, if set, bounds it.
        state_ = WorkerState::disconnecting;
        start_drain_timer();
        return;
      }
      // A worker that dropped its channel is leaving; one that lingers (a
      // timer keeps Node alive) is ended by stop_timeout.
      if (state_ != WorkerState::disconnecting) {
        state_ = WorkerState::disconnecting;
        start_stop_timer();
      }
      return;
    case Event::stop_timeout:
      if (state_ != WorkerState::disconnecting) return;
      spdlog::warn("{}[{}] did not exit within {}ms; sending SIGKILL", identity_.app,
                   identity_.id, app_.stop_timeout.count());
      kill_group(SIGKILL);
      return;
    case Event::exited: {
      state_ = WorkerState::dead;
      stop_timer_.cancel();
      drain_timer_.cancel();
      quiet_timer_.cancel();
      ready_timer_.cancel();
      watchdog_timer_.cancel();
      probe_timer_.cancel();
      // Node emits 'disconnect' before 'exit'; the channel's EOF may not have
      // been read yet when the exit is.
      if (has_channel()) events.publish("disconnect", identity_.app, who);
      if (channel_) channel_->close();
      leave_sockets();
      parked_.clear();
      // Whatever the worker left behind in its group goes with it. The group
      // only: the worker itself is reaped, and its pid may be someone else's.
      if (pid_ > 0) ::kill(-pid_, SIGKILL);
      exit_.voluntary =
          (voluntary_ || operator_signals_.ended_it(exit_.signal, Clock::now())) && !forced_;
      exit_.forced = forced_;
      exit_.after_disconnect = after_disconnect_;
      exit_.uptime = std::chrono::duration_cast<Duration>(Clock::now() - started_);
      if (exit_.voluntary || exit_.clean())
        spdlog::info("{}[{}] {}", identity_.app, identity_.id, exit_.describe());
      else
        spdlog::warn("{}[{}] {}", identity_.app, identity_.id, exit_.describe());
      boost::json::object e = who;
      e["code"] = exit_.code ? boost::json::value(*exit_.code) : nullptr;
      e["signal"] = exit_.signal ? boost::json::value(config::signal_name(*exit_.signal)) : nullptr;
      e["voluntary"] = exit_.voluntary;
      e["exitedAfterDisconnect"] = exit_.after_disconnect;
      events.publish("exit", identity_.app, std::move(e));
      try {
        on_exit_(*this, exit_);
      } catch (const std::exception& err) {
        memory_reserve::release_if_out_of_memory(err);
        spdlog::error("{}[{}] its exit could not be handled: {}", identity_.app, identity_.id,
                      err.what());
      }
      return;
    }
  }
}

void Worker::start_stop_timer() {
  arm_stop_timer(boost::asio::steady_timer::clock_type::now() + app_.stop_timeout);
}

void Worker::arm_stop_timer(boost::asio::steady_timer::time_point deadline) {
  stop_timer_.expires_at(deadline);
  stop_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->on(Event::stop_timeout);
  });
}

void Worker::arm_ready_timer(boost::asio::steady_timer::time_point deadline) {
  ready_timer_.expires_at(deadline);
  ready_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->on(Event::ready_timeout);
  });
}

// The pidfd's readability is only a hint; waitid(P_PIDFD, WNOHANG) decides,
// and never blocks. (A blocking waitpid(pid) after a readable pidfd, as
// Boost.Process 1.81's async_wait did, stalls the whole daemon whenever that
// pid is not, or no longer, the exited child: seen as a 10 s hang.)
void Worker::wait_for_exit() {
  if (!exit_watch_.is_open()) {
    // A zombie has a pidfd too.
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd < 0) {
      // Out of fds, say: a worker must not run unwatched, so end it now; its
      // exit is then reported with an unknown status.
      spdlog::error("{}[{}] cannot watch its exit ({}): killing it", identity_.app,
                    identity_.id, std::strerror(errno));
      kill_group(SIGKILL);
      OrphanReaper::release(pid_);  // the orphan reaper collects it
      asio::post(io_, [self = shared_from_this()] { self->on(Event::exited); });
      return;
    }
    exit_watch_.assign(pidfd);
  }
  exit_watch_.async_wait(asio::posix::stream_descriptor::wait_read,
                         [self = shared_from_this()](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    siginfo_t info{};
    constexpr auto kPidfd = static_cast<idtype_t>(3);  // P_PIDFD (Linux 5.4)
    int r = ::waitid(kPidfd, self->exit_watch_.native_handle(), &info, WEXITED | WNOHANG);
    if (r == 0 && info.si_pid == 0) return self->wait_for_exit();  // not exited yet
    OrphanReaper::release(self->pid_);
    if (r == 0 && info.si_code == CLD_EXITED) self->exit_.code = info.si_status;
    else if (r == 0) self->exit_.signal = info.si_status;  // CLD_KILLED / CLD_DUMPED
    self->on(Event::exited);
  });
}

}  // namespace muster::daemon
