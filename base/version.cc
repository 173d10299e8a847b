#include "base/version.h"

#include <string>

namespace muster {
namespace {

std::string& current() {
  static std::string v = MUSTER_VERSION;
  return v;
}

}  // namespace

const char* version() { return current().c_str(); }

void tag_version(const char* tag) { current() += tag; }

}  // namespace muster
