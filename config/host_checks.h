// Internal to config/: the checks that ask this host, not the file, whether a
// config can run here (users, groups, programs, directories). They run after
// the pure reading, which is fuzzed and unit-tested without a host; their
// answers can differ between a build machine and the target host.
#pragma once

#include "config/section.h"

namespace muster::config::detail {

// Where systemd-journald takes native messages (what sd_journal_send uses).
inline constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

// Adds an error, at the key's value in `root`, for each user or group that
// does not exist, exec that cannot be run, cwd that is not a directory,
// output_file musterd could not write or must not (config::unsafe_directory),
// unix listen path whose directories musterd must not bind in, and output =
// "journal" without a journal. Values with errors of their own (bad
// type, NUL bytes) are skipped: they are reported already.
void check_host(const toml::table& root, const Config& config, ErrorList& errors);

}  // namespace muster::config::detail
