// Where an app's worker output goes: lines into the daemon's log (prefixed
// `app[id]`), into output_file (OutputFile) or into the journal (one entry
// per line, daemon/output/journal.h), plus a bounded in-memory tail, with the
// writer's id, and live followers for `musterctl logs`. While output_file
// (or the journal) cannot be written, its lines go to the daemon's log
// instead, the file is tried again at most once a second, and the start and
// end of each such failure are logged once and published as `output` events.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "config/config.h"
#include "daemon/common/followers.h"
#include "daemon/output/journal.h"
#include "daemon/output/output_file.h"

namespace muster::daemon {

class EventBus;

class OutputSink {
 public:
  static constexpr std::size_t kTail = 1000;
  static constexpr std::chrono::seconds kRetry{1};
  using Follower = Followers::Follower;

  // `events` gets the `output` events; it outlives the sink.
  OutputSink(const config::AppConfig& app, EventBus& events);
  // A new config (reload): file, size limit and kept count may change.
  void configure(const config::AppConfig& app);

  // SIGUSR1: output_file closed and opened again by its path (OutputFile::
  // reopen). False if the app writes no file.
  bool reopen();

  void line(const LineOrigin& from, std::string_view text);
  // Lines that missed output_file (or the journal) and went to the daemon's
  // log instead.
  std::uint64_t file_errors() const { return file_errors_; }

  boost::json::array tail(std::size_t n) const;
  std::uint64_t follow(Follower follower);
  void unfollow(std::uint64_t id);
  // A line from musterd itself (id 0) to the followers only, not the file,
  // journal or tail: an in-place upgrade tells `logs --follow` why its
  // stream is about to end.
  void notice(std::string_view text);
  // An in-place upgrade: the lines tail(kTail) gave the musterd before, back.
  void restore_tail(const boost::json::array& lines);

 private:
  using Clock = std::chrono::steady_clock;
  struct Failure {
    Error error;
    Clock::time_point retry_at;
    std::uint64_t lines = 0;  // sent to the log instead
  };

  void to_file(unsigned worker_id, std::string_view text);
  void to_journal(const LineOrigin& from, std::string_view text);
  void file_result(const Result<void>& written, bool tried);
  // "output_file PATH" or "the journal", for the failure messages.
  std::string destination() const;

  std::string app_;
  config::Output output_;
  OutputFile file_;
  EventBus& events_;
  std::optional<Failure> failure_;  // output_file is failing
  std::uint64_t file_errors_ = 0;
  std::deque<boost::json::object> tail_;
  Followers followers_;
};

}  // namespace muster::daemon
