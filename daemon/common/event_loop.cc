#include "daemon/common/event_loop.h"

#include <spdlog/spdlog.h>
#include <exception>
#include <new>

#include "daemon/common/memory_reserve.h"

namespace muster::daemon {
namespace {
std::uint64_t escaped = 0;
}  // namespace

std::uint64_t loop_exceptions() { return escaped; }

void run_event_loop(boost::asio::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::bad_alloc& e) {
      ++escaped;
      memory_reserve::release();
      spdlog::error(
          "an event handler ran out of memory ({}); musterd keeps running (the "
          "operation it was part of did not finish)",
          e.what());
    } catch (const std::exception& e) {
      ++escaped;
      spdlog::error(
          "an event handler failed: {}; musterd keeps running (the operation it "
          "was part of did not finish)",
          e.what());
    } catch (...) {
      ++escaped;
      spdlog::error("an event handler failed with an unknown exception; musterd keeps running");
    }
  }
}

}  // namespace muster::daemon
