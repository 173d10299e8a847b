// The old musterd's side of an in-place upgrade (issue 25; README, "Upgrading
// musterd in place"): check the new binary, let every round-robin
// connection reach a worker and every worker and channel come to rest, write
// the whole state into a memfd, and exec the new binary from the thread that
// started the workers (daemon/launch/spawner.h says why that thread). What
// can be refused is refused before anything is handed over, so a refusal
// changes nothing.
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include "base/version.h"
#include "daemon/handover/binary_check.h"
#include "daemon/handover/exec_handover.h"
#include "daemon/handover/state_file.h"
#include "daemon/output/merged_tail.h"
#include "daemon/wiring/supervisor.h"

namespace muster::daemon {
namespace json = boost::json;
namespace {

constexpr auto kCheckBound = std::chrono::seconds(10);  // the new binary's --upgrade-info
constexpr auto kQuietBound = std::chrono::seconds(10);  // everything at rest
constexpr auto kQuietPoll = std::chrono::milliseconds(10);
// What crosses of each app's `logs` tail: the state stays far below its
// bound (state_file.h) with hundreds of apps.
constexpr std::size_t kTailBytes = 128 << 10;
// Followers were told; their last lines get this long to be written.
constexpr auto kStreamsFlush = std::chrono::milliseconds(50);

}  // namespace

struct Supervisor::Upgrade {
  std::string binary;
  std::optional<Responder> respond;
  ipc::UniqueFd own_exe;  // the running binary: the fallback
  std::string to_version;
  Clock::time_point deadline{};
  bool settled = false;        // the sockets handed what they held to workers
  bool streams_ended = false;  // followers were told and their streams end
};

Supervisor::~Supervisor() = default;

void Supervisor::set_command_line(std::vector<std::string> args, std::string start_path) {
  args_ = std::move(args);
  start_path_ = std::move(start_path);
}

void Supervisor::upgrade(std::string binary, std::optional<Responder> respond) {
  if (binary.empty()) binary = start_path_;
  auto refuse = [&](const std::string& why) {
    spdlog::warn("upgrade refused: {}", why);
    if (respond) (*respond)(ipc::error_reply("upgrade refused: " + why));
  };
  if (shutting_down_) return refuse("musterd is shutting down");
  if (upgrade_) return refuse("an upgrade is already under way");
  if (binary.empty() || binary.front() != '/')
    return refuse("the binary must be an absolute path, not '" + binary + "'");
  auto own = handover::open_own_executable();
  if (!own) return refuse(own.error().message);
  upgrade_ = std::make_unique<Upgrade>();
  upgrade_->binary = binary;
  upgrade_->respond = std::move(respond);
  upgrade_->own_exe = std::move(own).value();
  spdlog::info("upgrade: asking {} what it is", binary);
  handover::check_binary(io_, context_.launcher, binary, kCheckBound,
                         [this](Result<handover::BinaryInfo> info) {
                           if (!upgrade_) return;
                           if (!info) return refuse_upgrade(info.error().message);
                           upgrade_->to_version = info->version;
                           upgrade_->deadline = Clock::now() + kQuietBound;
                           spdlog::info(
                               "upgrade: {} is musterd {}; waiting for every worker "
                               "and channel to be at rest",
                               upgrade_->binary, info->version);
                           sockets_.stop_accepting([this, asked = upgrade_.get()] {
                             if (upgrade_.get() != asked) return;  // refused meanwhile
                             upgrade_->settled = true;
                             upgrade_timer_.cancel();  // no need to wait for the poll
                             wait_until_quiet();
                           });
                           wait_until_quiet();
                         });
}

void Supervisor::refuse_upgrade(const std::string& why) {
  spdlog::warn("upgrade refused: {}", why);
  upgrade_timer_.cancel();
  // A shutdown that came meanwhile stopped accepting for good.
  if (!shutting_down_) sockets_.resume_accepting();
  if (upgrade_->respond) (*upgrade_->respond)(ipc::error_reply("upgrade refused: " + why));
  upgrade_.reset();
}

std::optional<std::string> Supervisor::busy_for_upgrade() const {
  if (!upgrade_->settled) return "round-robin connections are still on their way to workers";
  if (auto name = sockets_.retired_in_use(); !name.empty())
    return "socket " + name + " left the config and is still in use";
  if (auto why = on_demand_.busy_for_handover()) return why;
  for (const auto& app : apps_) {
    if (app->removed()) return app->name() + " is being removed";
    if (auto why = app->busy_for_handover()) return why;
  }
  return std::nullopt;
}

void Supervisor::wait_until_quiet() {
  if (shutting_down_) return refuse_upgrade("musterd is shutting down");
  auto busy = busy_for_upgrade();
  if (!busy && upgrade_->streams_ended) return exec_upgrade();
  if (busy && Clock::now() >= upgrade_->deadline)
    return refuse_upgrade("still busy after " + std::to_string(kQuietBound.count()) +
                          " s: " + *busy);
  auto delay = kQuietPoll;
  if (!busy) {
    // At rest: followers get the last line, then the state is taken.
    upgrade_->streams_ended = true;
    events_.publish("upgrading", "", {{"from", muster::version()}, {"to", upgrade_->to_version}});
    const std::string notice = "musterd is upgrading itself in place (" +
                               std::string(muster::version()) + " to " + upgrade_->to_version +
                               "): this stream ends; follow again";
    for (auto& app : apps_) app->output().notice(notice);
    if (!control_.has_streams()) return exec_upgrade();
    control_.end_streams();
    delay = kStreamsFlush;
  }
  upgrade_timer_.expires_after(delay);
  upgrade_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && upgrade_) wait_until_quiet();
  });
}

