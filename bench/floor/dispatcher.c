/* The floor for musterd's round-robin hand-off (issue #14): the least a
 * Node-cluster primary can do per connection. It speaks just enough of Node's
 * IPC protocol (shared/node-ipc-protocol.md) for muster-hello or a Node
 * worker, and then loops:
 *
 *   epoll_wait -> accept4 until EAGAIN -> sendmsg(NODE_HANDLE newconn + fd) -> close
 *
 *   --no-ack  (default) the floor: worker lines (ACK, {accepted}) are read and
 *             dropped only when the channel is readable, never awaited; the fd
 *             is closed right after sendmsg (the worker's copy is in flight).
 *   --ack     Node's protocol: one handle in flight per worker; the worker is
 *             free again once it has sent NODE_HANDLE_ACK and its {accepted}
 *             reply (round_robin_handle.js), our copy is closed then. Connections
 *             with no free worker wait in a ring.
 *
 *   cc -O2 -o dispatcher bench/floor/dispatcher.c
 *   dispatcher [--ack|--no-ack] [--workers N] PORT -- WORKER-COMMAND [ARGS...]
 *
 * Prints "ready" on stdout once every worker listens. SIGTERM/SIGINT: closes
 * the channels (a Node-protocol worker exits when its channel closes), waits.
 * Not hardened: a benchmark tool; errors end it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 16
#define RING 4096
#define KEY "127.0.0.1:%d:4:undefined:0"

struct worker {
  pid_t pid;
  int chan;
  char buf[65536];
  size_t len;
  int in_flight;    /* --ack: our copy of the connection it was handed, or -1 */
  int acked, replied;
  int listening;
  unsigned seq;
};

static struct worker w[MAX_WORKERS];
static int nworkers = 2, ack_mode = 0, port;
static volatile sig_atomic_t stop;
static int recv_flags;  /* 0 during the handshake, then MSG_DONTWAIT */
static int ring[RING];
static unsigned ring_head, ring_len;

static void die(const char *what) { perror(what); exit(1); }
static void on_signal(int s) { (void)s; stop = 1; }

static void send_line(int chan, const char *line, size_t n, int fd) {
  struct iovec iov = {(void *)line, n};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  /* Blocking channel: a worker that stops reading stalls us (fine for a floor). */
  if (sendmsg(chan, &msg, MSG_NOSIGNAL) != (ssize_t)n) die("sendmsg");
}

static void hand_off(struct worker *x, int fd) {
  char line[256];
  int n = snprintf(line, sizeof line,
                   "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"cmd\":\"NODE_CLUSTER\","
                   "\"act\":\"newconn\",\"key\":\"" KEY "\",\"seq\":%u}}\n", port, x->seq++);
  send_line(x->chan, line, (size_t)n, fd);
  if (!ack_mode) {
    close(fd);
    return;
  }
  x->in_flight = fd;
  x->acked = x->replied = 0;
}

/* Reads what the worker sent; calls on_line for each whole line (NULL: drop). */
static int read_lines(struct worker *x, void (*on_line)(struct worker *, char *)) {
  ssize_t n = recv(x->chan, x->buf + x->len, sizeof x->buf - 1 - x->len, recv_flags);
  if (n <= 0) return n == 0 || errno != EAGAIN ? -1 : 0;
  if (!on_line) return 0;
  x->len += (size_t)n;
  x->buf[x->len] = 0;
  char *start = x->buf, *nl;
  while ((nl = strchr(start, '\n'))) {
    *nl = 0;
    on_line(x, start);
    start = nl + 1;
  }
  x->len -= (size_t)(start - x->buf);
  memmove(x->buf, start, x->len);
  return 0;
}

/* The cluster handshake: online, queryServer (answered as musterd/Node's primary
 * answer for round-robin: no fd, a sockname with the asked port), listening. */
static void handshake_line(struct worker *x, char *line) {
  if (strstr(line, "\"act\":\"queryServer\"")) {
    char *s = strstr(line, "\"seq\":");
    char reply[512];
    int n = snprintf(reply, sizeof reply,
                     "{\"cmd\":\"NODE_CLUSTER\",\"errno\":null,\"key\":\"" KEY "\",\"ack\":%ld,"
                     "\"data\":null,\"sockname\":{\"address\":\"127.0.0.1\",\"family\":\"IPv4\","
                     "\"port\":%d},\"seq\":%u}\n", port, s ? atol(s + 6) : 0L, port, x->seq++);
    send_line(x->chan, reply, (size_t)n, -1);
  } else if (strstr(line, "\"act\":\"listening\"")) {
    x->listening = 1;
  }
}

