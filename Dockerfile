# syntax=docker/dockerfile:1
# Build: docker build --platform linux/amd64 -t ghcr.io/reuseport/reuseport-server:0.1.0 .  (docs/KUBERNETES.md)

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
COPY src/main src/main
# Tests need loopback sockets and kubectl; they run in CI, not in the image build.
RUN --mount=type=cache,target=/root/.m2 mvn -B -q -Dmaven.test.skip=true package

FROM eclipse-temurin:17-jre
# A numeric user: the kubelet can only enforce runAsNonRoot when the image's USER is a number.
RUN groupadd --system --gid 10001 reuseport \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin reuseport
WORKDIR /app
COPY --from=build /src/target/reuseport-server.jar /app/reuseport-server.jar
# The server reads conf/config.json relative to the working directory; Kubernetes mounts its own and passes --conf.
COPY conf/config.json /app/conf/config.json
USER 10001:10001
EXPOSE 9000/tcp 9000/udp 8080/tcp
# Defaults for a plain `docker run`; the Deployment sets its own (CPU count and heap share next to its limits).
ENV JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=50.0"
ENTRYPOINT ["java", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/reuseport-server.jar"]
