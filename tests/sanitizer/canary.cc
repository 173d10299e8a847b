// scripts/sanitize runs this before the suite to prove that the sanitizers
// are really in the build and that their reports reach the report directory:
// each mode commits one error that one sanitizer must report. A sanitizer
// run that could not have reported anything would pass for the wrong reason.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
int* volatile g_pointer;  // volatile: the compiler may not drop the error
volatile int g_value;
}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (std::strcmp(mode, "leak") == 0) {  // LeakSanitizer, at exit
    g_pointer = static_cast<int*>(std::malloc(64));
    g_pointer[0] = 1;
    g_pointer = nullptr;
    return 0;
  }
  if (std::strcmp(mode, "use-after-free") == 0) {  // AddressSanitizer
    g_pointer = new int(1);
    delete g_pointer;
    g_value = *g_pointer;
    return 0;
  }
  if (std::strcmp(mode, "overflow") == 0) {  // UndefinedBehaviorSanitizer
    g_value = INT_MAX;
    int sum = g_value + 1;
    g_value = sum;
    return 0;
  }
  std::fprintf(stderr, "usage: sanitizer_canary leak|use-after-free|overflow\n");
  return 2;
}
