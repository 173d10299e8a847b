// What `musterctl top` shows of one status reply (docs/control-protocol.md,
// "Status shape"): a row per app with its workers' sums, then a row per
// worker, sorted as the operator chose. Pure functions, so that top.cc only
// fetches, times and draws.
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/format.h"

namespace muster::cli {

// app: as status lists them (config order), workers by instance; cpu and
// memory: the highest first (an app by its workers' sum), workers without a
// figure yet last; name: apps by name, workers by id.
enum class TopSort { app, cpu, memory, name };

// The sort a key selects on the live view ('a', 'c', 'm', 'n'), else nullopt.
std::optional<TopSort> top_sort_for_key(char key);
// The sort named by --sort ("app", "cpu", "memory", "name"), else nullopt.
std::optional<TopSort> top_sort_named(std::string_view name);

struct TopView {
  TopSort sort = TopSort::app;
  // Columns a line may take (the terminal's width); 0: no limit.
  std::size_t width = 0;
  // Rows of the whole frame (top_frame); 0: no limit.
  std::size_t height = 0;
  // Escaping of the names and colour of the states, as for status.
  const Style* style = nullptr;
};

// The table: a header line, then each app's row and its workers' rows. No
// line has a '\n', ends in a space or is wider than view.width.
std::vector<std::string> top_table(const boost::json::object& status, const TopView& view);

// The live view's lines: a title (`clock`, the keys and the sort), a blank
// line, then top_table, cut to view.height with a last line saying how many
// rows did not fit.
std::vector<std::string> top_frame(const boost::json::object& status, const TopView& view,
                                   std::string_view clock);

// The number of columns `text` takes: one per character (UTF-8 code point).
std::size_t columns_of(std::string_view text);

}  // namespace muster::cli
