#!/usr/bin/env bash
# Builds the image with Podman from base images made locally out of Debian packages, runs it, then runs the dev
# overlay under `podman kube play`; fails on the first check that does not hold. docs/KUBERNETES.md, "Testing the
# image", says what it checks and what Podman cannot check that Kubernetes would.
#
# Usage: k8s/test/image-test.sh [WORK_DIR]   (as root; WORK_DIR defaults to target/image-test)
# Environment: DEBIAN_MIRROR (default: the first deb.debian.org-style URI in the machine's APT sources),
#              IMAGE_TEST_M2 (a Maven repository to lend the build stage, default ~/.m2/repository; "none" = off).
#
# Traffic goes to 127.0.0.1 only; the server listens on ports picked free for each phase, never the defaults.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:-$REPO/target/image-test}
SUITE=bookworm
# Bump when the package lists or the way the bases are made change: the tag is the cache key.
BASE_VERSION=1
BUILDER_BASE=localhost/reuseport-base-builder:$SUITE-$BASE_VERSION
RUNTIME_BASE=localhost/reuseport-base-runtime:$SUITE-$BASE_VERSION
IMAGE=localhost/reuseport-server:image-test-$$
CONTAINER=reuseport-image-test-$$
IMAGE_USER_UID=10001

log() { printf '%(%H:%M:%S)T image-test: %s\n' -1 "$*"; }
fail() { log "FAIL: $*"; exit 1; }

# ---- preconditions
[[ $(id -u) == 0 ]] || fail "must run as root (rootful Podman with host networking)"
for tool in podman runc debootstrap kubectl curl ss; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
runtime=$(podman info --format '{{.Host.OCIRuntime.Name}}')
[[ $runtime == runc ]] || fail "Podman's OCI runtime is $runtime, needs runc ([engine] runtime in containers.conf)"

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
KUBE_YAML=$WORK/kube/reuseport-server.yaml
played=""
volumes_before=""
build_containers_before=""

cleanup() {
  # a base still being made finishes first (a deadline ends it from outside); a debootstrap that was cut short
  # leaves /proc and /sys mounted in its root: unmount them, and never delete across file systems
  local mount
  wait 2>/dev/null
  for mount in $(findmnt -rn -o TARGET | grep -F "$WORK/rootfs." | sort -r); do
    umount -l "$mount" || true
  done
  rm -rf --one-file-system "$WORK"/rootfs.* 2>/dev/null
  if [[ -n $played ]]; then
    podman kube down "$KUBE_YAML" >/dev/null 2>&1
    remove_new_config_volumes >/dev/null 2>&1
  fi
  podman rm --force --ignore "$CONTAINER" >/dev/null 2>&1
  # a build cut short leaves its working containers (on our bases) behind
  if [[ -n $build_containers_before ]]; then
    comm -13 <(echo "$build_containers_before") <(build_containers) | xargs -r podman rm --force >/dev/null 2>&1
  fi
  podman rmi --force "$IMAGE" >/dev/null 2>&1
  return 0
}
trap cleanup EXIT
# a SIGTERM (the JUnit test's deadline) exits through the EXIT trap too
trap 'exit 143' TERM INT

# ---- helpers

# Podman 4.3 keeps the volumes it made of ConfigMaps after kube down: remove those this run made, and no other.
remove_new_config_volumes() {
  local volume
  for volume in $(comm -13 <(echo "$volumes_before") <(podman volume ls --quiet | sort)); do
    if grep -A1 -E '^[ -]+configMap:$' "$KUBE_YAML" | grep -qE "name: $volume\$"; then
      podman volume rm "$volume" >/dev/null || log "volume $volume left behind (in use elsewhere?)"
    fi
  done
}

# Build containers (Buildah's, outside Podman's own list) on the local bases; "-" keeps the list non-empty.
build_containers() {
  {
    echo -
    podman ps --external --quiet --no-trunc --filter "ancestor=$BUILDER_BASE" 2>/dev/null
    podman ps --external --quiet --no-trunc --filter "ancestor=$RUNTIME_BASE" 2>/dev/null
  } | sort -u
}

mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local uri
  uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.{list,sources} \
    | grep -v security | grep -oE 'https?://[^ ]+' | head -n 1)
  echo "${uri:-http://deb.debian.org/debian}"
}

# A port free for both TCP and UDP on this host, outside the ephemeral range (nobody is handed it by connect()).
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 12000))
    if [[ -z $(ss -Htanu "sport = :$port") ]]; then
      echo "$port"
      return
    fi
  done
  fail "no free port found"
}

# make_base TAG PACKAGES [copy the host's trust stores]: debootstrap, then import; skipped when TAG exists.
make_base() {
  local tag=$1 packages=$2 trust=${3:-}
  if podman image exists "$tag"; then
    log "base $tag cached"
    return
  fi
  local rootfs
  rootfs=$(mktemp -d "$WORK/rootfs.XXXXXX")
  log "debootstrap $SUITE ($packages) for $tag"
  debootstrap --variant=minbase --include="$packages" "$SUITE" "$rootfs" "$(mirror)" >"$rootfs.log" 2>&1 \
    || { tail -n 20 "$rootfs.log"; fail "debootstrap for $tag failed"; }
  if [[ -n $trust ]]; then
    # TLS from these machines passes a CA that Debian's stock store lacks: trust what the host trusts.
    cp /etc/ssl/certs/java/cacerts "$rootfs/etc/ssl/certs/java/cacerts"
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  log "base $tag imported"
}

