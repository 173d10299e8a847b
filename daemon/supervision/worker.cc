#include "daemon/supervision/worker.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "config/executable.h"
#include "daemon/launch/launcher.h"
#include "daemon/output/output_sink.h"
#include "daemon/supervision/inspector.h"
#include "daemon/supervision/worker_env.h"

namespace muster::daemon {
namespace asio = boost::asio;

namespace {
// ready = "auto": how long an online worker may go without asking for a
// server before it counts as one that does not listen (ready_timeout, if
// shorter, ends the wait the same way).
constexpr Duration kListenWait = std::chrono::seconds(5);
}  // namespace

std::string ExitInfo::describe() const {
  if (!spawn_error.empty()) return "spawn failed: " + spawn_error;
  if (signal && !reason.empty())
    return "killed by " + config::signal_name(*signal) + " (" + reason + ")";
  if (signal) return "killed by " + config::signal_name(*signal);
  if (code) return "exited with code " + std::to_string(*code);
  return "exited";
}

Worker::Worker(asio::io_context& io, WorkerContext& context, const config::AppConfig& app,
               WorkerIdentity identity, std::shared_ptr<OutputSink> output, ExitHandler on_exit)
    : io_(io),
      context_(context),
      app_(app),
      identity_(std::move(identity)),
      sink_(std::move(output)),
      on_exit_(std::move(on_exit)),
      stop_timer_(io),
      drain_timer_(io),
      quiet_timer_(io),
      ready_timer_(io),
      watchdog_timer_(io),
      probe_timer_(io) {}

Worker::~Worker() {
  // A life whose exit was never collected: it ends now, and the orphan reaper
  // collects it (its pid is still ours: nobody else reaps it).
  if (pid_ > 0 && life_.state != WorkerState::dead) {
    kill_group(SIGKILL);
    context_.launcher.release(pid_);
  }
}

void Worker::sample_usage() const {
  if (pid_ <= 0 || life_.state == WorkerState::dead) return;
  auto usage = context_.read_usage(pid_);
  if (!usage) return;
  usage_ = *usage;
  // Samples closer than kCpuWindow (one on demand right after a periodic one)
  // keep the older base: the clock tick (10 ms) would make their ratio noise.
  const Clock::time_point now = Clock::now();
  if (cpu_base_ && now - cpu_base_->first < kCpuWindow) return;
  if (cpu_base_) {
    const double seconds = std::chrono::duration<double>(now - cpu_base_->first).count();
    cpu_percent_ = std::max(0.0, (usage->cpu_seconds - cpu_base_->second) / seconds * 100);
  }
  cpu_base_ = {now, usage->cpu_seconds};
}

const ProcUsage& Worker::usage() const {
  if (usage_.rss_bytes == 0) sample_usage();
  return usage_;
}

Duration Worker::uptime() const {
  if (life_.state == WorkerState::spawning && pid_ == 0) return Duration{0};
  if (life_.state == WorkerState::dead) return exit_.uptime;
  return std::chrono::duration_cast<Duration>(Clock::now() - started_);
}

void Worker::start() {
  auto launched = launch();
  child_channel_end_.reset();  // the launcher has its copy now
  if (!launched) {
    exit_.spawn_error = launched.error().message;
    on(Event::spawn_failed);
  }
}

// Everything up to handing the process to the launcher (its answer comes
// later, from the loop), or the error that stopped it.
Result<void> Worker::launch() {
  std::string path;
  SpawnSpec spec;
  auto creds = resolve_credentials(app_);
  if (creds && *creds) spec.credentials = credentials_ = **creds;
  spec.env =
      worker_environment(app_, identity_, credentials_ ? credentials_->uid : ::getuid(), path);
  spec.args = app_.args;
  spec.cwd = app_.cwd;
  auto exe = config::resolve_executable(app_.exec, app_.cwd, path);
  if (!creds) return creds.error();  // a user/group error is reported before an executable one
  if (!exe) return exe.error();
  spec.executable = *exe;
  if (auto address = config::inspector_address(app_, identity_.instance)) {
    inspector_ = *address;
    inspector_signal_ok_ = runs_node_directly(spec.executable);
    inspector_port_ = static_cast<std::uint16_t>(app_.inspect->port + identity_.instance);
    add_inspector(spec, inspector_);
  }
  if (auto prepared = prepare_channel(spec); !prepared) return prepared;
  if (auto prepared = prepare_sockets(spec); !prepared) return prepared;
  // The child's copies are all it needs, whatever happens.
  auto output = open_output(spec);
  ipc::UniqueFd stdout_fd(spec.stdout_fd), stderr_fd;
  if (spec.stderr_fd != spec.stdout_fd) stderr_fd.reset(spec.stderr_fd);
  if (!output) return output;
  context_.launcher.spawn(spec, [self = shared_from_this()](Launcher::Started started) {
    if (!started) {
      self->exit_.spawn_error = started.error().message;
      return self->on(Event::spawn_failed);
    }
    self->pid_ = *started;
    self->started_ = Clock::now();
    self->on(Event::spawned);  // stopped meanwhile: see launched_stopping()
    if (self->context_.spawned) self->context_.spawned(*self);
  });
  return {};
}

// Node protocol: a socketpair whose far end becomes the worker's fd 3
// (NODE_CHANNEL_FD), as child_process.fork() sets it up.
Result<void> Worker::prepare_channel(SpawnSpec& spec) {
  if (app_.protocol != config::Protocol::node) return {};
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
    int err = errno;
    return Error{"cannot create the IPC channel: " + describe_errno(err), err};
  }
  child_channel_end_.reset(pair[1]);
  bool advanced = app_.serialization == config::Serialization::advanced;
  channel_ = std::make_shared<ipc::NodeChannel>(
      io_, ipc::UniqueFd(pair[0]),
      advanced ? ipc::Serialization::advanced : ipc::Serialization::json);
  constexpr int kChannelFd = 3;
  spec.pass_fds.emplace_back(pair[1], kChannelFd);
  spec.env.push_back("NODE_CHANNEL_FD=" + std::to_string(kChannelFd));
  spec.env.push_back("NODE_UNIQUE_ID=" + std::to_string(identity_.id));
  spec.env.push_back(std::string("NODE_CHANNEL_SERIALIZATION_MODE=") +
                     (advanced ? "advanced" : "json"));
  return {};
}

