// musterctl status as people read it: the READY and CPU columns, no line
// ending in a space, and on a terminal state colours that keep the columns
// aligned and worker-chosen text escaped.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <regex>
#include <sstream>
#include <string>

#include "cli/format.h"

namespace json = boost::json;
using muster::cli::format_status;
using muster::cli::Style;

namespace {

json::object reply() {
  return json::parse(R"({"apps":[
    {"name":"web","state":"running","protocol":"node","instances":2,"ready":1,"restarts":3,
     "workers":[
       {"id":1,"instance":0,"pid":100,"state":"listening","uptime_ms":5000,"restarts":0,
        "connections":7,"cpu_percent":12.5,"rss_bytes":1048576,"ready":true,"stopped":false},
       {"id":2,"instance":1,"pid":101,"state":"online","uptime_ms":100,"restarts":3,
        "connections":0,"cpu_percent":null,"rss_bytes":2048,"ready":false,"stopped":false,
        "status":"warming \u001b]0;owned\u0007 up"}],
     "empty_slots":[]},
    {"name":"jobs","state":"failed","protocol":"none","instances":1,"ready":0,"restarts":9,
     "workers":[],"empty_slots":[]}],
    "sockets":[]})")
      .as_object();
}

std::string without_colour(const std::string& text) {
  return std::regex_replace(text, std::regex("\x1b\\[[0-9;]*m"), "");
}

std::string escape(std::string text) {  // as TerminalText does, enough for the test
  return std::regex_replace(text, std::regex("\x1b"), "\\x1b");
}

}  // namespace

TEST_CASE("status shows ready/total per app and CPU % per worker", "[status-format]") {
  const std::string out = format_status(reply());
  CHECK_THAT(out, Catch::Contains("NAME  STATE    PROTOCOL  READY  INSTANCES  RESTARTS\n"
                                  "web   running  node      1/2    2          3\n"
                                  "jobs  failed   none      0/1    1          9\n"));
  CHECK_THAT(out, Catch::Contains("  CPU    RSS"));
  CHECK_THAT(out, Catch::Contains("12.5%"));
  // CPU "-": one sample so far.
  CHECK_THAT(out,
             Catch::Contains("  2   1         101  online     no     0s      3         0      -"
                             "      2.0KiB"));
}

TEST_CASE("no status line ends in a space", "[status-format]") {
  Style colour{escape, true};
  for (const std::string& out : {format_status(reply()), format_status(reply(), &colour)}) {
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      INFO(line);
      CHECK((line.empty() || line.back() != ' '));
    }
  }
}

TEST_CASE("on a terminal each state is coloured and the columns stay aligned", "[status-format]") {
  Style colour{escape, true};
  const std::string painted = format_status(reply(), &colour);
  CHECK_THAT(painted, Catch::Contains("web   \x1b[32mrunning\x1b[0m  "));  // green
  CHECK_THAT(painted, Catch::Contains("jobs  \x1b[31mfailed\x1b[0m   "));  // red
  CHECK_THAT(painted, Catch::Contains("\x1b[32mlistening\x1b[0m"));        // ready
  CHECK_THAT(painted, Catch::Contains("\x1b[33monline\x1b[0m"));           // not yet
  Style plain{escape, false};
  CHECK(without_colour(painted) == format_status(reply(), &plain));
}

TEST_CASE("text a worker chose is escaped before colour is added", "[status-format]") {
  Style colour{escape, true};
  const std::string painted = format_status(reply(), &colour);
  CHECK_THAT(painted, Catch::Contains("warming \\x1b]0;owned"));
  CHECK_THAT(without_colour(painted), !Catch::Contains("\x1b"));
}
