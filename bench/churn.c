/*
 * A light TCP churn client for bench/compare.sh --c-client: connect, send PAYLOAD bytes, read them back, close,
 * repeat, CONCURRENCY connections in flight on one thread with epoll. The Java `load` client costs a server on the
 * same 2-core machine about a core; this one leaves the server more of the machine.
 * Loopback only (refuses other addresses); bounded by DURATION; prints one JSON line like `load --json`, with the
 * client's own CPU time per counted connection ("clientCpuUsPerConn") and whether its one thread was busy at least
 * 90 % of the counted window ("clientCpuSaturated": then the client, not the server, bounds the throughput);
 * "cpuCoresUsed" and "machineCpuLoad" (busy share of all cores, /proc/stat) as the Java client reports them.
 *
 *   gcc -O2 -o /tmp/churn bench/churn.c
 *   /tmp/churn 127.0.0.1 PORT CONCURRENCY DURATION_S WARMUP_S PAYLOAD
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_NS 5000000000LL

struct slot { int fd; int got; long long started; };

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* busy and total clock ticks of all cores since boot (/proc/stat's first line); 0 and 0 when unreadable */
static void machine_ticks(long long *busy, long long *total) {
  long long v[8] = { 0 };
  *busy = *total = 0;
  FILE *f = fopen("/proc/stat", "r");
  if (f == NULL) { return; }
  int got = fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld",
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
  fclose(f);
  if (got != 8) { return; }
  for (int i = 0; i < 8; i++) { *total += v[i]; }
  *busy = *total - v[3] - v[4]; /* all but idle and iowait */
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
  return x < y ? -1 : x > y;
}

static struct sockaddr_in target;
static int ep, payload;
static char *buf;

static void open_slot(struct slot *s, int index, long long *errors) {
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) { perror("socket"); exit(1); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s->fd = fd; s->got = 0; s->started = now_ns();
    if (connect(fd, (struct sockaddr *) &target, sizeof target) == 0 || errno == EINPROGRESS) {
      struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (uint32_t) index };
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      return;
    }
    (*errors)++;
    close(fd);
  }
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s HOST PORT CONCURRENCY DURATION_S WARMUP_S PAYLOAD\n", argv[0]);
    return 2;
  }
  memset(&target, 0, sizeof target);
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t) atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1 || (ntohl(target.sin_addr.s_addr) >> 24) != 127) {
    fprintf(stderr, "churn: %s is not a 127.0.0.0/8 address; loopback only\n", argv[1]);
    return 2;
  }
  int concurrency = atoi(argv[3]);
  double duration = atof(argv[4]), warmup = atof(argv[5]);
  payload = atoi(argv[6]);
  if (concurrency < 1 || duration <= 0 || warmup < 0 || payload < 1 || payload > 65536) {
    fprintf(stderr, "churn: bad arguments\n");
    return 2;
  }
  buf = calloc(1, (size_t) payload);
  struct slot *slots = calloc((size_t) concurrency, sizeof *slots);
  size_t cap = 1 << 20, n = 0;
  uint32_t *lat = malloc(cap * sizeof *lat);
  long long errors = 0, timeouts = 0, successes = 0;
  ep = epoll_create1(0);
  long long begin = now_ns();
  long long counted_from = begin + (long long) (warmup * 1e9);
  long long stop = counted_from + (long long) (duration * 1e9);
  long long hard_stop = stop + TIMEOUT_NS;
  for (int i = 0; i < concurrency; i++) {
    open_slot(&slots[i], i, &errors);
  }
  int open = concurrency;
  struct epoll_event events[256];
  long long last_scan = begin;
  /* the client's CPU time over the counted window: read when the loop first passes its start and its end */
  long long cpu_at_start = -1, cpu_at_stop = -1, wall_at_start = 0, wall_at_stop = 0;
  long long busy_at_start = 0, total_at_start = 0, busy_at_stop = 0, total_at_stop = 0;
  while (open > 0 && now_ns() < hard_stop) {
    int ready = epoll_wait(ep, events, 256, 100);
    long long t = now_ns();
    if (cpu_at_start < 0 && t >= counted_from) {
      cpu_at_start = cpu_ns(); wall_at_start = t; machine_ticks(&busy_at_start, &total_at_start);
    }
    if (cpu_at_stop < 0 && t >= stop) {
      cpu_at_stop = cpu_ns(); wall_at_stop = t; machine_ticks(&busy_at_stop, &total_at_stop);
    }
    for (int e = 0; e < ready; e++) {
      int i = (int) events[e].data.u32;
      struct slot *s = &slots[i];
      int done = 0, failed = 0;
      if (events[e].events & (EPOLLERR | EPOLLHUP) && !(events[e].events & EPOLLIN)) {
        failed = 1;
      } else if (events[e].events & EPOLLOUT) {
        if (write(s->fd, buf, (size_t) payload) != payload) {
          failed = 1;
        } else {
          struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t) i };
          epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
        }
      } else if (events[e].events & EPOLLIN) {
        char in[65536];
        ssize_t r = read(s->fd, in, sizeof in);
        if (r <= 0) {
          failed = !(r < 0 && errno == EAGAIN);
        } else if ((s->got += (int) r) >= payload) {
          done = 1;
        }
      }
      if (done || failed) {
        close(s->fd);
        if (s->started >= counted_from && t <= stop + TIMEOUT_NS) {
          if (done) {
            successes++;
            if (n == cap) { cap *= 2; lat = realloc(lat, cap * sizeof *lat); }
            lat[n++] = (uint32_t) ((t - s->started) / 1000);
          } else {
            errors++;
          }
        }
        if (t < stop) { open_slot(s, i, &errors); } else { s->fd = -1; open--; }
      }
    }
    if (t - last_scan > 100000000LL) {
      last_scan = t;
      for (int i = 0; i < concurrency; i++) {
        if (slots[i].fd >= 0 && t - slots[i].started > TIMEOUT_NS) {
          close(slots[i].fd);
          if (slots[i].started >= counted_from) { timeouts++; }
          if (t < stop) { open_slot(&slots[i], i, &errors); } else { slots[i].fd = -1; open--; }
        }
      }
    }
  }
  if (cpu_at_start < 0) { cpu_at_start = cpu_ns(); wall_at_start = now_ns(); }
  if (cpu_at_stop < 0) {
    cpu_at_stop = cpu_ns(); wall_at_stop = now_ns(); machine_ticks(&busy_at_stop, &total_at_stop);
  }
  double machine = total_at_stop > total_at_start
      ? (double) (busy_at_stop - busy_at_start) / (double) (total_at_stop - total_at_start) : -1;
  double busy = wall_at_stop > wall_at_start
      ? (double) (cpu_at_stop - cpu_at_start) / (double) (wall_at_stop - wall_at_start) : 0;
  busy = (double) (long long) (busy * 100 + 0.5) / 100; /* as printed, so that "saturated" agrees with it */
  double cpu_per_conn = successes ? (double) (cpu_at_stop - cpu_at_start) / 1000.0 / (double) successes : 0;
  qsort(lat, n, sizeof *lat, cmp_u32);
  uint32_t p50 = n ? lat[n / 2] : 0, p99 = n ? lat[(size_t) ((double) n * 0.99)] : 0, max = n ? lat[n - 1] : 0;
  printf("{\"mode\":\"tcp-churn\",\"client\":\"c\",\"requests\":%lld,\"successes\":%lld,\"errors\":%lld,"
         "\"timeouts\":%lld,\"throughput\":%.1f,\"latencyUs\":{\"p50\":%u,\"p99\":%u,\"max\":%u},"
         "\"cpuCoresUsed\":%.2f,\"machineCpuLoad\":%.3f,\"clientCpuUsPerConn\":%.2f,"
         "\"clientCpuSaturated\":%s}\n",
         successes + errors + timeouts, successes, errors, timeouts, (double) successes / duration, p50, p99, max,
         busy, machine, cpu_per_conn, busy >= 0.9 ? "true" : "false");
  return 0;
}
