// What each supervisord setting becomes (cli/import_supervisord.h): the
// muster keys, the comments for what has no equivalent, and that a config
// without the newer keys (autostart, after, [groups]) loads.
#include <catch2/catch.hpp>

#include "cli/import_supervisord.h"
#include "cli/import_supervisord_keys.h"
#include "config/config.h"
#include "temp_dir.h"

namespace sv = muster::cli::supervisord;
namespace ini = muster::cli::ini;

namespace {

sv::Context context() { return {{{"HOME", "/home/u"}, {"PORT", "8000"}}, "box"}; }

sv::Imported import_text(const std::string& text) {
  ini::Document doc;
  REQUIRE(ini::read(doc, text, "/etc/supervisor/supervisord.conf").empty());
  auto imported = sv::convert(doc, context());
  if (!imported) FAIL(imported.error().message);
  return *imported;
}

std::string toml(const std::string& text) { return sv::to_toml(import_text(text), {"x.conf"}); }

bool has(const std::string& text, const std::string& part) {
  INFO(text);
  return text.find(part) != std::string::npos;
}

std::string import_error(const std::string& text) {
  ini::Document doc;
  REQUIRE(ini::read(doc, text, "/s.conf").empty());
  auto imported = sv::convert(doc, context());
  REQUIRE_FALSE(imported.ok());
  return imported.error().message;
}

}  // namespace

TEST_CASE("command is split as supervisord splits it, expansions at import",
          "[import-supervisord]") {
  auto out = toml(
      "[program:web]\ncommand=python3 -m http.server %(ENV_PORT)s --bind '127.0.0.1'\n"
      "directory=%(here)s\nuser=www\n");
  CHECK(has(out,
            "[apps.web]\nexec = \"python3\"\nargs = [\"-m\", \"http.server\", \"8000\", "
            "\"--bind\", \"127.0.0.1\"]\n"));
  CHECK(has(out, "cwd = \"/etc/supervisor\"\n"));
  CHECK(has(out, "user = \"www\"\n"));
}

TEST_CASE("restart, start and stop settings map with supervisord's defaults",
          "[import-supervisord]") {
  auto defaults = toml("[program:a]\ncommand=sleep 9\n");
  CHECK(has(defaults,
            "restart = \"on-failure\"\nmin_uptime = \"1s\"\nmax_restarts = 3\n"
            "stop_timeout = \"10s\"\n"));
  CHECK_FALSE(has(defaults, "stop_signal"));
  auto set = toml(
      "[program:a]\ncommand=sleep 9\nautorestart=true\nstartsecs=0\nstartretries=7\n"
      "stopsignal=quit\nstopwaitsecs=30\nautostart=false\n");
  CHECK(has(set,
            "autostart = false\nrestart = \"always\"\nmin_uptime = \"0s\"\nmax_restarts = 7\n"
            "stop_signal = \"SIGQUIT\"\nstop_timeout = \"30s\"\n"));
  CHECK(has(toml("[program:a]\ncommand=x\nautorestart=false\n"), "restart = \"never\""));
}

TEST_CASE("environment= with quotes and commas, over [supervisord]'s", "[import-supervisord]") {
  auto out = toml(
      "[supervisord]\nenvironment=TIER=prod,HOMEDIR=%(ENV_HOME)s\n"
      "[program:a]\ncommand=x\nenvironment=TIER=dev,MSG=\"a, b\",NAME=%(program_name)s\n");
  CHECK(has(out,
            "[apps.a.env]\nTIER = \"dev\"\nHOMEDIR = \"/home/u\"\nMSG = \"a, b\"\nNAME = \"a\"\n"));
  CHECK(has(import_error("[program:a]\ncommand=x\nenvironment=A=1,B\n"),
            "/s.conf:3: [program:a] environment: Unexpected end of key/value pairs"));
}

