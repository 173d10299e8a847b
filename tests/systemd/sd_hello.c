/* A socket-activated HTTP hello server with no muster code: it uses only
 * libsystemd's sd_listen_fds(3) and sd_notify(3), as a server written for
 * systemd would. Used by the integration tests of protocol = "systemd".
 *   SD_HELLO_READY_DELAY_MS  wait this long before READY=1 (default 0)
 *   SD_HELLO_NO_READY=1      never send READY=1
 *   SD_HELLO_WATCHDOG=0      never send WATCHDOG=1 (default: at half of WATCHDOG_USEC)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping = 0;
static void on_term(int sig) { (void)sig; stopping = 1; }

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void) {
  int n = sd_listen_fds(1);
  if (n < 1) {
    fprintf(stderr, "sd_hello: no sockets passed (sd_listen_fds = %d)\n", n);
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);

  const char* delay = getenv("SD_HELLO_READY_DELAY_MS");
  if (delay) usleep((useconds_t)atoi(delay) * 1000);
  if (!getenv("SD_HELLO_NO_READY")) sd_notifyf(0, "READY=1\nSTATUS=serving on %d socket(s)", n);

  uint64_t watchdog_usec = 0;
  const char* wd = getenv("SD_HELLO_WATCHDOG");
  int send_watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0 && !(wd && strcmp(wd, "0") == 0);
  long long next_ping = now_ms();

  int fd = SD_LISTEN_FDS_START;
  printf("sd_hello %d serving fd %d\n", (int)getpid(), fd);
  fflush(stdout);
  while (!stopping) {
    if (send_watchdog && now_ms() >= next_ping) {
      sd_notify(0, "WATCHDOG=1");
      next_ping = now_ms() + (long long)(watchdog_usec / 2000);
    }
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) continue;
    char buf[2048];
    if (recv(c, buf, sizeof buf, 0) > 0) {
      char body[64];
      int len = snprintf(body, sizeof body, "hello from %d\n", (int)getpid());
      char head[128];
      int hl = snprintf(head, sizeof head,
                        "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len);
      send(c, head, (size_t)hl, MSG_NOSIGNAL);
      send(c, body, (size_t)len, MSG_NOSIGNAL);
    }
    close(c);
  }
  sd_notify(0, "STOPPING=1");
  return 0;
}
