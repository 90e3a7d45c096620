# Penstock developer targets. `make test` is the one command that runs the
# whole suite (CI runs it through .ci/run).

GO        ?= go
FUZZTIME  ?= 30s
BENCHTIME ?= 200ms
BENCH     ?= .
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

.PHONY: build test test-short fuzz bench lint check

## build: the penstock binary in bin/
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/penstock ./cmd/penstock

## test: the whole suite with the race detector (unit, server, real binary, Node client, dependency rules)
test:
	$(GO) test -race -count=1 -timeout 25m ./...

## test-short: quick run without the race detector; skips tests that build binaries or run npm/node
test-short:
	$(GO) test -short -count=1 ./...

## fuzz: every Fuzz target, FUZZTIME each (make fuzz FUZZTIME=2m)
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

## bench: benchmarks into bench/new.txt (compare runs with benchstat)
bench:
	@mkdir -p bench
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem ./... | tee bench/new.txt

## lint: go vet, gofmt and the dependency rules
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt -w needed for:"; echo "$$out"; exit 1; fi
	bash scripts/check-deps.sh

## check: lint then test
check: lint test
