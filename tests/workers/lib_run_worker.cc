// The simplest worker on include/muster/worker.hpp: Worker::run() serves the channel
// (and, in shared mode, accepts); each connection gets one HTTP response and is
// closed. Used by lib_fake_primary_test.py and by the daemon's integration tests.
#include <muster/worker.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

int main() {
  auto w = muster::Worker::from_env();
  if (!w) {
    std::fprintf(stderr, "lib_run_worker: %s\n", w.error().message.c_str());
    return 2;
  }
  std::string body = "run() worker " + std::to_string(w->id()) + "\n";
  std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nConnection: close\r\n\r\n" + body;
  w->on_connection([&](int fd) {
    pollfd p{fd, POLLIN, 0};
    char buf[4096];
    if (poll(&p, 1, 5000) > 0 &&
        recv(fd, buf, sizeof buf, 0) > 0)  // one small request, good enough here
      send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    close(fd);
  });
  w->on_message([&](const std::string& m) { w->send_raw("{\"echo\":" + m + "}"); });
  w->online();
  const char* port = std::getenv("PORT");
  auto server = w->listen({"127.0.0.1", port ? std::atoi(port) : 8000});
  if (!server) {
    std::fprintf(stderr, "lib_run_worker: %s\n", server.error().message.c_str());
    return 1;
  }
  w->run();  // returns once the channel is closed (disconnect)
  return 0;
}
