// The NOTIFY_SOCKET of systemd-protocol workers: one datagram socket in the
// abstract namespace, owned by musterd. Senders are identified by the kernel
// (SO_PASSCRED), never by what they claim (MAINPID= is ignored).
#pragma once

#include <sys/types.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "ipc/notify_message.h"

namespace muster::daemon {

class NotifySocket {
 public:
  using Handler = std::function<void(pid_t sender, const ipc::NotifyMessage& message)>;

  NotifySocket(boost::asio::io_context& io, Handler handler);
  // Binds "@muster-<daemon pid>-notify"; the error (with its errno) on failure.
  Result<void> open();
  // The NOTIFY_SOCKET value to give workers ("@..." = abstract namespace).
  const std::string& address() const { return address_; }
  bool is_open() const { return socket_.is_open(); }
  // An in-place upgrade: the bound socket's fd, kept open across the exec
  // (this object stops reading it), and the new musterd's side: the same
  // socket (same pid, so the same name) read again. -1 when not open.
  int hand_over();
  Result<void> adopt(int fd);

 private:
  void wait();
  void receive();

  boost::asio::posix::stream_descriptor socket_;
  Handler handler_;
  std::string address_;
  std::array<char, ipc::kMaxNotifyDatagram> buffer_{};
};

}  // namespace muster::daemon
