// musterd and the systemd journal. Its own log: when stderr is a journal
// stream (JOURNAL_STREAM names stderr's device and inode, as systemd sets it
// for a service), each line starts with an sd-daemon priority prefix ("<4>"),
// so `journalctl -p warning` sees warnings, and carries no timestamp of its
// own (daemon/output/logging.cc). Worker output with output = "journal": each line
// one journal entry with fields naming the worker, sent with libsystemd's
// sd_journal_sendv (the native protocol, not a stream).
#pragma once

#include <sys/types.h>
#include <string>
#include <string_view>
#include <vector>

namespace muster::daemon {

// JOURNAL_STREAM=DEV:INODE matches fstat(2) of fd 2. A process that merely
// inherited the variable with stderr sent elsewhere gets false (sd-daemon(3)).
bool stderr_is_journal();
bool journal_stream_matches(const char* journal_stream, dev_t dev, ino_t ino);

// Where a worker's line came from.
struct LineOrigin {
  unsigned worker_id = 0;
  unsigned instance = 0;
  pid_t pid = 0;
  bool from_stderr = false;
};

// The journal fields of one worker line: MESSAGE, PRIORITY (info for
// stdout, warning for stderr), SYSLOG_IDENTIFIER (the app, so `journalctl -t
// APP` and the short output show it), SYSLOG_PID (the worker) and
// MUSTER_APP, MUSTER_WORKER_ID, MUSTER_INSTANCE, MUSTER_PID
// (`journalctl MUSTER_APP=web`).
std::vector<std::string> journal_fields(const std::string& app, const LineOrigin& from,
                                        std::string_view text);
// Sends one entry; 0, or a negative errno (no journald, a full socket buffer
// past its timeout). sd_journal_sendv(3) blocks while journald is too busy to
// read, as a write to a journal stream (musterd's own stderr) does.
int send_to_journal(const std::vector<std::string>& fields);

}  // namespace muster::daemon
