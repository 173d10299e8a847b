#include "daemon/common/errno_text.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace muster::daemon {

std::string describe_errno(int err) {
  std::string text = std::strerror(err);
  if (err != EMFILE) return text;
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) return text + " (EMFILE)";
  std::string soft = limit.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(limit.rlim_cur);
  return text + " (EMFILE: RLIMIT_NOFILE soft limit " + soft + ")";
}

}  // namespace muster::daemon
