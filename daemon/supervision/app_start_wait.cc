// App::start(done): the answer to `musterctl start` once every slot has a
// ready worker, or the reason none came up. Never an answer of success for an
// app whose workers die at once.
#include <spdlog/spdlog.h>

#include "daemon/supervision/app.h"

namespace muster::daemon {
namespace {
// ready = "spawn" has no readiness signal: a worker must outlive this too.
constexpr Duration kSpawnSettle = std::chrono::seconds(1);
}  // namespace

void App::check_started() {
  if (!start_wait_ || start_wait_->settling || !wanted_up()) return;
  for (const auto& slot : slots_)
    if (!slot->worker || !slot->worker->ready()) return;
  if (config_.ready == config::Ready::spawn && !start_wait_->settled) {
    Duration settle = std::min(config_.min_uptime, kSpawnSettle);
    if (settle.count() > 0) {
      start_wait_->settling = true;
      start_wait_->settle_timer.expires_after(settle);
      start_wait_->settle_timer.async_wait(
          [this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
            if (!ec && alive.lock()) settle_started();
          });
      return;
    }
  }
  auto wait = std::move(start_wait_);
  for (auto& done : wait->waiters) done({});
}

void App::settle_started() {
  if (!start_wait_) return;
  start_wait_->settling = false;
  start_wait_->settled = true;
  check_started();
}

void App::fail_start(const std::string& why) {
  if (!start_wait_) return;
  auto wait = std::move(start_wait_);
  wait->settle_timer.cancel();
  spdlog::warn("{}: start failed: {}", name(), why);
  for (auto& done : wait->waiters) done(Error{why});
}

}  // namespace muster::daemon
