# syntax=docker/dockerfile:1
# The Callboard receiver as a container: `docker build -t callboard .`
#   docker run -d -p 8787:8787 -v callboard-data:/var/lib/callboard callboard
# Configuration: CALLBOARD_* variables, or mount a file and set CALLBOARD_CONFIG.

# 1. The web console (embedded in the release binary).
FROM node:22-bookworm-slim AS ui
WORKDIR /src/ui
COPY ui/package.json ui/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY ui/ ./
RUN npm run build

# 2. The server binary (the desktop crate is not a default member: not built).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY tests tests
COPY src-tauri src-tauri
COPY --from=ui /src/ui/dist ui/dist
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p callboard-server --bin callboard \
    && cp target/release/callboard /usr/local/bin/callboard

# 3. The runtime: Debian slim, a non-root user, one volume.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system callboard \
    && useradd --system --gid callboard --home-dir /var/lib/callboard --shell /usr/sbin/nologin callboard \
    && install -d -o callboard -g callboard -m 0750 /var/lib/callboard
COPY --from=build /usr/local/bin/callboard /usr/local/bin/callboard
USER callboard
ENV CALLBOARD_DATA_DIR=/var/lib/callboard \
    CALLBOARD_LISTEN=0.0.0.0:8787
VOLUME ["/var/lib/callboard"]
EXPOSE 8787
# Liveness; a load balancer should use /readyz (503 with reasons when the
# writer or the disk cannot take a delivery).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8787/healthz >/dev/null || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/callboard"]
CMD ["serve"]
