// muster's version (CMakeLists.txt's project()). It is compiled into
// version.cc alone, so that a new version rebuilds one object and relinks,
// instead of recompiling every file (the upgrade check of tests/systemd
// builds the same tree twice, as two versions).
#pragma once

namespace muster {

const char* version();
// Appends `tag` ("+alt") to version(), before anything reads it: the
// test-only build musterd-alt (CMakeLists.txt) is this tree under another
// version, so that tests can upgrade between two builds.
void tag_version(const char* tag);

}  // namespace muster
