// Whether a config file may be trusted by a musterd running as root. The file
// says what to execute (and as whom), so whoever can change it can run code as
// root: it must be writable by root alone, and so must every directory on its
// path (or the file could be swapped for another).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>

#include "config/dir_trust.h"

namespace muster::config {

// Why `path` is not safe for a daemon running as `trusted` (normally root):
// the file, or a directory on the way to it (both as named and after
// resolving symlinks), is owned by a uid other than root and `trusted`, is
// writable by its group while that group is not root's (gid 0), or is
// world-writable. A world-writable directory with the sticky bit (/tmp) is
// accepted: others cannot rename or remove the entries in it that they do
// not own. Returns nullopt when the file is safe, or when it cannot be
// examined (a missing file is reported by the loader, with its own message).
std::optional<std::string> unsafe_config_file(const std::string& path, uid_t trusted);

// The check musterd and `musterctl check` apply: unsafe_config_file(path, 0)
// when the process runs as root (euid 0), else nullopt. The message names the
// offending file or directory and the fix (the caller prefixes the path).
std::optional<std::string> refuse_unsafe_config(const std::string& path);

// Where musterd creates files as root: output files (opened relative to their
// directory, so only that directory matters) or unix sockets (bind() takes a
// whole path, so every directory on the way does).
enum class CreatedIn { directory, whole_path };

// Why musterd must not create files in `dir` (absolute, normalized), for
// `musterctl check`, found by the walk musterd makes (config/pinned_dir.h):
// a symbolic link on the way (musterd follows none there) or, when the
// process runs as root, a directory of the `scope` given that
// changeable_by_others(…, 0) (config/dir_trust.h) reports. nullopt if none,
// or if a directory cannot be examined (the caller reports a missing one).
std::optional<std::string> unsafe_directory(const std::string& dir, CreatedIn scope);

}  // namespace muster::config
