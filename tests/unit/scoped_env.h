// Test helper: environment variables set for one scope, then restored.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace muster::test {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Neither scheduling variable set, whatever the tests run under.
struct NoSchedulingEnv {
  ScopedEnv muster{"MUSTER_SCHED_POLICY", nullptr};
  ScopedEnv node{"NODE_CLUSTER_SCHED_POLICY", nullptr};
};

}  // namespace muster::test
