// The worker channel's decoder (ipc/node_channel), driven as a hostile worker
// would drive it: over a real socketpair, with file descriptors attached to
// arbitrary writes, while the daemon side also sends plain and handle messages.
//
// Input: segments separated by 0xFF (never part of valid UTF-8 JSON); the
// first byte of a segment is the operation, the rest its payload:
//   'W' write the payload           'F' write it with one fd attached
//   'M' write the payload with (first payload byte % 24) fds (over the limit of 16)
//   'X' write (first payload byte % 64 + 1) * 16 KiB of filler, no newline
//   'S' daemon sends the payload (if it is JSON)   'H' same, carrying an fd
//   'E' the worker shuts down its writing side     'C' the daemon closes the channel
//   anything else: the whole segment is written as is.
//
// Checked after every input: everything the daemon wrote to the worker is
// newline-terminated JSON (a Node worker dies on anything else), an fd only
// arrives with the first byte of a NODE_HANDLE line, and no fd leaked.
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/finite_json.h"
#include "ipc/node_channel.h"
#include "tests/support/recv_fds.h"

namespace {

using muster::ipc::NodeChannel;
using muster::ipc::UniqueFd;
namespace json = boost::json;

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "node_channel_fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

// The worker's end: reads what the daemon sends and checks it.
class Worker {
 public:
  explicit Worker(int fd) : fd_(fd) {}

  // Reads everything available; returns false at EOF.
  bool drain() {
    for (;;) {
      auto got = muster::testing::recv_fds(fd_.get());  // the fds are closed with it
      if (got.n < 0) return true;                       // EAGAIN
      std::size_t fds = got.fds.size();
      if (fds > 1) fail("more than one fd in one read");
      if (fds == 1) {
        if (!partial_.empty()) fail("fd arrived in the middle of a line", partial_);
        fd_pending_ = true;
      }
      if (got.n == 0) return false;
      take(got.bytes);
    }
  }

  void shutdown_write() { ::shutdown(fd_.get(), SHUT_WR); }
  void finish() {
    drain();
    if (!partial_.empty()) fail("daemon left an unterminated line", partial_);
    if (fd_pending_) fail("fd without a line");
  }
  int fd() const { return fd_.get(); }

 private:
  void take(std::string_view bytes) {
    for (char c : bytes) {
      if (c != '\n') {
        partial_ += c;
        continue;
      }
      boost::system::error_code ec;
      json::value v = json::parse(partial_, ec);
      if (ec) fail("daemon sent invalid JSON", partial_);
      bool handle = v.is_object() && v.as_object().contains("cmd") &&
                    v.as_object().at("cmd") == "NODE_HANDLE";
      if (handle != fd_pending_) fail("fd and NODE_HANDLE line disagree", partial_);
      fd_pending_ = false;
      partial_.clear();
    }
  }

  UniqueFd fd_;
  std::string partial_;
  bool fd_pending_ = false;
};

int null_fd() {
  static int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return fd;
}

// The descriptors an input can leak: sockets, /dev/null copies (every fd the
// harness passes is one) and the io_context's own. Pipes and files are left
// out: the sanitizers' symbolizer keeps pipes open across inputs.
std::string open_fds() {
  std::string fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) fail("opendir /proc/self/fd");
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.' || std::atoi(entry->d_name) == ::dirfd(dir)) continue;
    char link[300], target[256];
    std::snprintf(link, sizeof link, "/proc/self/fd/%s", entry->d_name);
    ssize_t n = ::readlink(link, target, sizeof target - 1);
    if (n <= 0) continue;
    std::string_view what(target, static_cast<std::size_t>(n));
    if (what == "/dev/null" || what.starts_with("socket:") || what.starts_with("anon_inode:"))
      fds += std::string(entry->d_name) + " -> " + std::string(what) + "\n";
  }
  ::closedir(dir);
  return fds;
}

struct Session {
  boost::asio::io_context io;
  std::shared_ptr<NodeChannel> channel;
  Worker* worker = nullptr;
  bool closed = false;

  void run() {
    for (int i = 0; i < 1000; ++i) {
      std::size_t ran = io.poll();
      bool open = worker->drain();
      if (ran == 0 || !open) {
        if (io.poll() == 0) return;
      }
    }
  }

  // Writes like a worker: fds ride with the first byte; when the socket is
  // full the daemon gets its turn, and a daemon that stops reading ends it.
  void write(std::string_view bytes, int fds) {
    std::string one_byte = " ";  // an fd needs at least one byte to travel with
    if (bytes.empty() && fds > 0) bytes = one_byte;
    std::size_t sent = 0;
    int stalls = 0;
    while (sent < bytes.size() && stalls < 3) {
      iovec iov{const_cast<char*>(bytes.data() + sent), bytes.size() - sent};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 24)];
      if (sent == 0 && fds > 0) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds);
        for (int i = 0; i < fds; ++i) {
          int fd = null_fd();
          std::memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof fd);
        }
      }
      ssize_t n = ::sendmsg(worker->fd(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0) {
        if (errno != EAGAIN) return;  // the daemon closed its end
        run();
        if (closed || !channel->is_open()) return;
        ++stalls;
        continue;
      }
      stalls = 0;
      sent += static_cast<std::size_t>(n);
    }
    run();
  }

  void send(std::string_view payload, bool with_fd) {
    boost::system::error_code ec;
    json::value v = json::parse(payload, ec);
    if (ec) return;
    // What the daemon sends comes from parse_request or the channel itself.
    muster::ipc::null_non_finite(v);
    // The caller's copy is closed at once: the channel must keep its own.
    UniqueFd fd(with_fd ? ::fcntl(null_fd(), F_DUPFD_CLOEXEC, 0) : -1);
    channel->send(v, fd.get());
    fd.reset();
    run();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  null_fd();
  static const std::string baseline = open_fds();
  {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) fail("socketpair");
    Session s;
    Worker worker(sv[1]);
    s.worker = &worker;
    s.channel = std::make_shared<NodeChannel>(s.io, UniqueFd(sv[0]));
    s.channel->start([](json::value, UniqueFd) {}, [&s](const std::string&) { s.closed = true; });

    std::string_view input(reinterpret_cast<const char*>(data), size);
    while (!input.empty() && !s.closed && s.channel->is_open()) {
      std::size_t end = input.find('\xff');
      std::string_view segment = input.substr(0, end);
      input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
      if (segment.empty()) continue;
      std::string_view payload = segment.substr(1);
      switch (segment[0]) {
        case 'W': s.write(payload, 0); break;
        case 'F': s.write(payload, 1); break;
        case 'M': {
          int fds = payload.empty() ? 0 : static_cast<unsigned char>(payload[0]) % 24;
          s.write(payload.substr(payload.empty() ? 0 : 1), fds);
          break;
        }
        case 'X': {
          std::size_t kib = payload.empty() ? 1 : static_cast<unsigned char>(payload[0]) % 64 + 1;
          s.write(std::string(kib * 16 * 1024, 'x'), 0);
          break;
        }
        case 'S': s.send(payload, false); break;
        case 'H': s.send(payload, true); break;
        case 'E':
          worker.shutdown_write();
          s.run();
          break;
        case 'C':
          s.channel->close();
          s.run();
          break;
        default: s.write(segment, 0); break;
      }
    }
    s.run();
    if (s.channel->is_open()) worker.finish();
    s.channel->close();
    s.run();
  }
  if (std::string now = open_fds(); now != baseline)
    fail("file descriptor leak", "before:\n" + baseline + "after:\n" + now);
  return 0;
}
