# keremony: see README.md. Every target works on a fresh clone with Go 1.26.
GO      ?= go
BIN     ?= keremony
FUZZTIME ?= 10s
BENCHCOUNT ?= 6

.PHONY: all build run test test-keyring bench fuzz check vet fmt-check imports test-slow clean demo interop e2e screenshots concurrent-members

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
	./scripts/ci-keyring.sh $(GO) test -tags keyring_it -count=1 ./keystore/ ./cli/

# QR scannability against the reference decoder: every rendered frame of the acceptance
# windows, the render variants and versions 2-40 are rasterized to PNG and decoded with
# zbarimg (Debian zbar-tools; .ci/run installs it). QR_ZBAR_DIR=dir keeps the PNGs.
.PHONY: test-qr-zbar
test-qr-zbar:
	$(GO) test -tags zbar -count=1 -run Zbar ./qr/

# Replay of a 1,000-event 3-of-5 KEL against the Ed25519 verification floor, on 1 and 2
# CPUs (separately and interleaved); benchstat summarizes and bench-ratio.sh checks the
# targets (<= 1.2x the floor on one core, below it on two). benchstat:
# `go install golang.org/x/perf/cmd/benchstat@latest`, else it is run with `go run`.
BENCHSTAT ?= $(shell command -v benchstat 2>/dev/null || { b="$$($(GO) env GOPATH)/bin/benchstat"; [ -x "$$b" ] && echo "$$b"; } || echo "$(GO) run golang.org/x/perf/cmd/benchstat@latest")
bench:
	$(GO) test -run '^$$' -bench 'Replay1000|VerifyFloor' -benchmem -cpu 1,2 -count $(BENCHCOUNT) ./kel/ | tee bench.txt
	$(BENCHSTAT) bench.txt
	BENCHSTAT="$(BENCHSTAT)" ./scripts/bench-ratio.sh bench.txt

# Opening a home and polling its drop folder against verify of the same KEL (device), the
# store's open and import, the heap a replay keeps per event (kel), then whole-process
# figures (scripts/bench-home.sh).
.PHONY: bench-home
bench-home:
	$(GO) test -run '^$$' -bench 'OpenHome|HomeSnapshot|Poll|VerifyKEL|DroppedCard' -benchmem -count $(BENCHCOUNT) ./device/ | tee bench-home.txt
	$(GO) test -run '^$$' -bench 'OpenStore10k$$|OpenStoreCeremonies1k|Import10k|Replay10k' -benchtime 3x -count 3 ./ceremony/ | tee -a bench-home.txt
	$(GO) test -run '^$$' -bench 'Retained10k' -benchtime 3x -count 3 ./kel/ | tee -a bench-home.txt
	$(BENCHSTAT) bench-home.txt
	./scripts/bench-home.sh

# The TUI's collect screen View for a 70-member group (integer 36 of 70, and weighted).
.PHONY: bench-tui
bench-tui:
	$(GO) test -run '^$$' -bench 'CollectView70' -benchmem -count $(BENCHCOUNT) ./tui/

# Three simulated devices (temporary homes, file keystore) run every ceremony through files:
# 2-of-2 inception, anchoring another identifier's inception, a refused rotation, growth to
# 2-of-3, anchoring with 2 of 3; ends with keremony verify. DEMO_DIR=dir keeps the files there
# (the group's KEL at dir/group.kel.cesr).
demo:
	./scripts/demo.sh

# The demo's group KEL checked by signify-ts (npm; needs node and npm), and a tampered copy
# refused. INTEROP_DIR=dir keeps the files.
interop:
	./scripts/interop.sh

# keripy 1.3.6 (the reference implementation, ../shared/keripy beside the repository) checks
# every kind of KEL keremony writes (demo, weighted, reserve, drop, recovery, delegated) and the
# recovery/delegation rule cases; keremony verify checks KELs keripy wrote. Skips, exit 0,
# without ../shared/keripy. INTEROP_KERIPY_DIR=dir keeps the files.
.PHONY: interop-keripy
interop-keripy:
	./scripts/interop-keripy.sh

# The real binary in a private tmux server: three devices (separate homes, one shared drop
# folder) run a 2-of-3 inception, a rotation that drops a member and the anchoring of a document
# the co-signers check, all through the TUI; assertions read the screens (needs tmux).
# E2E_DIR=dir keeps the homes, the drop folder with the group's KEL (icp, rot, ixn; also
# dir/acme.kel.cesr) and the last screens.
e2e:
	./scripts/e2e.sh

# N processes (default 16) run `keremony member new` on one home at once, ROUNDS times, with
# the real Argon2id cost; each must succeed with its keys or fail as busy (BIN=path measures
# another build; WARM=0 starts from a home without a keystore file).
concurrent-members:
	./scripts/concurrent-members.sh

# Two real keripy 1.3.6 witnesses from ../shared/keripy-witness on free loopback ports: a 2-of-3
# group witnessed with toad 2 (one witness down, then back), an anchoring and rotations that cut
# and re-add a witness, all published; keripy's verify.py accepts the exported KEL; a late
# joiner fetches it from each witness; the same inception through the TUI (tmux). Skipped (exit
# 0) without ../shared. WITNESS_DIR=dir keeps the homes and the witnesses' HTTP traces.
.PHONY: test-witness
test-witness:
	./scripts/test-witness.sh

# A recovery drill through the TUI: three homes, tmux at 80x24 under NO_COLOR; the rotation
# wizard's R supersedes the group's two interactions (needs tmux). E2E_DIR=dir keeps the files.
.PHONY: e2e-recovery
e2e-recovery:
	./scripts/e2e-recovery.sh

# docs/collect.png, docs/share-qr.png and docs/review.png from the e2e run (tmux, aha, headless
# chromium).
screenshots:
	./scripts/screenshots.sh

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
	rm -f $(BIN) bench.txt bench-home.txt
