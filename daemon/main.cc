// musterd: reads the config, binds the control socket, supervises the apps.
// Exit codes (SPEC.md): 0 ok, 1 failure at run time, 2 usage or config error.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <optional>

#include "base/version.h"
#include "config/config.h"
#include "config/file_safety.h"
#include "daemon/common/event_loop.h"
#include "daemon/common/memory_reserve.h"
#include "daemon/common/signals.h"
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

}  // namespace

int main(int argc, char** argv) {
  muster::daemon::fill_standard_fds();  // before anything opens a descriptor
  Options options;
  if (auto rc = parse_options(argc, argv, options)) return *rc;

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
