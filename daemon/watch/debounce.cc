#include "daemon/watch/debounce.h"

#include <algorithm>

namespace muster::daemon {

Debounce::Debounce(boost::asio::io_context& io, Clock::duration delay, Fire fire)
    : timer_(io), delay_(delay), fire_(std::move(fire)) {}

void Debounce::note(const std::string& file) {
  if (batch_.count == 0) first_ = Clock::now();
  bool is_new = seen_.size() >= kMaxRemembered || seen_.insert(file).second;
  if (is_new) {
    ++batch_.count;
    if (batch_.files.size() < ChangeBatch::kShown) batch_.files.push_back(file);
  }
  arm();
}

void Debounce::cancel() {
  timer_.cancel();
  batch_ = {};
  seen_.clear();
}

void Debounce::arm() {
  Clock::time_point at = std::min(Clock::now() + delay_, first_ + kMaxDelays * delay_);
  timer_.expires_at(at);
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->fire();
  });
}

void Debounce::fire() {
  if (batch_.count == 0) return;
  ChangeBatch batch = std::move(batch_);
  batch_ = {};
  seen_.clear();
  fire_(std::move(batch));
}

bool ReloadQueue::request() {
  if (running_) {
    queued_ = true;
    return false;
  }
  running_ = true;
  return true;
}

bool ReloadQueue::finished() {
  if (!running_) return false;
  if (!queued_) {
    running_ = false;
    return false;
  }
  queued_ = false;
  return true;
}

}  // namespace muster::daemon
