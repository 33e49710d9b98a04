#!/usr/bin/env bash
# Builds tapbot and benchmarks it end to end against a fake Microsoft cloud on
# loopback. Run from the repository root; extra arguments go to the load generator,
# e.g.  bash bench/run.sh -n 20000 -c 32
set -euo pipefail
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/tapbot" ./cmd/tapbot
go run ./bench/loadgen -bin "$tmp/tapbot" "$@"