# wait_ready ADMIN_PORT SECONDS: until /health/ready answers 200.
wait_ready() {
  local deadline=$((SECONDS + $2))
  until curl -fs -o /dev/null "http://127.0.0.1:$1/health/ready"; do
    ((SECONDS < deadline)) || fail "/health/ready on port $1 did not answer 200 within $2 s"
    sleep 1
  done
}

check_tcp_echo() {
  local fd reply
  exec {fd}<>"/dev/tcp/127.0.0.1/$1"
  printf 'tcp-%s\n' "$$" >&"$fd"
  read -r -t 5 -u "$fd" reply || true
  exec {fd}>&-
  [[ $reply == "tcp-$$" ]] || fail "TCP echo on port $1 answered '$reply'"
}

check_udp_echo() {
  local fd reply=""
  exec {fd}<>"/dev/udp/127.0.0.1/$1"
  # UDP may lose a datagram: a few tries, each with its own deadline. dd reads the datagram whole (bash's read
  # would take one byte of it and lose the rest).
  for _ in 1 2 3; do
    printf 'udp-%s\n' "$$" >&"$fd"
    reply=$(timeout 2 dd bs=65536 count=1 status=none <&"$fd" || true)
    [[ -n $reply ]] && break
  done
  exec {fd}>&-
  [[ $reply == "udp-$$" ]] || fail "UDP echo on port $1 answered '$reply'"
}

# check_user PID: the process runs as the image's numeric user, not root (read from the kernel, not the engine).
check_user() {
  local uid
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$1/status")
  [[ $uid == "$IMAGE_USER_UID" ]] || fail "process $1 runs as uid $uid, expected $IMAGE_USER_UID"
}

# check_listeners PORT COUNT: the kernel holds COUNT TCP listeners on PORT (one per instance: SO_REUSEPORT works).
check_listeners() {
  local count
  count=$(ss -Hltn "sport = :$1" | wc -l)
  [[ $count == "$2" ]] || fail "$count TCP listeners on port $1, expected $2"
}

# ---- 1. base images

make_base "$BUILDER_BASE" openjdk-17-jdk-headless,maven trust &
builder_job=$!
make_base "$RUNTIME_BASE" openjdk-17-jre-headless,curl &
runtime_job=$!
wait "$builder_job" || fail "builder base not made"
wait "$runtime_job" || fail "runtime base not made"

# ---- 2. build: the Dockerfile as it is, both stages, with the local bases

build_args=(--build-arg "BUILDER_IMAGE=$BUILDER_BASE" --build-arg "RUNTIME_IMAGE=$RUNTIME_BASE")
m2=${IMAGE_TEST_M2:-$HOME/.m2/repository}
if [[ $m2 != none && -d $m2 ]]; then
  # Lend the host's Maven repository as an overlay: the build reads it, its writes are thrown away.
  build_args+=(--volume "$m2:/var/cache/host-m2:O" --build-arg "MAVEN_EXTRA_ARGS=-Dmaven.repo.local=/var/cache/host-m2")
fi
log "podman build $IMAGE"
build_containers_before=$(build_containers)
podman build --layers=false --force-rm --network host "${build_args[@]}" -t "$IMAGE" "$REPO" >"$WORK/build.log" 2>&1 \
  || { tail -n 30 "$WORK/build.log"; fail "podman build failed (log: $WORK/build.log)"; }
image_user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
[[ ${image_user%%:*} == "$IMAGE_USER_UID" ]] || fail "image USER is '$image_user', expected $IMAGE_USER_UID"
log "built $IMAGE (USER $image_user)"

# ---- 3. podman run: echo, readiness, user, listeners, drain on stop

port=$(free_port)
admin=$(free_port)
log "podman run on port $port, admin $admin"
podman run -d --name "$CONTAINER" --network host \
  -e REUSEPORT_HOST=127.0.0.1 -e REUSEPORT_ADMIN_HOST=127.0.0.1 \
  -e REUSEPORT_PORT="$port" -e REUSEPORT_ADMIN_PORT="$admin" -e REUSEPORT_INSTANCES=2 \
  -e REUSEPORT_DRAIN_TIMEOUT_SECONDS=20 "$IMAGE" >/dev/null
wait_ready "$admin" 60
check_tcp_echo "$port"
check_udp_echo "$port"
check_user "$(podman inspect --format '{{.State.Pid}}' "$CONTAINER")"
check_listeners "$port" 2
log "run: ready, TCP and UDP echo, uid $IMAGE_USER_UID, 2 listeners"

# A connection open across the stop must still be served while the server drains.
exec {held}<>"/dev/tcp/127.0.0.1/$port"
podman stop --time 40 "$CONTAINER" >/dev/null {held}>&- &
stopper=$!
deadline=$((SECONDS + 20))
until podman logs "$CONTAINER" 2>&1 | grep -q 'SIGTERM received: draining'; do
  ((SECONDS < deadline)) || fail "no drain logged 20 s after podman stop"
  sleep 0.5