/* --ack: a worker is free once it has ACKed the handle and answered the newconn. */
static void ack_line(struct worker *x, char *line) {
  if (strstr(line, "\"NODE_HANDLE_ACK\"")) x->acked = 1;
  char *a = strstr(line, "\"accepted\":");
  if (!a || x->in_flight < 0) return;
  x->replied = 1;
  if (strncmp(a + 11, "true", 4) == 0) {
    close(x->in_flight);
  } else if (ring_len < RING) { /* refused: back to the head of the queue */
    ring_head = (ring_head + RING - 1) % RING;
    ring[ring_head] = x->in_flight;
    ++ring_len;
  } else {
    close(x->in_flight);
  }
  x->in_flight = -1;
}

static void distribute(void) {
  for (int i = 0; i < nworkers && ring_len; ++i) {
    struct worker *x = &w[i];
    if (x->in_flight >= 0 && !(x->acked && x->replied)) continue;
    x->in_flight = -1;
    hand_off(x, ring[ring_head]);
    ring_head = (ring_head + 1) % RING;
    --ring_len;
  }
}

static void spawn(int i, char **argv) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    setsid();  /* as musterd starts its workers */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (dup2(sv[1], 3) < 0) _exit(127);  /* dup2 clears FD_CLOEXEC */
    char id[16];
    snprintf(id, sizeof id, "%d", i + 1);
    setenv("NODE_CHANNEL_FD", "3", 1);
    setenv("NODE_UNIQUE_ID", id, 1);
    setenv("NODE_CHANNEL_SERIALIZATION_MODE", "json", 1);
    execvp(argv[0], argv);
    _exit(127);
  }
  close(sv[1]);
  w[i] = (struct worker){.pid = pid, .chan = sv[0], .in_flight = -1};
}

int main(int argc, char **argv) {
  int a = 1;
  for (; a < argc && strncmp(argv[a], "--", 2) == 0 && argv[a][2]; ++a) {
    if (!strcmp(argv[a], "--ack")) ack_mode = 1;
    else if (!strcmp(argv[a], "--no-ack")) ack_mode = 0;
    else if (!strcmp(argv[a], "--workers") && a + 1 < argc) nworkers = atoi(argv[++a]);
    else break;
  }
  if (a + 2 >= argc || strcmp(argv[a + 1], "--") || nworkers < 1 || nworkers > MAX_WORKERS) {
    fprintf(stderr, "usage: %s [--ack|--no-ack] [--workers N] PORT -- WORKER-COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  port = atoi(argv[a]);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(lfd, 511) < 0) die("listen");

  for (int i = 0; i < nworkers; ++i) spawn(i, argv + a + 2);
  for (int i = 0; i < nworkers; ++i)  /* blocking reads: the handshake is not measured */
    while (!w[i].listening)
      if (read_lines(&w[i], handshake_line) < 0) { fprintf(stderr, "worker %d left\n", i + 1); return 1; }
  recv_flags = MSG_DONTWAIT;  /* the sockets stay blocking for sendmsg */
  for (int i = 0; i < nworkers; ++i) w[i].len = 0;
  printf("ready\n");
  fflush(stdout);

  /* Level-triggered, registered once: nothing is re-armed per wake-up. */
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = MAX_WORKERS};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  for (int i = 0; i < nworkers; ++i) {
    ev.data.u32 = (unsigned)i;
    epoll_ctl(ep, EPOLL_CTL_ADD, w[i].chan, &ev);
  }
  unsigned next = 0;
  struct epoll_event evs[MAX_WORKERS + 1];
  while (!stop) {
    int n = epoll_wait(ep, evs, MAX_WORKERS + 1, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int e = 0; e < n; ++e) {
      unsigned u = evs[e].data.u32;
      if (u < MAX_WORKERS) {
        if (read_lines(&w[u], ack_mode ? ack_line : NULL) < 0) { fprintf(stderr, "worker %u left\n", u + 1); stop = 1; }
        continue;
      }
      for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EINTR || errno == ECONNABORTED) continue;
          break;  /* EAGAIN */
        }
        if (!ack_mode) {
          hand_off(&w[next++ % (unsigned)nworkers], fd);
        } else if (ring_len < RING) {
          ring[(ring_head + ring_len++) % RING] = fd;
        } else {
          close(fd);  /* never with 50 clients; a floor need not hold more */
        }
      }
    }
    if (ack_mode) distribute();
  }
  for (int i = 0; i < nworkers; ++i) close(w[i].chan);
  for (int i = 0; i < nworkers; ++i) {
    int status;
    for (int t = 0; t < 300 && waitpid(w[i].pid, &status, WNOHANG) == 0; ++t) usleep(10000);
    if (kill(w[i].pid, SIGKILL) == 0) waitpid(w[i].pid, &status, 0);
  }
  return 0;
}
