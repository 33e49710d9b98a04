# One way to do each thing; README and .ci/run use these targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin/tapbot

.PHONY: build run test unit e2e bench bench-smoke fuzz lint manifest card-images clean

## build: static binary (no cgo), the same command the Dockerfile runs
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tapbot

## run: tapbot dev on 127.0.0.1:3978 with the simulated tenant (for the Agents Playground)
run: build
	./$(BIN) dev

## test: everything CI runs — vet, unit and integration tests with -race, the real
## binary under load (auth on), and the end-to-end tests in the Agents Playground
test: lint unit bench-smoke e2e

unit:
	$(GO) test -race -count=1 ./...

## e2e: tapbot dev driven through Microsoft's Agents Playground (npm, pinned), and the
## Teams app package and every card validated by Microsoft's own npm libraries
e2e: build
	cd e2e && npm ci --no-audit --no-fund --loglevel=error
	cd e2e && TAPBOT_BIN=$(CURDIR)/$(BIN) npm run --silent validate
	cd e2e && TAPBOT_BIN=$(CURDIR)/$(BIN) node --test --test-concurrency=1 run.mjs

## card-images: re-render docs/cards/*.png with the official renderer in headless
## Chromium (needs Debian's chromium: apt-get install chromium; not run in CI)
card-images:
	cd e2e && npm ci --no-audit --no-fund --loglevel=error && npm run --silent screenshots

## manifest: the Teams app package for TAPBOT_APP_ID (see README "Install in Teams")
manifest: build
	./$(BIN) manifest -o bin/tapbot-teams-app.zip

## bench: the load generator against the real binary on SQLite, on PostgreSQL with 1 and 3
## replicas (see bench/README.md), and /tap end to end on each store
bench:
	bash bench/run.sh
	bash bench/run.sh -postgres
	bash bench/run.sh -postgres -replicas 3
	$(GO) test -run x -bench BenchmarkTAP -benchtime 2000x -cpu 1 ./internal/itest/

bench-smoke:
	bash bench/run.sh -n 3000 -warmup 300

## fuzz: each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run x -fuzz FuzzParse -fuzztime $(FUZZTIME) ./bot/command/
	$(GO) test -run x -fuzz FuzzDecodeActivity -fuzztime $(FUZZTIME) ./bot/
	$(GO) test -run x -fuzz FuzzEscape -fuzztime $(FUZZTIME) ./cards/
	$(GO) test -run x -fuzz FuzzParseRequest -fuzztime $(FUZZTIME) ./bot/tap/
	$(GO) test -run x -fuzz FuzzParseQuery -fuzztime $(FUZZTIME) ./bot/audit/
	$(GO) test -run x -fuzz FuzzParseFilter -fuzztime $(FUZZTIME) ./graph/simtenant/
	$(GO) test -run x -fuzz '^FuzzServe$$' -fuzztime $(FUZZTIME) ./graph/simtenant/
	$(GO) test -run x -fuzz '^FuzzProvisioning$$' -fuzztime $(FUZZTIME) ./graph/simtenant/
	$(GO) test -run x -fuzz '^FuzzCheckRef$$' -fuzztime $(FUZZTIME) ./graph/msgraph/
	$(GO) test -run x -fuzz '^FuzzParseSubmission$$' -fuzztime $(FUZZTIME) ./bot/onboard/
	$(GO) test -run x -fuzz '^FuzzClip$$' -fuzztime $(FUZZTIME) ./internal/store/

## lint: gofmt, go.mod tidy, go vet, staticcheck (pinned)
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin
