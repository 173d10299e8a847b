// One socket of OnDemandSockets (on_demand.h), shared by its two files:
// on_demand.cc (binding, use, grace) and on_demand_handover.cc (an in-place
// upgrade's hand-over and take-over). Not for anyone else.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "daemon/network/listen_socket.h"
#include "daemon/network/on_demand.h"

namespace muster::daemon {

struct OnDemandSockets::Entry {
  explicit Entry(boost::asio::io_context& io) : grace(io) {}
  std::unique_ptr<ListenSocket> socket;            // null while being bound
  std::set<unsigned> users;                        // workers given it, until they close it or leave
  std::vector<std::pair<unsigned, Done>> waiting;  // while being bound
  boost::asio::steady_timer grace;
};

}  // namespace muster::daemon
