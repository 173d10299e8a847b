// One round trip to musterd: send a request, wait for its reply, print it.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>

#include "cli/client.h"
#include "cli/socket_choice.h"
#include "cli/terminal.h"

namespace muster::cli {

// A connection to `socket`, or nullopt with why not printed on stderr (exit
// kExitUnreachable): its default directory is not private, or the connection
// failed (then also where the path came from).
std::optional<ControlClient> connect_to(const SocketChoice& socket);
// A reply line as an object with a boolean "ok", or nullopt if it is not one.
std::optional<boost::json::object> parse_reply(const std::string& line);
// The "error" of an ok:false reply.
std::string error_of(const boost::json::object& reply);

// Sends `request` to the control socket `socket` and prints the reply:
// as-is with `json`, else in human form (format.h) or the error on stderr,
// through `terminal` (escaped for a terminal).
// Returns the exit code: ok, failed (ok:false or a garbled reply), or
// unreachable (no connection, or it was lost before the reply). When it cannot
// connect, the error says where the socket's path came from.
int send_request(const SocketChoice& socket, const boost::json::object& request, bool json,
                 const TerminalText& terminal);

// `events --follow`, `logs --follow`: sends `request`, checks its reply, then
// prints every following line as it arrives (as-is with `json`, else
// format_event / format_log_line), flushing each, until musterd closes the
// connection or SIGINT (both exit 0). A stream that musterd ends with an
// error line (it dropped this follower for falling behind) prints the error
// on stderr and exits 1. No time limit once the first reply is in.
int follow_events(const SocketChoice& socket, const boost::json::object& request, bool json,
                  const TerminalText& terminal);

}  // namespace muster::cli
