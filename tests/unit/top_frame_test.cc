// musterctl top's frames from a status reply: the sums per app, each sort
// order, lines cut to the terminal's width without trailing spaces, colour
// only when asked, and a frame cut to the terminal's height.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <regex>
#include <string>
#include <vector>

#include "cli/top_frame.h"

namespace json = boost::json;
using muster::cli::columns_of;
using muster::cli::Style;
using muster::cli::top_frame;
using muster::cli::top_sort_for_key;
using muster::cli::top_sort_named;
using muster::cli::top_table;
using muster::cli::TopSort;
using muster::cli::TopView;

namespace {

json::object status() {
  return json::parse(R"({"ok":true,"apps":[
    {"name":"web","state":"running","instances":2,"ready":2,"restarts":3,
     "workers":[
       {"id":4,"instance":0,"pid":100,"state":"listening","uptime_ms":5000,"restarts":0,
        "connections":7,"cpu_percent":1.5,"rss_bytes":1048576,"ready":true,"stopped":false},
       {"id":2,"instance":1,"pid":101,"state":"listening","uptime_ms":100,"restarts":3,
        "connections":5,"cpu_percent":20.0,"rss_bytes":2048,"ready":true,"stopped":false}]},
    {"name":"api","state":"failed","instances":1,"ready":0,"restarts":9,"workers":[]},
    {"name":"jobs","state":"running","instances":1,"ready":0,"restarts":0,
     "workers":[
       {"id":7,"instance":0,"pid":300,"state":"online","uptime_ms":60000,"restarts":1,
        "connections":0,"cpu_percent":null,"rss_bytes":4194304,"ready":false,
        "stopped":true}]}],
    "sockets":[]})")
      .as_object();
}

// The first column (NAME) of each row after the header.
std::vector<std::string> names(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (std::size_t i = 1; i < lines.size(); ++i)
    out.push_back(lines[i].substr(0, lines[i].find("  ", 2)));
  return out;
}

std::vector<std::string> table(TopSort sort, std::size_t width = 0, const Style* style = nullptr) {
  return top_table(status(), TopView{sort, width, 0, style});
}

std::string without_colour(const std::string& text) {
  return std::regex_replace(text, std::regex("\x1b\\[[0-9;]*m"), "");
}

}  // namespace

TEST_CASE("top shows each app with its workers' sums, then its workers", "[top]") {
  const auto lines = table(TopSort::app);
  REQUIRE(lines.size() == 7);
  CHECK(lines[0] ==
        "NAME       PID  STATE             READY  CPU    RSS     UPTIME  RESTARTS  CONNS");
  CHECK(lines[1] == "web             running           2/2    21.5%  1.0MiB          3         12");
  CHECK(lines[2] == "  web[4]   100  listening         yes    1.5%   1.0MiB  5s      0         7");
  CHECK(lines[4] == "api             failed            0/1    -      -               9         -");
  CHECK(lines[6] == "  jobs[7]  300  online (stopped)  no     -      4.0MiB  1m0s    1         0");
}

TEST_CASE("top sorts by app order, CPU, memory or name", "[top]") {
  CHECK(names(table(TopSort::app)) ==
        std::vector<std::string>{"web", "  web[4]", "  web[2]", "api", "jobs", "  jobs[7]"});
  // Apps by their workers' sum; no figure (api has no worker, jobs no sample) last.
  CHECK(names(table(TopSort::cpu)) ==
        std::vector<std::string>{"web", "  web[2]", "  web[4]", "api", "jobs", "  jobs[7]"});
  CHECK(names(table(TopSort::memory)) ==
        std::vector<std::string>{"jobs", "  jobs[7]", "web", "  web[4]", "  web[2]", "api"});
  CHECK(names(table(TopSort::name)) ==
        std::vector<std::string>{"api", "jobs", "  jobs[7]", "web", "  web[2]", "  web[4]"});
}

