# syntax=docker/dockerfile:1
#
# TimmyBot's container image: a static Go binary on Debian with ffmpeg,
# yt-dlp and deno (the JavaScript runtime yt-dlp needs for YouTube).
# The CDK app builds it for linux/arm64 at deploy time; to build it by hand:
#   docker build --platform linux/arm64 -t timmybot .
# Bump the versions below together and redeploy when YouTube breaks yt-dlp.
ARG GO_VERSION=1.26.8
ARG DEBIAN_VERSION=12-slim
ARG YT_DLP_VERSION=2026.08.19
ARG DENO_VERSION=2.9.6
ARG FFMPEG_VERSION=7:5.1.9-0+deb12u1

# Build on the build machine's own architecture and cross-compile: no
# emulation is needed for Go.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src/app
COPY app/go.mod app/go.sum ./
RUN go mod download
COPY app/ ./
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/timmybot ./cmd/timmybot

# yt-dlp's standalone release binary (bundles Python and the EJS scripts),
# checked against the release's SHA2-256SUMS.
FROM --platform=$BUILDPLATFORM debian:${DEBIAN_VERSION} AS ytdlp
ARG YT_DLP_VERSION
ARG TARGETARCH
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /dl
RUN set -eu; \
    case "$TARGETARCH" in \
      arm64) asset=yt-dlp_linux_aarch64 ;; \
      amd64) asset=yt-dlp_linux ;; \
      *) echo "unsupported architecture $TARGETARCH" >&2; exit 1 ;; \
    esac; \
    base="https://github.com/yt-dlp/yt-dlp/releases/download/${YT_DLP_VERSION}"; \
    curl -fsSLo "$asset" "$base/$asset"; \
    curl -fsSLo SHA2-256SUMS "$base/SHA2-256SUMS"; \
    grep " $asset\$" SHA2-256SUMS | sha256sum -c -; \
    install -m 0755 "$asset" /dl/yt-dlp

FROM denoland/deno:bin-${DENO_VERSION} AS deno

FROM debian:${DEBIAN_VERSION}
ARG FFMPEG_VERSION
# ffmpeg decodes and encodes audio; curl runs the container health check;
# ca-certificates lets the bot verify TLS.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       "ffmpeg=${FFMPEG_VERSION}" ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/timmybot timmybot
COPY --from=deno /deno /usr/local/bin/deno
COPY --from=ytdlp /dl/yt-dlp /usr/local/bin/yt-dlp
COPY --from=build /out/timmybot /usr/local/bin/timmybot
USER 10001:10001
WORKDIR /home/timmybot
ENTRYPOINT ["/usr/local/bin/timmybot"]
CMD ["serve"]
