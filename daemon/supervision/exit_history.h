// The last exits of one instance slot, for `musterctl describe`: a small
// bounded record of what happened, kept apart from the restart policy's
// counts (which `musterctl reset` forgets; this is history, not policy).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "daemon/common/events.h"
#include "daemon/supervision/worker.h"

namespace muster::daemon {

struct ExitRecord {
  std::string time;  // when musterd saw it, RFC 3339 UTC as events carry it
  unsigned id = 0;   // the worker's id
  int pid = 0;       // 0: it never started
  std::optional<int> code;
  std::optional<int> signal;
  bool voluntary = false;  // asked to go (stop, kill, disconnect) or left on its own
  Duration uptime{0};
  std::string description;  // ExitInfo::describe(): "killed by SIGKILL"

  static ExitRecord of(const ExitInfo& info, unsigned id, int pid) {
    return {now_rfc3339(),  id, pid, info.code, info.signal, info.voluntary, info.uptime,
            info.describe()};
  }
};

class ExitHistory {
 public:
  static constexpr std::size_t kKept = 5;

  void record(ExitRecord exit) {
    if (exits_.size() == kKept) exits_.pop_front();
    exits_.push_back(std::move(exit));
  }
  // Oldest first, at most kKept.
  const std::deque<ExitRecord>& recent() const { return exits_; }

 private:
  std::deque<ExitRecord> exits_;
};

}  // namespace muster::daemon
