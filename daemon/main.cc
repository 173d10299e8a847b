// musterd: reads the config, binds the control socket, supervises the apps.
// Exit codes (SPEC.md): 0 ok, 1 failure at run time, 2 usage or config error.
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include "base/version.h"
#include "config/config.h"
#include "config/file_safety.h"
#include "daemon/common/event_loop.h"
#include "daemon/common/memory_reserve.h"
#include "daemon/common/signals.h"
#include "daemon/handover/exec_handover.h"
#include "daemon/handover/state_file.h"
#include "daemon/handover/upgrade_info.h"
#include "daemon/launch/orphan_reaper.h"
#include "daemon/launch/process_launcher.h"
#include "daemon/launch/process_setup.h"
#include "daemon/output/logging.h"
#include "daemon/wiring/supervisor.h"

namespace cfg = muster::config;

namespace {

struct Options {
  std::string config_path = cfg::default_config_path();
  std::string log_level;
  std::string environment;
  bool check = false;
  bool upgrade_info = false;
  // An in-place upgrade's (hidden; supervisor_upgrade.cc passes them).
  int restore_fd = -1;         // the state file
  int previous_exe_fd = -1;    // the binary to fall back to (the new binary only)
  std::string upgrade_failed;  // the old binary again: why the new one could not restore
};

// Reads the command line into `options`; the exit code when it says to exit
// (--help, --version, --upgrade-info, a usage error).
std::optional<int> parse_options(int argc, char** argv, Options& options) {
  CLI::App cli{"musterd: a process supervisor that owns the sockets and runs the workers"};
  cli.add_option("-c,--config", options.config_path,
                 "config file (default: $MUSTER_CONFIG, else "
                 "/etc/muster/muster.toml)");
  cli.add_option("--environment", options.environment,
                 "apply the apps' [apps.NAME.environments.ENV] overlays of this environment "
                 "(over $MUSTER_ENVIRONMENT and [daemon] environment)");
  cli.add_flag("--check", options.check, "validate the config and exit (0 valid, 2 invalid)");
  cli.add_option("--log-level", options.log_level, "override daemon.log_level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cli.set_version_flag("--version", std::string("musterd ") + muster::version());
  // Hidden: a running musterd asks the binary it is to upgrade to
  // (daemon/handover/binary_check.h); no operator needs it.
  cli.add_flag("--upgrade-info", options.upgrade_info)->group("");
  cli.add_option("--restore-from-fd", options.restore_fd)->group("");
  cli.add_option("--previous-exe-fd", options.previous_exe_fd)->group("");
  cli.add_option("--upgrade-failed", options.upgrade_failed)->group("");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = cli.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (options.upgrade_info) {
    std::cout << muster::daemon::handover::upgrade_info_json() << std::endl;
    return 0;
  }
  return std::nullopt;
}

// The config file if it is safe to read and valid; otherwise nothing, and
// why is on stderr.
std::optional<cfg::Config> load_config(const std::string& path, const std::string& environment) {
  if (auto unsafe = cfg::refuse_unsafe_config(path)) {
    std::cerr << path << ": " << *unsafe << "\n";
    return std::nullopt;
  }
  cfg::LoadOptions load_options;
  load_options.host = cfg::HostChecks::run;
  if (!environment.empty()) load_options.environment = environment;
  auto loaded = cfg::load_file(path, load_options);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    return std::nullopt;
  }
  return std::move(*loaded.config);
}

void override_log_level(cfg::Config& config, const std::string& log_level) {
  using L = cfg::LogLevel;
  const std::pair<const char*, L> levels[] = {{"trace", L::trace},
                                              {"debug", L::debug},
                                              {"info", L::info},
                                              {"warn", L::warn},
                                              {"error", L::error}};
  for (auto& [name, level] : levels)
    if (log_level == name) config.daemon.log_level = level;
}

// musterd's arguments without the hidden ones an upgrade adds: what it
// passes on when it execs.
std::vector<std::string> own_args(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--restore-from-fd" || a == "--previous-exe-fd" || a == "--upgrade-failed") {
      ++i;
      continue;
    }
    out.push_back(std::move(a));
  }
  return out;
}

// The path this binary was started from: an upgrade's default binary (after
// a package replaced the file, the path names the new one).
std::string own_path() {
  std::string path(4096, '\0');
  ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  path.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return path;
}