// Everything else the new musterd needs (the workers and apps aside).
json::object Supervisor::daemon_state() const {
  json::array args;
  for (const auto& a : args_) args.push_back(json::string(a));
  return {
      {"args", std::move(args)},
      {"start_path", start_path_},
      {"config",
       {{"path", config_.path},
        {"text", config_.text},
        {"environment", config_.environment},
        {"environment_source", static_cast<int>(config_.environment_source)},
        {"log_level", config::to_string(config_.daemon.log_level)}}},
      {"last_worker_id", last_worker_id_},
      {"uptime_ms",
       std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_at_).count()},
      {"announced_ready", announced_ready_},
      {"reloads",
       {{"applied", config_reloads_.applied},
        {"rejected", config_reloads_.rejected},
        {"failed", config_reloads_.failed},
        {"last_ok", config_reloads_.last_ok}}},
      {"events", events_.recent()},
      {"upgrade",
       {{"from", muster::version()}, {"to", upgrade_->to_version}, {"binary", upgrade_->binary}}}};
}

// The state file; past the point of no return, so a failure ends musterd.
ipc::UniqueFd Supervisor::write_state(json::object& body) {
  auto state = handover::write_state_file(body, muster::version());
  if (!state) {
    // Too large (a history of big messages, many apps' logs): what the
    // workers need is the rest, so that goes without these two.
    spdlog::warn("upgrade: {}; writing it without the event history and the logs tails",
                 state.error().message);
    body["events"] = json::array();
    body["output_tails"] = json::object();
    state = handover::write_state_file(body, muster::version());
  }
  if (!state) {
    spdlog::critical("upgrade: cannot write the state: {}; musterd ends", state.error().message);
    std::abort();
  }
  return std::move(state).value();
}

// From here nothing is refused: the objects hand their fds over and go
// inert, and the process becomes the new binary, or the old one again.
void Supervisor::exec_upgrade() {
  std::vector<ipc::UniqueFd> keep;
  json::object body = daemon_state();
  json::array apps, workers;
  for (auto& app : apps_) {
    apps.push_back(to_json(app->record()));
    for (Worker* w : app->workers()) {
      auto r = w->hand_over(keep);
      if (r)
        workers.push_back(to_json(*r));
      else  // cannot be after busy_for_upgrade(); its process is not lost to the exec
        spdlog::error("upgrade: {}; it is adopted without its channel", r.error().message);
    }
  }
  body["apps"] = std::move(apps);
  json::object tails;  // what `logs` shows of each app, within a bound
  for (auto& app : apps_) {
    json::array lines = app->output().tail(OutputSink::kTail);
    keep_newest_within(lines, kTailBytes);
    tails[app->name()] = std::move(lines);
  }
  body["output_tails"] = std::move(tails);
  body["workers"] = std::move(workers);
  auto adopt_fd = [&keep](int fd) {
    if (fd >= 0) keep.emplace_back(fd);
    return fd;
  };
  json::object sockets;
  std::vector<int> numbers;
  for (const auto& [name, fd] : sockets_.handover_fds()) {
    sockets[name] = fd;
    numbers.push_back(fd);
  }
  body["fds"] = {{"sockets", std::move(sockets)},
                 {"client", adopt_fd(upgrade_->respond ? upgrade_->respond->hand_over() : -1)},
                 {"control", adopt_fd(control_.hand_over())},
                 {"metrics", adopt_fd(metrics_.hand_over())},
                 {"notify", adopt_fd(notify_.hand_over())}};
  for (const auto& fd : keep) numbers.push_back(fd.get());
  json::array on_demand = on_demand_.hand_over();  // their fds stay theirs, open
  for (const auto& s : on_demand) {
    numbers.push_back(static_cast<int>(s.at("fd").as_int64()));
    if (const json::value* file = s.as_object().if_contains("file"))
      numbers.push_back(static_cast<int>(file->at("dir_fd").as_int64()));
  }
  body["on_demand"] = std::move(on_demand);
  ipc::UniqueFd state = write_state(body);
  numbers.push_back(state.get());
  numbers.push_back(upgrade_->own_exe.get());
  systemd_.reloading();
  spdlog::info("upgrade: executing {} (musterd {})", upgrade_->binary, upgrade_->to_version);
  spdlog::default_logger()->flush();
  exec_with_fallback(state.get(), std::move(numbers));
}

void Supervisor::exec_with_fallback(int state_fd, std::vector<int> keep) {
  auto argv = [&](const std::string& first, std::vector<std::string> tail) {
    std::vector<std::string> out{first};
    out.insert(out.end(), args_.begin(), args_.end());
    out.push_back("--restore-from-fd");
    out.push_back(std::to_string(state_fd));
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
  };
  handover::ExecPlan plan{
      upgrade_->binary, -1,
      argv(upgrade_->binary, {"--previous-exe-fd", std::to_string(upgrade_->own_exe.get())}), keep};
  Error failed, back_failed;
  context_.launcher.run_on_spawning_thread([&] {
    failed = handover::exec_replacing(plan);
    // The new binary did not even start: the old one again, told why.
    handover::ExecPlan back{start_path_, upgrade_->own_exe.get(),
                            argv(start_path_, {"--upgrade-failed", failed.message}), keep};
    back_failed = handover::exec_replacing(back);
  });
  spdlog::critical("upgrade: {}; and executing musterd again failed too: {}; musterd ends",
                   failed.message, back_failed.message);
  spdlog::default_logger()->flush();
  std::abort();
}

}  // namespace muster::daemon
