// The control_group membership cache (daemon/common/group_members.cc): one database
// lookup per uid per minute, at most 256 uids remembered.
#include <catch2/catch.hpp>

#include <map>

#include "daemon/common/group_members.h"

using muster::daemon::GroupMembers;
using namespace std::chrono_literals;

namespace {

// A lookup that counts its calls and answers from `members`.
struct FakeDatabase {
  std::map<uid_t, bool> members;
  std::map<uid_t, int> calls;
  GroupMembers::Lookup lookup() {
    return [this](uid_t uid) {
      ++calls[uid];
      return members[uid];
    };
  }
};

const GroupMembers::Clock::time_point t0{};

}  // namespace

TEST_CASE("a burst of connections from one user asks the databases once") {
  FakeDatabase db;
  db.members[1000] = true;
  GroupMembers cache(db.lookup());
  for (int i = 0; i < 1000; ++i) CHECK(cache.contains(1000, t0 + i * 1ms));
  CHECK(db.calls[1000] == 1);
}

TEST_CASE("a refusal is remembered too, so a refused user cannot make musterd look it up") {
  FakeDatabase db;
  GroupMembers cache(db.lookup());
  for (int i = 0; i < 100; ++i) CHECK_FALSE(cache.contains(65534, t0));
  CHECK(db.calls[65534] == 1);
}

TEST_CASE("a change to the group takes effect once the answer expires") {
  FakeDatabase db;
  GroupMembers cache(db.lookup(), 60s);
  CHECK_FALSE(cache.contains(1000, t0));
  db.members[1000] = true;  // added to the group
  CHECK_FALSE(cache.contains(1000, t0 + 59s));
  CHECK(cache.contains(1000, t0 + 60s));
  db.members[1000] = false;  // removed again
  CHECK(cache.contains(1000, t0 + 119s));
  CHECK_FALSE(cache.contains(1000, t0 + 120s));
  CHECK(db.calls[1000] == 3);
}

TEST_CASE("the cache holds at most its capacity, dropping expired answers first") {
  FakeDatabase db;
  GroupMembers cache(db.lookup(), 60s, 4);
  for (uid_t uid = 1; uid <= 4; ++uid) cache.contains(uid, t0 + uid * 1s);
  CHECK(cache.size() == 4);
  // All four expired by then: the newcomer replaces them, not one of them.
  cache.contains(100, t0 + 120s);
  CHECK(cache.size() == 1);
}

TEST_CASE("when every answer is fresh, the oldest one makes room") {
  FakeDatabase db;
  GroupMembers cache(db.lookup(), 60s, 3);
  for (uid_t uid = 1; uid <= 3; ++uid) cache.contains(uid, t0 + uid * 1s);
  cache.contains(4, t0 + 10s);
  CHECK(cache.size() == 3);
  cache.contains(2, t0 + 11s);  // still remembered
  cache.contains(3, t0 + 11s);
  CHECK(db.calls[2] == 1);
  CHECK(db.calls[3] == 1);
  cache.contains(1, t0 + 11s);  // the oldest was dropped: asked again
  CHECK(db.calls[1] == 2);
}
