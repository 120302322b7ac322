# syntax=docker/dockerfile:1
# Build: docker build --platform linux/amd64 -t ghcr.io/reuseport/reuseport-server:0.1.0 .  (docs/KUBERNETES.md)
# Base images are build arguments so that machines without a registry can build from local images
# (k8s/test/image-test.sh makes them from Debian packages); the defaults are the public images.
ARG BUILDER_IMAGE=maven:3.9-eclipse-temurin-17
ARG RUNTIME_IMAGE=eclipse-temurin:17-jre

FROM ${BUILDER_IMAGE} AS build
# Extra Maven arguments, e.g. -Dmaven.repo.local=DIR to read dependencies from a directory mounted at build time.
ARG MAVEN_EXTRA_ARGS=""
WORKDIR /src
COPY pom.xml .
COPY src/main src/main
# Tests need loopback sockets and kubectl; they run in CI, not in the image build. The cache mount keeps
# downloaded dependencies between builds (BuildKit and Buildah/Podman both support it).
RUN --mount=type=cache,target=/root/.m2 mvn -B -q ${MAVEN_EXTRA_ARGS} -Dmaven.test.skip=true package

FROM ${RUNTIME_IMAGE}
# A numeric user: the kubelet can only enforce runAsNonRoot when the image's USER is a number. groupadd and
# useradd come with the passwd package, present in the Ubuntu and Debian bases the image is built on.
RUN groupadd --system --gid 10001 reuseport \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin reuseport
WORKDIR /app
COPY --from=build /src/target/reuseport-server.jar /app/reuseport-server.jar
# The server reads conf/config.json relative to the working directory; Kubernetes mounts its own and passes --conf.
COPY conf/config.json /app/conf/config.json
USER 10001:10001
EXPOSE 9000/tcp 9000/udp 8080/tcp
# Defaults for a plain `docker run`; the Deployment sets its own (CPU count and heap share next to its limits).
ENV JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=50.0"
ENTRYPOINT ["java", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/reuseport-server.jar"]
