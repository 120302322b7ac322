/*
 * The C reference echo server bench/compare.sh measures the Java server against: what a plain epoll program gets
 * out of the same machine with the same SO_REUSEPORT layout. THREADS threads, each with its own SO_REUSEPORT TCP
 * listener and UDP socket on PORT, its own epoll set, level-triggered; TCP: one read() and a write() of what it read
 * per readiness; UDP: recvfrom()/sendto() until the socket is empty. No batching (recvmmsg/sendmmsg), no buffering
 * of unsent bytes: a write that would block is retried at once, which ping-pong clients never cause.
 * A measuring stick, not part of the product. IPv4 only; stops on SIGTERM/SIGINT (the default action).
 *
 *   gcc -O2 -pthread -o /tmp/refserver bench/refserver.c
 *   /tmp/refserver PORT THREADS [HOST]        # HOST defaults to 0.0.0.0; PORT 0: a free one, printed
 *
 * Prints "refserver: THREADS threads on port PORT ..." on stderr once every socket is bound.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_THREADS 256
#define MAX_EVENTS 256
#define BUFFER_BYTES 65536

static struct sockaddr_in address;
static pthread_barrier_t bound; /* every thread's sockets bound, and main */

static void die(const char *what) {
  fprintf(stderr, "refserver: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* A socket of TYPE with SO_REUSEPORT, bound to the shared address (and listening, for TCP). */
static int bind_reuseport(int type) {
  int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0) die("socket");
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)) die("SO_REUSEPORT");
  if (bind(fd, (struct sockaddr *)&address, sizeof address)) die("bind");
  if (type == SOCK_STREAM && listen(fd, 4096)) die("listen");
  return fd;
}

static void watch(int epoll_fd, int fd) {
  struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event)) die("epoll_ctl");
}

static void accept_all(int epoll_fd, int listener) {
  int one = 1;
  int fd;
  while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    watch(epoll_fd, fd);
  }
}

static void echo_datagrams(int udp, char *buffer) {
  for (;;) {
    struct sockaddr_storage from;
    socklen_t from_length = sizeof from;
    ssize_t n = recvfrom(udp, buffer, BUFFER_BYTES, 0, (struct sockaddr *)&from, &from_length);
    if (n < 0) return; /* EAGAIN: the socket is empty */
    sendto(udp, buffer, (size_t)n, 0, (struct sockaddr *)&from, from_length);
  }
}

static void echo_stream(int fd, char *buffer) {
  ssize_t n = read(fd, buffer, BUFFER_BYTES);
  if (n <= 0) {
    if (n < 0 && errno == EAGAIN) return;
    close(fd); /* also leaves the epoll set */
    return;
  }
  for (ssize_t written = 0; written < n;) {
    ssize_t k = write(fd, buffer + written, (size_t)(n - written));
    if (k >= 0) {
      written += k;
    } else if (errno != EAGAIN && errno != EINTR) {
      close(fd);
      return;
    }
  }
}

/* THREAD's loop; thread 0's listener is bound by main (it picks the port when PORT is 0). */
static void *serve(void *listener_of_thread_0) {
  char *buffer = malloc(BUFFER_BYTES);
  int listener = listener_of_thread_0 != NULL ? *(int *)listener_of_thread_0 : bind_reuseport(SOCK_STREAM);
  int udp = bind_reuseport(SOCK_DGRAM);
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event events[MAX_EVENTS];
  if (buffer == NULL || epoll_fd < 0) die("setup");
  watch(epoll_fd, listener);
  watch(epoll_fd, udp);
  pthread_barrier_wait(&bound);
  for (;;) {
    int ready = epoll_wait(epoll_fd, events, MAX_EVENTS, -1);
    if (ready < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < ready; i++) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        accept_all(epoll_fd, listener);
      } else if (fd == udp) {
        echo_datagrams(udp, buffer);
      } else {
        echo_stream(fd, buffer);
      }
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: refserver PORT THREADS [HOST]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  int threads = atoi(argv[2]);
  if (port < 0 || port > 65535 || threads < 1 || threads > MAX_THREADS) {
    fprintf(stderr, "refserver: PORT must be 0..65535 and THREADS 1..%d\n", MAX_THREADS);
    return 2;
  }
  address.sin_family = AF_INET;
  address.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, argc == 4 ? argv[3] : "0.0.0.0", &address.sin_addr) != 1) {
    fprintf(stderr, "refserver: HOST must be an IPv4 address, not %s\n", argv[3]);
    return 2;
  }
  /* the first listener fixes the port (a free one when PORT is 0); the other sockets bind the same one */
  static int first_listener;
  first_listener = bind_reuseport(SOCK_STREAM);
  socklen_t length = sizeof address;
  if (getsockname(first_listener, (struct sockaddr *)&address, &length)) die("getsockname");
  pthread_barrier_init(&bound, NULL, (unsigned)threads + 1);
  pthread_t thread[MAX_THREADS];
  for (int i = 0; i < threads; i++) {
    if (pthread_create(&thread[i], NULL, serve, i == 0 ? &first_listener : NULL)) {
      fprintf(stderr, "refserver: cannot start thread %d\n", i);
      return 1;
    }
  }
  pthread_barrier_wait(&bound);
  fprintf(stderr, "refserver: %d threads on port %d, one TCP listener and one UDP socket each\n", threads,
          ntohs(address.sin_port));
  for (int i = 0; i < threads; i++) pthread_join(thread[i], NULL);
  return 0;
}
