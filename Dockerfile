# resource-tracker as a container entrypoint. Build: docker build -t resource-tracker .
# (Not built in this repository's CI machine: it has no Docker daemon and cannot download
# Deno's denort runtime; .github/workflows/release.yml builds it on a tag.)

# Builder: the pinned Deno compiles one self-contained binary for this platform.
FROM denoland/deno:debian-2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY main.ts ./
COPY core core
COPY collectors collectors
COPY clouds clouds
COPY formats formats
COPY sinks sinks
COPY scripts scripts
RUN deno task compile --host \
 && cp "dist/resource-tracker-$(uname -m)-unknown-linux-gnu" /resource-tracker \
 && /resource-tracker --version

# Final stage: glibc and nothing else (the binary dlopens libc.so.6; no shell, no package
# manager). Copy /usr/local/bin/resource-tracker into your own image to wrap your job there.
FROM gcr.io/distroless/cc-debian12
COPY --from=build /resource-tracker /usr/local/bin/resource-tracker
# No cloud metadata probing unless asked: containers often run where it only costs 2.5 s.
# Remove with -e TRACKER_NO_CLOUD=0.
ENV TRACKER_NO_CLOUD=1
# PID 1: the tracker reaps orphans and forwards SIGTERM/SIGINT/SIGHUP to the job; with no
# command after `--` it samples the system until stopped.
ENTRYPOINT ["resource-tracker", "--"]
