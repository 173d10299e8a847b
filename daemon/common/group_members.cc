#include "daemon/common/group_members.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace muster::daemon {

GroupMembers::GroupMembers(Lookup lookup, Clock::duration ttl, std::size_t capacity)
    : lookup_(std::move(lookup)), ttl_(ttl), capacity_(std::max<std::size_t>(capacity, 1)) {}

GroupMembers::GroupMembers(gid_t group)
    : GroupMembers([group](uid_t uid) { return member_by_database(uid, group); }) {}

bool GroupMembers::contains(uid_t uid, Clock::time_point now) {
  auto it = entries_.find(uid);
  if (it != entries_.end() && now < it->second.expires) return it->second.member;
  const bool member = lookup_(uid);
  if (it != entries_.end()) {
    it->second = Entry{member, now + ttl_};
  } else {
    make_room(now);
    entries_.emplace(uid, Entry{member, now + ttl_});
  }
  return member;
}

void GroupMembers::make_room(Clock::time_point now) {
  if (entries_.size() < capacity_) return;
  std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires <= now; });
  if (entries_.size() < capacity_) return;
  auto oldest = std::min_element(
      entries_.begin(), entries_.end(),
      [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
  entries_.erase(oldest);
}

bool member_by_database(uid_t uid, gid_t group) {
  std::vector<char> buffer(1024);
  passwd entry{};
  passwd* found = nullptr;
  int rc;
  while ((rc = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
         buffer.size() < (std::size_t(1) << 20))
    buffer.resize(buffer.size() * 2);
  if (rc != 0 || found == nullptr) return false;
  if (entry.pw_gid == group) return true;
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  while (::getgrouplist(entry.pw_name, entry.pw_gid, groups.data(), &count) < 0)
    groups.resize(static_cast<std::size_t>(count));
  groups.resize(static_cast<std::size_t>(count));
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

}  // namespace muster::daemon
