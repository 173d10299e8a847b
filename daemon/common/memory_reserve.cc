#include "daemon/common/memory_reserve.h"

#include <spdlog/spdlog.h>
#include <cstddef>
#include <new>

namespace muster::daemon::memory_reserve {
namespace {

// Enough to stop a few thousand workers, answer the request and log (a
// stop costs a few hundred bytes per worker).
constexpr std::size_t kSize = 8 << 20;
char* block = nullptr;

}  // namespace

void keep() noexcept {
  if (!block) block = new (std::nothrow) char[kSize];
}

void release() noexcept {
  if (!block) return;
  delete[] block;
  block = nullptr;
  spdlog::warn("out of memory: the memory kept in reserve for this is released");
}

void release_if_out_of_memory(const std::exception& e) noexcept {
  if (dynamic_cast<const std::bad_alloc*>(&e)) release();
}

void restore() noexcept {
  if (block) return;
  keep();
  if (block) spdlog::info("the memory reserve is in place again");
}

bool held() noexcept { return block != nullptr; }

}  // namespace muster::daemon::memory_reserve
