// Self-checking tests of include/muster/worker.hpp: its JSON reader/writer and the
// worker side of the channel, driven in-process through a socketpair that plays the
// primary. Exit status 0 = all passed. (No test framework: this directory's programs
// are built with the header alone.)
#include <muster/worker.hpp>

#include <netinet/in.h>

#include <cstdio>
#include <string>
#include <vector>

static int failures = 0;
#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                                   \
    }                                                                               \
  } while (0)

using muster::Worker;
namespace json = muster::json;

// The primary's end of a channel whose other end a Worker owns.
struct Primary {
  int fd = -1;
  Worker w;
  std::string got;  // everything the worker wrote, not yet taken by lines()
  std::vector<std::string> messages, errors;
  std::vector<int> conns;
  bool disconnected = false, gone = false;

  static Primary make() {
    int sp[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
    return Primary(sp[0], Worker::from_fd(sp[1], 7));
  }
  Primary(int f, Worker wk) : fd(f), w(std::move(wk)) {
    w.on_message([this](const std::string& m) { messages.push_back(m); });
    w.on_connection([this](int c) { conns.push_back(c); });
    w.on_disconnect([this] { disconnected = true; });
    w.on_primary_gone([this] { gone = true; });
    w.on_protocol_error([this](const std::string& e) { errors.push_back(e); });
  }
  ~Primary() {
    if (fd >= 0) close(fd);
  }
  void put(const std::string& text, int pass_fd = -1) {
    iovec iov{const_cast<char*>(text.data()), text.size()};
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    msghdr mh{};
    mh.msg_iov = &iov, mh.msg_iovlen = 1;
    if (pass_fd >= 0) {
      mh.msg_control = cbuf, mh.msg_controllen = sizeof cbuf;
      cmsghdr* c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    sendmsg(fd, &mh, 0);
  }
  // The lines the worker has written since the last call.
  std::vector<std::string> lines() {
    char buf[65536];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
      got.append(buf, static_cast<size_t>(n));
    std::vector<std::string> out;
    size_t nl;
    while ((nl = got.find('\n')) != std::string::npos)
      out.push_back(got.substr(0, nl)), got.erase(0, nl + 1);
    return out;
  }
  // Replies to the queryServer that listen() will send as seq `seq`, then listens.
  muster::Expected<muster::Server> rr_listen(long long seq) {
    put("{\"cmd\":\"NODE_CLUSTER\",\"errno\":null,\"key\":\"127.0.0.1:8000:4::0\",\"ack\":" +
        std::to_string(seq) +
        ",\"data\":null,\"sockname\":{\"address\":\"127.0.0.1\",\"family\":\"IPv4\",\"port\":8000},"
        "\"seq\":0}\n");
    return w.listen({"127.0.0.1", 8000});
  }
};

static int socket_end() {
  int sp[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
  close(sp[1]);
  return sp[0];
}

static void json_reader_accepts_valid_and_rejects_invalid() {
  auto v = json::parse(
      " {\"a\":[1,-2.5e3,true,false,null],\"b\":\"x\\\"\\\\\\/"
      "\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"} ");
  CHECK(v && v->get("a") && v->get("a")->items.size() == 5);
  CHECK(v && v->get("a")->items[1].s == "-2.5e3" && v->get("a")->items[1].as_int() == -2500);
  CHECK(v && v->get("b")->s == "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  for (const char* bad : {"", " ", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\x01\"",
                          "1 2", "\"\\x\"", "\"\\u12\"", "{\"a\":1,}", "nul", "[1]]", "\"open"})
    CHECK(!json::parse(bad));
  CHECK(!json::parse(std::string(100, '[') + std::string(100, ']')));  // nesting bound
  CHECK(json::parse(std::string(50, '[') + std::string(50, ']')));
}

static void json_writer_round_trips() {
  std::string tricky = "q\"b\\n\nt\tc\x01 \xc3\xa9";
  CHECK(json::quote(tricky) == "\"q\\\"b\\\\n\\nt\\tc\\u0001 \xc3\xa9\"");
  auto v = json::parse("{\"k\":[" + json::quote(tricky) + ",{},[],0]}");
  CHECK(v && v->get("k")->items[0].s == tricky);
  CHECK(v && json::dump(*v) == "{\"k\":[" + json::quote(tricky) + ",{},[],0]}");
  CHECK(json::minify("{ \"a\" : [1, 2] ,\n \"b\":\"x y\\n\" }\n") ==
        std::string("{\"a\":[1,2],\"b\":\"x y\\n\"}"));
  CHECK(!json::minify("{\"a\":}"));
}

static void user_messages_split_across_reads_arrive_whole() {
  Primary p = Primary::make();
  p.put("{\"hel");
  p.w.process_channel();
  CHECK(p.messages.empty());
  p.put("lo\":1}\n[\"x\"]\n\"s\"\n{\"cmd\":\"NODE_X\"}\n{\"cmd\":\"NODE_\"}\n");
  p.w.process_channel();
  CHECK((p.messages ==
         std::vector<std::string>{"{\"hello\":1}", "[\"x\"]", "\"s\"", "{\"cmd\":\"NODE_\"}"}));
}

static void online_listen_and_seq_follow_node() {
  Primary p = Primary::make();
  p.w.online();
  auto s = p.rr_listen(1);
  CHECK(s && s->round_robin() && s->port == 8000 && s->key == "\"127.0.0.1:8000:4::0\"");
  auto l = p.lines();
  CHECK(l.size() == 3);
  CHECK(l.size() == 3 && l[0] == "{\"cmd\":\"NODE_CLUSTER\",\"act\":\"online\",\"seq\":0}");
  auto q = l.size() == 3 ? json::parse(l[1]) : std::nullopt;
  CHECK(q && q->get("act")->s == "queryServer" && q->get("seq")->as_int() == 1 &&
        q->get("index")->as_int() == 0 && q->get("address")->s == "127.0.0.1" &&
        q->get("port")->as_int() == 8000 && q->get("addressType")->as_int() == 4 &&
        q->get("data")->is(json::Value::Type::null) && q->get("backlog"));
  auto li = l.size() == 3 ? json::parse(l[2]) : std::nullopt;
  CHECK(li && li->get("act")->s == "listening" && li->get("seq")->as_int() == 2 &&
        li->get("port")->as_int() == 8000);
}

static void newconn_is_acked_then_accepted_and_handed_over() {
  Primary p = Primary::make();
  CHECK(p.rr_listen(0));
  p.lines();
  int c = socket_end();
  std::string env =
      "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"act\":"
      "\"newconn\",\"key\":\"127.0.0.1:8000:4::0\",\"seq\":5}}\n";
  p.put(env.substr(0, 10), c);  // the fd travels with the first byte of its line
  close(c);
  p.w.process_channel();
  p.put(env.substr(10));
  p.w.process_channel();
  CHECK(p.conns.size() == 1);
  if (p.conns.size() == 1) {
    CHECK(fcntl(p.conns[0], F_GETFL) & O_NONBLOCK);
    CHECK(fcntl(p.conns[0], F_GETFD) & FD_CLOEXEC);
    close(p.conns[0]);
  }
  auto l = p.lines();
  CHECK((l == std::vector<std::string>{
                  "{\"cmd\":\"NODE_HANDLE_ACK\"}",
                  "{\"cmd\":\"NODE_CLUSTER\",\"ack\":5,\"accepted\":true,\"seq\":2}"}));
}

static void a_newconn_right_behind_the_reply_finds_its_server() {
  Primary p = Primary::make();
  int c = socket_end();
  p.put(
      "{\"cmd\":\"NODE_CLUSTER\",\"errno\":null,\"key\":\"k\",\"ack\":0,\"sockname\":{\"port\":"
      "8000},\"seq\":0}\n"
      "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"act\":"
      "\"newconn\",\"key\":\"k\",\"seq\":1}}\n",
      c);
  close(c);
  CHECK(p.w.listen({"127.0.0.1", 8000}));
  CHECK(p.conns.size() == 1);
  for (int x : p.conns) close(x);
  auto l = p.lines();
  CHECK(l.size() == 4 &&
        l[3] == "{\"cmd\":\"NODE_CLUSTER\",\"ack\":1,\"accepted\":true,\"seq\":2}");
}

static void newconn_for_an_unknown_key_is_refused_and_a_handle_without_fd_is_nacked() {
  Primary p = Primary::make();
  int c = socket_end();
  p.put(
      "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"act\":"
      "\"newconn\",\"key\":\"nope\",\"seq\":3}}\n",
      c);
  close(c);
  p.put(
      "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\",\"act\":"
      "\"newconn\",\"key\":\"nope\",\"seq\":4}}\n");
  p.w.process_channel();
  p.w.process_channel();
  CHECK(p.conns.empty());
  auto l = p.lines();
  CHECK((l == std::vector<std::string>{
                  "{\"cmd\":\"NODE_HANDLE_ACK\"}",
                  "{\"cmd\":\"NODE_CLUSTER\",\"ack\":3,\"accepted\":false,\"seq\":0}",
                  "{\"cmd\":\"NODE_HANDLE_NACK\"}"}));
}

static void shared_handle_is_listened_on_and_accepted_from() {
  Primary p = Primary::make();
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET, a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(lfd, reinterpret_cast<sockaddr*>(&a),
       sizeof a);  // bound, not listening, as Node's primary sends it
  socklen_t len = sizeof a;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  p.put(
      "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\","
      "\"errno\":0,\"key\":\"k\",\"ack\":0,\"data\":null,\"seq\":0}}\n",
      lfd);
  close(lfd);
  auto s = p.w.listen({"127.0.0.1", 0});
  CHECK(s && !s->round_robin() && s->port == ntohs(a.sin_port));
  CHECK(s && p.w.watch_fds().size() == 2);
  int client = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  if (s) p.w.on_readable(s->listen_fd);
  CHECK(p.conns.size() == 1);
  for (int c : p.conns) close(c);
  close(client);
  auto l = p.lines();
  CHECK(
      l.size() == 3 &&
      l[0] ==
          "{\"cmd\":\"NODE_CLUSTER\",\"act\":\"queryServer\",\"index\":0,\"data\":null,\"address\":"
          "\"127.0.0.1\",\"port\":0,\"addressType\":4,\"flags\":0,\"backlog\":511,\"seq\":0}");
  CHECK(l.size() == 3 && l[1] == "{\"cmd\":\"NODE_HANDLE_ACK\"}");
  CHECK(l.size() == 3 && l[2].find("\"act\":\"listening\"") != std::string::npos &&
        l[2].find("\"port\":" + std::to_string(ntohs(a.sin_port))) != std::string::npos);
}

static void a_bind_error_comes_back_as_a_negative_errno() {
  Primary p = Primary::make();
  p.put(
      "{\"cmd\":\"NODE_CLUSTER\",\"errno\":-98,\"key\":\"k\",\"ack\":0,\"data\":null,\"seq\":0}\n");
  auto s = p.w.listen({"", 80});
  CHECK(!s && s.error().code == -98 &&
        s.error().message.find("Address already in use") != std::string::npos);
  // Node's checkBindError: a round-robin sockname with another port is EADDRINUSE.
  p.put(
      "{\"cmd\":\"NODE_CLUSTER\",\"errno\":null,\"key\":\"k\",\"ack\":1,\"sockname\":{\"port\":81},"
      "\"seq\":1}\n");
  auto t = p.w.listen({"", 80});
  CHECK(!t && t.error().code == -EADDRINUSE);
  auto l = p.lines();
  CHECK(l.size() == 2);  // two queryServer, no listening
}

static void primary_disconnect_closes_servers_then_the_channel() {
  Primary p = Primary::make();
  CHECK(p.rr_listen(0));
  p.lines();
  p.put("{\"cmd\":\"NODE_CLUSTER\",\"act\":\"disconnect\",\"seq\":1}\n");
  p.w.process_channel();
  CHECK(p.disconnected && !p.w.connected() && !p.gone);
  auto l = p.lines();
  CHECK((l == std::vector<std::string>{"{\"cmd\":\"NODE_CLUSTER\",\"act\":\"close\",\"key\":\"127."
                                       "0.0.1:8000:4::0\",\"seq\":2}"}));
  // The channel stays open while the worker finishes its work (as Node's
  // child.js, which closes it once its connections have ended: musterd sends
  // stop_signal when it closes), and closes with the worker.
  char b;
  CHECK(recv(p.fd, &b, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN);
  { Worker gone = std::move(p.w); }
  CHECK(recv(p.fd, &b, 1, MSG_DONTWAIT) == 0);  // EOF: the worker closed its end
}

static void worker_disconnect_waits_for_the_ack() {
  Primary p = Primary::make();
  CHECK(p.rr_listen(0));
  p.put("{\"cmd\":\"NODE_CLUSTER\",\"ack\":3,\"seq\":1}\n");  // close = seq 2,
                                                              // exitedAfterDisconnect = seq 3
  p.w.disconnect();
  CHECK(p.disconnected && !p.w.connected() && !p.gone);
  auto l = p.lines();
  CHECK(l.size() == 4 &&
        l[3] == "{\"cmd\":\"NODE_CLUSTER\",\"act\":\"exitedAfterDisconnect\",\"seq\":3}");
  CHECK(!p.w.send_raw("1"));
}

static void the_primary_going_away_is_reported() {
  Primary p = Primary::make();
  close(p.fd);
  p.fd = -1;
  p.w.process_channel();
  CHECK(p.gone && !p.w.connected() && !p.disconnected);
}

static void oversized_or_invalid_lines_are_protocol_errors() {
  Primary p = Primary::make();
  std::string big(Worker::kMaxLine + 10, ' ');
  for (size_t off = 0, spins = 0; p.w.connected() && spins < 100000;
       ++spins) {  // no newline: it must give up
    ssize_t n = send(p.fd, big.data() + off, big.size() - off, MSG_DONTWAIT);
    off += n > 0 ? static_cast<size_t>(n) : 0;
    p.w.process_channel();
  }
  CHECK(p.errors.size() == 1 && !p.w.connected());
  Primary q = Primary::make();
  q.put("\n");
  q.w.process_channel();
  CHECK(q.errors.size() == 1 && !q.w.connected());
}

static void send_raw_sends_one_line_of_valid_json_only() {
  Primary p = Primary::make();
  CHECK(p.w.send_raw("{\n  \"a\": \"b c\"\n}"));
  CHECK(!p.w.send_raw("{oops"));
  CHECK(!p.w.send_raw(""));
  CHECK(!p.w.send_raw("{\"cmd\":\"NODE_CLUSTER\"}"));
  CHECK(p.w.send_raw("{\"cmd\":\"hello\"}"));
  CHECK((p.lines() == std::vector<std::string>{"{\"a\":\"b c\"}", "{\"cmd\":\"hello\"}"}));
}

int main() {
  json_reader_accepts_valid_and_rejects_invalid();
  json_writer_round_trips();
  user_messages_split_across_reads_arrive_whole();
  online_listen_and_seq_follow_node();
  newconn_is_acked_then_accepted_and_handed_over();
  a_newconn_right_behind_the_reply_finds_its_server();
  newconn_for_an_unknown_key_is_refused_and_a_handle_without_fd_is_nacked();
  shared_handle_is_listened_on_and_accepted_from();
  a_bind_error_comes_back_as_a_negative_errno();
  primary_disconnect_closes_servers_then_the_channel();
  worker_disconnect_waits_for_the_ack();
  the_primary_going_away_is_reported();
  oversized_or_invalid_lines_are_protocol_errors();
  send_raw_sends_one_line_of_valid_json_only();
  std::printf(failures ? "lib_worker_test: %d failures\n" : "lib_worker_test: all passed\n",
              failures);
  return failures ? 1 : 0;
}