done
printf 'held-%s\n' "$$" >&"$held"
read -r -t 5 -u "$held" reply || true
[[ ${reply:-} == "held-$$" ]] || fail "the connection held across podman stop was not served while draining"
exec {held}>&-
wait "$stopper" || fail "podman stop failed"
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$CONTAINER")
[[ $exit_code == 0 ]] || { podman logs --tail 20 "$CONTAINER"; fail "exit code $exit_code after podman stop"; }
podman logs "$CONTAINER" >"$WORK/run.log" 2>&1
podman rm "$CONTAINER" >/dev/null
log "stop: drained a held connection, exit 0"

# ---- 4. podman kube play of the dev overlay, with this image and free ports

port=$(free_port)
admin=$(free_port)
mkdir -p "$WORK/kube"
dev=$(realpath --relative-to="$WORK/kube" "$REPO/k8s/overlays/dev")
# Kustomize itself swaps the image and patches what Podman cannot run: host networking takes no port mappings,
# so the container ports go; probes then name the admin port by number (Podman does not resolve port names).
probe_ops=""
for probe in startupProbe readinessProbe livenessProbe; do
  probe_ops+="
      - op: replace
        path: /spec/template/spec/containers/0/$probe/httpGet/port
        value: $admin"
done
cat >"$WORK/kube/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $dev
images:
  - name: ghcr.io/reuseport/reuseport-server
    newName: ${IMAGE%:*}
    newTag: ${IMAGE##*:}
patches:
  - target:
      kind: Deployment
      name: reuseport-server
    patch: |-
      - op: remove
        path: /spec/template/spec/containers/0/ports
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: {name: REUSEPORT_PORT, value: "$port"}
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: {name: REUSEPORT_ADMIN_PORT, value: "$admin"}$probe_ops
EOF
kubectl kustomize "$WORK/kube" >"$KUBE_YAML" || fail "kubectl kustomize of the test overlay failed"
log "podman kube play (dev overlay) on port $port, admin $admin"
volumes_before=$(podman volume ls --quiet | sort)
played=yes
podman kube play --network host "$KUBE_YAML" >"$WORK/kube-play.log" 2>&1 \
  || { cat "$WORK/kube-play.log"; fail "podman kube play failed"; }
# kube play names the pod and its containers after the Deployment; its report gives their ids
pod=$(awk '/^Pod:/ {getline; print; exit}' "$WORK/kube-play.log")
kube_container=$(awk '/^Container:/ {getline; print; exit}' "$WORK/kube-play.log")
[[ -n $pod && -n $kube_container ]] || { cat "$WORK/kube-play.log"; fail "no pod and container in kube play's report"; }
wait_ready "$admin" 60
# What the kubelet would do: every probe of the rendered Deployment, as an HTTP GET from outside the container.
for path in $(awk '/(startup|readiness|liveness)Probe:/ {p=1} p && /path:/ {print $2; p=0}' "$KUBE_YAML"); do
  curl -fsS -o /dev/null "http://127.0.0.1:$admin$path" || fail "probe GET $path on port $admin failed"
done
# And what Podman made of the liveness probe: a health check inside the container, run here by hand because
# Podman schedules health checks with systemd timers, which this machine may not have.
health=$(podman inspect --format '{{if .Config.Healthcheck}}{{.Config.Healthcheck.Test}}{{end}}' "$kube_container")
[[ -n $health ]] || fail "Podman made no health check of the livenessProbe"
podman healthcheck run "$kube_container" >/dev/null || fail "podman healthcheck $health failed in $kube_container"
check_tcp_echo "$port"
check_udp_echo "$port"
check_user "$(podman inspect --format '{{.State.Pid}}' "$kube_container")"
check_listeners "$port" 2
[[ $(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$kube_container") == true ]] \
  || fail "readOnlyRootFilesystem not applied"
kube_pid=$(podman inspect --format '{{.State.Pid}}' "$kube_container")
cap_eff=$(awk '/^CapEff:/ {print $2}' "/proc/$kube_pid/status")
[[ $cap_eff =~ ^0+$ ]] || fail "capabilities.drop ALL not applied: CapEff $cap_eff"
log "kube play: pod $pod ready, probes pass, TCP and UDP echo, uid $IMAGE_USER_UID, 2 listeners, read-only root," \
  "no capabilities"

podman logs "$kube_container" >"$WORK/kube.log" 2>&1
podman inspect "$kube_container" >"$WORK/kube-inspect.json"
podman kube down "$KUBE_YAML" >"$WORK/kube-down.log" 2>&1 \
  || { cat "$WORK/kube-down.log"; fail "podman kube down failed"; }
played=""
! podman pod exists "$pod" || fail "pod $pod still exists after podman kube down"
remove_new_config_volumes
[[ -z $(ss -Hltn "sport = :$port") ]] || fail "port $port still listened on after podman kube down"
log "kube down: pod removed, port released"
log "PASS"
