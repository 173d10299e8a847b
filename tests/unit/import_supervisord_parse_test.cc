// supervisord's config syntax as musterctl import reads it: Python's
// configparser, shlex and %-formatting rules (cli/ini.h, cli/shlex.h,
// cli/pyformat.h, cli/import_supervisord_values.h).
#include <catch2/catch.hpp>

#include "cli/import_supervisord_values.h"
#include "cli/ini.h"
#include "cli/pyformat.h"
#include "cli/shlex.h"

namespace ini = muster::cli::ini;
namespace shlex = muster::cli::shlex;
namespace pyformat = muster::cli::pyformat;
namespace sv = muster::cli::supervisord;

namespace {

std::string value_of(const ini::Document& doc, const std::string& section, const std::string& key) {
  const ini::Section* s = doc.find(section);
  REQUIRE(s != nullptr);
  const ini::Value* v = doc.get(*s, key);
  REQUIRE(v != nullptr);
  return v->text;
}

}  // namespace

TEST_CASE("ini: comments, inline comments after whitespace only, case-insensitive keys",
          "[import-supervisord]") {
  ini::Document doc;
  auto errors = ini::read(doc,
                          "; a comment\n"
                          "# another\n"
                          "[program:web]\n"
                          "Command = python3 app.py ; inline comment\n"
                          "url=http://x/#anchor;not-a-comment\n"
                          "empty=\n"
                          "colon: value\n",
                          "a.conf");
  REQUIRE(errors.empty());
  CHECK(value_of(doc, "program:web", "command") == "python3 app.py");
  CHECK(value_of(doc, "program:web", "url") == "http://x/#anchor;not-a-comment");
  CHECK(value_of(doc, "program:web", "empty").empty());
  CHECK(value_of(doc, "program:web", "colon") == "value");
  CHECK(doc.find("program:web")->find("command")->origin.line == 4);
}

TEST_CASE("ini: indented lines continue a value, joined with newlines", "[import-supervisord]") {
  ini::Document doc;
  REQUIRE(ini::read(doc,
                    "[program:a]\n"
                    "environment=A=1,\n"
                    "    B=2,\n"
                    "\n"
                    "  ; a comment line inside is dropped\n"
                    "    C=3\n"
                    "command=x\n",
                    "a.conf")
              .empty());
  CHECK(value_of(doc, "program:a", "environment") == "A=1,\nB=2,\n\nC=3");
  CHECK(value_of(doc, "program:a", "command") == "x");
}

TEST_CASE("ini: a later file adds to and replaces keys of a section, [DEFAULT] is a fallback",
          "[import-supervisord]") {
  ini::Document doc;
  REQUIRE(
      ini::read(doc, "[DEFAULT]\nstartsecs=7\n[program:a]\ncommand=x\nuser=a\n", "1.conf").empty());
  REQUIRE(ini::read(doc, "[program:a]\nuser=b\n", "2.conf").empty());
  CHECK(doc.sections.size() == 1);
  CHECK(value_of(doc, "program:a", "command") == "x");
  CHECK(value_of(doc, "program:a", "user") == "b");
  CHECK(doc.find("program:a")->find("user")->origin.file == "2.conf");
  CHECK(value_of(doc, "program:a", "startsecs") == "7");
}

TEST_CASE("ini: a line configparser refuses is an error at its line", "[import-supervisord]") {
  ini::Document doc;
  auto errors = ini::read(doc, "[program:a]\ncommand=x\njust words\n", "bad.conf");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].to_string() ==
        "bad.conf:3: expected KEY = VALUE, a [section] or a comment, got 'just words'");
  auto before = ini::read(doc, "command=x\n", "early.conf");
  REQUIRE(before.size() == 1);
  CHECK(before[0].origin.line == 1);
}

TEST_CASE("shlex.split: quotes and escapes as Python's posix shlex", "[import-supervisord]") {
  auto words = shlex::split(R"(sh -c "echo \"hi\" \$HOME 'x'" a\ b 'it''s' "" ok)");
  REQUIRE(words.ok());
  CHECK(*words ==
        std::vector<std::string>{"sh", "-c", R"(echo "hi" \$HOME 'x')", "a b", "its", "", "ok"});
  CHECK(shlex::split("a > b && c")->size() == 5);  // no shell: operators are words
  CHECK(shlex::split("python 'unclosed").error().message == "No closing quotation");
  CHECK(shlex::split("a\nb")->size() == 2);
}