TEST_CASE("numprocs: instances when only names differ, else one app per process",
          "[import-supervisord]") {
  auto same = toml(
      "[program:q]\ncommand=sleep 9\nprocess_name=%(program_name)s_%(process_num)d\n"
      "numprocs=3\n");
  CHECK(has(same, "[apps.q]\nexec = \"sleep\"\nargs = [\"9\"]\ninstances = 3\n"));
  auto split = import_text(
      "[program:w]\ncommand=serve --port 80%(process_num)02d\n"
      "process_name=w%(process_num)d\nnumprocs=2\nnumprocs_start=1\n");
  REQUIRE(split.apps.size() == 2);
  CHECK(split.apps[0].name == "w1");
  CHECK(split.apps[1].keys[1].second == "[\"--port\", \"8002\"]");
  REQUIRE(split.groups.size() == 1);
  CHECK(split.groups[0] == std::pair<std::string, std::vector<std::string>>{"w", {"w1", "w2"}});
  CHECK(has(import_error("[program:w]\ncommand=x\nnumprocs=2\n"),
            "%(process_num) must be present within process_name"));
}

TEST_CASE("[group:x] becomes [groups], priority becomes after", "[import-supervisord]") {
  auto imported = import_text(
      "[program:db]\ncommand=x\npriority=10\n"
      "[program:api]\ncommand=y\npriority=20\n"
      "[program:jobs]\ncommand=z\npriority=20\n"
      "[program:late]\ncommand=z\n"
      "[group:backend]\nprograms=api, jobs\n");
  REQUIRE(imported.groups.size() == 1);
  CHECK(imported.groups[0].second == std::vector<std::string>{"api", "jobs"});
  auto out = sv::to_toml(imported, {});
  CHECK(has(out, "[groups]\nbackend = [\"api\", \"jobs\"]\n"));
  CHECK(has(out, "[apps.api]\n"));
  CHECK(has(out, "after = [\"db\"]\n"));
  CHECK(has(out, "after = [\"api\", \"jobs\"]\n"));
  CHECK(has(out,
            "# priority = 20: after the apps of priority 10; muster waits until they are ready"));
  CHECK(has(import_error("[program:a]\ncommand=x\n[group:g]\nprograms=a,b\n"),
            "[group:g] names unknown program b"));
}

TEST_CASE("logs: one destination for stdout and stderr", "[import-supervisord]") {
  auto file = toml(
      "[program:a]\ncommand=x\nstdout_logfile=/var/log/a.log\n"
      "stdout_logfile_maxbytes=1MB\nstdout_logfile_backups=2\nredirect_stderr=true\n");
  CHECK(has(file,
            "output = \"file\"\noutput_file = \"/var/log/a.log\"\noutput_max_size = \"1MiB\"\n"
            "output_keep = 2\n"));
  auto apart = toml("[program:a]\ncommand=x\nstdout_logfile=/o.log\nstderr_logfile=/e.log\n");
  CHECK(has(apart, "# stderr_logfile = /e.log: muster writes stderr where stdout goes"));
  CHECK(has(toml("[program:a]\ncommand=x\nstdout_logfile=NONE\nstderr_logfile=none\n"),
            "output = \"null\""));
  CHECK(has(toml("[program:a]\ncommand=x\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0\n"),
            "output = \"inherit\""));
  auto only_err = toml("[program:a]\ncommand=x\nstdout_logfile=NONE\nstderr_logfile=/e.log\n");
  CHECK(has(only_err, "output_file = \"/e.log\""));
  CHECK_FALSE(has(toml("[program:a]\ncommand=x\n"), "output"));
}

TEST_CASE("every key without an equivalent is a comment saying why", "[import-supervisord]") {
  std::string section = "[program:a]\ncommand=x\n";
  for (const sv::KeyMapping& key : sv::program_keys())
    if (key.muster.empty()) section += std::string(key.key) + "=1\n";
  section +=
      "exitcodes=0,2\nnot_a_key=1\n[eventlistener:e]\ncommand=x\n[inet_http_server]\nport=9\n";
  auto out = toml(section);
  for (const sv::KeyMapping& key : sv::program_keys()) {
    if (!key.muster.empty()) continue;
    CHECK(has(out, "# " + std::string(key.key) + " = "));
    CHECK(has(out, std::string(key.note)));
  }
  CHECK(has(out, "# not_a_key: not a key supervisord reads; ignored"));
  CHECK(has(out, "# [eventlistener:e] (/etc/supervisor/supervisord.conf:"));
  CHECK(has(out, "no equivalent in muster: no HTTP control server"));
}

