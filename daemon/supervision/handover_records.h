// Workers and apps written down as plain records, so that musterd can execve
// a new binary of itself (issue 25: an in-place upgrade, same pid) and the
// new one rebuild every App and adopt every running Worker from them: same
// pid, no restart counted. The records cross the exec as JSON in a memfd.
//
// Only stable states are written down. The supervisor refuses an upgrade
// (Worker::busy_for_handover, App::busy_for_handover say why) while any
//  - worker is spawning, not ready yet, disconnecting or stopping, draining
//    its own disconnect, or waits for a server to be bound for it;
//  - newconn a worker was handed waits for its answer;
//  - app reloads, replaces workers, is stopping, has a spawn queued or a
//    `start` waiting for its workers;
// so none of those transient things has a field here.
//
// Times on the steady clock do not survive an exec: they are written as ages
// ("crashed 1200 ms ago") or delays ("next try in 300 ms") relative to the
// `now` the record was taken at, and read back relative to the new `now`.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace muster::daemon {

struct WorkerRecord {
  std::string app;
  unsigned id = 0;
  unsigned instance = 0;
  unsigned restarts = 0;
  int pid = 0;
  std::int64_t uptime_ms = 0;
  // WorkerLife's fields that a stable (online or listening, ready) worker can have.
  std::string state;  // to_string(WorkerState): "online" or "listening"
  bool ready = false;
  bool asked_server = false;
  bool after_disconnect = false;
  std::uint64_t connections = 0;
  std::uint64_t seq = 0;                    // our next NODE_CLUSTER seq
  std::vector<std::string> server_keys;     // servers it was given and has not closed
  std::vector<std::string> servers;         // keys of its round-robin registrations
  std::vector<std::string> server_sockets;  // and the [sockets.NAME] of each
  std::string status_text;
  std::string inspector;
  bool inspector_signal = false;  // SIGUSR1 opens its inspector (Node run directly)
  bool must_listen = false;
  bool reloading = false;              // systemd protocol: RELOADING=1 seen, READY=1 not yet
  bool channel = false;                // it has an open Node channel
  std::string serialization = "json";  // the channel's: "json" or "advanced"
  // The lead's: fds kept open across the exec (-1: none), and the bytes
  // read from them but not yet used (written as hex: they may be binary).
  int channel_fd = -1, stdout_fd = -1, stderr_fd = -1;
  std::string channel_unread, stdout_partial, stderr_partial;

  bool operator==(const WorkerRecord&) const = default;
};

struct ExitEntry {  // ExitRecord (exit_history.h), plain
  std::string time;
  unsigned id = 0;
  int pid = 0;
  std::optional<int> code, signal;
  bool voluntary = false;
  std::int64_t uptime_ms = 0;
  std::string description;

  bool operator==(const ExitEntry&) const = default;
};

struct SlotRecord {
  unsigned restarts = 0;
  unsigned backoff = 0;                  // Backoff::consecutive()
  std::vector<std::int64_t> crash_ages;  // CrashWindow, oldest first, in ms before now
  bool crash_loop = false;
  std::string last_exit;
  std::optional<std::int64_t> next_try_ms;  // a refill (or retry) armed: in this long
  std::vector<ExitEntry> exits;             // oldest first

  bool operator==(const SlotRecord&) const = default;
};

struct AppRecord {
  std::string name;
  std::string state;       // "running", "stopped" or "failed"
  unsigned instances = 0;  // in force (runtime scale)
  std::uint64_t exits = 0, crashes = 0, restarts = 0, reloads_done = 0, reloads_failed = 0,
                memory_replacements = 0, exited_connections = 0, failures = 0;
  std::optional<std::int64_t> retry_ms;  // failed: failed_retry starts it again in this long
  std::vector<SlotRecord> slots;

  bool operator==(const AppRecord&) const = default;
};

boost::json::value to_json(const WorkerRecord& r);
boost::json::value to_json(const AppRecord& r);
// from_json<WorkerRecord>(v), from_json<AppRecord>(v). The error names the
// field: "worker record: 'pid' is not an integer", "app record: 'slots[1]': ...".
template <class T>
Result<T> from_json(const boost::json::value& v);
template <>
Result<WorkerRecord> from_json(const boost::json::value& v);
template <>
Result<AppRecord> from_json(const boost::json::value& v);

}  // namespace muster::daemon