TEST_CASE("top's sort keys and --sort names", "[top]") {
  CHECK(top_sort_for_key('c') == TopSort::cpu);
  CHECK(top_sort_for_key('m') == TopSort::memory);
  CHECK(top_sort_for_key('n') == TopSort::name);
  CHECK(top_sort_for_key('a') == TopSort::app);
  CHECK_FALSE(top_sort_for_key('x'));
  CHECK(top_sort_named("memory") == TopSort::memory);
  CHECK_FALSE(top_sort_named("mem"));
}

TEST_CASE("top's lines fit the width and never end in a space", "[top]") {
  const Style colour{nullptr, true};
  for (std::size_t width : {1, 5, 8, 9, 10, 30, 61, 200}) {
    for (const Style* style : {static_cast<const Style*>(nullptr), &colour}) {
      for (const std::string& line : table(TopSort::app, width, style)) {
        INFO(width << ": '" << line << "'");
        const std::string shown = without_colour(line);
        CHECK(columns_of(shown) <= width);
        CHECK((shown.empty() || shown.back() != ' '));
      }
    }
  }
  // "api" and its state, cut in the padding between them: no trailing blank.
  CHECK(table(TopSort::app, 8)[4] == "api");
  CHECK(table(TopSort::app, 20)[1] == "web             runn");
}

TEST_CASE("top colours states and the header only when asked", "[top]") {
  for (const std::string& line : table(TopSort::app)) CHECK(line.find('\x1b') == std::string::npos);
  const Style colour{nullptr, true};
  const auto coloured = table(TopSort::app, 0, &colour);
  CHECK(coloured[1].find("\x1b[32mrunning\x1b[0m") != std::string::npos);
  CHECK(coloured[4].find("\x1b[31mfailed\x1b[0m") != std::string::npos);
  CHECK(coloured[6].find("\x1b[31monline (stopped)\x1b[0m") != std::string::npos);
  CHECK(coloured[0].rfind("\x1b[1mNAME\x1b[0m", 0) == 0);
  // The same columns as without colour.
  const auto plain = table(TopSort::app);
  for (std::size_t i = 0; i < plain.size(); ++i) CHECK(without_colour(coloured[i]) == plain[i]);
  // A colour is cut with its cell, and reset.
  CHECK(without_colour(table(TopSort::app, 17, &colour)[1]) == "web             r");
  CHECK(table(TopSort::app, 17, &colour)[1] == "web             \x1b[32mr\x1b[0m");
}

TEST_CASE("top escapes names a terminal would obey", "[top]") {
  json::object s = status();
  s["apps"].as_array()[0].as_object()["name"] = "w\x1b]0;x\x07";
  const Style escaping{
      [](std::string text) { return std::regex_replace(text, std::regex("\x1b"), "\\x1b"); },
      false};
  const auto lines = top_table(s, TopView{TopSort::app, 0, 0, &escaping});
  CHECK(lines[1].rfind("w\\x1b]0;x", 0) == 0);
}

TEST_CASE("top's frame has a title with the keys, and fits the height", "[top]") {
  const auto frame = top_frame(status(), TopView{TopSort::cpu, 0, 0, nullptr}, "12:00:00");
  REQUIRE(frame.size() == 9);
  CHECK(frame[0] == "12:00:00  sort: a=app order  c=CPU  m=memory  n=name  (now: CPU)  q=quit");
  CHECK(frame[1].empty());
  CHECK(frame[2].rfind("NAME", 0) == 0);

  const auto cut = top_frame(status(), TopView{TopSort::app, 30, 5, nullptr}, "12:00:00");
  REQUIRE(cut.size() == 5);
  CHECK(cut[0] == "12:00:00  sort: a=app order  c");
  CHECK(cut[4] == "... 5 more rows: the window is");
}

TEST_CASE("top shows a reply without apps as a header alone", "[top]") {
  const auto lines = top_table(json::parse(R"({"ok":true,"apps":[]})").as_object(), TopView{});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("NAME", 0) == 0);
}
