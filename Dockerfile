# syntax=docker/dockerfile:1
# The Arangopipe server image.
#
#   docker build -t arangopipe/arangopipe-server:0.1.0 .
#   docker run --rm -p 6529:6529 -v arangopipe-data:/data \
#     -e ARANGOPIPE_BIND=0.0.0.0 -e ARANGOPIPE_ADMIN_TOKEN_FILE=/run/secrets/admin-token \
#     -v "$PWD/admin.token:/run/secrets/admin-token:ro" arangopipe/arangopipe-server:0.1.0
#
# Runs as uid/gid 10001, with nothing to write outside /data (the embedded store) and /tmp, so it
# works with a read-only root filesystem when /tmp is a tmpfs or emptyDir (the Helm chart mounts one).

# ---- build: the server jar ----------------------------------------------------------------------
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
# The whole reactor (see .dockerignore): Maven needs every module the root pom lists.
COPY . .
# Only the server and what it needs (-pl server -am); tests run in CI, not in the image build. The
# cache mount keeps Maven's downloads between builds.
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -ntp -q -DskipTests -pl server -am package \
    && cp server/target/arangopipe-server.jar /arangopipe-server.jar

# ---- runtime: a JRE and the jar ------------------------------------------------------------------
FROM eclipse-temurin:17-jre

LABEL org.opencontainers.image.title="arangopipe-server" \
      org.opencontainers.image.description="Arangopipe: the metadata layer for machine-learning pipelines, as a gRPC service"

RUN groupadd --system --gid 10001 arangopipe \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin arangopipe \
    && mkdir -p /data /opt/arangopipe \
    && chown 10001:10001 /data \
    && chmod 0750 /data

COPY --from=build --chown=0:0 /arangopipe-server.jar /opt/arangopipe/arangopipe-server.jar

# Temporary files (the JVM's and sqlite-jdbc's native library, which it unpacks before loading) go
# to /tmp; nothing else is written outside the data folder.
ENV JAVA_TOOL_OPTIONS="-Djava.io.tmpdir=/tmp -Dorg.sqlite.tmpdir=/tmp -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError" \
    ARANGOPIPE_DATA_DIR=/data \
    ARANGOPIPE_PORT=6529

USER 10001:10001
WORKDIR /data
# gRPC; Prometheus metrics (when ARANGOPIPE_METRICS_PORT=9464 is set)
EXPOSE 6529 9464

# The server binds to 127.0.0.1 unless told otherwise: set ARANGOPIPE_BIND=0.0.0.0 together with an
# administrator token (ARANGOPIPE_ADMIN_TOKEN_FILE) to serve beyond the container.
ENTRYPOINT ["java", "-jar", "/opt/arangopipe/arangopipe-server.jar"]
