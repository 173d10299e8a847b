// The RoundRobin tests' harness: records hand-offs; connections are real fds
// (of /dev/null) so closing is observable with fcntl.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <vector>

#include "scheduler/round_robin.h"

using muster::ipc::UniqueFd;
using muster::scheduler::Clock;
using muster::scheduler::RoundRobin;
using muster::scheduler::WorkerId;
using namespace std::chrono_literals;

struct Harness {
  std::vector<std::pair<WorkerId, int>> handed;
  std::map<WorkerId, bool> broken;
  RoundRobin rr;
  Clock::time_point now = Clock::time_point{} + 1h;

  explicit Harness(RoundRobin::Limits limits = {})
      : rr(limits, [this](WorkerId w, int fd) {
          if (broken[w]) return false;
          handed.emplace_back(w, fd);
          return true;
        }) {}

  int connect(std::optional<muster::scheduler::ClientKey> client = std::nullopt) {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    rr.connection(UniqueFd(fd), now, client);
    return fd;
  }
};

inline bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }
