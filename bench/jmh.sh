#!/usr/bin/env bash
# JMH benchmarks of the Java cost per connection and per message (src/test/java/io/reuseport/bench/jmh):
#
#   ConnectionPipelineBenchmark  one connection's set-up and tear-down in the pipeline (EmbeddedChannel),
#                                this server's handlers (pipeline=server) against Netty's minimum (pipeline=bare)
#   MessageBenchmark             one echoed TCP message / UDP datagram through the handlers (EmbeddedChannel)
#   AcceptedChannelBenchmark     one connection on real loopback sockets and an epoll loop: sockets only,
#                                Netty's accepted channel, and this server's handlers (path=sockets|netty|server)
#
# Builds the test classes (mvn -o test-compile), then runs JMH with bounded defaults (1 fork, 10 warm-up and 5
# measured iterations of 1 s: about 20 s per benchmark and parameter, 3-5 minutes for all; on a busy 2-core
# machine C2 needs most of the warm-up before the figures settle: check the warm-up lines) and prints the
# machine's load average before and after. Besides JMH's wall-clock ns/op, every run reports cpu.time.norm, the
# CPU time of the Java threads per operation (CpuTimeProfiler), which waiting for a core does not inflate.
# Every argument goes to JMH as it is; one of -f, -wi, -i, -w, -r replaces that default. E.g. a benchmark name
# (regular expression), -prof gc (bytes allocated per operation), -p path=netty, -rf json -rff FILE, -l (list);
# JMH's own help is `bench/jmh.sh -- -h`.
#
#   bench/jmh.sh                                   # everything
#   bench/jmh.sh -prof gc Message                  # MessageBenchmark, with allocations per message
#   bench/jmh.sh AcceptedChannel -p path=sockets,netty
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
  -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
  --) shift ;;
esac

. "$REPO/bench/lib.sh"
WORK=$(mktemp -d /tmp/reuseport-jmh.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

copy_test_classpath
# warnings only (the test suite's logback-test.xml logs this server at DEBUG); JMH's forks inherit the property
cat > "$WORK/logback-jmh.xml" <<'XML'
<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDERR"/></root>
</configuration>
XML

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
log "$(nproc) cores, $CPU, kernel $(uname -r), $(java -version 2>&1 | head -1)"
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# bounded defaults, each unless the caller gave that option (JMH refuses an option given twice)
DEFAULTS=()
for option in "-f 1" "-wi 10" "-i 5" "-w 1s" "-r 1s"; do
  given=false
  for arg in "$@"; do
    [ "$arg" = "${option%% *}" ] && given=true
  done
  $given || DEFAULTS+=($option)
done
# A heap of fixed size, touched at start: a young generation that is still growing has the kernel fault in and clear
# fresh pages as the benchmark allocates (10 µs per connection on this virtual machine, more than the work measured),
# where a server that has run a while reuses its pages. JMH's forks inherit these options.
java -Xms512m -Xmx512m -XX:+AlwaysPreTouch -Dlogback.configurationFile="$WORK/logback-jmh.xml" -cp "$CP" \
  org.openjdk.jmh.Main "${DEFAULTS[@]}" -foe true \
  -prof io.reuseport.bench.jmh.CpuTimeProfiler "$@"
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
