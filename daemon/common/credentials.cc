#include "daemon/common/credentials.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace muster::daemon {

Result<std::optional<Credentials>> resolve_credentials(const config::AppConfig& app) {
  if (app.user.empty() && app.group.empty()) return std::optional<Credentials>();
  Credentials creds{::getuid(), ::getgid(), {}};
  std::string user_name;
  if (!app.user.empty()) {
    struct passwd* pw = ::getpwnam(app.user.c_str());
    if (!pw) return Error{"no user named '" + app.user + "'"};
    creds.uid = pw->pw_uid;
    creds.gid = pw->pw_gid;
    user_name = pw->pw_name;
  }
  if (!app.group.empty()) {
    struct group* gr = ::getgrnam(app.group.c_str());
    if (!gr) return Error{"no group named '" + app.group + "'"};
    creds.gid = gr->gr_gid;
  }
  if (!user_name.empty()) {
    int count = 64;
    std::vector<gid_t> groups(count);
    while (::getgrouplist(user_name.c_str(), creds.gid, groups.data(), &count) < 0)
      groups.resize(count);
    groups.resize(count);
    creds.groups = std::move(groups);
  } else {
    creds.groups = {creds.gid};
  }
  if (::geteuid() != 0 && (creds.uid != ::geteuid() || creds.gid != ::getegid()))
    return Error{"user/group need musterd to run as root"};
  return std::optional<Credentials>(std::move(creds));
}

}  // namespace muster::daemon
