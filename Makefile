# keremony: see README.md. Every target works on a fresh clone with Go 1.26.
GO      ?= go
BIN     ?= keremony
FUZZTIME ?= 10s
BENCHCOUNT ?= 6

.PHONY: all build run test test-keyring bench fuzz check vet fmt-check imports test-slow clean

all: build

build:
	$(GO) build -o $(BIN) .

run: build
	./$(BIN) $(ARGS)

# The default suite: unit, vector, golden and end-to-end CLI tests (< 5 min on 2 cores).
test:
	$(GO) test -count=1 ./...

# The keystore against a real Secret Service: a private D-Bus session with an unlocked,
# throwaway gnome-keyring (installed with apt-get when missing; see scripts/ci-keyring.sh).
test-keyring:
	./scripts/ci-keyring.sh $(GO) test -tags keyring_it -count=1 ./keystore/ .

# Hot-path benchmarks; compare two runs with benchstat (go run golang.org/x/perf/cmd/benchstat).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./kel/ | tee bench.txt

# Every fuzz target for FUZZTIME each.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

check: vet fmt-check imports

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi; echo "gofmt: ok"

imports:
	./scripts/check-imports.sh

clean:
	rm -f $(BIN) bench.txt