// Everything musterd opens is close-on-exec; what an upgrade passed on is
// made so again once it has been taken over.
void close_on_exec_from(int first) {
  if (::close_range(static_cast<unsigned>(first), ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  for (int fd = first; fd < 65536; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

// The event loop on a thread of its own, and the processes started on this
// one, the main thread (daemon/launch/spawner.h says why).
int run(boost::asio::io_context& io, muster::daemon::ProcessLauncher& launcher) {
  std::thread loop([&] {
    muster::daemon::run_event_loop(io);
    launcher.stop_spawner();
  });
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);  // the loop's thread takes them
  launcher.run_spawner_here();
  loop.join();
  return 0;
}

int start(Options& options, int argc, char** argv) {
  auto loaded = load_config(options.config_path, options.environment);
  if (!loaded) return 2;
  cfg::Config config = std::move(*loaded);
  if (options.check) {
    std::cout << config.path << ": ok (" << config.apps.size() << " apps)\n";
    return 0;
  }
  if (auto kernel = muster::daemon::missing_kernel_features(); !kernel) {
    std::cerr << kernel.error().message << "\n";
    return 1;
  }
  if (!options.log_level.empty()) override_log_level(config, options.log_level);
  muster::daemon::setup_logging(config.daemon.log_level, config.daemon.log_format);
  if (!config.environment.empty())
    spdlog::info("environment {} (from {})", config.environment,
                 cfg::to_string(config.environment_source));
  // A write to a client or worker that went away must be an error, not
  // death (SIGPIPE); likewise a write past RLIMIT_FSIZE (systemd's
  // LimitFSIZE=, ulimit -f) to an output_file: EFBIG, handled like a full
  // disk (SIGXFSZ). The Supervisor catches the other signals that would end
  // musterd (daemon/common/signals.h).
  muster::daemon::prepare_signal_dispositions();

  // Sockets systemd passed: a .socket unit's, or our own from the fd store.
  auto inherited = muster::daemon::take_systemd_sockets();
  if (!inherited) {
    spdlog::error("{}", inherited.error().message);
    return 2;
  }

  muster::daemon::memory_reserve::keep();  // for running out of memory later
  boost::asio::io_context io;
  muster::daemon::ProcessLauncher launcher(io, muster::daemon::Spawner::Mode::caller);
  muster::daemon::OrphanReaper orphans(io, launcher);  // before any worker exists
  muster::daemon::Supervisor supervisor(io, std::move(config), launcher);
  supervisor.set_command_line(own_args(argc, argv), own_path());
  supervisor.inherit_sockets(std::move(inherited).value());
  if (auto started = supervisor.start(); !started) {
    spdlog::error("{}", started.error().message);
    return 1;
  }
  return run(io, launcher);
}

// The config the old musterd ran, from its text in the state (not from the
// file, which may have changed since it was loaded).
muster::Result<cfg::Config> restored_config(const boost::json::object& body) {
  const auto* c = body.if_contains("config");
  if (!c || !c->is_object()) return muster::Error{"the state has no config"};
  const auto& co = c->as_object();
  auto text = [&co](const char* key) {
    const auto* v = co.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  cfg::LoadOptions load_options;
  load_options.host = cfg::HostChecks::run;
  if (!text("environment").empty()) load_options.environment = text("environment");
  auto loaded = cfg::load_string(text("text"), text("path"), load_options);
  if (!loaded.config)
    return muster::Error{"the config it runs: " + (loaded.errors.empty()
                                                       ? std::string("invalid")
                                                       : loaded.errors.front().to_string())};
  cfg::Config config = std::move(*loaded.config);
  config.text = text("text");
  if (const auto* s = co.if_contains("environment_source"); s && s->is_int64())
    config.environment_source = static_cast<cfg::EnvironmentSource>(s->as_int64());
  override_log_level(config, text("log_level"));
  return config;
}

// The restore proper, once the config is known: the Supervisor takes over
// what the state names, then musterd runs as ever. `fall_back` execs the
// previous binary (it returns only if that failed).
int take_over(const boost::json::object& body, cfg::Config config, const Options& options,
              const std::function<int(const std::string&)>& fall_back) {
  namespace h = muster::daemon::handover;
  muster::daemon::memory_reserve::keep();
  boost::asio::io_context io;
  muster::daemon::ProcessLauncher launcher(io, muster::daemon::Spawner::Mode::caller);
  muster::daemon::OrphanReaper orphans(io, launcher);
  muster::daemon::Supervisor supervisor(io, std::move(config), launcher);
  std::vector<std::string> start_args;
  if (const auto* a = body.if_contains("args"); a && a->is_array())
    for (const auto& v : a->as_array())
      if (v.is_string()) start_args.emplace_back(v.as_string());
  const auto* sp = body.if_contains("start_path");
  supervisor.set_command_line(std::move(start_args),
                              sp && sp->is_string() ? std::string(sp->as_string()) : own_path());
  // The exec came with every signal blocked; the Supervisor's handlers are
  // in place now, so one that arrived meanwhile is handled, not fatal.
  muster::daemon::prepare_signal_dispositions();
  if (auto restored = supervisor.restore(body, options.upgrade_failed); !restored)
    return fall_back(restored.error().message);
  h::disarm_crash_fallback();
  if (options.previous_exe_fd >= 0) ::close(options.previous_exe_fd);
  ::close(options.restore_fd);
  close_on_exec_from(3);
  return run(io, launcher);
}

// The new musterd of an in-place upgrade (or the old one again, after the
// new one could not restore): takes over from the state file before
// anything else. The fds it names crossed the exec without close-on-exec
// and stay so until the restore is done: while the crash guard is armed, a
// crash must hand every one of them back to the previous binary.
int restore(const Options& options, int argc, char** argv) {
  namespace h = muster::daemon::handover;
  const std::vector<std::string> args = own_args(argc, argv);
  auto back_argv = [&](const std::string& why) {
    std::vector<std::string> out{argv[0]};
    out.insert(out.end(), args.begin(), args.end());
    out.insert(out.end(),
               {"--restore-from-fd", std::to_string(options.restore_fd), "--upgrade-failed", why});
    return out;
  };
  const std::string me = std::string("musterd ") + muster::version();
  // Not restored: the previous binary again, with the same state.
  auto fall_back = [&](const std::string& why) {
    std::cerr << me << ": cannot restore after an upgrade: " << why << "\n";
    if (options.previous_exe_fd < 0) return 1;  // the previous binary is this one
    h::ExecPlan plan{argv[0],
                     options.previous_exe_fd,
                     back_argv(me + " could not restore: " + why),
                     {options.restore_fd}};
    auto failed = h::exec_replacing(plan);
    std::cerr << me << ": and the previous musterd did not start again: " << failed.message << "\n";
    return 1;
  };
  // The exec came from a thread blocking every signal: a fault must reach
  // the crash guard (a blocked fault signal kills with the default action).
  sigset_t faults;
  sigemptyset(&faults);
  for (int signo : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) sigaddset(&faults, signo);
  ::pthread_sigmask(SIG_UNBLOCK, &faults, nullptr);
  if (options.previous_exe_fd >= 0)
    if (auto armed = h::arm_crash_fallback(options.previous_exe_fd,
                                           back_argv(me + " crashed while restoring"));
        !armed)
      return fall_back(armed.error().message);
  auto envelope = h::read_state_file(options.restore_fd);
  if (!envelope) return fall_back(envelope.error().message);
#ifdef MUSTER_ALT_BUILD
  // The fault test's hook (tests/integration/test_upgrade_in_place.py): only this
  // test-only build has it.
  if (std::getenv("MUSTER_TEST_CRASH_DURING_RESTORE")) std::abort();
#endif
  if (!envelope->body.is_object()) return fall_back("the state is not a JSON object");
  const auto& body = envelope->body.as_object();
  auto restored = restored_config(body);
  if (!restored) return fall_back(restored.error().message);
  cfg::Config config = std::move(restored).value();
  muster::daemon::setup_logging(config.daemon.log_level, config.daemon.log_format);

  return take_over(body, std::move(config), options, fall_back);
}

}  // namespace

int main(int argc, char** argv) {
  muster::daemon::fill_standard_fds();  // before anything opens a descriptor
#ifdef MUSTER_ALT_BUILD
  muster::tag_version("+alt");
#endif
  Options options;
  if (auto rc = parse_options(argc, argv, options)) return *rc;
  if (options.restore_fd >= 0) return restore(options, argc, argv);
  return start(options, argc, argv);
}
