#include "daemon/output_sink.h"

#include "daemon/events.h"

#include <spdlog/spdlog.h>

namespace muster::daemon {
OutputSink::OutputSink(const config::AppConfig& app) : app_(app.name), file_(app.name) {
  configure(app);
}

void OutputSink::configure(const config::AppConfig& app) {
  output_ = app.output;
  if (output_ != config::Output::file) {
    file_.close();
    return;
  }
  auto opened = file_.configure(app.output_file, app.output_max_size, app.output_keep);
  if (opened && !opened->empty())
    spdlog::error("{}: cannot open output_file {}: {}", app_, app.output_file, *opened);
}

void OutputSink::line(unsigned worker_id, std::string_view text) {
  if (output_ == config::Output::file) {
    file_.append(std::string(text) + '\n');  // the worker's own lines; `logs` knows who wrote each
  } else {
    spdlog::info("{}[{}] {}", app_, worker_id, text);
  }
  boost::json::object entry{{"app", app_}, {"id", worker_id}, {"time", now_rfc3339()},
                            {"line", text}};
  if (!followers_.empty()) followers_.publish(boost::json::serialize(entry) + "\n");
  tail_.push_back(std::move(entry));
  if (tail_.size() > kTail) tail_.pop_front();
}

boost::json::array OutputSink::tail(std::size_t n) const {
  boost::json::array out;
  std::size_t start = tail_.size() > n ? tail_.size() - n : 0;
  for (std::size_t i = start; i < tail_.size(); ++i) out.push_back(tail_[i]);
  return out;
}

std::uint64_t OutputSink::follow(Follower follower) { return followers_.add(std::move(follower)); }

void OutputSink::unfollow(std::uint64_t id) { followers_.remove(id); }

}  // namespace muster::daemon
