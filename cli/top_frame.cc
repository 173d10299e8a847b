// musterctl top's rows: per app the sums of its workers, then the workers,
// sorted; laid out in columns and cut to the terminal's width, colour codes
// taking no column.
#include "cli/top_frame.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <utility>

#include "cli/json_fields.h"
#include "ipc/utf8.h"

namespace muster::cli {

namespace json = boost::json;
using namespace fields;

namespace {

constexpr std::string_view kBold = "\x1b[1m", kReset = "\x1b[0m";

// --sort's names, and what the title calls each sort.
struct SortName {
  std::string_view name;
  std::string_view title;
  TopSort sort;
};
constexpr SortName kSortNames[] = {{"app", "app order", TopSort::app},
                                   {"cpu", "CPU", TopSort::cpu},
                                   {"memory", "memory", TopSort::memory},
                                   {"name", "name", TopSort::name}};

std::string_view title_of(TopSort sort) {
  for (const SortName& known : kSortNames)
    if (known.sort == sort) return known.title;
  return "";
}

std::optional<double> number_of(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

// The sum of a field over workers, or nullopt if none has it.
std::optional<double> sum_of(const json::array& workers, std::string_view key) {
  std::optional<double> sum;
  for (const json::value& item : workers)
    if (const json::object* w = item.if_object())
      if (auto n = number_of(*w, key)) sum = sum.value_or(0) + *n;
  return sum;
}

std::string percent_text(std::optional<double> percent) {
  if (!percent) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f%%", *percent);
  return text;
}

std::string bytes_text(std::optional<double> bytes) {
  return bytes && *bytes >= 0 ? format_bytes(static_cast<std::uint64_t>(*bytes)) : "-";
}

std::string integer_text(std::optional<double> n) {
  return n ? std::to_string(static_cast<std::int64_t>(*n)) : "-";
}

// Figures first, the highest first; those without one after, as they were.
bool higher(std::optional<double> a, std::optional<double> b) {
  if (a && b) return *a > *b;
  return a.has_value() && !b.has_value();
}

const json::array kNoWorkers;

const json::array& workers_of(const json::object& app) {
  const json::array* workers = array_of(app, "workers");
  return workers ? *workers : kNoWorkers;
}

// The objects of `items` in the order `sort` gives; `figure` reads the CPU
// or memory figure of one, `name` its name (apps) or id (workers).
std::vector<const json::object*> sorted(
    const json::array& items, TopSort sort,
    const std::function<std::optional<double>(const json::object&, std::string_view)>& figure,
    const std::function<bool(const json::object&, const json::object&)>& by_name) {
  std::vector<const json::object*> out;
  for (const json::value& item : items)
    if (const json::object* o = item.if_object()) out.push_back(o);
  if (sort == TopSort::app) return out;
  std::stable_sort(out.begin(), out.end(), [&](const json::object* a, const json::object* b) {
    if (sort == TopSort::name) return by_name(*a, *b);
    const std::string_view key = sort == TopSort::cpu ? "cpu_percent" : "rss_bytes";
    return higher(figure(*a, key), figure(*b, key));
  });
  return out;
}

// One line's cells, each with its colour ("" for none).
struct Cell {
  std::string text;
  std::string_view colour;
};
using Line = std::vector<Cell>;

Line app_line(const json::object& app) {
  const json::array& workers = workers_of(app);
  return {{text_of(app, "name"), ""},
          {"", ""},
          {text_of(app, "state"), app_state_colour(app)},
          {text_of(app, "ready") + "/" + text_of(app, "instances"), ""},
          {percent_text(sum_of(workers, "cpu_percent")), ""},
          {bytes_text(sum_of(workers, "rss_bytes")), ""},
          {"", ""},
          {text_of(app, "restarts"), ""},
          {integer_text(sum_of(workers, "connections")), ""}};
}

Line worker_line(const json::object& app, const json::object& w) {
  std::string state = text_of(w, "state");
  const json::value* stopped = field(w, "stopped");
  if (stopped && stopped->is_bool() && stopped->get_bool()) state += " (stopped)";
  const json::value* ready = field(w, "ready");
  return {{"  " + text_of(app, "name") + "[" + text_of(w, "id") + "]", ""},
          {text_of(w, "pid"), ""},
          {std::move(state), worker_state_colour(w)},
          {ready && ready->is_bool() ? (ready->get_bool() ? "yes" : "no") : "-", ""},
          {percent_text(number_of(w, "cpu_percent")), ""},
          {bytes_text(number_of(w, "rss_bytes")), ""},
          {duration_of(w, "uptime_ms"), ""},
          {text_of(w, "restarts"), ""},
          {text_of(w, "connections"), ""}};
}

std::vector<Line> lines_of(const json::object& status, TopSort sort) {
  std::vector<Line> lines;
  Line header;
  for (std::string_view title :
       {"NAME", "PID", "STATE", "READY", "CPU", "RSS", "UPTIME", "RESTARTS", "CONNS"})
    header.push_back({std::string(title), kBold});
  lines.push_back(std::move(header));
  const json::array* apps = array_of(status, "apps");
  if (apps == nullptr) return lines;
  auto app_figure = [](const json::object& app, std::string_view key) {
    return sum_of(workers_of(app), key);
  };
  auto app_name = [](const json::object& a, const json::object& b) {
    return text_of(a, "name") < text_of(b, "name");
  };
  auto worker_id = [](const json::object& a, const json::object& b) {
    return integer_of(a, "id").value_or(0) < integer_of(b, "id").value_or(0);
  };
  for (const json::object* app : sorted(*apps, sort, app_figure, app_name)) {
    lines.push_back(app_line(*app));
    for (const json::object* w : sorted(workers_of(*app), sort, number_of, worker_id))
      lines.push_back(worker_line(*app, *w));
  }
  return lines;
}

// The first `columns` characters of `text`.
std::string_view first_columns(std::string_view text, std::size_t columns) {
  std::size_t at = 0;
  for (; columns > 0 && at < text.size(); --columns) at += ipc::next_utf8(text.substr(at)).length;
  return text.substr(0, at);
}

// `line` in aligned columns two spaces apart, cut to `width` columns (0: no
// limit), without trailing spaces; colours only with `colour`.
std::string laid_out(const Line& line, const std::vector<std::size_t>& widths, std::size_t width,
                     bool colour) {
  std::string plain;
  std::vector<std::string> parts;  // cell, then padding, for each cell
  for (std::size_t c = 0; c < line.size(); ++c) {
    parts.push_back(line[c].text);
    const bool last = c + 1 == line.size();
    parts.push_back(last ? "" : std::string(widths[c] - columns_of(line[c].text) + 2, ' '));
    plain += parts[parts.size() - 2] + parts.back();
  }
  std::string_view shown = width ? first_columns(plain, width) : std::string_view(plain);
  std::size_t left = columns_of(shown.substr(0, shown.find_last_not_of(' ') + 1));
  std::string out;
  for (std::size_t i = 0; i < parts.size() && left > 0; ++i) {
    const std::string_view part = first_columns(parts[i], left);
    left -= columns_of(part);
    const std::string_view paint = i % 2 == 0 && colour ? line[i / 2].colour : "";
    if (!paint.empty() && !part.empty())
      out += std::string(paint) + std::string(part) + std::string(kReset);
    else
      out += part;
  }
  return out;
}

}  // namespace

std::size_t columns_of(std::string_view text) {
  std::size_t columns = 0;
  for (std::size_t at = 0; at < text.size(); ++columns)
    at += ipc::next_utf8(text.substr(at)).length;
  return columns;
}

std::optional<TopSort> top_sort_for_key(char key) {
  switch (key) {
    case 'a': return TopSort::app;
    case 'c': return TopSort::cpu;
    case 'm': return TopSort::memory;
    case 'n': return TopSort::name;
    default: return std::nullopt;
  }
}

std::optional<TopSort> top_sort_named(std::string_view name) {
  for (const SortName& known : kSortNames)
    if (known.name == name) return known.sort;
  return std::nullopt;
}

std::vector<std::string> top_table(const json::object& status, const TopView& view) {
  std::vector<Line> lines = lines_of(status, view.sort);
  const Style* style = view.style;
  if (style && style->escape)
    for (Line& line : lines)
      for (Cell& cell : line) cell.text = style->escape(std::move(cell.text));
  std::vector<std::size_t> widths(lines.front().size(), 0);
  for (const Line& line : lines)
    for (std::size_t c = 0; c < line.size(); ++c)
      widths[c] = std::max(widths[c], columns_of(line[c].text));
  std::vector<std::string> out;
  for (const Line& line : lines)
    out.push_back(laid_out(line, widths, view.width, style && style->colour));
  return out;
}

std::vector<std::string> top_frame(const json::object& status, const TopView& view,
                                   std::string_view clock) {
  const std::string title =
      std::string(clock) +
      "  sort: a=app order  c=CPU  m=memory  n=name  (now: " + std::string(title_of(view.sort)) +
      ")  q=quit";
  auto line = [&view](std::string text) {
    const std::size_t columns = columns_of(text);
    return laid_out({{std::move(text), ""}}, {columns}, view.width, false);
  };
  std::vector<std::string> out{line(title), ""};
  for (std::string& row : top_table(status, view)) out.push_back(std::move(row));
  if (view.height == 0 || out.size() <= view.height) return out;
  const std::size_t hidden = out.size() - (view.height - 1);
  out.resize(view.height - 1);
  out.push_back(line("... " + std::to_string(hidden) + " more rows: the window is too small"));
  return out;
}

}  // namespace muster::cli
