# syntax=docker/dockerfile:1
#
# The trust-inject image: one static binary, nothing else. It is the KRM function image, and
# the image of the --merge-at-start init container, which runs `trust-inject merge` (the
# init container gives only `args`, so the binary must stay the entrypoint) as the user below
# with a read-only root filesystem: the merge writes only into the emptyDir it is given.
#
#   docker build -t registry.example.com/platform/trust-inject:0.1.0 .
#   kpt fn eval pkg --image registry.example.com/platform/trust-inject:0.1.0 -- configmap=corp-ca
#   trust-inject --configmap corp-ca --merge-at-start \
#     --merge-image registry.example.com/platform/trust-inject:0.1.0
#
# No container engine runs in this project's test environment, so this file is never
# built by the tests; tests/e2e.rs only checks its shape (static musl binary, scratch-like
# base, non-root user, the binary as entrypoint). Build it where Docker or Podman runs.

# --- build: a fully static binary for x86_64-unknown-linux-musl ------------------------
FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev
RUN rustup target add x86_64-unknown-linux-musl
WORKDIR /src
# Only what the build needs (the repository's target/ and .tools/ stay out).
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --target x86_64-unknown-linux-musl \
 && cp target/x86_64-unknown-linux-musl/release/trust-inject /trust-inject \
 && /trust-inject --version

# --- runtime: distroless static (CA certificates, /etc/passwd, no shell) ---------------
FROM gcr.io/distroless/static-debian12
COPY --from=build /trust-inject /trust-inject
# nobody:nogroup, numeric so that runAsNonRoot can verify it. kpt runs container functions
# as nobody by default too; the merge init container declares runAsUser/runAsGroup 65534.
USER 65534:65534
ENTRYPOINT ["/trust-inject"]
