#include "daemon/proc_stats.h"

#include <unistd.h>

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

std::uint64_t resident_bytes(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

double cpu_seconds(pid_t pid) {
  if (pid <= 0) return 0;
  auto fields = stat_fields(pid);
  // proc(5): utime is field 14, stime field 15, in clock ticks.
  return (field_number(fields, 14) + field_number(fields, 15)) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
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
