#include "daemon/output/output_sink.h"

#include "daemon/common/events.h"

#include <spdlog/spdlog.h>
#include <cstring>

namespace muster::daemon {
OutputSink::OutputSink(const config::AppConfig& app, EventBus& events)
    : app_(app.name), file_(app.name), events_(events) {
  configure(app);
}

void OutputSink::configure(const config::AppConfig& app) {
  output_ = app.output;
  if (output_ != config::Output::file) {
    file_.close();
    failure_.reset();  // nothing is written to a file any more
    return;
  }
  auto configured = file_.configure(app.output_file, app.output_max_size, app.output_keep);
  if (!configured)
    file_result(configured.error(), true);
  else if (*configured == OutputFile::Configured::opened)
    file_result({}, true);
}

bool OutputSink::reopen() {
  if (output_ != config::Output::file) return false;
  auto reopened = file_.reopen();
  if (reopened) spdlog::info("{}: output_file {} reopened", app_, file_.path());
  file_result(reopened, true);
  return true;
}

void OutputSink::line(const LineOrigin& from, std::string_view text) {
  if (output_ == config::Output::file) {
    to_file(from.worker_id,
            text);  // the file gets the worker's own lines; `logs` knows who wrote each
  } else if (output_ == config::Output::journal) {
    to_journal(from, text);
  } else {
    spdlog::info("{}[{}] {}", app_, from.worker_id, text);
  }
  boost::json::object entry{
      {"app", app_}, {"id", from.worker_id}, {"time", now_rfc3339()}, {"line", text}};
  if (!followers_.empty()) followers_.publish(boost::json::serialize(entry) + "\n");
  tail_.push_back(std::move(entry));
  if (tail_.size() > kTail) tail_.pop_front();
}

void OutputSink::notice(std::string_view text) {
  if (followers_.empty()) return;
  boost::json::object entry{{"app", app_}, {"id", 0}, {"time", now_rfc3339()}, {"line", text}};
  followers_.publish(boost::json::serialize(entry) + "\n");
}

// While the file fails, it is tried again at most once per kRetry (a full
// disk is not hammered with a write per line); the lines in between go
// straight to the log.
void OutputSink::to_file(unsigned worker_id, std::string_view text) {
  bool tried = !failure_ || Clock::now() >= failure_->retry_at;
  Result<void> written = tried ? file_.append(std::string(text) + '\n') : failure_->error;
  file_result(written, tried);
  if (written) return;
  // Every lost line, as output = "log" would have logged it: not one is lost
  // silently, and the log grows no faster than it would with output = "log".
  ++failure_->lines;
  ++file_errors_;
  spdlog::info("{}[{}] {}", app_, worker_id, text);
}

// A journal entry per line (sd_journal_sendv: a datagram, nothing to retry
// later); one that fails goes to musterd's log, as a missed output_file line.
void OutputSink::to_journal(const LineOrigin& from, std::string_view text) {
  int r = send_to_journal(journal_fields(app_, from, text));
  Result<void> sent = r < 0 ? Error{std::strerror(-r), -r} : Result<void>();
  file_result(sent, true);
  if (sent) return;
  ++failure_->lines;
  ++file_errors_;
  spdlog::info("{}[{}] {}", app_, from.worker_id, text);
}

std::string OutputSink::destination() const {
  return output_ == config::Output::journal ? "the journal" : "output_file " + file_.path();
}

// Logs and publishes the start and the end of a failure, once each.
void OutputSink::file_result(const Result<void>& written, bool tried) {
  boost::json::object where;
  if (output_ == config::Output::journal)
    where["journal"] = true;
  else
    where["file"] = file_.path();
  if (written && failure_) {
    spdlog::info("{}: {} is written again; {} line(s) went to musterd's log meanwhile", app_,
                 destination(), failure_->lines);
    where["phase"] = "resumed";
    where["lines"] = failure_->lines;
    events_.publish("output", app_, std::move(where));
    failure_.reset();
  } else if (!written && !failure_) {
    const std::string& error = written.error().message;
    std::string retry = output_ == config::Output::file
                            ? " (tried every " + std::to_string(kRetry.count()) + "s)"
                            : "";
    spdlog::error("{}: cannot write {}: {}; its lines go to musterd's log until it works again{}",
                  app_, destination(), error, retry);
    where["phase"] = "error";
    where["error"] = error;
    events_.publish("output", app_, std::move(where));
    failure_.emplace();
    failure_->error = written.error();
  }
  if (failure_ && tried) failure_->retry_at = Clock::now() + kRetry;
}

boost::json::array OutputSink::tail(std::size_t n) const {
  boost::json::array out;
  std::size_t start = tail_.size() > n ? tail_.size() - n : 0;
  for (std::size_t i = start; i < tail_.size(); ++i) out.push_back(tail_[i]);
  return out;
}

void OutputSink::restore_tail(const boost::json::array& lines) {
  for (const auto& line : lines)
    if (line.is_object()) tail_.push_back(line.as_object());
  while (tail_.size() > kTail) tail_.pop_front();
}

std::uint64_t OutputSink::follow(Follower follower) { return followers_.add(std::move(follower)); }

void OutputSink::unfollow(std::uint64_t id) { followers_.remove(id); }

}  // namespace muster::daemon