TEST_CASE("environment=: KEY=VAL pairs, quotes keep commas, as released supervisord reads them",
          "[import-supervisord]") {
  auto pairs = shlex::key_value_pairs(R"(A="x, y",B='a=b',URL=http://h:80/p,PATH=/a:/b,C=1)");
  REQUIRE(pairs.ok());
  using P = std::pair<std::string, std::string>;
  CHECK(*pairs ==
        std::vector<P>{
            {"A", "x, y"}, {"B", "a=b"}, {"URL", "http://h:80/p"}, {"PATH", "/a:/b"}, {"C", "1"}});
  CHECK(shlex::key_value_pairs("")->empty());
  CHECK(shlex::key_value_pairs("A=1,\n  B=2")->size() == 2);
  // '@' is no word character: supervisord refuses it unquoted.
  CHECK_FALSE(shlex::key_value_pairs("MAIL=a@b").ok());
  CHECK(shlex::key_value_pairs("MAIL=\"a@b\"")->front().second == "a@b");
  CHECK_FALSE(shlex::key_value_pairs("A=1,B").ok());
  // Non-posix shlex: two quoted strings are two tokens, a quote inside a
  // word is a character, backslashes are characters of their own.
  CHECK_FALSE(shlex::key_value_pairs("A='it''s',B=1").ok());
  CHECK(shlex::key_value_pairs("A='it''s'")->front().second == "it");  // 's' is the separator
  CHECK(shlex::key_value_pairs("A=x\"y")->front().second == "x\"y");
  CHECK_FALSE(shlex::key_value_pairs("A=a\\b").ok());
  CHECK(shlex::key_value_pairs("A=\"'both'\"")->front().second == "both");
}

TEST_CASE("%-expansion: names, widths, %%, unknown names", "[import-supervisord]") {
  pyformat::Args args{{"program_name", std::string("web")},
                      {"process_num", std::int64_t(3)},
                      {"ENV_HOME", std::string("/home/u")}};
  CHECK(*pyformat::expand("%(program_name)s_%(process_num)02d", args) == "web_03");
  CHECK(*pyformat::expand("80%(process_num)d %(ENV_HOME)s 100%%", args) == "803 /home/u 100%");
  CHECK(*pyformat::expand("[%(program_name)5s|%(program_name)-5s|%(process_num)x]", args) ==
        "[  web|web  |3]");
  CHECK(*pyformat::expand("%(process_num)s", args) == "3");
  CHECK(pyformat::expand("%(nope)s", args).error().message == "no name 'nope' to expand");
  CHECK_FALSE(pyformat::expand("%(program_name)d", args).ok());
  CHECK_FALSE(pyformat::expand("50%", args).ok());
  CHECK(pyformat::mentions("x_%(process_num)02d", "process_num"));
}

TEST_CASE("supervisord's value types", "[import-supervisord]") {
  CHECK(sv::boolean("Yes") == true);
  CHECK(sv::boolean("off") == false);
  CHECK_FALSE(sv::boolean("maybe"));
  CHECK(sv::integer(" 42 ") == 42);
  CHECK_FALSE(sv::integer("4x"));
  CHECK(sv::byte_size("50MB") == 50ULL << 20);
  CHECK(sv::byte_size("1kb") == 1024);
  CHECK(sv::byte_size("123") == 123);
  CHECK(sv::size_text(50ULL << 20) == "50MiB");
  CHECK(sv::size_text(1000) == "1000B");
  CHECK(sv::exit_codes("0,2") == std::vector<int>{0, 2});
  CHECK_FALSE(sv::exit_codes("256"));
  CHECK(sv::auto_restart("unexpected") == "on-failure");
  CHECK(sv::auto_restart("true") == "always");
  CHECK(sv::auto_restart("false") == "never");
  CHECK(sv::signal_number("TERM") == 15);
  CHECK(sv::signal_number("sigquit") == 3);
  CHECK(sv::signal_number("9") == 9);
  CHECK_FALSE(sv::signal_number("NOPE"));
  CHECK(sv::log_file("AUTO", "/h").kind == sv::LogFile::Kind::automatic);
  CHECK(sv::log_file("none", "/h").kind == sv::LogFile::Kind::none);
  CHECK(sv::log_file("~/x.log", "/h").path == "/h/x.log");
}
