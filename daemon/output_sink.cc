#include "daemon/output_sink.h"

#include "daemon/events.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <spdlog/spdlog.h>
#include <vector>

namespace muster::daemon {
OutputSink::OutputSink(const config::AppConfig& app) { configure(app); }

void OutputSink::configure(const config::AppConfig& app) {
  app_ = app.name;
  output_ = app.output;
  max_size_ = app.output_max_size;
  keep_ = app.output_keep;
  if (output_ != config::Output::file) {
    file_.reset();
    path_.clear();
    return;
  }
  if (file_ && path_ == app.output_file) return;
  path_ = app.output_file;
  file_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!file_) spdlog::error("{}: cannot open output_file {}: {}", app_, path_, std::strerror(errno));
  struct stat st {};
  size_ = file_ && ::fstat(file_.get(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

void OutputSink::line(unsigned worker_id, std::string_view text) {
  if (output_ == config::Output::file) {
    // The file gets the worker's own lines; `logs` knows who wrote each.
    std::string out(text);
    out += '\n';
    write_file(out);
  } else {
    spdlog::info("{}[{}] {}", app_, worker_id, text);
  }
  boost::json::object entry{{"app", app_}, {"id", worker_id}, {"time", now_rfc3339()},
                            {"line", text}};
  if (!followers_.empty()) followers_.publish(boost::json::serialize(entry) + "\n");
  tail_.push_back(std::move(entry));
  if (tail_.size() > kTail) tail_.pop_front();
}

void OutputSink::write_file(const std::string& text) {
  if (!file_) return;
  if (size_ + text.size() > max_size_ && size_ > 0) rotate();
  if (!file_) return;
  ssize_t n = ::write(file_.get(), text.data(), text.size());
  if (n > 0) size_ += static_cast<std::uint64_t>(n);
}

// output_file -> .1 -> .2 ... -> .keep (the oldest is dropped), then a fresh file.
void OutputSink::rotate() {
  file_.reset();
  if (keep_ == 0) {
    ::unlink(path_.c_str());
  } else {
    ::unlink((path_ + "." + std::to_string(keep_)).c_str());
    for (unsigned i = keep_; i > 1; --i)
      ::rename((path_ + "." + std::to_string(i - 1)).c_str(), (path_ + "." + std::to_string(i)).c_str());
    ::rename(path_.c_str(), (path_ + ".1").c_str());
  }
  file_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  size_ = 0;
  if (!file_) spdlog::error("{}: cannot reopen output_file {}: {}", app_, path_, std::strerror(errno));
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
