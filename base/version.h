// muster's version (CMakeLists.txt's project()). It is compiled into
// version.cc alone, so that a new version rebuilds one object and relinks,
// instead of recompiling every file (the upgrade check of tests/systemd
// builds the same tree twice, as two versions).
#pragma once

namespace muster {

const char* version();

}  // namespace muster
