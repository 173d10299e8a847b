// The conversion: sections in file order, [group:x] into [groups], priority
// into `after`, other sections into comments.
#include "cli/import_supervisord.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "cli/import_supervisord_keys.h"
#include "cli/import_supervisord_program.h"
#include "cli/pyformat.h"
#include "cli/shlex.h"

namespace muster::cli::supervisord {
namespace {

// [supervisord] environment=: every program's environment starts with it.
Result<Pairs> supervisord_environment(const ini::Document& doc, const Context& context) {
  const ini::Section* section = doc.find("supervisord");
  const ini::Value* value = section ? section->find("environment") : nullptr;
  if (value == nullptr) return Pairs{};
  std::string here = std::filesystem::absolute(value->origin.file).parent_path().string();
  pyformat::Args args{{"here", here}, {"host_node_name", context.host_node_name}};
  for (const auto& [key, v] : context.environ) args["ENV_" + key] = v;
  auto text = pyformat::expand(value->text, args);
  auto pairs = text ? shlex::key_value_pairs(*text) : Result<Pairs>(text.error());
  if (!pairs)
    return Error{where(value->origin) + ": [supervisord] environment: " + pairs.error().message};
  return *pairs;
}

// The [group:x] sections: each group's programs, and each program's groups.
struct Groups {
  std::vector<std::pair<std::string, std::vector<std::string>>> programs;
  std::map<std::string, std::vector<std::string>> of;
};

Result<Groups> group_members(const ini::Document& doc) {
  Groups groups;
  for (const ini::Section& section : doc.sections) {
    if (!section.name.starts_with("group:")) continue;
    std::string group = section.name.substr(6);
    groups.programs.emplace_back(group, std::vector<std::string>{});
    const ini::Value* programs = doc.get(section, "programs");
    std::string list = programs ? programs->text : "";
    for (std::size_t start = 0; !list.empty() && start <= list.size();) {
      std::size_t comma = std::min(list.find(',', start), list.size());
      std::string name = list.substr(start, comma - start);
      name.erase(0, name.find_first_not_of(" \t\n"));
      name.erase(name.find_last_not_of(" \t\n") + 1);
      start = comma + 1;
      // An [fcgi-program:x] has no equivalent (a comment of its own).
      if (doc.find("program:" + name) == nullptr && doc.find("fcgi-program:" + name) != nullptr)
        continue;
      if (doc.find("program:" + name) == nullptr)
        return Error{where(programs->origin) + ": [" + section.name + "] names unknown program " +
                     name};
      groups.of[name].push_back(group);
      groups.programs.back().second.push_back(name);
    }
  }
  return groups;
}

void comment_section(const ini::Section& section, Imported& out) {
  if (section.name == "include" || section.name.starts_with("program:") ||
      section.name.starts_with("group:"))
    return;
  const KeyMapping* mapping = find_section(section.name);
  std::string text = "[" + section.name + "] (" + where(section.origin) + "): ";
  if (mapping == nullptr) {
    out.comments.push_back(text + "not a section supervisord reads; ignored");
  } else {
    out.comments.push_back(text +
                           (mapping->muster.empty()
                                ? "no equivalent in muster: "
                                : "in muster: " + std::string(mapping->muster) + ": ") +
                           std::string(mapping->note));
  }
}

void unique_names(Imported& out) {
  std::set<std::string> seen;
  for (App& app : out.apps) {
    std::string name = app.name;
    for (int n = 2; seen.contains(name); ++n) name = app.name + "-" + std::to_string(n);
    if (name != app.name)
      out.warnings.push_back(app.source + ": a second '" + app.name + "' is app '" + name + "'");
    app.name = name;
    seen.insert(name);
  }
}

// Group names may be no app's name and not "all" (SPEC24), and each once.
void check_group_names(Imported& out) {
  std::set<std::string> seen;
  std::erase_if(out.groups, [&](const auto& group) {
    bool clash = group.first == "all" || !seen.insert(group.first).second ||
                 std::any_of(out.apps.begin(), out.apps.end(),
                             [&](const App& app) { return app.name == group.first; });
    if (clash) {
      out.warnings.push_back("group '" + group.first + "' left out: its name is taken");
      out.comments.push_back("group " + group.first +
                             ": left out: muster's group names are unique and may not be an "
                             "app's name or \"all\"");
    }
    return clash;
  });
}

// priority: each app after the autostarted apps of the next lower priority.
void priorities_to_after(Imported& out) {
  std::set<int> levels;
  for (const App& app : out.apps)
    if (app.autostart) levels.insert(app.priority);
  for (App& app : out.apps) {
    auto lower = levels.lower_bound(app.priority);
    if (lower == levels.begin()) continue;
    int level = *std::prev(lower);
    std::vector<std::string> names;
    for (const App& other : out.apps)
      if (other.autostart && other.priority == level) names.push_back(other.name);
    app.keys.emplace_back("after", toml_strings(names));
    app.comments.push_back("priority = " + std::to_string(app.priority) +
                           ": after the apps of priority " + std::to_string(level) +
                           "; muster waits until they are ready where supervisord only "
                           "orders the starts");
  }
}

}  // namespace

Result<Imported> convert(const ini::Document& doc, const Context& context) {
  Imported out;
  auto env = supervisord_environment(doc, context);
  if (!env) return env.error();
  auto groups = group_members(doc);
  if (!groups) return groups.error();
  Expansions expansions{context, *env};
  std::map<std::string, std::vector<std::string>> apps_of_program;
  for (const ini::Section& section : doc.sections) {
    comment_section(section, out);
    if (!section.name.starts_with("program:")) continue;
    std::string name = section.name.substr(8);
    auto in_groups = groups->of.find(name);
    bool grouped = in_groups != groups->of.end();
    std::string group = grouped ? in_groups->second.front() : name;
    if (grouped && in_groups->second.size() > 1)
      out.warnings.push_back("[" + section.name +
                             "] is in several groups: its apps are in each, "
                             "and %(group_name)s is " +
                             group);
    auto program = read_program(doc, section, group, expansions);
    if (!program) return program.error();
    std::size_t first = out.apps.size();
    for (App& app : apps_of(*program, out.warnings)) out.apps.push_back(std::move(app));
    unique_names(out);
    for (std::size_t i = first; i < out.apps.size(); ++i)
      apps_of_program[name].push_back(out.apps[i].name);
    if (!grouped && out.apps.size() - first > 1)
      out.groups.emplace_back(name, apps_of_program[name]);
  }
  for (const auto& [group, programs] : groups->programs) {
    std::vector<std::string> members;
    for (const std::string& program : programs)
      for (const std::string& app : apps_of_program[program]) members.push_back(app);
    out.groups.emplace_back(group, members);
  }
  check_group_names(out);
  priorities_to_after(out);
  return out;
}

}  // namespace muster::cli::supervisord
