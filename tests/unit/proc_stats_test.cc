// Reading a process's resource use from /proc/PID/stat (daemon/common/proc_stats.h).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "daemon/common/proc_stats.h"

using muster::daemon::parse_proc_stat;
using muster::daemon::read_proc_usage;

namespace {
// Shaped like a real line (a `sleep` process): utime 150, stime 50, rss 300;
// comm holds a space and a ')' to show that it ends at the last ')'.
const std::string kStat =
    "4242 (odd) name) S 1 4242 4242 0 -1 4194560 99 0 0 0 150 50 0 0 20 0 1 0 "
    "123456 8675328 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 "
    "0 0 0 0 0 0 0 0\n";
}  // namespace

TEST_CASE("rss is field 24 in pages and cpu is utime plus stime in ticks") {
  auto usage = parse_proc_stat(kStat, 4096, 100);
  REQUIRE(usage);
  CHECK(usage->rss_bytes == 300u * 4096u);
  CHECK(usage->cpu_seconds == Approx(2.0));
}

TEST_CASE("a stat text cut short or garbled is not read as zeros") {
  CHECK_FALSE(parse_proc_stat(kStat.substr(0, kStat.find("8675328")), 4096, 100));
  CHECK_FALSE(parse_proc_stat("4242 (sleep) S 1 2 3", 4096, 100));
  CHECK_FALSE(parse_proc_stat("no parenthesis at all", 4096, 100));
  std::string garbled = kStat;
  garbled.replace(garbled.find(" 150 "), 5, " 1x0 ");
  CHECK_FALSE(parse_proc_stat(garbled, 4096, 100));
}

TEST_CASE("this process's own usage reads as resident and alive") {
  auto usage = read_proc_usage(::getpid());
  REQUIRE(usage);
  CHECK(usage->rss_bytes > 1024u * 1024u);
  CHECK(usage->cpu_seconds >= 0);
  CHECK_FALSE(read_proc_usage(0));
}

TEST_CASE("the process state letter is field 3, and T or t is stopped") {
  auto usage = parse_proc_stat(kStat, 4096, 100);
  REQUIRE(usage);
  CHECK(usage->state == 'S');
  CHECK_FALSE(usage->stopped());
  for (char letter : {'T', 't'}) {
    std::string stopped = kStat;
    stopped[stopped.find(") S ") + 2] = letter;
    auto sample = parse_proc_stat(stopped, 4096, 100);
    REQUIRE(sample);
    CHECK(sample->state == letter);
    CHECK(sample->stopped());
  }
  std::string two_letters = kStat;
  two_letters.replace(two_letters.find(") S "), 4, ") SS ");
  CHECK_FALSE(parse_proc_stat(two_letters, 4096, 100));
}
