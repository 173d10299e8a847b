// Reading one [program:x] as supervisord does (supervisor/options.py,
// _processes_from_section): which keys, their defaults, which are expanded
// and with what.
#include <algorithm>
#include <filesystem>

#include "cli/import_supervisord_keys.h"
#include "cli/import_supervisord_program.h"
#include "cli/pyformat.h"
#include "cli/shlex.h"

namespace muster::cli::supervisord {
namespace fs = std::filesystem;
namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

std::string dir_of(const std::string& file) { return fs::absolute(file).parent_path().string(); }

// The section's values, expanded with `args` as saneget() does.
struct Reader {
  const ini::Document& doc;
  const ini::Section& section;
  pyformat::Args args;

  Error error(const std::string& key, const std::string& message) const {
    const ini::Value* value = doc.get(section, key);
    return Error{where(value ? value->origin : section.origin) + ": [" + section.name + "] " + key +
                 ": " + message};
  }

  // The value (or `fallback`), %(here)s being the directory of the file it
  // came from (ServerOptions.read_config, expand_here); nullopt when unset.
  Result<std::optional<std::string>> text(const std::string& key,
                                          std::optional<std::string> fallback = {},
                                          bool expand = true) const {
    const ini::Value* value = doc.get(section, key);
    if (value == nullptr && !fallback) return std::optional<std::string>();
    std::string raw =
        value ? replace_all(value->text, "%(here)s", dir_of(value->origin.file)) : *fallback;
    if (!expand) return std::optional<std::string>(raw);
    auto expanded = pyformat::expand(raw, args);
    if (!expanded) return error(key, expanded.error().message + " in '" + raw + "'");
    return std::optional<std::string>(*expanded);
  }

