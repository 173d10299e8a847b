#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "daemon/output/merged_tail.h"

using muster::daemon::merge_tails;

namespace {
boost::json::object line(const char* app, const char* time) {
  return {{"app", app}, {"time", time}, {"line", std::string(app) + "@" + time}};
}
std::vector<std::string> texts(const boost::json::array& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.emplace_back(l.as_object().at("line").as_string());
  return out;
}
}  // namespace

TEST_CASE("tails of several apps merge by time, ties to the app listed first", "[logs]") {
  boost::json::array web{line("web", "2026-01-01T00:00:01.000Z"),
                         line("web", "2026-01-01T00:00:03.000Z")};
  boost::json::array jobs{line("jobs", "2026-01-01T00:00:02.000Z"),
                          line("jobs", "2026-01-01T00:00:03.000Z")};
  CHECK(texts(merge_tails({web, jobs}, 10)) ==
        std::vector<std::string>{"web@2026-01-01T00:00:01.000Z", "jobs@2026-01-01T00:00:02.000Z",
                                 "web@2026-01-01T00:00:03.000Z", "jobs@2026-01-01T00:00:03.000Z"});
}

TEST_CASE("the merged tail keeps only the newest n lines", "[logs]") {
  boost::json::array a{line("a", "1"), line("a", "3"), line("a", "5")};
  boost::json::array b{line("b", "2"), line("b", "4")};
  CHECK(texts(merge_tails({a, b}, 2)) == std::vector<std::string>{"b@4", "a@5"});
  CHECK(merge_tails({a, b}, 0).empty());
  CHECK(merge_tails({}, 5).empty());
}

TEST_CASE("an app's own lines keep their order when its clock stepped back", "[logs]") {
  boost::json::array a{line("a", "5"), line("a", "1")};
  boost::json::array b{line("b", "3")};
  CHECK(texts(merge_tails({a, b}, 10)) == std::vector<std::string>{"b@3", "a@5", "a@1"});
}

TEST_CASE("a logs reply keeps the newest lines that fit its bytes, as sent", "[logs]") {
  using muster::daemon::keep_newest_within;
  boost::json::array lines;
  // Ill-formed bytes are sent as U+FFFD: three bytes each.
  for (int i = 0; i < 10; ++i) lines.push_back({{"n", i}, {"line", std::string(1000, '\xff')}});
  const std::size_t one = boost::json::serialize(lines[0]).size() + 2000 + 1;  // as sent, a comma
  CHECK(keep_newest_within(lines, 3 * one + 10) == 7);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].as_object().at("n") == 7);
  CHECK(lines[2].as_object().at("n") == 9);
  CHECK(keep_newest_within(lines, 1 << 20) == 0);
  CHECK(lines.size() == 3);
}
