// Memory kept back for running out of it, as AcceptPause keeps a descriptor
// back for running out of those: a block allocated at start and freed the
// moment an allocation fails (std::bad_alloc caught), so that what has to
// follow — refusing the operation, stopping the app it was starting,
// answering the request, logging — has memory to work with. Untouched, it
// costs address space, not resident memory. Taken again once allocations
// work again (restore(), called every few seconds).
#pragma once

#include <exception>

namespace muster::daemon::memory_reserve {

// At start (and from restore()): allocates the block.
void keep() noexcept;
// An allocation failed: frees the block, if it is there.
void release() noexcept;
// release() if `e` is a std::bad_alloc: for every catch that handles one.
void release_if_out_of_memory(const std::exception& e) noexcept;
// Allocates the block again if it was released and memory allows.
void restore() noexcept;
// For status and tests: is the block in place?
bool held() noexcept;

}  // namespace muster::daemon::memory_reserve
