// What the worker table's tests share (worker_decide_test.cc,
// worker_stop_test.cc): facts of a plain and a node worker, a life in a state,
// and checks on a decision.
#pragma once

#include <algorithm>
#include <initializer_list>

#include "daemon/supervision/worker_decide.h"

namespace muster::test::worker {

using namespace muster::daemon;
using muster::config::Ready;
using A = WorkerAction;
using E = WorkerEvent;
using S = WorkerState;

inline constexpr S kStates[] = {S::spawning, S::online, S::listening, S::disconnecting, S::dead};
inline constexpr S kLive[] = {S::spawning, S::online, S::listening, S::disconnecting};

inline WorkerFacts plain(Ready ready = Ready::online) {
  WorkerFacts f;
  f.ready_mode = ready;
  return f;
}

inline WorkerFacts node(Ready ready = Ready::automatic) {
  WorkerFacts f = plain(ready);
  f.has_channel = true;
  return f;
}

inline WorkerLife in(S state) {
  WorkerLife l;
  l.state = state;
  return l;
}

// The life after `events`, each decided with `f`.
inline WorkerLife after(std::initializer_list<E> events, const WorkerFacts& f, WorkerLife l = {}) {
  for (E e : events) l = decide(l, e, f).life;
  return l;
}

inline bool noop(const WorkerLife& l, E e, const WorkerFacts& f) {
  auto d = decide(l, e, f);
  return d.life == l && d.actions.empty();
}

inline bool exactly(const WorkerDecision& d, std::initializer_list<A> wanted) {
  return std::equal(d.actions.begin(), d.actions.end(), wanted.begin(), wanted.end());
}

}  // namespace muster::test::worker
