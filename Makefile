# airlock: `make test` is what CI runs; it installs what the tests need.
GO            ?= go
TOOLS         := $(CURDIR)/.tools/bin
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
STATICCHECK_VERSION := v0.8.2
CRANE_VERSION := v0.22.1
MC_VERSION    := v0.0.0-20250313080218-cf909e1063a9
COSIGN_VERSION := v2.6.5
CYCLONEDX_VERSION := v1.10.0
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

export AIRLOCK_MINIO := $(TOOLS)/minio
export AIRLOCK_COSIGN := $(TOOLS)/cosign
export AIRLOCK_CYCLONEDX := $(TOOLS)/cyclonedx-gomod

# make dist: the platforms built, and an airlock key to sign SHA256SUMS with (optional)
PLATFORMS     ?= linux/amd64 linux/arm64 darwin/arm64 windows/amd64
KEY           ?=

.PHONY: all build dist test test-distributed vet lint tools bench demo clean

all: build

build:
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION) -X main.commit=$(shell git rev-parse HEAD 2>/dev/null)" -o bin/airlock ./cmd/airlock

## dist: reproducible static binaries for PLATFORMS, their CycloneDX SBOMs and SHA256SUMS in dist/;
## with KEY=release.key also SHA256SUMS.sig (see scripts/dist.sh for the pinned build flags)
dist: $(TOOLS)/cyclonedx-gomod
	GO="$(GO)" OUT=dist PLATFORMS="$(PLATFORMS)" KEY="$(KEY)" CYCLONEDX=$(TOOLS)/cyclonedx-gomod bash scripts/dist.sh

## test: vet, unit tests and testscript end-to-end tests (real MinIO and cosign, in-process registry)
test: tools vet
	$(GO) test -count=1 -timeout 12m ./...

## test-distributed: the bucket, import, audit and inventory tests again, against MinIO in
## distributed erasure mode (4 processes on 127.0.0.1, one drive each; ~3 min on 2 cores,
## 2 of them a node-death test waiting on MinIO's lock expiry)
test-distributed: tools
	AIRLOCK_MINIO_NODES=4 $(GO) test -count=1 -timeout 8m ./bucket/... ./importer/... ./audit/... ./inventory/...

vet:
	$(GO) vet ./...

lint: vet $(TOOLS)/staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(TOOLS)/staticcheck ./...

## tools: test binaries, pinned and cached in the git-ignored .tools/ (cold MinIO and cosign builds take minutes)
tools: $(TOOLS)/minio $(TOOLS)/cosign $(TOOLS)/cyclonedx-gomod

$(TOOLS)/minio:
	@mkdir -p $(TOOLS)
	@echo "installing minio $(MINIO_VERSION) into .tools/bin (first time only, ~3 min)"
	GOBIN=$(TOOLS) $(GO) install github.com/minio/minio@$(MINIO_VERSION)

$(TOOLS)/cosign:
	@mkdir -p $(TOOLS)
	@echo "installing cosign $(COSIGN_VERSION) into .tools/bin (first time only, several minutes)"
	GOBIN=$(TOOLS) $(GO) install github.com/sigstore/cosign/v2/cmd/cosign@$(COSIGN_VERSION)

# -trimpath: the SBOMs record this tool's hash, which then depends on the Go version alone
$(TOOLS)/cyclonedx-gomod:
	@mkdir -p $(TOOLS)
	GOFLAGS=-trimpath GOBIN=$(TOOLS) $(GO) install github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$(CYCLONEDX_VERSION)

$(TOOLS)/crane:
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/google/go-containerregistry/cmd/crane@$(CRANE_VERSION)

$(TOOLS)/mc:
	@mkdir -p $(TOOLS)
	@echo "installing mc $(MC_VERSION) into .tools/bin (first time only)"
	GOBIN=$(TOOLS) $(GO) install github.com/minio/mc@$(MC_VERSION)

## demo: see it work end to end on this machine (local registry + MinIO, no internet)
demo: build $(TOOLS)/minio $(TOOLS)/crane
	TOOLS=$(TOOLS) AIRLOCK=$(CURDIR)/bin/airlock bash scripts/demo.sh

## bench: airlock side by side with the tools users would otherwise use; writes BENCHMARKS.md
bench: build $(TOOLS)/minio $(TOOLS)/crane $(TOOLS)/mc
	TOOLS=$(TOOLS) AIRLOCK=$(CURDIR)/bin/airlock bash bench/run.sh

$(TOOLS)/staticcheck:
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

clean:
	rm -rf bin dist
