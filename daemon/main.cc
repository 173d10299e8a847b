// musterd: reads the config, binds the control socket, supervises the apps.
// Exit codes (SPEC.md): 0 ok, 1 failure at run time, 2 usage or config error.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <spdlog/spdlog.h>

#include "config/config.h"
#include "config/file_safety.h"
#include "daemon/event_loop.h"
#include "daemon/logging.h"
#include "daemon/memory_reserve.h"
#include "daemon/orphan_reaper.h"
#include "daemon/process_launcher.h"
#include "daemon/process_setup.h"
#include "daemon/signals.h"
#include "daemon/supervisor.h"

namespace cfg = muster::config;

int main(int argc, char** argv) {
  muster::daemon::fill_standard_fds();  // before anything opens a descriptor
  CLI::App cli{"musterd: a process supervisor that owns the sockets and runs the workers"};
  std::string config_path = cfg::default_config_path();
  std::string log_level;
  bool check = false;
  cli.add_option("-c,--config", config_path, "config file (default: $MUSTER_CONFIG, else "
                                             "/etc/muster/muster.toml)");
  cli.add_flag("--check", check, "validate the config and exit (0 valid, 2 invalid)");
  cli.add_option("--log-level", log_level, "override daemon.log_level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cli.set_version_flag("--version", std::string("musterd ") + MUSTER_VERSION);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = cli.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (auto unsafe = cfg::refuse_unsafe_config(config_path)) {
    std::cerr << config_path << ": " << *unsafe << "\n";
    return 2;
  }
  auto loaded = cfg::load_file(config_path, cfg::HostChecks::run);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    return 2;
  }
  cfg::Config config = std::move(*loaded.config);
  if (check) {
    std::cout << config.path << ": ok (" << config.apps.size() << " apps)\n";
    return 0;
  }
  if (auto kernel = muster::daemon::missing_kernel_features(); !kernel) {
    std::cerr << kernel.error().message << "\n";
    return 1;
  }
  if (!log_level.empty()) {
    using L = cfg::LogLevel;
    const std::pair<const char*, L> levels[] = {
        {"trace", L::trace}, {"debug", L::debug}, {"info", L::info}, {"warn", L::warn},
        {"error", L::error}};
    for (auto& [name, level] : levels)
      if (log_level == name) config.daemon.log_level = level;
  }
  muster::daemon::setup_logging(config.daemon.log_level, config.daemon.log_format);
  // A write to a client or worker that went away must be an error, not
  // death (SIGPIPE); likewise a write past RLIMIT_FSIZE (systemd's
  // LimitFSIZE=, ulimit -f) to an output_file: EFBIG, handled like a full
  // disk (SIGXFSZ). The Supervisor catches the other signals that would end
  // musterd (daemon/signals.h).
  muster::daemon::prepare_signal_dispositions();

  // Sockets systemd passed: a .socket unit's, or our own from the fd store.
  auto inherited = muster::daemon::take_systemd_sockets();
  if (!inherited) {
    spdlog::error("{}", inherited.error().message);
    return 2;
  }

  muster::daemon::memory_reserve::keep();  // for running out of memory later
  boost::asio::io_context io;
  muster::daemon::ProcessLauncher launcher(io);
  muster::daemon::OrphanReaper orphans(io, launcher);  // before any worker exists
  muster::daemon::Supervisor supervisor(io, std::move(config), launcher);
  supervisor.inherit_sockets(std::move(inherited).value());
  if (auto started = supervisor.start(); !started) {
    spdlog::error("{}", started.error().message);
    return 1;
  }
  muster::daemon::run_event_loop(io);
  return 0;
}
