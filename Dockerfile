# syntax=docker/dockerfile:1
#
# TimmyBot's container image: a static Go binary on Debian with ffmpeg,
# yt-dlp and deno (the JavaScript runtime yt-dlp needs for YouTube).
# The CDK app builds it for linux/arm64 at deploy time; to build it by hand:
#   docker build --platform linux/arm64 -t timmybot .
#
# What is pinned, and what is not:
# - Base images by tag, and by digest once the *_DIGEST arguments below are
#   set. A digest is the multi-platform index digest, "sha256:…"; refresh
#   all three with
#     docker buildx imagetools inspect golang:<GO_VERSION>-bookworm --format '{{json .Manifest.Digest}}'
#     docker buildx imagetools inspect debian:<DEBIAN_VERSION> --format '{{json .Manifest.Digest}}'
#     docker buildx imagetools inspect denoland/deno:bin-<DENO_VERSION> --format '{{json .Manifest.Digest}}'
#   and bump them with the versions. Empty, the tag alone is used.
# - yt-dlp by version (YT_DLP_VERSION, the only place it is set), checked
#   against the SHA2-256SUMS of its release and, once YT_DLP_SHA256_* are
#   set, against those pinned sums; deno by version (and digest, as above).
# - ffmpeg is not pinned: apt installs the current ffmpeg of the pinned
#   Debian release, security updates included. An exact package version
#   would stop the build the day Debian publishes the next update.
# Bump yt-dlp and redeploy when YouTube breaks it.
ARG GO_VERSION=1.26.8
ARG GO_DIGEST=
ARG DEBIAN_VERSION=12-slim
ARG DEBIAN_DIGEST=
ARG YT_DLP_VERSION=2026.08.19
# The release's SHA-256 of each binary, from its SHA2-256SUMS; set, a
# changed or re-uploaded binary fails the build.
ARG YT_DLP_SHA256_ARM64=
ARG YT_DLP_SHA256_AMD64=
ARG DENO_VERSION=2.9.6
ARG DENO_DIGEST=

# Build on the build machine's own architecture and cross-compile: no
# emulation is needed for Go.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm${GO_DIGEST:+@}${GO_DIGEST} AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src/app
COPY app/go.mod app/go.sum ./
RUN go mod download
COPY app/ ./
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/timmybot ./cmd/timmybot

# yt-dlp's standalone release binary (bundles Python and the EJS scripts),
# checked against the release's SHA2-256SUMS and the pinned sum.
FROM --platform=$BUILDPLATFORM debian:${DEBIAN_VERSION}${DEBIAN_DIGEST:+@}${DEBIAN_DIGEST} AS ytdlp
ARG YT_DLP_VERSION
ARG YT_DLP_SHA256_ARM64
ARG YT_DLP_SHA256_AMD64
ARG TARGETARCH
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /dl
RUN set -eu; \
    case "$TARGETARCH" in \
      arm64) asset=yt-dlp_linux_aarch64; pinned="$YT_DLP_SHA256_ARM64" ;; \
      amd64) asset=yt-dlp_linux; pinned="$YT_DLP_SHA256_AMD64" ;; \
      *) echo "unsupported architecture $TARGETARCH" >&2; exit 1 ;; \
    esac; \
    base="https://github.com/yt-dlp/yt-dlp/releases/download/${YT_DLP_VERSION}"; \
    curl -fsSLo "$asset" "$base/$asset"; \
    curl -fsSLo SHA2-256SUMS "$base/SHA2-256SUMS"; \
    grep " $asset\$" SHA2-256SUMS | sha256sum -c -; \
    if [ -n "$pinned" ]; then echo "$pinned  $asset" | sha256sum -c -; fi; \
    install -m 0755 "$asset" /dl/yt-dlp

FROM denoland/deno:bin-${DENO_VERSION}${DENO_DIGEST:+@}${DENO_DIGEST} AS deno

FROM debian:${DEBIAN_VERSION}${DEBIAN_DIGEST:+@}${DEBIAN_DIGEST}
# ffmpeg decodes and encodes audio; curl runs the container health check;
# ca-certificates lets the bot verify TLS. Unversioned on purpose (see top).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       ffmpeg ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/timmybot timmybot
COPY --from=deno /deno /usr/local/bin/deno
COPY --from=ytdlp /dl/yt-dlp /usr/local/bin/yt-dlp
COPY --from=build /out/timmybot /usr/local/bin/timmybot
USER 10001:10001
WORKDIR /home/timmybot
ENTRYPOINT ["/usr/local/bin/timmybot"]
CMD ["serve"]