TEST_CASE("a command with shell syntax runs through sh -c, with a comment",
          "[import-supervisord]") {
  auto imported =
      import_text("[program:a]\ncommand=python3 \"my app.py\" > /tmp/out 2>&1 && echo $HOME\n");
  CHECK(imported.apps[0].keys[0].second == "\"sh\"");
  CHECK(imported.apps[0].keys[1].second ==
        "[\"-c\", \"python3 \\\"my app.py\\\" > /tmp/out 2>&1 && echo $HOME\"]");
  const std::string out = sv::to_toml(imported, {});
  CHECK(has(out, "supervisord runs no shell"));
  CHECK(has(out, "[\"python3\", \"my app.py\", \">\", \"/tmp/out\", \"2>&1\", \"&&\""));
  CHECK(imported.warnings.size() == 1);
  // Without shell syntax, the words as they are.
  auto plain = import_text("[program:b]\ncommand=python3 \"my app.py\" --port 8000\n");
  CHECK(plain.apps[0].keys[0].second == "\"python3\"");
}

TEST_CASE("the output of a config without autostart, after or groups loads",
          "[import-supervisord]") {
  auto out = toml(
      "[supervisord]\nlogfile=/tmp/s.log\n[program:web]\ncommand=sleep 100\n"
      "environment=A=\"1,2\"\nstdout_logfile=/tmp/web.log\nstopsignal=INT\n"
      "[program:q]\ncommand=sleep 100\nprocess_name=q%(process_num)d\nnumprocs=2\n"
      "stopasgroup=true\n");
  auto loaded = muster::config::load_string(out, "/tmp/imported.toml");
  std::string errors;
  for (const auto& e : loaded.errors) errors += e.to_string() + "\n";
  INFO(out << errors);
  REQUIRE(loaded.errors.empty());
  CHECK(loaded.config->apps.size() == 2);
  CHECK(loaded.config->apps[0].stop_signal == 2);
  CHECK(loaded.config->apps[1].instances == 2);
}

TEST_CASE("[include] files= globs are relative to the including file, read sorted",
          "[import-supervisord]") {
  muster::test::TempDir tmp;
  tmp.mkdir("etc/conf.d");
  tmp.write("etc/main.conf", "[include]\nfiles = conf.d/*.conf missing/*.ini\n");
  tmp.write("etc/conf.d/b.conf", "[program:a]\nuser=b\n");
  tmp.write("etc/conf.d/a.conf", "[program:a]\ncommand=x %(here)s\nuser=a\n");
  std::vector<std::string> warnings;
  auto doc = sv::read_files({tmp.path("etc/main.conf")}, warnings);
  REQUIRE(doc.ok());
  const ini::Section* a = doc->find("program:a");
  REQUIRE(a != nullptr);
  CHECK(a->find("user")->text == "b");  // b.conf is read after a.conf
  CHECK(a->find("command")->origin.file == tmp.path("etc/conf.d/a.conf"));
  REQUIRE(warnings.size() == 1);
  CHECK(has(warnings[0], "no file matches [include] missing/*.ini"));
  auto imported = sv::convert(*doc, context());
  REQUIRE(imported.ok());
  CHECK(imported->apps[0].keys[1].second == "[\"" + tmp.path("etc/conf.d") + "\"]");

  tmp.write("etc/conf.d/c.conf", "[program:c]\nbroken line\n");
  auto broken = sv::read_files({tmp.path("etc/main.conf")}, warnings);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message == tmp.path("etc/conf.d/c.conf") +
                                      ":2: expected KEY = VALUE, a [section] or a comment, got "
                                      "'broken line'");
}

TEST_CASE("a group's fcgi-program is left to its comment, a program in two groups is in both",
          "[import-supervisord]") {
  auto imported = import_text(
      "[program:b]\ncommand=y %(group_name)s\n[fcgi-program:f]\n"
      "command=z\n[group:g1]\nprograms=b,f\n[group:g2]\nprograms=b\n");
  using Group = std::pair<std::string, std::vector<std::string>>;
  CHECK(imported.groups == std::vector<Group>{{"g1", {"b"}}, {"g2", {"b"}}});
  CHECK(imported.apps.at(0).keys.at(1).second == "[\"g1\"]");
  CHECK(has(imported.warnings.at(0), "is in several groups"));
  CHECK(has(sv::to_toml(imported, {}),
            "# [fcgi-program:f] (/etc/supervisor/supervisord.conf:3): "
            "no equivalent in muster: no FastCGI"));
}
