#include "daemon/proc_stats.h"

#include <unistd.h>

#include <fstream>
#include <string>

namespace muster::daemon {

std::uint64_t resident_bytes(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace muster::daemon