void Worker::arm_drain_timer() {
  drain_timer_.expires_after(app_.drain_timeout);
  drain_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->on(Event::drain_timeout);
  });
}

void Worker::arm_quiet_timer() {
  quiet_timer_.expires_after(kListenWait);
  quiet_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->on(Event::quiet);
  });
}

void Worker::arm_watchdog() {
  if (app_.watchdog.count() <= 0) return;
  watchdog_timer_.expires_after(app_.watchdog);
  watchdog_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->on(Event::watchdog_timeout);
  });
}

void Worker::stop() {
  WorkerFacts f = facts();
  f.signal_after_disconnect = true;  // Node's worker.kill(), not disconnect()
  on(Event::stop, f);
}

void Worker::disconnect() { on(Event::stop); }

bool Worker::send_signal(int signo) {
  if (life_.state == WorkerState::dead || pid_ <= 0) return false;
  if (context_.launcher.signal(pid_, signo, SignalTarget::process) != 0) return false;
  WorkerFacts f = facts();
  f.signo = signo;
  on(Event::operator_signal, f);
  return true;
}

void Worker::kill_now() { on(Event::kill); }

void Worker::open_inspector() {
  if (!inspector_signal_ok_ || life_.state == WorkerState::dead || pid_ <= 0) return;
  context_.launcher.signal(pid_, SIGUSR1, SignalTarget::process);
}

void Worker::kill_group(int signo) {
  // The worker leads its own process group (setsid at spawn): this reaches its
  // children too. Falls back to the pid if the group is already gone.
  if (pid_ > 0) context_.launcher.signal(pid_, signo, SignalTarget::group_or_process);
}

void Worker::start_stop_timer() { arm_stop_timer(Clock::now() + app_.stop_timeout); }

void Worker::arm_stop_timer(Clock::time_point deadline) {
  stop_timer_.expires_at(deadline);
  stop_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->on(Event::stop_timeout);
  });
}

void Worker::arm_ready_timer(Clock::time_point deadline) {
  ready_timer_.expires_at(deadline);
  ready_timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->on(Event::ready_timeout);
  });
}

// Its exit, collected once by the launcher (daemon/launch/process_launcher.cc: a
// pidfd read with waitid, never a blocking wait).
void Worker::wait_for_exit() {
  auto watched =
      context_.launcher.watch_exit(pid_, [self = shared_from_this()](const ProcessExit& exit) {
        self->exit_.code = exit.code;
        self->exit_.signal = exit.signal;
        self->on(Event::exited);
      });
  if (watched) return;
  // Out of fds, say: a worker must not run unwatched, so end it now; its
  // exit is then reported with an unknown status.
  spdlog::error("{}[{}] cannot watch its exit ({}): killing it", identity_.app, identity_.id,
                watched.error().message);
  kill_group(SIGKILL);
  context_.launcher.release(pid_);  // the orphan reaper collects it
  asio::post(io_, [self = shared_from_this()] { self->on(Event::exited); });
}

}  // namespace muster::daemon
