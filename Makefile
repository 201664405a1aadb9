# ycloud Makefile. The two commands a newcomer needs are `make demo` and `make test`; both
# install what is missing first (hack/install-deps.sh is idempotent and fast when cached).
SHELL := /usr/bin/env bash -o pipefail
.DEFAULT_GOAL := help

TOP     := $(abspath .)
BIN     := $(TOP)/bin
export YCLOUD_BIN := $(BIN)
export PATH := $(BIN):$(PATH)
GO      ?= go
# Tests that start servers share 2 cores; running many packages at once only makes them slower.
GOTEST_P ?= 2

CONTROLLER_GEN := $(BIN)/controller-gen
STATICCHECK    := $(BIN)/staticcheck
KUSTOMIZE      := $(BIN)/kustomize

.PHONY: help
help: ## list targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install Debian packages and build pinned binaries into bin/ (cached by version)
	@hack/install-deps.sh

.PHONY: generate
generate: ## generate deepcopy code and OVSDB models
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...
	$(GO) generate ./internal/ovsdb/...

.PHONY: manifests
manifests: ## generate CRDs into deploy/crds and RBAC into deploy/{hub,spoke}
	hack/manifests.sh

.PHONY: verify
verify: ## fail when generated files are stale
	hack/verify.sh

.PHONY: lint
lint: ## gofmt, go vet, staticcheck
	@out=$$(git ls-files -co --exclude-standard '*.go' | while read -r f; do [ -f "$$f" ] && echo "$$f"; done | xargs -r gofmt -l); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

.PHONY: build
build: ## build every binary into bin/
	@if [ -n "$$(ls cmd 2>/dev/null)" ]; then $(GO) build -o $(BIN)/ ./cmd/... ./test/ocm/ocm-standin; fi

.PHONY: unit
unit: ## pure unit tests only: builders, parsers, IPAM (seconds, no servers)
	$(GO) test -count=1 ./spoke/ipam/... ./spoke/ovnnb/... ./internal/ovsdb/schema/... ./internal/ovsdb/modelgen/... ./api/iaas/... ./cni/qos/...

.PHONY: test
test: deps verify lint build ## install deps, verify generated files, lint, run every test
	$(GO) test -count=1 -p $(GOTEST_P) -timeout 50m ./...

.PHONY: demo
demo: deps build ## install deps, start the lab, apply the samples, print a summary
	hack/demo.sh

.PHONY: bench-ovsdb
bench-ovsdb: ## OVSDB client vs ovn-nbctl: 10k LSP create/delete on a fresh NB, cache bytes per row
	$(GO) run ./test/bench/ovsdb

.PHONY: bench-controller
bench-controller: deps ## 5,000 pods over 50 subnets: controller vs ovn-nbctl batches (RESULT lines)
	$(GO) run ./test/bench/controller

.PHONY: bench-cni
bench-cni: deps ## CNI ADD latency p50/p99, 100 sequential and 20 concurrent on one node, vs bridge+host-local (RESULT lines)
	$(GO) run ./test/bench/cni

.PHONY: bench-hub
bench-hub: deps ## ycloud-hub: 200 FederatedVpcs x 3 spokes (real OVN + ycloud-controller each): time to Ready, writes per work, peak RSS
	$(GO) run ./test/bench/hub

.PHONY: bench-ic
bench-ic: deps ## two OVN-IC availability zones: federation applied -> first packet, gateway failover (RESULT lines)
	$(GO) run ./test/bench/ic
