// What a round-robin socket (daemon/network/rr_handle.h) hands its connections to: a
// worker's channel. An interface, so that the network layer does not depend
// on the supervision layer that implements it (Worker).
#pragma once

#include <memory>
#include <string>

namespace muster::daemon {

class RrHandle;

class RrMember {
 public:
  // Sends the accepted connection `fd` as a newconn message (`prefix` is
  // the line up to its seq); false when the channel cannot take it.
  virtual bool send_newconn(const std::string& prefix, int fd, std::weak_ptr<RrHandle> handle) = 0;

 protected:
  ~RrMember() = default;
};

}  // namespace muster::daemon
