#include "daemon/output/journal.h"

#include <sys/stat.h>
#include <sys/uio.h>
// Without this, sd_journal_sendv() adds CODE_FILE=, CODE_LINE= and CODE_FUNC=
// of this file to every worker line: noise, as the worker wrote the line.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace muster::daemon {

bool journal_stream_matches(const char* journal_stream, dev_t dev, ino_t ino) {
  if (journal_stream == nullptr) return false;
  std::uintmax_t want_dev = 0, want_ino = 0;
  int used = 0;
  if (std::sscanf(journal_stream, "%" SCNuMAX ":%" SCNuMAX "%n", &want_dev, &want_ino, &used) !=
          2 ||
      journal_stream[used] != '\0')
    return false;
  return want_dev == static_cast<std::uintmax_t>(dev) &&
         want_ino == static_cast<std::uintmax_t>(ino);
}

bool stderr_is_journal() {
  struct stat st {};
  if (::fstat(2, &st) != 0) return false;
  return journal_stream_matches(std::getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
}

std::vector<std::string> journal_fields(const std::string& app, const LineOrigin& from,
                                        std::string_view text) {
  std::string message = "MESSAGE=";
  message.append(text);
  return {std::move(message),
          from.from_stderr ? "PRIORITY=4" : "PRIORITY=6",
          "SYSLOG_IDENTIFIER=" + app,
          "SYSLOG_PID=" + std::to_string(from.pid),
          "MUSTER_APP=" + app,
          "MUSTER_WORKER_ID=" + std::to_string(from.worker_id),
          "MUSTER_INSTANCE=" + std::to_string(from.instance),
          "MUSTER_PID=" + std::to_string(from.pid)};
}

int send_to_journal(const std::vector<std::string>& fields) {
  std::vector<iovec> iov;
  iov.reserve(fields.size());
  for (const auto& f : fields) iov.push_back(iovec{const_cast<char*>(f.data()), f.size()});
  return sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

}  // namespace muster::daemon
