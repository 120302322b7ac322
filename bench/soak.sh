#!/usr/bin/env bash
# The long soak, for a benchmark run: SoakTest (src/test/java/io/reuseport/reliability) with its load running for
# SECONDS instead of the bounded mode's 60 s that CI runs. The server runs in a child JVM on loopback with Netty's
# leak detector at paranoid; the test fails on a leak report, growing descriptors or heap, a client failure or an
# unbalanced counter. Samples and the final /stats go to target/reliability/soak.json, a summary to stdout.
#
#   bench/soak.sh [SECONDS]     (default 1800, at most 2400: surefire stops its JVM after 45 minutes; the test
#                               itself is bounded at SECONDS + 240 s)
set -euo pipefail

SECONDS_OF_LOAD=${1:-1800}
cd "$(dirname "$0")/.."
echo "soak: ${SECONDS_OF_LOAD} s of mixed load; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
mvn -o -B -q -ntp -Dtest=SoakTest -Dsoak.seconds="$SECONDS_OF_LOAD" -Dsurefire.failIfNoSpecifiedTests=false test
echo "soak: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -h '^soak' target/surefire-reports/io.reuseport.reliability.SoakTest-output.txt || true
echo "soak: samples in target/reliability/soak.json"
