// App: its workers' RSS and CPU, sampled from /proc in batches, and the
// max_memory replacement that reads them.
#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/post.hpp>

#include "daemon/common/events.h"
#include "daemon/common/memory_reserve.h"
#include "daemon/supervision/app.h"

namespace muster::daemon {
namespace {

// Workers sampled per loop turn (one /proc read each, ~6 us here): a round
// over thousands of workers is spread over many short turns.
constexpr std::size_t kSampleBatch = 64;

}  // namespace

// Every kUsageInterval each worker's RSS and CPU is read from /proc, a batch
// per loop turn; status and /metrics show these samples, so a request costs
// no /proc read. Then max_memory: a worker above the limit is replaced
// new-worker-first, like a reload.
void App::watch_usage() {
  usage_timer_.expires_after(kUsageInterval);
  usage_timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
        if (ec || !alive.lock()) return;
        memory_reserve::restore();  // after running out of memory, once there is some
        usage_round_.clear();
        for (Worker* w : workers()) usage_round_.push_back(w->weak_from_this());
        sample_usage(0);
      });
}

void App::sample_usage(std::size_t from) {
  std::size_t end = std::min(usage_round_.size(), from + kSampleBatch);
  for (std::size_t i = from; i < end; ++i)
    if (auto w = usage_round_[i].lock()) w->sample_usage();
  if (end < usage_round_.size()) {
    boost::asio::post(io_, [this, end, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.lock()) sample_usage(end);
    });
    return;
  }
  usage_round_.clear();
  check_memory();
  watch_usage();
}

void App::check_memory() {
  if (config_.max_memory == 0 || !wanted_up()) return;
  for (unsigned i = 0; i < slots_.size(); ++i) {
    Worker* w = slots_[i]->worker.get();
    if (!w || w->state() == WorkerState::disconnecting) continue;
    std::uint64_t rss = w->usage().rss_bytes;
    if (rss <= config_.max_memory) continue;
    bool pending = reload_ && (reload_->candidates.count(i) ||
                               std::count(reload_->queue.begin(), reload_->queue.end(), i));
    if (pending) continue;
    spdlog::warn("{}[{}] uses {} bytes, over max_memory {}: replacing it", name(), w->identity().id,
                 rss, config_.max_memory);
    context_.events.publish("memory", name(),
                            {{"id", w->identity().id},
                             {"pid", w->pid()},
                             {"rss_bytes", rss},
                             {"max_memory", config_.max_memory}});
    ++counters_.memory_replacements;
    replace(i);
  }
}

}  // namespace muster::daemon
