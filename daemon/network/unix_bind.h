// Binding a unix socket path for a worker with the worker's credentials. A
// short-lived child of musterd takes the worker's groups, gid and uid as its
// effective ones (the real and saved ids stay root's, so the worker's user
// cannot signal or trace it), opens the path's directory, binds there and
// sends the listening socket and the directory back over a socketpair
// (SCM_RIGHTS). So the kernel decides what the worker's user may create and
// where, as it would for a Node primary running as that user, and the file is
// that user's. musterd waits for the answer asynchronously; the child ends
// itself after kChildSeconds (alarm), so a path that never answers (a FUSE
// mount) costs one short-lived process, never the event loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>

#include "base/result.h"
#include "config/config.h"
#include "daemon/common/credentials.h"
#include "daemon/network/listen_socket.h"
#include "daemon/network/socket_file.h"
#include "ipc/unique_fd.h"

namespace muster::daemon {

struct UnixBound {
  ipc::UniqueFd fd;  // listening, O_NONBLOCK, close-on-exec
  SocketFile file;   // the file it made, to remove when the socket closes
};
using UnixBindResult = Result<UnixBound>;

// Starts binding `socket` (family unix_path, an absolute path) as
// `credentials` (nullptr: as musterd itself). The path must not exist yet
// (an existing file, stale or not, is EADDRINUSE, as for Node's primary).
// `done` runs later on `io`, never inside this call.
void bind_unix_as(boost::asio::io_context& io, const config::SocketConfig& socket,
                  const Credentials* credentials, std::function<void(UnixBindResult)> done);

}  // namespace muster::daemon
