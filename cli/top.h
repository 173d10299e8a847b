// `musterctl top`: the status of every app and worker, asked of musterd again
// every interval over one control connection. On a terminal a live view
// (top_screen.h) with keys to sort and q to quit; otherwise the plain table
// printed again each time, under a timestamp line, for logs and scripts.
#pragma once

#include <cstdint>
#include <string>

#include "cli/socket_choice.h"
#include "cli/terminal.h"

namespace muster::cli {

struct TopArgs {
  std::string app;           // only this app (as `status APP`); empty: all
  double interval = 1.0;     // seconds between frames (kTopIntervalMin..Max)
  std::uint64_t count = 0;   // frames to show, then exit 0; 0: until q
  std::string sort = "app";  // top_sort_named()
};

constexpr double kTopIntervalMin = 0.1;
constexpr double kTopIntervalMax = 3600;

// Runs top until q (or Ctrl-C) on a terminal, `count` frames, or a failure.
// Returns the exit code: ok; failed when musterd refuses the status request
// (an unknown app) or stdout cannot be written; unreachable when musterd
// cannot be reached or goes away (the message says so, on stderr, after the
// terminal is restored). Ended by SIGTERM, SIGHUP or SIGINT from elsewhere,
// it restores the terminal and then dies of that signal.
int run_top(const SocketChoice& socket, const TopArgs& args, const TerminalText& terminal);

}  // namespace muster::cli
