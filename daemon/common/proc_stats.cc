#include "daemon/common/proc_stats.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace muster::daemon {
namespace {

// The fields of /proc/PID/stat after "(comm)"; comm may hold spaces and
// parentheses, so it ends at the *last* ')'. fields[0] is field 3 (state).
std::vector<std::string> stat_fields(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

double field_number(const std::vector<std::string>& fields, std::size_t stat_index) {
  std::size_t i = stat_index - 3;
  if (i >= fields.size()) return 0;
  try {
    return std::stod(fields[i]);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

std::optional<ProcUsage> parse_proc_stat(std::string_view text, long page_size,
                                         long ticks_per_second) {
  auto close = text.rfind(')');
  if (close == std::string_view::npos || page_size <= 0 || ticks_per_second <= 0)
    return std::nullopt;
  // proc(5): the state is field 3 (one letter), utime field 14, stime 15
  // (clock ticks), rss 24 (pages); the text after comm's last ')' starts
  // with field 3.
  long long utime = -1, stime = -1, rss = -1;
  char state = 0;
  std::string_view rest = text.substr(close + 1);
  std::size_t at = 0;
  for (int field = 3; field <= 24; ++field) {
    at = rest.find_first_not_of(" \n", at);
    if (at == std::string_view::npos) return std::nullopt;
    std::size_t end = std::min(rest.find_first_of(" \n", at), rest.size());
    if (field == 3) {
      if (end != at + 1) return std::nullopt;
      state = rest[at];
    }
    long long* into = field == 14 ? &utime : field == 15 ? &stime : field == 24 ? &rss : nullptr;
    if (into) {
      auto [p, ec] = std::from_chars(rest.data() + at, rest.data() + end, *into);
      if (ec != std::errc{} || p != rest.data() + end) return std::nullopt;
    }
    at = end;
  }
  if (utime < 0 || stime < 0) return std::nullopt;
  ProcUsage usage;
  usage.rss_bytes =
      static_cast<std::uint64_t>(std::max(rss, 0LL)) * static_cast<std::uint64_t>(page_size);
  usage.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks_per_second);
  usage.state = state;
  return usage;
}

std::optional<ProcUsage> read_proc_usage(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  static const long page_size = ::sysconf(_SC_PAGESIZE);
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char text[1024];  // about 300 bytes: 52 numbers and a comm of at most 16
  ssize_t n = ::read(fd, text, sizeof text);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return parse_proc_stat({text, static_cast<std::size_t>(n)}, page_size, ticks);
}

std::uint64_t resident_bytes(pid_t pid) {
  auto usage = read_proc_usage(pid);
  return usage ? usage->rss_bytes : 0;
}

double cpu_seconds(pid_t pid) {
  auto usage = read_proc_usage(pid);
  return usage ? usage->cpu_seconds : 0;
}

std::uint64_t own_open_fds() {
  std::error_code ec;
  std::uint64_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n > 0 ? n - 1 : 0;  // minus the directory iterator's own fd
}

double own_start_time() {
  // starttime (field 22) is in ticks since boot; boot time is btime in /proc/stat.
  double ticks = field_number(stat_fields(::getpid()), 22);
  std::ifstream stat("/proc/stat");
  for (std::string key; stat >> key;) {
    if (key == "btime") {
      double btime = 0;
      stat >> btime;
      return btime + ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    stat.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace muster::daemon
