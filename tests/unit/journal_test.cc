// musterd and the journal (daemon/output/journal.cc): recognising a journal stream
// on stderr, and the fields of an output = "journal" entry.
#include <catch2/catch.hpp>

#include "daemon/output/journal.h"

using muster::daemon::journal_fields;
using muster::daemon::journal_stream_matches;
using muster::daemon::LineOrigin;

TEST_CASE("JOURNAL_STREAM counts only when it names stderr's device and inode") {
  CHECK(journal_stream_matches("8:12345", 8, 12345));
  CHECK_FALSE(journal_stream_matches("8:12345", 8, 12346));  // stderr went elsewhere
  CHECK_FALSE(journal_stream_matches("9:12345", 8, 12345));
  CHECK_FALSE(journal_stream_matches(nullptr, 8, 12345));  // not under systemd
  CHECK_FALSE(journal_stream_matches("", 8, 12345));
  CHECK_FALSE(journal_stream_matches("8:12345x", 8, 12345));
  CHECK_FALSE(journal_stream_matches("8", 8, 12345));
}

TEST_CASE(
    "a journal entry names the app, the worker, its slot and pid, and the stream's priority") {
  LineOrigin from{7, 2, 4321, false};
  auto fields = journal_fields("web", from, "GET / 200");
  CHECK(fields == std::vector<std::string>{"MESSAGE=GET / 200", "PRIORITY=6",
                                           "SYSLOG_IDENTIFIER=web", "SYSLOG_PID=4321",
                                           "MUSTER_APP=web", "MUSTER_WORKER_ID=7",
                                           "MUSTER_INSTANCE=2", "MUSTER_PID=4321"});
  from.from_stderr = true;
  CHECK(journal_fields("web", from, "oops")[1] == "PRIORITY=4");
}

TEST_CASE("a journal message keeps its bytes as they are") {
  std::string text("a=b \x01 \xff", 7);
  CHECK(journal_fields("web", {}, text)[0] == "MESSAGE=" + text);
}