  template <class T, class Parse>
  Result<T> typed(const std::string& key, const std::string& fallback, Parse parse,
                  const std::string& what) const {
    auto raw = text(key, fallback);
    if (!raw) return raw.error();
    auto value = parse(**raw);
    if (!value) return error(key, "expected " + what + ", got '" + **raw + "'");
    return static_cast<T>(*value);
  }
};

#define MUSTER_READ(target, ...)                               \
  do {                                                         \
    auto value_ = reader.typed<decltype(target)>(__VA_ARGS__); \
    if (!value_) return value_.error();                        \
    target = *value_;                                          \
  } while (false)

Result<void> read_settings(const Reader& reader, Program& p) {
  MUSTER_READ(p.priority, "priority", "999", integer, "an integer");
  MUSTER_READ(p.autostart, "autostart", "true", boolean, "true or false");
  MUSTER_READ(p.restart, "autorestart", "unexpected", auto_restart, "true, false or unexpected");
  MUSTER_READ(p.startsecs, "startsecs", "1", integer, "an integer");
  MUSTER_READ(p.startretries, "startretries", "3", integer, "an integer");
  MUSTER_READ(p.stopsignal, "stopsignal", "TERM", signal_number, "a signal name or number");
  MUSTER_READ(p.stopwaitsecs, "stopwaitsecs", "10", integer, "an integer");
  MUSTER_READ(p.exitcodes, "exitcodes", "0", exit_codes, "exit codes 0 to 255, comma-separated");
  MUSTER_READ(p.redirect_stderr, "redirect_stderr", "false", boolean, "true or false");
  MUSTER_READ(p.stdout_maxbytes, "stdout_logfile_maxbytes", "50MB", byte_size, "a size like 50MB");
  MUSTER_READ(p.stderr_maxbytes, "stderr_logfile_maxbytes", "50MB", byte_size, "a size like 50MB");
  MUSTER_READ(p.stdout_backups, "stdout_logfile_backups", "10", integer, "an integer");
  MUSTER_READ(p.stderr_backups, "stderr_logfile_backups", "10", integer, "an integer");
  p.stopsignal_set = reader.doc.get(reader.section, "stopsignal") != nullptr;
  auto user = reader.text("user");
  if (!user) return user.error();
  p.user = *user;
  for (const auto& [key, value] : reader.section.options) {
    const KeyMapping* mapping = find_program_key(key);
    if (mapping == nullptr)
      p.unknown.push_back(key);
    else if (mapping->muster.empty() && !(key == "exitcodes" && p.exitcodes == std::vector{0}))
      p.unmapped.emplace_back(key, value.text);
  }
  return {};
}

Result<Pairs> environment(const Reader& reader, const Expansions& expansions) {
  auto text = reader.text("environment", "");
  if (!text) return text.error();
  auto pairs = shlex::key_value_pairs(**text);
  if (!pairs) return reader.error("environment", pairs.error().message);
  Pairs merged = expansions.supervisord_env;
  for (const auto& [key, value] : *pairs) {
    auto same =
        std::find_if(merged.begin(), merged.end(), [&](auto& kv) { return kv.first == key; });
    if (same != merged.end())
      same->second = value;
    else
      merged.emplace_back(key, value);
  }
  return merged;
}

Result<Process> read_process(Reader& reader, const std::string& process_name,
                             const Expansions& expansions) {
  Process process;
  auto env = environment(reader, expansions);
  if (!env) return env.error();
  process.env = *env;
  for (const auto& [key, value] : process.env) reader.args["ENV_" + key] = value;
  auto directory = reader.text("directory");
  auto out = reader.text("stdout_logfile", "AUTO");
  auto err = reader.text("stderr_logfile", "AUTO");
  auto command = reader.text("command");
  for (auto* r : {&directory, &out, &err, &command})
    if (!*r) return r->error();
  process.directory = *directory;
  const auto& environ = expansions.context.environ;
  std::string home = environ.contains("HOME") ? environ.at("HOME") : "";
  process.stdout_log = log_file(**out, home);
  process.stderr_log = log_file(**err, home);
  if (!*command)
    return Error{where(reader.section.origin) + ": [" + reader.section.name +
                 "] does not specify a command"};
  auto argv = shlex::split(**command);
  if (!argv)
    return reader.error("command", "cannot split '" + **command + "': " + argv.error().message);
  if (argv->empty()) return reader.error("command", "the command is empty");
  process.argv = *argv;
  auto name = pyformat::expand(process_name, reader.args);
  if (!name) return reader.error("process_name", name.error().message);
  process.name = *name;
  return process;
}

pyformat::Args base_args(const ini::Section& section, const std::string& program,
                         const std::string& group, const Expansions& expansions) {
  pyformat::Args args{{"here", dir_of(section.origin.file)},
                      {"program_name", program},
                      {"host_node_name", expansions.context.host_node_name},
                      {"group_name", group}};
  for (const auto& [key, value] : expansions.context.environ) args["ENV_" + key] = value;
  for (const auto& [key, value] : expansions.supervisord_env) args["ENV_" + key] = value;
  return args;
}

}  // namespace

Result<Program> read_program(const ini::Document& doc, const ini::Section& section,
                             const std::string& group, const Expansions& expansions) {
  Program program;
  program.name = section.name.substr(section.name.find(':') + 1);
  program.group = group;
  program.origin = section.origin;
  Reader reader{doc, section, base_args(section, program.name, group, expansions)};
  if (program.name.empty() || program.name.find_first_of(" :/") != std::string::npos)
    return Error{where(section.origin) + ": [" + section.name + "]: invalid program name"};
  if (auto r = read_settings(reader, program); !r) return r.error();
  std::int64_t numprocs = 1, start = 0;
  MUSTER_READ(numprocs, "numprocs", "1", integer, "an integer");
  MUSTER_READ(start, "numprocs_start", "0", integer, "an integer");
  if (numprocs < 1 || numprocs > 4096) return reader.error("numprocs", "expected 1 to 4096");
  auto process_name = reader.text("process_name", "%(program_name)s", false);
  if (!process_name) return process_name.error();
  if (numprocs > 1 && !pyformat::mentions(**process_name, "process_num"))
    return reader.error("process_name",
                        "%(process_num) must be present within process_name "
                        "when numprocs > 1");
  for (std::int64_t n = start; n < start + numprocs; ++n) {
    reader.args["process_num"] = n;
    reader.args["numprocs"] = numprocs;
    auto process = read_process(reader, **process_name, expansions);
    if (!process) return process.error();
    program.processes.push_back(*process);
  }
  return program;
}

#undef MUSTER_READ

}  // namespace muster::cli::supervisord
