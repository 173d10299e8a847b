// Whether a control client's user belongs to control_group, as the user and
// group databases say (getpwuid_r + getgrouplist: a peer's SO_PEERCRED has
// no supplementary groups). Those lookups read /etc/passwd and /etc/group, or
// ask LDAP or systemd-userdbd, on the event loop; so each uid's answer is
// remembered for a minute, for at most 256 uids. A burst of connections costs
// one lookup per user, and a change to the group takes effect within the
// minute (docs/SECURITY.md, "Control socket").
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <unordered_map>

namespace muster::daemon {

class GroupMembers {
 public:
  using Clock = std::chrono::steady_clock;
  // Whether the user `uid` is a member of the group (asked of the databases).
  using Lookup = std::function<bool(uid_t)>;

  static constexpr Clock::duration kTtl = std::chrono::seconds(60);
  static constexpr std::size_t kCapacity = 256;

  explicit GroupMembers(Lookup lookup, Clock::duration ttl = kTtl,
                        std::size_t capacity = kCapacity);
  // The databases' answer for `group`, through getpwuid_r and getgrouplist.
  explicit GroupMembers(gid_t group);

  // The remembered answer if it is younger than the ttl, else a new lookup.
  bool contains(uid_t uid, Clock::time_point now);

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    bool member;
    Clock::time_point expires;
  };
  // Makes room for one more: drops what has expired, then the oldest.
  void make_room(Clock::time_point now);

  Lookup lookup_;
  Clock::duration ttl_;
  std::size_t capacity_;
  std::unordered_map<uid_t, Entry> entries_;
};

// Whether the passwd entry of `uid` lists `group` as its primary group or the
// group database lists it as a member (getgrouplist). False if `uid` has no
// passwd entry.
bool member_by_database(uid_t uid, gid_t group);

}  // namespace muster::daemon
