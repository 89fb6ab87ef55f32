# syntax=docker/dockerfile:1
#
# The trust-inject KRM function image: one static binary, nothing else.
#
#   docker build -t registry.example.com/platform/trust-inject:0.1.0 .
#   kpt fn eval pkg --image registry.example.com/platform/trust-inject:0.1.0 -- configmap=corp-ca
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
# nobody:nogroup. kpt runs container functions as nobody by default too.
USER 65534:65534
ENTRYPOINT ["/trust-inject"]
