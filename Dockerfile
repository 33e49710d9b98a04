# syntax=docker/dockerfile:1
# Static, cgo-free build (the SQLite driver is pure Go) on the Go toolchain image, then
# a distroless runtime with no shell, running as the nonroot user (uid 65532).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Same command as `make build`.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/tapbot ./cmd/tapbot \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tapbot /tapbot
# The SQLite database lives on a volume owned by the runtime user.
COPY --from=build --chown=65532:65532 /out/data /data
ENV TAPBOT_DB_PATH=/data/tapbot.db \
    TAPBOT_LISTEN_ADDR=:3978
VOLUME ["/data"]
EXPOSE 3978
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["/tapbot", "healthcheck"]
ENTRYPOINT ["/tapbot"]
CMD ["serve"]
