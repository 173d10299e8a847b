// Human-readable rendering of musterd's replies (what musterctl prints without
// --json). Pure functions of the reply JSON, tolerant of missing or extra fields:
// the protocol may grow, and an absent value is shown as "-".
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace muster::cli {

// 312000 -> "5m12s"; two units at most ("5s", "2h5m", "3d4h").
std::string format_duration(std::int64_t ms);
// 41234432 -> "39.3MiB"; below 1 KiB in bytes ("512B").
std::string format_bytes(std::uint64_t bytes);

// Columns aligned two spaces apart, every line prefixed by `indent`; the first
// row is the header. Each line ends in '\n', never in a space. `paint`, if
// given, returns an SGR colour code ("\x1b[32m") for the cell at (row,
// column), or "" for none; a painted cell is reset after its text, and the
// columns stay aligned.
using Row = std::vector<std::string>;
using Paint = std::function<std::string_view(std::size_t row, std::size_t column)>;
std::string format_table(const std::vector<Row>& rows, std::string_view indent = "",
                         const Paint& paint = nullptr);

// How format_status renders for a terminal: `escape` makes text a worker
// chose (a STATUS= text) safe to print (TerminalText::for_stdout), and
// `colour` paints each state: green running (an app) or ready (a worker),
// yellow starting, reloading or stopping, red failed, stopped by a signal or
// dead. Without a Style, plain text for the caller to escape.
struct Style {
  std::function<std::string(std::string)> escape;
  bool colour = false;
};

// The SGR colour of an app's or a worker's STATE, as described for Style
// (a worker's also red while stopped by a signal), or "" for none.
std::string_view app_state_colour(const boost::json::object& app);
std::string_view worker_state_colour(const boost::json::object& worker);

// The apps table, then each app's workers, then the sockets.
std::string format_status(const boost::json::object& reply, const Style* style = nullptr);

// describe: the app's sections (Settings with each origin, Exec,
// Environment, Sockets, Policy, Counters, Last exits, Logs), each an aligned
// table (musterctl escapes the whole text for a terminal).
std::string format_describe(const boost::json::object& reply);

// One event (docs/control-protocol.md, Events) on one line, ending in '\n':
// "2026-11-25T10:47:08.689Z exit web[3] pid 4242 code=1"; the payload of a
// message event comes last, as compact JSON.
std::string format_event(const boost::json::object& event);
// One worker output line of `logs`: "TIME APP[ID] TEXT\n".
std::string format_log_line(const boost::json::object& line);

// What to print for an ok reply to `request` (whose "verb" says which one),
// ending in '\n'.
std::string format_reply(const boost::json::object& request, const boost::json::object& reply);
// Whether format_reply has a rendering of its own for the verb `name`
// (every verb of ipc/verbs.h should: tests/unit/verbs_test.cc).
bool has_reply_formatter(std::string_view name);

}  // namespace muster::cli
