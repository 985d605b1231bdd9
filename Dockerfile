# Multi-stage build: compile with the full toolchain, run on a small Debian with libpq only.
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY config ./config
COPY catalog ./catalog
COPY calendar ./calendar
RUN cargo build --release --locked && strip target/release/portal

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app portal
WORKDIR /app
COPY --from=build /src/target/release/portal /usr/local/bin/portal
COPY tenants ./tenants
# The one writable path (mail as .eml files when no SMTP URL is set); attachments live in the
# database. The root filesystem can stay read-only.
RUN mkdir -p /app/data && chown 10001:10001 /app/data
USER 10001:10001
ENV PORTAL__SERVER__BIND=0.0.0.0:8080
EXPOSE 8080
# Probes: /healthz (alive), /readyz (database answers).
ENTRYPOINT ["portal"]
CMD ["serve"]
