// Handing a worker's output pipe over to a new OutputPipe
// (daemon/output/output_pipe.h, for musterd upgrading itself in place, issue
// 25): the line the old one was in the middle of is the new one's first.
#include <fcntl.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "daemon/output/output_pipe.h"
#include "ipc/unique_fd.h"
#include "tests/support/run_until.h"

using muster::daemon::OutputPipe;
using muster::ipc::UniqueFd;
using muster::testing::run_for;
using muster::testing::run_until;

namespace {

using Lines = std::vector<std::string>;

struct Fixture {
  boost::asio::io_context io;
  UniqueFd writer;  // the worker's end
  std::shared_ptr<OutputPipe> old_pipe, new_pipe;
  Lines old_lines, new_lines;

  Fixture() {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    writer.reset(p[1]);
    old_pipe = std::make_shared<OutputPipe>(io, p[0]);
    old_pipe->start("web[1]", [this](std::string_view l) { old_lines.emplace_back(l); });
  }

  void write(const std::string& text) {
    REQUIRE(::write(writer.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  }
  // The old pipe handed over (it must accept).
  OutputPipe::Handover hand_over() {
    auto handover = old_pipe->hand_over();
    REQUIRE(handover.ok());
    return std::move(*handover);
  }
  void take_over(OutputPipe::Handover handover) {
    new_pipe = std::make_shared<OutputPipe>(io, std::move(handover));
    new_pipe->start("web[1]", [this](std::string_view l) { new_lines.emplace_back(l); });
  }
};

}  // namespace

TEST_CASE("an output line cut by the hand-over is the new pipe's first", "[handover]") {
  Fixture f;
  f.write("one\ntw");
  REQUIRE(run_until(f.io, [&] { return !f.old_lines.empty(); }));
  run_for(f.io);
  OutputPipe::Handover handover = f.hand_over();
  CHECK(handover.partial_line == "tw");
  f.write("o\nthree\n");
  run_for(f.io);
  CHECK(f.old_lines == Lines{"one"});
  f.take_over(std::move(handover));
  REQUIRE(run_until(f.io, [&] { return f.new_lines.size() >= 2; }));
  CHECK(f.new_lines == Lines{"two", "three"});
  CHECK(f.old_lines == Lines{"one"});
}

TEST_CASE("a partial line handed over is still the last line at end of output", "[handover]") {
  Fixture f;
  f.write("no newline yet");
  run_for(f.io);
  OutputPipe::Handover handover = f.hand_over();
  CHECK_FALSE(f.old_pipe->hand_over().ok());  // once only
  f.old_pipe.reset();                         // its last copy goes with its aborted read
  run_for(f.io);
  CHECK(::fcntl(handover.fd.get(), F_GETFD) >= 0);
  f.take_over(std::move(handover));
  f.write(", now the end");
  f.writer.reset();
  REQUIRE(run_until(f.io, [&] { return !f.new_lines.empty(); }));
  CHECK(f.new_lines == Lines{"no newline yet, now the end"});
  CHECK(f.old_lines.empty());
}
